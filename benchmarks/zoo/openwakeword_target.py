"""openWakeWord 0.4.0 wake-word heads as freqrex-bench targets, reimplemented with numpy + onnxruntime.

A clip's score is what a fresh `openwakeword.Model(...).predict_clip(clip, padding=1)` reports, maxed
over time: the clip is converted to 16-bit PCM, padded with one second of digital silence on each side,
and streamed in 80 ms chunks (1280 samples) through openWakeWord's three stages exactly as
`openwakeword/utils.py` (AudioFeatures) and `openwakeword/model.py` (Model.predict) do it:

1. melspectrogram.onnx on each chunk plus the 480 samples before it (the first chunk alone), the result
   transformed by x / 10 + 2 and appended to a mel buffer that starts as 76 rows of ones;
2. embedding_model.onnx on the buffer's last 76 mel rows after every chunk (a 96-d embedding appended to
   a feature buffer that starts with the embeddings of 10 s of silence);
3. the head on the feature buffer's last N rows (N = 16 for alexa / hey_jarvis / hey_mycroft, 22 for
   weather, 34 for timer); the first 5 chunk scores of a stream are forced to 0, as Model.predict does.

p is the maximum chunk score (for the multi-class `timer` head, the maximum over its six timer classes,
the ones Model.predict reports); the target's scores are [1 - p, p] for labels [not-<head>, <head>].

Here the three stages run batched over every clip and chunk of a query (one melspectrogram call, one
embedding call per query); the heads take batch 1 only (except hey_mycroft), so their windows are run
one by one, skipping windows that are bit-identical to one already scored (the silent padding at the
start is the same in every clip). `check_against_openwakeword()` compares this with the real Model.

The ONNX models (CC BY-NC-SA 4.0) are loaded from the installed `openwakeword` package at run time and
never copied. Install it with: pip install --no-deps openwakeword==0.4.0 onnxruntime
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

INSTALL_HINT = "pip install --no-deps openwakeword==0.4.0 onnxruntime"
SAMPLE_RATE = 16000
CHUNK = 1280  # samples per Model.predict call in predict_clip (80 ms)
MEL_CONTEXT = 480  # extra samples before each chunk given to the melspectrogram (160 * 3)
MEL_WINDOW = 76  # mel frames per embedding window
SKIP_FIRST = 5  # Model.predict returns 0 for the first 5 chunks of a stream

HEADS: dict[str, str] = {
    "alexa": "alexa_v0.1.onnx",
    "hey_jarvis": "hey_jarvis_v0.1.onnx",
    "hey_mycroft": "hey_mycroft_v0.1.onnx",
    "hey_marvin": "hey_marvin_v0.1.onnx",  # shipped in the wheel but not in openwakeword.models
    "weather": "weather_v0.1.onnx",
    "timer": "timer_v0.1.onnx",
}


class OpenWakeWordMissing(ImportError):
    """openwakeword (or onnxruntime) is not installed."""


def models_dir() -> Path:
    """The installed openwakeword package's model folder, found without importing openwakeword.

    (Importing it needs scikit-learn, which the --no-deps install does not bring; the models do not.)
    """
    spec = importlib.util.find_spec("openwakeword")
    if spec is None or not spec.submodule_search_locations:
        raise OpenWakeWordMissing(f"openwakeword is not installed; install it with: {INSTALL_HINT}")
    folder = Path(next(iter(spec.submodule_search_locations))) / "resources" / "models"
    if not (folder / "melspectrogram.onnx").is_file():
        raise OpenWakeWordMissing(
            f"openwakeword is installed but has no models in {folder}; this needs openwakeword 0.4.0 "
            f"(which ships them): {INSTALL_HINT}"
        )
    return folder


def _session(path: Path, threads: int):
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise OpenWakeWordMissing(f"onnxruntime is not installed; install it with: {INSTALL_HINT}") from exc
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


def to_pcm16(batch: np.ndarray) -> np.ndarray:
    """float clips in [-1, 1] -> the int16 sample values (as float32) openWakeWord is fed.

    The inverse of soundfile's int16 -> float (divide by 32768), so a 16-bit wav read as float
    round-trips exactly; louder samples clip as a 16-bit file would.
    """
    return np.clip(np.round(np.asarray(batch, dtype=np.float64) * 32768.0), -32768, 32767).astype(np.float32)


class OpenWakeWordPipeline:
    """Batched reimplementation of openWakeWord's streaming scoring for one head.

    `padding`: whole seconds of digital silence added on each side (predict_clip's default is 1).
    `quantize`: round to 16-bit PCM first, as openWakeWord requires int16 input (True matches it exactly).
    `embed_batch`: windows per embedding-model call (on 2 CPU cores larger batches were no faster).
    """

    def __init__(
        self, head: str, padding: int = 1, quantize: bool = True, threads: int = 1, embed_batch: int = 16
    ) -> None:
        if head not in HEADS:
            raise ValueError(f"unknown openWakeWord head {head!r}; choose one of {sorted(HEADS)}")
        folder = models_dir()
        self.head = head
        self.padding = int(padding)
        self.quantize = quantize
        self.embed_batch = int(embed_batch)
        self.mel = _session(folder / "melspectrogram.onnx", threads)
        self.embedding = _session(folder / "embedding_model.onnx", threads)
        self.model = _session(folder / HEADS[head], threads)
        spec = self.model.get_inputs()[0]
        self.input_name = spec.name
        self.n_features = int(spec.shape[1])
        self.batch_one = not isinstance(spec.shape[0], str)  # a fixed batch dimension (1); hey_mycroft's is free
        self.n_outputs = int(self.model.get_outputs()[0].shape[1])
        # AudioFeatures.__init__: feature buffer = embeddings of 10 s of int16 zeros (one mel call).
        silence = self._mel(np.zeros((1, 10 * SAMPLE_RATE), np.float32))[0]
        starts = range(0, silence.shape[0] - MEL_WINDOW + 1, 8)
        self.initial_features = self._embed(np.stack([silence[s : s + MEL_WINDOW] for s in starts]))
        # The chunks whose mel input lies wholly inside the leading silence are the same for every clip.
        self.lead = (self.padding * SAMPLE_RATE) // CHUNK
        if self.lead:
            self.lead_mel, self.lead_emb = self._stream(np.zeros((1, self.lead * CHUNK), np.float32), 0, self.lead)
        else:
            self.lead_mel, self.lead_emb = np.zeros((1, 0, 32), np.float32), np.zeros((1, 0, 96), np.float32)

    def _mel(self, audio: np.ndarray) -> np.ndarray:
        """[N, samples] int16-valued float32 -> [N, frames, 32], transformed by x / 10 + 2.

        The model clips its log-mel output at (maximum - 80 dB) with the maximum taken over the whole
        input tensor, batch included, so each streamed window must go in alone to match openWakeWord.
        """
        return np.stack([self.mel.run(None, {"input": row[None]})[0][0, 0] / 10 + 2 for row in audio])

    def _embed(self, windows: np.ndarray) -> np.ndarray:
        """[N, 76, 32] -> [N, 96], in batches of `embed_batch`."""
        outs = [
            self.embedding.run(None, {"input_1": windows[i : i + self.embed_batch, :, :, None].astype(np.float32)})[0]
            for i in range(0, len(windows), self.embed_batch)
        ]
        return np.concatenate(outs).reshape(len(windows), -1)

    def _stream(self, data: np.ndarray, first: int, stop: int, lead_mel: np.ndarray | None = None):
        """Mel rows and embeddings of chunks first..stop-1 of [B, N] int16-valued audio.

        Returns (mel [B, 76 + rows, 32] including the initial ones and `lead_mel`, embeddings [B, n, 96]).
        Identical windows (e.g. silence) are computed once.
        """
        b = len(data)
        windows = []
        if first == 0 and stop > 0:
            windows.append(data[:, None, :CHUNK])  # the first chunk has no context: 5 frames
        later = np.arange(max(first, 1), stop)
        if len(later):
            idx = (CHUNK * (later + 1) - (CHUNK + MEL_CONTEXT))[:, None] + np.arange(CHUNK + MEL_CONTEXT)
            windows.append(data[:, idx])  # [B, n, 1760]: 8 frames each
        rows = [np.ones((b, MEL_WINDOW, 32), np.float32)]
        if lead_mel is not None:
            rows.append(np.broadcast_to(lead_mel, (b, *lead_mel.shape[1:])))
        for group in windows:
            mel = _unique_apply(self._mel, group.reshape(-1, group.shape[-1]))
            rows.append(mel.reshape(b, -1, 32))
        mel = np.concatenate(rows, axis=1)
        # after chunk j the mel buffer holds 76 + 5 + 8 j rows: embed its last 76
        starts = 5 + 8 * np.arange(first, stop)
        emb_windows = mel[:, starts[:, None] + np.arange(MEL_WINDOW)].reshape(-1, MEL_WINDOW, 32)
        emb = _unique_apply(self._embed, emb_windows).reshape(b, len(starts), -1)
        return mel[:, MEL_WINDOW:], emb

    def chunk_scores(self, batch: np.ndarray) -> np.ndarray:
        """[B, T] float clips at 16 kHz -> [B, K] per-chunk scores, as predict_clip's list of predictions."""
        batch = np.asarray(batch, dtype=np.float32)
        if batch.ndim != 2 or batch.shape[1] == 0:
            raise ValueError(f"expected a [batch, samples] array, got shape {batch.shape}")
        audio = to_pcm16(batch) if self.quantize else batch * np.float32(32768)
        pad = np.zeros((len(audio), self.padding * SAMPLE_RATE), np.float32)
        data = np.concatenate([pad, audio, pad], axis=1)
        b, n = data.shape
        k = len(range(0, n - CHUNK, CHUNK))  # predict_clip's chunks (it drops the last one)
        if k <= self.lead:
            raise ValueError(f"a clip of {batch.shape[1]} samples is too short for openWakeWord")
        _, emb = self._stream(data, self.lead, k, self.lead_mel)
        lead_emb = np.broadcast_to(self.lead_emb, (b, *self.lead_emb.shape[1:]))
        init = np.broadcast_to(self.initial_features, (b, *self.initial_features.shape))
        features = np.concatenate([init, lead_emb, emb], axis=1)  # the feature buffer after the last chunk
        # the head on the last n feature rows after each chunk; the first 5 chunks score 0
        scores = np.zeros((b, k), np.float32)
        if k > SKIP_FIRST:
            first = len(self.initial_features) + 1 - self.n_features
            head_idx = first + np.arange(SKIP_FIRST, k)[:, None] + np.arange(self.n_features)
            head_in = features[:, head_idx].reshape(-1, self.n_features, features.shape[-1]).astype(np.float32)
            scores[:, SKIP_FIRST:] = self._run_head(head_in).reshape(b, k - SKIP_FIRST)
        return scores

    def _run_head(self, windows: np.ndarray) -> np.ndarray:
        """[N, n, 96] -> [N] head score (max over the timer's classes 1-6)."""

        def run(unique: np.ndarray) -> np.ndarray:
            if not self.batch_one:
                return self.model.run(None, {self.input_name: unique})[0]
            return np.concatenate([self.model.run(None, {self.input_name: w[None]})[0] for w in unique])

        out = _unique_apply(run, windows)
        return out[:, 0] if self.n_outputs == 1 else out[:, 1:].max(axis=1)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """[B, T] float clips at 16 kHz -> [B, 2] probabilities [1 - p, p], p = max chunk score."""
        p = self.chunk_scores(batch).max(axis=1).clip(0, 1)
        return np.stack([1 - p, p], axis=1).astype(np.float32)


def _unique_apply(fn, items: np.ndarray) -> np.ndarray:
    """fn over the distinct rows of `items` only (compared bit for bit), scattered back to every row."""
    keys: dict[bytes, int] = {}
    inverse = np.empty(len(items), np.int64)
    for i, item in enumerate(items):
        inverse[i] = keys.setdefault(np.ascontiguousarray(item).tobytes(), len(keys))
    firsts = np.unique(inverse, return_index=True)[1]
    return np.asarray(fn(items[firsts]))[inverse]


def openwakeword_target(head: str, padding: int = 1, quantize: bool = True, threads: int = 1):
    """A freqrex_bench CallableTarget for one openWakeWord head: labels [not-<head>, <head>], 16 kHz."""
    from freqrex_bench.targets import CallableTarget

    pipeline = OpenWakeWordPipeline(head, padding=padding, quantize=quantize, threads=threads)
    return CallableTarget(
        pipeline, [f"not-{head}", head], SAMPLE_RATE, output="probabilities", name=f"openwakeword-{head}"
    )


_PIPELINES: dict[str, OpenWakeWordPipeline] = {}


def _scores(head: str, batch: np.ndarray) -> np.ndarray:
    if head not in _PIPELINES:
        _PIPELINES[head] = OpenWakeWordPipeline(head)
    return _PIPELINES[head](batch)


# Module-level functions for a suite's `kind: callable` target, e.g.
#   function: benchmarks.zoo.openwakeword_target:hey_jarvis   (run with PYTHONPATH=<repository root>)
def alexa(batch: np.ndarray) -> np.ndarray:
    return _scores("alexa", batch)


def hey_jarvis(batch: np.ndarray) -> np.ndarray:
    return _scores("hey_jarvis", batch)


def hey_mycroft(batch: np.ndarray) -> np.ndarray:
    return _scores("hey_mycroft", batch)


def weather(batch: np.ndarray) -> np.ndarray:
    return _scores("weather", batch)


def timer(batch: np.ndarray) -> np.ndarray:
    return _scores("timer", batch)


def reference_model():
    """The real openwakeword.Model with every bundled head, for comparison.

    Importing openwakeword pulls scikit-learn (for its custom verifier training only); if it is missing,
    inert stand-in modules are put in its place so `Model` can be imported. No verifier is used here.
    """
    import sys
    import types

    try:
        import sklearn  # noqa: F401
    except ImportError:
        for name in ("sklearn", "sklearn.linear_model", "sklearn.pipeline", "sklearn.preprocessing"):
            module = sys.modules.setdefault(name, types.ModuleType(name))
            for attr in ("LogisticRegression", "make_pipeline", "FunctionTransformer", "StandardScaler"):
                setattr(module, attr, None)
    import openwakeword

    return openwakeword.Model()  # the five heads in openwakeword.models, under their short names


def check_against_openwakeword(clips: np.ndarray, heads=("alexa", "hey_jarvis", "hey_mycroft", "weather", "timer")):
    """Max |difference| of per-chunk scores between this pipeline and openwakeword.Model.predict_clip.

    `clips`: [B, T] float at 16 kHz. Returns {head: max abs difference over clips and chunks}.
    """
    model = reference_model()
    worst = {h: 0.0 for h in heads}
    ours = {h: OpenWakeWordPipeline(h).chunk_scores(clips) for h in heads}
    for i, clip in enumerate(clips):
        model.reset()
        model.preprocessor.__init__()  # fresh buffers, as a new Model
        frames = model.predict_clip(to_pcm16(clip[None])[0].astype(np.int16), padding=1)
        for h in heads:
            if h == "timer":
                ref = np.array([max(f[c] for c in f if c.endswith("timer")) for f in frames])
            else:
                ref = np.array([f[h] for f in frames])
            worst[h] = max(worst[h], float(np.abs(ref - ours[h][i]).max()))
    return worst

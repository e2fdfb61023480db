"""Train the tiny spoken-digit demo model shipped in ``examples/models/fsdd-ast``.

The model is a very small Audio Spectrogram Transformer
(``transformers.ASTForAudioClassification``) built from a config (no
pretrained weights, nothing is downloaded) and trained on the Free Spoken
Digit Dataset (FSDD, Jakobovski et al., CC BY-SA 4.0,
https://github.com/Jakobovski/free-spoken-digit-dataset).

FSDD has 3000 mono 8 kHz recordings named ``{digit}_{speaker}_{take}.wav``
by 6 speakers. One speaker (``--holdout``, default ``theo``) is held out
entirely: none of their recordings are used for training, so the reported
test accuracy measures generalisation to an unseen voice.

The model works at the data's native 8000 Hz. Features come from
``ASTFeatureExtractor(sampling_rate=8000, num_mel_bins=64, max_length=64)``
(transformers' numpy log-mel filterbank: 400-sample window, 160-sample hop,
i.e. 50 ms / 20 ms at 8 kHz, so 64 frames cover ~1.3 s; longer clips are
truncated and shorter ones are padded by the extractor itself). The
normalisation mean/std are estimated on the training speakers and saved in
``preprocessor_config.json``, so a raw, unpadded float32 clip at 8 kHz given to
``transformers.pipeline("audio-classification", model=OUT)`` goes through
exactly the same preprocessing as in training.

Training recipe (deterministic for a given ``--seed`` on CPU):

* features are precomputed once: one clean view of every clip plus
  ``--aug-copies`` augmented views of each training clip (augmentation is
  applied to the waveform *before* feature extraction: speed/pitch
  perturbation by resampling, random leading silence, random gain, small
  additive noise);
* during training, SpecAugment-style time/frequency masks are applied to the
  precomputed features on the fly;
* AdamW with linear warm-up and cosine decay, label smoothing.

At the end the model and feature extractor are saved with
``save_pretrained`` (safetensors), the saved folder is re-loaded through the
``audio-classification`` pipeline to check held-out accuracy end to end, and
``metrics.json`` is written next to the weights.

Usage (from the repository root)::

    python examples/train_demo_model.py                      # defaults
    python examples/train_demo_model.py --holdout lucas --out /tmp/fsdd-lucas

Requires torch, transformers, numpy, soundfile and soxr (no torchaudio).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
import torch
import torch.nn.functional as F

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything is local; never reach the Hub

from transformers import ASTConfig, ASTFeatureExtractor, ASTForAudioClassification

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "fsdd" / "recordings"
DEFAULT_OUT = REPO_ROOT / "examples" / "models" / "fsdd-ast"

SAMPLING_RATE = 8000
NUM_MEL_BINS = 64
MAX_LENGTH = 64  # frames; hop 160 samples = 20 ms -> 400 + 63 * 160 samples = 1.31 s
LABELS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
SPEAKERS = ["george", "jackson", "lucas", "nicolas", "theo", "yweweler"]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="FSDD recordings directory (default: %(default)s)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output model directory (default: %(default)s)")
    p.add_argument("--holdout", default="theo", help="speaker held out for testing (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=40, help="training epochs (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--aug-copies", type=int, default=8, help="augmented feature views per training clip")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    # model size
    p.add_argument("--hidden-size", type=int, default=96)
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--intermediate-size", type=int, default=192)
    p.add_argument("--dropout", type=float, default=0.0, help="hidden and attention dropout")
    p.add_argument("--stride", type=int, default=10, help="patch stride in both frequency and time")
    return p.parse_args()


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)


# --------------------------------------------------------------------------- data


def load_fsdd(data_dir: Path) -> list[dict]:
    """Read every ``{digit}_{speaker}_{take}.wav`` as float32 in [-1, 1]."""
    items = []
    for path in sorted(data_dir.glob("*.wav")):
        digit, speaker, take = path.stem.split("_")
        wave, sr = sf.read(path, dtype="float32")
        if sr != SAMPLING_RATE or wave.ndim != 1:
            raise ValueError(f"{path}: expected mono {SAMPLING_RATE} Hz, got sr={sr} shape={wave.shape}")
        items.append({"name": path.name, "label": int(digit), "speaker": speaker, "take": int(take), "wave": wave})
    if not items:
        raise FileNotFoundError(f"no .wav files in {data_dir}")
    return items


def augment(wave: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random waveform augmentation: speed/pitch, leading silence, gain, noise."""
    # speed perturbation (changes tempo and pitch together, a cheap proxy for a new voice)
    factor = rng.uniform(0.85, 1.15)
    wave = soxr.resample(wave, SAMPLING_RATE, SAMPLING_RATE / factor).astype(np.float32)
    # time shift: random leading silence (0-250 ms) or trim up to 30 ms of the start
    shift = int(rng.integers(-240, 2000))
    if shift > 0:
        wave = np.concatenate([np.zeros(shift, dtype=np.float32), wave])
    elif shift < 0 and len(wave) > 2000:
        wave = wave[-shift:]
    # gain: +-8 dB
    wave = wave * np.float32(10 ** (rng.uniform(-8, 8) / 20))
    # small white noise, 20-45 dB below the clip's RMS
    rms = float(np.sqrt(np.mean(wave**2)) + 1e-8)
    noise_rms = rms * 10 ** (-rng.uniform(20, 45) / 20)
    wave = wave + rng.normal(0.0, noise_rms, size=wave.shape).astype(np.float32)
    return np.clip(wave, -1.0, 1.0).astype(np.float32)


def extract(fe: ASTFeatureExtractor, waves: list[np.ndarray]) -> torch.Tensor:
    """Run the feature extractor exactly as the pipeline does (one raw clip at a time)."""
    feats = [fe(w, sampling_rate=SAMPLING_RATE, return_tensors="np")["input_values"][0] for w in waves]
    return torch.from_numpy(np.stack(feats)).float()


def spec_augment(
    x: torch.Tensor, gen: torch.Generator, n_masks: int = 2, max_f: int = 8, max_t: int = 8
) -> torch.Tensor:
    """SpecAugment-style masks on a (batch, time, freq) tensor; masked values set to 0 (= dataset mean)."""
    x = x.clone()
    b, t, f = x.shape
    for _ in range(n_masks):
        fw = torch.randint(0, max_f + 1, (b,), generator=gen)
        f0 = (torch.rand(b, generator=gen) * (f - fw)).long()
        tw = torch.randint(0, max_t + 1, (b,), generator=gen)
        t0 = (torch.rand(b, generator=gen) * (t - tw)).long()
        fr = torch.arange(f)
        tr = torch.arange(t)
        fmask = (fr[None, :] >= f0[:, None]) & (fr[None, :] < (f0 + fw)[:, None])
        tmask = (tr[None, :] >= t0[:, None]) & (tr[None, :] < (t0 + tw)[:, None])
        x = x.masked_fill(fmask[:, None, :] | tmask[:, :, None], 0.0)
    return x


# --------------------------------------------------------------------------- model


def build_model(args: argparse.Namespace) -> ASTForAudioClassification:
    config = ASTConfig(
        hidden_size=args.hidden_size,
        num_hidden_layers=args.layers,
        num_attention_heads=args.heads,
        intermediate_size=args.intermediate_size,
        hidden_dropout_prob=args.dropout,
        attention_probs_dropout_prob=args.dropout,
        patch_size=16,
        frequency_stride=args.stride,
        time_stride=args.stride,
        max_length=MAX_LENGTH,
        num_mel_bins=NUM_MEL_BINS,
        num_labels=len(LABELS),
        id2label={i: name for i, name in enumerate(LABELS)},
        label2id={name: i for i, name in enumerate(LABELS)},
    )
    return ASTForAudioClassification(config)


@torch.no_grad()
def predict(model: ASTForAudioClassification, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    model.eval()
    out = [model(input_values=x[i : i + batch_size]).logits.argmax(-1) for i in range(0, len(x), batch_size)]
    return torch.cat(out)


def per_digit_accuracy(pred: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    return {LABELS[d]: round(float((pred[y == d] == d).float().mean()), 4) for d in range(len(LABELS))}


# --------------------------------------------------------------------------- main


def main() -> None:
    args = parse_args()
    if args.holdout not in SPEAKERS:
        raise SystemExit(f"--holdout must be one of {SPEAKERS}")
    torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    t_start = time.time()

    items = load_fsdd(args.data)
    train = [it for it in items if it["speaker"] != args.holdout]
    test = [it for it in items if it["speaker"] == args.holdout]
    print(
        f"{len(items)} clips; train {len(train)} (speakers {sorted({it['speaker'] for it in train})}), "
        f"test {len(test)} (held-out speaker {args.holdout!r})"
    )

    # Normalisation statistics of the (padded, log-mel) features on the training speakers only.
    fe = ASTFeatureExtractor(
        sampling_rate=SAMPLING_RATE, num_mel_bins=NUM_MEL_BINS, max_length=MAX_LENGTH, do_normalize=False
    )
    raw = extract(fe, [it["wave"] for it in train])
    fe.mean, fe.std = round(float(raw.mean()), 6), round(float(raw.std()), 6)
    fe.do_normalize = True
    print(f"feature mean {fe.mean} std {fe.std}")

    # Precompute features: clean views + augmented views of the training clips.
    rng = np.random.default_rng(args.seed)
    x_train_clean = extract(fe, [it["wave"] for it in train])
    y_train_clean = torch.tensor([it["label"] for it in train])
    aug_waves = [augment(it["wave"], rng) for _ in range(args.aug_copies) for it in train]
    x_pool = torch.cat([x_train_clean, extract(fe, aug_waves)])
    y_pool = y_train_clean.repeat(args.aug_copies + 1)
    x_test = extract(fe, [it["wave"] for it in test])
    y_test = torch.tensor([it["label"] for it in test])
    t_feat = time.time() - t_start
    print(f"features: pool {tuple(x_pool.shape)}, test {tuple(x_test.shape)} ({t_feat:.1f}s)")

    model = build_model(args)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {n_params:,} parameters")

    # One epoch = one pass over a random selection of len(train) * 2 pool items.
    steps_per_epoch = math.ceil(2 * len(train) / args.batch_size)
    total_steps = args.epochs * steps_per_epoch
    warmup = steps_per_epoch * 2
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / total_steps)))
    )
    gen = torch.Generator().manual_seed(args.seed)

    t_train = time.time()
    for epoch in range(1, args.epochs + 1):
        model.train()
        idx = torch.randperm(len(x_pool), generator=gen)[: steps_per_epoch * args.batch_size]
        tot_loss, tot_ok, n = 0.0, 0, 0
        for b in range(steps_per_epoch):
            bi = idx[b * args.batch_size : (b + 1) * args.batch_size]
            xb, yb = spec_augment(x_pool[bi], gen), y_pool[bi]
            logits = model(input_values=xb).logits
            loss = F.cross_entropy(logits, yb, label_smoothing=0.1)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            tot_loss += loss.item() * len(bi)
            tot_ok += int((logits.argmax(-1) == yb).sum())
            n += len(bi)
        if epoch % 5 == 0 or epoch == args.epochs:
            test_acc = float((predict(model, x_test) == y_test).float().mean())
            print(
                f"epoch {epoch:3d}  loss {tot_loss / n:.4f}  aug-train acc {tot_ok / n:.4f}  "
                f"held-out acc {test_acc:.4f}  ({time.time() - t_train:.0f}s)"
            )
    train_seconds = time.time() - t_train

    pred_test = predict(model, x_test)
    pred_train = predict(model, x_train_clean)
    test_acc = float((pred_test == y_test).float().mean())
    train_acc = float((pred_train == y_train_clean).float().mean())
    confusion = torch.zeros(10, 10, dtype=torch.long)
    for t, p in zip(y_test.tolist(), pred_test.tolist()):
        confusion[t, p] += 1

    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(args.out, safe_serialization=True)
    fe.save_pretrained(args.out)

    # End-to-end check: reload the saved folder through the pipeline, feed raw clips.
    from transformers import pipeline

    clf = pipeline("audio-classification", model=str(args.out), device="cpu")
    pipe_pred = [clf(it["wave"], top_k=1)[0]["label"] for it in test]
    pipe_acc = float(np.mean([p == LABELS[it["label"]] for p, it in zip(pipe_pred, test)]))

    metrics = {
        "dataset": "Free Spoken Digit Dataset (Jakobovski et al., CC BY-SA 4.0)",
        "holdout_speaker": args.holdout,
        "train_speakers": sorted({it["speaker"] for it in train}),
        "n_train_clips": len(train),
        "n_test_clips": len(test),
        "heldout_accuracy": round(test_acc, 4),
        "heldout_accuracy_via_pipeline": round(pipe_acc, 4),
        "heldout_per_digit_accuracy": per_digit_accuracy(pred_test, y_test),
        "heldout_confusion_matrix_rows_true_cols_pred": confusion.tolist(),
        "train_accuracy": round(train_acc, 4),
        "num_parameters": n_params,
        "epochs": args.epochs,
        "seed": args.seed,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "weight_decay": args.weight_decay,
        "aug_copies": args.aug_copies,
        "feature_seconds": round(t_feat, 1),
        "train_seconds": round(train_seconds, 1),
        "total_seconds": round(time.time() - t_start, 1),
        "torch_threads": args.threads,
        "model": {
            "hidden_size": args.hidden_size,
            "num_hidden_layers": args.layers,
            "num_attention_heads": args.heads,
            "intermediate_size": args.intermediate_size,
            "dropout": args.dropout,
            "patch_size": 16,
            "frequency_stride": args.stride,
            "time_stride": args.stride,
        },
        "features": {
            "sampling_rate": SAMPLING_RATE,
            "num_mel_bins": NUM_MEL_BINS,
            "max_length": MAX_LENGTH,
            "mean": fe.mean,
            "std": fe.std,
        },
        "versions": {"torch": torch.__version__, "transformers": __import__("transformers").__version__},
    }
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    for f in args.out.iterdir():  # save_pretrained may write model.safetensors as 0600
        if f.is_file():
            f.chmod(0o644)

    print(f"held-out speaker {args.holdout!r}: accuracy {test_acc:.4f} (pipeline {pipe_acc:.4f})")
    print("per-digit:", metrics["heldout_per_digit_accuracy"])
    print(f"train accuracy {train_acc:.4f}; {n_params:,} parameters; train time {train_seconds:.0f}s")
    print(f"saved model, feature extractor and metrics.json to {args.out}")


if __name__ == "__main__":
    main()

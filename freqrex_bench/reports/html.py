"""report.html: one self-contained page (figures as embedded PNG, audio as embedded wav) from a run folder.

Everything shown comes from the records, summary and files the run wrote; nothing is recomputed
through a model. Jinja2 autoescaping is on, so model labels, file names and suite text render as text.
"""

from __future__ import annotations

import base64
import math
from pathlib import Path
from typing import Any

import numpy as np
import soundfile
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from ..mutations import describe
from ..results import AttackResult
from ..store import RunFolder
from ..strategy import STRATEGIES
from . import figures
from .summary import CAUSAL_ATTACK


def attacks_shown() -> list[str]:
    """Every registered attack (strategies whose records are AttackResults), in registration order."""
    return [name for name, cls in STRATEGIES.items() if cls.Record is AttackResult]


def rate(value: float | None) -> str:
    """A share as a percentage with one decimal ("54.2%"), or an en dash when there is none."""
    return "\u2013" if value is None else f"{100 * value:.1f}%"


def number(value: float | None, digits: int = 1) -> str:
    """A number with `digits` decimals (thousands separated), or an en dash when there is none."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "\u2013"
    return f"{value:,.{digits}f}"


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("freqrex_bench.reports", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(rate=rate, number=number, mutation=describe)
    return env


def data_uri(kind: str, payload: bytes) -> str:
    """`payload` as a base64 `data:` URI of MIME type `kind` (e.g. "image/png"), for embedding."""
    return f"data:{kind};base64,{base64.b64encode(payload).decode('ascii')}"


def render(folder: RunFolder, info: dict[str, Any], summary: dict[str, Any], records: list[dict[str, Any]],
           examples: int, audio: bool, title: str) -> str:
    """The whole page as a string: per target, the summary's figures, the class figures, up to `examples`
    clips in detail (with embedded audio when `audio`) and the error records."""
    targets = []
    for name, figures_of in summary["targets"].items():
        mine = [r for r in records if r["target"] == name]
        targets.append({
            "name": name, "figures": figures_of,
            "class_figures": _class_figures(figures_of["classes"]),
            "charts": _charts(name, figures_of),
            "verdicts": verdicts(figures_of),
            "examples": [_example(folder, clip, audio) for clip in _pick_examples(mine, examples)],
            "errors": [r for r in mine if not r["ok"]],
        })
    return _environment().get_template("report.html.j2").render(
        title=title, info=info, summary=summary, targets=targets, attacks=attacks_shown(),
    )


FREQUENCY_BASELINES = ("largest-magnitude", "random-frequencies", "kenansville")
PEER_ATTACKS = ("hopskipjump", "boundary")
VERDICT_FLOORS = ("20", "30")


def verdicts(figures_of: dict[str, Any]) -> list[str]:
    """Plain sentences on where the causal attack and ranking win or lose against the frequency baselines and
    the peer black-box attacks, and any other attack of the suite that flips more (the white-box gradient
    reference, STFT, noise), from the summary alone: success at 20 and 30 dB floors, the SNR of the flips
    on the clips both the causal attack and a baseline or peer flipped (`paired_snr`), and deletion AUC
    against loudness and random and against any other compared ranking that collapses the decision sooner
    (e.g. FreqRISE-style masks)."""
    strategies, said = figures_of["strategies"], []
    causal = strategies.get(CAUSAL_ATTACK)
    if causal:
        for floor in VERDICT_FLOORS:
            ours = causal["success_at_snr"].get(floor)
            for name in (*FREQUENCY_BASELINES, *PEER_ATTACKS):
                theirs = strategies.get(name, {}).get("success_at_snr", {}).get(floor)
                if ours is None or theirs is None:
                    continue
                how = "wins" if ours > theirs else "ties" if ours == theirs else "LOSES"
                said.append(f"At a {floor} dB SNR floor the causal attack flipped {rate(ours)} of clips, {name} "
                            f"{rate(theirs)}: the causal attack {how}.")
            for name, figures in strategies.items():  # any other attack (white-box, STFT, noise) that does better
                theirs = figures.get("success_at_snr", {}).get(floor)
                if name in (CAUSAL_ATTACK, *FREQUENCY_BASELINES, *PEER_ATTACKS) or ours is None or theirs is None:
                    continue
                if theirs > ours:
                    said.append(f"At a {floor} dB SNR floor {name} flipped {rate(theirs)} of clips, more than the "
                                f"causal attack's {rate(ours)}.")
        for name, paired in (figures_of.get("paired_snr") or {}).items():
            if name in (*FREQUENCY_BASELINES, *PEER_ATTACKS) and paired["clips"]:
                gain = paired["median_gain_db"]
                how = f"a median {gain:.1f} dB quieter" if gain >= 0 else f"a median {-gain:.1f} dB LOUDER"
                on = f"{paired['other_quieter']} of them" if paired["other_quieter"] else "none of them"
                said.append(f"On the {paired['clips']} clips both flipped, the causal attack's flip is {how} than "
                            f"{name}'s; {name}'s is the quieter on {on}.")
    faithful = figures_of.get("faithfulness") or {}
    method = next((name for name in ("freqrex-ns", "paper", "removal", "occlusion") if name in faithful), None)
    if method is not None:
        ours = faithful[method]["deletion_auc"]
        for name in ("loudest", "random"):
            if name in faithful and ours is not None and faithful[name]["deletion_auc"] is not None:
                theirs = faithful[name]["deletion_auc"]
                how = "collapses the decision sooner" if ours < theirs else "does NOT collapse the decision sooner"
                said.append(f"Deletion AUC {ours:.3f} for {method} against {theirs:.3f} for {name}: the causal ranking "
                            f"{how}.")
        for name, figures in faithful.items():  # any other ranking that does better
            theirs = figures.get("deletion_auc")
            if name not in (method, "loudest", "random") and None not in (ours, theirs) and theirs < ours:
                said.append(f"Deletion AUC {theirs:.3f} for {name}, lower than {method}'s {ours:.3f}: {name} "
                            f"collapses the decision sooner than the suite's causal ranking.")
    return said


def _charts(name: str, figures_of: dict[str, Any]) -> dict[str, str | None]:
    # every chart the template asks for, None when there is nothing to draw (StrictUndefined refuses absent keys)
    charts: dict[str, str | None] = dict.fromkeys(("success_vs_snr", "faithfulness", "corruptions"))
    rates = {s: f["success_at_snr"] for s, f in figures_of["strategies"].items() if f.get("success_at_snr")
             and f["runs"]}
    if rates:
        charts["success_vs_snr"] = data_uri("image/png", figures.success_vs_snr(rates, f"{name}: success vs SNR floor"))
    if figures_of.get("faithfulness"):
        charts["faithfulness"] = data_uri("image/png", figures.faithfulness(
            figures_of["faithfulness"], f"{name}: faithfulness of rankings (mean over clips)"))
    if (figures_of.get("corruptions") or {}).get("table"):
        charts["corruptions"] = data_uri("image/png", figures.corruption_heatmap(
            figures_of["corruptions"]["table"], f"{name}: corruption flip rate by corruption and severity"))
    return charts


def _class_figures(classes: dict[str, Any]) -> dict[str, str]:
    if not classes:
        return {}
    rate_hz = next(iter(classes.values()))["sample_rate"]
    shown = {}
    for key, what, caption in (("responsibility_profile", "mean responsibility", "responsibility"),
                               ("necessary_profile", "mean necessary bins", "necessary")):
        profiles = {label: c[key] for label, c in classes.items() if c[key] is not None}
        if profiles:
            shown[caption] = data_uri("image/png", figures.class_heatmap(profiles, rate_hz, what))
    return shown


def _pick_examples(records: list[dict[str, Any]], count: int) -> list[list[dict[str, Any]]]:
    """Up to `count` clips shown in detail, those whose STFT attack succeeded first, then by clip id."""
    by_clip: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        if record["clip"] is not None:
            by_clip.setdefault(record["clip"], []).append(record)
    usable = [rs for rs in by_clip.values() if any(r["strategy"] == "causal" and r["ok"] for r in rs)]

    def stft_won(rs: list[dict[str, Any]]) -> bool:
        return any(r["strategy"] == "stft" and r["ok"] and r["record"]["success"] for r in rs)

    usable.sort(key=lambda rs: (not stft_won(rs), rs[0]["clip"]))
    return usable[:count]


def _example(folder: RunFolder, records: list[dict[str, Any]], audio: bool) -> dict[str, Any]:
    causal = next(r for r in records if r["strategy"] == "causal")
    result = causal["record"]
    rate_hz = result["sample_rate"]
    clip = causal["clip"]
    example = {
        "clip": clip, "truth": causal["truth"], "record": result, "figure": None,
        "audio": [], "attacks": [r for r in records if r["strategy"] in attacks_shown()], "spectrogram": None,
    }
    explanation = _existing(folder, causal["files"], "explanation")
    if explanation is not None:
        with np.load(explanation) as arrays:
            values = arrays["responsibility"]
            subsets = {kind: arrays[kind] for kind in ("sufficient", "necessary", "complete") if kind in arrays}
        hz = np.fft.rfftfreq(result["n_samples"], 1 / rate_hz)
        example["figure"] = data_uri("image/png",
                                     figures.responsibility(hz, values, subsets, f"{clip}: {result['label']}"))
    if audio:
        for kind in ("original", "sufficient", "necessary"):
            if (wav := _existing(folder, causal["files"], kind)) is not None:
                example["audio"].append((kind, *_wav(wav)))
        for attack in example["attacks"]:
            if attack["ok"] and (wav := _existing(folder, attack["files"], "adversarial_wav")) is not None:
                example["audio"].append((f"adversarial ({attack['strategy']})", *_wav(wav)))
    stft = next((r for r in example["attacks"] if r["strategy"] == "stft" and r["ok"] and r["record"]["success"]), None)
    original_wav = _existing(folder, causal["files"], "original")
    adversarial_npy = _existing(folder, stft["files"], "adversarial") if stft else None
    if stft is not None and original_wav and adversarial_npy:
        original, _ = soundfile.read(original_wav, dtype="float32")
        adversarial = np.load(adversarial_npy, allow_pickle=False)
        frame = int(stft["record"]["details"].get("frame_size") or 256)
        example["spectrogram"] = data_uri("image/png", figures.spectrograms(
            original, adversarial, rate_hz, frame, f"{clip}: STFT attack, frame {frame}"))
    return example


def _existing(folder: RunFolder, files: dict[str, str], kind: str) -> Path | None:
    """A file a record names, if it is still there (CI artifacts are often pruned): the report shows
    what remains rather than failing."""
    path = folder.root / files[kind] if kind in files else None
    return path if path is not None and path.is_file() else None


def _wav(path: Path) -> tuple[str, float]:
    """A wav as a data URI, and its length in seconds (players round short clips down to 0:00)."""
    return data_uri("audio/wav", path.read_bytes()), soundfile.info(str(path)).duration

"""The report's figures (paper Figs. 1-4) as PNG bytes.

Figures are `matplotlib.figure.Figure` objects drawn straight to PNG (no pyplot, so no global backend
or figure registry: importing this module changes nothing, and nothing accumulates in long runs)."""

from __future__ import annotations

import io
from collections.abc import Mapping

import matplotlib.colors
import numpy as np
from matplotlib.figure import Figure
from scipy import signal as scipy_signal

SUBSET_COLOURS = {"sufficient": "#1b9e77", "necessary": "#d95f02", "complete": "#7570b3"}


def literal(text: str) -> str:
    """Text drawn as written: a `$` in a clip name or label would otherwise start matplotlib mathtext."""
    return text.replace("$", r"\$")


def png(figure: Figure) -> bytes:
    """The figure as PNG bytes (100 dpi, tight bounding box)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()


def responsibility(hz: np.ndarray, values: np.ndarray, subsets: Mapping[str, np.ndarray], title: str) -> bytes:
    """Paper Fig. 1 as PNG bytes: responsibility (float [M]) over `hz` (float [M], Hz), with the bins of
    each subset (int [k] indices per kind) marked beneath it."""
    figure = Figure(figsize=(8, 3.2))
    top, marks = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    top.plot(hz, values, lw=0.7, color="#333333")
    top.set_ylabel("responsibility")
    top.set_title(literal(title), fontsize=10)
    strip = np.ones((max(len(subsets), 1), hz.size, 3))  # one row of coloured bins per subset, drawn as an image
    for row, (kind, bins) in enumerate(subsets.items()):
        strip[row, bins] = matplotlib.colors.to_rgb(SUBSET_COLOURS.get(kind, "k"))
    marks.imshow(strip, aspect="auto", interpolation="nearest", origin="lower",
                 extent=(hz[0], hz[-1], 0, strip.shape[0]))
    marks.set_yticks(np.arange(len(subsets)) + 0.5, list(subsets), fontsize=8)
    marks.set_xlabel("frequency (Hz)")
    return png(figure)


def class_heatmap(profiles: Mapping[str, list[float]], sample_rate: int, what: str) -> bytes:
    """Paper Figs. 2-3 as PNG bytes: one row per class, one column per equal Hz band up to
    `sample_rate` / 2 (mean responsibility, or mean count of necessary bins; `what` labels the colour
    bar), so classes can be compared at a glance."""
    labels = list(profiles)
    grid = np.array([profiles[label] for label in labels], dtype=float)
    figure = Figure(figsize=(8, 0.35 * len(labels) + 1.2))
    axis = figure.subplots()
    image = axis.imshow(grid, aspect="auto", cmap="magma", interpolation="nearest",
                        extent=(0, sample_rate / 2, len(labels) - 0.5, -0.5))
    axis.set_yticks(range(len(labels)), [literal(label) for label in labels], fontsize=8)
    axis.set_xlabel("frequency (Hz)")
    figure.colorbar(image, ax=axis, label=what, pad=0.01)
    return png(figure)


def spectrograms(original: np.ndarray, adversarial: np.ndarray, sample_rate: int, frame: int, title: str) -> bytes:
    """Paper Fig. 4 as PNG bytes: magnitude spectrograms (dB) of the float [T] `original` and `adversarial`
    at `sample_rate` Hz (STFT of `frame` samples, hop frame/2), and their difference."""
    def db(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        f, t, z = scipy_signal.stft(x, fs=sample_rate, nperseg=frame, noverlap=frame // 2)
        return f, t, 20 * np.log10(np.abs(z) + 1e-9)

    f, t, before = db(original)
    _, _, after = db(adversarial)
    figure = Figure(figsize=(10, 3))
    axes = figure.subplots(1, 3, sharey=True)
    low = max(before.max() - 90, before.min())
    for axis, data, name, cmap in ((axes[0], before, "original", "magma"), (axes[1], after, "adversarial", "magma"),
                                   (axes[2], after - before, "difference (dB)", "coolwarm")):
        limits = {"vmin": low, "vmax": before.max()} if cmap == "magma" else {"vmin": -20, "vmax": 20}
        mesh = axis.imshow(data, aspect="auto", origin="lower", cmap=cmap, interpolation="nearest",
                           extent=(t[0], t[-1], f[0], f[-1]), **limits)
        axis.set_title(name, fontsize=9)
        axis.set_xlabel("time (s)")
        figure.colorbar(mesh, ax=axis, pad=0.01)
    axes[0].set_ylabel("frequency (Hz)")
    figure.suptitle(literal(title), fontsize=10, y=1.04)
    return png(figure)


def success_vs_snr(rates: Mapping[str, Mapping[str, float | None]], title: str) -> bytes:
    """Success rate (share of clips, 0-1) of each strategy at each SNR floor (dB): one line per strategy,
    the causal attack drawn thickest. `rates` maps strategy -> {floor as text: rate or None}."""
    figure = Figure(figsize=(6.5, 3.2))
    axis = figure.subplots()
    for name, by_floor in rates.items():
        floors = [float(floor) for floor in by_floor]
        values = [np.nan if rate is None else 100 * rate for rate in by_floor.values()]
        axis.plot(floors, values, marker="o", linewidth=2.6 if name == "fourier" else 1.3, label=literal(name))
    axis.set_xlabel("SNR floor (dB): the change is at least this quiet")
    axis.set_ylabel("clips flipped (%)")
    axis.set_ylim(-3, 103)
    axis.set_title(literal(title), fontsize=10)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=7, loc="upper right")
    return png(figure)


def faithfulness(curves: Mapping[str, Mapping[str, list[float]]], title: str) -> bytes:
    """Mean deletion and insertion curves of each ranking: P(original class) with the top fraction of bins
    removed (left) or kept alone (right), fraction on a log axis. `curves` maps ranking -> {curve_fraction,
    deletion_curve, insertion_curve}."""
    figure = Figure(figsize=(10, 3.2))
    deletion, insertion = figure.subplots(1, 2, sharey=True)
    for name, curve in curves.items():
        width = 2.6 if name in ("freqrex-ns",) else 1.2
        deletion.plot(curve["curve_fraction"], curve["deletion_curve"], linewidth=width, label=literal(name))
        insertion.plot(curve["curve_fraction"], curve["insertion_curve"], linewidth=width, label=literal(name))
    for axis, what in ((deletion, "top bins removed (lower area: more faithful)"),
                       (insertion, "top bins kept alone (higher area: more faithful)")):
        axis.set_xscale("log")
        axis.set_xlabel(f"fraction of bins, {what}", fontsize=8)
        axis.grid(alpha=0.3)
    deletion.set_ylabel("P(original class)")
    insertion.legend(fontsize=7, loc="lower right")
    figure.suptitle(literal(title), fontsize=10)
    return png(figure)


def corruption_heatmap(table: Mapping[str, Mapping[str, Mapping[str, object]]], title: str) -> bytes:
    """Corruption flip rate by corruption (rows, in `table` order) and severity (columns 1-5) as PNG bytes,
    a heatmap from 0 to 100% with each cell's percentage written in it (blank where nothing was judged).
    `table` is summary `corruptions.table`: corruption -> {severity as text: {"flip_rate": share or None}}."""
    names = list(table)
    severities = sorted({int(s) for row in table.values() for s in row})
    grid = np.full((len(names), len(severities)), np.nan)
    for i, name in enumerate(names):
        for j, severity in enumerate(severities):
            rate = table[name].get(str(severity), {}).get("flip_rate")
            if isinstance(rate, (int, float)):
                grid[i, j] = 100 * rate
    figure = Figure(figsize=(1.0 * len(severities) + 3.0, 0.32 * len(names) + 1.3))
    axis = figure.subplots()
    image = axis.imshow(grid, aspect="auto", cmap="Reds", vmin=0, vmax=100, interpolation="nearest")
    for (i, j), value in np.ndenumerate(grid):
        if not np.isnan(value):
            axis.text(j, i, f"{value:.0f}", ha="center", va="center", fontsize=7,
                      color="white" if value > 60 else "black")
    axis.set_xticks(range(len(severities)), [str(s) for s in severities])
    axis.set_yticks(range(len(names)), [literal(name) for name in names], fontsize=8)
    axis.set_xlabel("severity")
    axis.set_title(literal(title), fontsize=10)
    figure.colorbar(image, ax=axis, label="decisions changed (%)", pad=0.02)
    return png(figure)

"""Records -> the run's numbers: per target, per class (paper Tables 1-2, Fig. 3) and per strategy (Tables 3-4,
strategies vs baselines). summary.json holds exactly this; the report and the checks read it, never the models.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from statistics import mean, median
from typing import Any

SUBSETS = ("sufficient", "necessary", "complete")
# SNR floors (dB) at which every attack's success is reported: the share of its runs that reached the goal
# with a change of at least that SNR (each run counts at the SNR of the flip it reports: with the highest-snr
# objective the frequency attacks report the least audible flip they found; for the other attacks, and under
# fewest-frequencies, a quieter flip may exist, so their share is a lower bound).
SNR_FLOORS = (0.0, 10.0, 20.0, 30.0, 40.0)
# SNR floors (dB) of the report's top card: the share of clips that some attack flips this quietly.
CARD_FLOORS = ("20", "30")
NOT_ATTACKS = ("causal", "superposition", "faithfulness", "corruptions")
# The causal attack, which `paired_snr` compares clip by clip with every other attack of the suite.
CAUSAL_ATTACK = "fourier"


def summarize(records: Iterable[dict[str, Any]], targets: list[str]) -> dict[str, Any]:
    """Every number the report shows, from the run's records (one per target, clip and strategy):
    {"targets": {name: figures}} for each of `targets`, in that order."""
    by_target: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_target[record["target"]].append(record)
    return {"targets": {name: _target(by_target.get(name, [])) for name in targets}}


def _target(records: list[dict[str, Any]]) -> dict[str, Any]:
    causal = [r for r in records if r["strategy"] == "causal"]
    ok = [r for r in causal if r["ok"]]
    with_truth = [r for r in ok if r["truth"] is not None]
    by_strategy: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        if record["strategy"] not in NOT_ATTACKS:
            by_strategy[record["strategy"]].append(record)
    superposition = next((r for r in records if r["strategy"] == "superposition"), None)
    warnings = {r["clip"]: r["warnings"] for r in records if r["clip"] is not None and r.get("warnings")}
    corruptions = _corruptions([r for r in records if r["strategy"] == "corruptions"])
    accuracy = _share(r["record"]["label"] == r["truth"] for r in with_truth) if with_truth else None
    return {
        "card": _card(by_strategy, accuracy, corruptions),
        "clips": len({r["clip"] for r in records if r["clip"] is not None}),
        "clip_warnings": dict(sorted(warnings.items())),
        "errors": sum(not r["ok"] for r in records),
        "accuracy": accuracy,
        "causal": _causal(causal),
        "classes": _classes(ok),
        "strategies": {name: _strategy(rs) for name, rs in by_strategy.items()},
        "paired_snr": paired_snr(by_strategy),
        "stft_frame_sizes": _frame_sizes(by_strategy.get("stft", [])),
        "superposition": _superposition(superposition),
        "faithfulness": _faithfulness([r for r in records if r["strategy"] == "faithfulness" and r["ok"]]),
        "corruptions": corruptions,
    }


def _card(attacks: dict[str, list[dict[str, Any]]], accuracy: float | None,
          corruptions: dict[str, Any] | None) -> dict[str, Any]:
    """The report's top card for one model: `accuracy` on the clips; `least_audible`, the successful attack
    with the highest SNR over every strategy and clip ({strategy, clip, snr_db, changed, unit}; None when
    no attack flipped anything); `flipped_at_snr`, per CARD_FLOORS floor the share of attacked clips that
    at least one attack flipped with a change at least that quiet; `corruption_flip_rate`. `checks` is
    added once the suite's checks are evaluated (reports.write_report)."""
    clips: dict[str, list[float]] = defaultdict(list)
    best: dict[str, Any] | None = None
    for strategy, records in attacks.items():
        for r in records:
            if not r["ok"]:
                continue
            snrs = clips[r["clip"]]
            result = r["record"]
            if result["success"] and result["snr_db"] is not None:
                snrs.append(result["snr_db"])
                if best is None or result["snr_db"] > best["snr_db"]:
                    best = {"strategy": strategy, "clip": r["clip"], "snr_db": result["snr_db"],
                            "changed": result["changed"], "unit": result["unit"]}
    return {
        "accuracy": accuracy,
        "least_audible": best,
        "attacked_clips": len(clips),
        "flipped_at_snr": {floor: _share(any(snr >= float(floor) for snr in snrs) for snrs in clips.values())
                           for floor in CARD_FLOORS},
        "corruption_flip_rate": corruptions["corruption_flip_rate"] if corruptions else None,
    }


def _causal(records: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r["record"] for r in records if r["ok"]]
    return {
        "runs": len(ok),
        "error_rate": _share(not r["ok"] for r in records),
        "mean_queries": _mean(r["queries"] for r in ok),
        "converged_rate": _share(r["converged"] for r in ok),
        "inverse_flip_rate": _share(r["inverse_label"] not in (None, r["label"])
                                    for r in ok if "necessary" in r["subsets"]),
        **{f"{kind}_percent_mean": _mean(_percent(r, kind) for r in ok) for kind in SUBSETS},
    }


def _percent(record: dict[str, Any], kind: str) -> float | None:
    subset = record["subsets"].get(kind)
    return None if subset is None else 100 * subset["fraction"]


def _classes(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Per predicted class: clips, % of bins each subset needs (Table 1), mean responsibility and
    necessary-bin counts per Hz band (Figs. 2-3)."""
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        grouped[r["record"]["label"]].append(r["record"])
    classes = {}
    for label in sorted(grouped):
        rs = grouped[label]
        classes[label] = {
            "clips": len(rs),
            **{f"{kind}_percent_mean": _mean(_percent(r, kind) for r in rs) for kind in SUBSETS},
            "necessary_count_mean": _mean(r["subsets"]["necessary"]["size"] for r in rs if "necessary" in r["subsets"]),
            "sample_rate": rs[0]["sample_rate"],
            "responsibility_profile": _mean_profile(r["profile"]["responsibility"] for r in rs),
            "necessary_profile": _mean_profile(r["profile"]["necessary"] for r in rs if "necessary" in r["profile"]),
        }
    return classes


def _mean_profile(profiles: Iterable[list[float]]) -> list[float] | None:
    profiles = list(profiles)
    if not profiles:
        return None
    return [sum(column) / len(profiles) for column in zip(*profiles)]


def _strategy(records: list[dict[str, Any]]) -> dict[str, Any]:
    """An attack's figures: success overall and within 1 and 5 changes (Table 3), SNR, queries, pcm16.
    Runs where the attack does not apply (a gradient attack on a model without a torch forward pass)
    are left out, so they do not pass for failures."""
    records = [r for r in records if not r["ok"] or r["record"]["details"].get("applicable", True)]
    ok = [r["record"] for r in records if r["ok"]]
    won = [r for r in ok if r["success"]]
    snrs = [r["snr_db"] for r in won if r["snr_db"] is not None]
    frequencies = bool(ok) and ok[0]["unit"] == "frequencies"
    return {
        "runs": len(ok),
        "unit": ok[0]["unit"] if ok else None,
        "success_rate": _share(r["success"] for r in ok),
        "success_rate_1": _share(r["success"] and r["changed"] <= 1 for r in ok) if frequencies else None,
        "success_rate_5": _share(r["success"] and r["changed"] <= 5 for r in ok) if frequencies else None,
        "median_changed": median(r["changed"] for r in won) if won else None,
        "median_snr_db": median(snrs) if snrs else None,
        "best_snr_db": max(snrs) if snrs else None,
        "mean_queries": _mean(r["queries"] for r in ok),
        "mean_total_queries": _mean(r["queries"] + r["prior_queries"] for r in ok),
        "pcm16_survival_rate": _share(r["survives_pcm16"] for r in won if r["survives_pcm16"] is not None),
        "error_rate": _share(not r["ok"] for r in records),
        "success_at_snr": {f"{floor:g}": _share(r["success"] and r["snr_db"] is not None and r["snr_db"] >= floor
                                                for r in ok) for floor in SNR_FLOORS},
        "statuses": dict(sorted(Counter(r.get("status", "success" if r["success"] else "no_flip")
                                        for r in ok).items())),
    }


def flip_snrs(records: Iterable[dict[str, Any]]) -> dict[str, float]:
    """{clip: SNR in dB} of the flips in one attack's `records` (finished runs that reached the goal with a
    measured SNR)."""
    return {r["clip"]: r["record"]["snr_db"] for r in records
            if r["ok"] and r["record"]["success"] and r["record"]["snr_db"] is not None}


def paired_snr(attacks: dict[str, list[dict[str, Any]]], reference: str = CAUSAL_ATTACK) -> dict[str, Any]:
    """The `reference` attack's flips against every other attack's, clip by clip: per other attack, on the
    clips both flipped (with a measured SNR), their number (`clips`), the median of the reference's SNR
    minus the other's in dB (`median_gain_db`: positive when the reference's flips are quieter; None
    without shared clips) and on how many the other's flip is the quieter (`other_quieter`). Each attack's
    median SNR is over its own flips, so one that flips only easy clips looks quiet; this compares like
    with like. {} when the suite has no `reference` attack. `attacks`: records by strategy."""
    if reference not in attacks:
        return {}
    ours = flip_snrs(attacks[reference])
    paired = {}
    for name, records in attacks.items():
        if name == reference:
            continue
        theirs = flip_snrs(records)
        gains = [ours[clip] - theirs[clip] for clip in ours.keys() & theirs.keys()]
        paired[name] = {"clips": len(gains), "median_gain_db": median(gains) if gains else None,
                        "other_quieter": sum(gain < 0 for gain in gains)}
    return paired


def _frame_sizes(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Algorithm 3 per frame size (Table 4): of the clips that reached a size, how many flipped there."""
    tried: dict[str, list[bool]] = defaultdict(list)
    for r in records:
        if r["ok"]:
            for size, report in r["record"]["details"].get("frame_sizes", {}).items():
                if report.get("reason") != "frame longer than the clip":
                    tried[size].append(bool(report.get("success")))
    return {size: {"tried": len(v), "success": sum(v), "success_rate": _share(v)}
            for size, v in sorted(tried.items(), key=lambda item: int(item[0]))}


def _superposition(record: dict[str, Any] | None) -> dict[str, Any] | None:
    if record is None:
        return None
    if not record["ok"]:
        return {"error": record["error"], "rows": []}
    return {"rows": record["record"]["rows"], "queries": record["record"]["queries"]}


def _share(flags: Iterable[bool]) -> float | None:
    flags = [bool(f) for f in flags]
    return sum(flags) / len(flags) if flags else None


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return mean(present) if present else None


def _faithfulness(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Per ranking over the clips: mean deletion and insertion AUC, median sufficient size, mean queries and
    seconds, and the mean curves (sizes as fractions of the clip's bins, scores averaged by grid point)."""
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        for name, row in record["record"]["rankings"].items():
            if "error" not in row:
                rows[name].append({**row, "n_bins": max(row["sizes"])})
    out = {}
    for name, measured in rows.items():
        sizes = [r["sufficient_size"] for r in measured if r["sufficient_size"] is not None]
        points = min(len(r["deletion"]) for r in measured)
        out[name] = {
            "clips": len(measured),
            "deletion_auc": _mean(r["deletion_auc"] for r in measured),
            "insertion_auc": _mean(r["insertion_auc"] for r in measured),
            "sufficient_size_median": median(sizes) if sizes else None,
            "sufficient_fraction_median": median(r["sufficient_size"] / r["n_bins"] for r in measured
                                                 if r["sufficient_size"] is not None) if sizes else None,
            "queries_mean": _mean(r["queries"] for r in measured),
            "seconds_mean": _mean(r["seconds"] for r in measured),
            "curve_fraction": [_mean(r["sizes"][i] / r["n_bins"] for r in measured) for i in range(points)],
            "deletion_curve": [_mean(r["deletion"][i] for r in measured) for i in range(points)],
            "insertion_curve": [_mean(r["insertion"][i] for r in measured) for i in range(points)],
        }
    return out


def _corruptions(records: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Corruption robustness (the `corruptions` strategy) over the clips, None when it did not run: per
    corruption and severity (`table`, catalogue order) the `setting`, `clips` judged, `flip_rate` (share whose
    decision changed), `accuracy` (share equal to the ground truth, over clips that have one; None without),
    `mean_score_drop` (mean fall of the clean class's probability) and `not_applied` (rows that could not
    be applied, e.g. MP3 at a rate without a mode); `flip_rate_mean` over all cells (also as
    `corruption_flip_rate`, the metric checks and compare read), `flip_rate_by_corruption` (mean over
    severities), `clean_accuracy`, `runs`, `error_rate` and `mean_queries`."""
    if not records:
        return None
    ok = [r for r in records if r["ok"]]
    cells: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    for r in ok:
        for row in r["record"]["rows"]:
            cell = cells[row["corruption"]].setdefault(row["severity"], {
                "setting": row["setting"], "flips": [], "correct": [], "drops": [], "not_applied": 0})
            if row["error"] is not None:
                cell["not_applied"] += 1
                continue
            cell["flips"].append(row["flipped"])
            cell["drops"].append(row["score_drop"])
            if r["truth"] is not None:
                cell["correct"].append(row["label"] == r["truth"])
    table = {name: {str(severity): {
        "setting": cell["setting"], "clips": len(cell["flips"]), "flip_rate": _share(cell["flips"]),
        "accuracy": _share(cell["correct"]), "mean_score_drop": _mean(cell["drops"]),
        "not_applied": cell["not_applied"]} for severity, cell in sorted(by_severity.items())}
        for name, by_severity in cells.items()}
    rates = [cell["flip_rate"] for row in table.values() for cell in row.values() if cell["flip_rate"] is not None]
    with_truth = [r for r in ok if r["truth"] is not None]
    flip_rate_mean = mean(rates) if rates else None
    return {
        "runs": len(ok),
        "error_rate": _share(not r["ok"] for r in records),
        "mean_queries": _mean(r["record"]["queries"] for r in ok),
        "clean_accuracy": _share(r["record"]["label_before"] == r["truth"] for r in with_truth) if with_truth else None,
        "flip_rate_mean": flip_rate_mean,
        "corruption_flip_rate": flip_rate_mean,
        "flip_rate_by_corruption": {name: _mean(cell["flip_rate"] for cell in row.values())
                                    for name, row in table.items()},
        "table": table,
    }

"""CI gates: a suite's `checks:` evaluated on a run's summary, a comparison of two runs, and JUnit XML.

A check bounds one metric of one strategy (on one target, or each target). Attack metrics read as
robustness: a higher attack success rate, or a higher SNR of successful attacks (a subtler change
sufficed), means a less robust model; so a robustness gate is `max` on both.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any
from xml.etree import ElementTree

from .errors import InvalidInputError
from .suite import CheckSpec

# Metrics in dB: `compare` gives them their own tolerance, and a check on one passes when no attack succeeded.
SNR_METRICS = ("median_snr_db", "best_snr_db")
# For `compare`: metrics where a rise means the model got less robust (or the run less healthy).
WORSE_WHEN_HIGHER = ("success_rate", "success_rate_1", "success_rate_5", "pcm16_survival_rate", "median_snr_db",
                     "error_rate", "corruption_flip_rate")


@dataclass(frozen=True)
class CheckOutcome:
    """One check on one target: the value found and whether it is within bounds."""

    name: str
    target: str
    strategy: str
    metric: str
    value: float | None
    passed: bool
    message: str

    def to_dict(self) -> dict[str, Any]:
        """The outcome as a plain dict (an entry of summary.json's `checks`)."""
        return asdict(self)


def metric_of(summary: dict[str, Any], target: str, strategy: str, metric: str) -> tuple[float | None, dict[str, Any]]:
    """A strategy's metric on a target in a summary (None when absent), and the strategy's whole block of
    metrics (causal discovery has error_rate and mean_queries only; `corruptions` is its own block, with
    corruption_flip_rate)."""
    figures = summary["targets"].get(target, {})
    if strategy in ("causal", "corruptions"):
        block = figures.get(strategy) or {}
    else:
        block = figures.get("strategies", {}).get(strategy, {})
    return block.get(metric), block


def evaluate(summary: dict[str, Any], checks: list[CheckSpec]) -> list[CheckOutcome]:
    """Every check against every target it names (all targets when it names none); a metric without a
    value fails, unless it is an SNR of an attack that never succeeded."""
    outcomes = []
    for check in checks:
        for target in [check.target] if check.target else list(summary["targets"]):
            value, block = metric_of(summary, target, check.strategy, check.metric)
            outcomes.append(_judge(check, target, value, block))
    return outcomes


def _judge(check: CheckSpec, target: str, value: float | None, block: dict[str, Any]) -> CheckOutcome:
    bounds = " and ".join(part for part in (
        f">= {check.min:g}" if check.min is not None else "", f"<= {check.max:g}" if check.max is not None else ""
    ) if part)
    name = f"{target}/{check.strategy}/{check.metric} {bounds}"
    if value is None:
        if check.metric in SNR_METRICS and block.get("runs") and block.get("success_rate") == 0:
            return CheckOutcome(name, target, check.strategy, check.metric, None, True,
                                f"{name}: no attack succeeded, so there is no SNR to bound: ok")
        why = (f"no finished runs of {check.strategy} on {target}" if not block.get("runs")
               else f"{check.strategy} never succeeded on {target}" if block.get("success_rate") == 0
               else "the metric has no value for these runs")
        return CheckOutcome(name, target, check.strategy, check.metric, None, False, f"{name}: no value ({why}) FAILED")
    passed = (check.min is None or value >= check.min) and (check.max is None or value <= check.max)
    return CheckOutcome(name, target, check.strategy, check.metric, value, passed,
                        f"{name}: {value:.4g} {'ok' if passed else 'FAILED'}")


def compare(base: dict[str, Any], new: dict[str, Any], tolerance: float, snr_tolerance_db: float) -> list[CheckOutcome]:
    """Per target and strategy of the base run: did robustness regress beyond the tolerances?

    Success rates (and the error rate, and the corruptions' mean flip rate) may rise by at most `tolerance`
    (absolute, a share in [0, 1]); the median SNR of successful attacks may rise (the attacks got subtler)
    by at most `snr_tolerance_db` (dB). A target or strategy of the base run missing from the new one fails:
    a gate must not pass by comparing nothing. Raises InvalidInputError for a summary of another shape (attack_figures).
    """
    before_all, after_all = attack_figures(base, "BASE"), attack_figures(new, "NEW")
    outcomes = []
    for (target, strategy), before in before_all.items():
        after = after_all.get((target, strategy))
        if after is None:
            name = f"{target}/{strategy}"
            outcomes.append(CheckOutcome(name, target, strategy, "present", None, False,
                                         f"{name}: in BASE but not in NEW FAILED"))
            continue
        for metric in WORSE_WHEN_HIGHER:
            old, now = before.get(metric), after.get(metric)
            if old is None or now is None:
                continue
            allowed = snr_tolerance_db if metric in SNR_METRICS else tolerance
            name = f"{target}/{strategy}/{metric}"
            passed = now - old <= allowed
            verdict = "ok" if passed else f"REGRESSED by {now - old:.4g} (tolerance {allowed:g})"
            outcomes.append(CheckOutcome(name, target, strategy, metric, now, passed,
                                         f"{name}: {old:.4g} -> {now:.4g} {verdict}"))
    return outcomes


def attack_figures(summary: Any, which: str) -> dict[tuple[str, str], dict[str, float | None]]:
    """(target, strategy) -> metrics of a summary.json, checked to have that shape (finite numbers or null).
    Raises InvalidInputError, naming `which` ("BASE", "NEW") and the bad key, for anything else."""
    def bad(what: str) -> InvalidInputError:
        return InvalidInputError(f"{which} is not a freqrex-bench summary: {what}")

    if not isinstance(summary, dict) or not isinstance(summary.get("targets"), dict):
        raise bad("expected an object with a 'targets' mapping")
    figures = {}
    for target, block in summary["targets"].items():
        strategies = block.get("strategies", {}) if isinstance(block, dict) else None
        if not isinstance(strategies, dict):
            raise bad(f"targets.{target}.strategies is not a mapping")
        if isinstance(block, dict) and block.get("corruptions") is not None:  # corruption robustness, compared alike
            if not isinstance(block["corruptions"], dict):
                raise bad(f"targets.{target}.corruptions is not a mapping")
            strategies = {**strategies, "corruptions": block["corruptions"]}
        for strategy, metrics in strategies.items():
            where = f"targets.{target}." + ("corruptions" if strategy == "corruptions" else f"strategies.{strategy}")
            for metric in WORSE_WHEN_HIGHER:
                value = metrics.get(metric) if isinstance(metrics, dict) else "?"
                if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                          or not math.isfinite(value)):
                    raise bad(f"{where}.{metric} is {value!r}, expected a number or null")
            figures[target, strategy] = metrics
    return figures


def junit_xml(suite_name: str, outcomes: list[CheckOutcome], errors: list[str]) -> str:
    """JUnit XML that CI systems display: one test case per check, one per errored piece of work."""
    suite = ElementTree.Element("testsuite", name=f"freqrex-bench {suite_name}", tests=str(len(outcomes) + len(errors)),
                                failures=str(sum(not o.passed for o in outcomes)), errors=str(len(errors)))
    for outcome in outcomes:
        case = ElementTree.SubElement(suite, "testcase", classname=f"{suite_name}.{outcome.target}", name=outcome.name)
        if not outcome.passed:
            ElementTree.SubElement(case, "failure", message=outcome.message).text = outcome.message
    for error in errors:
        case = ElementTree.SubElement(suite, "testcase", classname=f"{suite_name}.errors", name=error[:200])
        ElementTree.SubElement(case, "error", message=error).text = error
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True)

"""CI gates: a suite's `checks:` evaluated on a run's summary, a comparison of two runs, and JUnit XML.

A check bounds one metric of one strategy (on one target, or each target). Attack metrics read as
robustness: a higher attack success rate, or a higher SNR of successful attacks (a subtler change
sufficed), means a less robust model; so a robustness gate is `max` on both.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any
from xml.etree import ElementTree

from .suite import CheckSpec

SNR_METRICS = ("median_snr_db", "best_snr_db")
# For `compare`: metrics where a rise means the model got less robust (or the run less healthy), and
# which of them are in dB (compared with their own tolerance).
WORSE_WHEN_HIGHER = ("success_rate", "success_rate_1", "success_rate_5", "pcm16_survival_rate", "median_snr_db",
                     "error_rate")


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
        return asdict(self)


def metric_of(summary: dict[str, Any], target: str, strategy: str, metric: str) -> tuple[float | None, dict[str, Any]]:
    """A strategy's metric on a target (causal discovery has error_rate and mean_queries only)."""
    figures = summary["targets"].get(target, {})
    block = figures.get("causal", {}) if strategy == "causal" else figures.get("strategies", {}).get(strategy, {})
    return block.get(metric), block


def evaluate(summary: dict[str, Any], checks: list[CheckSpec]) -> list[CheckOutcome]:
    """Every check against every target it names (all targets when it names none)."""
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
        return CheckOutcome(name, target, check.strategy, check.metric, None, False,
                            f"{name}: no value (no finished runs of {check.strategy} on {target}) FAILED")
    passed = (check.min is None or value >= check.min) and (check.max is None or value <= check.max)
    return CheckOutcome(name, target, check.strategy, check.metric, value, passed,
                        f"{name}: {value:.4g} {'ok' if passed else 'FAILED'}")


def compare(base: dict[str, Any], new: dict[str, Any], tolerance: float, snr_tolerance_db: float) -> list[CheckOutcome]:
    """Per target and strategy in both runs: did robustness regress beyond the tolerances?

    Success rates (and the error rate) may rise by at most `tolerance` (absolute); the median SNR of
    successful attacks may rise (the attacks got subtler) by at most `snr_tolerance_db`.
    """
    outcomes = []
    for target, figures in base["targets"].items():
        for strategy, before in figures.get("strategies", {}).items():
            after = new["targets"].get(target, {}).get("strategies", {}).get(strategy)
            if after is None:
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

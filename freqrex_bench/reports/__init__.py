"""The HTML robustness report and JSON summary of a run, built only from what the run folder holds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from ..checks import CheckOutcome, evaluate
from ..errors import InvalidInputError
from ..serialization import jsonable
from ..store import RunFolder, latest
from ..suite import Suite, parse_suite
from .html import render
from .summary import summarize

__all__ = ["read_run", "write_report"]


def write_report(
    folder: RunFolder, suite: Suite, records: list[dict[str, Any]]
) -> tuple[dict[str, Any], list[CheckOutcome]]:
    """Summarize the records, evaluate the suite's checks, and write summary.json and report.html into
    `folder` (whose run.json must exist); returns the summary and the check outcomes."""
    info = json.loads(folder.info.read_text(encoding="utf-8"))
    summary = summarize(records, [spec.name for spec in suite.targets])
    checks = evaluate(summary, suite.checks)
    for name, figures_of in summary["targets"].items():
        mine = [c for c in checks if c.target == name]
        figures_of["card"]["checks"] = {"passed": sum(c.passed for c in mine), "total": len(mine)}
    summary = {"suite": suite.name, "seed": suite.seed, **summary, "checks": [c.to_dict() for c in checks]}
    folder.write_text(folder.summary, json.dumps(jsonable(summary), indent=2, allow_nan=False))
    info["suite_yaml"] = yaml.safe_dump(info["suite"], sort_keys=False, allow_unicode=True)
    page = render(folder, info, summary, records, suite.report.examples, suite.report.audio,
                  suite.report.title or f"freqrex-bench: {suite.name}")
    folder.write_text(folder.report, page)
    return summary, checks


def read_run(path: str | Path) -> tuple[RunFolder, Suite, list[dict[str, Any]]]:
    """A finished (or interrupted) run folder: the folder, its suite as it was run (from run.json), and its
    latest record per key. Raises InvalidInputError for a folder without run.json, a stored suite that
    no longer validates, or a bad results line."""
    folder = RunFolder(Path(path))
    if not folder.info.is_file():
        raise InvalidInputError(f"{path} is not a freqrex-bench run folder (no {folder.info.name})")
    info = json.loads(folder.info.read_text(encoding="utf-8"))
    suite = parse_suite(info["suite"], info.get("base", "."), f"suite stored in {folder.info}")
    return folder, suite, list(latest(folder.load()))

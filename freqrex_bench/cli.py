"""The `freqrex-bench` command: run | report | compare | validate | explain.

Exit codes: 0 success (every check holds); 1 a check failed, robustness regressed, or the work could
not finish (the model raised or returned unusable scores); 2 invalid input (bad arguments, suite,
settings, files, a parallel run without Ray installed); 130 interrupted (finished results are kept; run
again to resume; parallel workers are stopped). Errors are one line on stderr, never a traceback.

`run --workers N` runs the suite's (target, clip) jobs in N Ray worker processes on this machine;
`--address ADDR` (or RAY_ADDRESS) on an existing Ray cluster (docs/ray.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .causal import CausalDiscovery, CausalResult, CausalSettings
from .errors import ClipWarning, FreqrexError, InvalidInputError
from .status import Status
from .version import __version__

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_INTERRUPTED = 0, 1, 2, 130


def _setting(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of workers >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number of workers >= 0, got {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="freqrex-bench",
        description="Find the frequencies an audio classifier's decision causally depends on.",
    )
    parser.add_argument("--version", action="version", version=f"freqrex-bench {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    explain = commands.add_parser(
        "explain",
        help="responsibility map and sufficient/necessary/complete frequencies of one clip",
        description="Explain one clip's classification by a local Hugging Face model folder.",
    )
    explain.add_argument("model", type=Path, help="a local transformers audio-classification model folder")
    explain.add_argument("clip", type=Path, help="an audio file (wav, flac, ogg, mp3); resampled as needed")
    explain.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    explain.add_argument("--batch-size", type=int, default=32, help="model batch size (default 32)")
    explain.add_argument("--budget", type=int, default=None, help="maximum model queries (default unlimited)")
    explain.add_argument(
        "--set", dest="settings", type=_setting, action="append", default=[], metavar="KEY=VALUE",
        help=f"a discovery setting, repeatable; one of: {', '.join(CausalSettings.model_fields)}",
    )
    explain.add_argument("--html", type=Path, metavar="OUT.html",
                         help="also write the one-clip page: responsibility over Hz with the subsets marked, "
                         "and the clip, sufficient, necessary and without-necessary signals to listen to")
    explain.add_argument("--json", action="store_true",
                         help="print the explanation as one JSON object (for scripts) instead of the summary")
    explain.add_argument("--quiet", action="store_true", help="no progress bar")

    run = commands.add_parser("run", help="run a suite: explanations, attacks, report, checks",
                              description="Run (or resume) a suite and write results.jsonl, summary.json, "
                              "report.html and adversarial/ into its run folder.")
    run.add_argument("suite", type=Path, help="a suite YAML file (see docs/suite.md)")
    run.add_argument("--out", type=Path, help="run folder (default: the suite's `output`, else runs/<name>)")
    run.add_argument("--fresh", action="store_true", help="discard an earlier run in the folder instead of resuming it")
    run.add_argument("--retry-errors", action="store_true", help="re-run work that ended in an error last time")
    run.add_argument("--junit", type=Path, help="also write the checks as JUnit XML to this file")
    run.add_argument("--quiet", action="store_true", help="no progress bar or cost estimate")
    run.add_argument("--workers", type=_workers, metavar="N",
                     help="run (target, clip) jobs in N worker processes through Ray (needs the ray extra; "
                     "default: the suite's execution.workers; 0: serially in this process, the default)")
    run.add_argument("--address", metavar="ADDR",
                     help="run on the existing Ray cluster at ADDR (e.g. auto, host:6379); "
                     "default: $RAY_ADDRESS when set; see docs/ray.md")

    report = commands.add_parser("report", help="re-render report.html and summary.json of a run folder",
                                 description="Re-render a run's report and summary from its results, without "
                                 "running any model; exits 1 if the suite's checks fail.")
    report.add_argument("run_dir", type=Path, help="a run folder written by `freqrex-bench run`")
    report.add_argument("--junit", type=Path, help="also write the checks as JUnit XML to this file")

    compare = commands.add_parser("compare", help="fail when robustness regressed between two runs",
                                  description="Compare two runs' summaries per target and strategy: exit 1 if an "
                                  "attack's success rate, error rate or 16-bit survival rate, or the corruption "
                                  "flip rate, rose, or the median SNR of an attack's successes rose (a subtler "
                                  "change sufficed), beyond the tolerances.")
    compare.add_argument("base_run", type=Path, help="the reference run folder (or its summary.json)")
    compare.add_argument("new_run", type=Path, help="the run folder to judge (or its summary.json)")
    compare.add_argument("--tolerance", type=float, default=0.05,
                         help="largest allowed rise of a rate (success, error, 16-bit survival, corruption flip), "
                         "absolute (default 0.05)")
    compare.add_argument("--snr-tolerance", type=float, default=1.0,
                         help="largest allowed rise of the median SNR of successful attacks, dB (default 1.0)")
    compare.add_argument("--junit", type=Path, help="also write the comparison as JUnit XML to this file")

    validate = commands.add_parser("validate", help="check a suite file without running anything",
                                   description="Validate a suite: its keys and values, and that its model "
                                   "files and clips exist.")
    validate.add_argument("suite", type=Path, help="a suite YAML file")
    return parser


def summary(result: CausalResult) -> str:
    """A few human-readable lines about one explanation: the decision, the responsibility phase, each
    subset's size (bins, % of all), Hz span and answer, the inverse classification and the cost."""
    converged = "converged" if result.converged else "not converged"
    lines = [
        f"label: {result.label_name} (score {result.score:.3f})",
        f"responsibility: {result.iterations} iterations, {result.responsibility_queries} queries, {converged}",
    ]
    for kind in ("sufficient", "necessary", "complete"):
        subset = result.subsets.get(kind)
        if subset is None:
            lines.append(f"{kind}: not found")
            continue
        if subset.size == 0:
            lines.append(f"{kind}: the empty set (silence alone is classified {result.label_name})")
            continue
        hz = result.hz[subset.bins]
        lines.append(
            f"{kind}: {subset.size} of {result.hz.size} bins ({100 * subset.size / result.hz.size:.2f}%), "
            f"{hz.min():.0f}-{hz.max():.0f} Hz, classified {result.labels[subset.label]} "
            f"(score {subset.score:.3f})"
        )
    if result.inverse_label is not None:
        lines.append(f"clip minus necessary: {result.inverse_label_name} (score {result.inverse_score:.3f})")
    if result.stopped is Status.BUDGET:
        lines.append("stopped early: the query budget ran out")
    lines.append(f"queries: {result.queries} in {result.seconds:.1f} s (model {result.model_seconds:.1f} s)")
    return "\n".join(lines)


def _explain(args: argparse.Namespace) -> int:
    from .explain import explain
    from .targets import HFTarget

    settings: dict[str, Any] = {key: _number(value) for key, value in args.settings}
    CausalDiscovery(**settings)  # check settings before the (slow) model load
    if args.html is not None and not args.html.parent.is_dir():
        raise InvalidInputError(f"--html: cannot write {str(args.html)!r}: no folder {str(args.html.parent)!r}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ClipWarning)
        result = explain(
            HFTarget(args.model), args.clip, seed=args.seed, batch_size=args.batch_size, budget=args.budget,
            progress=not args.quiet, **settings,
        )
    for warning in caught:
        if issubclass(warning.category, ClipWarning):
            print(f"freqrex-bench: warning: {warning.message}", file=sys.stderr)
        else:
            warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)
    if args.html is not None:
        _write_explanation_page(args, result)
    if args.json:
        from .reports.explanation import explanation_json

        print(json.dumps(explanation_json(result, args.clip.name), allow_nan=False))
    else:
        print(summary(result))
    return EXIT_OK


def _write_explanation_page(args: argparse.Namespace, result: CausalResult) -> None:
    """Write `explain --html`'s page: the clip as the model heard it (prepared as `explain` prepares it)."""
    from .data import prepare_clip
    from .reports.explanation import explanation_page

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ClipWarning)  # already reported once
        original = prepare_clip(args.clip, None, result.sample_rate).signal
    page = explanation_page(result, original, args.clip.name, str(args.model))
    try:
        args.html.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError(f"--html: cannot write {str(args.html)!r}: {exc.strerror or exc}") from None
    if not args.json:
        print(f"page: {args.html}", file=sys.stderr)


def _number(value: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def _run(args: argparse.Namespace) -> int:
    from .runner import run_suite
    from .suite import load_suite

    suite = load_suite(args.suite)
    address = args.address or (os.environ.get("RAY_ADDRESS") or None if args.workers != 0 else None)
    outcome = run_suite(suite, args.out, fresh=args.fresh, retry_errors=args.retry_errors, progress=not args.quiet,
                        log=(lambda line: None) if args.quiet else None, workers=args.workers, address=address)
    return _conclude(suite.name, outcome.folder.root, outcome.checks, outcome.errors, args.junit,
                     f"{outcome.new_records} new result(s), {len(outcome.records)} in all")


def _report(args: argparse.Namespace) -> int:
    from .reports import read_run, write_report

    folder, suite, records = read_run(args.run_dir)
    _, checks = write_report(folder, suite, records)
    errors = [f"{r['target']} {r['clip']} {r['strategy']}: {r['error']}" for r in records if not r["ok"]]
    return _conclude(suite.name, folder.root, checks, errors, args.junit, f"{len(records)} result(s)")


def _conclude(name: str, root: Path, checks: list, errors: list[str], junit: Path | None, what: str) -> int:
    from .checks import junit_xml

    for check in checks:
        print(check.message)
    if errors:
        print(f"{len(errors)} piece(s) of work ended in an error (listed in the report); first: {errors[0]}")
    if junit is not None:
        write_junit(junit, junit_xml(name, checks, errors))
    failed = sum(not c.passed for c in checks)
    print(f"{what}; report: {root / 'report.html'}; checks: {len(checks) - failed} passed, {failed} failed")
    return EXIT_FAILED if failed else EXIT_OK


def write_junit(path: Path, xml: str) -> None:
    """Write JUnit `xml` to `path` (UTF-8). Raises InvalidInputError when the file cannot be written."""
    try:
        path.write_text(xml, encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError(f"cannot write the JUnit file {path}: {exc.strerror}") from None


def _compare(args: argparse.Namespace) -> int:
    import json

    from .checks import compare, junit_xml

    def summary_of(path: Path) -> dict:
        file = path / "summary.json" if path.is_dir() else path
        if not file.is_file():
            raise InvalidInputError(f"{path}: no summary.json (expected a run folder or a summary.json file)")
        try:
            return json.loads(file.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InvalidInputError(f"{file} is not a freqrex-bench summary: {exc}") from None

    for value, name in ((args.tolerance, "--tolerance"), (args.snr_tolerance, "--snr-tolerance")):
        if not value >= 0:
            raise InvalidInputError(f"{name} must be >= 0, got {value}")
    outcomes = compare(summary_of(args.base_run), summary_of(args.new_run), args.tolerance, args.snr_tolerance)
    for outcome in outcomes:
        print(outcome.message)
    if args.junit is not None:
        write_junit(args.junit, junit_xml("compare", outcomes, []))
    regressed = sum(not o.passed for o in outcomes)
    print(f"{len(outcomes)} comparison(s), {regressed} regressed")
    return EXIT_FAILED if regressed else EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    from .data import find_clips
    from .plan import build_strategies, model_path
    from .suite import load_suite

    suite = load_suite(args.suite)
    for spec in suite.targets:
        model_path(spec, suite.base)
    clips = find_clips(suite.data, suite.base, suite.seed)
    print(f"{args.suite}: valid; {len(suite.targets)} target(s), {len(clips)} clip(s), "
          f"strategies: {', '.join(s.name for s in build_strategies(suite))}; {len(suite.checks)} check(s); "
          f"run folder {suite.output_folder}")
    return EXIT_OK


COMMANDS = {"explain": _explain, "run": _run, "report": _report, "compare": _compare, "validate": _validate}


def main(argv: Sequence[str] | None = None) -> int:
    """The `freqrex-bench` command on `argv` (default sys.argv[1:]): returns the exit code (module
    docstring). FreqrexError and Ctrl-C become one line on stderr; argparse exits 2 on bad arguments."""
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except FreqrexError as exc:
        print(f"freqrex-bench: error: {exc}", file=sys.stderr)
        return EXIT_INVALID if isinstance(exc, InvalidInputError) else EXIT_FAILED
    except KeyboardInterrupt:
        print("freqrex-bench: interrupted; finished results are kept: run the same command again to resume",
              file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())

"""The `freqrex-bench` command.

Exit codes: 0 success; 1 the work could not finish (the model raised or returned unusable scores, or
the query budget was too small to classify the clip); 2 invalid input
(bad arguments, settings, files). Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .attacks.causal import CausalDiscovery, CausalResult
from .attacks.settings import CausalSettings
from .errors import FreqrexError, InvalidInputError

EXIT_OK, EXIT_MODEL_FAILED, EXIT_INVALID = 0, 1, 2


def _setting(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


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
    explain.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def summary(result: CausalResult) -> str:
    """A few human-readable lines about one explanation."""
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
    if result.stopped == "budget":
        lines.append("stopped early: the query budget ran out")
    lines.append(f"queries: {result.queries} in {result.seconds:.1f} s (model {result.model_seconds:.1f} s)")
    return "\n".join(lines)


def _explain(args: argparse.Namespace) -> int:
    from .explain import explain
    from .targets import HFTarget

    settings = {key: _number(value) for key, value in args.settings}
    CausalDiscovery(**settings)  # check settings before the (slow) model load
    result = explain(
        HFTarget(args.model), args.clip, seed=args.seed, batch_size=args.batch_size, budget=args.budget,
        progress=not args.quiet, **settings,
    )
    print(summary(result))
    return EXIT_OK


def _number(value: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _explain(args)
    except FreqrexError as exc:
        print(f"freqrex-bench: error: {exc}", file=sys.stderr)
        return EXIT_INVALID if isinstance(exc, InvalidInputError) else EXIT_MODEL_FAILED


if __name__ == "__main__":
    sys.exit(main())

"""Habits enforced on every run of the tests: ruff (style, imports, bugbear, docstrings of the public API,
120 characters) and mypy with the pydantic plugin, configured in pyproject.toml."""

import subprocess
import sys

from .support import ROOT


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing():
    result = run("ruff", "check", "--output-format", "concise", "freqrex_bench", "tests", "examples", "benchmarks")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing_in_the_package():
    result = run("mypy", "--no-error-summary", "--cache-dir", str(ROOT / ".mypy_cache"))
    assert result.returncode == 0, result.stdout + result.stderr

"""The freqrex-bench command as a user runs it: real process, real exit codes, no tracebacks."""

import subprocess
import sys

import pytest

from .support import DATA, DEMO_MODEL

CLIP = DATA / "fsdd" / "3_theo_7.wav"


def run(*args):
    return subprocess.run([sys.executable, "-m", "freqrex_bench.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=600, check=False)


def test_explain_prints_a_summary():
    done = run("explain", DEMO_MODEL, CLIP, "--quiet")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("label: three")
    assert any(line.startswith("sufficient: ") and " bins (" in line for line in lines)
    assert lines[-1].startswith("queries: ")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("explain", DEMO_MODEL, CLIP, "--set", "p=1"), 2, "p: Input should be greater than or equal to 2"),
        (("explain", DEMO_MODEL, CLIP, "--set", "bogus=3"), 2, "bogus: unknown key"),
        (("explain", DEMO_MODEL, "missing.wav"), 2, "audio file not found: missing.wav"),
        (("explain", "no-such-folder", CLIP), 2, "no-such-folder is not a Hugging Face model folder"),
        (("explain", DEMO_MODEL, CLIP, "--budget", "1"), 1, "query budget of 1 exhausted"),
    ],
)
def test_errors_are_one_line_with_an_exit_code(args, code, message):
    done = run(*args)
    assert done.returncode == code
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_version():
    done = run("--version")
    assert done.returncode == 0 and done.stdout.startswith("freqrex-bench ")

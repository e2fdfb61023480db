"""The freqrex-bench command as a user runs it: real process, real exit codes, no tracebacks."""

import json
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


def test_explain_writes_a_self_contained_page_and_json_for_scripts(tmp_path):
    page = tmp_path / "three.html"
    done = run("explain", DEMO_MODEL, CLIP, "--quiet", "--json", "--html", page)
    assert done.returncode == 0, done.stderr
    explanation = json.loads(done.stdout)  # stdout is one JSON object and nothing else
    assert explanation["clip"] == CLIP.name and explanation["label"] == "three"
    for kind, subset in explanation["subsets"].items():
        assert len(explanation["bins"][kind]) == subset["size"]
    html = page.read_text(encoding="utf-8")
    assert html.count('<audio controls') == 4  # clip, sufficient, necessary, clip without the necessary bins
    assert html.count('src="data:audio/wav;base64,') == 4 and 'src="data:image/png;base64,' in html
    assert "http" not in html.replace('name="viewport"', "")  # nothing fetched from elsewhere
    assert f"{CLIP.name}: three" in html
    unwritable = run("explain", DEMO_MODEL, CLIP, "--quiet", "--html", tmp_path / "no" / "such" / "page.html")
    assert unwritable.returncode == 2 and "--html: cannot write" in unwritable.stderr


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

"""Running suites end to end: resumable results, error records, checks and exit codes, the report in Chromium."""

import json
import shutil
import signal
import subprocess
import sys
from xml.etree import ElementTree

import numpy as np
import soundfile
import yaml

from freqrex_bench import load_suite, run_suite
from freqrex_bench.cli import main
from freqrex_bench.reports.html import number, rate

from .browser import view_page
from .support import DATA, DEMO_MODEL, ROOT

FSDD = DATA / "fsdd"
TIMINGS = ("seconds", "model_seconds")


def write_suite(folder, **changes):
    """A small real suite: the demo model on three held-out clips, cheap discovery settings."""
    suite = {
        "name": "small",
        "targets": [{"kind": "hf", "name": "fsdd-ast", "path": str(DEMO_MODEL)}],
        "data": {"paths": [str(FSDD / f"{d}_theo_3.wav") for d in (2, 5, 8)], "labels": "prefix",
                 "label_map": {"2": "two", "5": "five", "8": "eight"}},
        "discovery": {"max_queries": 150},
        "strategies": ["causal", "fourier", "random-frequencies", "superposition"],
        **changes,
    }
    path = folder / "suite.yaml"
    path.write_text(yaml.safe_dump(suite))
    return path


def without_timings(value):
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k not in TIMINGS}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def records(run_dir):
    lines = (run_dir / "results.jsonl").read_text().splitlines()
    return sorted((without_timings(json.loads(line)) for line in lines),
                  key=lambda r: (r["target"], r["clip"] or "", r["strategy"]))


def cli(*args, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "freqrex_bench.cli", *map(str, args)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


# Runs the CLI, sending the process `signal` right after its N-th record is written, through run_suite's
# documented `on_record` hook: the interruption lands at a known point, whatever the machine's speed.
INTERRUPTED_CLI = """
import os, signal, sys
from freqrex_bench import runner
from freqrex_bench.cli import main

stop_after, how = int(sys.argv[1]), getattr(signal, sys.argv[2])
written = []
signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, even when pytest runs in the background

def hook(record):
    written.append(record)
    if len(written) == stop_after:
        os.kill(os.getpid(), how)

run_suite = runner.run_suite
runner.run_suite = lambda *args, **kwargs: run_suite(*args, on_record=hook, **kwargs)
sys.exit(main(sys.argv[3:]))
"""


def interrupted_cli(after, how, *args):
    return subprocess.run([sys.executable, "-c", INTERRUPTED_CLI, str(after), how, *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def test_a_run_killed_with_sigkill_resumes_to_the_same_results(tmp_path):
    path = write_suite(tmp_path)
    whole = run_suite(load_suite(path), tmp_path / "whole", progress=False, log=lambda line: None)
    assert whole.new_records == 10 and not whole.errors

    killed = tmp_path / "killed"
    process = interrupted_cli(6, "SIGKILL", "run", path, "--out", killed, "--quiet")
    assert process.returncode == -signal.SIGKILL
    assert len((killed / "results.jsonl").read_bytes().splitlines()) == 6  # every record written before the kill

    resumed = cli("run", path, "--out", killed, "--quiet")
    _out, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err
    assert records(killed) == records(tmp_path / "whole")
    for npy in (tmp_path / "whole" / "adversarial").rglob("*.npy"):
        assert np.array_equal(np.load(npy), np.load(killed / npy.relative_to(tmp_path / "whole")))
    again = run_suite(load_suite(path), killed, progress=False, log=lambda line: None)
    assert again.new_records == 0


def test_ctrl_c_keeps_what_finished_and_says_how_to_resume(tmp_path):
    path = write_suite(tmp_path)
    process = interrupted_cli(3, "SIGINT", "run", path, "--out", tmp_path / "run", "--quiet")
    assert process.returncode == 130
    assert "interrupted; finished results are kept: run the same command again to resume" in process.stderr
    assert "Traceback" not in process.stderr
    kept = [json.loads(line) for line in (tmp_path / "run" / "results.jsonl").read_text().splitlines()]
    assert len(kept) == 3
    outcome = run_suite(load_suite(path), tmp_path / "run", progress=False, log=lambda line: None)
    assert outcome.new_records == 10 - len(kept) and not outcome.errors


def test_a_torn_last_line_is_dropped_and_redone(tmp_path):
    path = write_suite(tmp_path, strategies=["causal"], data={"paths": [str(FSDD / "2_theo_3.wav")]})
    first = run_suite(load_suite(path), tmp_path / "run", progress=False, log=lambda line: None)
    results = tmp_path / "run" / "results.jsonl"
    complete = results.read_text()
    results.write_text(complete[: len(complete) // 2])  # as if killed while writing
    second = run_suite(load_suite(path), tmp_path / "run", progress=False, log=lambda line: None)
    assert second.new_records == 1
    assert records(tmp_path / "run") == without_timings([json.loads(complete)])
    assert first.new_records == 1


def test_a_corrupted_line_before_the_end_is_an_error_not_a_silent_loss(tmp_path, capsys):
    path = write_suite(tmp_path, strategies=["causal", "fourier"], data={"paths": [str(FSDD / "2_theo_3.wav")]})
    assert main(["run", str(path), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    results = tmp_path / "run" / "results.jsonl"
    _, second = results.read_text().splitlines()
    for bad in ("garbage", '{"target": "fsdd-ast"}', "[1, 2]"):
        results.write_text(bad + "\n" + second + "\n")
        assert main(["run", str(path), "--out", str(tmp_path / "run"), "--quiet"]) == 2
        assert "results.jsonl line 1 is not a results record" in capsys.readouterr().err
        assert results.read_text() == bad + "\n" + second + "\n"  # nothing was dropped


def test_the_run_folder_is_checked_before_anything_is_written_or_removed(tmp_path, capsys):
    path = write_suite(tmp_path, strategies=["causal"], data={"paths": [str(FSDD / "2_theo_3.wav")]})
    mine = tmp_path / "mine"
    (mine / "signals").mkdir(parents=True)
    (mine / "signals" / "important.txt").write_text("keep me")
    assert main(["run", str(path), "--out", str(mine), "--fresh", "--quiet"]) == 2
    assert "is not a freqrex-bench run folder" in capsys.readouterr().err
    assert (mine / "signals" / "important.txt").read_text() == "keep me"
    (tmp_path / "a-file").write_text("")
    assert main(["run", str(path), "--out", str(tmp_path / "a-file"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "cannot use" in err and len(err.strip().splitlines()) == 1


def test_a_run_that_failed_before_any_result_does_not_lock_the_folder(tmp_path, capsys):
    wrong = write_suite(tmp_path, strategies=["causal"], data={"paths": [str(FSDD / "2_theo_3.wav")]},
                        targets=[{"kind": "hf", "name": "fsdd-ast", "path": str(FSDD.parent)}])
    assert main(["run", str(wrong), "--out", str(tmp_path / "run"), "--quiet"]) == 2
    assert "targets[fsdd-ast]: " in capsys.readouterr().err
    fixed = write_suite(tmp_path, strategies=["causal"], data={"paths": [str(FSDD / "2_theo_3.wav")]})
    assert main(["run", str(fixed), "--out", str(tmp_path / "run"), "--quiet"]) == 0


def test_a_failing_clip_is_recorded_and_the_suite_goes_on(tmp_path):
    shutil.copy(FSDD / "2_theo_3.wav", tmp_path / "2_good.wav")
    (tmp_path / "3_broken.wav").write_bytes(b"RIFF not really a wav")
    np_silence = np.zeros(4000, dtype=np.float32)
    import soundfile

    soundfile.write(tmp_path / "4_silent.wav", np_silence, 8000)
    path = write_suite(tmp_path, data={"paths": [str(tmp_path)]}, strategies=["causal", "fourier"])
    outcome = run_suite(load_suite(path), tmp_path / "run", progress=False, log=lambda line: None)
    by_clip = {(r["clip"], r["strategy"]): r for r in outcome.records}
    assert by_clip[("2_good.wav", "causal")]["ok"] and by_clip[("2_good.wav", "fourier")]["ok"]
    assert "cannot read" in by_clip[("3_broken.wav", "causal")]["error"]
    assert "clip is silent" in by_clip[("4_silent.wav", "fourier")]["error"]
    assert outcome.summary["targets"]["fsdd-ast"]["errors"] == 4
    assert "4_silent.wav" in (tmp_path / "run" / "report.html").read_text()


def test_checks_decide_the_exit_code_and_junit_lists_them(tmp_path, capsys):
    path = write_suite(tmp_path, strategies=["causal", "fourier"], data={"paths": [str(FSDD / "2_theo_3.wav")]},
                       checks=[{"strategy": "causal", "metric": "error_rate", "max": 0}])
    assert main(["run", str(path), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    strict = write_suite(tmp_path, strategies=["causal", "fourier"], data={"paths": [str(FSDD / "2_theo_3.wav")]},
                         checks=[{"strategy": "fourier", "metric": "mean_queries", "max": 0}])
    junit = tmp_path / "checks.xml"
    assert main(["run", str(strict), "--out", str(tmp_path / "run"), "--quiet", "--junit", str(junit)]) == 1
    out = capsys.readouterr().out
    assert "fsdd-ast/fourier/mean_queries <= 0:" in out and "FAILED" in out and "0 new result(s)" in out
    suite = ElementTree.parse(junit).getroot()
    assert suite.get("failures") == "1" and suite.find("testcase/failure") is not None


def test_compare_fails_when_robustness_regressed(tmp_path, capsys):
    base = {"targets": {"m": {"strategies": {"fourier": {"success_rate": 0.2, "median_snr_db": 20.0}}}}}
    same = tmp_path / "same.json"
    worse = tmp_path / "worse.json"
    (tmp_path / "base.json").write_text(json.dumps(base))
    same.write_text(json.dumps(base))
    base["targets"]["m"]["strategies"]["fourier"] = {"success_rate": 0.5, "median_snr_db": 26.0}
    worse.write_text(json.dumps(base))
    assert main(["compare", str(tmp_path / "base.json"), str(same)]) == 0
    assert main(["compare", str(tmp_path / "base.json"), str(worse)]) == 1
    out = capsys.readouterr().out
    assert "m/fourier/success_rate: 0.2 -> 0.5 REGRESSED by 0.3" in out
    assert "m/fourier/median_snr_db: 20 -> 26 REGRESSED by 6" in out  # attacks got subtler: less robust
    assert main(["compare", str(tmp_path / "base.json"), str(tmp_path / "absent")]) == 2
    renamed = tmp_path / "renamed.json"
    renamed.write_text(json.dumps({"targets": {"other": base["targets"]["m"]}}))
    assert main(["compare", str(tmp_path / "base.json"), str(renamed)]) == 1
    assert "m/fourier: in BASE but not in NEW FAILED" in capsys.readouterr().out
    for broken in ({"no": "targets"}, [1, 2], {"targets": {"m": {"strategies": {"fourier": {"success_rate": "0.9"}}}}}):
        renamed.write_text(json.dumps(broken))
        assert main(["compare", str(tmp_path / "base.json"), str(renamed)]) == 2
        err = capsys.readouterr().err
        assert "NEW is not a freqrex-bench summary" in err and len(err.strip().splitlines()) == 1


def test_a_changed_suite_does_not_silently_mix_with_an_old_run(tmp_path, capsys):
    path = write_suite(tmp_path, strategies=["causal"], data={"paths": [str(FSDD / "2_theo_3.wav")]})
    assert main(["run", str(path), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    faster = write_suite(tmp_path, strategies=["causal"], data={"paths": [str(FSDD / "2_theo_3.wav")]},
                         targets=[{"kind": "hf", "name": "fsdd-ast", "path": str(DEMO_MODEL), "batch_size": 4}])
    assert main(["run", str(faster), "--out", str(tmp_path / "run"), "--quiet"]) == 0  # speed only: resumes
    assert "0 new result(s)" in capsys.readouterr().out
    retrained = tmp_path / "model"
    shutil.copytree(DEMO_MODEL, retrained)
    (retrained / "README.md").write_text("retrained")
    moved = write_suite(tmp_path, strategies=["causal"], data={"paths": [str(FSDD / "2_theo_3.wav")]},
                        targets=[{"kind": "hf", "name": "fsdd-ast", "path": str(retrained)}])
    assert main(["run", str(moved), "--out", str(tmp_path / "run"), "--quiet"]) == 2
    assert "holds a run of a different suite (changed: targets)" in capsys.readouterr().err
    changed = write_suite(tmp_path, strategies=["causal"], data={"paths": [str(FSDD / "2_theo_3.wav")]}, seed=5)
    assert main(["run", str(changed), "--out", str(tmp_path / "run"), "--quiet"]) == 2
    assert "holds a run of a different suite (changed: seed)" in capsys.readouterr().err
    assert main(["run", str(changed), "--out", str(tmp_path / "run"), "--quiet", "--fresh"]) == 0


def test_script_in_a_label_or_file_name_renders_as_text(tmp_path):
    evil = "<script>alert(1)$5^_$"  # also matplotlib mathtext
    shutil.copy(FSDD / "2_theo_3.wav", tmp_path / f"{evil}.wav")
    suite = {
        "name": "escaping", "report": {"title": "<script>alert('title')</script>"},
        "targets": [{"kind": "callable", "name": "loudness", "function": "tests.support:loudness_model",
                     "labels": ["<script>alert('label')</script>", "quiet"], "sample_rate": 8000}],
        "data": {"paths": [str(tmp_path / f"{evil}.wav")]},
        "discovery": {"max_queries": 100},
        "strategies": ["causal", "fourier"],
    }
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(suite))
    outcome = run_suite(load_suite(tmp_path / "suite.yaml"), tmp_path / "run", progress=False, log=lambda line: None)
    assert not outcome.errors
    html = (tmp_path / "run" / "report.html").read_text()
    assert "<script" not in html
    page = view_page(tmp_path / "run" / "report.html")
    assert page.script_count == 0 and not page.console_errors
    assert "<script>alert('label')</script>" in page.text and f"{evil}.wav" in page.text
    assert "<script>alert('title')</script>" in page.text


def test_a_clip_whose_16_bit_copy_flips_is_flagged_in_every_record_and_the_report(tmp_path):
    rate_hz = 8000
    loud = (1.5 * np.sin(2 * np.pi * 440 * np.arange(rate_hz) / rate_hz)).astype(np.float32)
    soundfile.write(tmp_path / "loud.wav", loud, rate_hz, subtype="FLOAT")
    suite = {
        "name": "pcm16", "attacks": {"pcm16_robust": True},
        "targets": [{"kind": "callable", "name": "peak", "function": "tests.support:peak_model",
                     "labels": ["safe", "hot"], "sample_rate": rate_hz}],
        "data": {"paths": ["loud.wav"]},
        "discovery": {"max_queries": 100},
        "strategies": ["causal", "fourier", "random-frequencies", "largest-magnitude", "white-noise"],
    }
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(suite))
    lines = []
    outcome = run_suite(load_suite(tmp_path / "suite.yaml"), tmp_path / "run", progress=False, log=lines.append)
    assert not outcome.errors and len(outcome.records) == 5
    assert any("clip peak 1.5 exceeds full scale" in line and "classified safe, not hot" in line for line in lines)
    for record in outcome.records:
        assert any("16-bit wav is classified safe, not hot" in w for w in record["warnings"]), record["strategy"]
        if record["strategy"] != "causal":
            assert record["record"]["status"] == "pcm16_alone" and not record["record"]["success"]
    figures = outcome.summary["targets"]["peak"]
    assert figures["strategies"]["random-frequencies"]["success_rate"] == 0
    assert figures["strategies"]["random-frequencies"]["statuses"] == {"pcm16_alone": 1}
    page = view_page(tmp_path / "run" / "report.html")
    assert "Clip warnings" in page.text and "clip peak 1.5 exceeds full scale" in page.text
    assert "pcm16_alone 1" in page.text and not page.console_errors


def test_quickstart_end_to_end_with_the_report_in_chromium(tmp_path):
    out = tmp_path / "quickstart"
    run = cli("run", ROOT / "examples" / "quickstart.yaml", "--out", out, "--junit", tmp_path / "junit.xml")
    stdout, stderr = run.communicate(timeout=900)
    assert run.returncode == 0, stderr
    assert "quickstart: 1 target(s) x 10 clip(s)" in stderr and "Traceback" not in stderr
    assert "report: " in stdout and "checks: 2 passed, 0 failed" in stdout
    summary = json.loads((out / "summary.json").read_text())
    figures = summary["targets"]["fsdd-ast"]
    assert len(list((out / "adversarial").rglob("*.npy"))) >= 10

    page = view_page(out / "report.html")
    assert page.console_errors == []
    assert len(page.audio_durations) >= 3 * 4 and all(0.1 < d < 3 for d in page.audio_durations)
    overview, strategies = page.tables[0], page.tables[1]
    assert overview[1][:4] == ["fsdd-ast", "10", rate(figures["accuracy"]), str(figures["errors"])]
    rows = {row[0]: row for row in strategies[1:]}
    for name, s in figures["strategies"].items():
        assert rows[name][2] == rate(s["success_rate"])
        assert rows[name][5] == number(s["median_snr_db"], 1)
        assert rows[name][7] == number(s["mean_queries"], 0)

    rerun = cli("report", out)
    rerun.communicate(timeout=300)
    assert rerun.returncode == 0
    assert json.loads((out / "summary.json").read_text()) == summary

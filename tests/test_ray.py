"""Parallel and distributed runs on Ray: the records of the serial runner, whatever runs them and whatever dies.

One serial run of a small real suite (the demo model on 8 held-out clips, plus a model that raises on two of
them) is the reference; every other run must end with the same records (sorted, without timings) and the same
files. The in-process tests share one local Ray session (starting Ray takes seconds); the two-node
cluster and the command-line tests start their own.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import ray
import yaml

from freqrex_bench import InvalidInputError, load_suite, run_suite
from freqrex_bench.executors.ray import RayExecutor

from .support import DATA, DEMO_MODEL, ROOT, loudness_model
from .test_runner import records, without_timings

FSDD = DATA / "fsdd"
CLIPS = [FSDD / f"{digit}_theo_{take}.wav" for digit in (2, 5, 8, 9) for take in (0, 1)]


FAILS_ON = {2427, 3079}  # samples in 5_theo_0.wav and 9_theo_0.wav


def flaky_model(batch):
    """A model with a bug (a callable target): loudness on most clips, an exception on two of them."""
    if batch.shape[1] in FAILS_ON:
        raise RuntimeError("this model is broken on purpose")
    return loudness_model(batch)


def write_suite(folder, **changes):
    suite = {
        "name": "parallel",
        "targets": [{"kind": "hf", "name": "fsdd-ast", "path": str(DEMO_MODEL)},
                    {"kind": "callable", "name": "flaky", "function": "tests.test_ray:flaky_model",
                     "labels": ["loud", "quiet"], "sample_rate": 8000}],
        "data": {"paths": [str(clip) for clip in CLIPS], "labels": "prefix",
                 "label_map": {"2": "two", "5": "five", "8": "eight", "9": "nine"}},
        "discovery": {"max_queries": 100},
        "strategies": ["causal", "fourier", "superposition"],
        **changes,
    }
    path = folder / "suite.yaml"
    path.write_text(yaml.safe_dump(suite))
    return path


def quiet(line):
    pass


def files(run_dir):
    """Every file the run wrote beside its results, {relative path: bytes}."""
    return {p.relative_to(run_dir).as_posix(): p.read_bytes() for sub in ("adversarial", "explanations", "signals")
            for p in sorted((run_dir / sub).rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    """The reference: the suite run serially, in this process."""
    folder = tmp_path_factory.mktemp("serial")
    path = write_suite(folder)
    outcome = run_suite(load_suite(path), folder / "run", progress=False, log=quiet)
    assert outcome.new_records == 2 * (len(CLIPS) * 2 + 1)
    failed = {(r["target"], r["clip"].rsplit("/", 1)[-1]) for r in outcome.records if not r["ok"]}
    assert failed == {("flaky", "5_theo_0.wav"), ("flaky", "9_theo_0.wav")}  # the model raised: error records
    assert json.loads((folder / "run" / "run.json").read_text())["execution"] == {"executor": "serial", "workers": 1}
    return records(folder / "run"), files(folder / "run")


@pytest.fixture(scope="class")
def ray_session():
    """One local Ray session with 2 CPUs, shared by a class of tests (run_suite uses it, and leaves it up)."""
    ray.init(num_cpus=2, include_dashboard=False)
    yield
    ray.shutdown()


@pytest.mark.usefixtures("ray_session")
class TestOneMachine:
    """Two worker processes on this machine, in one Ray session shared by these tests."""

    def test_two_workers_write_the_serial_records_and_files(self, serial, tmp_path):
        path = write_suite(tmp_path, execution={"workers": 2})  # the suite's key chooses Ray
        written, lines = [], []
        outcome = run_suite(load_suite(path), tmp_path / "run", progress=True, log=lines.append,
                            on_record=written.append)
        assert records(tmp_path / "run") == serial[0]
        assert files(tmp_path / "run") == serial[1]
        assert len(written) == outcome.new_records == len(serial[0])  # the on_record hook sees every record
        info = json.loads((tmp_path / "run" / "run.json").read_text())
        assert info["execution"] == {"executor": "ray", "workers": 2, "address": "local", "ray": ray.__version__}
        assert "in 2 worker(s) on a local Ray" in lines[0]
        assert sum(line.startswith("[") for line in lines) == 2 * len(CLIPS)  # progress covers every job
        assert any(line.startswith("ray: 18 job(s) on 2 worker(s), 1 node(s)") for line in lines)
        again = run_suite(load_suite(path), tmp_path / "run", progress=False, log=quiet)
        assert again.new_records == 0

    def test_a_worker_killed_mid_job_costs_a_retry_not_a_record(self, serial, tmp_path):
        executor = RayExecutor(workers=2)
        killed = []

        def kill_a_busy_worker(record):
            if not killed:
                pid, job = next((pid, job) for pid, job in executor.running().items() if job.target == "fsdd-ast")
                os.kill(pid, signal.SIGKILL)
                killed.append((pid, f"{job.target} {job.clip.id}"))

        run_suite(load_suite(write_suite(tmp_path)), tmp_path / "run", progress=False, log=quiet, executor=executor,
                  on_record=kill_a_busy_worker)
        (pid, job), = killed
        assert pid in executor.pids
        assert [t.pid for t in executor.timings if t.job == job] != [pid]  # a new worker process ran it again
        assert not any("WorkerLost" in str(r.get("error")) for r in map(json.loads, open(tmp_path / "run" /
                                                                                       "results.jsonl")))
        assert records(tmp_path / "run") == serial[0]
        assert files(tmp_path / "run") == serial[1]

    def test_cuda_fails_clearly_on_a_machine_without_a_gpu(self, tmp_path):
        targets = [{"kind": "hf", "name": "fsdd-ast", "path": str(DEMO_MODEL), "device": "cuda"}]
        suite = load_suite(write_suite(tmp_path, targets=targets))
        with pytest.raises(InvalidInputError, match=r"targets\[fsdd-ast\]: device 'cuda': torch .* sees no CUDA GPU"):
            run_suite(suite, tmp_path / "serial", progress=False, log=quiet)
        with pytest.raises(InvalidInputError, match=r"targets\[fsdd-ast\]\.device: 'cuda' needs a GPU, but the Ray "
                                                    r"cluster has none"):
            run_suite(suite, tmp_path / "ray", progress=False, log=quiet, workers=2)


def test_two_nodes_give_the_same_records(serial, tmp_path):
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        cluster.add_node(num_cpus=1)
        executor = RayExecutor(workers=2, address=cluster.address)
        run_suite(load_suite(write_suite(tmp_path)), tmp_path / "run", progress=False, log=quiet, executor=executor)
    finally:
        ray.shutdown()
        cluster.shutdown()
    assert len({t.node for t in executor.timings}) == 2  # both nodes ran jobs
    assert records(tmp_path / "run") == serial[0]
    assert files(tmp_path / "run") == serial[1]  # only the driver wrote the run folder


# The command line, interrupted right after its N-th record through run_suite's `on_record` hook; it first
# writes the ids of its descendant processes (Ray's and the workers) to a file.
INTERRUPTED_CLI = """
import json, os, signal, sys
from freqrex_bench import runner
from freqrex_bench.cli import main

stop_after, how, pids = int(sys.argv[1]), getattr(signal, sys.argv[2]), sys.argv[3]
written = []
signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, even when pytest runs in the background

def tree(root):
    children = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as stat:
                children.setdefault(int(stat.read().rsplit(")", 1)[1].split()[1]), []).append(int(entry))
        except OSError:
            pass
    found, todo = [], [root]
    while todo:
        kids = children.get(todo.pop(), [])
        found += kids
        todo += kids
    return found

def hook(record):
    written.append(record)
    if len(written) == stop_after:
        with open(pids, "w") as file:
            json.dump(tree(os.getpid()), file)
        os.kill(os.getpid(), how)

run_suite = runner.run_suite
runner.run_suite = lambda *args, **kwargs: run_suite(*args, on_record=hook, **kwargs)
sys.exit(main(sys.argv[4:]))
"""


def interrupted_cli(after, how, pids, *args):
    return subprocess.run([sys.executable, "-c", INTERRUPTED_CLI, str(after), how, str(pids), *map(str, args)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)


def alive(pid):
    """Whether a process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def gone(pids, deadline_s=60.0):
    """Wait (at most `deadline_s`) until none of `pids` is alive; the ones still alive."""
    end = time.monotonic() + deadline_s
    while any(alive(pid) for pid in pids) and time.monotonic() < end:
        time.sleep(0.5)
    return [pid for pid in pids if alive(pid)]


def test_ctrl_c_stops_every_worker_and_keeps_what_finished(serial, tmp_path):
    path, pids = write_suite(tmp_path), tmp_path / "pids.json"
    process = interrupted_cli(3, "SIGINT", pids, "run", path, "--out", tmp_path / "run", "--quiet", "--workers", "2")
    assert process.returncode == 130, process.stderr
    assert "interrupted; finished results are kept: run the same command again to resume" in process.stderr
    assert "Traceback" not in process.stderr
    assert len((tmp_path / "run" / "results.jsonl").read_text().splitlines()) == 3
    started = json.loads(pids.read_text())
    assert len(started) >= 3  # Ray's own processes and the two workers
    assert gone(started) == []  # every Ray process the run started has stopped
    kept = [json.loads(line) for line in (tmp_path / "run" / "results.jsonl").read_text().splitlines()]
    assert all(record in serial[0] for record in map(without_timings, kept))  # finished records, as the serial run


def test_killing_the_driver_and_running_again_resumes_to_the_same_records(serial, tmp_path):
    path, pids = write_suite(tmp_path), tmp_path / "pids.json"
    process = interrupted_cli(4, "SIGKILL", pids, "run", path, "--out", tmp_path / "run", "--quiet", "--workers", "2")
    assert process.returncode == -signal.SIGKILL
    assert len((tmp_path / "run" / "results.jsonl").read_text().splitlines()) == 4
    workers = [pid for pid in json.loads(pids.read_text()) if alive(pid) and
               open(f"/proc/{pid}/cmdline", "rb").read().startswith(b"ray::Worker")]
    assert gone(workers) == []  # the workers die with their driver
    resumed = subprocess.run([sys.executable, "-m", "freqrex_bench.cli", "run", str(path), "--out",
                              str(tmp_path / "run"), "--quiet", "--workers", "2"],
                             cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(serial[0]) - 4} new result(s), {len(serial[0])} in all" in resumed.stdout
    assert records(tmp_path / "run") == serial[0]
    assert files(tmp_path / "run") == serial[1]


# The command line in a Python where `import ray` fails, as where the extra is not installed.
WITHOUT_RAY = "import sys; sys.modules['ray'] = None; from freqrex_bench.cli import main; sys.exit(main(sys.argv[1:]))"


def test_without_ray_a_parallel_run_is_one_line_naming_the_extra_and_serial_runs_need_none(tmp_path):
    one_clip = {"paths": [str(CLIPS[0])]}
    path = write_suite(tmp_path, targets=[{"kind": "hf", "name": "fsdd-ast", "path": str(DEMO_MODEL)}],
                       data=one_clip, strategies=["causal", "fourier"], execution={"workers": 2})

    def without_ray(*args):
        return subprocess.run([sys.executable, "-c", WITHOUT_RAY, *map(str, args)], cwd=ROOT, capture_output=True,
                              text=True, timeout=600)

    for flags in ((), ("--workers", "2"), ("--address", "localhost:6379")):
        process = without_ray("run", path, "--out", tmp_path / "run", "--quiet", *flags)
        assert process.returncode == 2
        assert process.stderr.splitlines() == [
            "freqrex-bench: error: parallel and distributed runs (--workers, --address, RAY_ADDRESS, "
            "execution.workers) need the Python package 'ray'; install it with: pip install 'freqrex-bench[ray]'"]
        assert not (tmp_path / "run").exists()  # refused before anything was written
    process = without_ray("run", path, "--out", tmp_path / "run", "--quiet", "--workers", "0")  # the flag wins
    assert process.returncode == 0, process.stderr
    assert json.loads((tmp_path / "run" / "run.json").read_text())["execution"]["executor"] == "serial"

"""The repository stands alone: what a fresh clone runs needs nothing outside it."""

import subprocess

from .support import ROOT

# Written in two pieces so this file does not match itself.
OUTSIDE = "../" + "shared"
ALLOWED = {"examples/train_demo_model.py"}  # a maintainer's training script, with --data for everyone else


def tracked_files():
    """The files git tracks; outside a git checkout (an unpacked source archive), every file but hidden
    folders, virtual environments and run folders."""
    listing = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True)
    if listing.returncode == 0:
        return [name for name in listing.stdout.decode().split("\0") if name]
    skipped = {".git", ".venv", ".tox", "runs", "__pycache__", ".pytest_cache"}
    return [path.relative_to(ROOT).as_posix() for path in ROOT.rglob("*")
            if path.is_file() and not skipped & set(path.relative_to(ROOT).parts)]


def test_no_tracked_file_reaches_outside_the_repository():
    files = tracked_files()
    assert "tests/data/README.md" in files  # the bundled test data is tracked, with its licences
    offending = []
    for name in files:
        if name in ALLOWED:
            continue
        data = (ROOT / name).read_bytes()
        if OUTSIDE.encode() in data:
            offending.append(name)
    assert not offending, f"these tracked files refer to {OUTSIDE}, which a user's clone lacks: {offending}"


def test_the_bundled_recordings_are_attributed():
    readme = (ROOT / "tests" / "data" / "README.md").read_text(encoding="utf-8")
    for wav in sorted((ROOT / "tests" / "data").rglob("*.wav")):
        assert f"`{wav.name}`" in readme, f"{wav.name} is not listed with its source and licence"
    assert "CC BY-SA 4.0" in readme and "CC BY 4.0" in readme

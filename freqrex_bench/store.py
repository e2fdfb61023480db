"""A run folder: where every file of a run lives, and the append-only results log that makes runs resumable.

Each finished (target, clip, strategy) is one JSON line in `results.jsonl`, flushed and fsynced before
the next piece of work starts, so Ctrl-C or SIGKILL loses nothing that had finished. A line cut short
by a kill is dropped (and cut off the file) when the run is resumed. Every path the run writes is built
from `safe_stem`, so no model label, clip name or suite value can place a file outside the folder.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InvalidInputError
from .files import fresh_path, safe_stem
from .serialization import jsonable

RESULTS, RUN_INFO, SUMMARY, REPORT = "results.jsonl", "run.json", "summary.json", "report.html"
FOLDERS = ("adversarial", "explanations", "signals")

Key = tuple[str, str | None, str]
RECORD_KEYS = {"target", "clip", "strategy", "ok"}


def record_key(record: dict[str, Any]) -> Key:
    """What a results line is about: (target, clip id or None for cross-clip work, strategy)."""
    return record["target"], record["clip"], record["strategy"]


@dataclass(frozen=True)
class RunFolder:
    """The files of one run, all inside `root`: results.jsonl, run.json, summary.json, report.html and the
    sub-folders in FOLDERS."""

    root: Path

    @property
    def results(self) -> Path:
        """The results log, `root/results.jsonl`."""
        return self.root / RESULTS

    @property
    def info(self) -> Path:
        """The run's provenance, `root/run.json`."""
        return self.root / RUN_INFO

    @property
    def summary(self) -> Path:
        """The run's numbers, `root/summary.json`."""
        return self.root / SUMMARY

    @property
    def report(self) -> Path:
        """The HTML report, `root/report.html`."""
        return self.root / REPORT

    def file(self, folder: str, target: str, name: str, suffix: str) -> Path:
        """A file for one target's clip in one of FOLDERS, e.g. explanations/<target>/<clip>.npz, with
        safe_stem names, its folder made and any link at it removed. ValueError for another folder."""
        if folder not in FOLDERS:
            raise ValueError(f"unknown run sub-folder {folder!r}")
        return fresh_path(self.root / folder / safe_stem(target) / f"{safe_stem(name)}{suffix}")

    def relative(self, path: Path) -> str:
        """`path` (inside `root`) relative to `root`, in posix form, as records store it."""
        return path.relative_to(self.root).as_posix()

    def start(self, info: dict[str, Any], fresh: bool) -> list[dict[str, Any]]:
        """Create the folder (cleared first when `fresh`), or check that the results already in it were
        made by the same suite (equal `info["fingerprint"]`), then write run.json; returns those results
        (see `load`). Raises InvalidInputError when the folder cannot be made or used, or holds results
        of a different suite (naming the changed keys), or a bad results line."""
        if fresh:
            self.clear()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidInputError(f"cannot use {self.root} as the run folder: {exc.strerror}") from None
        if not self.root.is_dir():
            raise InvalidInputError(f"cannot use {self.root} as the run folder: it is not a folder")
        records = self.load()
        if self.info.is_file() and records:  # a run.json with no results yet binds nothing
            before = json.loads(self.info.read_text(encoding="utf-8"))
            if before.get("fingerprint") != info["fingerprint"]:
                old_parts = before.get("fingerprint_parts", {})
                changed = sorted(k for k, v in info["fingerprint_parts"].items() if old_parts.get(k) != v)
                raise InvalidInputError(
                    f"{self.root} holds a run of a different suite (changed: {', '.join(changed) or 'settings'}); "
                    "pass --fresh to start it over or --out for another folder"
                )
            info = {**info, "started": before.get("started", info.get("started"))}
        _write_atomic(self.info, json.dumps(jsonable(info), indent=2))
        return records

    def clear(self) -> None:
        """Remove what a run writes (only those files and folders), and only from a folder that holds a
        run (its run.json), so --fresh can never wipe a folder that merely has a `signals/` in it. Raises
        InvalidInputError for a folder without run.json that holds such files."""
        if not self.root.exists():
            return
        if not self.info.is_file():
            ours = [name for name in (RESULTS, SUMMARY, REPORT, *FOLDERS) if (self.root / name).exists()]
            if ours:
                raise InvalidInputError(
                    f"{self.root} is not a freqrex-bench run folder (no {RUN_INFO}) but holds {', '.join(ours)}; "
                    "refusing to clear it: choose another --out"
                )
            return
        for name in (RESULTS, RUN_INFO, SUMMARY, REPORT):
            (self.root / name).unlink(missing_ok=True)
        for name in FOLDERS:
            path = self.root / name
            if path.is_symlink():
                path.unlink()
            elif path.is_dir():
                shutil.rmtree(path)

    def load(self) -> list[dict[str, Any]]:
        """Every results line, as dicts. A torn last line (a kill mid-write: no newline yet) is cut off the
        file; a bad complete line raises InvalidInputError naming it, never silently dropped with the
        good lines after it."""
        if not self.results.is_file():
            return []
        raw = self.results.read_bytes()
        complete, newline, torn = raw.rpartition(b"\n")
        records = [self._parse(line, number) for number, line in enumerate(complete.split(b"\n"), 1)] if newline else []
        if torn:
            with self.results.open("r+b") as handle:
                handle.truncate(len(complete) + len(newline))
        return records

    def _parse(self, line: bytes, number: int) -> dict[str, Any]:
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            record = None
        if not isinstance(record, dict) or not RECORD_KEYS <= record.keys():
            raise InvalidInputError(f"{self.results} line {number} is not a results record; fix or remove that "
                                    "line, or pass --fresh to start over")
        return record

    def append(self, records: list[dict[str, Any]]) -> None:
        """Append finished records durably: written, flushed and fsynced before returning."""
        text = "".join(json.dumps(jsonable(r), allow_nan=False, separators=(",", ":")) + "\n" for r in records)
        with self.results.open("a", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())

    def write_text(self, path: Path, text: str) -> None:
        """Write UTF-8 `text` to `path` atomically (a temporary file, then a rename)."""
        _write_atomic(path, text)


def _write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a reader never sees half a file."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def latest(records: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """One record per key, the last one written (a retried error replaces the earlier line)."""
    by_key: dict[Key, dict[str, Any]] = {}
    for record in records:
        by_key[record_key(record)] = record
    return iter(by_key.values())

"""What run.json records about a run: the suite as validated, its fingerprint (which decides whether a
run folder may be resumed), the model hashes, the clips, the software that ran it, and how it executed
(serial, or Ray with its worker count and version: not part of the fingerprint, since it changes no
result)."""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import datetime, timezone
from importlib import metadata
from typing import Any

from .plan import Plan
from .suite import Suite
from .version import __version__

# Suite keys whose change changes results; a run folder only resumes a run with the same ones.
RESULT_KEYS = ("seed", "targets", "data", "discovery", "attacks", "strategies")
PACKAGES = ("freqrex-bench", "numpy", "scipy", "torch", "transformers", "onnxruntime", "ai-edge-litert", "soundfile",
            "soxr", "audiomentations", "adversarial-robustness-toolbox", "ray")


def fingerprint_parts(suite: Suite, hashes: dict[str, str | None]) -> dict[str, str]:
    """A 16-hex-digit hash per suite key whose change changes results (batch size, which changes only
    speed, is left out, and so is `device: cpu`, the default, so runs from before the key existed resume;
    each model's contents are in). A run folder resumes only a run with equal parts."""
    dumped = suite.model_dump(mode="json")
    parts = {key: dumped[key] for key in RESULT_KEYS}
    parts["targets"] = [{**{k: v for k, v in t.items() if k != "batch_size" and (k, v) != ("device", "cpu")},
                         "sha256": hashes[t["name"]]} for t in parts["targets"]]
    listed = {spec.name: spec.settings.model_dump(mode="json") for spec in suite.strategies}
    parts["strategies"] = sorted({"causal": {}, **listed}.items())  # order and listing causal change nothing
    return {key: hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]
            for key, value in parts.items()}


def run_info(plan: Plan, execution: dict[str, Any] | None = None) -> dict[str, Any]:
    """run.json: the suite as validated, its fingerprint, package versions, model hashes, the clips, and
    `execution` (executors.Executor.describe(): executor, workers, for Ray its version and address;
    default serial, 1 worker). A resumed run records its own execution."""
    suite = plan.suite
    parts = fingerprint_parts(suite, plan.hashes)
    return {
        "suite": suite.model_dump(mode="json"), "base": str(suite.base), "fingerprint_parts": parts,
        "fingerprint": hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest(),
        "models": plan.hashes, "clips": [c.id for c in plan.clips],
        "versions": {name: _version(name) for name in PACKAGES}, "python": sys.version.split()[0],
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"), "freqrex_bench": __version__,
        "execution": execution or {"executor": "serial", "workers": 1},
    }


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None

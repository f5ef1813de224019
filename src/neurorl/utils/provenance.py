"""What produced a result: package versions, git revision, machine. Stored with every run and checkpoint."""

from __future__ import annotations

import functools
import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path

_PACKAGES = ("neurorl", "jax", "jaxlib", "flax", "optax", "numpy", "gymnax", "gymnasium")


@functools.lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


@functools.lru_cache(maxsize=1)
def git_revision() -> str | None:
    """The git commit of the source tree neurorl is imported from (None outside a checkout)."""
    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here, capture_output=True, text=True, timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if rev.returncode != 0:
        return None
    return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def machine_description() -> str:
    """One line for benchmark tables: CPU model, cores, accelerator."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    devices = "cpu"
    try:
        import jax

        devices = ", ".join(sorted({d.device_kind for d in jax.devices()}))
    except Exception:  # pragma: no cover - jax always importable in practice
        pass
    return f"{cpu}, {os.cpu_count()} cores, jax devices: {devices}"


def provenance() -> dict:
    return {"versions": package_versions(), "git_revision": git_revision(), "machine": machine_description()}

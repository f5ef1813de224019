"""JAX's persistent compilation cache, turned on for this process (one helper for every caller).

A later process that compiles the same programs loads them from disk instead (the sweep's jobs of
equal shapes, repeated reproductions, the hippocampus experiment's ~7 s of compilation). Only
share a cache between machines with the same CPU and JAX version; the cache is trusted code (JAX docs).
``default_cache_dir()`` therefore keys the per-user cache by CPU model, CPU flags and JAX version.
"""

from __future__ import annotations

import hashlib
import os
import platform
from pathlib import Path


def _cpu_signature() -> str:
    """CPU model name and feature flags (Linux /proc/cpuinfo; elsewhere what ``platform`` knows)."""
    model = flags = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and not model:
                    model = value.strip()
                elif key in ("flags", "Features") and not flags:
                    flags = " ".join(sorted(value.split()))
                if model and flags:
                    break
    except OSError:
        pass
    return f"{platform.machine()}|{model or platform.processor()}|{flags}"


def default_cache_dir() -> Path:
    """``$NEURORL_CACHE/xla/<key>`` (default ``~/.cache/neurorl``): one folder per CPU (model and
    feature flags) and jax/jaxlib version, so a home directory shared by different machines never
    hands one machine another's compiled code."""
    import jax
    import jaxlib

    base = Path(os.environ.get("NEURORL_CACHE", Path.home() / ".cache" / "neurorl"))
    key = hashlib.sha256(f"{_cpu_signature()}|jax {jax.__version__}|jaxlib {jaxlib.__version__}".encode()).hexdigest()
    return base / "xla" / key[:16]


def use_compilation_cache(path: str | Path | None, min_compile_seconds: float | None = None) -> None:
    """Persist compiled XLA programs in ``path`` (call before the first compilation). A cache the user
    set already (``JAX_COMPILATION_CACHE_DIR``) is kept. ``min_compile_seconds``: also cache programs
    that compile faster than JAX's default threshold (1 s)."""
    import jax

    if path and not jax.config.jax_compilation_cache_dir:
        Path(path).mkdir(parents=True, exist_ok=True)
        jax.config.update("jax_compilation_cache_dir", str(path))
    if min_compile_seconds is not None:
        jax.config.update("jax_persistent_cache_min_compile_time_secs", float(min_compile_seconds))


def resolve_cache_option(value: str | None) -> Path | None:
    """A command's ``--compile-cache`` value: 'auto' (or empty) = ``default_cache_dir()``, 'off' = no
    persistent cache, anything else = that directory."""
    if value is None or value.strip() in ("", "auto"):
        return default_cache_dir()
    if value.strip().lower() in ("off", "no", "none", "false", "0"):
        return None
    return Path(value).expanduser()

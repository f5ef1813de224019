"""JAX's persistent compilation cache, turned on for this process (one helper for every caller).

A later process that compiles the same programs loads them from disk instead (the sweep's jobs of
equal shapes, repeated reproductions, the hippocampus experiment's ~10 CPU-s of compilation). Only
share a cache between machines with the same CPU and JAX version; the cache is trusted code (JAX docs).
"""

from __future__ import annotations

from pathlib import Path


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

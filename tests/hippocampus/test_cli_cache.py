"""`neurorl reproduce hippocampus-recall` keeps its compiled programs in the per-user cache by default."""

import json
import os
import subprocess
import sys
from pathlib import Path

from neurorl.utils.compile_cache import _cpu_signature, default_cache_dir, resolve_cache_option


def test_cache_option_values(tmp_path, monkeypatch):
    monkeypatch.setenv("NEURORL_CACHE", str(tmp_path))
    auto = resolve_cache_option("auto")
    assert auto == default_cache_dir() and auto.parent == tmp_path / "xla"
    assert resolve_cache_option(None) == auto and resolve_cache_option("") == auto
    assert resolve_cache_option("off") is None and resolve_cache_option("OFF") is None
    assert resolve_cache_option(str(tmp_path / "mine")) == tmp_path / "mine"


def test_default_cache_dir_is_keyed_by_cpu_and_jax(tmp_path, monkeypatch):
    import neurorl.utils.compile_cache as cc

    monkeypatch.setenv("NEURORL_CACHE", str(tmp_path))
    here = default_cache_dir()
    assert here == default_cache_dir()  # stable on one machine
    assert "|" in _cpu_signature()
    monkeypatch.setattr(cc, "_cpu_signature", lambda: "another|cpu|avx2")
    assert default_cache_dir() != here and default_cache_dir().parent == here.parent


def _reproduce(out: Path, cache: Path) -> dict:
    env = {**os.environ, "NEURORL_CACHE": str(cache), "JAX_COMPILATION_CACHE_DIR": ""}
    cmd = [sys.executable, "-m", "neurorl.cli", "reproduce", "hippocampus-recall", "--networks", "1", "--epochs", "1",
           "--max-patterns", "4", "--out", str(out), "--json"]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    return json.loads(res.stdout[res.stdout.index("{"):])


def test_second_run_loads_every_program_from_the_cache(tmp_path):
    cache = tmp_path / "cache"
    first = _reproduce(tmp_path / "a", cache)
    entries = sorted(p.name for p in cache.rglob("*") if p.is_file())
    assert entries, "the default run wrote no compiled programs to $NEURORL_CACHE/xla"
    programs = {_program(name) for name in entries}
    # the expensive programs (train and test schedules, ~7 s of compilation) are cached by the first run
    assert {"jit__train_schedule", "jit_test_schedule"} <= programs, entries
    second = _reproduce(tmp_path / "b", cache)
    after = sorted(p.name for p in cache.rglob("*") if p.is_file())
    # every program the first run cached is loaded, not compiled and written again. A program whose compile
    # time sits at the caching threshold (0.5 s) may be written by the second run only: that is a late
    # first write, not a miss, so entries may be added but none of the first run's programs may recur.
    assert set(entries) <= set(after)
    assert not {_program(name) for name in set(after) - set(entries)} & programs, (entries, after)
    assert first["grids"] == second["grids"]


def _program(entry: str) -> str:
    """'jit__train_schedule-<hash>-cache' -> 'jit__train_schedule'."""
    return entry.rsplit("-", 2)[0]

"""Named hippocampus models held by one server: per-model locks, persistence under ``--state-dir``.

Concurrency rule: every operation on a model holds that model's own lock and nothing else, so
clients on different models never wait for each other. A request that finds its model busy (a
training job, or another request mid-way) gets 409 at once instead of queueing (``wait=False``);
the legacy endpoints queue instead (``wait=True``), as the original server's single mutex did
(hippocampus.md §1.1). Every model change is written atomically to the state folder after it
succeeds, so a failed request never leaves a half-changed model on disk or in memory.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from neurorl.server.errors import BadRequest, Conflict, NotFound, TooMany
from neurorl.server.hip_backend import HipBackend
from neurorl.server.schemas import PATTERN_SHAPE
from neurorl.utils.atomic import atomic_write_json, save_npz_atomic

MODEL_FILE = "model.ckpt"
META_FILE = "meta.json"
PATTERNS_FILE = "patterns.npz"


@dataclass
class ModelEntry:
    name: str
    backend: HipBackend
    lock: threading.Lock = field(default_factory=threading.Lock)
    job_id: str | None = None
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    extra: dict = field(default_factory=dict)  # legacy endpoints: the Input column and shape (legacy.py)

    def info(self) -> dict[str, Any]:
        b = self.backend
        return {"name": self.name, "seed": b.seed, "legacy": b.legacy, "num_patterns": int(len(b.patterns)),
                "pattern_shape": list(PATTERN_SHAPE), "trained_epochs": int(b.trained_epochs),
                "busy": self.lock.locked(), "job_id": self.job_id, "created": self.created, "updated": self.updated}


class ModelRegistry:
    def __init__(self, create: Callable[[int, bool], HipBackend], load: Callable[[Path, dict], HipBackend],
                 state_dir: Path | None = None, max_models: int = 100):
        self._create, self._load = create, load
        self.state_dir = Path(state_dir) if state_dir is not None else None
        self.max_models = max_models
        self._models: dict[str, ModelEntry] = {}
        self._lock = threading.Lock()  # guards the dict only, never held during model work

    # ---------------------------------------------------------------- lookup and lifetime
    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._models)

    def get(self, name: str) -> ModelEntry:
        with self._lock:
            entry = self._models.get(name)
        if entry is None:
            raise NotFound(f"no model named {name!r}; create it with POST /v1/models (existing: {self.names()[:20]})")
        return entry

    def create(self, name: str, seed: int = 0, legacy: bool = False, *, exist_ok: bool = False) -> ModelEntry:
        with self._lock:
            if name in self._models:
                if exist_ok:
                    return self._models[name]
                raise Conflict(f"a model named {name!r} already exists; DELETE /v1/models/{name} first or pick another name")
            if len(self._models) >= self.max_models:
                raise TooMany(f"this server holds at most {self.max_models} models (--max-models); delete one first")
            placeholder = ModelEntry(name=name, backend=None)  # reserve the name while building
            placeholder.lock.acquire()
            self._models[name] = placeholder
        try:
            placeholder.backend = self._create(seed, legacy)
            self.persist(placeholder)
        except BaseException:
            with self._lock:
                del self._models[name]
            raise
        finally:
            placeholder.lock.release()
        return placeholder

    def delete(self, name: str) -> None:
        entry = self.get(name)
        if not entry.lock.acquire(blocking=False):
            raise Conflict(self._busy_message(entry))
        try:
            with self._lock:
                self._models.pop(name, None)
            if self.state_dir is not None:
                shutil.rmtree(self._dir(name), ignore_errors=True)
        finally:
            entry.lock.release()

    @contextlib.contextmanager
    def use(self, name: str, *, wait: bool = False, timeout: float = 600.0) -> Iterator[ModelEntry]:
        """Hold ``name``'s lock for one request: 409 at once when busy (or after ``timeout`` when waiting)."""
        entry = self.get(name)
        ok = entry.lock.acquire(timeout=timeout) if wait else entry.lock.acquire(blocking=False)
        if not ok:
            raise Conflict(self._busy_message(entry))
        try:
            if self.get_or_none(name) is not entry:
                raise NotFound(f"model {name!r} was deleted")
            yield entry
        finally:
            entry.lock.release()

    def acquire(self, name: str) -> ModelEntry:
        """Take ``name``'s lock for a background job (released by the job); 409 when busy."""
        entry = self.get(name)
        if not entry.lock.acquire(blocking=False):
            raise Conflict(self._busy_message(entry))
        return entry

    def get_or_none(self, name: str) -> ModelEntry | None:
        with self._lock:
            return self._models.get(name)

    @staticmethod
    def _busy_message(entry: ModelEntry) -> str:
        if entry.job_id:
            return (f"model {entry.name!r} is busy with job {entry.job_id} (GET /v1/jobs/{entry.job_id} for its "
                    "status, DELETE to cancel); retry when it has finished")
        return f"model {entry.name!r} is busy with another request; retry shortly"

    def __len__(self) -> int:
        with self._lock:
            return len(self._models)

    # ---------------------------------------------------------------- persistence
    def _dir(self, name: str) -> Path:
        assert self.state_dir is not None
        return self.state_dir / "models" / name

    def persist(self, entry: ModelEntry) -> None:
        """Write the model, its patterns and metadata atomically (no-op without a state folder)."""
        entry.updated = time.time()
        if self.state_dir is None:
            return
        d = self._dir(entry.name)
        d.mkdir(parents=True, exist_ok=True)
        entry.backend.save(d / MODEL_FILE)
        save_npz_atomic(d / PATTERNS_FILE, patterns=entry.backend.patterns)
        atomic_write_json(d / META_FILE, {"name": entry.name, "seed": entry.backend.seed, "legacy": entry.backend.legacy,
                                          "trained_epochs": entry.backend.trained_epochs, "created": entry.created,
                                          "updated": entry.updated})

    def load_all(self) -> list[str]:
        """Serve again every model saved in the state folder; returns the names (bad folders are skipped)."""
        import json

        if self.state_dir is None or not (self.state_dir / "models").is_dir():
            return []
        loaded = []
        for d in sorted((self.state_dir / "models").iterdir()):
            meta_path = d / META_FILE
            if not meta_path.exists() or not (d / MODEL_FILE).exists():
                continue
            try:
                meta = json.loads(meta_path.read_text())
                with np.load(d / PATTERNS_FILE) as z:
                    meta["patterns"] = z["patterns"]
                backend = self._load(d / MODEL_FILE, meta)
            except Exception as e:  # one broken folder must not stop the others
                print(f"neurorl serve: skipping unreadable model folder {d}: {type(e).__name__}: {e}")
                continue
            entry = ModelEntry(name=meta["name"], backend=backend, created=meta.get("created", time.time()),
                               updated=meta.get("updated", time.time()))
            with self._lock:
                self._models[entry.name] = entry
            loaded.append(entry.name)
        return loaded


def check_loadable_name(name: str) -> None:
    if "/" in name or name in (".", ".."):
        raise BadRequest(f"bad model name {name!r}")

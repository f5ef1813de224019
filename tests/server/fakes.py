"""A stand-in hippocampus backend for the server-mechanics tests (locks, jobs, persistence, limits).

It recalls the stored pattern that overlaps the cue most (a perfect pattern completer), so each
model's answers depend only on its own patterns: cross-talk between models would show. Training
sleeps a little per epoch so jobs can be observed running and cancelled.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from neurorl.utils.atomic import atomic_write_bytes


class FakeHippocampus:
    epoch_seconds = 0.05

    def __init__(self, seed: int = 0, legacy: bool = False):
        self.seed, self.legacy, self.trained_epochs = int(seed), bool(legacy), 0
        self._patterns = np.zeros((0, 144), np.float32)
        self.inputs = self._patterns

    @property
    def patterns(self):
        return self._patterns

    def set_patterns(self, inputs, targets=None):
        self.inputs = np.asarray(inputs, np.float32).reshape(-1, 144)
        self._patterns = np.asarray(inputs if targets is None else targets, np.float32).reshape(-1, 144)
        self.trained_epochs = 0

    def train(self, max_runs, max_epochs, should_stop, on_epoch):
        done = 0
        for _ in range(max_runs * max_epochs):
            if should_stop():
                break
            time.sleep(self.epoch_seconds)
            done += 1
            self.trained_epochs += 1
            on_epoch(done)
        return {"epochs": done}

    def test(self, cue, target=None):
        cue = np.asarray(cue, np.float32).reshape(144)
        if self.trained_epochs == 0 or len(self._patterns) == 0:
            return cue * 0.6  # untrained: echoes the cue, weakly
        i = int(np.argmax(self.inputs @ cue))
        return self._patterns[i] * 0.9

    def save(self, path: Path):
        buf = json.dumps({"seed": self.seed, "legacy": self.legacy, "epochs": self.trained_epochs,
                          "patterns": self._patterns.tolist(), "inputs": self.inputs.tolist()}).encode()
        atomic_write_bytes(path, buf)

    @classmethod
    def load(cls, path: Path, meta: dict):
        d = json.loads(Path(path).read_text())
        self = cls(d["seed"], d["legacy"])
        self.trained_epochs = d["epochs"]
        self._patterns = np.asarray(d["patterns"], np.float32).reshape(-1, 144)
        self.inputs = np.asarray(d["inputs"], np.float32).reshape(-1, 144)
        return self


def fake_config(**kw):
    from neurorl.server.app import ServerConfig

    return ServerConfig(backend_create=lambda seed, legacy: FakeHippocampus(seed, legacy),
                        backend_load=FakeHippocampus.load, **kw)

"""What the server needs from a hippocampus model, and the adapter to ``neurorl.hippocampus``.

The server talks to a model only through :class:`HipBackend`, so the HTTP layer (locks, jobs,
persistence, wire formats) is independent of the model's internals. Read-outs that the original
server computed itself (nearest stored pattern, Step rewards) live here too, written from
../shared/reference/hippocampus.md §1.2-1.3.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from neurorl.server.schemas import PATTERN_SHAPE, PATTERN_SIZE


class HipBackend(Protocol):
    seed: int
    legacy: bool
    trained_epochs: int

    @property
    def patterns(self) -> np.ndarray: ...  # [N, 144] float32: the stored (ECout) patterns

    def set_patterns(self, inputs: np.ndarray, targets: np.ndarray | None = None) -> None: ...

    def train(self, max_runs: int, max_epochs: int, should_stop: Callable[[], bool],
              on_epoch: Callable[[int], None]) -> dict: ...

    def test(self, cue: np.ndarray, target: np.ndarray | None = None) -> np.ndarray: ...  # [144] ECout ActM

    def save(self, path: Path) -> None: ...


# ------------------------------------------------------------------ read-outs (hippocampus.md §1.2)
def round_half_up(x: np.ndarray) -> np.ndarray:
    """|round(x)| with Go's math.Round (half away from zero), as CalculateError does (§1.2 step 2)."""
    return np.floor(np.abs(np.asarray(x, np.float64)) + 0.5)


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mismatch count |round(a_i)| != |round(b_i)| over the last axis (§1.2 step 2)."""
    return (round_half_up(a) != round_half_up(b)).sum(-1)


def closest_pattern(recall: np.ndarray, patterns: np.ndarray) -> tuple[int, int]:
    """(index, distance) of the stored pattern nearest the recall; ties go to the earliest row (strict <, §1.2)."""
    if len(patterns) == 0:
        raise ValueError("the model holds no training patterns; set patterns first")
    d = hamming(np.asarray(recall)[None, :], np.asarray(patterns).reshape(len(patterns), -1))
    i = int(np.argmin(d))  # argmin returns the first minimum, the same as the strict < scan
    return i, int(d[i])


def as_patterns(a, *, what: str = "patterns", binary: bool = True) -> np.ndarray:
    """Validate a batch of EC patterns of any shape (N, 144) or (N, 6, 2, 3, 4); returns float32 (N, 144)."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 0 or a.size == 0:
        raise ValueError(f"{what}: expected a non-empty array of patterns of {PATTERN_SIZE} units, got shape {a.shape}")
    if a.ndim >= 2 and a.shape[1:] in ((PATTERN_SIZE,), PATTERN_SHAPE):
        flat = a.reshape(a.shape[0], PATTERN_SIZE)
    else:
        raise ValueError(f"{what}: expected shape (N, {PATTERN_SIZE}) or (N, 6, 2, 3, 4), got {a.shape}")
    if not np.isfinite(flat).all():
        raise ValueError(f"{what}: values must be finite (found NaN or infinity)")
    if binary and not np.isin(flat, (0.0, 1.0)).all():
        raise ValueError(f"{what}: values must be binary (0 or 1)")
    return flat.astype(np.float32)


# ------------------------------------------------------------------ the neurorl.hippocampus adapter
def hippocampus_available() -> bool:
    try:
        from neurorl.hippocampus import HippocampusModel  # noqa: F401
    except Exception:
        return False
    return True


class NeurorlHippocampus:
    """:class:`HipBackend` over ``neurorl.hippocampus.HippocampusModel``."""

    def __init__(self, model, seed: int, legacy: bool):
        self.model = model
        self.seed = int(seed)
        self.legacy = bool(legacy)
        self.trained_epochs = 0
        self._patterns = np.zeros((0, PATTERN_SIZE), np.float32)

    @classmethod
    def create(cls, seed: int, legacy: bool) -> "NeurorlHippocampus":
        from neurorl.hippocampus import HippocampusModel, HippocampusParams

        return cls(HippocampusModel(HippocampusParams(legacy=legacy), seed=seed), seed, legacy)

    @classmethod
    def load(cls, path: Path, meta: dict) -> "NeurorlHippocampus":
        from neurorl.hippocampus import HippocampusModel

        model = HippocampusModel.load(path)
        self = cls(model, meta.get("seed", 0), meta.get("legacy", False))
        self.trained_epochs = int(meta.get("trained_epochs", 0))
        self._patterns = np.asarray(model.patterns if getattr(model, "patterns", None) is not None
                                    else meta.get("patterns", []), np.float32).reshape(-1, PATTERN_SIZE)
        return self

    @property
    def patterns(self) -> np.ndarray:
        return self._patterns

    def set_patterns(self, inputs: np.ndarray, targets: np.ndarray | None = None) -> None:
        targets = inputs if targets is None else targets
        self.model.set_patterns(np.asarray(inputs, np.float32).reshape((-1,) + PATTERN_SHAPE),
                                np.asarray(targets, np.float32).reshape((-1,) + PATTERN_SHAPE))
        self._patterns = np.asarray(targets, np.float32).reshape(-1, PATTERN_SIZE)
        self.trained_epochs = 0

    def train(self, max_runs, max_epochs, should_stop, on_epoch) -> dict:
        res = self.model.train(max_runs=max_runs, max_epochs=max_epochs, should_stop=should_stop, on_epoch=on_epoch)
        self.trained_epochs = int(getattr(res, "epochs", max_epochs) if not isinstance(res, dict) else res.get("epochs", max_epochs))
        return res if isinstance(res, dict) else {"epochs": self.trained_epochs}

    def test(self, cue, target=None) -> np.ndarray:
        out = self.model.test(np.asarray(cue, np.float32).reshape(PATTERN_SHAPE),
                              None if target is None else np.asarray(target, np.float32).reshape(PATTERN_SHAPE))
        return np.asarray(out, np.float32).reshape(PATTERN_SIZE)

    def save(self, path: Path) -> None:
        self.model.save(path)


# ------------------------------------------------------------------ adapter over the model core
def _trial(net, ext_in, targ, train: bool, p):
    """One jitted theta-phase trial. The server calls it per trial rather than scanning a whole epoch:
    one compilation then serves every pattern count (a scan would recompile for each list length,
    tens of seconds while the model's lock is held), and a trial (~75-100 Leabra cycles of the whole
    network) costs far more than the dispatch of one call."""
    from neurorl.hippocampus.dynamics import trial_jit

    return trial_jit(net, ext_in, targ, train=train, p=p)


class CoreHippocampus:
    """:class:`HipBackend` over ``neurorl.hippocampus`` core functions (``init_net`` + theta-phase ``trial``).

    * weights: ``init_net(jax.random.key(seed), params)``; run ``r > 0`` of a multi-run training starts
      from fresh weights (``fold_in(key, r)``), as each Leabra run does;
    * an epoch is one training trial per stored pattern in a fresh random order (env.FixedTable, §2.6);
    * ``legacy``: the 2020 quirks (§1.6) of the core's ``legacy=True`` plus the stale-Mem early stop
      (quirk 1: stop after an epoch whose last training trial had Mem = 1) and tests that change the
      network (quirk 3).
    """

    def __init__(self, seed: int = 0, legacy: bool = False):
        import jax

        from neurorl.hippocampus.network import init_net
        from neurorl.hippocampus.params import HippocampusParams

        self.seed, self.legacy, self.trained_epochs = int(seed), bool(legacy), 0
        self.params = HippocampusParams(legacy=self.legacy)
        self.net = init_net(jax.random.key(self.seed), self.params)
        self._rng = np.random.default_rng(self.seed)
        self._patterns = np.zeros((0, PATTERN_SIZE), np.float32)
        self._inputs = self._patterns

    @property
    def patterns(self) -> np.ndarray:
        return self._patterns

    def set_patterns(self, inputs, targets=None) -> None:
        self._inputs = np.asarray(inputs, np.float32).reshape(-1, PATTERN_SIZE)
        self._patterns = np.asarray(inputs if targets is None else targets, np.float32).reshape(-1, PATTERN_SIZE)
        self.trained_epochs = 0

    def train(self, max_runs, max_epochs, should_stop, on_epoch) -> dict:
        import jax

        from neurorl.hippocampus.network import init_net

        n = len(self._patterns)
        if n == 0:
            raise ValueError("no patterns to train on")
        done, stopped_early, cancelled = 0, False, False
        for run in range(max_runs):
            if run > 0:
                self.net = init_net(jax.random.fold_in(jax.random.key(self.seed), run), self.params)
                self.trained_epochs = 0
            for _ in range(max_epochs):
                if should_stop():
                    cancelled = True
                    break
                order = self._rng.permutation(n)  # a fresh order every epoch (env.FixedTable, §2.6)
                for i in order:
                    self.net, out = _trial(self.net, self._inputs[i], self._patterns[i], True, self.params)
                done += 1
                self.trained_epochs += 1
                on_epoch(done)
                if self.legacy and float(out.mem.mem_all) == 1.0:  # quirk 1: NZeroStop=1 on the stale Mem
                    stopped_early = True
                    break
            if cancelled:
                break
        return {"epochs": done, "stopped_early": stopped_early, "cancelled": cancelled}

    def test(self, cue, target=None) -> np.ndarray:
        cue = np.asarray(cue, np.float32).reshape(PATTERN_SIZE)
        target = cue if target is None else np.asarray(target, np.float32).reshape(PATTERN_SIZE)
        net, out = _trial(self.net, cue, target, False, self.params)
        if self.legacy:
            self.net = net  # quirk 3: 2020 test trials change the network
        return np.asarray(out.recall, np.float32)

    def save(self, path: Path) -> None:
        import jax

        from neurorl.utils.checkpoint import save_checkpoint

        leaves = jax.tree_util.tree_leaves(self.net)
        save_checkpoint(path, {str(i): np.asarray(x) for i, x in enumerate(leaves)},
                        {"seed": self.seed, "legacy": self.legacy, "trained_epochs": self.trained_epochs,
                         "num_leaves": len(leaves), "rng": self._rng.bit_generator.state,
                         "inputs": self._inputs.tolist()})

    @classmethod
    def load(cls, path: Path, meta: dict | None = None) -> "CoreHippocampus":
        import jax
        import jax.numpy as jnp

        from neurorl.utils.checkpoint import load_checkpoint

        tree, m = load_checkpoint(path)
        self = cls(m["seed"], m["legacy"])
        leaves, treedef = jax.tree_util.tree_flatten(self.net)
        if m.get("num_leaves") != len(leaves):
            raise ValueError(f"{path}: checkpoint holds {m.get('num_leaves')} arrays, this model version expects {len(leaves)}")
        new = [jnp.asarray(tree[str(i)], dtype=l.dtype).reshape(l.shape) for i, l in enumerate(leaves)]
        self.net = jax.tree_util.tree_unflatten(treedef, new)
        self.trained_epochs = int(m.get("trained_epochs", 0))
        self._rng.bit_generator.state = m["rng"]
        self._inputs = np.asarray(m.get("inputs", []), np.float32).reshape(-1, PATTERN_SIZE)
        pats = (meta or {}).get("patterns")
        self._patterns = (np.asarray(pats, np.float32).reshape(-1, PATTERN_SIZE) if pats is not None
                          else self._inputs.copy())
        if len(self._inputs) != len(self._patterns):
            self._inputs = self._patterns.copy()
        return self

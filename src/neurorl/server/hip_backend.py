"""What the server needs from a hippocampus model, and the backend over ``neurorl.hippocampus``.

The server talks to a model only through :class:`HipBackend`, so the HTTP layer (locks, jobs,
persistence, wire formats) is independent of the model's internals.

Why the server steps the model core itself instead of holding ``HippocampusModel`` objects:
``HippocampusModel.train`` compiles one program per list length (minutes on a loaded 2-core
machine, for every new pattern count, while the model is locked), cannot be cancelled or report
progress, and ``test`` pads every call to a chunk of 20 items (about 4x the cost of one trial).
:class:`CoreHippocampus` draws the same initial networks and epoch orders from the same seed and
runs the same theta-phase trial, one jitted call per trial; ``tests/server/test_real_model.py``
checks that its recalls agree with ``HippocampusModel``'s. Read-outs that the original
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


# ------------------------------------------------------------------ adapter over the model core
def _trial(net, ext_in, targ, train: bool, p):
    """One jitted theta-phase trial. The server calls it per trial rather than scanning a whole epoch:
    one compilation then serves every pattern count (a scan would recompile for each list length,
    tens of seconds while the model's lock is held), and a trial (~75-100 Leabra cycles of the whole
    network) costs far more than the dispatch of one call."""
    from neurorl.hippocampus.dynamics import trial_jit

    return trial_jit(net, ext_in, targ, train=train, p=p)


def _fresh_net(seed: int, run: int, runs: int, p):
    """Run ``run``'s initial weights, drawn exactly as ``HippocampusModel.train`` draws them
    (``init_nets(split(PRNGKey(seed), runs))``), so the two give the same networks."""
    import jax

    from neurorl.hippocampus.network import init_nets

    nets = init_nets(jax.random.split(jax.random.PRNGKey(seed), runs), p)
    return jax.tree_util.tree_map(lambda x: x[run], nets)


class CoreHippocampus:
    """:class:`HipBackend` over ``neurorl.hippocampus`` core functions (``init_net`` + theta-phase ``trial``).

    * weights: drawn as ``HippocampusModel`` draws them (same seed, same networks); every run of a
      multi-run training starts from fresh weights, as each Leabra run does, and the last run is kept;
    * epoch orders: ``np.random.default_rng(seed).permutation`` per epoch, as ``HippocampusModel``;
    * an epoch is one training trial per stored pattern in a fresh random order (env.FixedTable, §2.6);
    * ``legacy``: the 2020 quirks (§1.6) of the core's ``legacy=True`` plus the stale-Mem early stop
      (quirk 1: stop after an epoch whose last training trial had Mem = 1) and tests that change the
      network (quirk 3).
    """

    def __init__(self, seed: int = 0, legacy: bool = False):
        from neurorl.hippocampus.params import HippocampusParams

        self.seed, self.legacy, self.trained_epochs = int(seed), bool(legacy), 0
        self.params = HippocampusParams(legacy=self.legacy)
        self.net = _fresh_net(self.seed, 0, 1, self.params)
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
        n = len(self._patterns)
        if n == 0:
            raise ValueError("no patterns to train on")
        done, stopped_early, cancelled = 0, False, False
        for run in range(max_runs):
            if run > 0:
                self.net = _fresh_net(self.seed, run, max_runs, self.params)
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

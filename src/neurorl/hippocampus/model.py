"""``HippocampusModel``: the object users (and the HTTP server) hold.

It replaces spolcyn's Go server + Python client (../shared/reference/hippocampus.md §1.2-§1.4):
``set_patterns`` (PUT /dataset/train/update), ``train`` (POST /model/train), ``test``
(POST /model/testpattern) and ``step`` (HipAPI.Step), plus ``save``/``load``.

Each instance owns its state and a lock: one instance may be shared between threads (calls are
serialised, like the original server's mutex); separate instances never share mutable state.
"""

from __future__ import annotations

import math
import os
import threading
import time
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from neurorl.hippocampus.experiment import hamming_rounded, nearest_pattern
from neurorl.hippocampus.network import Net
from neurorl.hippocampus.params import EC_N, EC_SHAPE, HippocampusParams
from neurorl.hippocampus.runner import Job, epoch_orders, test_items, test_sequential, train_jobs

_CHUNK = 20  # test items per compiled call: one compiled program serves every test/step size


class HippocampusError(ValueError):
    """Bad input or a call in the wrong state (e.g. testing before training)."""


def _as_patterns(patterns: Any, what: str = "patterns") -> np.ndarray:
    """Validate and flatten a list/array of patterns to [N, 144] float32."""
    try:
        arr = np.asarray(patterns, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise HippocampusError(f"{what} must be numeric arrays: {e}") from None
    if arr.size == 0:
        raise HippocampusError(f"{what} is empty: give at least one pattern of {EC_N} values (shape {EC_SHAPE})")
    if arr.ndim >= 2 and math.prod(arr.shape[1:]) == EC_N:
        flat = arr.reshape(arr.shape[0], EC_N)
    elif arr.size == EC_N:
        flat = arr.reshape(1, EC_N)
    else:
        raise HippocampusError(
            f"{what} has shape {arr.shape}; each pattern must have {EC_N} values (e.g. shape {EC_SHAPE} "
            f"or ({EC_N},)), stacked along the first axis")
    _check_values(flat, what)
    return flat.astype(np.float32)


def _as_pattern(x: Any, what: str) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise HippocampusError(f"{what} must be a numeric array: {e}") from None
    if arr.size != EC_N:
        raise HippocampusError(f"{what} has shape {arr.shape} ({arr.size} values); expected {EC_N} values, e.g. shape {EC_SHAPE}")
    flat = arr.reshape(EC_N)
    _check_values(flat[None], what)
    return flat.astype(np.float32)


def _check_values(arr: np.ndarray, what: str) -> None:
    if not np.all(np.isfinite(arr)):
        raise HippocampusError(f"{what} contains NaN or infinite values; expected values in [0, 1]")
    if arr.min() < 0.0 or arr.max() > 1.0:
        raise HippocampusError(f"{what} has values in [{arr.min():g}, {arr.max():g}]; expected values in [0, 1]")


class HippocampusModel:
    """The Leabra hip model with spolcyn's interface, natively in JAX.

    ``engine="reference"`` (default) runs dynamics.trial exactly as the HTTP server's backend does, so
    in-process and served results are the same numbers; ``engine="fast"`` (or "auto") uses fast.py,
    the engine of the recall experiment, which agrees with it to float rounding per trial (over many
    trials the two drift apart as any two float orderings do, tests/hippocampus/test_fast.py).

    >>> m = HippocampusModel(seed=0)
    >>> m.set_patterns(patterns)            # [N, 6, 2, 3, 4] or [N, 144], binary or in [0, 1]
    >>> m.train(epochs=5, runs=1)           # fresh weights, then training; returns timing and stats
    >>> m.test(cue, target)                 # recall, distance to target, nearest stored pattern, Mem
    >>> m.step(cues, targets, repeats=1)    # mean reward per cue (144 - Hamming distance)
    """

    def __init__(self, params: HippocampusParams | None = None, seed: int = 0, engine: str = "reference"):
        from neurorl.hippocampus.runner import ENGINES

        if engine not in ENGINES:
            raise HippocampusError(f"engine must be one of {ENGINES}, got {engine!r}")
        self.engine = engine
        if params is None:
            params = HippocampusParams()
        if not isinstance(params, HippocampusParams):
            raise HippocampusError(f"params must be a HippocampusParams, got {type(params).__name__}")
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
            raise HippocampusError(f"seed must be a non-negative int, got {seed!r}")
        self.params = params
        self.seed = int(seed)
        self._lock = threading.RLock()
        self._patterns: np.ndarray | None = None
        self._pattern_shape: tuple = EC_SHAPE
        self._nets: Net | None = None
        self._runs = 0
        self._epochs_trained = 0

    # ---- state -------------------------------------------------------------------------------
    @property
    def patterns(self) -> np.ndarray | None:
        with self._lock:
            return None if self._patterns is None else self._patterns.reshape((-1,) + self._pattern_shape).copy()

    @property
    def trained(self) -> bool:
        return self._nets is not None

    @property
    def runs(self) -> int:
        return self._runs

    def set_patterns(self, patterns: Any) -> int:
        """Store the training patterns (also the candidates of the nearest-pattern test).

        Like the original's dataset update, this discards any trained network. Returns N."""
        flat = _as_patterns(patterns)
        arr = np.asarray(patterns)
        shape = tuple(arr.shape[1:]) if arr.ndim >= 2 and math.prod(arr.shape[1:]) == EC_N else tuple(arr.shape)
        with self._lock:
            self._patterns = flat
            self._pattern_shape = shape if shape else EC_SHAPE
            self._nets = None
            self._runs = 0
            self._epochs_trained = 0
        return flat.shape[0]

    # ---- training ----------------------------------------------------------------------------
    def train(self, epochs: int = 5, runs: int = 1) -> dict:
        """Fresh networks (``runs`` of them, independent, trained at once), then ``epochs`` epochs
        over the stored patterns in a new random order each epoch. Deterministic given the seed.

        Returns ``{"seconds", "epochs", "runs", "epoch_stats": [per epoch: mem, trg_on_was_off,
        trg_off_was_on, activity {layer: mean ActM}]}`` averaged over runs."""
        for name, v in (("epochs", epochs), ("runs", runs)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
                raise HippocampusError(f"{name} must be an int >= 1, got {v!r}")
        with self._lock:
            if self._patterns is None:
                raise HippocampusError("no patterns: call set_patterns(patterns) before train()")
            t0 = time.perf_counter()
            rng = np.random.default_rng(self.seed)
            jobs = [Job(self._patterns, epoch_orders(rng, self._patterns.shape[0], int(epochs))) for _ in range(runs)]
            keys = jax.random.split(jax.random.PRNGKey(self.seed), int(runs))
            nets, stats = train_jobs(jobs, keys, self.params, pair=False, engine=self.engine)
            jax.block_until_ready(nets)
            self._nets, self._runs, self._epochs_trained = nets, int(runs), int(epochs)
            seconds = time.perf_counter() - t0
        per_epoch = []
        for e in range(int(epochs)):
            row = {k: float(np.nanmean([s[k][e] for s in stats])) for k in ("mem", "trg_on_was_off", "trg_off_was_on")}
            row["activity"] = {k[4:]: float(np.nanmean([s[k][e] for s in stats]))
                               for k in stats[0] if k.startswith("act_") and not k.startswith("act_m_avg_")}
            row["epoch"] = e + 1
            row["stopped_early"] = bool(np.all([np.isnan(s["mem"][e]) for s in stats]))
            per_epoch.append(row)
        return {"seconds": seconds, "epochs": int(epochs), "runs": int(runs), "epoch_stats": per_epoch}

    # ---- testing -----------------------------------------------------------------------------
    def _check_run(self, run: int) -> None:
        if self._nets is None:
            raise HippocampusError("the model is not trained: call set_patterns(...) and train(...) before testing")
        if not isinstance(run, (int, np.integer)) or isinstance(run, bool) or not 0 <= run < self._runs:
            raise HippocampusError(f"run must be an int in [0, {self._runs}), got {run!r}")

    def _recall(self, cues: np.ndarray, targets: np.ndarray, run: int):
        """ECout ActM recalls and test stats for [M, 144] cues on network ``run``."""
        m = cues.shape[0]
        if self.params.legacy:
            pad = (-m) % _CHUNK
            c = np.concatenate([cues, np.zeros((pad, EC_N), np.float32)])[None]
            t = np.concatenate([targets, np.zeros((pad, EC_N), np.float32)])[None]
            valid = (np.arange(m + pad) < m)[None]
            one = jax.tree_util.tree_map(lambda x: x[run: run + 1], self._nets)
            new, out = test_sequential(one, jnp.asarray(c), jnp.asarray(t), jnp.asarray(valid), self.params)
            self._nets = jax.tree_util.tree_map(lambda a, b: a.at[run: run + 1].set(b), self._nets, new)  # quirk 3
            return jax.tree_util.tree_map(lambda x: np.asarray(x)[0, :m], out)
        out = test_items(self._nets, np.full(m, run), cues, targets, self.params, chunk=_CHUNK, group=1,
                         engine=self.engine)
        return jax.tree_util.tree_map(np.asarray, out)

    def test(self, cue: Any, target: Any = None, run: int = 0) -> dict:
        """One test trial (no learning; the network is unchanged unless legacy=True).

        Returns ``recall`` (ECout minus-phase activity, shaped like the patterns), ``distance``
        (Hamming distance of the rounded recall to ``target``; None without target),
        ``closest_index``/``closest_pattern``/``closest_distance`` (nearest stored pattern, ties to
        the lowest index, as the original server) and ``mem`` (the model's Mem statistics)."""
        c = _as_pattern(cue, "cue")
        t = _as_pattern(target, "target") if target is not None else None
        with self._lock:
            self._check_run(run)
            out = self._recall(c[None], (t if t is not None else c)[None], run)
            pats = self._patterns
        recall = out.recall[0]
        idx, dmin = nearest_pattern(recall, pats)
        return {
            "recall": recall.reshape(self._pattern_shape),
            "distance": int(hamming_rounded(recall, t[None])[0]) if t is not None else None,
            "closest_index": int(idx),
            "closest_pattern": pats[int(idx)].reshape(self._pattern_shape).copy(),
            "closest_distance": int(dmin),
            "mem": {
                "mem": float(out.mem[0]) if t is not None else None,
                "trg_on_was_off": float(out.trg_on_was_off[0]) if t is not None else None,
                "trg_off_was_on": float(out.trg_off_was_on[0]) if t is not None else None,
                "completion_units": int(out.cmp_n[0]) if t is not None else None,
            },
        }

    def step(self, cues: Any, targets: Any, repeats: int = 1, run: int = 0) -> np.ndarray:
        """Test every cue ``repeats`` times; return the mean reward per cue, where reward =
        pattern size - Hamming distance of the rounded recall to that cue's target (the corrected
        v1 ``Step``; with legacy=True the distance is to the nearest stored pattern, as the original)."""
        c = _as_patterns(cues, "cues")
        t = _as_patterns(targets, "targets")
        if c.shape[0] != t.shape[0]:
            raise HippocampusError(f"got {c.shape[0]} cues but {t.shape[0]} targets; give one target per cue")
        if not isinstance(repeats, (int, np.integer)) or isinstance(repeats, bool) or repeats < 1:
            raise HippocampusError(f"repeats must be an int >= 1, got {repeats!r}")
        with self._lock:
            self._check_run(run)
            n_rep = repeats if self.params.legacy else 1  # tests are deterministic unless legacy
            rewards = np.zeros((n_rep, c.shape[0]))
            for r in range(n_rep):
                out = self._recall(c, t, run)
                if self.params.legacy:
                    _, d = nearest_pattern(out.recall, self._patterns)
                else:
                    d = ((out.recall >= 0.5) != (t >= 0.5)).sum(-1)
                rewards[r] = EC_N - d
        return rewards.mean(0)

    # ---- persistence -------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write patterns, trained networks and parameters atomically to one checkpoint file."""
        import dataclasses

        from neurorl.utils.checkpoint import save_checkpoint

        with self._lock:
            tree = {"patterns": self._patterns if self._patterns is not None else np.zeros((0, EC_N), np.float32)}
            if self._nets is not None:
                tree["nets"] = self._nets
            meta = {"kind": "neurorl.hippocampus", "params": dataclasses.asdict(self.params), "seed": self.seed,
                    "pattern_shape": list(self._pattern_shape), "runs": self._runs, "epochs": self._epochs_trained}
            return save_checkpoint(path, tree, meta)

    def load(self, path: str | os.PathLike) -> "HippocampusModel":
        """Replace this model's state by a checkpoint written with ``save``. Returns self."""
        from neurorl.utils.checkpoint import load_checkpoint

        tree, meta = load_checkpoint(path)
        if meta.get("kind") != "neurorl.hippocampus":
            raise HippocampusError(f"{path} is not a hippocampus model checkpoint (kind={meta.get('kind')!r})")
        params = params_from_dict(meta["params"])
        nets = None
        if "nets" in tree:
            from neurorl.hippocampus.network import init_nets

            template = init_nets(jax.random.split(jax.random.PRNGKey(0), int(meta["runs"])), params)
            from flax import serialization

            nets = jax.tree_util.tree_map(jnp.asarray, serialization.from_state_dict(template, tree["nets"]))
        pats = np.asarray(tree["patterns"], np.float32)
        with self._lock:
            self.params, self.seed = params, int(meta["seed"])
            self._patterns = pats if pats.shape[0] else None
            self._pattern_shape = tuple(meta["pattern_shape"])
            self._nets, self._runs, self._epochs_trained = nets, int(meta["runs"]), int(meta["epochs"])
        return self

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike) -> "HippocampusModel":
        return cls().load(path)


def params_from_dict(d: dict) -> HippocampusParams:
    """Rebuild nested frozen params from ``dataclasses.asdict`` output."""
    import dataclasses

    from neurorl.hippocampus import params as P

    sub = {"nxx1": P.NXX1Params, "act": P.ActParams, "inhib": P.InhibParams, "avg": P.AvgParams, "learn": P.LearnParams}
    kw = {}
    names = {f.name for f in dataclasses.fields(HippocampusParams)}
    for k, v in d.items():
        if k not in names:
            raise HippocampusError(f"unknown parameter {k!r} in checkpoint")
        kw[k] = sub[k](**v) if k in sub else v
    return HippocampusParams(**kw)

"""The two experiments: spolcyn's recall-vs-corruption grid and the AB-AC paired-associate lists.

Sources: ../shared/reference/hippocampus.md §1.4 (demo experiment), §1.5 (published tables),
§2.6-§2.7 (AB-AC lists and schedule), §5 (reference numbers).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import jax
import numpy as np

from neurorl.hippocampus.params import EC_N, EC_POOL_SIZE, EC_POOLS, HippocampusParams
from neurorl.hippocampus.runner import Job, epoch_orders, precompile_tests, test_items, test_sequential, train_jobs

RATIOS = tuple(float(r) for r in np.linspace(0, 1, 10, endpoint=False))
LIST_SIZES = tuple(range(2, 21, 2))

# §1.5: published grids (rows n = 2..20, columns r = 0.0..0.9), digitized, +-0.03
PUBLISHED_2_EPOCHS = np.array([
    [1.00, 1.00, 1.00, 1.00, 1.00, 1.00, 1.00, 1.00, 1.00, 1.00],
    [1.00, 1.00, 1.00, 1.00, 1.00, 0.95, 0.90, 0.85, 0.83, 0.63],
    [0.84, 0.87, 0.85, 0.84, 0.87, 0.82, 0.80, 0.80, 0.77, 0.68],
    [1.00, 1.00, 1.00, 0.93, 0.94, 0.91, 0.85, 0.79, 0.69, 0.59],
    [1.00, 0.99, 1.00, 0.98, 0.98, 0.94, 0.76, 0.70, 0.48, 0.47],
    [0.92, 0.92, 0.91, 0.89, 0.79, 0.68, 0.59, 0.56, 0.46, 0.38],
    [0.86, 0.90, 0.88, 0.87, 0.83, 0.72, 0.60, 0.54, 0.38, 0.29],
    [1.00, 0.99, 0.98, 0.95, 0.93, 0.81, 0.75, 0.69, 0.45, 0.35],
    [0.97, 0.96, 0.98, 0.92, 0.88, 0.73, 0.65, 0.51, 0.45, 0.38],
    [0.97, 0.95, 0.93, 0.90, 0.87, 0.75, 0.61, 0.52, 0.41, 0.28],
])
PUBLISHED_5_EPOCHS = np.array([
    [1, 1, 1, 1, 1, 1, 1, 1, 0.90, 1.00],
    [1, 1, 1, 1, 1, 1, 1, 1, 0.88, 0.93],
    [1, 1, 1, 1, 1, 1, 0.99, 0.97, 0.85, 0.68],
    [1, 1, 1, 1, 1, 1, 0.96, 0.96, 0.82, 0.61],
    [1, 1, 1, 1, 1, 0.99, 0.95, 0.93, 0.65, 0.65],
    [1, 1, 1, 1, 1, 0.98, 0.92, 0.78, 0.68, 0.59],
    [1, 1, 0.99, 1, 0.98, 0.95, 0.92, 0.83, 0.78, 0.52],
    [1, 1, 1, 1, 1, 0.96, 0.88, 0.82, 0.67, 0.49],
    [1, 1, 1, 1, 1, 0.97, 0.87, 0.85, 0.72, 0.45],
    [1, 1, 0.99, 0.97, 0.96, 0.87, 0.84, 0.69, 0.61, 0.46],
])
PUBLISHED = {2: PUBLISHED_2_EPOCHS, 5: PUBLISHED_5_EPOCHS}

# §1.5 / §5: activity sanity ranges (Hip_Base_epc.csv, ED4) and the targets
ACTIVITY_RANGES = {"dg": (0.01, 0.03), "ca3": (0.02, 0.12), "ecin": (0.20, 0.26), "ca1": (0.04, 0.12)}


# ---- patterns and cues (§1.4) ----------------------------------------------------------------------
def random_patterns(rng: np.random.Generator, n: int, sparsity: float = 0.75) -> np.ndarray:
    """spolcyn's patterns: ones(144) with the first int(144*sparsity) set to 0, then shuffled (36 on)."""
    out = np.ones((n, EC_N), np.float32)
    out[:, : int(EC_N * sparsity)] = 0.0
    for row in out:
        rng.shuffle(row)
    return out


def corrupt_structured(pattern: np.ndarray, ratio: float) -> np.ndarray:
    """spolcyn's CorruptPattern: turn off the first int(sum(p)*r) active units in C order (§1.4)."""
    flat = np.asarray(pattern, np.float32).reshape(-1).copy()
    k = int(flat.sum() * ratio)
    on = np.flatnonzero(flat > 0)
    flat[on[:k]] = 0.0
    return flat.reshape(np.shape(pattern))


def corrupt_random(rng: np.random.Generator, pattern: np.ndarray, ratio: float) -> np.ndarray:
    """The same number of deletions, at random active positions."""
    flat = np.asarray(pattern, np.float32).reshape(-1).copy()
    k = int(flat.sum() * ratio)
    on = np.flatnonzero(flat > 0)
    flat[rng.choice(on, size=k, replace=False)] = 0.0
    return flat.reshape(np.shape(pattern))


def hamming_rounded(recall: np.ndarray, patterns: np.ndarray) -> np.ndarray:
    """Mismatches of round(recall) vs round(pattern) (rounding at .5, ties up as Go's math.Round)."""
    r = np.asarray(recall)[..., None, :] >= 0.5
    q = np.asarray(patterns) >= 0.5
    return (r != q).sum(-1)


def nearest_pattern(recall: np.ndarray, patterns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The original's test (§1.2 CalculateError): smallest distance and its first index."""
    d = hamming_rounded(recall, patterns)
    return d.argmin(-1), d.min(-1)


# ---- the recall grid ------------------------------------------------------------------------------
@dataclass(frozen=True)
class RecallGridConfig:
    list_sizes: tuple = LIST_SIZES
    ratios: tuple = RATIOS
    epochs: tuple = (2, 5)
    networks: int = 10  # independent networks (and pattern sets) per cell; the original used 1
    repeats: int = 10  # test repeats; identical unless legacy or random deletion
    deletion: str = "structured"  # or "random"
    sparsity: float = 0.75
    seed: int = 0
    legacy: bool = False
    nested_epochs: bool = True  # the E-epoch grid tests the networks of the longest setting after E epochs
    engine: str = "auto"  # "fast" (default unless legacy), "reference" (runner.train_jobs)
    workers: int = 0  # networks simulated at once by the fast engine; 0 = one per available core

    def validate(self) -> None:
        from neurorl.hippocampus.runner import ENGINES

        if self.engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, got {self.engine!r}")
        if self.workers < 0:
            raise ValueError(f"workers must be >= 0 (0 = one per core), got {self.workers}")
        if self.deletion not in ("structured", "random"):
            raise ValueError(f"deletion must be 'structured' or 'random', got {self.deletion!r}")
        if self.networks < 1 or self.repeats < 1 or not self.epochs or not self.list_sizes or not self.ratios:
            raise ValueError("networks, repeats, epochs, list_sizes and ratios must be non-empty / >= 1")
        if any(not 0.0 <= r < 1.0 for r in self.ratios):
            raise ValueError(f"ratios must lie in [0, 1), got {self.ratios}")
        if any(n < 1 for n in self.list_sizes) or any(e < 1 for e in self.epochs):
            raise ValueError("list sizes and epochs must be >= 1")


def _effective_repeats(cfg: RecallGridConfig) -> int:
    # without legacy quirk 3 and with structured deletion every repeat is the same trial
    return cfg.repeats if (cfg.legacy or cfg.deletion == "random") else 1


class _PhaseClock:
    """Adds wall (``<phase>_s``) and CPU seconds of this process, all threads (``<phase>_cpu_s``)."""

    def __init__(self, timings: dict):
        self.timings = timings

    def start(self):
        self.w, self.c = time.perf_counter(), time.process_time()

    def stop(self, phase: str):
        self.timings[f"{phase}_s"] += time.perf_counter() - self.w
        self.timings[f"{phase}_cpu_s"] += time.process_time() - self.c


def run_recall_grid(cfg: RecallGridConfig = RecallGridConfig(), params: HippocampusParams | None = None,
                    progress=None, epochs_to_run: tuple | None = None) -> dict:
    """Train ``networks`` fresh networks per list size and test every corruption ratio after each
    epoch setting.

    With ``cfg.nested_epochs`` (the default, corrected schedule only) every (list size, network) pair
    has one network, one pattern list and one epoch order, and the grid of E epochs tests that network
    after its first E epochs (the original's rand.Seed(2) at every Init made a 2-epoch run exactly the
    first 2 epochs of a 5-epoch run, hippocampus.md §1.6 quirk 4); otherwise each epoch setting trains
    its own networks. ``epochs_to_run`` (a subset of ``cfg.epochs``, for resuming) draws everything
    as for the whole config but trains and tests only as far as needed for those settings.

    Returns grids [epochs][n, r] of nearest-pattern accuracy, Mem and distance, activity levels
    and timings (wall and CPU seconds) per phase.
    """
    cfg.validate()
    p = (params or HippocampusParams()).replace(legacy=cfg.legacy)
    todo = tuple(cfg.epochs) if epochs_to_run is None else tuple(epochs_to_run)
    if not todo or any(e not in cfg.epochs for e in todo):
        raise ValueError(f"epochs_to_run must be a non-empty subset of {cfg.epochs}, got {epochs_to_run}")
    rng = np.random.default_rng(cfg.seed)
    n_max = max(cfg.list_sizes)
    pattern_sets = [random_patterns(rng, n_max, cfg.sparsity) for _ in range(cfg.networks)]  # nested lists
    timings = {"train_s": 0.0, "test_s": 0.0, "score_s": 0.0, "train_cpu_s": 0.0, "test_cpu_s": 0.0, "score_cpu_s": 0.0}
    clock = _PhaseClock(timings)
    result = {"config": dataclasses.asdict(cfg), "grids": {}, "mem": {}, "distance": {}, "activity": {}}
    key = jax.random.PRNGKey(cfg.seed)
    meta = [(n, k) for n in cfg.list_sizes for k in range(cfg.networks)]
    engine = dict(engine=cfg.engine, workers=cfg.workers or None)
    if not cfg.legacy and cfg.engine != "reference":  # compile the test program while networks train
        precompile_tests(len(cfg.ratios) * _effective_repeats(cfg) * max(cfg.list_sizes), p)
    if cfg.nested_epochs and not cfg.legacy:
        e_max = max(cfg.epochs)
        orders = [epoch_orders(rng, n, e_max) for n, k in meta]
        keys = jax.random.split(jax.random.fold_in(key, 0), len(meta))
        nets, done, stats = None, 0, [None] * len(meta)
        for epochs in sorted(set(cfg.epochs)):
            if epochs > max(todo):
                break
            jobs = [Job(pattern_sets[k][:n], orders[b][done:epochs]) for b, (n, k) in enumerate(meta)]
            clock.start()
            nets, new_stats = train_jobs(jobs, keys if nets is None else None, p, nets=nets, stack=False, **engine)
            jax.block_until_ready(nets)
            clock.stop("train")
            stats = [_join_stats(a, b) for a, b in zip(stats, new_stats)]
            done = epochs
            if progress:
                progress(f"trained {len(jobs)} networks to {epochs} epochs")
            if epochs in todo:
                full_jobs = [Job(pattern_sets[k][:n], orders[b][:epochs]) for b, (n, k) in enumerate(meta)]
                _grid_for(result, epochs, full_jobs, meta, nets, stats, cfg, p, rng, clock, progress)
    else:
        for e_i, epochs in enumerate(cfg.epochs):
            jobs = [Job(pattern_sets[k][:n], epoch_orders(rng, n, epochs)) for n, k in meta]
            keys = jax.random.split(jax.random.fold_in(key, e_i), len(jobs))
            if epochs not in todo:
                continue
            clock.start()
            nets, stats = train_jobs(jobs, keys, p, stack=False, **engine)
            jax.block_until_ready(nets)
            clock.stop("train")
            if progress:
                progress(f"trained {len(jobs)} networks, {epochs} epochs")
            _grid_for(result, epochs, jobs, meta, nets, stats, cfg, p, rng, clock, progress)
    result["timings"] = timings
    for e, grid in result["grids"].items():
        if e in PUBLISHED and grid.shape == PUBLISHED[e].shape:
            result.setdefault("mad", {})[e] = float(np.abs(grid - PUBLISHED[e]).mean())
    return result


def _join_stats(a: dict | None, b: dict) -> dict:
    """Per-epoch training statistics of consecutive stages of the same networks."""
    if a is None:
        return b
    out = {k: np.concatenate([a[k], b[k]]) for k in a if k != "epochs_run"}
    out["epochs_run"] = a["epochs_run"] + b["epochs_run"]
    return out


def _grid_for(result: dict, epochs: int, jobs: list, meta: list, nets, stats: list, cfg: RecallGridConfig,
              p: HippocampusParams, rng, clock: _PhaseClock, progress) -> None:
    """Test every (network, ratio, repeat, pattern) item on the trained ``nets`` and score the grid."""
    reps = _effective_repeats(cfg)
    item_net, item_cue, item_targ, item_key = [], [], [], []
    for b, (n, k) in enumerate(meta):
        pats = jobs[b].patterns
        for r_i, r in enumerate(cfg.ratios):
            for rep in range(reps):
                for i in range(n):
                    cue = corrupt_structured(pats[i], r) if cfg.deletion == "structured" else \
                        corrupt_random(rng, pats[i], r)
                    item_net.append(b)
                    item_cue.append(cue)
                    item_targ.append(pats[i])
                    item_key.append((b, r_i, rep, i))
    item_net = np.asarray(item_net)
    item_cue = np.stack(item_cue)
    item_targ = np.stack(item_targ)
    clock.start()
    if cfg.legacy:
        out = _legacy_tests(nets, item_net, item_cue, item_targ, p)
    else:
        out = test_items(nets, item_net, item_cue, item_targ, p, engine=cfg.engine, workers=cfg.workers or None)
    recall = np.asarray(out.recall)
    clock.stop("test")
    if progress:
        progress(f"tested {len(item_net)} items")

    clock.start()
    acc = np.zeros((len(cfg.list_sizes), len(cfg.ratios), cfg.networks))
    mem = np.zeros_like(acc)
    dist = np.zeros_like(acc)
    cnt = np.zeros_like(acc)
    n_index = {n: j for j, n in enumerate(cfg.list_sizes)}
    keys_arr = np.asarray(item_key)  # (network, ratio, repeat, pattern) per item
    item_mem = np.asarray(out.mem, np.float64)
    for b, (n, k) in enumerate(meta):  # nearest stored pattern of every recall, per network (§1.2)
        ix = np.flatnonzero(keys_arr[:, 0] == b)
        target = keys_arr[ix, 3]
        d = hamming_rounded(recall[ix], jobs[b].patterns)  # [items, n]
        cell = (np.full(len(ix), n_index[n]), keys_arr[ix, 1], np.full(len(ix), k))
        np.add.at(acc, cell, (d.argmin(-1) == target).astype(np.float64))  # ties: lowest index
        np.add.at(mem, cell, item_mem[ix])
        np.add.at(dist, cell, d[np.arange(len(ix)), target].astype(np.float64))
        np.add.at(cnt, cell, 1.0)
    acc, mem, dist = acc / cnt, mem / cnt, dist / cnt
    clock.stop("score")
    result["grids"][epochs] = acc.mean(-1)
    result.setdefault("grids_per_network", {})[epochs] = acc
    result["mem"][epochs] = mem.mean(-1)
    result["distance"][epochs] = dist.mean(-1)
    result["activity"][epochs] = {
        k.removeprefix("act_m_avg_"): float(np.nanmean([s[k][-1] for s in stats]))
        for k in stats[0] if k.startswith("act_m_avg_")
    }
    result.setdefault("activity_minus", {})[epochs] = {
        k.removeprefix("act_"): float(np.nanmean([np.nanmean(s[k]) for s in stats]))
        for k in stats[0] if k.startswith("act_") and not k.startswith("act_m_avg_")
    }
    result.setdefault("train_mem", {})[epochs] = float(np.nanmean([s["mem"][-1] for s in stats]))


def _legacy_tests(nets, item_net, item_cue, item_targ, p):
    """Sequential, state-changing tests per network in the original's order (quirk 3)."""
    from neurorl.hippocampus.runner import TestOut

    n_nets = int(item_net.max()) + 1
    per = [np.flatnonzero(item_net == b) for b in range(n_nets)]
    m = max(len(ix) for ix in per)
    cues = np.zeros((n_nets, m, EC_N), np.float32)
    targs = np.zeros_like(cues)
    valid = np.zeros((n_nets, m), bool)
    for b, ix in enumerate(per):
        cues[b, : len(ix)] = item_cue[ix]
        targs[b, : len(ix)] = item_targ[ix]
        valid[b, : len(ix)] = True
    _, out = test_sequential(nets, cues, targs, valid, p)
    out = jax.tree_util.tree_map(np.asarray, out)
    flat = {}
    for name, val in out._asdict().items():
        if isinstance(val, dict):
            flat[name] = {k: _unpad(v, per, len(item_net)) for k, v in val.items()}
        else:
            flat[name] = _unpad(val, per, len(item_net))
    return TestOut(**flat)


def _unpad(val, per, n_items):
    res = np.zeros((n_items,) + val.shape[2:], val.dtype)
    for b, ix in enumerate(per):
        res[ix] = val[b, : len(ix)]
    return res


def trend_checks(result: dict) -> dict:
    """The issue's qualitative claims: recall falls with corruption and list size; 5 >= 2 epochs."""
    out = {}
    for e, g in result["grids"].items():
        out[f"falls_with_corruption_{e}"] = bool(g[:, :3].mean() > g[:, -3:].mean())
        out[f"falls_with_list_size_{e}"] = bool(g[:3].mean() >= g[-3:].mean())
    if 2 in result["grids"] and 5 in result["grids"]:
        out["five_epochs_at_least_two"] = bool(result["grids"][5].mean() >= result["grids"][2].mean() - 1e-9)
    return out


# ---- AB-AC paired associates (§2.7) ---------------------------------------------------------------
def _pool_code(rng, n_pools: int, active: int = 3) -> np.ndarray:
    out = np.zeros((n_pools, EC_POOL_SIZE), np.float32)
    for p_ in range(n_pools):
        out[p_, rng.choice(EC_POOL_SIZE, active, replace=False)] = 1.0
    return out


def _jitter(rng, code: np.ndarray, move_prob: float) -> np.ndarray:
    """Move each active unit of each pool to a random free slot with probability ``move_prob``."""
    code = code.copy()
    for row in code:
        for u in np.flatnonzero(row):
            if rng.random() < move_prob:
                free = np.flatnonzero(row == 0)
                row[u] = 0.0
                row[rng.choice(free)] = 1.0
    return code


def abac_lists(rng: np.random.Generator, n_items: int = 10, context_move: float = 0.07) -> dict:
    """Lists shaped like examples/hip: pools 0-2 item A, 3-5 B or C, 6-11 list context (§2.7).

    Each pool has exactly 3 of 12 active. Context: one prototype per list, each item's context
    jittered (``context_move`` gives within-list overlap about .56 as measured for the originals).
    Test cues hold A and the context with the B/C pools empty.
    """
    ctx = {lst: _pool_code(rng, 6) for lst in ("ab", "ac")}
    a = [_pool_code(rng, 3) for _ in range(n_items)]
    out = {}
    for lst in ("ab", "ac"):
        full, cue = [], []
        for i in range(n_items):
            second = _pool_code(rng, 3)
            c = _jitter(rng, ctx[lst], context_move)
            pat = np.concatenate([a[i], second, c]).reshape(-1)
            cue_ = np.concatenate([a[i], np.zeros_like(second), c]).reshape(-1)
            full.append(pat)
            cue.append(cue_)
        out[f"train_{lst}"] = np.stack(full).astype(np.float32)
        out[f"test_{lst}_cue"] = np.stack(cue).astype(np.float32)
    assert out["train_ab"].shape[1] == EC_POOLS * EC_POOL_SIZE
    return out


@dataclass(frozen=True)
class ABACConfig:
    networks: int = 10
    items: int = 10
    max_epochs: int = 20  # hip.go MaxEpcs default; AB switches to AC at criterion or MaxEpcs/2
    seed: int = 0
    legacy: bool = False


def run_abac(cfg: ABACConfig = ABACConfig(), params: HippocampusParams | None = None, progress=None) -> dict:
    """Train AB to criterion (all AB test items Mem = 1) or MaxEpcs/2, then AC to criterion or MaxEpcs,
    testing AB and AC after every epoch (§2.6). Returns per-epoch curves, epochs to criterion,
    AB memory after AC learning and layer activity levels."""
    if cfg.networks < 1 or cfg.items < 1 or cfg.max_epochs < 2:
        raise ValueError("networks and items must be >= 1 and max_epochs >= 2")
    p = (params or HippocampusParams()).replace(legacy=False)
    rng = np.random.default_rng(cfg.seed)
    lists = [abac_lists(rng, cfg.items) for _ in range(cfg.networks)]
    keys = jax.random.split(jax.random.PRNGKey(cfg.seed), cfg.networks)
    nets = None
    phase = np.zeros(cfg.networks, int)  # 0 AB, 1 AC, 2 done
    first_zero = np.full(cfg.networks, np.nan)
    ab_done_epoch = np.full(cfg.networks, np.nan)
    n_epochs = np.full(cfg.networks, np.nan)
    curves = {"ab_mem": [], "ac_mem": [], "phase": []}
    activity = []
    t0 = time.perf_counter()
    for epoch in range(cfg.max_epochs):
        jobs = []
        for b in range(cfg.networks):
            lst = "ab" if phase[b] == 0 else "ac"
            order = epoch_orders(rng, cfg.items, 1)
            if phase[b] == 2:
                order = order[:0]  # finished networks idle
            jobs.append(Job(lists[b][f"train_{lst}"], order))
        if all(j.order.size == 0 for j in jobs):
            break
        nets, stats = train_jobs(jobs, keys, p, pair=False, nets=nets)
        activity.append({k: float(np.nanmean([s[k][-1] for s in stats if s["epochs_run"]]))
                         for k in stats[0] if k.startswith("act_m_avg_")})
        # test AB and AC cues on every network
        item_net = np.repeat(np.arange(cfg.networks), 2 * cfg.items)
        cues = np.concatenate([np.concatenate([L["test_ab_cue"], L["test_ac_cue"]]) for L in lists])
        targs = np.concatenate([np.concatenate([L["train_ab"], L["train_ac"]]) for L in lists])
        out = test_items(nets, item_net, cues, targs, p)
        mem = np.asarray(out.mem).reshape(cfg.networks, 2, cfg.items).mean(-1)
        curves["ab_mem"].append(mem[:, 0])
        curves["ac_mem"].append(mem[:, 1])
        curves["phase"].append(phase.copy())
        for b in range(cfg.networks):
            if phase[b] == 0:
                if mem[b, 0] >= 1.0 and np.isnan(first_zero[b]):
                    first_zero[b] = epoch + 1
                if mem[b, 0] >= 1.0 or epoch + 1 >= cfg.max_epochs // 2:
                    phase[b] = 1
                    ab_done_epoch[b] = epoch + 1
            elif phase[b] == 1:
                if mem[b, 1] >= 1.0 or epoch + 1 >= cfg.max_epochs:
                    phase[b] = 2
                    n_epochs[b] = epoch + 1
        if progress:
            progress(f"epoch {epoch + 1}: AB mem {mem[:, 0].mean():.2f}, AC mem {mem[:, 1].mean():.2f}")
    n_epochs = np.where(np.isnan(n_epochs), cfg.max_epochs, n_epochs)
    final_ab = np.asarray(curves["ab_mem"][-1])
    final_ac = np.asarray(curves["ac_mem"][-1])
    return {
        "config": dataclasses.asdict(cfg),
        "ab_mem_after_ac": float(final_ab.mean()),
        "ac_mem": float(final_ac.mean()),
        "first_zero_mean": float(np.nanmean(first_zero)) if np.any(~np.isnan(first_zero)) else None,
        "ab_reached_criterion": float(np.mean(~np.isnan(first_zero))),
        "n_epochs_mean": float(n_epochs.mean()),
        "ab_mem_after_2_epochs": float(np.asarray(curves["ab_mem"][1]).mean()) if len(curves["ab_mem"]) > 1 else None,
        "curves": {k: np.asarray(v).tolist() for k, v in curves.items()},
        "activity_per_epoch": activity,
        "activity_final": activity[-1] if activity else {},
        "seconds": time.perf_counter() - t0,
    }

"""Many networks at once: training schedules packed into lanes and batched testing.

Training is sequential within a network, so networks are vmapped as *lanes* and trials are one
``lax.scan`` over schedule slots. A lane can hold two networks back to back (the experiment pairs
a short list with a long one, e.g. n=2 with n=20, so no lane idles). Testing does not change the
network (quirk 3 corrected), so test items are vmapped too: items of one network share its
weights (matrix-matrix products); chunks of items of different networks are vmapped on top.
"""

from __future__ import annotations

import functools
import os
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from neurorl.hippocampus.dynamics import tree_where, trial
from neurorl.hippocampus.network import Net, init_nets
from neurorl.hippocampus.params import EC_N, HippocampusParams

KIND_NOOP, KIND_TRAIN, KIND_TEST = 0, 1, 2


class Job(NamedTuple):
    """One network to train: its patterns (n x 144) and the epoch order of its training trials."""

    patterns: np.ndarray  # [n, 144] float32
    order: np.ndarray  # [epochs, n] pattern indices per epoch (a permutation each epoch)


def epoch_orders(rng: np.random.Generator, n: int, epochs: int) -> np.ndarray:
    """A fresh random permutation each epoch (env.FixedTable, §2.6)."""
    return np.stack([rng.permutation(n) for _ in range(epochs)]) if epochs else np.zeros((0, n), np.int64)


class Schedule(NamedTuple):
    job: np.ndarray  # [lanes, slots] 0 = first network of the lane, 1 = second
    switch: np.ndarray  # [lanes, slots] True at the first slot of the second network
    kind: np.ndarray  # [lanes, slots] KIND_*
    idx: np.ndarray  # [lanes, slots] pattern index
    epoch_end: np.ndarray  # [lanes, slots] True at the last slot of an epoch (legacy early stop)
    epoch: np.ndarray  # [lanes, slots] epoch number (-1 for no-op)


def pair_jobs(lengths: list[int]) -> list[list[int]]:
    """Pack jobs into lanes of at most two, longest with shortest, to even out lane lengths."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    lanes = []
    lo, hi = len(order) - 1, 0
    while hi <= lo:
        if hi == lo:
            lanes.append([order[hi]])
        else:
            lanes.append([order[hi], order[lo]])
        hi += 1
        lo -= 1
    return lanes


def build_schedule(jobs: list[Job], lanes: list[list[int]], legacy: bool) -> Schedule:
    """Slots per lane: each epoch's training trials (plus, in legacy mode, the full-cue test
    trials of the original's TestAll after every epoch, §1.6 quirk 1)."""
    rows = []
    for lane in lanes:
        job, switch, kind, idx, end, ep = [], [], [], [], [], []
        for j, jid in enumerate(lane):
            order = jobs[jid].order
            n = jobs[jid].patterns.shape[0]
            first = True
            for e in range(order.shape[0]):
                items = [(KIND_TRAIN, int(i)) for i in order[e]]
                if legacy:
                    items += [(KIND_TEST, i) for i in range(n)]
                for k, (kd, i) in enumerate(items):
                    job.append(j)
                    switch.append(j == 1 and first)
                    first = False
                    kind.append(kd)
                    idx.append(i)
                    end.append(k == len(items) - 1)
                    ep.append(e)
        rows.append((job, switch, kind, idx, end, ep))
    length = max(1, max(len(r[0]) for r in rows))

    def pad(vals, fill):
        return np.asarray([list(v) + [fill] * (length - len(v)) for v in vals])

    return Schedule(
        job=pad([r[0] for r in rows], 0).astype(np.int32),
        switch=pad([r[1] for r in rows], False).astype(bool),
        kind=pad([r[2] for r in rows], KIND_NOOP).astype(np.int32),
        idx=pad([r[3] for r in rows], 0).astype(np.int32),
        epoch_end=pad([r[4] for r in rows], False).astype(bool),
        epoch=pad([r[5] for r in rows], -1).astype(np.int32),
    )


class SlotOut(NamedTuple):
    mem: jax.Array
    trg_on_was_off: jax.Array
    trg_off_was_on: jax.Array
    act_avg: dict  # layer -> ActM layer mean
    act_m_avg: dict  # layer -> running average ActMAvg (what the original logs as ActAvg)


@functools.partial(jax.jit, static_argnames=("p",))
def run_lanes(nets_a: Net, nets_b: Net, pats_a, pats_b, sched: dict, p: HippocampusParams):
    """Run a packed training schedule. All arguments have a leading lane axis.

    Returns (final first networks, final second networks, per-slot outputs [lanes, slots]).
    """

    def lane(net_a, net_b, pa, pb, sc):
        def body(carry, s):
            net, saved_a, last_mem, stopped = carry
            sw = s["switch"]
            saved_a = tree_where(sw, net, saved_a)
            net = tree_where(sw, net_b, net)
            stopped = stopped & ~sw
            pat = jnp.where(s["job"] == 1, pb[s["idx"]], pa[s["idx"]])
            if p.legacy:
                is_train = s["kind"] == KIND_TRAIN
                new, out = trial(net, pat, pat, train=is_train, p=p)
                active = (s["kind"] != KIND_NOOP) & ~stopped
                # test Mem only changes when there is something to complete (cmp_n > 0, §2.5)
                m = jnp.where(is_train, out.mem.mem_all, jnp.where(out.mem.cmp_n > 0, out.mem.mem_cmp, last_mem))
                last_mem = jnp.where(active, m, last_mem)
                stopped = stopped | (active & s["epoch_end"] & (last_mem >= 1.0))  # quirk 1: NZeroStop = 1
            else:
                new, out = trial(net, pat, pat, train=True, p=p)
                active = s["kind"] == KIND_TRAIN
            net = tree_where(active, new, net)
            o = SlotOut(jnp.where(active, out.mem.mem_all, jnp.nan),
                        jnp.where(active, out.mem.trg_on_was_off_all, jnp.nan),
                        jnp.where(active, out.mem.trg_off_was_on, jnp.nan),
                        {k: jnp.where(active, v, jnp.nan) for k, v in out.act_avg.items()},
                        {k: jnp.where(active, v.act_m_avg, jnp.nan) for k, v in new.lay.items()})
            return (net, saved_a, last_mem, stopped), o

        init = (net_a, net_a, jnp.float32(0.0), jnp.bool_(False))
        (net, saved_a, _, _), outs = jax.lax.scan(body, init, sc)
        has_b = jnp.any(sc["switch"])
        return tree_where(has_b, saved_a, net), net, outs

    return jax.vmap(lane)(nets_a, nets_b, pats_a, pats_b, sched)


def train_jobs_lanes(jobs: list[Job], keys, p: HippocampusParams, pair: bool = True, nets: Net | None = None):
    """Reference engine (vmapped lanes of ``dynamics.trial``; also the legacy schedules). Train every job's network (fresh weights from ``keys[i]``, or continue ``nets``). Returns
    (the trained networks as one batched Net in job order, per-job list of stats [epochs])."""
    n_max = max(j.patterns.shape[0] for j in jobs)
    lengths = [j.order.size * (2 if p.legacy else 1) for j in jobs]
    lanes = pair_jobs(lengths) if pair else [[i] for i in range(len(jobs))]
    sched = build_schedule(jobs, lanes, p.legacy)
    if nets is None:
        nets = init_nets(keys, p)

    def padded(i):
        pat = np.zeros((n_max, EC_N), np.float32)
        pat[: jobs[i].patterns.shape[0]] = jobs[i].patterns
        return pat

    ia = np.asarray([ln[0] for ln in lanes])
    ib = np.asarray([ln[1] if len(ln) > 1 else ln[0] for ln in lanes])
    take = lambda tree, ix: jax.tree_util.tree_map(lambda x: x[ix], tree)  # noqa: E731
    pats = np.stack([padded(i) for i in range(len(jobs))])
    fa, fb, outs = run_lanes(take(nets, ia), take(nets, ib), jnp.asarray(pats[ia]), jnp.asarray(pats[ib]),
                             {k: jnp.asarray(v) for k, v in sched._asdict().items()}, p)
    # reassemble per job
    order = np.empty(len(jobs), np.int64)
    src_b = np.zeros(len(jobs), bool)
    for li, ln in enumerate(lanes):
        order[ln[0]] = li
        if len(ln) > 1:
            order[ln[1]] = li
            src_b[ln[1]] = True
    final = jax.tree_util.tree_map(lambda a, b: jnp.where(
        jnp.asarray(src_b).reshape((-1,) + (1,) * (a.ndim - 1)), b[order], a[order]), fa, fb)
    outs = jax.tree_util.tree_map(np.asarray, outs)
    stats = []
    for jid in range(len(jobs)):
        li = order[jid]
        sel = (sched.job[li] == (1 if src_b[jid] else 0)) & (sched.kind[li] == KIND_TRAIN)
        ep = sched.epoch[li][sel]
        n_ep = jobs[jid].order.shape[0]

        def per_epoch(x):
            x = x[li][sel]
            return np.asarray([np.nanmean(x[ep == e]) if np.any((ep == e) & ~np.isnan(x)) else np.nan
                               for e in range(n_ep)])

        st = {"mem": per_epoch(outs.mem), "trg_on_was_off": per_epoch(outs.trg_on_was_off),
              "trg_off_was_on": per_epoch(outs.trg_off_was_on)}
        for k, v in outs.act_avg.items():
            st[f"act_{k}"] = per_epoch(v)
        for k, v in outs.act_m_avg.items():
            st[f"act_m_avg_{k}"] = per_epoch(v)
        st["epochs_run"] = int(np.sum(~np.isnan(st["mem"])))
        stats.append(st)
    return final, stats


class TestOut(NamedTuple):
    recall: jax.Array  # [..., 144] ECout ActM
    mem: jax.Array  # Mem (Cmp variant when something is to be completed, else All)
    trg_on_was_off: jax.Array
    trg_off_was_on: jax.Array
    cmp_n: jax.Array
    act_avg: dict


@functools.partial(jax.jit, static_argnames=("p",))
def test_chunks(nets: Net, net_idx, cues, targets, p: HippocampusParams) -> TestOut:
    """Test ``cues[c, m]`` on network ``net_idx[c]`` of the batch ``nets`` (no state change)."""
    if p.legacy:
        raise ValueError("test_chunks assumes tests do not change the network; use test_sequential for legacy")

    def one_chunk(i, cue, targ):
        net = jax.tree_util.tree_map(lambda x: x[i], nets)

        def item(c, t):
            _, out = trial(net, c, t, train=False, p=p)
            use_cmp = out.mem.cmp_n > 0
            return TestOut(out.recall, jnp.where(use_cmp, out.mem.mem_cmp, out.mem.mem_all),
                           jnp.where(use_cmp, out.mem.trg_on_was_off_cmp, out.mem.trg_on_was_off_all),
                           out.mem.trg_off_was_on, out.mem.cmp_n, out.act_avg)

        return jax.vmap(item)(cue, targ)

    return jax.vmap(one_chunk)(net_idx, cues, targets)


@functools.partial(jax.jit, static_argnames=("p",))
def test_sequential(nets: Net, cues, targets, valid, p: HippocampusParams):
    """Legacy testing: items run one after another and each test changes the network (quirk 3).
    ``cues``/``targets`` are [nets, items, 144], ``valid`` [nets, items] masks padding.
    Returns (changed nets, TestOut [nets, items])."""

    def one(net, cs, ts, vs):
        def body(net, ct):
            c, t, v = ct
            new, out = trial(net, c, t, train=False, p=p)
            new = tree_where(v, new, net)
            use_cmp = out.mem.cmp_n > 0
            o = TestOut(out.recall, jnp.where(use_cmp, out.mem.mem_cmp, out.mem.mem_all),
                        jnp.where(use_cmp, out.mem.trg_on_was_off_cmp, out.mem.trg_on_was_off_all),
                        out.mem.trg_off_was_on, out.mem.cmp_n, out.act_avg)
            return new, o

        return jax.lax.scan(body, net, (cs, ts, vs))

    return jax.vmap(one)(nets, cues, targets, valid)


def test_items_lanes(nets: Net, net_of_item: np.ndarray, cues: np.ndarray, targets: np.ndarray, p: HippocampusParams,
                     chunk: int = 20, group: int = 16) -> TestOut:
    """Reference engine. Test arbitrary (network, cue, target) items without changing the networks.

    Items are grouped by network into chunks of ``chunk`` (shared weights), and ``group`` chunks
    run per jitted call. Returns TestOut with a leading item axis in the input order.
    """
    net_of_item = np.asarray(net_of_item)
    n = len(net_of_item)
    chunk_net, chunk_items = [], []
    for b in np.unique(net_of_item):
        ix = np.flatnonzero(net_of_item == b)
        for s in range(0, len(ix), chunk):
            part = ix[s: s + chunk]
            chunk_net.append(b)
            chunk_items.append(np.concatenate([part, np.full(chunk - len(part), -1)]))
    n_chunks = len(chunk_net)
    group = max(1, min(group, n_chunks))
    pad_chunks = (-n_chunks) % group
    chunk_net += [chunk_net[0]] * pad_chunks
    chunk_items += [np.full(chunk, -1)] * pad_chunks
    chunk_net = np.asarray(chunk_net, np.int32)
    chunk_items = np.stack(chunk_items)
    safe = np.where(chunk_items < 0, 0, chunk_items)
    cue_arr = np.asarray(cues, np.float32)[safe]
    targ_arr = np.asarray(targets, np.float32)[safe]
    outs = []
    for g in range(0, len(chunk_net), group):
        outs.append(test_chunks(nets, jnp.asarray(chunk_net[g: g + group]), jnp.asarray(cue_arr[g: g + group]),
                                jnp.asarray(targ_arr[g: g + group]), p))
    flat = jax.tree_util.tree_map(lambda *xs: np.concatenate([np.asarray(x) for x in xs]).reshape(
        (-1,) + np.asarray(xs[0]).shape[2:]), *outs)
    where = chunk_items.reshape(-1)
    keep = where >= 0
    inv = np.empty(n, np.int64)
    inv[where[keep]] = np.flatnonzero(keep)
    return jax.tree_util.tree_map(lambda x: x[inv], flat)


# ---- the fast engine (fast.py): one network per compiled call, a few networks at once on threads ----
ENGINES = ("auto", "fast", "reference")


def _engine(engine: str, p: HippocampusParams) -> str:
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if engine == "fast" and p.legacy:
        raise ValueError("the fast engine implements the corrected schedule only; legacy=True needs engine='reference'")
    return "reference" if (engine == "reference" or p.legacy) else "fast"


def default_workers() -> int:
    """Worker threads for independent networks: one per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _bucket(n: int, minimum: int) -> int:
    """Pad sizes to powers of two (at least ``minimum``) so a few compiled shapes serve every job."""
    b = minimum
    while b < n:
        b *= 2
    return b


def _map_jobs(fn, items: list, workers: int, cost=None) -> list:
    """``[fn(x) for x in items]`` on ``workers`` threads. XLA runs each compiled call without the
    GIL, so independent networks proceed in parallel. The cheapest item runs first and alone (the
    program is compiled once, not once per thread); the rest go longest first, so no thread is left
    with a long job at the end. ``cost``: per-item cost estimates (default: all equal)."""
    if not items:
        return []
    cost = np.ones(len(items)) if cost is None else np.asarray(cost, np.float64)
    first = int(np.argmin(cost))
    rest = [int(i) for i in np.argsort(-cost, kind="stable") if i != first]
    out = [None] * len(items)
    out[first] = fn(items[first])
    if workers <= 1 or len(items) == 1:
        for i in rest:
            out[i] = fn(items[i])
        return out
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for i, r in zip(rest, pool.map(lambda i: fn(items[i]), rest)):
            out[i] = r
    return out


def _net_of(nets, i: int) -> Net:
    if isinstance(nets, list):  # (a Net is itself a tuple)
        return nets[i]
    return jax.tree_util.tree_map(lambda x: x[i], nets)


def stack_nets(nets: list) -> Net:
    return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *nets)


def train_jobs_fast(jobs: list[Job], keys, p: HippocampusParams, nets=None, workers: int | None = None,
                    stack: bool = True):
    """Train every job's network with the fast engine: one compiled call per network runs all its
    epochs (``fast.train_schedule``), ``workers`` networks at a time. Same inputs and outputs as
    ``train_jobs_lanes`` (fresh weights from ``keys[i]``, or continue ``nets``); with ``stack=False``
    the networks come back as a list instead of one batched Net."""
    from neurorl.hippocampus import fast
    from neurorl.hippocampus.network import assemble_net, init_net_numpy

    if p.legacy:
        raise ValueError("train_jobs_fast implements the corrected schedule only (legacy=True: train_jobs_lanes)")
    workers = default_workers() if workers is None else workers
    if keys is not None and isinstance(keys, jax.Array) and jnp.issubdtype(keys.dtype, jax.dtypes.prng_key):
        keys = jax.random.key_data(keys)
    key_rows = None if keys is None else np.asarray(keys)
    n_pad = _bucket(max(j.patterns.shape[0] for j in jobs), 32)
    t_pad = _bucket(max(max(j.order.size for j in jobs), 1), 128)

    def run(i):
        job = jobs[i]
        net = _net_of(nets, i) if nets is not None else assemble_net(init_net_numpy(key_rows[i], p), p)
        if job.order.size == 0:
            return net, None
        pats = np.zeros((n_pad, EC_N), np.float32)
        pats[: job.patterns.shape[0]] = job.patterns
        order = np.zeros(t_pad, np.int32)
        order[: job.order.size] = job.order.reshape(-1)
        new, outs = fast.train_schedule(net, jnp.asarray(pats), jnp.asarray(order), jnp.int32(job.order.size), p)
        return new, jax.tree_util.tree_map(np.asarray, outs)

    results = _map_jobs(run, list(range(len(jobs))), workers, cost=[j.order.size for j in jobs])
    stats = []
    for job, (_, outs) in zip(jobs, results):
        n_ep, n = job.order.shape[0], max(job.order.shape[1] if job.order.ndim == 2 else 1, 1)

        def per_epoch(x):
            if outs is None or n_ep == 0:
                return np.full(n_ep, np.nan)
            return np.nanmean(np.asarray(x)[: n_ep * n].reshape(n_ep, n), axis=1)

        st = {"mem": per_epoch(outs.mem if outs else None), "trg_on_was_off": per_epoch(outs.trg_on_was_off if outs else None),
              "trg_off_was_on": per_epoch(outs.trg_off_was_on if outs else None)}
        from neurorl.hippocampus.params import LAYERS

        for k in LAYERS:
            st[f"act_{k}"] = per_epoch(outs.act_avg[k] if outs else None)
        for k in LAYERS:
            st[f"act_m_avg_{k}"] = per_epoch(outs.act_m_avg[k] if outs else None)
        st["epochs_run"] = int(np.sum(~np.isnan(st["mem"])))
        stats.append(st)
    trained = [r[0] for r in results]
    return (stack_nets(trained) if stack else trained), stats


def test_items_fast(nets, net_of_item: np.ndarray, cues: np.ndarray, targets: np.ndarray, p: HippocampusParams,
                    chunk: int = 20, workers: int | None = None) -> TestOut:
    """Test (network, cue, target) items without changing the networks, with the fast engine: all
    items of a network in one compiled call, ``chunk`` at a time (matrix-matrix products), ``workers``
    networks at a time. ``nets`` is a batched Net or a list of Nets. Same output as ``test_items_lanes``."""
    from neurorl.hippocampus import fast

    if p.legacy:
        raise ValueError("tests change the network in legacy mode: use test_sequential")
    workers = default_workers() if workers is None else workers
    net_of_item = np.asarray(net_of_item)
    cues = np.asarray(cues, np.float32)
    targets = np.asarray(targets, np.float32)
    groups = [(int(b), np.flatnonzero(net_of_item == b)) for b in np.unique(net_of_item)]
    m_pad = _test_rows(max(len(ix) for _, ix in groups), chunk)

    def run(g):
        b, ix = g
        c = np.zeros((m_pad, EC_N), np.float32)
        t = np.zeros((m_pad, EC_N), np.float32)
        c[: len(ix)] = cues[ix]
        t[: len(ix)] = targets[ix]
        out = fast.test_schedule(_net_of(nets, b), jnp.asarray(c), jnp.asarray(t), jnp.int32(-(-len(ix) // chunk)),
                                 chunk, p)
        return jax.tree_util.tree_map(lambda x: np.asarray(x)[: len(ix)], out)

    results = _map_jobs(run, groups, workers, cost=[len(ix) for _, ix in groups])
    n = len(net_of_item)

    def gather(*parts):
        first = parts[0]
        res = np.zeros((n,) + first.shape[1:], first.dtype)
        for (_, ix), part in zip(groups, parts):
            res[ix] = part
        return res

    out = jax.tree_util.tree_map(gather, *results)
    return TestOut(out.recall, out.mem, out.trg_on_was_off, out.trg_off_was_on, out.cmp_n, out.act_avg)


def _test_rows(items: int, chunk: int) -> int:
    """Rows of the padded test arrays for a network with ``items`` test items (a few buckets)."""
    m_pad = _bucket(items, 256)
    return -(-m_pad // chunk) * chunk


def precompile_tests(items_per_network: int, p: HippocampusParams, chunk: int = 20):
    """Compile the fast engine's test program for networks with up to ``items_per_network`` items in
    a background thread (e.g. while networks train); returns the thread. The call runs zero chunks."""
    import threading

    from neurorl.hippocampus import fast
    from neurorl.hippocampus.network import init_net

    def work():
        net = init_net(0, p)
        z = jnp.zeros((_test_rows(items_per_network, chunk), EC_N), jnp.float32)
        jax.block_until_ready(fast.test_schedule(net, z, z, jnp.int32(0), chunk, p))

    th = threading.Thread(target=work, name="hippocampus-precompile-tests", daemon=True)
    th.start()
    return th


def train_jobs(jobs: list[Job], keys, p: HippocampusParams, pair: bool = True, nets: Net | None = None,
               engine: str = "auto", workers: int | None = None, stack: bool = True):
    """Train every job's network (fresh weights from ``keys[i]``, or continue ``nets``). Returns
    (the trained networks as one batched Net in job order, or a list with ``stack=False`` and the
    fast engine, per-job list of stats [epochs]).

    ``engine``: "fast" (fast.py, the default for the corrected schedule), "reference" (vmapped lanes
    of dynamics.trial; always used with legacy=True) or "auto"."""
    if _engine(engine, p) == "reference":
        return train_jobs_lanes(jobs, keys, p, pair=pair, nets=stack_nets(nets) if isinstance(nets, list) else nets)
    return train_jobs_fast(jobs, keys, p, nets=nets, workers=workers, stack=stack)


def test_items(nets, net_of_item: np.ndarray, cues: np.ndarray, targets: np.ndarray, p: HippocampusParams,
               chunk: int = 20, group: int = 16, engine: str = "auto", workers: int | None = None) -> TestOut:
    """Test arbitrary (network, cue, target) items without changing the networks. Returns TestOut
    with a leading item axis in the input order. ``engine`` as in ``train_jobs``."""
    if _engine(engine, p) == "reference":
        if isinstance(nets, list):
            nets = stack_nets(nets)
        return test_items_lanes(nets, net_of_item, cues, targets, p, chunk=chunk, group=group)
    return test_items_fast(nets, net_of_item, cues, targets, p, chunk=chunk, workers=workers)

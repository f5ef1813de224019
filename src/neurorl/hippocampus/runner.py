"""Many networks at once: training schedules packed into lanes and batched testing.

Training is sequential within a network, so networks are vmapped as *lanes* and trials are one
``lax.scan`` over schedule slots. A lane can hold two networks back to back (the experiment pairs
a short list with a long one, e.g. n=2 with n=20, so no lane idles). Testing does not change the
network (quirk 3 corrected), so test items are vmapped too: items of one network share its
weights (matrix-matrix products); chunks of items of different networks are vmapped on top.
"""

from __future__ import annotations

import functools
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


def train_jobs(jobs: list[Job], keys, p: HippocampusParams, pair: bool = True, nets: Net | None = None):
    """Train every job's network (fresh weights from ``keys[i]``, or continue ``nets``). Returns
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


def test_items(nets: Net, net_of_item: np.ndarray, cues: np.ndarray, targets: np.ndarray, p: HippocampusParams,
               chunk: int = 20, group: int = 16) -> TestOut:
    """Test arbitrary (network, cue, target) items without changing the networks.

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

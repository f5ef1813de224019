"""Network state of one hip model: connectivity, weights and the per-unit / per-layer variables
that persist between trials. Built from a PRNG key; a batch of networks is a vmapped build.

Connectivity and initial weights: ../shared/reference/hippocampus.md §2.2.
Weight arrays are [receiver, sender] (pool one-to-one ones are [pool, receiver, sender]),
so the net input is ``W @ act``. Missing connections carry weight 0 and a 0 mask.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from neurorl.hippocampus import layers as L
from neurorl.hippocampus.params import (
    CA1_POOL_SIZE,
    CA3_N,
    DG_N,
    EC_N,
    EC_POOL_SIZE,
    EC_POOLS,
    LAYER_SIZE,
    LAYERS,
    LEARNING_PROJECTIONS,
    HippocampusParams,
)

WEIGHT_SHAPES = {
    "ecin_ca1": (EC_POOLS, CA1_POOL_SIZE, EC_POOL_SIZE),
    "ca1_ecout": (EC_POOLS, EC_POOL_SIZE, CA1_POOL_SIZE),
    "ecout_ca1": (EC_POOLS, CA1_POOL_SIZE, EC_POOL_SIZE),
    "ecin_dg": (DG_N, EC_N),
    "ecin_ca3": (CA3_N, EC_N),
    "ca3_ca3": (CA3_N, CA3_N),
    "ca3_ca1": (EC_POOLS * CA1_POOL_SIZE, CA3_N),
}


class Conn(NamedTuple):
    """Fixed per network: masks of the learning projections and the two non-learning inputs."""

    mask: dict  # projection -> {0,1} float mask of WEIGHT_SHAPES[p]
    idx_dg_ca3: jax.Array  # [300, 12] int32: the 12 DG senders of each CA3 unit
    w_dg_ca3: jax.Array  # [300, 12] mossy weights U(.89,.91), fixed
    w_ecout_ecin: jax.Array  # [144] big-loop weights U(.89,.91), fixed


class UnitVars(NamedTuple):
    """Per-unit variables that survive the trial-start decay (§3.1 step 5, §3.4)."""

    avg_ss: jax.Array
    avg_s: jax.Array
    avg_m: jax.Array
    avg_l: jax.Array
    avg_l_lrn: jax.Array
    act_m: jax.Array  # last trial's snapshots: feed the running averages at the next trial start
    act_p: jax.Array


class LayerVars(NamedTuple):
    """Per-layer running statistics (§3.4)."""

    act_m_avg: jax.Array
    act_p_avg: jax.Array  # = ActPAvgEff (Adjust 1); sets the input scaling and CHL savgCor
    first: jax.Array  # 1.0 until the first update (UseFirst: that one moves halfway)
    cos_diff_avg: jax.Array
    mod_avg_llrn: jax.Array


class Net(NamedTuple):
    conn: Conn
    wt: dict  # projection -> Wt
    lwt: dict  # projection -> LWt (linear weight before the sigmoid)
    dwt: dict  # projection -> pending DWt (only non-zero between trials in legacy mode)
    wb_inc: dict  # projection -> [receivers...] weight-balance factors (§3.6)
    wb_dec: dict
    n_wt_updates: jax.Array  # int32, WtBal runs on every 10th update
    units: dict  # layer -> UnitVars
    lay: dict  # layer -> LayerVars


def _uniform_fanin_idx(key, n_recv: int, n_send: int, k: int):
    """Exactly k distinct random senders per receiver (emergent prjn.UnifRnd, §2.2)."""
    return jnp.argsort(jax.random.uniform(key, (n_recv, n_send)), axis=-1)[:, :k].astype(jnp.int32)


def _mask_from_idx(idx, n_send: int):
    rows = jnp.arange(idx.shape[0])[:, None]
    return jnp.zeros((idx.shape[0], n_send), jnp.float32).at[rows, idx].set(1.0)


def init_net(key, p: HippocampusParams = HippocampusParams()) -> Net:
    """Build one network: connectivity, weights (with symmetry) and initial unit state."""
    keys = jax.random.split(key, 16)
    # connectivity (§2.2): uniform random with exact fan-in
    mask = {
        "ecin_ca1": jnp.ones(WEIGHT_SHAPES["ecin_ca1"], jnp.float32),
        "ca1_ecout": jnp.ones(WEIGHT_SHAPES["ca1_ecout"], jnp.float32),
        "ecout_ca1": jnp.ones(WEIGHT_SHAPES["ecout_ca1"], jnp.float32),
        "ecin_dg": _mask_from_idx(_uniform_fanin_idx(keys[0], DG_N, EC_N, p.fanin_ecin_dg), EC_N),
        "ecin_ca3": _mask_from_idx(_uniform_fanin_idx(keys[1], CA3_N, EC_N, p.fanin_ecin_ca3), EC_N),
        "ca3_ca3": 1.0 - jnp.eye(CA3_N, dtype=jnp.float32),  # full without self-connections (299)
        "ca3_ca1": jnp.ones(WEIGHT_SHAPES["ca3_ca1"], jnp.float32),
    }
    idx_dg_ca3 = _uniform_fanin_idx(keys[2], CA3_N, DG_N, p.fanin_dg_ca3)
    w_dg_ca3 = jax.random.uniform(keys[3], (CA3_N, p.fanin_dg_ca3), minval=0.89, maxval=0.91)
    w_ecout_ecin = jax.random.uniform(keys[4], (EC_N,), minval=0.89, maxval=0.91)

    # initial weights U(.25,.75) (mean .5, var .25; §2.2)
    wt = {}
    for i, prj in enumerate(LEARNING_PROJECTIONS):
        wt[prj] = jax.random.uniform(keys[5 + i], WEIGHT_SHAPES[prj], minval=0.25, maxval=0.75)
    # symmetry (WtInit.Sym): the lower-layer-index sender's weights are copied to the reciprocal
    wt["ca1_ecout"] = jnp.swapaxes(wt["ecout_ca1"], 1, 2)
    w = wt["ca3_ca3"]
    wt["ca3_ca3"] = jnp.where(jnp.tril(jnp.ones_like(w)) > 0, w, w.T)
    wt = {k: v * mask[k] for k, v in wt.items()}
    lwt = {k: L.sig_wt_inverse(v, p.learn) * mask[k] for k, v in wt.items()}
    dwt = {k: jnp.zeros_like(v) for k, v in wt.items()}
    wb_inc = {k: jnp.ones(v.shape[:-1], jnp.float32) for k, v in wt.items()}
    wb_dec = {k: jnp.ones(v.shape[:-1], jnp.float32) for k, v in wt.items()}

    units, lay = {}, {}
    for name in LAYERS:
        n = LAYER_SIZE[name]
        a0 = jnp.full((n,), p.avg.avg_init, jnp.float32)
        units[name] = UnitVars(
            avg_ss=a0, avg_s=a0, avg_m=a0,
            avg_l=jnp.full((n,), p.avg.avg_l_init, jnp.float32),
            avg_l_lrn=jnp.zeros((n,), jnp.float32),
            act_m=jnp.zeros((n,), jnp.float32), act_p=jnp.zeros((n,), jnp.float32),
        )
        init = jnp.float32(p.avg.init(name))
        lay[name] = LayerVars(
            act_m_avg=init, act_p_avg=init, first=jnp.float32(1.0),
            cos_diff_avg=jnp.float32(0.0), mod_avg_llrn=jnp.float32(0.0),
        )
    conn = Conn(mask=mask, idx_dg_ca3=idx_dg_ca3, w_dg_ca3=w_dg_ca3, w_ecout_ecin=w_ecout_ecin)
    return Net(conn=conn, wt=wt, lwt=lwt, dwt=dwt, wb_inc=wb_inc, wb_dec=wb_dec,
               n_wt_updates=jnp.int32(0), units=units, lay=lay)


def connection_counts(net: Net) -> dict[str, jax.Array]:
    """Inputs per receiving unit of every projection (for the §2.2 checks: 36, 36, 12, 299, 300, 12/40)."""
    m = net.conn.mask
    return {
        "in_ecin": jnp.ones((EC_N,), jnp.int32),
        "ecout_ecin": jnp.ones((EC_N,), jnp.int32),
        "ecin_ca1": m["ecin_ca1"].sum(-1).reshape(-1),
        "ca1_ecout": m["ca1_ecout"].sum(-1).reshape(-1),
        "ecout_ca1": m["ecout_ca1"].sum(-1).reshape(-1),
        "ecin_dg": m["ecin_dg"].sum(-1),
        "ecin_ca3": m["ecin_ca3"].sum(-1),
        "ca3_ca3": m["ca3_ca3"].sum(-1),
        "dg_ca3": jnp.asarray([len(set(r)) for r in net.conn.idx_dg_ca3.tolist()]),
        "ca3_ca1": m["ca3_ca1"].sum(-1),
    }

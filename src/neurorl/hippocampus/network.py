"""Network state of one hip model: connectivity, weights and the per-unit / per-layer variables
that persist between trials. Built from a PRNG key; a batch of networks is a vmapped build.

Connectivity and initial weights: ../shared/reference/hippocampus.md §2.2.
Weight arrays are [receiver, sender] (pool one-to-one ones are [pool, receiver, sender]),
so the net input is ``W @ act``. Missing connections carry weight 0 and a 0 mask.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

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


def _uniform_fanin_idx(rng: np.random.Generator, n_recv: int, n_send: int, k: int) -> np.ndarray:
    """Exactly k distinct random senders per receiver (emergent prjn.UnifRnd, §2.2)."""
    return np.argsort(rng.random((n_recv, n_send)), axis=-1)[:, :k].astype(np.int32)


def _mask_from_idx(idx: np.ndarray, n_send: int) -> np.ndarray:
    m = np.zeros((idx.shape[0], n_send), np.float32)
    m[np.arange(idx.shape[0])[:, None], idx] = 1.0
    return m


def _sig_inverse_np(wt: np.ndarray, p: HippocampusParams) -> np.ndarray:
    return np.asarray(L.sig_wt_inverse(jnp.asarray(wt), p.learn))


def seed_of(key) -> np.ndarray:
    """A numpy seed from a JAX PRNG key (or an int)."""
    if isinstance(key, (int, np.integer)):
        return np.asarray([int(key)], np.uint64)
    if isinstance(key, jax.Array) and jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        key = jax.random.key_data(key)
    return np.asarray(key, np.uint32).astype(np.uint64).reshape(-1)


def init_net_numpy(key, p: HippocampusParams = HippocampusParams()) -> dict:
    """Build one network as numpy arrays (host side: connectivity sampling does not belong in XLA)."""
    rng = np.random.default_rng(seed_of(key))
    mask = {
        "ecin_ca1": np.ones(WEIGHT_SHAPES["ecin_ca1"], np.float32),
        "ca1_ecout": np.ones(WEIGHT_SHAPES["ca1_ecout"], np.float32),
        "ecout_ca1": np.ones(WEIGHT_SHAPES["ecout_ca1"], np.float32),
        "ecin_dg": _mask_from_idx(_uniform_fanin_idx(rng, DG_N, EC_N, p.fanin_ecin_dg), EC_N),
        "ecin_ca3": _mask_from_idx(_uniform_fanin_idx(rng, CA3_N, EC_N, p.fanin_ecin_ca3), EC_N),
        "ca3_ca3": 1.0 - np.eye(CA3_N, dtype=np.float32),  # full without self-connections (299)
        "ca3_ca1": np.ones(WEIGHT_SHAPES["ca3_ca1"], np.float32),
    }
    idx_dg_ca3 = _uniform_fanin_idx(rng, CA3_N, DG_N, p.fanin_dg_ca3)
    w_dg_ca3 = rng.uniform(0.89, 0.91, (CA3_N, p.fanin_dg_ca3)).astype(np.float32)
    w_ecout_ecin = rng.uniform(0.89, 0.91, (EC_N,)).astype(np.float32)
    # initial weights U(.25,.75) (mean .5, var .25; §2.2)
    wt = {prj: rng.uniform(0.25, 0.75, WEIGHT_SHAPES[prj]).astype(np.float32) for prj in LEARNING_PROJECTIONS}
    # symmetry (WtInit.Sym): the lower-layer-index sender's weights are copied to the reciprocal
    wt["ca1_ecout"] = np.ascontiguousarray(np.swapaxes(wt["ecout_ca1"], 1, 2))
    w = wt["ca3_ca3"]
    wt["ca3_ca3"] = np.where(np.tril(np.ones_like(w)) > 0, w, w.T)
    wt = {k: v * mask[k] for k, v in wt.items()}
    return dict(mask=mask, idx_dg_ca3=idx_dg_ca3, w_dg_ca3=w_dg_ca3, w_ecout_ecin=w_ecout_ecin, wt=wt)


@functools.partial(jax.jit, static_argnames=("p",))
def _lwt_init(wt, mask, p):
    return {k: L.sig_wt_inverse(v, p.learn) * mask[k] for k, v in wt.items()}


def assemble_net(host: dict, p: HippocampusParams = HippocampusParams()) -> Net:
    """Turn (possibly batched) host arrays from ``init_net_numpy`` into a Net with initial state.

    Everything but the weight-sigmoid inverse is built in numpy and sent to the device in one
    ``device_put``: the experiment assembles a hundred networks while other networks train on the
    other core, where each small eager jnp op cost ≈ 0.3 ms (≈ 60 of them per network)."""
    f32 = np.float32
    wt_host = {k: np.asarray(v, f32) for k, v in host["wt"].items()}
    batch = np.shape(host["w_ecout_ecin"])[:-1]
    units, lay = {}, {}
    for name in LAYERS:
        n = LAYER_SIZE[name]
        a0 = np.full(batch + (n,), p.avg.avg_init, f32)
        z = np.zeros(batch + (n,), f32)
        units[name] = UnitVars(avg_ss=a0, avg_s=a0, avg_m=a0, avg_l=np.full(batch + (n,), p.avg.avg_l_init, f32),
                               avg_l_lrn=z, act_m=z, act_p=z)
        init = np.full(batch, p.avg.init(name), f32)
        lay[name] = LayerVars(act_m_avg=init, act_p_avg=init, first=np.ones(batch, f32),
                              cos_diff_avg=np.zeros(batch, f32), mod_avg_llrn=np.zeros(batch, f32))
    conn = Conn(mask={k: np.asarray(v, f32) for k, v in host["mask"].items()},
                idx_dg_ca3=np.asarray(host["idx_dg_ca3"]), w_dg_ca3=np.asarray(host["w_dg_ca3"], f32),
                w_ecout_ecin=np.asarray(host["w_ecout_ecin"], f32))
    on_host = dict(conn=conn, wt=wt_host, dwt={k: np.zeros_like(v) for k, v in wt_host.items()},
                   wb_inc={k: np.ones(v.shape[:-1], f32) for k, v in wt_host.items()},
                   wb_dec={k: np.ones(v.shape[:-1], f32) for k, v in wt_host.items()},
                   n_wt_updates=np.zeros(batch, np.int32), units=units, lay=lay)
    d = jax.device_put(on_host)
    return Net(lwt=_lwt_init(d["wt"], d["conn"].mask, p), **d)


def init_net(key, p: HippocampusParams = HippocampusParams()) -> Net:
    """Build one network: connectivity, weights (with symmetry) and initial unit state."""
    return assemble_net(init_net_numpy(key, p), p)


def init_nets(keys, p: HippocampusParams = HippocampusParams()) -> Net:
    """A batch of independent networks (leading axis), one per key."""
    if isinstance(keys, jax.Array) and jnp.issubdtype(keys.dtype, jax.dtypes.prng_key):
        keys = jax.random.key_data(keys)
    hosts = [init_net_numpy(k, p) for k in np.asarray(keys)]
    stacked = jax.tree_util.tree_map(lambda *xs: np.stack(xs), *hosts)
    return assemble_net(stacked, p)


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

"""The same theta-phase trial as ``dynamics.trial``, restructured for CPU speed (non-legacy only).

Every equation and constant is the reference's (../shared/reference/hippocampus.md: per-cycle order
§3.1, noisy X/(X+1) §3.2, scaling §3.3, trial start §3.4, phase schedule §2.3, MemStats §2.5,
learning §2.4/§3.6); the unit equations are the very functions of ``layers.py``. What differs is
only how the work is laid out (measured on the team's 2-core CPU, docs/hippocampus.md "Speed"):

* One network at a time. XLA:CPU runs a matrix-vector product of one network's weights
  (L2-resident, ~1.2 MB touched per cycle) 3-6x faster per network than the batched
  matrix-vector products of a ``vmap`` over networks (each with its own weights), which
  stream every network's weights from memory each cycle.
* The five layers' unit state is one flat vector (ECin | ECout | CA1 | DG | CA3, 1693 units), so a
  cycle is a handful of fused kernels instead of one per layer and variable.
* Q2 and Q3 run as one 50-cycle scan (nothing reads the end-of-Q2 snapshot); Q1 skips the mossy
  input (its scale is 0 in Q1, §2.3) and CA1 <- CA3 (Abs 0); Q2-Q3 skip CA1 <- ECin (Abs 0).
* Pool activity of the previous cycle (FFFB feedback, §3.1 step 3) is recomputed from Act at the
  start of the cycle: it is the same number (0 after the trial-start decay, the pool mean after).
* Test items of one network run together: the products become matrix-matrix products.

Sums are evaluated in a different order than in ``dynamics.py`` (fused kernels, matrix-matrix
products), so results agree with it up to float32 rounding; tests/hippocampus/test_fast.py checks
the agreement on single trials, on a trained network and on a small recall grid.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from neurorl.hippocampus import layers as L
from neurorl.hippocampus import learning as LR
from neurorl.hippocampus.dynamics import (
    MemStats,
    TrialOut,
    _cos_diff,
    alpha_cyc_init,
    gscales,
    mem_stats,
    phases,
)
from neurorl.hippocampus.network import Net
from neurorl.hippocampus.params import (
    CA1_N,
    CA1_POOL_SIZE,
    CA3_N,
    DG_N,
    EC_N,
    EC_POOL_SIZE,
    EC_POOLS,
    ECCA1_PROJECTIONS,
    HIDDEN,
    LAYERS,
    PROJECTION_RECEIVER,
    PROJECTION_SENDER,
    HippocampusParams,
)

SIZES = {"ecin": EC_N, "ecout": EC_N, "ca1": CA1_N, "dg": DG_N, "ca3": CA3_N}


class LayerAct(NamedTuple):
    """Transient activity state of one layer, reset at every trial start (§3.4), plus its learning
    averages (§3.1 step 5), which are not reset."""

    act: jax.Array
    sent: jax.Array
    ge: jax.Array
    vm: jax.Array
    fbi: jax.Array  # [..., pools]
    avg_ss: jax.Array
    avg_s: jax.Array
    avg_m: jax.Array


POOLS = {"ecin": EC_POOLS, "ecout": EC_POOLS, "ca1": EC_POOLS, "dg": 1, "ca3": 1}  # FFFB pools (§2.1)


def _pooled(x, name):
    return x.reshape(x.shape[:-1] + (POOLS[name], -1))


def _pool_mv(w, sent, pool_send: int):
    """Pool one-to-one product: [P, R, S] weights, sender vector(s) [..., P*S] -> [..., P*R]."""
    lead = sent.shape[:-1]
    out = jnp.einsum("prs,...ps->...pr", w, sent.reshape(lead + (EC_POOLS, pool_send)))
    return out.reshape(lead + (-1,))


def _mv(w, x):
    """Dense [R, S] weights times sender vector(s) [..., S] -> [..., R]."""
    return jnp.einsum("rs,...s->...r", w, x)


def _mossy(net: Net, sent_dg):
    """DG -> CA3: 12 fixed random senders per CA3 unit (§2.2 #9), as a gather. With an item axis the
    gather takes whole rows of the transposed [DG unit, item] activity (contiguous copies)."""
    w, idx = net.conn.w_dg_ca3, net.conn.idx_dg_ca3
    if sent_dg.ndim == 1:
        return jnp.sum(w * sent_dg[idx], axis=-1)
    rows = sent_dg.T[idx]  # [300, 12, items]
    return jnp.sum(w[:, :, None] * rows, axis=1).T


def _cycles(net: Net, st: dict, sent_in, sc: dict, n: int, p: HippocampusParams, *, ca1_from_ecin: bool,
            mossy: bool, clamp=None) -> dict:
    """``n`` Leabra cycles (§3.1) of all layers of one network (any leading item axes on the state).

    ``ca1_from_ecin``: Q1/Q4 (CA1 <- ECin, Abs 1) vs Q2-Q3 (CA1 <- CA3). ``mossy``: DG -> CA3 on
    (its scale is 0 in Q1). ``clamp``: ECout (act, vm) hard clamp of the training plus phase, or None.
    """
    wt, conn = net.wt, net.conn
    pi, pa, px = p.inhib, p.act, p.nxx1
    in_term = sc["in_ecin"] * p.w_in_ecin * sent_in  # constant over the trial (Input is hard clamped)

    def cycle(st: dict, _):
        sent = {k: L.update_sent(a.act, a.sent, pa) for k, a in st.items()}  # step 1: delta-coded sending
        # step 1: GeRaw per receiving layer, same terms and order as dynamics._net_inputs
        raw = {"ecin": in_term + sc["ecout_ecin"] * conn.w_ecout_ecin * sent["ecout"],
               "ecout": sc["ca1_ecout"] * _pool_mv(wt["ca1_ecout"], sent["ca1"], CA1_POOL_SIZE)}
        ca1 = sc["ecout_ca1"] * _pool_mv(wt["ecout_ca1"], sent["ecout"], EC_POOL_SIZE)
        if ca1_from_ecin:
            ca1 = ca1 + sc["ecin_ca1"] * _pool_mv(wt["ecin_ca1"], sent["ecin"], EC_POOL_SIZE)
        else:
            ca1 = ca1 + sc["ca3_ca1"] * _mv(wt["ca3_ca1"], sent["ca3"])
        raw["ca1"] = ca1
        raw["dg"] = sc["ecin_dg"] * _mv(wt["ecin_dg"], sent["ecin"])
        ca3 = sc["ecin_ca3"] * _mv(wt["ecin_ca3"], sent["ecin"]) + sc["ca3_ca3"] * _mv(wt["ca3_ca3"], sent["ca3"])
        if mossy:
            ca3 = ca3 + sc["dg_ca3"] * _mossy(net, sent["dg"])
        raw["ca3"] = ca3
        new = {}
        for name, a in st.items():
            if name == "ecout" and clamp is not None:  # hard clamped (training Q4): ge and fbi stay (dynamics.py)
                act, vm, ge, fbi = clamp[0], clamp[1], a.ge, a.fbi
            else:
                pool_act = _pooled(a.act, name).mean(-1)  # previous cycle's pool average Act (§3.1 step 6)
                ge = L.integrate_ge(a.ge, raw[name], pa)
                ge_p = _pooled(ge, name)
                gi_p, fbi = L.fffb(ge_p.mean(-1), ge_p.max(-1) if pi.max_vs_avg else 0.0, pool_act, a.fbi,
                                   pi.gi(name), pi)  # step 3
                gi = jnp.repeat(gi_p, SIZES[name] // POOLS[name], axis=-1)
                vm, act = L.vm_act_update(a.vm, a.act, ge, gi, pa, px)  # step 4
            if a.avg_ss is None:  # testing: the learning averages are not kept (the network is unchanged)
                ss = a_s = a_m = None
            else:
                ss, a_s, a_m = L.update_learning_avgs(act, a.avg_ss, a.avg_s, a.avg_m, p.avg)  # step 5
            new[name] = LayerAct(act, sent[name], ge, vm, fbi, ss, a_s, a_m)
        return new, None

    st, _ = jax.lax.scan(cycle, st, None, length=n)
    return st


def _sc(lay: dict, ph, p: HippocampusParams) -> dict:
    return {k: jnp.asarray(v, jnp.float32) for k, v in gscales(lay, ph, p).items()}


def run_trial_cycles(net: Net, ext_in, train: bool, p: HippocampusParams):
    """Q1, Q2-Q3 and (training only) Q4 of one trial (§2.3). ``ext_in`` [..., 144] (leading item axes
    allowed when testing). Returns (final state {layer: LayerAct}, act_q1, act_m, act_p or None), the
    snapshots as {layer: Act}."""
    q1, qm, qp = phases(p, train)
    lead = ext_in.shape[:-1]
    st = {}
    for name in LAYERS:
        u = net.units[name]
        z = jnp.zeros(lead + (SIZES[name],), jnp.float32)
        avgs = (u.avg_ss, u.avg_s, u.avg_m) if train else (None, None, None)  # only learning reads them
        st[name] = LayerAct(act=z, sent=z, ge=z, vm=jnp.full(z.shape, p.act.vm_init, jnp.float32),
                            fbi=jnp.zeros(lead + (POOLS[name],), jnp.float32),
                            avg_ss=avgs[0], avg_s=avgs[1], avg_m=avgs[2])
    _, act_in = L.hard_clamp(ext_in, p.act, p.nxx1)
    sent_in = jnp.where(act_in > p.act.send_thr, act_in, 0.0)
    cpq = p.cycles_per_quarter
    st = _cycles(net, st, sent_in, _sc(net.lay, q1, p), cpq, p, ca1_from_ecin=True, mossy=False)
    act_q1 = {k: a.act for k, a in st.items()}
    st = _resend(st)  # InitGInc at the phase switch: every unit re-sends
    st = _cycles(net, st, sent_in, _sc(net.lay, qm, p), 2 * cpq, p, ca1_from_ecin=False,
                 mossy=not _zero(qm.rel_dg_ca3))
    act_m = {k: a.act for k, a in st.items()}
    if not train:
        return st, act_q1, act_m, None
    st = _resend(st)
    vm_c, act_c = L.hard_clamp(st["ecin"].act, p.act, p.nxx1)  # Q3 -> Q4: ECout target := ECin Act
    st = _cycles(net, st, sent_in, _sc(net.lay, qp, p), cpq, p, ca1_from_ecin=True,
                 mossy=not _zero(qp.rel_dg_ca3), clamp=(act_c, vm_c))
    return st, act_q1, act_m, {k: a.act for k, a in st.items()}


def _resend(st: dict) -> dict:
    return {k: a._replace(sent=jnp.zeros_like(a.sent)) for k, a in st.items()}


def _zero(x) -> bool:
    return isinstance(x, (int, float)) and x == 0.0


# ---- learning (§2.3 snapshots, §2.4 rules, §3.6 weight update) -------------------------------------
# Projections whose mask is all ones by construction (pool one-to-one and full, §2.2): multiplying
# their DWt by the mask changes nothing, so the fast path skips reading those masks.
_FULL_MASK = ("ecin_ca1", "ca1_ecout", "ecout_ca1", "ca3_ca1")


def _wt_from_dwt(wt, lwt, dwt, wb_inc, wb_dec, soft_bound: bool, lp):
    """WtFmDWt (§3.6) as ``learning.wt_from_dwt``, with the DWt expression evaluated once: LWt is
    written first, and Wt = sig(LWt) is recomputed where LWt moved. (The reference also recomputes
    Wt where DWt != 0 but LWt did not move; there sig(LWt) equals the stored Wt up to float rounding.)"""
    inc, dec = wb_inc[..., None], wb_dec[..., None]
    if soft_bound:
        d = jnp.where(dwt > 0.0, dwt * inc * (1.0 - lwt), dwt * dec * lwt)
    else:
        d = jnp.where(dwt > 0.0, dwt * inc, dwt * dec)
    new_lwt = jnp.where(dwt != 0.0, jnp.clip(lwt + d, 0.0, 1.0), lwt)
    new_lwt = jax.lax.optimization_barrier(new_lwt)  # materialise: XLA:CPU would recompute DWt for Wt
    return jnp.where(new_lwt != lwt, L.sig_wt(new_lwt, lp), wt), new_lwt


def learn(net: Net, snap: dict, p: HippocampusParams) -> Net:
    """``dynamics.apply_dwt(dynamics.compute_dwt(net, snap))`` for the corrected schedule, where the
    pending DWt is always zero before and after: the same DWt terms in the same order, applied at
    once, without multiplying by masks that are all ones."""
    lp = p.learn

    def rv(name, key, pool):
        v = snap[name][key]
        return v.reshape(EC_POOLS, -1) if pool else v

    def masked(prj, d):
        return d if prj in _FULL_MASK else d * net.conn.mask[prj]

    wt, lwt = dict(net.wt), dict(net.lwt)
    for prj in ECCA1_PROJECTIONS:  # EcCa1 rule (§2.4)
        s, r = PROJECTION_SENDER[prj], PROJECTION_RECEIVER[prj]
        pool = prj in ("ecin_ca1", "ca1_ecout", "ecout_ca1")
        d = LR.dwt_ecca1(rv(r, "act_p", pool), rv(r, "act_q1", pool), rv(r, "slrn", pool), rv(r, "avg_l", pool),
                         rv(r, "avg_l_lrn", pool), rv(s, "act_p", pool), rv(s, "act_q1", pool), rv(s, "slrn", pool), lp)
        dwt = masked(prj, lp.lrate(prj) * d)
        wt[prj], lwt[prj] = _wt_from_dwt(net.wt[prj], net.lwt[prj], dwt, net.wb_inc[prj], net.wb_dec[prj],
                                         LR.is_soft_bound(prj), lp)
    for prj, minus, hebb, cor in (("ecin_dg", "act_q1", lp.hebb_ecin_dg, lp.savg_cor_ecin_dg),
                                  ("ca3_ca1", "act_m", lp.hebb_ca3_ca1, lp.savg_cor_ca3_ca1)):  # CHL (§2.4)
        s, r = PROJECTION_SENDER[prj], PROJECTION_RECEIVER[prj]
        sc = LR.savg_cor(net.lay[s].act_p_avg, cor, lp)
        d = LR.dwt_chl(snap[r]["act_p"], snap[r][minus], snap[s]["act_p"], snap[s][minus], net.lwt[prj], sc, hebb)
        on = (snap[s]["act_p"].mean() >= lp.savg_thr).astype(jnp.float32)  # skip if sender ActP avg < .001
        dwt = masked(prj, lp.lrate(prj) * on * d)
        wt[prj], lwt[prj] = _wt_from_dwt(net.wt[prj], net.lwt[prj], dwt, net.wb_inc[prj], net.wb_dec[prj],
                                         LR.is_soft_bound(prj), lp)
    n = net.n_wt_updates + 1
    bal = tuple(prj for prj in wt if HIDDEN[PROJECTION_RECEIVER[prj]])  # not for Target receivers (ECout)

    def balance(wts):  # every WtBalInterval-th update only (§3.6)
        return {prj: LR.wtbal(w, lp) for prj, w in wts.items()}

    def keep(wts):
        return {prj: (net.wb_inc[prj], net.wb_dec[prj]) for prj in wts}

    factors = jax.lax.cond((n % lp.wtbal_interval) == 0, balance, keep, {prj: wt[prj] for prj in bal})
    wb_inc = {**net.wb_inc, **{prj: f[0] for prj, f in factors.items()}}
    wb_dec = {**net.wb_dec, **{prj: f[1] for prj, f in factors.items()}}
    return net._replace(wt=wt, lwt=lwt, wb_inc=wb_inc, wb_dec=wb_dec, n_wt_updates=n)


def train_trial(net: Net, pattern, p: HippocampusParams) -> tuple[Net, TrialOut]:
    """One training trial of one network: ``dynamics.trial(net, pattern, pattern, train=True)``
    (corrected schedule: this trial's weight change is applied at its end)."""
    if p.legacy:
        raise ValueError("the fast path implements the corrected schedule only; legacy=True uses dynamics.trial")
    net = alpha_cyc_init(net, update=True, p=p)
    st, act_q1, act_m, act_p = run_trial_cycles(net, pattern, True, p)
    mem = mem_stats(act_m["ecout"], jnp.clip(pattern, 0.0, 1.0), act_q1["ecin"], p.mem_thr)
    out = TrialOut(recall=act_m["ecout"], mem=mem, act_avg={k: v.mean() for k, v in act_m.items()})
    units, lay, snap = {}, {}, {}
    for name in LAYERS:
        a, u, lv = st[name], net.units[name], net.lay[name]
        units[name] = u._replace(avg_ss=a.avg_ss, avg_s=a.avg_s, avg_m=a.avg_m, act_m=act_m[name], act_p=act_p[name])
        cos = _cos_diff(act_m[name], act_p[name])
        cavg = jnp.where(lv.cos_diff_avg == 0.0, cos, lv.cos_diff_avg + (cos - lv.cos_diff_avg) / p.avg.cos_diff_tau)
        mod = jnp.maximum(1.0 - cavg, p.avg.mod_min) if HIDDEN[name] else jnp.float32(0.0)
        lay[name] = lv._replace(cos_diff_avg=cavg, mod_avg_llrn=mod)
        snap[name] = dict(act_q1=act_q1[name], act_m=act_m[name], act_p=act_p[name],
                          slrn=L.avg_s_lrn(a.avg_s, a.avg_m, p.avg), avg_l=u.avg_l, avg_l_lrn=u.avg_l_lrn)
    net = learn(net._replace(units=units, lay=lay), snap, p)  # learning of this same trial (§1.6 quirk 2 fixed)
    return net, out


def test_trials(net: Net, cues, targets, p: HippocampusParams) -> tuple[jax.Array, MemStats, dict]:
    """Test items [M, 144] on one network at once (Q1-Q3, no learning, network unchanged).
    Returns (recall [M, 144], MemStats with [M] fields, act_avg {layer: [M]})."""
    _, act_q1, act_m, _ = run_trial_cycles(net, cues, False, p)
    mem = jax.vmap(lambda a, t, c: mem_stats(a, t, c, p.mem_thr))(act_m["ecout"], jnp.clip(targets, 0.0, 1.0),
                                                                  act_q1["ecin"])
    return act_m["ecout"], mem, {k: v.mean(-1) for k, v in act_m.items()}


# ---- whole schedules of one network, one compiled call each -------------------------------------------
class TrainSlots(NamedTuple):
    """Per training trial of a schedule (NaN after the last trial)."""

    mem: jax.Array
    trg_on_was_off: jax.Array
    trg_off_was_on: jax.Array
    act_avg: dict  # layer -> ActM layer mean
    act_m_avg: dict  # layer -> running ActMAvg after the trial


def train_schedule(net: Net, patterns, order, n_trials, p: HippocampusParams) -> tuple[Net, TrainSlots]:
    """Train one network on ``patterns[order[t]]`` for t < ``n_trials`` (a dynamic count: arrays are
    padded to a few bucket sizes, and padding costs no work). Returns (trained net, TrainSlots [len(order)])."""
    if p.legacy:
        raise ValueError("the fast path implements the corrected schedule only; legacy=True uses dynamics.trial")
    fixed = {"conn": net.conn, "dwt": net.dwt}  # never change in the corrected schedule: not copied out
    state, outs = _train_schedule(net._replace(conn=None, dwt=None), fixed, patterns, order, n_trials, p)
    return state._replace(**fixed), outs


@functools.partial(jax.jit, static_argnames=("p",))
def _train_schedule(state: Net, fixed: dict, patterns, order, n_trials, p: HippocampusParams):
    slots = len(order)
    nan = jnp.full((slots,), jnp.nan, jnp.float32)
    outs0 = TrainSlots(nan, nan, nan, {k: nan for k in LAYERS}, {k: nan for k in LAYERS})

    def body(t, carry):
        state, outs = carry
        new, out = train_trial(state._replace(**fixed), patterns[order[t]], p)
        o = TrainSlots(out.mem.mem_all, out.mem.trg_on_was_off_all, out.mem.trg_off_was_on, out.act_avg,
                       {k: v.act_m_avg for k, v in new.lay.items()})
        outs = jax.tree_util.tree_map(lambda buf, v: buf.at[t].set(v), outs, o)
        return new._replace(conn=None, dwt=None), outs

    return jax.lax.fori_loop(0, n_trials, body, (state, outs0))


class TestChunks(NamedTuple):
    recall: jax.Array  # [M, 144] ECout ActM
    mem: jax.Array  # Mem: the Cmp variant when something is to be completed, else All (§2.5)
    trg_on_was_off: jax.Array
    trg_off_was_on: jax.Array
    cmp_n: jax.Array
    act_avg: dict


@functools.partial(jax.jit, static_argnames=("chunk", "p"))
def test_schedule(net: Net, cues, targets, n_chunks, chunk: int, p: HippocampusParams) -> TestChunks:
    """Test ``cues[:n_chunks * chunk]`` on one network, ``chunk`` items at a time (shared weights:
    matrix-matrix products). Arrays are [M, 144] with M a multiple of ``chunk``; rows past
    ``n_chunks * chunk`` are left as zeros."""
    m = cues.shape[0]
    z = jnp.zeros((m,), jnp.float32)
    outs0 = TestChunks(jnp.zeros((m, EC_N), jnp.float32), z, z, z, jnp.zeros((m,), jnp.int32), {k: z for k in LAYERS})

    def body(c, outs):
        start = c * chunk
        cue = jax.lax.dynamic_slice_in_dim(cues, start, chunk)
        targ = jax.lax.dynamic_slice_in_dim(targets, start, chunk)
        recall, mem, act_avg = test_trials(net, cue, targ, p)
        use_cmp = mem.cmp_n > 0
        o = TestChunks(recall, jnp.where(use_cmp, mem.mem_cmp, mem.mem_all),
                       jnp.where(use_cmp, mem.trg_on_was_off_cmp, mem.trg_on_was_off_all), mem.trg_off_was_on,
                       mem.cmp_n.astype(jnp.int32), act_avg)
        return jax.tree_util.tree_map(lambda buf, v: jax.lax.dynamic_update_slice_in_dim(buf, v, start, 0), outs, o)

    return jax.lax.fori_loop(0, n_chunks, body, outs0)


@functools.partial(jax.jit, static_argnames=("p",))
def train_trial_jit(net, pattern, p):
    return train_trial(net, pattern, p)


@functools.partial(jax.jit, static_argnames=("p",))
def test_trials_jit(net, cues, targets, p):
    return test_trials(net, cues, targets, p)

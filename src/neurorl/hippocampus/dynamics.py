"""One theta-phase trial of the hip model: 4 quarters x 25 cycles, each quarter one ``lax.scan``.

Sources (../shared/reference/hippocampus.md): per-cycle order §3.1, input scaling §3.3,
trial start §3.4, phase schedule and snapshots §2.3, MemStats §2.5, learning §2.4 and §3.6.
``trial`` works on one network and one pattern; vmap it over networks and/or test items.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from neurorl.hippocampus import layers as L
from neurorl.hippocampus import learning as LR
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
    LAYER_POOLS,
    LAYERS,
    PROJECTION_RECEIVER,
    PROJECTION_SENDER,
    HippocampusParams,
)

# (sender units, connections per receiver) for the scaling of §3.3
_SC_GEOMETRY = {
    "in_ecin": (EC_N, 1),
    "ecout_ecin": (EC_N, 1),
    "ecin_ca1": (EC_N, EC_POOL_SIZE),
    "ecout_ca1": (EC_N, EC_POOL_SIZE),
    "ca3_ca1": (CA3_N, CA3_N),
    "ca1_ecout": (CA1_N, CA1_POOL_SIZE),
    "ecin_dg": (EC_N, 36),
    "ecin_ca3": (EC_N, 36),
    "ca3_ca3": (CA3_N, CA3_N - 1),
    "dg_ca3": (DG_N, 12),
}


class Phase(NamedTuple):
    """Projection switches of one stretch of cycles (§2.3 table). Values may be traced (legacy
    schedules mix train and test trials in one scan); a Python 0.0 lets the cycle skip that input."""

    abs_ecin_ca1: float
    abs_ca3_ca1: float
    rel_dg_ca3: object
    clamp_ecout: object  # bool or traced bool


def phases(p: HippocampusParams, train) -> tuple[Phase, Phase, Phase]:
    """Q1, Q2-Q3 and Q4 settings (§2.3): CA1 <- ECin in Q1 and Q4, CA1 <- CA3 in Q2-Q3,
    no mossy input in Q1, mossy Rel 4 (train) or 1 (test) afterwards, ECout clamped in training Q4."""
    if isinstance(train, bool):
        rel_dg = p.rel_dg_ca3_train if train else p.rel_dg_ca3_test
    else:
        rel_dg = jnp.where(train, p.rel_dg_ca3_train, p.rel_dg_ca3_test)
    return (
        Phase(1.0, 0.0, 0.0, False),
        Phase(0.0, 1.0, rel_dg, False),
        Phase(1.0, 0.0, rel_dg, train),
    )


def _is_zero(x) -> bool:
    return isinstance(x, (int, float)) and x == 0.0


def _round(x):
    return jnp.floor(x + 0.5)  # Go math.Round (half away from zero) for x >= 0


def input_scale_sc(savg, snu: int, ncon: int):
    """sc = 1 / expected number of active senders (§3.3)."""
    slay_act_n = jnp.maximum(1.0, _round(savg * snu))
    if ncon == snu:
        return 1.0 / slay_act_n
    return 1.0 / jnp.minimum(jnp.maximum(1.0, _round(savg * ncon)) + 2.0, jnp.minimum(float(ncon), slay_act_n))


def gscales(lay: dict, ph: Phase, p: HippocampusParams) -> dict:
    """GScale = Abs * Rel / sum(Rel of the receiver's projections) * sc (§3.3)."""
    rel = {
        "in_ecin": 1.0, "ecout_ecin": p.rel_ecout_ecin,
        "ecin_ca1": 1.0, "ecout_ca1": 1.0, "ca3_ca1": 1.0,
        "ca1_ecout": 1.0, "ecin_dg": 1.0,
        "ecin_ca3": 1.0, "ca3_ca3": p.rel_ca3_ca3, "dg_ca3": ph.rel_dg_ca3,
    }
    ab = {k: 1.0 for k in rel}
    ab.update(ecin_ca1=ph.abs_ecin_ca1, ca3_ca1=ph.abs_ca3_ca1, ca1_ecout=p.abs_ca1_ecout)
    rel_sum = {}
    for prj, r in rel.items():
        rel_sum[PROJECTION_RECEIVER[prj]] = rel_sum.get(PROJECTION_RECEIVER[prj], 0.0) + r
    out = {}
    for prj, (snu, ncon) in _SC_GEOMETRY.items():
        snd = PROJECTION_SENDER[prj]
        savg = jnp.float32(0.15) if snd == "in" else lay[snd].act_p_avg  # Input: sc is 1 for one-to-one anyway
        sc = input_scale_sc(savg, snu, ncon)
        out[prj] = ab[prj] * rel[prj] / rel_sum[PROJECTION_RECEIVER[prj]] * sc
    return out


class Act(NamedTuple):
    """Transient per-layer activity state, reset at every trial start (§3.4)."""

    act: jax.Array
    sent: jax.Array
    ge: jax.Array
    vm: jax.Array
    fbi: jax.Array  # per pool
    pool_act: jax.Array  # per pool average Act of the previous cycle


def _decayed(n: int, pools: int, p: HippocampusParams) -> Act:
    z = jnp.zeros((n,), jnp.float32)
    zp = jnp.zeros((pools,), jnp.float32)
    return Act(act=z, sent=z, ge=z, vm=jnp.full((n,), p.act.vm_init, jnp.float32), fbi=zp, pool_act=zp)


def _pool_matvec(w, sent, pool_send: int):
    return jnp.einsum("prs,ps->pr", w, sent.reshape(EC_POOLS, pool_send)).reshape(-1)


def _net_inputs(net: Net, sc: dict, sent: dict, sent_in, ph: Phase, p: HippocampusParams) -> dict:
    """GeRaw per receiving layer from what every sender currently sends (§3.1 step 1)."""
    wt, conn = net.wt, net.conn
    raw = {}
    raw["ecin"] = sc["in_ecin"] * p.w_in_ecin * sent_in + sc["ecout_ecin"] * conn.w_ecout_ecin * sent["ecout"]
    raw["ecout"] = sc["ca1_ecout"] * _pool_matvec(wt["ca1_ecout"], sent["ca1"], CA1_POOL_SIZE)
    ca1 = sc["ecout_ca1"] * _pool_matvec(wt["ecout_ca1"], sent["ecout"], EC_POOL_SIZE)
    if not _is_zero(ph.abs_ecin_ca1):  # projections with Abs 0 contribute nothing: skip the work
        ca1 = ca1 + sc["ecin_ca1"] * _pool_matvec(wt["ecin_ca1"], sent["ecin"], EC_POOL_SIZE)
    if not _is_zero(ph.abs_ca3_ca1):
        ca1 = ca1 + sc["ca3_ca1"] * (wt["ca3_ca1"] @ sent["ca3"])
    raw["ca1"] = ca1
    raw["dg"] = sc["ecin_dg"] * (wt["ecin_dg"] @ sent["ecin"])
    ca3 = sc["ecin_ca3"] * (wt["ecin_ca3"] @ sent["ecin"]) + sc["ca3_ca3"] * (wt["ca3_ca3"] @ sent["ca3"])
    if not _is_zero(ph.rel_dg_ca3):
        ca3 = ca3 + sc["dg_ca3"] * jnp.sum(conn.w_dg_ca3 * sent["dg"][conn.idx_dg_ca3], axis=-1)
    raw["ca3"] = ca3
    return raw


def run_cycles(net: Net, acts: dict, avgs: dict, sent_in, ecout_clamp, ph: Phase, sc: dict, n: int,
               p: HippocampusParams):
    """``n`` Leabra cycles (§3.1) under one set of projection switches, as one lax.scan."""

    def cycle(carry, _):
        acts, avgs = carry
        sent = {k: L.update_sent(a.act, a.sent, p.act) for k, a in acts.items()}  # step 1: send
        raw = _net_inputs(net, sc, sent, sent_in, ph, p)
        new_acts, new_avgs = {}, {}
        for name in LAYERS:
            a = acts[name]
            if name == "ecout" and ph.clamp_ecout is True:  # hard clamped in training Q4
                vm, act = L.hard_clamp(ecout_clamp, p.act, p.nxx1)
                ge, fbi, pool_act = a.ge, a.fbi, act.reshape(LAYER_POOLS[name], -1).mean(-1)
            else:
                ge = L.integrate_ge(a.ge, raw[name], p.act)
                pools = LAYER_POOLS[name]
                ge_p = ge.reshape(pools, -1)
                gi_p, fbi = L.fffb(ge_p.mean(-1), ge_p.max(-1) if p.inhib.max_vs_avg else 0.0,
                                   a.pool_act, a.fbi, p.inhib.gi(name), p.inhib)  # step 3
                gi = jnp.repeat(gi_p, LAYER_SIZE_PER_POOL[name])
                vm, act = L.vm_act_update(a.vm, a.act, ge, gi, p.act, p.nxx1)  # step 4
                if name == "ecout" and not isinstance(ph.clamp_ecout, bool):  # traced: clamp or not
                    vm_c, act_c = L.hard_clamp(ecout_clamp, p.act, p.nxx1)
                    vm, act = jnp.where(ph.clamp_ecout, vm_c, vm), jnp.where(ph.clamp_ecout, act_c, act)
                pool_act = act.reshape(pools, -1).mean(-1)  # step 6
            new_acts[name] = Act(act=act, sent=sent[name], ge=ge, vm=vm, fbi=fbi, pool_act=pool_act)
            ss, s, m = avgs[name]
            new_avgs[name] = L.update_learning_avgs(act, ss, s, m, p.avg)  # step 5
        return (new_acts, new_avgs), None

    (acts, avgs), _ = jax.lax.scan(cycle, (acts, avgs), None, length=n)
    return acts, avgs


def run_quarters(net: Net, acts: dict, avgs: dict, sent_in, train, n_quarters: int, p: HippocampusParams):
    """The theta-phase schedule (§2.3) as one scan over quarters, each a 25-cycle scan.

    Two cycle bodies exist (CA1 driven by ECin in Q1/Q4, by CA3 in Q2-Q3); ``lax.cond`` picks one
    per quarter, so each body is compiled once. At the start of Q2 and Q4 every unit re-sends
    (InitGInc); at the start of Q4 the ECout target becomes the current ECin activity and, in
    training, ECout is hard clamped to it. Returns (acts, avgs, snapshots {layer: [quarters, n]}).
    """
    q1, qm, qp = phases(p, train)
    per_q = [q1, qm, qm, qp][:n_quarters]
    scales = [gscales(net.lay, ph, p) for ph in per_q]
    xs = {
        "sc": {k: jnp.stack([jnp.asarray(sc[k], jnp.float32) for sc in scales]) for k in scales[0]},
        "recall": jnp.asarray([False, True, True, False][:n_quarters]),
        "reset": jnp.asarray([False, True, False, True][:n_quarters]),
        "clamp": jnp.stack([jnp.asarray(ph.clamp_ecout, bool) for ph in per_q]),
    }
    static_clamp = train if isinstance(train, bool) else None
    cpq = p.cycles_per_quarter

    def quarter(carry, x):
        acts, avgs, targ = carry
        acts = {k: a._replace(sent=jnp.where(x["reset"], 0.0, a.sent)) for k, a in acts.items()}
        targ = jnp.where(x["reset"], acts["ecin"].act, targ)  # Q3 -> Q4: ECout target := ECin Act
        # Q1/Q4 body: the mossy Rel is traced (0 in Q1), and so is the clamp unless train is static
        clamp = x["clamp"] if static_clamp is None else (x["clamp"] if static_clamp else False)
        ph_a = Phase(1.0, 0.0, 1.0, clamp)
        ph_b = Phase(0.0, 1.0, 1.0, False)

        def body_a(c):
            return run_cycles(net, c[0], c[1], sent_in, targ, ph_a, x["sc"], cpq, p)

        def body_b(c):
            return run_cycles(net, c[0], c[1], sent_in, targ, ph_b, x["sc"], cpq, p)

        acts, avgs = jax.lax.cond(x["recall"], body_b, body_a, (acts, avgs))
        return (acts, avgs, targ), {k: a.act for k, a in acts.items()}

    init_targ = jnp.zeros_like(acts["ecin"].act)
    (acts, avgs, _), snaps = jax.lax.scan(quarter, (acts, avgs, init_targ), xs)
    return acts, avgs, snaps


LAYER_SIZE_PER_POOL = {"ecin": EC_POOL_SIZE, "ecout": EC_POOL_SIZE, "ca1": CA1_POOL_SIZE, "dg": DG_N, "ca3": CA3_N}


class MemStats(NamedTuple):
    """Model's own recall score at the end of Q3 (§2.5)."""

    trg_on_was_off_all: jax.Array
    trg_on_was_off_cmp: jax.Array
    trg_off_was_on: jax.Array
    cmp_n: jax.Array
    mem_all: jax.Array  # training criterion
    mem_cmp: jax.Array  # testing criterion (only meaningful when cmp_n > 0)


def mem_stats(ecout_act_m, ecout_targ, ecin_act_q1, thr: float) -> MemStats:
    trg_on = ecout_targ >= 0.5  # hip.go: trg < .5 is "off"
    on_n = trg_on.sum()
    off_n = (~trg_on).sum()
    cmp = trg_on & (ecin_act_q1 < 0.5)  # completion targets: absent from the cue
    cmp_n = cmp.sum()
    was_off = ecout_act_m < 0.5
    all_ = jnp.sum(trg_on & was_off) / jnp.maximum(on_n, 1)
    cmp_ = jnp.sum(cmp & was_off) / jnp.maximum(cmp_n, 1)
    off_on = jnp.sum(~trg_on & (ecout_act_m > 0.5)) / jnp.maximum(off_n, 1)
    return MemStats(all_, cmp_, off_on, cmp_n,
                    ((all_ < thr) & (off_on < thr)).astype(jnp.float32),
                    ((cmp_ < thr) & (off_on < thr)).astype(jnp.float32))


class TrialOut(NamedTuple):
    recall: jax.Array  # ECout ActM (end of Q3): the recalled pattern [144]
    mem: MemStats
    act_avg: dict  # layer -> mean ActM over units (activity level)


def _running_avg(avg, first, act, p: HippocampusParams):
    """ActMAvg / ActPAvg update (§3.4): skip below 1e-4; the first update moves halfway; then tau 100."""
    rate = jnp.where(first > 0, 0.5, 1.0 / p.avg.act_avg_tau)
    ok = act >= p.avg.act_avg_min
    return jnp.where(ok, avg + rate * (act - avg), avg), ok


def alpha_cyc_init(net: Net, update: bool, p: HippocampusParams) -> Net:
    """Trial start (§3.4): running averages and AvgL from the previous trial (when ``update``)."""
    if not update:
        return net
    units, lay = {}, {}
    for name in LAYERS:
        u, lv = net.units[name], net.lay[name]
        m_avg, ok_m = _running_avg(lv.act_m_avg, lv.first, u.act_m.mean(), p)
        p_avg, ok_p = _running_avg(lv.act_p_avg, lv.first, u.act_p.mean(), p)
        first = jnp.where(ok_m & ok_p, 0.0, lv.first)
        avg_l, avg_l_lrn = L.avg_l_update(u.avg_l, u.avg_m, lv.mod_avg_llrn, p.avg)
        units[name] = u._replace(avg_l=avg_l, avg_l_lrn=avg_l_lrn)
        lay[name] = lv._replace(act_m_avg=m_avg, act_p_avg=p_avg, first=first)
    return net._replace(units=units, lay=lay)


def _cos_diff(act_m, act_p):
    am = act_m - act_m.mean()
    ap = act_p - act_p.mean()
    dist = jnp.sqrt(jnp.sum(am * am) * jnp.sum(ap * ap))
    return jnp.where(dist != 0.0, jnp.sum(am * ap) / jnp.where(dist != 0.0, dist, 1.0), 0.0)


def apply_dwt(net: Net, p: HippocampusParams) -> Net:
    """WtFmDWt on every learning projection, then WtBal every ``wtbal_interval`` updates (§3.6)."""
    wt, lwt, dwt = dict(net.wt), dict(net.lwt), dict(net.dwt)
    for prj in net.wt:
        wt[prj], lwt[prj] = LR.wt_from_dwt(net.wt[prj], net.lwt[prj], net.dwt[prj], net.wb_inc[prj],
                                            net.wb_dec[prj], LR.is_soft_bound(prj), p.learn)
        dwt[prj] = jnp.zeros_like(net.dwt[prj])
    n = net.n_wt_updates + 1
    do_bal = (n % p.learn.wtbal_interval) == 0
    wb_inc, wb_dec = dict(net.wb_inc), dict(net.wb_dec)
    for prj in net.wt:
        if not HIDDEN[PROJECTION_RECEIVER[prj]]:
            continue  # skipped for Target receivers (ECout)
        inc, dec = LR.wtbal(wt[prj], p.learn)
        wb_inc[prj] = jnp.where(do_bal, inc, net.wb_inc[prj])
        wb_dec[prj] = jnp.where(do_bal, dec, net.wb_dec[prj])
    return net._replace(wt=wt, lwt=lwt, dwt=dwt, wb_inc=wb_inc, wb_dec=wb_dec, n_wt_updates=n)


def compute_dwt(net: Net, snap: dict, p: HippocampusParams, scale=1.0) -> Net:
    """Accumulate DWt of all learning projections from this trial's snapshots (§2.3, §2.4)."""
    lp = p.learn

    def pooled(name, v):
        return v.reshape(EC_POOLS, -1) if name in ("ecin", "ecout", "ca1") else v

    def rv(name, key, pool):
        v = snap[name][key]
        return v.reshape(EC_POOLS, -1) if pool else v

    dwt = dict(net.dwt)
    for prj in ECCA1_PROJECTIONS:
        s, r = PROJECTION_SENDER[prj], PROJECTION_RECEIVER[prj]
        pool = prj in ("ecin_ca1", "ca1_ecout", "ecout_ca1")
        d = LR.dwt_ecca1(rv(r, "act_p", pool), rv(r, "act_q1", pool), rv(r, "slrn", pool), rv(r, "avg_l", pool),
                         rv(r, "avg_l_lrn", pool), rv(s, "act_p", pool), rv(s, "act_q1", pool), rv(s, "slrn", pool), lp)
        dwt[prj] = dwt[prj] + (scale * lp.lrate(prj)) * d * net.conn.mask[prj]
    for prj, minus, hebb, cor in (("ecin_dg", "act_q1", lp.hebb_ecin_dg, lp.savg_cor_ecin_dg),
                                  ("ca3_ca1", "act_m", lp.hebb_ca3_ca1, lp.savg_cor_ca3_ca1)):
        s, r = PROJECTION_SENDER[prj], PROJECTION_RECEIVER[prj]
        sc = LR.savg_cor(net.lay[s].act_p_avg, cor, lp)
        d = LR.dwt_chl(snap[r]["act_p"], snap[r][minus], snap[s]["act_p"], snap[s][minus], net.lwt[prj], sc, hebb)
        on = (snap[s]["act_p"].mean() >= lp.savg_thr).astype(jnp.float32)  # skip if sender ActP avg < .001
        dwt[prj] = dwt[prj] + (scale * lp.lrate(prj)) * on * d * net.conn.mask[prj]
    return net._replace(dwt=dwt)


@functools.partial(jax.jit, static_argnames=("train", "p"))
def trial_jit(net, ext_in, targ, *, train: bool, p: HippocampusParams):
    return trial(net, ext_in, targ, train=train, p=p)


def tree_where(cond, a, b):
    """Select between two pytrees with one (traced) boolean."""
    return jax.tree_util.tree_map(lambda x, y: jnp.where(cond, x, y), a, b)


def trial(net: Net, ext_in, targ, *, train, p: HippocampusParams) -> tuple[Net, TrialOut]:
    """One theta-phase trial (§2.3). ``ext_in`` drives Input, ``targ`` is the ECout target.

    Training: Q1-Q4, then DWt and (unless legacy) the weight update of this same trial.
    Testing: Q1-Q3 only (the recall is ECout ActM) unless legacy, where the full trial runs and the
    returned network carries the test's changes (quirk 3, §1.6); otherwise the caller keeps the old one.
    ``train`` is a Python bool, or (legacy schedules only) a traced bool.
    """
    legacy = p.legacy
    static = isinstance(train, bool)
    if not static and not legacy:
        raise ValueError("a traced train flag is only supported with legacy=True")
    if legacy:  # quirk 2: the previous trial's DWt is applied at the start of a training trial
        if static:
            net = apply_dwt(net, p) if train else net
        else:
            net = tree_where(train, apply_dwt(net, p), net)
    net = alpha_cyc_init(net, update=(train is True) or legacy, p=p)
    q1, qm, qp = phases(p, train)
    acts = {name: _decayed(n_, LAYER_POOLS[name], p) for name, n_ in
            (("ecin", EC_N), ("ecout", EC_N), ("ca1", CA1_N), ("dg", DG_N), ("ca3", CA3_N))}
    avgs = {name: (net.units[name].avg_ss, net.units[name].avg_s, net.units[name].avg_m) for name in LAYERS}
    _, act_in = L.hard_clamp(ext_in, p.act, p.nxx1)
    sent_in = jnp.where(act_in > p.act.send_thr, act_in, 0.0)
    full = (train is not False) or legacy  # the plus phase (Q4) only matters when something learns or changes
    acts, avgs, snaps = run_quarters(net, acts, avgs, sent_in, train, 4 if full else 3, p)
    act_q1 = {k: v[0] for k, v in snaps.items()}
    act_m = {k: v[2] for k, v in snaps.items()}
    mem = mem_stats(act_m["ecout"], jnp.clip(targ, 0.0, 1.0), act_q1["ecin"], p.mem_thr)
    out = TrialOut(recall=act_m["ecout"], mem=mem, act_avg={k: v.mean() for k, v in act_m.items()})
    if not full:
        return net, out
    act_p = {k: v[3] for k, v in snaps.items()}

    units, lay, snap = {}, {}, {}
    for name in LAYERS:
        ss, s, m = avgs[name]
        u = net.units[name]
        units[name] = u._replace(avg_ss=ss, avg_s=s, avg_m=m, act_m=act_m[name], act_p=act_p[name])
        lv = net.lay[name]
        cos = _cos_diff(act_m[name], act_p[name])
        cavg = jnp.where(lv.cos_diff_avg == 0.0, cos, lv.cos_diff_avg + (cos - lv.cos_diff_avg) / p.avg.cos_diff_tau)
        mod = jnp.maximum(1.0 - cavg, p.avg.mod_min) if HIDDEN[name] else jnp.float32(0.0)
        lay[name] = lv._replace(cos_diff_avg=cavg, mod_avg_llrn=mod)
        snap[name] = dict(act_q1=act_q1[name], act_m=act_m[name], act_p=act_p[name],
                          slrn=L.avg_s_lrn(s, m, p.avg), avg_l=u.avg_l, avg_l_lrn=u.avg_l_lrn)
    net = net._replace(units=units, lay=lay)
    if static and train:
        net = compute_dwt(net, snap, p)
        if not legacy:
            net = apply_dwt(net, p)  # fixed upstream 2022: apply this trial's weight change now
    elif not static:
        net = compute_dwt(net, snap, p, scale=jnp.where(train, 1.0, 0.0))
    return net, out

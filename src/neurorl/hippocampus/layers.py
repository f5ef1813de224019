"""Leabra unit equations (rate code), as pure elementwise JAX functions.

Source: ../shared/reference/hippocampus.md §3 (emer/leabra v1.1.5 `act.go`, `nxx1.go`,
`fffb.go`, `learn.go`). Each function works on any array shape, so the same code serves one
network, a vmapped batch of networks and a batch of test items.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from neurorl.hippocampus.params import ActParams, AvgParams, InhibParams, LearnParams, NXX1Params


# ---- noisy X/(X+1) (§3.2) ----------------------------------------------------------------------
def xx1_gain_cor(x, p: NXX1Params = NXX1Params()):
    """X/(X+1) with the gain correction near threshold (§3.2, x >= InterpRange branch)."""
    f = jnp.maximum(0.0, (p.gain_cor_range - x / p.nvar) / p.gain_cor_range)
    g = p.gain * (1.0 - p.gain_cor * f)
    gx = g * x
    return gx / (gx + 1.0)


def noisy_xx1(x, p: NXX1Params = NXX1Params()):
    """NoisyXX1(x), x = Vm - Thr or Ge - GeThr. Three branches of §3.2."""
    x = jnp.asarray(x, jnp.float32)
    interp_val = float(_xx1_gain_cor_scalar(p.interp_range, p)) - p.sig_val_at_0  # 0.38440
    neg = p.sig_mult_eff / (1.0 + jnp.exp(jnp.clip(-x * p.sig_gain_nvar, -80.0, 80.0)))
    mid = p.sig_val_at_0 + (x / p.interp_range) * interp_val
    pos = xx1_gain_cor(jnp.maximum(x, p.interp_range), p)
    return jnp.where(x < 0.0, neg, jnp.where(x < p.interp_range, mid, pos))


def _xx1_gain_cor_scalar(x: float, p: NXX1Params) -> float:
    f = max(0.0, (p.gain_cor_range - x / p.nvar) / p.gain_cor_range)
    g = p.gain * (1.0 - p.gain_cor * f)
    return g * x / (g * x + 1.0)


# ---- conductances, membrane, activation (§3.1 steps 1 and 4) -------------------------------------
def update_sent(act, act_sent, p: ActParams = ActParams()):
    """Delta-coded sending (§3.1 step 1): the value a unit currently sends to its receivers.

    A unit above the send threshold re-sends when its Act moved by more than ``send_delta``;
    a unit that fell to or below the threshold "unsends" (sends 0). This reproduces Leabra's
    GeRaw exactly with a dense recompute (GeRaw = sum of W * act_sent).
    """
    above = act > p.send_thr
    resend = jnp.abs(act - act_sent) > p.send_delta
    return jnp.where(above, jnp.where(resend, act, act_sent), jnp.where(act_sent > p.send_thr, 0.0, act_sent))


def integrate_ge(ge, ge_raw, p: ActParams = ActParams()):
    """Ge += (GeRaw - Ge) / GTau (§3.1 step 1)."""
    return ge + (ge_raw - ge) / p.g_tau


def fffb(avg_ge, max_ge, avg_act_prev, fbi, gi_gain: float, p: InhibParams = InhibParams()):
    """Feed-forward / feedback inhibition of one pool (§3.1 step 3). Returns (Gi, new fbi)."""
    ffi = p.ff * jnp.maximum(avg_ge + p.max_vs_avg * (max_ge - avg_ge) - p.ff0, 0.0)
    fbi = fbi + (p.fb * avg_act_prev - fbi) / p.fb_tau
    return gi_gain * (ffi + fbi), fbi


def vm_act_update(vm, act, ge, gi, pa: ActParams = ActParams(), px: NXX1Params = NXX1Params()):
    """One cycle of membrane potential and rate-code activation (§3.1 step 4). Returns (vm, act)."""
    inet = (pa.gbar_e * ge * (pa.erev_e - vm) + pa.gbar_l * (pa.erev_l - vm) + pa.gbar_i * gi * (pa.erev_i - vm))
    vm = jnp.clip(vm + inet / pa.vm_tau, pa.vm_min, pa.vm_max)
    # threshold conductance: (Gi(ErevI - Thr) + GbarL(ErevL - Thr)) / (Thr - ErevE) = 0.5 Gi + 0.04
    ge_thr = (pa.gbar_i * gi * (pa.erev_i - px.thr) + pa.gbar_l * (pa.erev_l - px.thr)) / (px.thr - pa.erev_e)
    use_vm = (act < px.vm_act_thr) & (vm <= px.thr)
    new = noisy_xx1(jnp.where(use_vm, vm - px.thr, pa.gbar_e * ge - ge_thr), px)
    act = act + (new - act) / pa.vm_tau
    return vm, act


def hard_clamp(ext, p: ActParams = ActParams(), px: NXX1Params = NXX1Params()):
    """Hard-clamped units: Act = clip(Ext, 0, .95), Vm = Thr + Act/Gain (§3.1 step 4). Returns (vm, act)."""
    act = jnp.clip(ext, 0.0, p.clamp_max)
    return px.thr + act / px.gain, act


# ---- learning averages (§3.1 step 5, §3.4) -----------------------------------------------------
def update_learning_avgs(act, avg_ss, avg_s, avg_m, p: AvgParams = AvgParams()):
    avg_ss = avg_ss + (act - avg_ss) / p.ss_tau
    avg_s = avg_s + (avg_ss - avg_s) / p.s_tau
    avg_m = avg_m + (avg_s - avg_m) / p.m_tau
    return avg_ss, avg_s, avg_m


def avg_s_lrn(avg_s, avg_m, p: AvgParams = AvgParams()):
    return (1.0 - p.lrn_m) * avg_s + p.lrn_m * avg_m


def avg_l_update(avg_l, avg_m, mod_avg_llrn, p: AvgParams = AvgParams()):
    """Trial-start AvgL and AvgLLrn (§3.4). Returns (AvgL, AvgLLrn)."""
    avg_l = jnp.maximum(avg_l + (p.avg_l_gain * avg_m - avg_l) / p.avg_l_tau, p.avg_l_min)
    return avg_l, p.avg_l_lrn_fact * (avg_l - p.avg_l_min) * mod_avg_llrn


# ---- weights (§3.5, §3.6) ----------------------------------------------------------------------
def sig_wt(lwt, p: LearnParams = LearnParams()):
    """Sigmoidal contrast enhancement Wt = 1 / (1 + (off (1-LWt)/LWt)^gain) (§3.6)."""
    safe = jnp.clip(lwt, 1e-7, 1.0 - 1e-7)
    ratio = p.wt_sig_off * (1.0 - safe) / safe
    if float(p.wt_sig_gain).is_integer():  # integer power: multiplications instead of exp/log
        powr = jax.lax.integer_pow(ratio, int(p.wt_sig_gain))
    else:
        powr = ratio ** p.wt_sig_gain
    w = 1.0 / (1.0 + powr)
    return jnp.where(lwt <= 0.0, 0.0, jnp.where(lwt >= 1.0, 1.0, w))


def sig_wt_inverse(wt, p: LearnParams = LearnParams()):
    """LWt from Wt, the inverse of ``sig_wt`` (used at init, §2.2)."""
    safe = jnp.clip(wt, 1e-7, 1.0 - 1e-7)
    lw = 1.0 / (1.0 + ((1.0 - safe) / safe) ** (1.0 / p.wt_sig_gain) / p.wt_sig_off)
    return jnp.where(wt <= 0.0, 0.0, jnp.where(wt >= 1.0, 1.0, lw))


def xcal(x, th, p: LearnParams = LearnParams()):
    """XCAL check-mark function (§3.5)."""
    return jnp.where(x < p.xcal_d_thr, 0.0, jnp.where(x > th * p.xcal_d_rev, x - th, -x * (1.0 - p.xcal_d_rev) / p.xcal_d_rev))


def wtbal_factors(avg_wt, p: LearnParams = LearnParams()):
    """Weight-balance Inc/Dec from the mean of the weights >= .25 (§3.6). Returns (inc, dec)."""
    lo = avg_wt < p.wtbal_lo_thr
    hi = avg_wt > p.wtbal_hi_thr
    f_lo = p.wtbal_lo_gain * (p.wtbal_lo_thr - jnp.maximum(avg_wt, p.wtbal_avg_thr))
    dec_lo = 1.0 / (1.0 + f_lo)
    f_hi = p.wtbal_hi_gain * (avg_wt - p.wtbal_hi_thr)
    inc_hi = 1.0 / (1.0 + f_hi)
    inc = jnp.where(lo, 2.0 - dec_lo, jnp.where(hi, inc_hi, 1.0))
    dec = jnp.where(lo, dec_lo, jnp.where(hi, 2.0 - inc_hi, 1.0))
    return inc, dec

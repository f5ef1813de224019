"""Learning rules of the hip projections and the weight update.

Sources (../shared/reference/hippocampus.md): EcCa1 and CHL rules §2.4, which snapshot each
projection learns from §2.3, XCAL §3.5, soft bounding / sigmoid / weight balance §3.6.
All functions take receiver and sender vectors shaped so that ``r[..., :, None] * s[..., None, :]``
is the weight array (dense [R, S] or pooled [P, R, S]).
"""

from __future__ import annotations

import jax.numpy as jnp

from neurorl.hippocampus import layers as L
from neurorl.hippocampus.params import CHL_PROJECTIONS, LearnParams


def _outer(r, s):
    return r[..., :, None] * s[..., None, :]


def dwt_ecca1(r_p, r_q1, r_slrn, r_avg_l, r_avg_l_lrn, s_p, s_q1, s_slrn, lp: LearnParams = LearnParams()):
    """EcCa1 rule (§2.4): (sP rP - sQ1 rQ1) MLrn + AvgLLrn_r XCAL(sSLrn rSLrn, r.AvgL). No lrate."""
    err = _outer(r_p, s_p) - _outer(r_q1, s_q1)
    bcm = L.xcal(_outer(r_slrn, s_slrn), r_avg_l[..., :, None], lp)
    return lp.m_lrn * err + r_avg_l_lrn[..., :, None] * bcm


def savg_cor(send_act_p_avg_eff, savg_cor_param: float, lp: LearnParams = LearnParams()):
    """CHL sender-average correction 0.5 / max(SAvgThr, 0.5 + SAvgCor (savg - 0.5)) (§2.4)."""
    return 0.5 / jnp.maximum(lp.savg_thr, 0.5 + savg_cor_param * (send_act_p_avg_eff - 0.5))


def dwt_chl(r_p, r_minus, s_p, s_minus, lwt, savg_corr, hebb: float):
    """CHL with Hebbian mix (§2.4). ``r_minus``/``s_minus`` are ActQ1 (MinusQ1) or ActM. No lrate."""
    sp = s_p[..., None, :]
    hebb_term = r_p[..., :, None] * (sp * (savg_corr - lwt) - (1.0 - sp) * lwt)
    err = _outer(r_p, s_p) - _outer(r_minus, s_minus)
    err = err * jnp.where(err > 0.0, 1.0 - lwt, lwt)
    return hebb * hebb_term + (1.0 - hebb) * err


def wt_from_dwt(wt, lwt, dwt, wb_inc, wb_dec, soft_bound: bool, lp: LearnParams = LearnParams()):
    """WtFmDWt (§3.6): soft bounding (or plain Inc/Dec for CHL), LWt clip, Wt = sig(LWt). Returns (wt, lwt)."""
    inc, dec = wb_inc[..., None], wb_dec[..., None]
    if soft_bound:
        d = jnp.where(dwt > 0.0, dwt * inc * (1.0 - lwt), dwt * dec * lwt)
    else:
        d = jnp.where(dwt > 0.0, dwt * inc, dwt * dec)
    changed = dwt != 0.0
    new_lwt = jnp.clip(lwt + d, 0.0, 1.0)
    return jnp.where(changed, L.sig_wt(new_lwt, lp), wt), jnp.where(changed, new_lwt, lwt)


def wtbal(wt, lp: LearnParams = LearnParams()):
    """Weight balance per receiver (§3.6): mean of the weights >= .25, then Inc/Dec. Returns (inc, dec)."""
    big = wt >= lp.wtbal_avg_thr
    n = big.sum(-1)
    avg = jnp.where(n > 0, jnp.where(big, wt, 0.0).sum(-1) / jnp.maximum(n, 1), 0.0)
    return L.wtbal_factors(avg, lp)


def is_soft_bound(prj: str) -> bool:
    """CHL.On forces WtSig.SoftBound off; EcCa1 keeps it (§2.4)."""
    return prj not in CHL_PROJECTIONS

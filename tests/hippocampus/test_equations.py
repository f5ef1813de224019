"""Unit equations against hand-computed values (../shared/reference/hippocampus.md §3)."""

import numpy as np
import pytest

from neurorl.hippocampus import layers as L
from neurorl.hippocampus import learning as LR
from neurorl.hippocampus.dynamics import input_scale_sc


@pytest.mark.parametrize("x, expected", [
    (-0.05, 0.0), (-0.01, 0.0005), (0.0, 0.09477), (0.005, 0.09477 + 0.5 * 0.38440),
    (0.01, 0.479), (0.02, 0.653), (0.05, 0.833), (0.1, 0.909), (0.2, 0.952),
])
def test_noisy_xx1_spot_values(x, expected):
    # §3.2 spot values (3 decimals) and the linear interpolation between 0 and .01
    assert float(L.noisy_xx1(x)) == pytest.approx(expected, abs=6e-4)


def test_noisy_xx1_constants():
    from neurorl.hippocampus.params import NXX1Params

    p = NXX1Params()
    assert p.sig_gain_nvar == pytest.approx(600.0)
    assert p.sig_mult_eff == pytest.approx(0.18954, abs=1e-5)
    # exact hand values: .01 -> gain 92 (f = .8): .92/1.92 ; .02 -> gain 94: 1.88/2.88
    assert float(L.noisy_xx1(0.01)) == pytest.approx(0.92 / 1.92, abs=1e-6)
    assert float(L.noisy_xx1(0.02)) == pytest.approx(1.88 / 2.88, abs=1e-6)
    assert float(L.noisy_xx1(-0.01)) == pytest.approx(0.18954 / (1 + np.exp(6.0)), rel=1e-3)


def test_fffb_hand_computed():
    # ffi = max(.5 - .1, 0) = .4 ; fbi = .1 + (.2 - .1)/1.4 ; Gi = 2 (ffi + fbi)
    gi, fbi = L.fffb(0.5, 0.9, 0.2, 0.1, 2.0)
    assert float(fbi) == pytest.approx(0.1 + 0.1 / 1.4, abs=1e-7)
    assert float(gi) == pytest.approx(2.0 * (0.4 + 0.1 + 0.1 / 1.4), abs=1e-6)
    gi0, _ = L.fffb(0.05, 0.05, 0.0, 0.0, 3.8)  # below FF0: no feed-forward inhibition
    assert float(gi0) == 0.0


def test_membrane_and_activation_step():
    # Inet = Ge(1-Vm) + .1(.3-Vm) + Gi(.25-Vm); Vm += Inet/3.3; act from Ge - (0.5 Gi + .04)
    vm, act = L.vm_act_update(np.float32(0.4), np.float32(0.2), np.float32(0.3), np.float32(0.4))
    inet = 0.3 * 0.6 + 0.1 * (-0.1) + 0.4 * (0.25 - 0.4)
    assert float(vm) == pytest.approx(0.4 + inet / 3.3, abs=1e-6)
    new = float(L.noisy_xx1(0.3 - (0.5 * 0.4 + 0.04)))
    assert float(act) == pytest.approx(0.2 + (new - 0.2) / 3.3, abs=1e-6)
    # below VmActThr and Vm <= Thr: the Vm branch NXX1(Vm - .5)
    vm2, act2 = L.vm_act_update(np.float32(0.3), np.float32(0.0), np.float32(0.0), np.float32(0.0))
    v = 0.3 + 0.1 * (0.3 - 0.3) / 3.3
    assert float(act2) == pytest.approx(float(L.noisy_xx1(v - 0.5)) / 3.3, abs=1e-7)
    assert float(vm2) == pytest.approx(v)


def test_hard_clamp():
    vm, act = L.hard_clamp(np.array([0.0, 1.0, 0.5], np.float32))
    np.testing.assert_allclose(act, [0.0, 0.95, 0.5])
    np.testing.assert_allclose(vm, 0.5 + np.array([0.0, 0.95, 0.5]) / 100, rtol=1e-6)


def test_delta_coded_sending():
    act = np.array([0.5, 0.503, 0.08, 0.3], np.float32)
    sent = np.array([0.49, 0.5, 0.4, 0.0], np.float32)
    out = np.asarray(L.update_sent(act, sent))
    # resend (|d| > .005), keep (|d| <= .005), unsend (fell below .1), first send
    np.testing.assert_allclose(out, [0.5, 0.5, 0.0, 0.3], atol=1e-7)


def test_learning_averages():
    ss, s, m = L.update_learning_avgs(np.float32(1.0), np.float32(0.15), np.float32(0.15), np.float32(0.15))
    assert float(ss) == pytest.approx(0.575)
    assert float(s) == pytest.approx(0.15 + (0.575 - 0.15) / 2)
    assert float(m) == pytest.approx(0.15 + (float(s) - 0.15) / 10)
    avg_l, lrn = L.avg_l_update(np.float32(0.4), np.float32(0.15), np.float32(0.5))
    assert float(avg_l) == pytest.approx(0.4 + (2.5 * 0.15 - 0.4) / 10)
    assert float(lrn) == pytest.approx((0.4999 / 2.3) * (float(avg_l) - 0.2) * 0.5, rel=1e-5)


def test_weight_sigmoid_and_inverse():
    assert float(L.sig_wt(0.5)) == pytest.approx(0.5)
    assert float(L.sig_wt(0.25)) == pytest.approx(1 / 730, rel=1e-5)  # 1/(1+3^6)
    assert float(L.sig_wt(0.75)) == pytest.approx(729 / 730, rel=1e-6)
    assert float(L.sig_wt(0.0)) == 0.0 and float(L.sig_wt(1.0)) == 1.0
    w = np.linspace(0.01, 0.99, 50).astype(np.float32)
    np.testing.assert_allclose(L.sig_wt(L.sig_wt_inverse(w)), w, atol=2e-5)
    assert float(L.sig_wt_inverse(1 / 730)) == pytest.approx(0.25, abs=1e-4)


def test_xcal():
    assert float(L.xcal(0.3, 0.2)) == pytest.approx(0.1)
    assert float(L.xcal(0.01, 0.2)) == pytest.approx(-0.09)  # -x (1 - .1)/.1
    assert float(L.xcal(5e-5, 0.2)) == 0.0


def test_one_ecca1_update_and_soft_bound():
    one = lambda v: np.array([v], np.float32)  # noqa: E731
    d = LR.dwt_ecca1(one(0.8), one(0.5), one(0.7), one(0.4), one(0.01), one(0.9), one(0.6), one(0.6))
    # err = .8*.9 - .5*.6 = .42 ; bcm = XCAL(.7*.6, .4) = .02 ; dwt = .42 + .01 * .02
    assert float(d[0, 0]) == pytest.approx(0.4202, abs=1e-6)
    dwt = 0.04 * np.asarray(d)
    wt, lwt = LR.wt_from_dwt(np.full((1, 1), 0.5, np.float32), np.full((1, 1), 0.5, np.float32), dwt,
                             np.ones(1, np.float32), np.ones(1, np.float32), soft_bound=True)
    assert float(lwt[0, 0]) == pytest.approx(0.5 + 0.016808 * 0.5, abs=1e-6)
    assert float(wt[0, 0]) == pytest.approx(float(L.sig_wt(0.5 + 0.016808 * 0.5)), abs=1e-7)


def test_one_chl_update():
    one = lambda v: np.array([v], np.float32)  # noqa: E731
    cor = float(LR.savg_cor(0.2, 0.4))
    assert cor == pytest.approx(0.5 / 0.38)
    d = LR.dwt_chl(one(0.8), one(0.5), one(0.9), one(0.6), np.full((1, 1), 0.5, np.float32), cor, hebb=0.01)
    hebb = 0.8 * (0.9 * (cor - 0.5) - 0.1 * 0.5)
    err = (0.72 - 0.30) * 0.5
    assert float(d[0, 0]) == pytest.approx(0.01 * hebb + 0.99 * err, abs=1e-6)
    # CHL: no soft bounding, Inc/Dec only; negative change scaled by Dec
    wt, lwt = LR.wt_from_dwt(np.full((1, 1), 0.5, np.float32), np.full((1, 1), 0.5, np.float32),
                             np.full((1, 1), -0.1, np.float32), np.ones(1, np.float32), np.full(1, 0.5, np.float32),
                             soft_bound=False)
    assert float(lwt[0, 0]) == pytest.approx(0.45)


@pytest.mark.parametrize("avg, inc, dec", [
    (0.3, 1.375, 0.625), (0.5, 1 / 1.4, 2 - 1 / 1.4), (0.4, 1.0, 1.0), (0.1, 2 - 1 / 1.9, 1 / 1.9),
])
def test_weight_balance_factors(avg, inc, dec):
    i, d = L.wtbal_factors(np.float32(avg))
    assert float(i) == pytest.approx(inc, abs=1e-6) and float(d) == pytest.approx(dec, abs=1e-6)


def test_weight_balance_mean_ignores_small_weights():
    w = np.array([[0.1, 0.3, 0.5, 0.0]], np.float32)  # mean of weights >= .25 is .4 -> no change
    i, d = LR.wtbal(w)
    assert float(i[0]) == pytest.approx(1.0) and float(d[0]) == pytest.approx(1.0)


@pytest.mark.parametrize("savg, snu, ncon, expected", [
    (0.2, 144, 12, 1 / 4),  # ECin -> CA1 (§3.3)
    (0.02, 300, 300, 1 / 6),  # CA3 -> CA1
    (0.1, 480, 40, 1 / 6),  # CA1 -> ECout
    (0.2, 144, 36, 1 / 9),  # ECin -> DG / CA3
    (0.02, 300, 299, 1 / 6),  # CA3 -> CA3
    (0.01, 625, 12, 1 / 3),  # DG -> CA3
    (0.2, 144, 1, 1.0),  # one-to-one
])
def test_input_scaling(savg, snu, ncon, expected):
    assert float(input_scale_sc(np.float32(savg), snu, ncon)) == pytest.approx(expected)

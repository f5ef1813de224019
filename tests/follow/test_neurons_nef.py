"""LIF integration vs the closed-form rate curve; gains/biases; encoders; L2-regularised decoders."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from neurorl.follow.nef import (Ensemble, EnsembleSpec, decoders_for, default_n_eval_points, hypersphere_ball,
                                hypersphere_surface, make_ensemble, solve_lstsq_l2)
from neurorl.follow.neurons import gain_bias, lif_rate, lif_step


def _simulate_rates(J, seconds=2.0, dt=0.001):
    with jax.enable_x64(True):
        J = jnp.asarray(J, jnp.float64)
        n = int(round(seconds / dt))

        def body(c, _):
            v, r, cnt = c
            s, v, r = lif_step(J, v, r, dt)
            return (v, r, cnt + (s > 0)), None

        (v, r, cnt), _ = jax.lax.scan(body, (jnp.zeros_like(J), jnp.zeros_like(J), jnp.zeros(J.shape, jnp.int32)),
                                      None, length=n)
        return np.asarray(cnt) / seconds


def test_lif_rate_matches_closed_form():
    # currents from silent to near saturation; sub-step spike timing makes the simulated rate exact
    # up to the quantisation of counting whole spikes in the window (at most 1 spike / 2 s = 0.5 Hz)
    J = np.array([0.5, 1.0, 1.001, 1.05, 1.3, 2.0, 3.0, 5.0, 10.0, 30.0])
    sim = _simulate_rates(J)
    ref = lif_rate(J)
    assert sim[0] == 0 and sim[1] == 0
    np.testing.assert_allclose(sim, ref, atol=1.0 / 2.0 + 1e-9)
    assert ref[-1] > 300  # the curve really reaches high rates, so the comparison covers refractoriness


def test_lif_float32_fast_path_matches_exact_spikes():
    J = jnp.linspace(0.9, 20.0, 50, dtype=jnp.float32)

    def run(fast):
        def body(c, _):
            v, r = c
            s, v, r = lif_step(J, v, r, 0.001, fast=fast)
            return (v, r), s > 0

        z = jnp.zeros(50, jnp.float32)
        return np.asarray(jax.jit(lambda: jax.lax.scan(body, (z, z), None, length=300)[1])())

    exact, fast = run(False), run(True)
    assert exact.sum() > 1000
    assert np.array_equal(exact, fast)


def test_gain_bias_hits_intercept_and_max_rate():
    rng = np.random.default_rng(0)
    max_rates = rng.uniform(200, 400, 100)
    intercepts = rng.uniform(-1, 0.95, 100)
    gain, bias = gain_bias(max_rates, intercepts)
    np.testing.assert_allclose(lif_rate(gain * 1.0 + bias), max_rates, rtol=1e-10)
    np.testing.assert_allclose(gain * intercepts + bias, 1.0, atol=1e-12)  # threshold current at the intercept
    assert np.all(lif_rate(gain * (intercepts - 1e-6) + bias) == 0)


def test_gain_bias_rejects_bad_input():
    with pytest.raises(ValueError, match="max_rates"):
        gain_bias([600.0], [0.0])  # above 1/tau_ref = 500 Hz
    with pytest.raises(ValueError, match="intercepts"):
        gain_bias([200.0], [1.0])


def test_hypersphere_samples():
    rng = np.random.default_rng(1)
    e = hypersphere_surface(5000, 3, rng)
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-12)
    assert np.abs(e.mean(axis=0)).max() < 0.05  # uniform on the sphere: no preferred direction
    b = hypersphere_ball(20000, 2, rng)
    r = np.linalg.norm(b, axis=1)
    assert r.max() <= 1.0
    # uniform in the disc: P(r < 0.5) = 0.25
    assert abs(np.mean(r < 0.5) - 0.25) < 0.015
    assert default_n_eval_points(3000, 2) == 6000 and default_n_eval_points(100, 2) == 1000
    assert default_n_eval_points(5000, 4) == 10000


def test_lstsq_l2_matches_regularised_normal_equations():
    rng = np.random.default_rng(2)
    A = rng.uniform(0, 300, size=(400, 60))
    Y = rng.standard_normal((400, 2))
    D = solve_lstsq_l2(A, Y, reg=0.1)
    sigma = 0.1 * A.max()
    # equivalent augmented least squares: [A; sqrt(m)·σ·I] D = [Y; 0]
    Aa = np.vstack([A, np.sqrt(400) * sigma * np.eye(60)])
    Ya = np.vstack([Y, np.zeros((60, 2))])
    np.testing.assert_allclose(D, np.linalg.lstsq(Aa, Ya, rcond=None)[0], rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("d,radius", [(1, 1.0), (2, 5.0)])
def test_decoders_reconstruct_identity(d, radius):
    ens = make_ensemble(EnsembleSpec(300, d, radius), np.random.default_rng(3))
    D, _ = decoders_for(ens, np.random.default_rng(4))
    x = hypersphere_ball(2000, d, np.random.default_rng(5)) * radius
    xhat = ens.rates(x) @ D
    rmse = np.sqrt(np.mean((xhat - x) ** 2))
    assert rmse < 0.02 * radius, rmse  # static rate decoding error of a 300-neuron ensemble, reg 0.1
    # the constant-gain variant of Fig 2 also decodes
    ens2 = make_ensemble(EnsembleSpec(300, d, radius, constant_gain=2.0), np.random.default_rng(3))
    assert np.all(ens2.gain == 2.0) and ens2.bias.min() >= -2 and ens2.bias.max() <= 2
    assert isinstance(ens2, Ensemble)

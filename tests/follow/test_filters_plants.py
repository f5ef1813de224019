"""Synapse discretisation and the reference systems against known trajectories."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.signal import cont2discrete

from neurorl.follow.network import lowpass_coeff
from neurorl.follow.plants import Arm1Link, Arm2Link, LinearOscillator, Lorenz, VanDerPol, make_plant, shaped_torque


@pytest.mark.parametrize("tau", [0.001, 0.02, 0.2])
def test_lowpass_is_zoh_discretisation(tau):
    dt = 0.001
    a = lowpass_coeff(tau, dt)
    Ad, Bd, Cd, Dd, _ = cont2discrete((np.array([[-1.0 / tau]]), np.array([[1.0]]), np.array([[1.0 / tau]]),
                                       np.array([[0.0]])), dt, method="zoh")
    assert a == pytest.approx(Ad[0, 0], rel=1e-14)
    assert 1 - a == pytest.approx(Cd[0, 0] * Bd[0, 0], rel=1e-12)
    # step response sampled at the steps equals the continuous one, 1 - exp(-t/tau), exactly
    y, ys = 0.0, []
    for _ in range(50):
        y = a * y + (1 - a) * 1.0
        ys.append(y)
    t = dt * np.arange(1, 51)
    np.testing.assert_allclose(ys, 1 - np.exp(-t / tau), rtol=1e-12)


def _rollout(plant, x0, u, dt, n):
    """n steps of the plant's own discretisation in one lax.scan (float64); returns (n+1, dim) states."""
    with jax.enable_x64(True):
        uu = jnp.asarray(u, jnp.float64)

        def body(x, _):
            x = plant.step(x, uu, dt)
            return x, x

        x0 = jnp.asarray(x0, jnp.float64)
        _, xs = jax.jit(lambda x: jax.lax.scan(body, x, None, length=n))(x0)
        return np.concatenate([np.asarray(x0)[None], np.asarray(xs)])


def _scipy(plant, x0, u, T):
    with jax.enable_x64(True):
        d = jax.jit(plant.deriv)
        uu = jnp.asarray(u, jnp.float64)
        f = lambda t, x: np.asarray(d(jnp.asarray(x), uu))  # noqa: E731
        return solve_ivp(f, (0, T), np.asarray(x0, float), method="DOP853", rtol=1e-11, atol=1e-12, dense_output=True)


def test_vanderpol_rk4_matches_scipy_and_limit_cycle():
    p = VanDerPol()
    xs = _rollout(p, [0.5, 0.0], [0.0, 0.0], 0.001, 3000)
    ref = _scipy(p, [0.5, 0.0], [0.0, 0.0], 3.0).sol(0.001 * np.arange(3001)).T
    assert np.abs(xs - ref).max() < 1e-6
    # the mu = 2 van der Pol limit cycle has amplitude ~2.0 in x1 (a known property of the oscillator)
    assert 1.95 < np.abs(xs[1500:, 0]).max() < 2.1
    # input enters through 1/tau_s: from rest, x1 after one step of u = (1, 0) is dt/tau_s
    x1 = _rollout(p, [0.0, 0.0], [1.0, 0.0], 0.001, 1)[1]
    assert x1[0] == pytest.approx(0.001 / 0.02, rel=1e-3)


def test_linear_oscillator_matches_matrix_exponential():
    p = LinearOscillator()
    from scipy.linalg import expm

    M = np.array([[p.decay, -1.0], [1.0, p.decay]]) / p.tau_dyn
    xs = _rollout(p, [1.0, 0.0], [0.0, 0.0], 0.001, 1000)
    np.testing.assert_allclose(xs[-1], expm(M * 1.0) @ [1.0, 0.0], atol=1e-9)


def test_lorenz_matches_scipy_short_horizon():
    p = Lorenz()
    xs = _rollout(p, [1.0, 1.0, 1.0], [0.0, 0.0, 0.0], 0.001, 500)
    ref = _scipy(p, [1.0, 1.0, 1.0], [0.0, 0.0, 0.0], 0.5).sol(0.5)
    np.testing.assert_allclose(xs[-1], ref, rtol=1e-6, atol=1e-6)


def test_two_link_arm_conserves_energy_without_friction():
    # mass matrix, Coriolis and gravity terms are consistent iff energy is conserved when friction is off
    p = Arm2Link(friction=False, torque_limits=False)
    x0 = [0.8, -0.5, 1.0, 2.0]
    sol = _scipy(p, x0, [0.0, 0.0], 3.0)
    with jax.enable_x64(True):
        E = [float(p.energy(jnp.asarray(sol.sol(t)))) for t in np.linspace(0, 3, 31)]
    assert np.ptp(E) < 1e-6 * abs(E[0]) + 1e-8
    assert np.ptp(sol.sol(np.linspace(0, 3, 31))[0]) > 0.5  # it really moved
    # with friction the energy decays
    pf = Arm2Link()
    solf = _scipy(pf, x0, [0.0, 0.0], 3.0)
    with jax.enable_x64(True):
        assert float(pf.energy(jnp.asarray(solf.sol(3.0)))) < E[0] - 0.1


def test_two_link_arm_euler_and_rest():
    p = Arm2Link()
    xs = _rollout(p, [0.0, 0.0, 0.0, 0.0], [0.0, 0.0], 0.001, 100)
    assert np.abs(xs).max() == 0.0  # hanging at rest stays at rest
    with jax.enable_x64(True):
        x = jnp.asarray([0.3, 0.2, 0.5, -0.4])
        u = jnp.asarray([1.0, -0.5])
        nxt = np.asarray(p.step(x, u, 0.001))
        np.testing.assert_allclose(nxt[:2], np.asarray(x[:2] + 0.001 * x[2:]), rtol=1e-14)  # q uses the old velocity
        np.testing.assert_allclose(nxt[2:], np.asarray(x[2:] + 0.001 * p.accel(x, u)), rtol=1e-14)
        # joint-limit torque shaping: full below pi/2, half at 5pi/8, zero beyond 3pi/4 (pushing outward only)
        q = jnp.asarray([math.pi / 4, 5 * math.pi / 8])
        np.testing.assert_allclose(np.asarray(shaped_torque(jnp.asarray([2.0, 2.0]), q)), [2.0, 1.0], rtol=1e-12)
        np.testing.assert_allclose(np.asarray(shaped_torque(jnp.asarray([-2.0, -2.0]), q)), [-2.0, -2.0], rtol=1e-12)
        assert float(shaped_torque(jnp.asarray([3.0]), jnp.asarray([2.5]))[0]) == 0.0


def test_one_link_arm_small_oscillation_period():
    p = Arm1Link(friction=False)
    xs = _rollout(p, [0.05, 0.0], [0.0], 0.0001, 20000)  # 2 s with a fine Euler step
    inertia = 0.025 + 1.4 * 0.11**2
    period = 2 * math.pi * math.sqrt(inertia / (1.4 * 0.11 * 9.81))
    q = xs[:, 0]
    crossings = np.nonzero((q[:-1] > 0) & (q[1:] <= 0))[0] * 0.0001
    assert np.diff(crossings).mean() == pytest.approx(period, rel=5e-3)


def test_unknown_plant_raises():
    with pytest.raises(ValueError, match="unknown plant"):
        make_plant("double-pendulum")

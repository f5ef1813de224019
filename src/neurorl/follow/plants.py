"""Reference dynamical systems ("plants") that FOLLOW learns to predict (follow.md §6, §2.2).

Each plant is a frozen dataclass with ``dim_u``, ``dim_x``, ``x0()``, ``deriv(x, u)`` (continuous time,
for tests and scipy), ``step(x, u, dt)`` (the discretisation the run uses) and ``observe(x)`` (the
state as the error node sees it: × ``state_scale``). All functions are jnp and jit-friendly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np


def rk4(f, x, u, dt):
    k1 = f(x, u)
    k2 = f(x + 0.5 * dt * k1, u)
    k3 = f(x + 0.5 * dt * k2, u)
    k4 = f(x + dt * k3, u)
    return x + (dt / 6.0) * (k1 + 2 * k2 + 2 * k3 + k4)


@dataclass(frozen=True)
class VanDerPol:
    """ẋ1 = x2/τ_d + u1/τ_s, ẋ2 = (μ(1 − x1²)x2 − x1)/τ_d + u2/τ_s, μ = 2, τ_d = 0.125 s, τ_s = 0.02 s,
    x(0) = 0.001·(1, 1) (follow.md §6). Integrated by RK4 at dt (the original used odeint with hmax = dt)."""

    mu: float = 2.0
    tau_dyn: float = 0.125
    tau_syn: float = 0.02
    dim_u: int = 2
    dim_x: int = 2
    state_scale: tuple = (1.0, 1.0)

    def x0(self):
        return np.array([0.001, 0.001])

    def deriv(self, x, u):
        x1, x2 = x[0], x[1]
        return jnp.stack([x2 / self.tau_dyn + u[0] / self.tau_syn,
                          (self.mu * (1.0 - x1**2) * x2 - x1) / self.tau_dyn + u[1] / self.tau_syn])

    def step(self, x, u, dt):
        return rk4(self.deriv, x, u, dt)

    def observe(self, x):
        return x * jnp.asarray(self.state_scale, x.dtype)


@dataclass(frozen=True)
class LinearOscillator:
    """ẋ = (1/τ_d)·[[δ, −1], [1, δ]]·x + u/τ_s with δ = decay = −0.2, τ_d = 0.1 s (follow.md §2.2 `LinOsc`;
    the matrix form is our reconstruction: a damped rotation at 1/τ_d rad/s)."""

    decay: float = -0.2
    tau_dyn: float = 0.1
    tau_syn: float = 0.02
    dim_u: int = 2
    dim_x: int = 2
    state_scale: tuple = (1.0, 1.0)

    def x0(self):
        return np.zeros(2)

    def deriv(self, x, u):
        return jnp.stack([(self.decay * x[0] - x[1]) / self.tau_dyn + u[0] / self.tau_syn,
                          (x[0] + self.decay * x[1]) / self.tau_dyn + u[1] / self.tau_syn])

    def step(self, x, u, dt):
        return rk4(self.deriv, x, u, dt)

    def observe(self, x):
        return x * jnp.asarray(self.state_scale, x.dtype)


@dataclass(frozen=True)
class Lorenz:
    """Lorenz system σ = 10, ρ = 28, β = 8/3 on time scale τ_d = 1 s, driven by u/τ_s (follow.md §2.2 `Lorenz`,
    N = 3, radius 30)."""

    sigma: float = 10.0
    rho: float = 28.0
    beta: float = 8.0 / 3.0
    tau_dyn: float = 1.0
    tau_syn: float = 0.02
    dim_u: int = 3
    dim_x: int = 3
    state_scale: tuple = (1.0, 1.0, 1.0)

    def x0(self):
        return np.array([1.0, 1.0, 1.0])

    def deriv(self, x, u):
        f = jnp.stack([self.sigma * (x[1] - x[0]), x[0] * (self.rho - x[2]) - x[1], x[0] * x[1] - self.beta * x[2]])
        return f / self.tau_dyn + u / self.tau_syn

    def step(self, x, u, dt):
        return rk4(self.deriv, x, u, dt)

    def observe(self, x):
        return x * jnp.asarray(self.state_scale, x.dtype)


# arm parameters: Todorov/Li values + gravity (follow.md §6, [F:arm_2link_todorov_gravity.py])
M1, M2 = 1.4, 1.1
L1, L2 = 0.31, 0.27
S1, S2 = 0.11, 0.16
I1, I2 = 0.025, 0.045
B11, B22, B12 = 0.7, 0.8, 0.08
G = 9.81
ARM_SCALE = (1 / 2.5, 1 / 2.5, 0.05, 0.05)  # varFactors θ: 1/2.5, ω: 0.05 (follow.md §2.2)


def joint_limit_fade(q):
    """σ(q) = clip(q − π/2, 0, π/4)/(π/4): torque fades to 0 between π/2 and 3π/4 (follow.md §6)."""
    return jnp.clip(q - math.pi / 2, 0.0, math.pi / 4) / (math.pi / 4)


def shaped_torque(u, q):
    """τ_i = u_i·(1 − [u_i>0]·σ(q_i) − [u_i<0]·σ(−q_i)) (follow.md §6)."""
    return u * (1.0 - (u > 0) * joint_limit_fade(q) - (u < 0) * joint_limit_fade(-q))


@dataclass(frozen=True)
class Arm2Link:
    """2-link arm in the vertical plane with gravity; state (q1, q2, q̇1, q̇2), q = 0 hangs down (follow.md §6).
    Integrated by explicit Euler at dt like the original (q += q̇_old·dt, q̇ += q̈·dt). ``friction=False``
    gives the conservative system (used by the energy test)."""

    friction: bool = True
    torque_limits: bool = True
    dim_u: int = 2
    dim_x: int = 4
    state_scale: tuple = ARM_SCALE

    def x0(self):
        return np.zeros(4)

    def mass_matrix(self, q2):
        c2 = jnp.cos(q2)
        m11 = I1 + I2 + M2 * L1**2 + 2 * M2 * L1 * S2 * c2 + M1 * S1**2 + M2 * S2**2
        m12 = I2 + M2 * L1 * S2 * c2 + M2 * S2**2
        m22 = I2 + M2 * S2**2
        return m11, m12, m22

    def bias_forces(self, q, w):
        s2 = jnp.sin(q[1])
        f = 1.0 if self.friction else 0.0
        h1 = (-M2 * L1 * S2 * (2 * w[0] + w[1]) * w[1] * s2 + f * (B11 * w[0] + B12 * w[1])
              + (M1 * S1 + M2 * L1) * G * jnp.sin(q[0]) + M2 * S2 * G * jnp.sin(q[0] + q[1]))
        h2 = M2 * L1 * S2 * w[0] ** 2 * s2 + f * (B22 * w[1] + B12 * w[0]) + M2 * S2 * G * jnp.sin(q[0] + q[1])
        return h1, h2

    def accel(self, x, u):
        q, w = x[:2], x[2:]
        tau = shaped_torque(u, q) if self.torque_limits else u
        m11, m12, m22 = self.mass_matrix(q[1])
        h1, h2 = self.bias_forces(q, w)
        r1, r2 = tau[0] - h1, tau[1] - h2
        det = m11 * m22 - m12 * m12
        return jnp.stack([(m22 * r1 - m12 * r2) / det, (m11 * r2 - m12 * r1) / det])

    def deriv(self, x, u):
        return jnp.concatenate([x[2:], self.accel(x, u)])

    def step(self, x, u, dt):
        return jnp.concatenate([x[:2] + x[2:] * dt, x[2:] + self.accel(x, u) * dt])

    def energy(self, x):
        q, w = x[:2], x[2:]
        m11, m12, m22 = self.mass_matrix(q[1])
        kin = 0.5 * (m11 * w[0] ** 2 + 2 * m12 * w[0] * w[1] + m22 * w[1] ** 2)
        pot = -(M1 * S1 + M2 * L1) * G * jnp.cos(q[0]) - M2 * S2 * G * jnp.cos(q[0] + q[1])
        return kin + pot

    def observe(self, x):
        return x * jnp.asarray(self.state_scale, x.dtype)


@dataclass(frozen=True)
class Arm1Link:
    """1-link arm with gravity: I q̈ = u − m1 s1 g sin q − b11 q̇, I = I1 + m1 s1² (follow.md §6); Euler at dt."""

    friction: bool = True
    dim_u: int = 1
    dim_x: int = 2
    state_scale: tuple = (1 / 2.5, 0.05)

    def x0(self):
        return np.zeros(2)

    def accel(self, x, u):
        inertia = I1 + M1 * S1**2
        f = 1.0 if self.friction else 0.0
        return (u[0] - M1 * S1 * G * jnp.sin(x[0]) - f * B11 * x[1]) / inertia

    def deriv(self, x, u):
        return jnp.stack([x[1], self.accel(x, u)])

    def step(self, x, u, dt):
        return jnp.stack([x[0] + x[1] * dt, x[1] + self.accel(x, u) * dt])

    def observe(self, x):
        return x * jnp.asarray(self.state_scale, x.dtype)


PLANTS = {"vanderpol": VanDerPol, "linosc": LinearOscillator, "lorenz": Lorenz, "arm2": Arm2Link, "arm1": Arm1Link}


def make_plant(name: str):
    if name not in PLANTS:
        raise ValueError(f"unknown plant {name!r}; expected one of {sorted(PLANTS)}")
    return PLANTS[name]()

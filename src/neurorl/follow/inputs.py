"""Command-input protocols u(t) (follow.md §7), as small tables drawn once and looked up in-scan.

Time is handled in integer steps (step n is time t = n·dt, Nengo's convention) so that a 15,000 s run in
float32 has no rounding drift. Random draws use ``numpy.random.default_rng(seed)``; we do not replicate
the original's legacy global-RNG draw order (follow.md §7 / §14.7), so noise values differ from the
original runs while their distributions are the same.

Protocols
- ``vdp_heights`` (original ``amplVaryHeightsScaled``, vdP learning): per-trial height h_k = random unit
  vector with its first component /3; noise U(−0.2, 0.2) per 50 ms grid point (first dim /3), nearest
  lookup; u = ½·noise·[not in clamp window] + ½·0.2·h_k.
- ``ramp_step`` (``rampLeaveRampHeights``, vdP test): random unit vector × 0.1 during the first 0.1 s of
  each trial + a step height U(−0.1, 0.1) (first dim /3) for the whole trial.
- ``arm_heights`` (``amplVaryHeights`` with inputreduction 0.3, arm learning): unit vectors / 0.3 at each
  trial boundary and U(−3.33, 3.33) noise per 50 ms, both linearly interpolated; u = noise + heights (N·m).
- ``swing`` (arm test; replaces the original's ``RLSwing`` SARSA(λ) policy, which we do not retrain):
  elbow torque ±5 N·m re-chosen every 0.1 s as 5·sign(elbow velocity), an energy-pumping swing.
- ``zero``: u = 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

PROTOCOLS = ("vdp_heights", "ramp_step", "arm_heights", "swing", "zero")


@dataclass(frozen=True)
class ProtocolSpec:
    name: str
    period_steps: int
    grid_steps: int  # 50 ms noise grid (swing: 100 ms decision grid)
    clamp_steps: int  # last clamp_steps of each trial are the clamp window (0: no clamp)
    ramp_steps: int = 100  # 0.1 s ramp of ``ramp_step``


def _steps(seconds: float, dt: float, what: str) -> int:
    n = round(seconds / dt)
    if n <= 0 or abs(n * dt - seconds) > 1e-9 * max(1.0, seconds):
        raise ValueError(f"{what} = {seconds} s must be a positive whole number of steps of dt = {dt} s")
    return n


def build_protocol(name: str, n_steps: int, dt: float, t_period: float, dim_u: int, seed: int,
                   t_clamp: float = 0.0, plant=None) -> tuple[ProtocolSpec, dict]:
    """Draw the tables of protocol ``name`` for a run of ``n_steps`` steps. Returns (static spec, arrays)."""
    if name not in PROTOCOLS:
        raise ValueError(f"unknown input protocol {name!r}; expected one of {list(PROTOCOLS)}")
    P = _steps(t_period, dt, "t_period")
    g = _steps(0.1 if name == "swing" else 0.05, dt, "input grid")
    c = round(t_clamp / dt) if t_clamp > 0 else 0
    rng = np.random.default_rng(seed)
    K = n_steps // P + 3
    Gn = n_steps // g + 3

    def unit(k):
        v = rng.standard_normal((k, dim_u))
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    arrays: dict[str, np.ndarray] = {}
    if name == "vdp_heights":
        h = unit(K)
        h[:, 0] /= 3.0
        noise = rng.uniform(-0.2, 0.2, size=(Gn, dim_u))
        noise[:, 0] /= 3.0
        arrays = {"heights": h, "noise": noise}
    elif name == "ramp_step":
        arrays = {"bumps": unit(K) * 0.1}
        st = rng.uniform(-0.1, 0.1, size=(K, dim_u))
        st[:, 0] /= 3.0
        arrays["steps"] = st
    elif name == "arm_heights":
        arrays = {"heights": unit(K) / 0.3, "noise": rng.uniform(-1 / 0.3, 1 / 0.3, size=(Gn, dim_u))}
    elif name == "swing":
        arrays = {"torque": _swing_table(Gn, g, dt, plant, dim_u)}
    else:
        arrays = {"dummy": np.zeros((1, dim_u))}
    return ProtocolSpec(name, P, g, c, round(0.1 / dt)), arrays


def _swing_table(n_decisions: int, g: int, dt: float, plant, dim_u: int) -> np.ndarray:
    """Energy-pumping elbow torque, decided every g steps from the arm's own Euler simulation."""
    if plant is None or dim_u != 2:
        raise ValueError("the swing protocol needs the 2-link arm plant")
    import jax

    step = jax.jit(lambda x, u: jax.lax.fori_loop(0, g, lambda i, x: plant.step(x, u, dt), x))
    x = jnp.asarray(plant.x0(), jnp.float32)
    out = np.zeros((n_decisions, 2))
    for i in range(n_decisions):
        out[i, 1] = 5.0 if float(x[3]) >= 0 else -5.0
        x = step(x, jnp.asarray(out[i], jnp.float32))
    return out


def command(spec: ProtocolSpec, arrays: dict, n):
    """u at step n (int, traced). Pure jnp; used inside the scan."""
    P, g = spec.period_steps, spec.grid_steps
    k = n // P
    if spec.name == "vdp_heights":
        in_trial = (n % P) < (P - spec.clamp_steps) if spec.clamp_steps else True
        noise = arrays["noise"][(n + g // 2) // g]  # nearest grid point
        return 0.5 * noise * in_trial + 0.5 * 0.2 * arrays["heights"][k]
    if spec.name == "ramp_step":
        return arrays["bumps"][k] * ((n % P) < spec.ramp_steps) + arrays["steps"][k]
    if spec.name == "arm_heights":
        fk = (n % P) / P
        heights = arrays["heights"][k] * (1 - fk) + arrays["heights"][k + 1] * fk
        i = n // g
        fg = (n % g) / g
        noise = arrays["noise"][i] * (1 - fg) + arrays["noise"][i + 1] * fg
        return noise + heights
    if spec.name == "swing":
        return arrays["torque"][n // g]
    return jnp.zeros_like(arrays["dummy"][0])

"""Leaky integrate-and-fire neurons, integrated exactly as Nengo does (follow.md §2.1).

Voltage obeys tau_rc dV/dt = J - V with threshold 1, reset 0, refractory period tau_ref and a floor
``min_voltage`` = 0. Per step the membrane is integrated exactly for the part of the step that is not
refractory (assuming J constant over the step); a spike emits an impulse of height 1/dt, its time
inside the step is found by solving V(t_s) = 1 on the exponential, and the refractory clock is set
to tau_ref plus the unused part of the step, so refractoriness is resolved below dt.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np


@dataclass(frozen=True)
class LIFParams:
    tau_rc: float = 0.02  # follow.md §2.1 (Nengo default)
    tau_ref: float = 0.002  # follow.md §2.1
    min_voltage: float = 0.0  # follow.md §2.1


def lif_step(J, voltage, refractory, dt: float, p: LIFParams = LIFParams(), fast: bool = False):
    """One step of the LIF layer. Returns (spikes as 1/dt impulses, new voltage, new refractory time).

    ``fast`` computes the spike time with log((J−V)/(J−1)) instead of log1p(−(V−1)/(J−1)) (identical
    in exact arithmetic, about half the cost on CPU; the difference is far below float32 resolution
    of the refractory time). The float64 path used by the Nengo equivalence tests is exact."""
    refractory = refractory - dt
    # part of the step that is not refractory (a refractory period ending mid-step gives a partial step)
    delta_t = jnp.clip(dt - refractory, 0.0, dt)
    # exact solution of tau_rc dV/dt = J - V over delta_t with J constant
    voltage = voltage - (J - voltage) * jnp.expm1(-delta_t / p.tau_rc)
    spiked = voltage > 1.0
    # spike time within the step from V(t_s) = 1 on the exponential (only used where spiked, J > 1 there)
    safe = jnp.where(spiked, J - 1.0, 1.0)
    if fast:
        t_spike = dt + p.tau_rc * jnp.log(jnp.where(spiked, J - voltage, 1.0) / safe)
    else:
        t_spike = dt + p.tau_rc * jnp.log1p(-jnp.where(spiked, voltage - 1.0, 0.0) / safe)
    voltage = jnp.where(voltage < p.min_voltage, p.min_voltage, voltage)
    voltage = jnp.where(spiked, 0.0, voltage)
    refractory = jnp.where(spiked, p.tau_ref + t_spike, refractory)
    spikes = spiked.astype(voltage.dtype) / dt
    return spikes, voltage, refractory


def lif_rate(J, p: LIFParams = LIFParams()):
    """Steady-state firing rate (Hz) for constant current J: 1 / (tau_ref + tau_rc ln(1 + 1/(J-1))) for J > 1."""
    J = np.asarray(J, dtype=float)
    out = np.zeros_like(J)
    above = J > 1.0
    out[above] = 1.0 / (p.tau_ref + p.tau_rc * np.log1p(1.0 / (J[above] - 1.0)))
    return out


def gain_bias(max_rates, intercepts, p: LIFParams = LIFParams()):
    """Gain and bias so that a neuron starts firing at ``intercept`` and fires at ``max_rate`` at x = 1.

    follow.md §2.1: x = 1/(1 - exp((tau_ref - 1/maxrate)/tau_rc)); gain = (1-x)/(intercept-1);
    bias = 1 - gain*intercept.
    """
    max_rates = np.asarray(max_rates, dtype=float)
    intercepts = np.asarray(intercepts, dtype=float)
    if np.any(max_rates <= 0) or np.any(1.0 / max_rates <= p.tau_ref):
        raise ValueError(f"max_rates must be in (0, 1/tau_ref = {1 / p.tau_ref:g}) Hz, got {max_rates.min()}..{max_rates.max()}")
    if np.any(intercepts >= 1.0):
        raise ValueError("intercepts must be < 1")
    x = 1.0 / (1.0 - np.exp((p.tau_ref - 1.0 / max_rates) / p.tau_rc))
    gain = (1.0 - x) / (intercepts - 1.0)
    bias = 1.0 - gain * intercepts
    return gain, bias

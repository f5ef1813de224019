"""The FOLLOW network: configuration, built parameters, state and one simulation step (follow.md §1–§5, §13).

Structure (follow.md §1): command u → feedforward LIF layer (radius 0.2) → plastic all-to-all weights →
recurrent LIF layer with plastic recurrent weights → fixed readout decoders D → x̂. The error
ε = x̂_f − x_f is gated (ε_off), fed back with gain −k through the recurrent layer's scaled encoders,
and, low-passed 200 ms then 1 ms, drives the PES-type rule on both plastic weight sets:
ΔW_ij = −(η·dt/N_pre)·(Ẽ_i·ε_w)·r_j (follow.md §4).

Two exact implementations of the plastic weights (follow.md §5):
- ``lowrank``: W = Ẽ·A with A ∈ R^{d×(N_ff+N_rec)}; since the synapse filter is linear and Ẽ fixed,
  lowpass(W·S) = Ẽ·lowpass(A·S), so the state holds the d-vector lowpass(A·S). O(N·d) per step.
- ``dense``: W ∈ R^{N_rec×(N_ff+N_rec)} (ff and rec blocks side by side so one matvec and one rank-1
  update serve both, follow.md §5 tip). Needed for random initial weights; O(N²) per step.
``auto`` picks lowrank unless the variant breaks the low rank (random initial weights).

Timing follows Nengo's operator graph (follow.md §3, §13): synapses are ZOH low-pass filters
y ← a·y + (1−a)·x, a = exp(−dt/τ), and every synapse output is read one step after its input was
written. Semantics switch (follow.md §4):
- ``"2.4"`` (the paper): learned weights enter the current unscaled; the PES update is applied in the
  same step it is computed (our reading of "same step": the step's weighted spikes already use it);
- ``"2.5"``: neuron gain applied after the synapse (effective weight gain_i·W_ij), same-step PES;
- ``"3+"``: gain after the synapse and PES applied on the next step — exactly Nengo 3.x/4.x.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import jax.numpy as jnp
import numpy as np

from neurorl.follow.inputs import PROTOCOLS, ProtocolSpec, command
from neurorl.follow.nef import EnsembleSpec, decoders_for, make_ensemble
from neurorl.follow.neurons import LIFParams, lif_step
from neurorl.follow.plants import PLANTS, make_plant

Semantics = Literal["2.4", "2.5", "3+"]


@dataclass(frozen=True)
class FollowConfig:
    # --- system and sizes (follow.md §2.2)
    plant: str = "vanderpol"
    n_ff: int = 3000
    n_rec: int = 3000
    radius_ff: float = 0.2
    radius_rec: float = 5.0
    max_rates: tuple[float, float] = (200.0, 400.0)
    intercepts: tuple[float, float] = (-1.0, 1.0)
    constant_gain: float | None = None  # Fig 2 main variant: 2.0 (with bias U(-2,2), radius 4.5)
    bias_range: tuple[float, float] = (-2.0, 2.0)
    decoder_reg: float = 0.1
    # --- time constants and gains (follow.md §2.2)
    dt: float = 0.001
    tau_syn: float = 0.02  # plastic synapses and readout
    tau_pre: float = 0.02  # PES pre_tau
    tau_feedback: float = 0.02
    tau_error: float = 0.2  # weightErrorTau = 10 tau
    tau_error2: float = 0.001  # extra Lowpass(dt) errorWt -> learning rule
    feedback_gain: float = 10.0  # k
    eta: float = 2e-3  # code learning rate (paper η = eta / k)
    filter_reference: bool = True  # vdP: reference low-passed 20 ms into the error; arm: unfiltered
    input_scale: float = 1.0  # arm: network sees 0.02·u
    # --- schedule (follow.md §3, §8)
    duration: float = 10000.0  # Tmax
    t_period: float = 4.0
    t_clamp: float = 0.5
    trial_clamp: bool = True
    t_nolearning: float = 16.0
    gate_learning_in_test: bool = False  # arm: errorWt also zeroed for t >= Tmax - Tnolearning
    clamp_current: float = -100.0  # × gain, 1 ms synapse (follow.md §3)
    protocol: str = "vdp_heights"
    # --- after-run open-loop test with a structured input (follow.md §7, §9)
    test_protocol: str = "ramp_step"
    test_duration: float = 40.0
    test_seed: int = 3
    # --- implementation
    semantics: Semantics = "2.4"
    weights: Literal["auto", "lowrank", "dense"] = "auto"
    random_init_sd: float = 0.0  # follow.md §1 randomWeightSD (1e-4); > 0 forces the dense path
    dtype: Literal["float32", "float64"] = "float32"
    chunk_seconds: float = 100.0
    record_neurons: int = 50
    # --- seeds (follow.md §1: network seeds 2,3,4; input seed 2)
    seed_ff: int = 3
    seed_rec: int = 4
    seed_net: int = 2
    seed_input: int = 2

    def validate(self) -> "FollowConfig":
        if self.plant not in PLANTS:
            raise ValueError(f"unknown plant {self.plant!r}; expected one of {sorted(PLANTS)}")
        for p in (self.protocol, self.test_protocol):
            if p not in PROTOCOLS:
                raise ValueError(f"unknown input protocol {p!r}; expected one of {list(PROTOCOLS)}")
        if self.semantics not in ("2.4", "2.5", "3+"):
            raise ValueError(f"semantics must be '2.4', '2.5' or '3+', got {self.semantics!r}")
        if self.weights not in ("auto", "lowrank", "dense"):
            raise ValueError(f"weights must be auto, lowrank or dense, got {self.weights!r}")
        if self.weights == "lowrank" and self.random_init_sd > 0:
            raise ValueError("random initial weights break the low rank: use weights='dense' or 'auto'")
        if self.n_ff < 1 or self.n_rec < 1:
            raise ValueError("n_ff and n_rec must be >= 1")
        for name in ("dt", "tau_syn", "tau_pre", "tau_feedback", "tau_error", "tau_error2", "t_period"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a positive finite number, got {v!r}")
        for name in ("duration", "t_nolearning", "t_period", "t_clamp", "chunk_seconds", "test_duration"):
            v = getattr(self, name)
            if not math.isfinite(v) or v < 0:
                raise ValueError(f"{name} must be finite and >= 0, got {v!r}")
            if abs(round(v / self.dt) * self.dt - v) > 1e-9 * max(1, v):
                raise ValueError(f"{name} = {v} s is not a whole number of steps of dt = {self.dt}")
        if self.duration < 2 * self.t_nolearning + self.t_period:
            raise ValueError(f"duration must be >= 2·t_nolearning + t_period = {2 * self.t_nolearning + self.t_period} s, "
                             f"got {self.duration}")
        if self.trial_clamp and not 0 < self.t_clamp < self.t_period:
            raise ValueError("with trial_clamp, need 0 < t_clamp < t_period")
        return self

    @property
    def use_dense(self) -> bool:
        return self.weights == "dense" or (self.weights == "auto" and self.random_init_sd > 0)

    @property
    def gain_after_synapse(self) -> bool:
        return self.semantics in ("2.5", "3+")

    @property
    def pes_same_step(self) -> bool:
        return self.semantics in ("2.4", "2.5")

    def steps(self, seconds: float) -> int:
        return int(round(seconds / self.dt))


def vanderpol_config(**kw) -> FollowConfig:
    """follow.md §2.2 left column (Fig 2-suppl-1)."""
    return replace(FollowConfig(), **kw).validate()


def arm_config(**kw) -> FollowConfig:
    """follow.md §2.2 right column (Fig 4): 5000+5000 neurons, radius 1, 1 s trials, no clamp."""
    base = FollowConfig(plant="arm2", n_ff=5000, n_rec=5000, radius_rec=1.0, filter_reference=False,
                        input_scale=0.02, duration=15000.0, t_period=1.0, trial_clamp=False, t_clamp=0.0,
                        t_nolearning=4.0, gate_learning_in_test=True, protocol="arm_heights",
                        test_protocol="swing", test_duration=10.0, seed_rec=5)
    return replace(base, **kw).validate()


# ----------------------------------------------------------------------------------------------------------
@dataclass
class BuiltNetwork:
    """Numpy (float64) parameters built once from the config's seeds."""

    enc_ff: np.ndarray  # (N_ff, du) scaled encoders Ẽ_ff = e·gain/radius
    bias_ff: np.ndarray
    gain_ff: np.ndarray
    enc_rec: np.ndarray  # (N, d) scaled encoders
    bias_rec: np.ndarray
    gain_rec: np.ndarray
    decoders: np.ndarray  # (N, d) fixed readout (LstsqL2)
    unit_enc_ff: np.ndarray
    unit_enc_rec: np.ndarray
    w0: np.ndarray | None = None  # (N, N_ff + N) random initial weights (dense variants)

    def arrays(self) -> dict:
        out = {k: getattr(self, k) for k in ("enc_ff", "bias_ff", "gain_ff", "enc_rec", "bias_rec", "gain_rec", "decoders",
                                             "unit_enc_ff", "unit_enc_rec")}
        if self.w0 is not None:
            out["w0"] = self.w0
        return out


def build_network(cfg: FollowConfig) -> BuiltNetwork:
    plant = make_plant(cfg.plant)
    ff = make_ensemble(EnsembleSpec(cfg.n_ff, plant.dim_u, cfg.radius_ff, cfg.max_rates, cfg.intercepts,
                                    cfg.constant_gain, cfg.bias_range), np.random.default_rng(cfg.seed_ff))
    rec = make_ensemble(EnsembleSpec(cfg.n_rec, plant.dim_x, cfg.radius_rec, cfg.max_rates, cfg.intercepts,
                                     cfg.constant_gain, cfg.bias_range), np.random.default_rng(cfg.seed_rec))
    D, _ = decoders_for(rec, np.random.default_rng(cfg.seed_rec + 1000), reg=cfg.decoder_reg)
    w0 = None
    if cfg.random_init_sd > 0:  # follow.md §1: EtoE ~ N(0, sd), InEtoE = same matrix / 20
        w = np.random.default_rng(cfg.seed_net).normal(0.0, cfg.random_init_sd, size=(cfg.n_rec, cfg.n_rec))
        if cfg.n_ff != cfg.n_rec:
            raise ValueError("random initial weights need n_ff == n_rec (InEtoE = EtoE/20, follow.md §1)")
        w0 = np.concatenate([w / 20.0, w], axis=1)
    return BuiltNetwork(ff.scaled_encoders, ff.bias, ff.gain, rec.scaled_encoders, rec.bias, rec.gain, D,
                        ff.encoders, rec.encoders, w0)


def to_device(net: BuiltNetwork, dtype) -> dict:
    out = {k: jnp.asarray(v, dtype) for k, v in net.arrays().items()}
    Nf, N = len(net.gain_ff), len(net.gain_rec)
    out["gain_all"] = jnp.asarray(np.concatenate([net.gain_ff, net.gain_rec]), dtype)
    out["inv_npre"] = jnp.asarray(np.concatenate([np.full(Nf, 1.0 / Nf), np.full(N, 1.0 / N)]), dtype)
    return out


def _mv(E, v):
    """E @ v for a tall (N, d) matrix with tiny d, as d fused multiply-adds (cheaper than a gemv call on CPU)."""
    out = E[:, 0] * v[0]
    for k in range(1, E.shape[1]):
        out = out + E[:, k] * v[k]
    return out


# ----------------------------------------------------------------------------------------------------------
def init_state(cfg: FollowConfig, params: dict, weights=None) -> dict:
    """Zero neuron/filter state; plastic weights zero (or ``weights``, or the random dense init)."""
    dt_ = jnp.dtype(cfg.dtype)
    plant = make_plant(cfg.plant)
    d, N, Nf = plant.dim_x, cfg.n_rec, cfg.n_ff
    z = lambda *s: jnp.zeros(s, dt_)  # noqa: E731
    if weights is None:
        if cfg.use_dense:
            weights = params["w0"] if "w0" in params else z(N, Nf + N)
        else:
            weights = z(d, Nf + N)
    expected = (N, Nf + N) if cfg.use_dense else (d, Nf + N)
    if tuple(weights.shape) != expected:
        raise ValueError(f"plastic weights must have shape {expected} for the {'dense' if cfg.use_dense else 'lowrank'} "
                         f"path, got {tuple(weights.shape)}")
    return {
        "v": z(Nf + N), "ref": z(Nf + N),  # membrane voltage and refractory time, ff layer then rec layer
        "syn": z(N) if cfg.use_dense else z(d),  # lowpass(W·S) (dense) or lowpass(A·S) (lowrank)
        "pre": z(Nf + N),  # PES pre-synaptic traces r (Hz), ff then rec
        "xhat": z(d), "xref_f": z(d), "fb": z(d), "err200": z(d), "err1": z(d), "clamp": z(),
        "weights": jnp.asarray(weights, dt_),
        "plant": jnp.asarray(plant.x0(), dt_),
    }


@dataclass(frozen=True)
class Schedule:
    """Integer-step gate constants (follow.md §3). Hashable: part of the jitted function's static args."""

    period: int
    clamp: int  # clamp window length per trial (0: no clamp)
    n_max: int  # Tmax in steps
    n_nolearn: int  # Tnolearning in steps
    gate_learning_in_test: bool
    feedback: bool = True  # False: test runs build no feedback connection
    learning: bool = True  # False: eta = 0

    @staticmethod
    def for_run(cfg: FollowConfig, duration: float | None = None, feedback=True, learning=True, clamp=None):
        use_clamp = cfg.trial_clamp if clamp is None else clamp
        return Schedule(cfg.steps(cfg.t_period), cfg.steps(cfg.t_clamp) if use_clamp else 0,
                        cfg.steps(cfg.duration if duration is None else duration), cfg.steps(cfg.t_nolearning),
                        cfg.gate_learning_in_test, feedback, learning)


def gates(s: Schedule, n):
    """(feedback gate errorOff, learning gate errorWt, clamp window) at step n (follow.md §3)."""
    phase = n % s.period
    in_clamp = (phase >= s.period - s.clamp) if s.clamp else jnp.asarray(False)
    in_learning = (n > s.period) & (n < s.n_max - s.n_nolearn)
    g_off = in_learning & ~in_clamp & s.feedback
    g_wt = ~in_clamp
    if s.gate_learning_in_test:
        g_wt = g_wt & (n < s.n_max - s.n_nolearn)
    return g_off, g_wt & s.learning, in_clamp


def lowpass_coeff(tau: float, dt: float) -> float:
    """ZOH discretisation of 1/(τs+1): y[n] = a·y[n−1] + (1−a)·x[n], a = exp(−dt/τ) (follow.md §3)."""
    return math.exp(-dt / tau)


def make_step(cfg: FollowConfig, proto: ProtocolSpec, sched: Schedule, n_raster: int = 0):
    """Return step(state, n, params, arrays) -> (state, record) implementing follow.md §13 in Nengo's order."""
    plant = make_plant(cfg.plant)
    dt = cfg.dt
    lif = LIFParams()
    a_syn, a_pre, a_fb = (lowpass_coeff(t, dt) for t in (cfg.tau_syn, cfg.tau_pre, cfg.tau_feedback))
    a_e200, a_e1, a_clamp = lowpass_coeff(cfg.tau_error, dt), lowpass_coeff(cfg.tau_error2, dt), lowpass_coeff(dt, dt)
    dense = cfg.use_dense
    Nf, N = cfg.n_ff, cfg.n_rec
    decay_clamp = math.exp(-1.0)  # reference driven by −y/dt during the clamp: exact decay over one step
    clamp_plant = cfg.plant == "vanderpol" or sched.clamp > 0
    fast = jnp.dtype(cfg.dtype) == jnp.float32  # float32: cheaper log for the spike time (see neurons.py)

    def lp(a, y, x):
        return a * y + (1.0 - a) * x

    def step(st, n, params, arrays):
        dtype = st["v"].dtype
        g_off, g_wt, in_clamp = gates(sched, n)
        u_plant = command(proto, arrays, n).astype(dtype)
        u = u_plant * cfg.input_scale
        # 1.+2. both layers in one LIF call (same neuron model); inputs read from the previous step's
        # synapse outputs (Nengo's one-step synaptic delay)
        J_ff = _mv(params["enc_ff"], u) + params["bias_ff"]
        learned = st["syn"] if dense else _mv(params["enc_rec"], st["syn"])
        if cfg.gain_after_synapse:
            J_rec = params["bias_rec"] + params["gain_rec"] * learned + _mv(params["enc_rec"], st["fb"])
        elif dense:
            J_rec = params["bias_rec"] + learned + _mv(params["enc_rec"], st["fb"])
        else:
            J_rec = params["bias_rec"] + _mv(params["enc_rec"], st["syn"] + st["fb"])
        J = jnp.concatenate([J_ff, J_rec])
        if sched.clamp:  # clamp current −100·gain through a 1 ms synapse, read before its update
            J = J + params["gain_all"] * (cfg.clamp_current * st["clamp"])
        spikes, v, ref = lif_step(J, st["v"], st["ref"], dt, lif, fast=fast)
        s_rec = spikes[Nf:]
        # 3. error pathway; all filtered signals are read before their update (Nengo 'update' ops)
        x_obs = plant.observe(st["plant"])
        x_ref = st["xref_f"] if cfg.filter_reference else x_obs
        eps = st["xhat"] - x_ref
        eps_off = jnp.where(g_off, eps, 0.0)
        err_wt = jnp.where(g_wt, st["err200"], 0.0)
        err_pes = st["err1"]
        # 4. learning rule (follow.md §4): ΔW = −(η dt/N_pre) (Ẽ·ε_w) rᵀ, with the N_pre of each block.
        # The pre-synaptic trace is filtered in Nengo's "set" mode: it already includes this step's spikes.
        pre = lp(a_pre, st["pre"], spikes)
        pre_scaled = pre * params["inv_npre"]
        lr = -cfg.eta * dt if sched.learning else 0.0
        if dense:
            delta = jnp.outer(lr * _mv(params["enc_rec"], err_pes), pre_scaled)
        else:
            delta = jnp.outer(lr * err_pes, pre_scaled)
        w_new = st["weights"] + delta
        w_use = w_new if cfg.pes_same_step else st["weights"]
        new = {
            "v": v, "ref": ref,
            "syn": lp(a_syn, st["syn"], w_use @ spikes),
            "pre": pre,
            "xhat": lp(a_syn, st["xhat"], s_rec @ params["decoders"]),
            "xref_f": lp(a_syn, st["xref_f"], x_obs),
            "fb": lp(a_fb, st["fb"], -cfg.feedback_gain * eps_off),
            "err200": lp(a_e200, st["err200"], eps_off),
            "err1": lp(a_e1, st["err1"], err_wt),
            "clamp": lp(a_clamp, st["clamp"], jnp.asarray(in_clamp, dtype)) if sched.clamp else st["clamp"],
            "weights": w_new,
        }
        # 5. advance the reference system to the next step (driven to 0 in the clamp window)
        nxt = plant.step(st["plant"], u_plant, dt)
        if clamp_plant and sched.clamp:
            nxt = jnp.where(in_clamp, st["plant"] * decay_clamp, nxt)
        new["plant"] = nxt.astype(dtype)
        rec = {"u": u, "xhat": st["xhat"], "x": x_obs, "x_err": x_ref, "eps": eps, "err_p": st["err200"],
               "g_off": g_off}
        if n_raster:
            rec["raster"] = s_rec[:n_raster] > 0
        return new, rec, spikes

    return step


def materialize_weights(cfg: FollowConfig, params: dict, weights) -> np.ndarray:
    """Full W (N_rec × (N_ff + N_rec)); for the lowrank path W = Ẽ·A (follow.md §5)."""
    w = np.asarray(weights, np.float64)
    return w if cfg.use_dense else np.asarray(params["enc_rec"], np.float64) @ w

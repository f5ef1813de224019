"""Parameters of the Leabra "hip" model: the `Base` parameter sheet of emer/leabra `examples/hip`.

Every number cites ../shared/reference/hippocampus.md (section numbers below are of that file).
The geometry is fixed (it is the published model); rates, scales and inhibition gains can be
overridden for experiments. ``legacy=True`` reproduces the 2020 quirks (§1.6) for comparison.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

# ---- geometry (hippocampus.md §2.1) ---------------------------------------------------------
EC_POOLS = 12  # 6x2 pools
EC_POOL_SIZE = 12  # 3x4 units per pool
EC_SHAPE = (6, 2, 3, 4)
EC_N = EC_POOLS * EC_POOL_SIZE  # 144 (Input, ECin, ECout)
CA1_POOL_SIZE = 40  # 4x10 units per pool
CA1_SHAPE = (6, 2, 4, 10)
CA1_N = EC_POOLS * CA1_POOL_SIZE  # 480
DG_SHAPE = (25, 25)
DG_N = 625
CA3_SHAPE = (30, 10)
CA3_N = 300

# the five simulated (non-Input) layers, in the order used everywhere
LAYERS = ("ecin", "ecout", "ca1", "dg", "ca3")
LAYER_SIZE = {"ecin": EC_N, "ecout": EC_N, "ca1": CA1_N, "dg": DG_N, "ca3": CA3_N}
# pools used by FFFB: EC/CA1 inhibit per pool only, DG/CA3 per layer only (§2.1)
LAYER_POOLS = {"ecin": EC_POOLS, "ecout": EC_POOLS, "ca1": EC_POOLS, "dg": 1, "ca3": 1}
# Hidden-type layers get the AvgL (BCM) term and weight balance; ECout is Target/Compare (§3.4, §3.6)
HIDDEN = {"ecin": True, "ecout": False, "ca1": True, "dg": True, "ca3": True}

# projection names: "<sender>_<receiver>"
PROJECTIONS = (
    "in_ecin",  # 1 one-to-one, 0.8 fixed
    "ecout_ecin",  # 2 one-to-one, U(.89,.91), Rel .5
    "ecin_ca1",  # 3 pool one-to-one, EcCa1
    "ca1_ecout",  # 4 pool one-to-one, EcCa1, Abs 4, symmetric copy of 5
    "ecout_ca1",  # 5 pool one-to-one, EcCa1
    "ecin_dg",  # 6 uniform random 36/144, CHL (MinusQ1, Hebb .5)
    "ecin_ca3",  # 7 uniform random 36/144, EcCa1 lr .15
    "ca3_ca3",  # 8 full minus self, EcCa1 lr .1, Rel .1, symmetric
    "dg_ca3",  # 9 uniform random 12/625, fixed, Rel 4 / 0 (Q1) / 1 (test Q2-4)
    "ca3_ca1",  # 10 full, CHL (minus = ActM, Hebb .01)
)
LEARNING_PROJECTIONS = ("ecin_ca1", "ca1_ecout", "ecout_ca1", "ecin_dg", "ecin_ca3", "ca3_ca3", "ca3_ca1")
ECCA1_PROJECTIONS = ("ecin_ca1", "ca1_ecout", "ecout_ca1", "ecin_ca3", "ca3_ca3")
CHL_PROJECTIONS = ("ecin_dg", "ca3_ca1")
PROJECTION_RECEIVER = {p: p.split("_")[1] for p in PROJECTIONS}
PROJECTION_SENDER = {p: p.split("_")[0] for p in PROJECTIONS}


@dataclass(frozen=True)
class NXX1Params:
    """Noisy X/(X+1) activation function defaults (§3.2)."""

    thr: float = 0.5
    gain: float = 100.0
    nvar: float = 0.005
    sig_mult: float = 0.33
    sig_mult_pow: float = 0.8
    sig_gain: float = 3.0
    interp_range: float = 0.01
    gain_cor_range: float = 10.0
    gain_cor: float = 0.1
    vm_act_thr: float = 0.01  # below this Act, use the Vm-based branch (§3.1 step 4)

    @property
    def sig_gain_nvar(self) -> float:
        return self.sig_gain / self.nvar  # 600

    @property
    def sig_mult_eff(self) -> float:
        return self.sig_mult * (self.gain * self.nvar) ** self.sig_mult_pow  # 0.18954

    @property
    def sig_val_at_0(self) -> float:
        return 0.5 * self.sig_mult_eff  # 0.09477


@dataclass(frozen=True)
class ActParams:
    """Membrane and conductance constants (§3.1 step 1 and 4)."""

    gbar_e: float = 1.0
    gbar_l: float = 0.1  # code default and `.EC` class (§3.1: README's 0.2 is wrong)
    gbar_i: float = 1.0
    erev_e: float = 1.0
    erev_l: float = 0.3
    erev_i: float = 0.25
    vm_tau: float = 3.3
    g_tau: float = 1.4
    vm_min: float = 0.0
    vm_max: float = 2.0
    vm_init: float = 0.4  # decay target at trial start (§3.4)
    clamp_max: float = 0.95  # hard clamp: Act = clip(Ext, 0, .95)
    send_thr: float = 0.1  # OptThresh.Send: units at or below this send nothing (§3.1 step 1)
    send_delta: float = 0.005  # OptThresh.Delta: resend when the change exceeds this


@dataclass(frozen=True)
class InhibParams:
    """FFFB defaults apart from Gi (§2.1, §3.1 step 3)."""

    ff: float = 1.0
    fb: float = 1.0
    fb_tau: float = 1.4
    max_vs_avg: float = 0.0
    ff0: float = 0.1
    gi_ecin: float = 2.0
    gi_ecout: float = 2.0
    gi_ca1: float = 2.4
    gi_dg: float = 3.8
    gi_ca3: float = 2.8

    def gi(self, layer: str) -> float:
        return getattr(self, f"gi_{layer}")


@dataclass(frozen=True)
class AvgParams:
    """Learning averages (§3.1 step 5, §3.4) and layer running averages (§3.4)."""

    ss_tau: float = 2.0
    s_tau: float = 2.0
    m_tau: float = 10.0
    lrn_m: float = 0.1  # AvgSLrn = 0.9 AvgS + 0.1 AvgM
    avg_init: float = 0.15
    avg_l_init: float = 0.4
    avg_l_gain: float = 2.5
    avg_l_tau: float = 10.0
    avg_l_min: float = 0.2
    avg_l_lrn_max: float = 0.5
    avg_l_lrn_min: float = 0.0001
    mod_min: float = 0.01  # ModAvgLLrn = max(1 - CosDiffAvg, .01)
    act_avg_tau: float = 100.0  # ActMAvg / ActPAvg time constant in trials
    act_avg_min: float = 1e-4  # skip the update below this
    cos_diff_tau: float = 100.0
    # Inhib.ActAvg.Init per layer (§2.1)
    init_ecin: float = 0.2
    init_ecout: float = 0.2
    init_ca1: float = 0.1
    init_dg: float = 0.01
    init_ca3: float = 0.02

    def init(self, layer: str) -> float:
        return getattr(self, f"init_{layer}")

    @property
    def avg_l_lrn_fact(self) -> float:
        return (self.avg_l_lrn_max - self.avg_l_lrn_min) / (self.avg_l_gain - self.avg_l_min)  # 0.21735


@dataclass(frozen=True)
class LearnParams:
    """Learning rules of the hip projections (§2.2, §2.4, §3.5, §3.6)."""

    lrate_ecca1: float = 0.04  # EC<->CA1
    lrate_ecin_ca3: float = 0.15
    lrate_ca3_ca3: float = 0.1
    lrate_ecin_dg: float = 0.4
    lrate_ca3_ca1: float = 0.1
    hebb_ecin_dg: float = 0.5
    savg_cor_ecin_dg: float = 0.1
    hebb_ca3_ca1: float = 0.01
    savg_cor_ca3_ca1: float = 0.4
    savg_thr: float = 0.001  # CHL: skip if sender plus-phase average below; also savgCor floor
    m_lrn: float = 1.0  # EcCa1 error term multiplier
    xcal_d_thr: float = 1e-4
    xcal_d_rev: float = 0.1
    wt_sig_gain: float = 6.0
    wt_sig_off: float = 1.0
    wtbal_interval: int = 10
    wtbal_avg_thr: float = 0.25
    wtbal_hi_thr: float = 0.4
    wtbal_hi_gain: float = 4.0
    wtbal_lo_thr: float = 0.4
    wtbal_lo_gain: float = 6.0

    def lrate(self, prj: str) -> float:
        if prj in ("ecin_ca1", "ca1_ecout", "ecout_ca1"):
            return self.lrate_ecca1
        return getattr(self, f"lrate_{prj}")


@dataclass(frozen=True)
class HippocampusParams:
    """Everything that defines one hip network and its trial schedule.

    ``legacy=True`` copies the 2020 behaviour (§1.6): the last training trial's weight change
    is never applied before testing (WtFmDWt at the start of the next training trial), test
    trials change the network (running averages, AvgL, scaling, learning averages), and the
    model's early stop (NZeroStop=1 with the stale Mem of the last training trial).
    """

    nxx1: NXX1Params = NXX1Params()
    act: ActParams = ActParams()
    inhib: InhibParams = InhibParams()
    avg: AvgParams = AvgParams()
    learn: LearnParams = LearnParams()
    cycles_per_quarter: int = 25  # §2.6 CycPerQtr
    # projection scales (§2.2, §2.3)
    rel_ecout_ecin: float = 0.5
    abs_ca1_ecout: float = 4.0
    rel_ca3_ca3: float = 0.1
    rel_dg_ca3_train: float = 4.0
    rel_dg_ca3_test: float = 1.0  # "weaker for recall" in Q2-Q4 of test trials
    w_in_ecin: float = 0.8
    # connectivity (§2.2)
    pcon_ecin_dg: float = 0.25
    pcon_ecin_ca3: float = 0.25
    fanin_dg_ca3: int = 12  # float32(0.02 * 625) rounds to 12
    mem_thr: float = 0.34  # §2.5
    legacy: bool = False

    def replace(self, **kw) -> "HippocampusParams":
        return dataclasses.replace(self, **kw)

    @property
    def fanin_ecin_dg(self) -> int:
        return int(round(self.pcon_ecin_dg * EC_N))  # 36

    @property
    def fanin_ecin_ca3(self) -> int:
        return int(round(self.pcon_ecin_ca3 * EC_N))  # 36

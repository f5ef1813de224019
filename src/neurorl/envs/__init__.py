"""Pure-JAX environments (gymnax 1.0 API), registered with neurorl, gymnax and Gymnasium.

    from neurorl.envs import make, list_envs
    env, params = make("neurorl/Bandit-independent-v0", num_arms=5, include_time=False)

To add an environment: one ``register(...)`` line in the block below (see docs/envs.md).
"""

from __future__ import annotations

from neurorl.envs.bandits import FAMILIES, BanditEnv, BanditParams, BanditState, bandit_factory
from neurorl.envs.registry import EnvSpec, list_envs, make, register, spec

# ---------------------------------------------------------------- registered environments
# Bandits (meta_rl.md §1.1, §2.3): one id per family; num_arms / max_steps_in_episode / include_time
# etc. are keyword arguments of make().
for _family in FAMILIES:
    register(f"neurorl/Bandit-{_family}-v0", bandit_factory(_family), description=f"{_family} bandit (L2RL)")
# N-armed variants with a fixed arm count (any count works through make(..., num_arms=N))
register("neurorl/Bandit-independent-10arm-v0", bandit_factory("independent"), num_arms=10,
         description="10-armed independent bandit")
register("neurorl/Bandit-correlated-10arm-v0", bandit_factory("correlated"), num_arms=10,
         description="10-armed correlated bandit")
# Harlow (meta_rl.md §3.1; pixel version: docs/harlow.md). Visual: make(id, split=1) for held-out objects.
from neurorl.envs.harlow import Harlow1D  # noqa: E402
from neurorl.envs.harlow_visual import HarlowVisual  # noqa: E402

register("neurorl/Harlow1D-v0", Harlow1D, description="Harlow 1-D strip task (BKHMSI), bugs fixed")
register("neurorl/Harlow1D-legacy-v0", Harlow1D, legacy=True, description="Harlow 1-D with the original's two bugs")
register("neurorl/HarlowVisual-v0", HarlowVisual, size=32, description="Harlow from 32x32 pixels, generated objects")
register("neurorl/HarlowVisual-64-v0", HarlowVisual, size=64, description="Harlow from 64x64 pixels, generated objects")
# Two-step (meta_rl.md §1.1, §4.1; docs/two_step.md) and its episodic variants (Ritter et al. 2018)
from neurorl.envs import two_step as _two_step  # noqa: E402

_two_step.register_ids(register)
from neurorl.envs import two_step_episodic as _two_step_episodic  # noqa: E402

_two_step_episodic.register_ids(register)
from neurorl.envs import harlow_episodic as _harlow_episodic  # noqa: E402

_harlow_episodic.register_ids(register)
# Hippocampus recall (hippocampus.md §1; docs/hippocampus.md): cue a trained Leabra hip model
from neurorl.envs.hippocampus_recall import HippocampusRecall  # noqa: E402

register("neurorl/HippocampusRecall-v0", HippocampusRecall, description="cue a trained hippocampus model; reward = recall quality")
# Other engineers: add your env here, one line each, e.g.
# register("neurorl/TwoStep-v0", TwoStepEnv, description="two-step task (Wang 2018 Sim 4)")

__all__ = [
    "FAMILIES",
    "BanditEnv",
    "BanditParams",
    "BanditState",
    "EnvSpec",
    "list_envs",
    "make",
    "register",
    "spec",
]

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

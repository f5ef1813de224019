"""Two-step task (Daw et al. 2011) as used by Wang et al. 2018, Simulation 4 / Fig 5.

Sources: ../shared/reference/meta_rl.md §1.1 (paper parameters), §4.1 (BKHMSI task),
§5.2 (mtrazzi "biorxiv-final"), §6.3 (NeuroGym DawTwoStep cross-check).

Task (one trial):
  1. At the first-stage state S0 the agent picks a in {0, 1}.
  2. It moves to second-stage state S1 with probability ``common_prob`` if a == 0 (S2 if a == 1),
     otherwise to the other state: transitions = [[c, 1-c], [1-c, c]]           (§4.1)
  3. The second-stage state that is currently "high" pays 1 with probability ``reward_prob_high``,
     the other with ``reward_prob_low``                                            (§1.1: 0.9 / 0.1)
  4. Before every trial the high state swaps with probability ``switch_prob``      (§1.1: 0.025)
  5. An episode is ``num_trials`` trials (§1.1: 100).

Two variants (constructor argument ``two_stage``):
  * ``two_stage=False`` (default, the paper's collapsed trial as in every public replication,
    §4.1, §5.2): one env step = one whole trial; the next observation shows the second-stage
    state that was reached, with the action and reward.
  * ``two_stage=True``: two env steps per trial. Step 1 (stage 0) takes the choice and shows the
    reached second-stage state; step 2 (stage 1) accepts any action and delivers the reward.

Observation (flat float32, the convention of the shared trainer)::

    [state one-hot (S0, S1, S2) | previous action one-hot (2) | previous reward | time?]

``time`` (present when ``params.include_time``) is the trial index divided by ``num_trials``.

``info`` (fixed structure, every step) holds what the stay-probability analysis needs:
``first_stage_action``, ``second_stage_state`` (0 = S1, 1 = S2), ``common``, ``rewarded``,
``high_state`` (0 = S1 high, 1 = S2 high, for the trial just played), ``trial``, ``stage`` and
``trial_end`` (True on the step that completes a trial: every step of the collapsed variant).
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
from flax import struct
from gymnax.environments import environment, spaces

NUM_ACTIONS = 2
NUM_STATES = 3  # S0 (first stage), S1, S2


@struct.dataclass
class TwoStepParams(environment.EnvParams):
    # meta_rl.md §1.1 ("as in the paper", mtrazzi biorxiv-final): 0.8, 0.9/0.1, 0.025, 100 trials
    common_prob: float = 0.8
    reward_prob_high: float = 0.9
    reward_prob_low: float = 0.1
    switch_prob: float = 0.025
    num_trials: int = struct.field(pytree_node=False, default=100)
    include_time: bool = struct.field(pytree_node=False, default=True)
    max_steps_in_episode: int = struct.field(pytree_node=False, default=100)


@struct.dataclass
class TwoStepState(environment.EnvState):
    high_state: jax.Array  # 0: S1 pays reward_prob_high, 1: S2 does
    obs_state: jax.Array  # 0 = S0, 1 = S1, 2 = S2 (what the next observation shows)
    last_action: jax.Array  # -1 before the first action
    last_reward: jax.Array
    trial: jax.Array
    stage: jax.Array  # two-stage variant: 0 waiting for the choice, 1 waiting for the reward step
    choice: jax.Array  # first-stage action of the current trial (two-stage variant)
    second_state: jax.Array  # 0 = S1, 1 = S2 reached in the current trial (two-stage variant)
    time: int


def make_params(
    common_prob: float = 0.8,
    reward_prob_high: float = 0.9,
    reward_prob_low: float = 0.1,
    switch_prob: float = 0.025,
    num_trials: int = 100,
    include_time: bool = True,
    two_stage: bool = False,
) -> TwoStepParams:
    """Validated parameters (defaults: the paper, meta_rl.md §1.1)."""
    for name, v in (("common_prob", common_prob), ("reward_prob_high", reward_prob_high),
                    ("reward_prob_low", reward_prob_low), ("switch_prob", switch_prob)):
        if not isinstance(v, (int, float)) or math.isnan(float(v)) or not 0.0 <= float(v) <= 1.0:
            raise ValueError(f"{name} must be a probability in [0, 1], got {v!r}")
    if not 0.5 < float(common_prob) <= 1.0:
        raise ValueError(f"common_prob must be in (0.5, 1] (the common transition is the likelier one), got {common_prob}")
    if isinstance(num_trials, bool) or not isinstance(num_trials, int) or num_trials < 2:
        raise ValueError(f"num_trials must be an integer >= 2, got {num_trials!r}")
    if not isinstance(include_time, bool):
        raise ValueError(f"include_time must be a bool, got {include_time!r}")
    return TwoStepParams(
        common_prob=float(common_prob), reward_prob_high=float(reward_prob_high),
        reward_prob_low=float(reward_prob_low), switch_prob=float(switch_prob),
        num_trials=num_trials, include_time=include_time,
        max_steps_in_episode=num_trials * (2 if two_stage else 1),
    )


def obs_dim(include_time: bool = True) -> int:
    return NUM_STATES + NUM_ACTIONS + 1 + int(include_time)


class TwoStep(environment.Environment[TwoStepState, TwoStepParams]):
    """gymnax environment of the two-step task (see module docstring)."""

    def __init__(self, two_stage: bool = False):
        super().__init__()
        self.two_stage = bool(two_stage)

    def make_params(self, **kwargs) -> TwoStepParams:
        """Validated parameters for this variant (used by ``neurorl.envs.make(id, **kwargs)``)."""
        if "max_steps_in_episode" in kwargs:
            raise ValueError("set num_trials, not max_steps_in_episode (it follows from num_trials and the variant)")
        return make_params(two_stage=self.two_stage, **kwargs)

    def __hash__(self):
        return hash((type(self), self.two_stage))

    def __eq__(self, other):
        return type(self) is type(other) and self.two_stage == other.two_stage

    # --- gymnax API --------------------------------------------------------------------------
    @property
    def default_params(self) -> TwoStepParams:
        return make_params(two_stage=self.two_stage)

    def reset_env(self, key: jax.Array, params: TwoStepParams) -> tuple[jax.Array, TwoStepState]:
        high = jax.random.bernoulli(key, 0.5).astype(jnp.int32)  # which state is high: a fair coin
        z = jnp.int32(0)
        state = TwoStepState(high_state=high, obs_state=z, last_action=jnp.int32(-1),
                             last_reward=jnp.float32(0.0), trial=z, stage=z, choice=z,
                             second_state=z, time=z)
        return self.get_obs(state, params), state

    def _transition(self, key, action, params):
        # §4.1: transitions = [[c, 1-c], [1-c, c]]; a=0 commonly leads to S1, a=1 to S2
        common = jax.random.bernoulli(key, params.common_prob)
        second = jnp.where(common, action, 1 - action).astype(jnp.int32)
        return second, common

    def _reward(self, key_switch, key_reward, high, second, params):
        # §1.1: the contingency switches with probability 0.025 at the start of every trial;
        # the switch is drawn before the reward of the trial it applies to.
        switch = jax.random.bernoulli(key_switch, params.switch_prob)
        high = jnp.where(switch, 1 - high, high).astype(jnp.int32)
        p = jnp.where(second == high, params.reward_prob_high, params.reward_prob_low)
        reward = jax.random.bernoulli(key_reward, p)
        return reward, high

    def step_env(self, key, state: TwoStepState, action, params: TwoStepParams):
        action = jnp.asarray(action).astype(jnp.int32)
        k_tr, k_sw, k_rw = jax.random.split(key, 3)
        if not self.two_stage:
            second, common = self._transition(k_tr, action, params)
            rewarded, high = self._reward(k_sw, k_rw, state.high_state, second, params)
            new = state.replace(high_state=high, obs_state=second + 1, last_action=action,
                                last_reward=rewarded.astype(jnp.float32), trial=state.trial + 1,
                                choice=action, second_state=second, time=state.time + 1)
            info = self._info(action, second, common, rewarded, high, state.trial, jnp.int32(0), True)
        else:
            at_first = state.stage == 0
            second_t, common_t = self._transition(k_tr, action, params)
            choice = jnp.where(at_first, action, state.choice)
            second = jnp.where(at_first, second_t, state.second_state)
            common = second == choice
            rewarded_t, high_t = self._reward(k_sw, k_rw, state.high_state, second, params)
            rewarded = jnp.logical_and(~at_first, rewarded_t)
            high = jnp.where(at_first, state.high_state, high_t)
            new = state.replace(
                high_state=high,
                obs_state=jnp.where(at_first, second + 1, 0).astype(jnp.int32),
                last_action=action, last_reward=rewarded.astype(jnp.float32),
                trial=state.trial + jnp.where(at_first, 0, 1), stage=jnp.where(at_first, 1, 0).astype(jnp.int32),
                choice=choice, second_state=second, time=state.time + 1)
            info = self._info(choice, second, common, rewarded, high, state.trial, state.stage, ~at_first)
        obs = self.get_obs(new, params)
        return (jax.lax.stop_gradient(obs), jax.lax.stop_gradient(new), rewarded.astype(jnp.float32),
                jnp.array(False), info)

    @staticmethod
    def _info(choice, second, common, rewarded, high, trial, stage, trial_end) -> dict[str, Any]:
        return {
            "first_stage_action": jnp.asarray(choice, jnp.int32),
            "second_stage_state": jnp.asarray(second, jnp.int32),
            "common": jnp.asarray(common, bool),
            "rewarded": jnp.asarray(rewarded, bool),
            "high_state": jnp.asarray(high, jnp.int32),
            "trial": jnp.asarray(trial, jnp.int32),
            "stage": jnp.asarray(stage, jnp.int32),
            "trial_end": jnp.asarray(trial_end, bool),
        }

    def get_obs(self, state: TwoStepState, params: TwoStepParams, key=None) -> jax.Array:
        parts = [
            jax.nn.one_hot(state.obs_state, NUM_STATES),
            jax.nn.one_hot(state.last_action, NUM_ACTIONS),  # all zeros before the first action
            jnp.reshape(state.last_reward, (1,)).astype(jnp.float32),
        ]
        if params.include_time:
            parts.append(jnp.reshape(state.trial / params.num_trials, (1,)).astype(jnp.float32))
        return jnp.concatenate(parts).astype(jnp.float32)

    def is_terminated(self, state, params) -> jax.Array:
        return jnp.array(False)

    @property
    def name(self) -> str:
        return "TwoStepTwoStage-v0" if self.two_stage else "TwoStep-v0"

    @property
    def num_actions(self) -> int:
        return NUM_ACTIONS

    def action_space(self, params: TwoStepParams | None = None) -> spaces.Discrete:
        return spaces.Discrete(NUM_ACTIONS)

    def observation_space(self, params: TwoStepParams) -> spaces.Box:
        n = obs_dim(params.include_time)
        return spaces.Box(0.0, 1.0, (n,), jnp.float32)

    def state_space(self, params: TwoStepParams) -> spaces.Dict:
        return spaces.Dict({
            "high_state": spaces.Discrete(2), "obs_state": spaces.Discrete(NUM_STATES),
            "last_action": spaces.Discrete(NUM_ACTIONS), "last_reward": spaces.Discrete(2),
            "trial": spaces.Discrete(params.num_trials + 1), "stage": spaces.Discrete(2),
            "time": spaces.Discrete(params.max_steps_in_episode + 1),
        })


def register_ids(register) -> None:
    """Register the two-step ids (called once from ``neurorl/envs/__init__.py``)."""
    register("neurorl/TwoStep-v0", TwoStep, description="two-step task, collapsed trial (Wang 2018 Sim 4)")
    register("neurorl/TwoStepTwoStage-v0", TwoStep, two_stage=True,
             description="two-step task, two env steps per trial")

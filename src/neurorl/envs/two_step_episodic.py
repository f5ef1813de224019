"""Episodic two-step task (Ritter et al. 2018, "Been there, done that"; BKHMSI ``EpTwoStepTask``).

Source: ../shared/reference/meta_rl.md §4.3 (episodic task design), §1.1 (published episodic stay
probabilities ≈0.84 / 0.30 / 0.35 / 0.72), §3.5 (DND keyed on context).

The two-step task of ``neurorl.envs.two_step`` (collapsed trials, common 0.8, reward 0.9/0.1,
switch 0.025) with a context cue per trial:

* the first ``num_uncued`` trials (default 50 of 100) are *uncued*: each shows a fresh random
  context code; the trial's outcome (first-stage action, reached state, reward) is recorded;
* the remaining trials are *cued*: each shows the context of one earlier uncued trial (a random
  permutation: every earlier trial recurs at most once). If the agent reaches the same second-stage
  state as in the remembered trial, it receives **the same reward as then**; otherwise the reward
  is drawn from the current probabilities (§4.3).

A task (context -> outcome) thus recurs later in the episode, long after the LSTM's working memory
has moved on (reward probabilities drift, ~25-75 trials pass); an agent that stores (context, cell
state) and reinstates it can exploit the recurrence. Memory scope: one episode (§4.3; the
episodic actor-critic clears its DND at episode start with ``memory_scope="episode"``).

Context codes are ``context_bits`` random ±1 values (cosine similarity between distinct codes is
at most 1 - 2/bits, so a threshold of 0.99 retrieves only an exact repeat).

Observation: ``[two-step observation (7) | context code (context_bits)]``; the context slice is
``obs[7:7 + context_bits]`` (``CONTEXT_START``). ``info`` adds ``cued``, ``recalled_trial``,
``recalled_action``, ``recalled_common``, ``recalled_rewarded`` for the episodic stay analysis.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct
from gymnax.environments import environment, spaces

from neurorl.envs.two_step import NUM_ACTIONS, NUM_STATES, TwoStep, TwoStepParams, TwoStepState
from neurorl.envs.two_step import make_params as make_two_step_params

CONTEXT_START = NUM_STATES + NUM_ACTIONS + 2  # after [state 3 | action 2 | reward | time]


@struct.dataclass
class EpisodicTwoStepParams(TwoStepParams):
    num_uncued: int = struct.field(pytree_node=False, default=50)
    context_bits: int = struct.field(pytree_node=False, default=16)


@struct.dataclass
class EpisodicTwoStepState(environment.EnvState):
    base: TwoStepState
    contexts: jax.Array  # (num_trials, bits) the context code shown on each trial
    recall: jax.Array  # (num_trials,) index of the remembered trial, -1 for uncued trials
    hist_action: jax.Array  # (num_trials,) outcomes of played trials
    hist_second: jax.Array
    hist_reward: jax.Array
    time: int


def make_params(num_trials: int = 100, num_uncued: int = 50, context_bits: int = 16, **two_step) -> EpisodicTwoStepParams:
    """Validated parameters; two-step keywords (common_prob, ...) as in ``neurorl.envs.two_step``."""
    base = make_two_step_params(num_trials=num_trials, include_time=True, **two_step)
    if isinstance(num_uncued, bool) or not isinstance(num_uncued, int) or not 1 <= num_uncued < num_trials:
        raise ValueError(f"num_uncued must be an integer in [1, num_trials), got {num_uncued!r}")
    if num_trials - num_uncued > num_uncued:
        raise ValueError(f"cued trials ({num_trials - num_uncued}) must not outnumber uncued ones ({num_uncued}): "
                         "each earlier trial recurs at most once")
    if isinstance(context_bits, bool) or not isinstance(context_bits, int) or context_bits < 4:
        raise ValueError(f"context_bits must be an integer >= 4, got {context_bits!r}")
    fields = {f: getattr(base, f) for f in ("common_prob", "reward_prob_high", "reward_prob_low", "switch_prob")}
    return EpisodicTwoStepParams(**fields, num_trials=num_trials, include_time=True, max_steps_in_episode=num_trials,
                                 num_uncued=num_uncued, context_bits=context_bits)


class EpisodicTwoStep(environment.Environment[EpisodicTwoStepState, EpisodicTwoStepParams]):
    def __init__(self):
        super().__init__()
        self._base = TwoStep(two_stage=False)

    def __hash__(self):
        return hash(type(self))

    def __eq__(self, other):
        return type(self) is type(other)

    def make_params(self, **kwargs) -> EpisodicTwoStepParams:
        if "max_steps_in_episode" in kwargs or "include_time" in kwargs:
            raise ValueError("set num_trials only (max_steps_in_episode follows; the time input is always on)")
        return make_params(**kwargs)

    @property
    def default_params(self) -> EpisodicTwoStepParams:
        return make_params()

    def reset_env(self, key, params: EpisodicTwoStepParams):
        k_base, k_ctx, k_perm = jax.random.split(key, 3)
        _, base = self._base.reset_env(k_base, params)
        T, U = params.num_trials, params.num_uncued
        codes = jnp.where(jax.random.bernoulli(k_ctx, 0.5, (T, params.context_bits)), 1.0, -1.0)
        perm = jax.random.permutation(k_perm, U)[: T - U]
        recall = jnp.concatenate([jnp.full((U,), -1, jnp.int32), perm.astype(jnp.int32)])
        contexts = jnp.where((recall >= 0)[:, None], codes[jnp.maximum(recall, 0)], codes)
        z = jnp.zeros((T,), jnp.int32)
        state = EpisodicTwoStepState(base=base, contexts=contexts.astype(jnp.float32), recall=recall,
                                     hist_action=z, hist_second=z, hist_reward=z, time=jnp.int32(0))
        return self.get_obs(state, params), state

    def step_env(self, key, state: EpisodicTwoStepState, action, params: EpisodicTwoStepParams):
        action = jnp.asarray(action).astype(jnp.int32)
        t = state.base.trial
        _, base, reward, _, info = self._base.step_env(key, state.base, action, params)
        r_idx = state.recall[t]
        cued = r_idx >= 0
        j = jnp.maximum(r_idx, 0)
        same_state = info["second_stage_state"] == state.hist_second[j]
        # §4.3: reaching the remembered trial's second-stage state replays that trial's reward
        replay = jnp.logical_and(cued, same_state)
        rewarded = jnp.where(replay, state.hist_reward[j] > 0, info["rewarded"])
        base = base.replace(last_reward=rewarded.astype(jnp.float32))
        new = state.replace(
            base=base,
            hist_action=state.hist_action.at[t].set(action),
            hist_second=state.hist_second.at[t].set(info["second_stage_state"]),
            hist_reward=state.hist_reward.at[t].set(rewarded.astype(jnp.int32)),
            time=state.time + 1)
        hist_common = state.hist_second[j] == state.hist_action[j]
        info = {**info, "rewarded": rewarded, "cued": cued, "recalled_trial": r_idx,
                "recalled_action": jnp.where(cued, state.hist_action[j], -1),
                "recalled_common": jnp.logical_and(cued, hist_common),
                "recalled_rewarded": jnp.logical_and(cued, state.hist_reward[j] > 0)}
        obs = self.get_obs(new, params)
        return (jax.lax.stop_gradient(obs), jax.lax.stop_gradient(new), rewarded.astype(jnp.float32),
                jnp.array(False), info)

    def get_obs(self, state: EpisodicTwoStepState, params: EpisodicTwoStepParams, key=None):
        base_obs = self._base.get_obs(state.base, params)
        t = jnp.minimum(state.base.trial, params.num_trials - 1)
        return jnp.concatenate([base_obs, state.contexts[t]]).astype(jnp.float32)

    def is_terminated(self, state, params):
        return jnp.array(False)

    @property
    def name(self) -> str:
        return "EpisodicTwoStep-v0"

    @property
    def num_actions(self) -> int:
        return NUM_ACTIONS

    def action_space(self, params=None):
        return spaces.Discrete(NUM_ACTIONS)

    def observation_space(self, params: EpisodicTwoStepParams):
        n = CONTEXT_START + params.context_bits
        low = jnp.concatenate([jnp.zeros(CONTEXT_START), -jnp.ones(params.context_bits)]).astype(jnp.float32)
        return spaces.Box(low, jnp.ones(n, jnp.float32), (n,), jnp.float32)

    def state_space(self, params):
        return spaces.Dict({"time": spaces.Discrete(params.max_steps_in_episode + 1)})


def context_slice(params: EpisodicTwoStepParams) -> tuple[int, int]:
    return CONTEXT_START, CONTEXT_START + params.context_bits


def register_ids(register) -> None:
    register("neurorl/EpisodicTwoStep-v0", EpisodicTwoStep,
             description="episodic two-step: contexts of earlier trials recur (Ritter et al. 2018)")


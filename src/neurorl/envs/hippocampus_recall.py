"""``HippocampusRecall``: the hip model as an RL environment (gymnax 1.0 API, pure JAX).

Every step the agent sees a target item (one of the stored patterns), chooses how to cue the
trained hippocampus, and is rewarded by the recall quality — the use spolcyn's interface was built
for (../shared/reference/hippocampus.md §1: reward = pattern size - Hamming distance).

* ``action_mode="window"`` (default): ``Discrete(12)``; action a presents the target's pools
  a, a+1, ..., a+window-1 (mod 12) and blanks the rest (12 pools of 3x4, §2.1). Which part of an
  item makes the better cue depends on the item, so a good policy reads the observation.
* ``action_mode="pattern"``: ``Box(0, 1, (144,))``; the action is the cue itself.
* ``reward="overlap"``: 1 - Hamming(round(recall), target) / 144 (the corrected v1 reward / 144);
  ``reward="nearest"``: 1 if the nearest stored pattern to the recall is the target (the demo's test).

Observation (team convention): ``[target (144), one-hot previous action (window mode), previous
reward]``. Episodes have ``max_steps_in_episode`` steps, each with a fresh random target.
The network is part of the env params (``RecallParams.net``), so envs with different trained
networks vmap; ``params_from_model`` takes it from a trained :class:`HippocampusModel`.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct
from gymnax.environments import environment, spaces

from neurorl.hippocampus.dynamics import trial
from neurorl.hippocampus.params import EC_N, EC_POOL_SIZE, EC_POOLS, HippocampusParams

ACTION_MODES = ("window", "pattern")
REWARDS = ("overlap", "nearest")


@struct.dataclass
class RecallState(environment.EnvState):
    target: jax.Array  # index of the current target pattern
    prev_action: jax.Array
    prev_reward: jax.Array
    time: int


@struct.dataclass
class RecallParams(environment.EnvParams):
    max_steps_in_episode: int = 10
    net: Any = None  # a trained neurorl.hippocampus.network.Net (one network, no batch axis)
    patterns: Any = None  # [N, 144] stored patterns (the targets)
    # optional [N, 12] reward of every (target, window): tests are deterministic and leave the
    # network unchanged, so a table gives exactly the same rewards without simulating each step
    reward_table: Any = None


class HippocampusRecall(environment.Environment):
    def __init__(self, action_mode: str = "window", window: int = 3, reward: str = "overlap",
                 n_patterns: int = 10, train_epochs: int = 5, seed: int = 0,
                 model_params: HippocampusParams | None = None):
        if action_mode not in ACTION_MODES:
            raise ValueError(f"action_mode must be one of {ACTION_MODES}, got {action_mode!r}")
        if reward not in REWARDS:
            raise ValueError(f"reward must be one of {REWARDS}, got {reward!r}")
        if not 1 <= window <= EC_POOLS:
            raise ValueError(f"window must be in [1, {EC_POOLS}], got {window}")
        if n_patterns < 1 or train_epochs < 1:
            raise ValueError("n_patterns and train_epochs must be >= 1")
        self.action_mode, self.window, self.reward = action_mode, int(window), reward
        self.n_patterns, self.train_epochs, self.seed = int(n_patterns), int(train_epochs), int(seed)
        self.hip = (model_params or HippocampusParams()).replace(legacy=False)  # tests must not change the net

    # ---- params -------------------------------------------------------------------------------
    @property
    def default_params(self) -> RecallParams:
        """A network trained on ``n_patterns`` random 36-of-144 patterns (built once, then cached)."""
        return _default_params(self.n_patterns, self.train_epochs, self.seed, self.hip)

    @staticmethod
    def params_from_model(model, run: int = 0, max_steps_in_episode: int = 10) -> RecallParams:
        """Env params from a trained :class:`neurorl.hippocampus.model.HippocampusModel`."""
        if not model.trained:
            raise ValueError("the model is not trained: call set_patterns(...) and train(...) first")
        net = jax.tree_util.tree_map(lambda x: x[run], model._nets)
        pats = model.patterns.reshape(-1, EC_N)
        return RecallParams(net=net, patterns=jnp.asarray(pats, jnp.float32), max_steps_in_episode=max_steps_in_episode)

    # ---- dynamics -----------------------------------------------------------------------------
    def cue_from_action(self, action, target):
        if self.action_mode == "pattern":
            return jnp.clip(jnp.asarray(action, jnp.float32).reshape(EC_N), 0.0, 1.0)
        pools = (jnp.asarray(action, jnp.int32) + jnp.arange(self.window)) % EC_POOLS
        pool_mask = jnp.zeros((EC_POOLS,), jnp.float32).at[pools].set(1.0)
        return target * jnp.repeat(pool_mask, EC_POOL_SIZE)

    def recall_reward(self, recall, target_idx, params: RecallParams):
        r = recall >= 0.5
        if self.reward == "nearest":
            d = jnp.sum(r[None, :] != (params.patterns >= 0.5), axis=-1)
            return (jnp.argmin(d) == target_idx).astype(jnp.float32)  # argmin: first minimum, as the original
        return 1.0 - jnp.sum(r != (params.patterns[target_idx] >= 0.5)) / EC_N

    def with_reward_table(self, params: RecallParams) -> RecallParams:
        """Params whose steps read the reward from a precomputed (target, window) table (window mode)."""
        if self.action_mode != "window":
            raise ValueError("a reward table exists only for action_mode='window'")
        table = jax.jit(jax.vmap(lambda t: jax.vmap(lambda a: self._simulated_reward(t, a, params)[0])(
            jnp.arange(EC_POOLS))))(jnp.arange(params.patterns.shape[0]))
        return params.replace(reward_table=table)

    def _simulated_reward(self, t_idx, action, params: RecallParams):
        target = params.patterns[t_idx]
        _, out = trial(params.net, self.cue_from_action(action, target), target, train=False, p=self.hip)
        return self.recall_reward(out.recall, t_idx, params), out

    def step_env(self, key, state: RecallState, action, params: RecallParams):
        target = params.patterns[state.target]
        if params.reward_table is not None:
            reward = params.reward_table[state.target, jnp.asarray(action, jnp.int32)]
            info = {}
        else:
            reward, out = self._simulated_reward(state.target, action, params)
            info = {"mem": out.mem.mem_cmp, "recall_distance": jnp.sum((out.recall >= 0.5) != (target >= 0.5))}
        nxt = jax.random.randint(key, (), 0, params.patterns.shape[0])
        prev_a = jnp.asarray(action, jnp.int32) if self.action_mode == "window" else jnp.int32(0)
        state = RecallState(target=nxt, prev_action=prev_a, prev_reward=reward, time=state.time + 1)
        done = self.is_terminal(state, params)
        return self.get_obs(state, params), state, reward, done, info

    def reset_env(self, key, params: RecallParams):
        t = jax.random.randint(key, (), 0, params.patterns.shape[0])
        state = RecallState(target=t, prev_action=jnp.int32(-1), prev_reward=jnp.float32(0.0), time=0)
        return self.get_obs(state, params), state

    def get_obs(self, state: RecallState, params: RecallParams, key=None):
        parts = [params.patterns[state.target].astype(jnp.float32)]
        if self.action_mode == "window":
            parts.append(jax.nn.one_hot(state.prev_action, EC_POOLS, dtype=jnp.float32))  # -1 -> all zero
        parts.append(jnp.reshape(state.prev_reward, (1,)).astype(jnp.float32))
        return jnp.concatenate(parts)

    def is_terminal(self, state: RecallState, params: RecallParams):
        return state.time >= params.max_steps_in_episode

    # ---- spaces -------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return "HippocampusRecall-v0"

    @property
    def num_actions(self) -> int:
        return EC_POOLS if self.action_mode == "window" else EC_N

    def action_space(self, params: RecallParams | None = None):
        if self.action_mode == "window":
            return spaces.Discrete(EC_POOLS)
        return spaces.Box(0.0, 1.0, (EC_N,), jnp.float32)

    def observation_space(self, params: RecallParams | None = None):
        n = EC_N + (EC_POOLS if self.action_mode == "window" else 0) + 1
        return spaces.Box(0.0, 1.0, (n,), jnp.float32)

    def state_space(self, params: RecallParams | None = None):
        return spaces.Dict({"target": spaces.Discrete(self.n_patterns), "time": spaces.Discrete(10_000)})


@functools.lru_cache(maxsize=8)
def _default_params(n_patterns: int, epochs: int, seed: int, hip: HippocampusParams) -> RecallParams:
    from neurorl.hippocampus.experiment import random_patterns
    from neurorl.hippocampus.model import HippocampusModel

    model = HippocampusModel(hip, seed=seed)
    model.set_patterns(random_patterns(np.random.default_rng(seed), n_patterns))
    model.train(epochs=epochs, runs=1)
    return HippocampusRecall.params_from_model(model)


def random_policy_return(env: HippocampusRecall, params: RecallParams, key, steps: int = 200) -> float:
    """Mean reward per step of uniformly random window cueing (the baseline a policy must beat)."""
    def one(k):
        k1, k2, k3 = jax.random.split(k, 3)
        _, st = env.reset(k1, params)
        a = jax.random.randint(k2, (), 0, EC_POOLS)
        _, _, r, _, _, _ = env.step(k3, st, a, params)
        return r

    return float(jnp.mean(jax.vmap(one)(jax.random.split(key, steps))))


def best_window_policy(env: HippocampusRecall, params: RecallParams) -> tuple[np.ndarray, float, float]:
    """Exhaustive per-target best window (an upper bound a learned cueing policy can approach).

    Returns (best action per target, mean reward of that policy, mean reward of random windows)."""
    grid = np.asarray(env.with_reward_table(params.replace(reward_table=None)).reward_table)
    return grid.argmax(1), float(grid.max(1).mean()), float(grid.mean())

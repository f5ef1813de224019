"""Episodic Harlow task (Ritter et al. 2018; BKHMSI ``HarlowEpisodic_1D``), built on ``Harlow1D``.

Source: ../shared/reference/meta_rl.md §3.5 ("Harlow_Simple_Episodic": rewarded objects come back
later with a context cue), §3.1 (the 1-D Harlow task, ``neurorl.envs.harlow.Harlow1D``).

One environment episode is a *block* of ``num_tasks`` Harlow task episodes (6 trials each, as
``Harlow1D``). Every task has a context code (``context_bits`` random ±1 values) shown in the
observation throughout the task; it identifies the task's rewarded object:

* tasks in the first half of the block are novel: fresh objects, fresh context;
* each task in the second half is, with probability ``recur_prob``, a *cued* recurrence of one
  first-half task: the same rewarded object (paired with a fresh unrewarded one) and the same
  context code; otherwise it is novel (*uncued*) with a fresh context.

An agent that stores (context, cell state) at the end of a task and reinstates it when the context
comes back can pick the rewarded object on trial 1 of a cued task; without memory trial 1 is a
coin flip (50 %). The observation carries a task-start flag so that the agent can reset its LSTM
at every task boundary (working memory is wiped between tasks, as between meta-RL episodes, §0),
while the episodic memory persists over the block: ``EpisodicActorCritic(lstm_reset_index=...)``.

BKHMSI's version (§3.5) spreads the recurrence over thousands of training episodes (first half of
training: random pairs, second half: remembered rewarded objects), which needs a memory that
outlives a synchronous A2C batch; the block keeps the same structure inside one environment
episode. Its cue is shown only right after fixation on trial 1; ours for the whole task.

Observation: ``[Harlow1D observation (12) | task-start flag | context (context_bits)]``.
``info``: ``task``, ``cued`` (the task recurs an earlier one), ``novel_second_half``, ``trial``,
``choice_made``, ``correct``, ``fixated``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct
from gymnax.environments import environment, spaces

from neurorl.envs.harlow import Harlow1D, Harlow1DParams, Harlow1DState

HARLOW_OBS = Harlow1D.obs_size  # 12
FLAG_INDEX = HARLOW_OBS
CONTEXT_START = HARLOW_OBS + 1


@struct.dataclass
class EpisodicHarlowParams(environment.EnvParams):
    task_max_steps: int = 250  # §3.1 max_length per task
    n_trials: int = 6  # §3.1
    n_objects: int = 1000  # §3.1
    fix_reward: float = 0.2  # §3.1
    obj_reward: float = 1.0  # §3.1
    recur_prob: float = 0.5
    num_tasks: int = struct.field(pytree_node=False, default=4)
    context_bits: int = struct.field(pytree_node=False, default=16)
    max_steps_in_episode: int = struct.field(pytree_node=False, default=1000)


@struct.dataclass
class EpisodicHarlowState(environment.EnvState):
    sub: Harlow1DState
    task: jax.Array
    task_time: jax.Array
    task_start: jax.Array  # the next observation is the first of a task
    contexts: jax.Array  # (num_tasks, bits)
    codes: jax.Array  # (num_tasks, 2): [rewarded object code, other object code]
    ids: jax.Array  # (num_tasks, 2)
    cued: jax.Array  # (num_tasks,) bool
    time: int


def make_params(num_tasks: int = 4, context_bits: int = 16, recur_prob: float = 0.5, task_max_steps: int = 250,
                n_trials: int = 6, n_objects: int = 1000, fix_reward: float = 0.2,
                obj_reward: float = 1.0) -> EpisodicHarlowParams:
    for name, v, lo in (("num_tasks", num_tasks, 2), ("context_bits", context_bits, 4), ("task_max_steps", task_max_steps, 10),
                        ("n_trials", n_trials, 1), ("n_objects", n_objects, 4)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    if not isinstance(recur_prob, (int, float)) or not 0.0 <= float(recur_prob) <= 1.0:
        raise ValueError(f"recur_prob must be a probability in [0, 1], got {recur_prob!r}")
    return EpisodicHarlowParams(task_max_steps=task_max_steps, n_trials=n_trials, n_objects=n_objects,
                                fix_reward=float(fix_reward), obj_reward=float(obj_reward), recur_prob=float(recur_prob),
                                num_tasks=num_tasks, context_bits=context_bits,
                                max_steps_in_episode=num_tasks * task_max_steps)


class EpisodicHarlow(environment.Environment[EpisodicHarlowState, EpisodicHarlowParams]):
    def __init__(self):
        super().__init__()
        self._harlow = Harlow1D(legacy=False)

    def __hash__(self):
        return hash(type(self))

    def __eq__(self, other):
        return type(self) is type(other)

    def make_params(self, **kwargs) -> EpisodicHarlowParams:
        if "max_steps_in_episode" in kwargs:
            raise ValueError("set num_tasks and task_max_steps, not max_steps_in_episode")
        return make_params(**kwargs)

    @property
    def default_params(self) -> EpisodicHarlowParams:
        return make_params()

    def _sub_params(self, p: EpisodicHarlowParams) -> Harlow1DParams:
        return Harlow1DParams(max_steps_in_episode=p.task_max_steps, n_trials=p.n_trials, n_objects=p.n_objects,
                              fix_reward=p.fix_reward, obj_reward=p.obj_reward)

    def _start_task(self, key, p, codes, ids):
        _, sub = self._harlow.reset_env(key, self._sub_params(p))
        # rewarded object in slot 0 (its screen side is still drawn at random every trial, §3.1)
        return sub.replace(codes=codes, ids=ids, rewarded=jnp.int32(0))

    def reset_env(self, key, p: EpisodicHarlowParams):
        K, half = p.num_tasks, p.num_tasks // 2
        k_obj, k_oth, k_ctx, k_rec, k_src, k_sub = jax.random.split(key, 6)
        ids = jax.random.randint(k_obj, (K,), 0, p.n_objects)
        other = jnp.mod(ids + jax.random.randint(k_oth, (K,), 1, p.n_objects), p.n_objects)  # distinct
        ctx = jnp.where(jax.random.bernoulli(k_ctx, 0.5, (K, p.context_bits)), 1.0, -1.0)
        src = jax.random.randint(k_src, (K,), 0, half)  # which first-half task a cued task repeats
        cued = jnp.logical_and(jnp.arange(K) >= half, jax.random.bernoulli(k_rec, p.recur_prob, (K,)))
        ids = jnp.where(cued, ids[src], ids)
        other = jnp.where(jnp.logical_and(cued, other == ids), jnp.mod(other + 1, p.n_objects), other)
        ctx = jnp.where(cued[:, None], ctx[src], ctx)
        all_ids = jnp.stack([ids, other], 1).astype(jnp.int32)
        codes = (all_ids.astype(jnp.float32) + 1.0) / (p.n_objects + 1.0)  # Harlow1D's fixed coding (§3.1 bug 1)
        sub = self._start_task(k_sub, p, codes[0], all_ids[0])
        state = EpisodicHarlowState(sub=sub, task=jnp.int32(0), task_time=jnp.int32(0), task_start=jnp.array(True),
                                    contexts=ctx.astype(jnp.float32), codes=codes, ids=all_ids, cued=cued,
                                    time=jnp.int32(0))
        return self.get_obs(state, p), state

    def step_env(self, key, state: EpisodicHarlowState, action, p: EpisodicHarlowParams):
        k_step, k_next = jax.random.split(key)
        sp = self._sub_params(p)
        _, sub, reward, term, info = self._harlow.step_env(k_step, state.sub, action, sp)
        task_time = state.task_time + 1
        task_over = jnp.logical_or(term, task_time >= p.task_max_steps)
        nxt = jnp.minimum(state.task + 1, p.num_tasks - 1)
        fresh = self._start_task(k_next, p, state.codes[nxt], state.ids[nxt])
        sub = jax.tree_util.tree_map(lambda a, b: jnp.where(task_over, a, b), fresh, sub)
        task = state.task + task_over.astype(jnp.int32)
        half = p.num_tasks // 2
        new = state.replace(sub=sub, task=task, task_time=jnp.where(task_over, 0, task_time).astype(jnp.int32),
                            task_start=task_over, time=state.time + 1)
        info = {**info, "task": state.task, "cued": state.cued[state.task],
                "novel_second_half": jnp.logical_and(state.task >= half, ~state.cued[state.task])}
        done = task >= p.num_tasks
        obs = self.get_obs(new, p)
        return jax.lax.stop_gradient(obs), jax.lax.stop_gradient(new), reward, done, info

    def get_obs(self, state: EpisodicHarlowState, p: EpisodicHarlowParams, key=None):
        t = jnp.minimum(state.task, p.num_tasks - 1)
        return jnp.concatenate([self._harlow.get_obs(state.sub, self._sub_params(p)),
                                state.task_start.astype(jnp.float32)[None], state.contexts[t]]).astype(jnp.float32)

    def is_terminated(self, state, p):
        return state.task >= p.num_tasks

    @property
    def name(self) -> str:
        return "EpisodicHarlow1D-v0"

    @property
    def num_actions(self) -> int:
        return self._harlow.num_actions

    def action_space(self, params=None):
        return spaces.Discrete(self.num_actions)

    def observation_space(self, p: EpisodicHarlowParams):
        base = self._harlow.observation_space(self._sub_params(p))
        low = jnp.concatenate([base.low, jnp.zeros(1), -jnp.ones(p.context_bits)]).astype(jnp.float32)
        high = jnp.concatenate([base.high, jnp.ones(1), jnp.ones(p.context_bits)]).astype(jnp.float32)
        return spaces.Box(low, high, (low.shape[0],), jnp.float32)

    def state_space(self, p):
        return spaces.Dict({"time": spaces.Discrete(p.max_steps_in_episode + 1)})


def context_slice(p: EpisodicHarlowParams) -> tuple[int, int]:
    return CONTEXT_START, CONTEXT_START + p.context_bits


def register_ids(register) -> None:
    register("neurorl/EpisodicHarlow1D-v0", EpisodicHarlow,
             description="episodic Harlow 1-D: rewarded objects recur in later tasks with a context cue (Ritter 2018)")

"""Frozen-weight evaluation: roll out whole episodes with fixed parameters, greedy or sampled.

Returns time-major-free arrays of shape (episodes, steps, ...): actions, rewards, logits, values,
optionally the recurrent hidden output, every leaf of the env's per-step ``info``, and an
``alive`` mask (True up to and including each episode's last step). Episodes run for
``max_steps`` steps from a reset; steps after an episode ended are masked out, so variable-length
tasks (Harlow) and fixed-length ones (bandits) share one code path.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from neurorl.agents.actor_critic import RecurrentActorCritic


def make_rollout(env, env_params, net, max_steps: int, greedy: bool, record_hidden: bool = False,
                 reset_fn: Callable | None = None):
    """Jittable ``rollout(params, key, batch, reset_args) -> dict`` for a batch of episodes.

    ``reset_fn(key, reset_args, env_params) -> (obs, state)`` replaces ``env.reset`` for one
    episode (e.g. a bandit with given arm probabilities); ``reset_args`` is vmapped over episodes.
    """
    vstep = jax.vmap(env.step, in_axes=(0, 0, 0, None))
    core = getattr(net, "core", None)

    def rollout(params, key, batch: int, reset_args=None):
        k_reset, k_run = jax.random.split(key)
        reset_keys = jax.random.split(k_reset, batch)
        if reset_fn is None:
            obs, state = jax.vmap(env.reset, in_axes=(0, None))(reset_keys, env_params)
        else:
            obs, state = jax.vmap(reset_fn, in_axes=(0, 0, None))(reset_keys, reset_args, env_params)
        carry = net.initialize_carry(batch)
        start = jnp.ones((batch,), bool)
        alive = jnp.ones((batch,), bool)

        def step(c, k):
            carry, state, obs, start, alive = c
            carry, logits, value = net.apply(params, carry, obs, start)
            k_act, k_env = jax.random.split(k)
            action = jnp.argmax(logits, -1) if greedy else jax.random.categorical(k_act, logits)
            obs2, state2, reward, term, trunc, info = vstep(jax.random.split(k_env, batch), state, action, env_params)
            done = jnp.logical_or(term, trunc)
            out = {"action": action, "reward": reward.astype(jnp.float32), "logits": logits, "value": value,
                   "done": done, "alive": alive, "info": _strip_info(info)}
            if record_hidden and core is not None:
                out["hidden"] = RecurrentActorCritic.hidden_output(carry, core)
            # After an episode ends, the env auto-resets; the "start" flag resets the agent too,
            # but those steps belong to the next episode and are masked by ``alive``.
            alive2 = jnp.logical_and(alive, ~done)
            return (carry, state2, obs2, done, alive2), out

        _, traj = jax.lax.scan(step, (carry, state, obs, start, alive), jax.random.split(k_run, max_steps))
        return jax.tree_util.tree_map(lambda x: jnp.swapaxes(x, 0, 1), traj)

    return rollout


def _strip_info(info: Any) -> dict:
    if not isinstance(info, dict):
        return {}
    return {k: v for k, v in info.items() if k not in ("final_observation", "final_info", "discount")}


def evaluate_episodes(env, env_params, net, params, *, episodes: int, seed: int = 0, greedy: bool = False,
                      max_steps: int | None = None, record_hidden: bool = False, batch_size: int = 2000,
                      reset_fn: Callable | None = None, reset_args: Any = None) -> dict:
    """Run ``episodes`` episodes with frozen ``params`` in batches; return numpy arrays (episodes, steps, ...)."""
    if episodes < 1:
        raise ValueError("episodes must be >= 1")
    if max_steps is None:
        max_steps = int(env_params.max_steps_in_episode)
    rollout = jax.jit(make_rollout(env, env_params, net, max_steps, greedy, record_hidden, reset_fn), static_argnums=2)
    key = jax.random.PRNGKey(seed)
    chunks = []
    for start in range(0, episodes, batch_size):
        n = min(batch_size, episodes - start)
        key, k = jax.random.split(key)
        args = None if reset_args is None else jax.tree_util.tree_map(lambda x: x[start:start + n], reset_args)
        chunks.append(jax.device_get(rollout(params, k, n, args)))
    return jax.tree_util.tree_map(lambda *xs: np.concatenate(xs, 0), *chunks)


def episode_returns(traj: dict) -> np.ndarray:
    return (traj["reward"] * traj["alive"]).sum(-1)


def dump_dynamics(path, traj: dict, extra: dict | None = None) -> None:
    """Save an evaluation's per-step arrays to ``path`` (.npz): ``np.load(path)`` gives them back."""
    from neurorl.utils.atomic import save_npz_atomic

    flat = {k: v for k, v in traj.items() if k != "info"}
    flat.update({f"info_{k}": v for k, v in traj.get("info", {}).items()})
    flat.update(extra or {})
    save_npz_atomic(path, **flat)


def generic_evaluator(agent, *, episodes: int, seed: int, greedy: bool, seed_index: int = 0, dump=None) -> dict:
    """Return per episode, mean ± sd; used for any task family without its own evaluator."""
    traj = evaluate_episodes(agent.env, agent.env_params, agent.net, agent.seed_params(seed_index),
                             episodes=episodes, seed=seed, greedy=greedy, record_hidden=dump is not None)
    if dump is not None:
        dump_dynamics(dump, traj)
    ret = episode_returns(traj)
    return {"mean_return": float(ret.mean()), "sd_return": float(ret.std()),
            "mean_episode_length": float(traj["alive"].sum(1).mean())}


def _register():
    from neurorl.cli_registry import agent_evaluator

    agent_evaluator("generic")(generic_evaluator)


_register()

"""Gymnasium adapter for any gymnax environment (ours, written fresh).

Why not gymnax's ``GymnaxToGymWrapper``: in gymnax 1.0.1 its ``reset`` does not seed Gymnasium's RNG,
so ``gymnasium.utils.env_checker.check_env`` fails (../shared/ARCHITECTURE.md, defaults table).

* Spaces: gymnax ``Discrete``/``Box``/``Dict``/``Tuple`` become the Gymnasium spaces of the same
  shape; dict observations (e.g. Harlow visual ``{"image", "vector"}``) become a ``gymnasium.spaces.Dict``
  and are returned as a dict of numpy arrays.
* Seeding: ``reset(seed=s)`` seeds ``self.np_random``; every reset then draws a fresh JAX key from it,
  and steps split that key, so the same seed replays the same episode.
* Episodes end with the gymnax env's own ``terminated``/``truncated`` flags; the adapter does not
  auto-reset (Gymnasium semantics): the final observation of an episode is returned by ``step``.
* ``info`` holds the env's info pytree converted to numpy (for bandits: ``regret``, ``arm_probs``...).
* Rendering: ``render_mode="ansi"`` uses the env's ``render_text(state)`` when it has one;
  ``render_mode="rgb_array"`` uses ``render_rgb(state, params)`` (or ``render(state, params)``) when it has one.

The step function is jitted once per adapter, so one step costs one small XLA call (tens of
microseconds on CPU): fine for Stable-Baselines3-style peers, far slower than a vmapped JAX loop.
"""

from __future__ import annotations

import functools
from typing import Any

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
from gymnasium import spaces as gspaces
from gymnax.environments import spaces as xspaces


def to_gymnasium_space(space: Any) -> gspaces.Space:
    """Convert a gymnax space (Discrete, Box, Dict, Tuple) to the Gymnasium space of the same shape."""
    if isinstance(space, xspaces.Discrete):
        return gspaces.Discrete(int(space.n))
    if isinstance(space, xspaces.Box):
        dtype = np.dtype(space.dtype)
        shape = tuple(int(s) for s in np.atleast_1d(space.shape)) if space.shape != () else ()
        low = np.broadcast_to(np.asarray(space.low, dtype=dtype), shape).copy()
        high = np.broadcast_to(np.asarray(space.high, dtype=dtype), shape).copy()
        return gspaces.Box(low=low, high=high, shape=shape, dtype=dtype)
    if isinstance(space, xspaces.Dict):
        return gspaces.Dict({k: to_gymnasium_space(v) for k, v in space.spaces.items()})
    if isinstance(space, xspaces.Tuple):
        return gspaces.Tuple(tuple(to_gymnasium_space(s) for s in space.spaces))
    if isinstance(space, gspaces.Space):
        return space
    raise TypeError(f"cannot convert space {space!r} to a Gymnasium space (expected gymnax Discrete/Box/Dict/Tuple)")


def _to_numpy_obs(obs: Any, space: gspaces.Space) -> Any:
    if isinstance(space, gspaces.Dict):
        return {k: _to_numpy_obs(obs[k], s) for k, s in space.spaces.items()}
    if isinstance(space, gspaces.Tuple):
        return tuple(_to_numpy_obs(o, s) for o, s in zip(obs, space.spaces))
    if isinstance(space, gspaces.Discrete):
        return np.int64(np.asarray(obs))
    return np.asarray(obs, dtype=space.dtype).reshape(space.shape)


# env is static: envs that compare equal (same configuration) share one compilation
@functools.partial(jax.jit, static_argnums=0)
def _reset_jit(env, key, params):
    return env.reset_env(key, params)


def _step_outputs(env, key, state, action, params):
    # gymnax's step auto-resets; Gymnasium wants the terminal observation, so call step_env.
    key, key_step = jax.random.split(key)
    obs, state, reward, terminated, info = env.step_env(key_step, state, action, params)
    truncated = env.is_truncated(state, params)
    return key, state, (obs, reward, terminated, truncated, info)


@functools.partial(jax.jit, static_argnums=0)
def _step_jit(env, key, state, action, params):
    """One step; the host-bound outputs come packed as one flat array per dtype (few transfers)."""
    key, state, out = _step_outputs(env, key, state, action, params)
    leaves = jax.tree.leaves(out)
    groups: dict[str, list] = {}
    for leaf in leaves:
        groups.setdefault(jnp.dtype(leaf.dtype).name, []).append(jnp.ravel(leaf))
    return key, state, {k: jnp.concatenate(v) for k, v in groups.items()}


def _unpacker(env, key, state, action, params):
    """Host-side inverse of the packing in ``_step_jit`` (layout from the abstract shapes)."""
    shapes = jax.eval_shape(lambda k, s, a, p: _step_outputs(env, k, s, a, p)[2], key, state, action, params)
    leaves, treedef = jax.tree.flatten(shapes)
    layout, offsets = [], {}
    for leaf in leaves:
        name = jnp.dtype(leaf.dtype).name
        size = int(np.prod(leaf.shape))
        start = offsets.get(name, 0)
        layout.append((name, start, start + size, leaf.shape))
        offsets[name] = start + size

    def unpack(packed):
        host = {k: np.asarray(v) for k, v in packed.items()}  # one transfer per dtype
        return jax.tree.unflatten(treedef, [host[n][a:b].reshape(shape) for n, a, b, shape in layout])

    return unpack


class GymnaxToGymnasium(gymnasium.Env):
    """A ``gymnasium.Env`` running one episode at a time of a gymnax environment."""

    def __init__(self, env: Any, params: Any = None, render_mode: str | None = None):
        self.env = env
        self.params = env.default_params if params is None else params
        self.action_space = to_gymnasium_space(env.action_space(self.params))
        self.observation_space = to_gymnasium_space(env.observation_space(self.params))
        modes = []
        if hasattr(env, "render_text"):
            modes.append("ansi")
        if hasattr(env, "render_rgb") or hasattr(env, "render"):
            modes.append("rgb_array")
        self.metadata = {"render_modes": modes, "render_fps": 4}
        if render_mode is not None and render_mode not in modes:
            raise ValueError(f"render_mode {render_mode!r} not supported by {env!r}; supported: {modes}")
        self.render_mode = render_mode
        self._key: jax.Array | None = None
        self._state = None
        self._unpack = None

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)  # seeds self.np_random (what gymnax's wrapper forgets)
        seed_int = int(self.np_random.integers(0, 2**31 - 1))
        key_reset, self._key = jax.random.split(jax.random.key(seed_int))
        obs, self._state = _reset_jit(self.env, key_reset, self.params)
        return _to_numpy_obs(obs, self.observation_space), {}

    def step(self, action):
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        if isinstance(self.action_space, gspaces.Discrete):
            a = np.asarray(action)
            if a.size != 1 or not self.action_space.contains(int(a.reshape(()))):
                raise ValueError(f"action must be an integer in [0, {self.action_space.n}), got {action!r}")
            action = np.int32(a.reshape(()))
        else:
            action = np.asarray(action, dtype=self.action_space.dtype)
        if self._unpack is None:
            self._unpack = _unpacker(self.env, self._key, self._state, action, self.params)
        self._key, self._state, packed = _step_jit(self.env, self._key, self._state, action, self.params)
        obs, reward, terminated, truncated, info = self._unpack(packed)  # the state stays on the device
        return (
            _to_numpy_obs(obs, self.observation_space),
            float(reward),
            bool(terminated),
            bool(truncated),
            info,
        )

    def render(self):
        if self.render_mode is None or self._state is None:
            return None
        if self.render_mode == "ansi":
            return self.env.render_text(self._state)
        if self.render_mode == "rgb_array":
            fn = getattr(self.env, "render_rgb", None) or self.env.render
            return np.asarray(fn(self._state, self.params), dtype=np.uint8)
        return None

    @property
    def state(self):
        """The current gymnax state (read-only use)."""
        return self._state


def make_gymnasium_env(env_id: str, render_mode: str | None = None, **kwargs: Any) -> GymnaxToGymnasium:
    """Gymnasium entry point for every id of ``neurorl.envs.registry``."""
    from neurorl.envs.registry import make

    env, params = make(env_id, **kwargs)
    return GymnaxToGymnasium(env, params, render_mode=render_mode)

"""Environment sessions: Gym over HTTP for every registered task (batched, jitted, one lock each).

A session holds ``num_envs`` copies of one gymnax environment stepped together by one jitted,
vmapped call. Without ``autoreset`` it follows Gymnasium: the final observation of an episode is
returned and that env must be reset before it is stepped again. With ``autoreset`` it follows
gymnax: an ended episode restarts inside ``step``. Environment objects are cached per
(id, params), so every session of the same task shares one compilation.
"""

from __future__ import annotations

import base64
import functools
import io
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from neurorl.server.errors import BadRequest, Conflict, NotFound, TooMany

SESSION_IDLE_S = 3600.0


@functools.partial(jax.jit, static_argnums=(0,))
def _reset_batch(env, keys, params):
    return jax.vmap(env.reset_env, in_axes=(0, None))(keys, params)


@functools.partial(jax.jit, static_argnums=(0, 5))
def _step_batch(env, keys, state, actions, params, autoreset: bool):
    def one(k, s, a):
        if autoreset:
            return env.step(k, s, a, params)  # gymnax: resets inside when the episode ends
        obs, s2, r, term, info = env.step_env(k, s, a, params)
        return obs, s2, r, term, env.is_truncated(s2, params), info

    return jax.vmap(one)(keys, state, actions)


_ENV_CACHE: dict[tuple, tuple[Any, Any]] = {}
_ENV_CACHE_LOCK = threading.Lock()


def cached_env(env_id: str, params: dict[str, Any]):
    from neurorl.envs import list_envs, make

    if env_id not in list_envs():
        raise NotFound(f"unknown environment id {env_id!r}; GET /v1/envs lists them: {list_envs()}")
    key = (env_id, tuple(sorted(params.items())))
    with _ENV_CACHE_LOCK:
        hit = _ENV_CACHE.get(key)
    if hit is not None:
        return hit
    try:
        env, env_params = make(env_id, **params)
    except (ValueError, TypeError) as e:
        raise BadRequest(f"bad params for {env_id!r}: {e}") from None
    with _ENV_CACHE_LOCK:
        if len(_ENV_CACHE) > 256:
            _ENV_CACHE.clear()
        _ENV_CACHE[key] = (env, env_params)
    return env, env_params


def space_info(space) -> dict[str, Any]:
    from gymnax.environments import spaces as xs

    if isinstance(space, xs.Discrete):
        return {"kind": "discrete", "n": int(space.n)}
    if isinstance(space, xs.Box):
        shape = [int(s) for s in np.atleast_1d(space.shape)] if space.shape != () else []
        low, high = np.asarray(space.low), np.asarray(space.high)
        return {"kind": "box", "shape": shape, "low": float(low.min()) if np.isfinite(low).all() else None,
                "high": float(high.max()) if np.isfinite(high).all() else None}
    if isinstance(space, xs.Dict):
        return {"kind": "dict", "spaces": {k: space_info(v) for k, v in space.spaces.items()}}
    return {"kind": type(space).__name__.lower()}


def jsonable(x: Any) -> Any:
    """Numpy/JAX pytree to JSON-ready lists; non-finite floats become None (JSON has no NaN)."""
    if isinstance(x, dict):
        return {k: jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    a = np.asarray(x)
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        o = a.astype(object)
        o[~np.isfinite(a)] = None
        return o.tolist()
    return a.tolist()


def png_data_url(rgb: np.ndarray) -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(rgb, np.uint8)).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


@dataclass
class Session:
    session_id: str
    env_id: str
    params: dict[str, Any]
    env: Any
    env_params: Any
    num_envs: int
    autoreset: bool
    key: jax.Array
    state: Any = None
    done: np.ndarray | None = None
    returns: np.ndarray | None = None
    episodes_done: int = 0
    last_return: float | None = None
    last_info: dict[str, Any] = field(default_factory=dict)
    start_probs: np.ndarray | None = None
    last_task_probs: np.ndarray | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    last_used: float = field(default_factory=time.time)

    def info(self) -> dict[str, Any]:
        return {"session_id": self.session_id, "env_id": self.env_id, "params": self.params, "num_envs": self.num_envs,
                "autoreset": self.autoreset,
                "observation_space": space_info(self.env.observation_space(self.env_params)),
                "action_space": space_info(self.env.action_space(self.env_params)),
                "episode_returns": [] if self.returns is None else [float(r) for r in self.returns],
                "episodes_done": self.episodes_done}

    def _frames(self) -> list[str] | None:
        if not hasattr(self.env, "render_rgb"):
            return None
        return [png_data_url(self.env.render_rgb(jax.tree_util.tree_map(lambda x: x[i], self.state), self.env_params))
                for i in range(self.num_envs)]

    def reset(self, seed: int | None, render: bool) -> dict[str, Any]:
        if seed is not None:
            self.key = jax.random.key(seed)
        self.key, k = jax.random.split(self.key)
        obs, self.state = _reset_batch(self.env, jax.random.split(k, self.num_envs), self.env_params)
        self.done = np.zeros(self.num_envs, bool)
        self.returns = np.zeros(self.num_envs, np.float64)
        # the task of each episode (bandit arm probabilities), kept for scoring against baselines
        self.start_probs = np.asarray(self.state.arm_probs) if hasattr(self.state, "arm_probs") else None
        return {"observation": jsonable(jax.device_get(obs)), "frames": self._frames() if render else None}

    def step(self, actions: list[int], render: bool) -> dict[str, Any]:
        if self.state is None:
            raise Conflict(f"session {self.session_id} has not been reset; POST .../reset first")
        if len(actions) != self.num_envs:
            raise BadRequest(f"expected {self.num_envs} actions (one per env of this session), got {len(actions)}")
        n = int(self.env.action_space(self.env_params).n)
        bad = [a for a in actions if not 0 <= a < n]
        if bad:
            raise BadRequest(f"actions must be integers in [0, {n}); got {bad[0]}")
        if not self.autoreset and self.done.any():
            raise Conflict(f"the episode of env(s) {np.flatnonzero(self.done).tolist()} has ended; POST .../reset "
                           "first (or create the session with autoreset=true)")
        self.key, k = jax.random.split(self.key)
        obs, self.state, reward, term, trunc, info = _step_batch(
            self.env, jax.random.split(k, self.num_envs), self.state, jnp.asarray(actions, jnp.int32),
            self.env_params, self.autoreset)
        obs, reward, term, trunc, info = jax.device_get((obs, reward, term, trunc, info))
        info = {k: v for k, v in info.items() if k not in ("final_observation", "discount")}
        self.returns += np.asarray(reward, np.float64)
        ended = np.logical_or(term, trunc)
        out_returns = self.returns.copy()
        if ended.any():
            self.episodes_done += int(ended.sum())
            self.last_return = float(self.returns[ended][-1])
            self.last_info = {k: np.asarray(v)[ended][-1] for k, v in info.items()}
            self.last_task_probs = None if self.start_probs is None else self.start_probs[ended][-1]
            if self.autoreset:
                self.returns[ended] = 0.0
        self.done = ended if not self.autoreset else np.zeros_like(ended)
        self.last_step_info = {k: np.asarray(v)[0] for k, v in info.items()}
        return {"observation": jsonable(obs), "reward": [float(r) for r in reward],
                "terminated": [bool(t) for t in term], "truncated": [bool(t) for t in trunc],
                "info": jsonable(info), "episode_returns": [float(r) for r in out_returns],
                "frames": self._frames() if render else None}


class SessionRegistry:
    def __init__(self, max_sessions: int = 256, idle_s: float = SESSION_IDLE_S):
        self.max_sessions, self.idle_s = max_sessions, idle_s
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, env_id: str, params: dict[str, Any], seed: int, num_envs: int, autoreset: bool) -> Session:
        env, env_params = cached_env(env_id, params)
        self._expire()
        s = Session(session_id=uuid.uuid4().hex[:16], env_id=env_id, params=dict(params), env=env, env_params=env_params,
                    num_envs=num_envs, autoreset=autoreset, key=jax.random.key(seed))
        with self._lock:
            if len(self._sessions) >= self.max_sessions:
                raise TooMany(f"this server holds at most {self.max_sessions} env sessions; close one first "
                              "(DELETE /v1/sessions/{id}); idle sessions expire after "
                              f"{int(self.idle_s)} s")
            self._sessions[s.session_id] = s
        return s

    def get(self, sid: str) -> Session:
        with self._lock:
            s = self._sessions.get(sid)
        if s is None:
            raise NotFound(f"no env session {sid!r} (closed, expired or never created); POST /v1/sessions creates one")
        s.last_used = time.time()
        return s

    def use(self, sid: str) -> Session:
        s = self.get(sid)
        if not s.lock.acquire(blocking=False):
            raise Conflict(f"session {sid} is busy with another request; send one request at a time per session")
        return s

    def close(self, sid: str) -> None:
        with self._lock:
            if self._sessions.pop(sid, None) is None:
                raise NotFound(f"no env session {sid!r}")

    def list(self) -> list[Session]:
        with self._lock:
            return list(self._sessions.values())

    def _expire(self) -> None:
        now = time.time()
        with self._lock:
            for sid in [k for k, s in self._sessions.items() if now - s.last_used > self.idle_s]:
                del self._sessions[sid]

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

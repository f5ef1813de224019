"""Trained agents loaded by the server: act on one observation with a recurrent state, or play an episode.

One step of an agent (neurorl.agents.actor_critic): ``carry, logits, value = net.apply(params, carry,
obs[None], episode_start[None])``. The recurrent state travels with the client (``state`` in and out
of ``act``) so agents are stateless on the server and any number of clients can share one.
"""

from __future__ import annotations

import functools
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from neurorl.server.errors import BadRequest, Conflict, NotFound, TooMany
from neurorl.server.sessions import jsonable, space_info


@dataclass
class AgentEntry:
    agent_id: str
    source: str
    agent: Any  # neurorl.rl.trainer.LoadedAgent
    step: Any  # jitted one-step function
    rollouts: dict

    def info(self) -> dict[str, Any]:
        a = self.agent
        carry = a.net.initialize_carry(1)
        return {"agent_id": self.agent_id, "source": self.source, "env_id": a.cfg.env.id,
                "env_params": jsonable(a.cfg.env.params_dict()), "family": a.cfg.family,
                "num_actions": int(a.net.num_actions), "num_seeds": a.num_seeds,
                "observation_shape": space_info(a.env.observation_space(a.env_params)),
                "state_shapes": [list(x.shape[1:]) for x in jax.tree_util.tree_leaves(carry)]}


def _make_step(net):
    @jax.jit
    def step(params, carry, obs, start, key, greedy):
        carry, logits, value = net.apply(params, carry, obs, start)
        action = jnp.where(greedy, jnp.argmax(logits, -1), jax.random.categorical(key, logits))
        return carry, logits[0], value[0], action[0]

    return step


class AgentRegistry:
    def __init__(self, max_agents: int = 32):
        self.max_agents = max_agents
        self._agents: dict[str, AgentEntry] = {}
        self._lock = threading.Lock()

    def load(self, source: str, agent_id: str | None = None) -> AgentEntry:
        from neurorl.rl.trainer import load_agent
        from neurorl.rl.zoo import resolve_agent

        with self._lock:
            if agent_id is not None and agent_id in self._agents:
                raise Conflict(f"an agent with id {agent_id!r} is already loaded; DELETE /v1/agents/{agent_id} first")
            if len(self._agents) >= self.max_agents:
                raise TooMany(f"this server holds at most {self.max_agents} agents; unload one first")
        try:
            loaded = load_agent(resolve_agent(source))
        except FileNotFoundError as e:
            raise NotFound(str(e)) from None
        except (ValueError, KeyError, OSError) as e:
            raise BadRequest(f"cannot load agent {source!r}: {type(e).__name__}: {e}") from None
        entry = AgentEntry(agent_id=agent_id or uuid.uuid4().hex[:12], source=source, agent=loaded,
                           step=_make_step(loaded.net), rollouts={})
        with self._lock:
            if entry.agent_id in self._agents:
                raise Conflict(f"an agent with id {entry.agent_id!r} is already loaded")
            self._agents[entry.agent_id] = entry
        return entry

    def get(self, agent_id: str) -> AgentEntry:
        with self._lock:
            e = self._agents.get(agent_id)
        if e is None:
            raise NotFound(f"no agent {agent_id!r} is loaded; POST /v1/agents with a source loads one")
        return e

    def unload(self, agent_id: str) -> None:
        with self._lock:
            if self._agents.pop(agent_id, None) is None:
                raise NotFound(f"no agent {agent_id!r} is loaded")

    def list(self) -> list[AgentEntry]:
        with self._lock:
            return list(self._agents.values())

    def __len__(self) -> int:
        with self._lock:
            return len(self._agents)


def _obs_array(entry: AgentEntry, observation) -> Any:
    a = entry.agent
    space = a.env.observation_space(a.env_params)
    from gymnax.environments import spaces as xs

    def one(sp, value, what):
        shape = tuple(int(s) for s in np.atleast_1d(sp.shape)) if sp.shape != () else ()
        arr = np.asarray(value, np.float32)
        size = int(np.prod(shape)) if shape else 1
        if arr.ndim != 1 or arr.size != size:
            raise BadRequest(f"{what}: expected {size} values (shape {list(shape)} flattened in C order), got {arr.size}")
        return jnp.asarray(arr.reshape(shape))[None]

    if isinstance(space, xs.Dict):
        if not isinstance(observation, dict) or set(observation) != set(space.spaces):
            raise BadRequest(f"observation: expected a dict with keys {sorted(space.spaces)}")
        return {k: one(sp, observation[k], f"observation[{k!r}]") for k, sp in space.spaces.items()}
    if isinstance(observation, dict):
        raise BadRequest("observation: expected a flat list of numbers for this agent, got a dict")
    return one(space, observation, "observation")


def act(entry: AgentEntry, req) -> dict[str, Any]:
    a = entry.agent
    try:
        params = a.seed_params(req.seed_index)
    except ValueError as e:
        raise BadRequest(str(e)) from None
    template = a.net.initialize_carry(1)
    leaves, treedef = jax.tree_util.tree_flatten(template)
    if req.state is None:
        carry, start = template, True
    else:
        if len(req.state) != len(leaves) or any(len(s) != l.shape[-1] for s, l in zip(req.state, leaves)):
            raise BadRequest(f"state: expected {len(leaves)} lists of {[int(l.shape[-1]) for l in leaves]} numbers "
                             "(the 'state' returned by the previous act call)")
        carry = jax.tree_util.tree_unflatten(treedef, [jnp.asarray(s, jnp.float32)[None] for s in req.state])
        start = req.episode_start
    obs = _obs_array(entry, req.observation)
    carry, logits, value, action = entry.step(params, carry, obs, jnp.asarray([start]), jax.random.key(req.seed),
                                              jnp.asarray(req.greedy))
    logits = np.asarray(logits, np.float64)
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    return {"action": int(action), "probs": probs.tolist(), "logits": logits.tolist(), "value": float(value),
            "state": [np.asarray(x[0]).tolist() for x in jax.tree_util.tree_leaves(carry)]}


def play(entry: AgentEntry, req) -> dict[str, Any]:
    from neurorl.rl.evaluate import make_rollout

    a = entry.agent
    try:
        params = a.seed_params(req.seed_index)
    except ValueError as e:
        raise BadRequest(str(e)) from None
    max_steps = req.max_steps or int(a.env_params.max_steps_in_episode)
    key = (max_steps, req.greedy)
    if key not in entry.rollouts:
        entry.rollouts[key] = jax.jit(make_rollout(a.env, a.env_params, a.net, max_steps, req.greedy), static_argnums=2)
    traj = jax.device_get(entry.rollouts[key](params, jax.random.key(req.seed), 1))
    alive = np.asarray(traj["alive"][0], bool)
    n = int(alive.sum())
    logits = np.asarray(traj["logits"][0][:n], np.float64)
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    rewards = np.asarray(traj["reward"][0][:n], np.float64)
    return {"env_id": a.cfg.env.id, "steps": n, "total_reward": float(rewards.sum()),
            "actions": [int(x) for x in traj["action"][0][:n]], "rewards": rewards.tolist(), "probs": probs.tolist(),
            "values": [float(v) for v in traj["value"][0][:n]],
            "info": {k: jsonable(np.asarray(v[0][:n])) for k, v in traj.get("info", {}).items()}}

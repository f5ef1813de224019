"""Multi-armed bandit task families of Wang et al. 2016/2018 (L2RL) as pure-JAX gymnax environments.

Sources: ../shared/reference/meta_rl.md §1.1 (L2RL task families), §2.3 (nathanwispinski/meta-rl
``BanditEnv``, the "correlated" family), §5.3 (awjuliani easy/medium/hard/restless), §6.1 (gymnax 1.0 API).

Every family draws a new task (arm probabilities) at every reset; an episode is
``params.max_steps_in_episode`` trials (100 by default, §1.1). gymnax 1.0 semantics: ``step`` returns
``(obs, state, reward, terminated, truncated, info)`` and resets automatically when the episode ends.

Families (``BanditEnv(family=...)``):

==================  =======================================================================
``independent``     p_i ~ U[0,1] for each of ``num_arms`` arms                       (§1.1)
``dependent``       2 arms (p, 1-p), p ~ U[0,1]                                       (§1.1)
``dependent-easy``  2 arms (p, 1-p), p drawn from {0.1, 0.9}                           (§1.1, §5.3)
``dependent-medium``                 p drawn from {0.25, 0.75}
``dependent-hard``                   p drawn from {0.4, 0.6}
``correlated``      u ~ U[0,1]^N, p = u / sum(u) (nathanwispinski/meta-rl)             (§2.3)
``restless``        independent start, then each p_i takes a reflected Gaussian random-walk
                    step of sd ``params.drift_sd`` after every trial (our choice: the L2RL
                    restless spec is not public, §1.2/§1.3; awjuliani drifts too, §5.3)
``informative``     11 arms: a target among arms 0..9 pays 5, the other nine pay 1.1, arm 10
                    pays 0.1 x (target index, counted from 1) (§1.1). Deterministic payoffs.
==================  =======================================================================

Observation (flat float32, the convention the trainer relies on)::

    [one-hot previous action (num_arms) | previous reward | t / max_steps (if include_time)]

all zeros at reset (no previous action, reward 0, t = 0).

``info`` of every step (fixed structure, so it stacks under ``lax.scan``), on top of gymnax's
``terminated``, ``truncated``, ``final_observation``:

* ``regret``: expected instantaneous regret ``max_i E[r_i] - E[r_a]`` (float32 scalar);
* ``arm_probs``: expected reward of every arm on this trial (success probabilities for the
  Bernoulli families, payoffs for ``informative``), float32 ``(num_arms,)``;
* ``expected_reward``: ``E[r_a]``; ``discount``: 1.0 (bandits never terminate).

Fixed tasks for evaluation: ``env.reset_with_probs(key, probs, params)`` starts an episode with given
arm probabilities (vmappable over a batch of ``probs``); ``env.sample_probs(key, params)`` draws a
task from the family.

Rewards use one uniform draw per arm per trial (``reward = u[a] < p[a]``), so two policies stepped
with the same keys see the same outcome for every arm (common random numbers).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct
from gymnax.environments import environment, spaces

# meta_rl.md §1.1 / §5.3: dependent easy {0.1,0.9}, medium {0.25,0.75}, hard {0.4,0.6}
DEPENDENT_FIXED_P_HIGH = {"dependent-easy": 0.9, "dependent-medium": 0.75, "dependent-hard": 0.6}
FAMILIES = (
    "independent",
    "dependent",
    "dependent-easy",
    "dependent-medium",
    "dependent-hard",
    "correlated",
    "restless",
    "informative",
)
TWO_ARMED_FAMILIES = ("dependent", "dependent-easy", "dependent-medium", "dependent-hard")
# meta_rl.md §1.1: eleven-armed bandit, target pays 5, others 1.1, informative arm 0.1 x target index
INFORMATIVE_NUM_ARMS = 11
INFORMATIVE_TARGET_REWARD = 5.0
INFORMATIVE_OTHER_REWARD = 1.1
INFORMATIVE_CUE_SCALE = 0.1


@struct.dataclass
class BanditState(environment.EnvState):
    time: jax.Array  # int32, trials done in this episode
    arm_probs: jax.Array  # float32 (num_arms,), expected reward of each arm on the coming trial
    last_action: jax.Array  # int32, -1 at reset (one-hot of -1 is all zeros)
    last_reward: jax.Array  # float32


@struct.dataclass
class BanditParams(environment.EnvParams):
    # meta_rl.md §1.1: 100 trials per episode
    max_steps_in_episode: int = struct.field(pytree_node=False, default=100)
    include_time: bool = struct.field(pytree_node=False, default=True)
    # high arm probability of the dependent-easy/medium/hard families (§1.1); the env's default_params
    # sets the family's value
    p_high: float = 0.9
    # restless family: sd of the Gaussian random-walk step per trial (our choice, see module doc)
    drift_sd: float = 0.05


def _is_concrete(x: Any) -> bool:
    return not isinstance(x, jax.core.Tracer)


class BanditEnv(environment.Environment[BanditState, BanditParams]):
    """One class for every bandit family; ``family`` and ``num_arms`` fix the shapes (static)."""

    def __init__(self, family: str = "independent", num_arms: int | None = None):
        super().__init__()
        if family not in FAMILIES:
            raise ValueError(f"unknown bandit family {family!r}; expected one of {list(FAMILIES)}")
        default_arms = INFORMATIVE_NUM_ARMS if family == "informative" else 2
        if num_arms is None:
            num_arms = default_arms
        if isinstance(num_arms, bool) or not isinstance(num_arms, (int, np.integer)):
            raise ValueError(f"num_arms must be an integer, got {num_arms!r}")
        num_arms = int(num_arms)
        if num_arms < 2:
            raise ValueError(f"num_arms must be >= 2 (a bandit needs a choice), got {num_arms}")
        if family in TWO_ARMED_FAMILIES and num_arms != 2:
            raise ValueError(f"family {family!r} has exactly 2 arms (p, 1-p), got num_arms={num_arms}")
        if family == "informative" and num_arms != INFORMATIVE_NUM_ARMS:
            raise ValueError(f"family 'informative' has exactly {INFORMATIVE_NUM_ARMS} arms, got num_arms={num_arms}")
        self.family = family
        self.num_arms = num_arms

    # ------------------------------------------------------------------ parameters
    @property
    def default_params(self) -> BanditParams:
        return BanditParams(p_high=DEPENDENT_FIXED_P_HIGH.get(self.family, 0.9))

    def make_params(self, **overrides: Any) -> BanditParams:
        """``default_params`` with ``overrides`` applied and validated (clear errors on bad values)."""
        fields = set(BanditParams.__dataclass_fields__)
        unknown = set(overrides) - fields
        if unknown:
            raise ValueError(f"unknown bandit parameter(s) {sorted(unknown)}; expected some of {sorted(fields)}")
        params = self.default_params.replace(**overrides)
        self.validate_params(params)
        return params

    def validate_params(self, params: BanditParams) -> BanditParams:
        t = params.max_steps_in_episode
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or t < 1:
            raise ValueError(f"max_steps_in_episode must be a positive integer, got {t!r}")
        if not isinstance(params.include_time, (bool, np.bool_)):
            raise ValueError(f"include_time must be a bool, got {params.include_time!r}")
        p = params.p_high
        if _is_concrete(p):
            p = float(p)
            if not np.isfinite(p) or not 0.0 <= p <= 1.0:
                raise ValueError(f"p_high must be a probability in [0, 1], got {p}")
        sd = params.drift_sd
        if _is_concrete(sd):
            sd = float(sd)
            if not np.isfinite(sd) or sd < 0.0:
                raise ValueError(f"drift_sd must be a finite number >= 0, got {sd}")
        return params

    @property
    def rewards_are_bernoulli(self) -> bool:
        """True when reward = 1 with probability ``arm_probs[a]`` else 0 (all families but informative)."""
        return self.family != "informative"

    @property
    def probs_drift(self) -> bool:
        """True when arm probabilities change within an episode (restless family)."""
        return self.family == "restless"

    @property
    def max_reward(self) -> float:
        return INFORMATIVE_TARGET_REWARD if self.family == "informative" else 1.0

    # ------------------------------------------------------------------ tasks
    def sample_probs(self, key: jax.Array, params: BanditParams | None = None) -> jax.Array:
        """Draw one task of this family: expected reward per arm, float32 ``(num_arms,)``."""
        params = self.default_params if params is None else params
        n = self.num_arms
        f = self.family
        if f in ("independent", "restless"):
            return jax.random.uniform(key, (n,), jnp.float32)  # §1.1: p_i ~ U[0,1]
        if f == "dependent":
            p = jax.random.uniform(key, (), jnp.float32)  # §1.1: (p, 1-p), p ~ U[0,1]
            return jnp.stack([p, 1.0 - p])
        if f in DEPENDENT_FIXED_P_HIGH:
            hi = jnp.asarray(params.p_high, jnp.float32)  # §1.1: p in {1-p_high, p_high}
            p = jnp.where(jax.random.bernoulli(key), hi, 1.0 - hi)
            return jnp.stack([p, 1.0 - p])
        if f == "correlated":
            # §2.3 (nathanwispinski BanditEnv): u ~ U[0,1]^N normalised to sum 1. A zero sum has
            # probability 0; the tiny floor only keeps the division finite.
            u = jax.random.uniform(key, (n,), jnp.float32)
            return u / jnp.maximum(u.sum(), jnp.float32(1e-30))
        if f == "informative":
            target = jax.random.randint(key, (), 0, n - 1)
            return self.informative_payoffs(target)
        raise AssertionError(f)  # unreachable: family validated in __init__

    def informative_payoffs(self, target: jax.Array) -> jax.Array:
        """Payoffs of the 11-armed informative bandit for a target arm in 0..9 (§1.1)."""
        n = self.num_arms
        arms = jnp.arange(n)
        pay = jnp.where(arms == target, INFORMATIVE_TARGET_REWARD, INFORMATIVE_OTHER_REWARD)
        cue = INFORMATIVE_CUE_SCALE * (jnp.asarray(target, jnp.float32) + 1.0)  # index counted from 1
        return jnp.where(arms == n - 1, cue, pay).astype(jnp.float32)

    def _initial_state(self, probs: jax.Array) -> BanditState:
        return BanditState(
            time=jnp.array(0, jnp.int32),
            arm_probs=jnp.asarray(probs, jnp.float32),
            last_action=jnp.array(-1, jnp.int32),
            last_reward=jnp.array(0.0, jnp.float32),
        )

    # ------------------------------------------------------------------ gymnax API
    def reset_env(self, key: jax.Array, params: BanditParams) -> tuple[jax.Array, BanditState]:
        state = self._initial_state(self.sample_probs(key, params))
        return self.get_obs(state, params), state

    def reset_with_probs(
        self, key: jax.Array, probs: jax.Array, params: BanditParams | None = None
    ) -> tuple[jax.Array, BanditState]:
        """Start an episode with the given arm probabilities (expected rewards), shape ``(num_arms,)``.

        For evaluation on fixed tasks; vmap it over a batch: ``jax.vmap(env.reset_with_probs,
        in_axes=(0, 0, None))(keys, probs, params)``. ``key`` is unused (kept for API symmetry).
        Concrete (non-traced) ``probs`` are validated: right shape, finite, in [0, 1] for the
        Bernoulli families. Later steps of ``env.step`` auto-reset to a *sampled* task; use
        ``step_no_reset``/a fixed horizon to stay on the given task.
        """
        del key
        params = self.default_params if params is None else params
        probs = jnp.asarray(probs, jnp.float32)
        if probs.shape != (self.num_arms,):
            raise ValueError(f"probs must have shape ({self.num_arms},) for this {self.family} bandit, got {probs.shape}")
        if _is_concrete(probs):
            a = np.asarray(probs)
            if not np.all(np.isfinite(a)):
                raise ValueError(f"probs must be finite, got {a}")
            if self.rewards_are_bernoulli and (a.min() < 0.0 or a.max() > 1.0):
                raise ValueError(f"arm probabilities must lie in [0, 1], got {a}")
        state = self._initial_state(probs)
        return self.get_obs(state, params), state

    def step_env(
        self, key: jax.Array, state: BanditState, action: int | jax.Array, params: BanditParams
    ) -> tuple[jax.Array, BanditState, jax.Array, jax.Array, dict[str, jax.Array]]:
        key_reward, key_drift = jax.random.split(key)
        action = jnp.asarray(action, jnp.int32)
        probs = state.arm_probs
        mean_a = probs[action]
        if self.rewards_are_bernoulli:
            u = jax.random.uniform(key_reward, (self.num_arms,))  # one draw per arm: common random numbers
            reward = (u[action] < mean_a).astype(jnp.float32)
        else:
            reward = mean_a  # informative bandit: deterministic payoffs (§1.1)
        next_probs = probs
        if self.family == "restless":
            step = params.drift_sd * jax.random.normal(key_drift, probs.shape)
            next_probs = _reflect_unit(probs + step)
        new_state = BanditState(
            time=state.time + 1,
            arm_probs=next_probs.astype(jnp.float32),
            last_action=action,
            last_reward=reward,
        )
        info = {
            "regret": (probs.max() - mean_a).astype(jnp.float32),
            "arm_probs": probs.astype(jnp.float32),
            "expected_reward": mean_a.astype(jnp.float32),
            "discount": jnp.array(1.0, jnp.float32),
        }
        obs = self.get_obs(new_state, params)
        terminated = jnp.array(False)
        return obs, new_state, reward, terminated, info

    def get_obs(self, state: BanditState, params: BanditParams, key: jax.Array | None = None) -> jax.Array:
        parts = [
            jax.nn.one_hot(state.last_action, self.num_arms, dtype=jnp.float32),
            state.last_reward.astype(jnp.float32)[None],
        ]
        if params.include_time:
            parts.append((state.time.astype(jnp.float32) / params.max_steps_in_episode)[None])
        return jnp.concatenate(parts)

    def is_terminated(self, state: BanditState, params: BanditParams) -> jax.Array:
        return jnp.array(False)

    def step_no_reset(
        self, key: jax.Array, state: BanditState, action: int | jax.Array, params: BanditParams | None = None
    ) -> tuple[jax.Array, BanditState, jax.Array, jax.Array, jax.Array, dict[str, jax.Array]]:
        """One trial without gymnax's auto-reset (for fixed-task evaluation and adapters)."""
        params = self.default_params if params is None else params
        obs, state, reward, terminated, info = self.step_env(key, state, action, params)
        truncated = self.is_truncated(state, params)
        return obs, state, reward, terminated, truncated, info

    @property
    def name(self) -> str:
        return f"Bandit-{self.family}"

    # gymnax reads num_actions as a property; it is the instance attribute num_arms here
    @property
    def num_actions(self) -> int:
        return self.num_arms

    def obs_size(self, params: BanditParams | None = None) -> int:
        params = self.default_params if params is None else params
        return self.num_arms + 1 + int(bool(params.include_time))

    def action_space(self, params: BanditParams | None = None) -> spaces.Discrete:
        return spaces.Discrete(self.num_arms)

    def observation_space(self, params: BanditParams | None = None) -> spaces.Box:
        params = self.default_params if params is None else params
        size = self.obs_size(params)
        high = np.ones(size, np.float32)
        high[self.num_arms] = self.max_reward
        return spaces.Box(np.zeros(size, np.float32), high, (size,), jnp.float32)

    def state_space(self, params: BanditParams | None = None) -> spaces.Dict:
        params = self.default_params if params is None else params
        return spaces.Dict(
            {
                "time": spaces.Discrete(params.max_steps_in_episode + 1),
                "arm_probs": spaces.Box(0.0, self.max_reward, (self.num_arms,), jnp.float32),
                "last_action": spaces.Discrete(self.num_arms),
                "last_reward": spaces.Box(0.0, self.max_reward, (), jnp.float32),
            }
        )

    def render_text(self, state: BanditState) -> str:
        a = int(state.last_action)
        last = "none" if a < 0 else f"arm {a} -> reward {float(state.last_reward):g}"
        return f"{self.name} trial {int(state.time)}: last {last}"

    def __repr__(self) -> str:
        return f"BanditEnv(family={self.family!r}, num_arms={self.num_arms})"

    # Equal configurations hash equal, so jax.jit (env is a static argument) reuses compilations
    # across instances, e.g. every gymnasium.make of the same id.
    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and (other.family, other.num_arms) == (self.family, self.num_arms)

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.family, self.num_arms))


def _reflect_unit(x: jax.Array) -> jax.Array:
    """Reflect values into [0, 1] (a random walk with reflecting walls)."""
    y = jnp.mod(x, 2.0)
    return jnp.where(y > 1.0, 2.0 - y, y)


def bandit_factory(family: str):
    """A factory ``(**ctor_kwargs) -> BanditEnv`` for one family (used by the registries)."""

    def make_bandit(num_arms: int | None = None) -> BanditEnv:
        return BanditEnv(family=family, num_arms=num_arms)

    make_bandit.__name__ = f"make_bandit_{family.replace('-', '_')}"
    return make_bandit

"""Gymnasium adapter: check_env on every registered bandit id, seeding, dict observations, rendering."""

from __future__ import annotations

import warnings

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import struct
from gymnasium.utils.env_checker import check_env
from gymnax.environments import environment, spaces

from neurorl.envs import list_envs, make
from neurorl.envs.gymnasium_adapter import GymnaxToGymnasium, to_gymnasium_space

BANDIT_IDS = list_envs("neurorl/Bandit-")


def test_every_family_is_registered():
    fams = {i.split("/Bandit-")[1].rsplit("-v", 1)[0] for i in BANDIT_IDS}
    assert {"independent", "dependent", "dependent-easy", "dependent-medium", "dependent-hard",
            "correlated", "restless", "informative"} <= fams


@pytest.mark.parametrize("env_id", BANDIT_IDS)
def test_check_env_passes(env_id):
    env = gymnasium.make(env_id)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any checker warning fails the test
        check_env(env.unwrapped)


def test_seeding_replays_episode_and_episode_ends():
    env = gymnasium.make("neurorl/Bandit-independent-v0", max_steps_in_episode=20)

    def play(seed):
        obs, _ = env.reset(seed=seed)
        rewards, done, steps = [], False, 0
        while not done:
            obs, r, term, trunc, info = env.step(steps % 2)
            rewards.append(r)
            done = term or trunc
            steps += 1
        return rewards, info, steps, obs

    r1, info1, n1, last = play(7)
    r2, info2, _, _ = play(7)
    assert r1 == r2 and np.array_equal(info1["arm_probs"], info2["arm_probs"])
    assert n1 == 20 and last[-1] == pytest.approx(1.0)  # terminal obs (not the auto-reset one)
    assert set(info1) >= {"regret", "arm_probs", "expected_reward"}
    probs = {tuple(np.round(play(s)[1]["arm_probs"], 5)) for s in range(5)}
    assert len(probs) == 5  # different seeds, different tasks


def test_invalid_action_raises():
    env = gymnasium.make("neurorl/Bandit-independent-v0").unwrapped
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action must be an integer in"):
        env.step(5)


def test_ansi_render():
    env = gymnasium.make("neurorl/Bandit-dependent-v0", render_mode="ansi")
    env.reset(seed=0)
    env.step(1)
    assert "arm 1" in env.render()


# A tiny gymnax env with a dict observation, like Harlow visual's {"image", "vector"}.
@struct.dataclass
class _S(environment.EnvState):
    time: jax.Array


@struct.dataclass
class _P(environment.EnvParams):
    max_steps_in_episode: int = 4


class _DictObsEnv(environment.Environment):
    @property
    def default_params(self):
        return _P()

    def reset_env(self, key, params):
        s = _S(time=jnp.array(0, jnp.int32))
        return self.get_obs(s, params), s

    def step_env(self, key, state, action, params):
        s = _S(time=state.time + 1)
        return self.get_obs(s, params), s, jnp.float32(action), jnp.array(False), {"t": s.time}

    def get_obs(self, state, params, key=None):
        img = jnp.full((3, 3, 1), state.time, jnp.uint8)
        return {"image": img, "vector": jnp.array([state.time / 4.0, 1.0], jnp.float32)}

    def action_space(self, params=None):
        return spaces.Discrete(2)

    def observation_space(self, params=None):
        return spaces.Dict({"image": spaces.Box(0, 255, (3, 3, 1), jnp.uint8),
                            "vector": spaces.Box(0.0, 1.0, (2,), jnp.float32)})


def test_dict_observations():
    env = GymnaxToGymnasium(_DictObsEnv())
    assert isinstance(env.observation_space, gymnasium.spaces.Dict)
    assert env.observation_space["image"].dtype == np.uint8
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env, skip_render_check=True)
    obs, _ = env.reset(seed=1)
    assert set(obs) == {"image", "vector"} and obs["vector"].dtype == np.float32
    obs, r, term, trunc, info = env.step(1)
    assert obs["image"][0, 0, 0] == 1 and r == 1.0 and int(info["t"]) == 1


def test_space_conversion_rejects_unknown():
    with pytest.raises(TypeError, match="cannot convert space"):
        to_gymnasium_space(object())


def test_adapter_uses_given_params():
    env, params = make("neurorl/Bandit-independent-v0", num_arms=4, include_time=False)
    g = GymnaxToGymnasium(env, params)
    assert g.observation_space.shape == (5,) and g.action_space.n == 4

"""Registry: neurorl.envs.make / list_envs, gymnax and Gymnasium registration, one-line registration."""

from __future__ import annotations

import gymnasium
import gymnax
import pytest

from neurorl.envs import BanditEnv, list_envs, make, register, spec
from neurorl.envs.bandits import FAMILIES
from neurorl.envs.gymnasium_adapter import GymnaxToGymnasium


def test_ids_in_all_registries():
    ids = list_envs()
    for fam in FAMILIES:
        env_id = f"neurorl/Bandit-{fam}-v0"
        assert env_id in ids
        assert env_id in gymnax.registered_envs
        assert env_id in gymnasium.registry
    env, params = gymnax.make("neurorl/Bandit-dependent-hard-v0")
    assert isinstance(env, BanditEnv) and env.family == "dependent-hard" and params.p_high == pytest.approx(0.6)


def test_make_routes_constructor_and_param_kwargs():
    env, params = make("neurorl/Bandit-correlated-v0", num_arms=6, max_steps_in_episode=30, include_time=False)
    assert env.num_arms == 6 and params.max_steps_in_episode == 30 and not params.include_time
    env10, _ = make("neurorl/Bandit-independent-10arm-v0")
    assert env10.num_arms == 10


def test_unknown_id_raises():
    with pytest.raises(ValueError, match="unknown environment id"):
        make("neurorl/Bandit-nope-v0")


def test_one_line_registration_and_duplicates():
    register("neurorl-test/MyBandit-v0", BanditEnv, family="dependent-medium", description="test")
    assert "neurorl-test/MyBandit-v0" in list_envs()
    assert spec("neurorl-test/MyBandit-v0").description == "test"
    env, params = make("neurorl-test/MyBandit-v0")
    assert env.family == "dependent-medium" and params.p_high == pytest.approx(0.75)
    g = gymnasium.make("neurorl-test/MyBandit-v0")
    assert isinstance(g.unwrapped, GymnaxToGymnasium)
    assert gymnax.make("neurorl-test/MyBandit-v0")[0].family == "dependent-medium"
    with pytest.raises(ValueError, match="already registered"):
        register("neurorl-test/MyBandit-v0", BanditEnv)

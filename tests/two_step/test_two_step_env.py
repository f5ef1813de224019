"""Two-step env dynamics: transition and switch statistics, observation layout, validation."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from neurorl.envs.two_step import TwoStep, make_params, obs_dim


@functools.lru_cache(maxsize=None)
def _rollout_fn(two_stage, steps):
    env = TwoStep(two_stage=two_stage)

    def episode(key, p):
        k0, k1 = jax.random.split(key)
        obs0, st = env.reset(k0, p)

        def body(st, k):
            ka, ks = jax.random.split(k)
            a = jax.random.bernoulli(ka).astype(jnp.int32)
            obs, st, r, term, trunc, info = env.step(ks, st, a, p)
            return st, (a, obs, r, trunc, info)

        return obs0, jax.lax.scan(body, st, jax.random.split(k1, steps))[1]

    return jax.jit(jax.vmap(episode, in_axes=(0, None)))


def _random_rollout(two_stage=False, episodes=1000, **kw):
    p = make_params(two_stage=two_stage, **kw)
    fn = _rollout_fn(two_stage, p.max_steps_in_episode)
    obs0, (a, obs, r, trunc, info) = fn(jax.random.split(jax.random.PRNGKey(1), episodes), p)
    return p, np.asarray(obs0), np.asarray(a), np.asarray(obs), np.asarray(r), np.asarray(trunc), {k: np.asarray(v) for k, v in info.items()}


@pytest.fixture(scope="module")
def default_rollout():
    return _random_rollout(episodes=2000)  # 200k trials


def test_transition_switch_and_reward_statistics(default_rollout):
    p, obs0, a, obs, r, trunc, info = default_rollout
    n = info["common"].size
    # common transition frequency 0.8 (meta_rl.md §1.1); 4 sigma = 4*sqrt(.16/n) ~ 0.0036
    assert abs(info["common"].mean() - 0.8) < 0.005
    # common means: action 0 -> S1, action 1 -> S2
    np.testing.assert_array_equal(info["common"], info["second_stage_state"] == a)
    # switch probability 0.025 per trial, within an episode
    h = info["high_state"]
    sw = (h[:, 1:] != h[:, :-1]).mean()
    assert abs(sw - 0.025) < 4 * np.sqrt(0.025 * 0.975 / h[:, 1:].size) + 1e-4
    # reward probability 0.9 in the high state, 0.1 in the low state
    high = info["second_stage_state"] == h
    assert abs(info["rewarded"][high].mean() - 0.9) < 0.005
    assert abs(info["rewarded"][~high].mean() - 0.1) < 0.005
    assert abs(r.mean() - 0.5) < 0.01  # random play earns 50 / 100
    # episode length 100 trials, truncated on the last
    assert info["trial"][0, -1] == 99 and trunc[:, -1].all() and not trunc[:, :-1].any()
    assert n == 2000 * 100


def test_observation_layout(default_rollout):
    p, obs0, a, obs, r, trunc, info = default_rollout
    assert obs0.shape == (2000, obs_dim(True)) and obs0.dtype == np.float32
    np.testing.assert_array_equal(obs0[0], [1, 0, 0, 0, 0, 0, 0])  # S0, no previous action/reward, t=0
    t = 3
    o = obs[0, t]
    assert o[1 + info["second_stage_state"][0, t]] == 1 and o[:3].sum() == 1  # reached state
    assert o[3 + a[0, t]] == 1 and o[3:5].sum() == 1  # previous action one-hot
    assert o[5] == r[0, t]  # previous reward
    assert o[6] == pytest.approx((t + 1) / 100)


def test_two_stage_variant():
    p, obs0, a, obs, r, trunc, info = _random_rollout(two_stage=True, episodes=500)
    assert p.max_steps_in_episode == 200
    assert np.all(info["stage"][:, 0::2] == 0) and np.all(info["stage"][:, 1::2] == 1)
    assert not r[:, 0::2].any()  # rewards only at the second stage
    te = info["trial_end"]
    assert te[:, 1::2].all() and not te[:, 0::2].any()
    assert abs(info["common"][te].mean() - 0.8) < 0.01
    np.testing.assert_array_equal(info["first_stage_action"][:, 1::2], a[:, 0::2])


@pytest.mark.parametrize("kw", [dict(common_prob=0.4), dict(common_prob=1.2), dict(switch_prob=-0.1),
                                dict(reward_prob_high=float("nan")), dict(num_trials=1), dict(num_trials=2.5)])
def test_bad_parameters_raise(kw):
    with pytest.raises(ValueError):
        make_params(**kw)


def test_parameters_configurable():
    # dynamic parameters reuse the compiled rollout; static ones (trials, time input) change shapes
    p, obs0, a, obs, r, trunc, info = _random_rollout(episodes=300, common_prob=0.9, switch_prob=0.1)
    assert abs(info["common"].mean() - 0.9) < 0.01
    h = info["high_state"]
    assert abs((h[:, 1:] != h[:, :-1]).mean() - 0.1) < 0.01


def test_static_parameters_change_shapes():
    env = TwoStep()
    p = make_params(num_trials=50, include_time=False)
    obs, st = env.reset(jax.random.PRNGKey(0), p)
    assert obs.shape == (obs_dim(False),) == (6,)
    assert p.max_steps_in_episode == 50
    st = st.replace(time=jnp.int32(49))
    _, _, _, _, trunc, _ = env.step(jax.random.PRNGKey(1), st, 0, p)
    assert bool(trunc)

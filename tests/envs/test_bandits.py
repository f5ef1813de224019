"""Invariants of the bandit environments (meta_rl.md §1.1, §2.3): hypothesis over families, seeds, actions."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurorl.envs import FAMILIES, BanditEnv, make

T = 5  # short episodes so a rollout crosses several auto-resets
STEPS = 13
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@functools.lru_cache(maxsize=None)
def env_and_params(family: str, include_time: bool = True):
    return make(f"neurorl/Bandit-{family}-v0", max_steps_in_episode=T, include_time=include_time)


@functools.lru_cache(maxsize=None)
def rollout_fn(family: str, include_time: bool):
    env, params = env_and_params(family, include_time)

    @jax.jit
    def rollout(key, actions):
        k0, k1 = jax.random.split(key)
        obs0, state = env.reset(k0, params)

        def body(state, x):
            k, a = x
            obs, state2, r, term, trunc, info = env.step(k, state, a, params)
            return state2, (obs, r, term, trunc, info, state.arm_probs)

        _, out = jax.lax.scan(body, state, (jax.random.split(k1, actions.shape[0]), actions))
        return obs0, out

    return env, params, rollout


# the time input is dropped for two families (one compiled rollout per family keeps the suite fast)
NO_TIME = ("dependent-medium", "correlated")


@SETTINGS
@given(family=st.sampled_from(FAMILIES), seed=st.integers(0, 2**31 - 1), data=st.data())
def test_rollout_invariants(family, seed, data):
    include_time = family not in NO_TIME
    env, params, rollout = rollout_fn(family, include_time)
    n = env.num_arms
    actions = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=STEPS, max_size=STEPS)), np.int32)
    obs0, (obs, rew, term, trunc, info, probs_before) = jax.tree.map(np.asarray, rollout(jax.random.key(seed), actions))
    size = n + 1 + int(include_time)
    # shapes and dtypes: flat float32 vector [one-hot a, r, t?]
    assert obs0.shape == (size,) and obs.shape == (STEPS, size) and obs.dtype == np.float32
    assert np.all(obs0 == 0.0)  # zeros at reset
    assert rew.dtype == np.float32 and info["regret"].dtype == np.float32 and info["regret"].shape == (STEPS,)
    assert info["arm_probs"].shape == (STEPS, n)
    # episode length: truncated exactly every T steps, never terminated
    assert not term.any()
    np.testing.assert_array_equal(trunc, (np.arange(1, STEPS + 1) % T) == 0)
    for t in range(STEPS):
        a = actions[t]
        final = info["final_observation"][t]
        onehot = np.eye(n, dtype=np.float32)[a]
        np.testing.assert_array_equal(final[:n], onehot)  # one-hot previous action
        assert final[n] == rew[t]  # previous reward
        if include_time:
            assert final[n + 1] == pytest.approx(((t % T) + 1) / T)
        expected_obs = np.zeros(size, np.float32) if trunc[t] else final  # auto-reset obs on the last trial
        np.testing.assert_array_equal(obs[t], expected_obs)
        p = info["arm_probs"][t]
        np.testing.assert_allclose(p, probs_before[t])
        assert info["expected_reward"][t] == pytest.approx(p[a])
        assert info["regret"][t] == pytest.approx(p.max() - p[a], abs=1e-6)
        assert info["regret"][t] >= 0
    if env.rewards_are_bernoulli:
        assert set(np.unique(rew)) <= {0.0, 1.0}
        assert np.all((info["arm_probs"] >= 0) & (info["arm_probs"] <= 1))
    else:
        np.testing.assert_allclose(rew, info["expected_reward"])  # deterministic payoffs


@pytest.mark.parametrize("family", FAMILIES)
def test_task_resampled_at_every_reset(family):
    env, params = env_and_params(family)
    keys = jax.random.split(jax.random.key(1), 400)
    probs = np.asarray(jax.vmap(lambda k: env.reset(k, params)[1].arm_probs)(keys))
    distinct = np.unique(probs.round(6), axis=0)
    if family.startswith("dependent-"):
        hi = {"dependent-easy": 0.9, "dependent-medium": 0.75, "dependent-hard": 0.6}[family]
        np.testing.assert_allclose(np.sort(distinct, axis=0), [[1 - hi, 1 - hi], [hi, hi]], atol=1e-6)
        assert 150 < (probs[:, 0] > 0.5).sum() < 250  # fair coin: 400 draws, > 5 sd margin
    elif family == "informative":
        assert len(distinct) == 10  # ten possible targets
    else:
        assert len(distinct) == 400


def test_family_distributions():
    keys = jax.random.split(jax.random.key(2), 20000)

    def draw(family, **kw):
        env, params = make(f"neurorl/Bandit-{family}-v0", **kw)
        return np.asarray(jax.vmap(lambda k: env.sample_probs(k, params))(keys))

    ind = draw("independent")
    assert abs(ind.mean() - 0.5) < 0.01 and abs(np.maximum(ind[:, 0], ind[:, 1]).mean() - 2 / 3) < 0.01
    dep = draw("dependent")
    np.testing.assert_allclose(dep.sum(1), 1.0, atol=1e-6)
    assert abs(dep[:, 0].std() - np.sqrt(1 / 12)) < 0.01  # U[0,1]
    cor = draw("correlated")
    np.testing.assert_allclose(cor.sum(1), 1.0, atol=1e-5)
    # meta_rl.md §2.3: E[max(p, 1-p)] = ln 2 = 0.693 for u1/(u1+u2)
    assert abs(cor.max(1).mean() - np.log(2)) < 0.005
    cor5 = draw("correlated", num_arms=5)  # N-armed variant
    assert cor5.shape == (20000, 5)
    np.testing.assert_allclose(cor5.sum(1), 1.0, atol=1e-5)
    inf = draw("informative")
    target = inf[:, :10].argmax(1)
    np.testing.assert_allclose(inf[:, 10], 0.1 * (target + 1), atol=1e-6)  # §1.1 cue = 0.1 x target index
    assert np.all(np.sort(inf[:, :10], 1)[:, :-1] == np.float32(1.1)) and np.all(inf[:, :10].max(1) == 5.0)


def test_restless_drifts_and_stays_in_unit_interval():
    env, params = make("neurorl/Bandit-restless-v0", drift_sd=0.2)
    _, state = env.reset(jax.random.key(0), params)

    def body(s, k):
        _, s2, _, _, _, info = env.step_no_reset(k, s, 0, params)
        return s2, info["arm_probs"]

    _, probs = jax.lax.scan(body, state, jax.random.split(jax.random.key(1), 100))
    probs = np.asarray(probs)
    assert np.all((probs >= 0) & (probs <= 1))
    assert np.abs(np.diff(probs, axis=0)).mean() > 0.05


def test_vmap_matches_single_calls():
    env, params = env_and_params("independent")
    keys = jax.random.split(jax.random.key(3), 8)
    actions = jnp.arange(8) % 2
    obs_b, st_b = jax.vmap(env.reset, in_axes=(0, None))(keys, params)
    out_b = jax.vmap(env.step, in_axes=(0, 0, 0, None))(keys, st_b, actions, params)
    for i in range(8):
        obs_i, st_i = env.reset(keys[i], params)
        out_i = env.step(keys[i], st_i, actions[i], params)
        np.testing.assert_array_equal(obs_b[i], obs_i)
        for leaf_b, leaf_i in zip(jax.tree.leaves(out_b), jax.tree.leaves(out_i)):
            np.testing.assert_array_equal(np.asarray(leaf_b)[i], np.asarray(leaf_i))


def test_reset_with_probs_under_vmap():
    env, params = env_and_params("independent")
    probs = jnp.array([[0.1, 0.9], [0.7, 0.2], [0.0, 1.0]], jnp.float32)
    obs, state = jax.vmap(env.reset_with_probs, in_axes=(0, 0, None))(jax.random.split(jax.random.key(0), 3), probs, params)
    np.testing.assert_array_equal(np.asarray(state.arm_probs), np.asarray(probs))
    assert np.all(np.asarray(obs) == 0)
    _, _, r, _, _, info = jax.vmap(env.step_no_reset, in_axes=(0, 0, None, None))(
        jax.random.split(jax.random.key(1), 3), state, 1, params)
    np.testing.assert_allclose(np.asarray(info["regret"]), [0.0, 0.5, 0.0], atol=1e-6)
    assert float(r[2]) == 1.0  # p = 1 always pays


def test_common_random_numbers():
    """Same key, different action: each arm's outcome is the same draw (u < p), so p=1 always pays."""
    env, params = env_and_params("independent")
    _, state = env.reset_with_probs(jax.random.key(0), jnp.array([0.3, 0.3]), params)
    wins = np.array([[float(env.step(jax.random.key(s), state, a, params)[2]) for a in range(2)] for s in range(300)])
    assert 0.2 < wins.mean() < 0.4


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(family="nope"), "unknown bandit family"),
        (dict(family="independent", num_arms=0), "num_arms must be >= 2"),
        (dict(family="independent", num_arms=-3), "num_arms must be >= 2"),
        (dict(family="independent", num_arms=1), "num_arms must be >= 2"),
        (dict(family="independent", num_arms=2.5), "integer"),
        (dict(family="independent", num_arms=True), "integer"),
        (dict(family="dependent", num_arms=3), "exactly 2 arms"),
        (dict(family="informative", num_arms=4), "exactly 11 arms"),
    ],
)
def test_bad_constructor_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BanditEnv(**kwargs)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(p_high=1.5), r"p_high must be a probability in \[0, 1\]"),
        (dict(p_high=-0.1), r"p_high must be a probability"),
        (dict(p_high=float("nan")), r"p_high must be a probability"),
        (dict(drift_sd=-1.0), "drift_sd"),
        (dict(max_steps_in_episode=0), "max_steps_in_episode must be a positive integer"),
        (dict(max_steps_in_episode=-5), "max_steps_in_episode must be a positive integer"),
        (dict(num_arms=-2), "num_arms must be >= 2"),
        (dict(colour="red"), "colour"),
    ],
)
def test_bad_params_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make("neurorl/Bandit-dependent-easy-v0", **kwargs)


@settings(max_examples=30, deadline=None)
@given(probs=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=2, max_size=2))
def test_reset_with_probs_validates(probs):
    env, params = env_and_params("independent")
    a = np.asarray(probs, np.float32)
    ok = np.all(np.isfinite(a)) and a.min() >= 0 and a.max() <= 1
    if ok:
        _, state = env.reset_with_probs(jax.random.key(0), a, params)
        np.testing.assert_array_equal(np.asarray(state.arm_probs), a)
    else:
        with pytest.raises(ValueError, match="probs must be finite|must lie in"):
            env.reset_with_probs(jax.random.key(0), a, params)


def test_reset_with_probs_wrong_shape():
    env, params = env_and_params("independent")
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        env.reset_with_probs(jax.random.key(0), jnp.array([0.2, 0.3, 0.5]), params)


def test_observation_space_and_no_time_variant():
    env, params = make("neurorl/Bandit-informative-v0", include_time=False)
    space = env.observation_space(params)
    assert space.shape == (12,) and float(space.high[11]) == 5.0
    obs, _ = env.reset(jax.random.key(0), params)
    assert obs.shape == (12,)
    assert env.action_space(params).n == 11 and env.num_actions == 11

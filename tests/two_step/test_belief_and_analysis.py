"""Belief-tracking baseline value (meta_rl.md §8.2) and the stay-probability / regression analysis."""

import jax
import numpy as np
import pytest

from neurorl.analysis.two_step import logistic_regression, stay_probabilities, stay_regression, trials_from_steps
from neurorl.baselines.two_step import simulate_belief_agent


def test_belief_agent_reference_values():
    info = simulate_belief_agent(jax.random.PRNGKey(0), 3000)  # 300k trials
    reward = info["reward"].sum(1).mean()
    assert abs(reward - 70.6) < 0.6  # §8.2: 70.6 (sd of the mean over 4000 episodes ~0.1)
    tr = trials_from_steps(info)
    stay = stay_probabilities(tr["first_stage_action"], tr["common"], tr["rewarded"])
    np.testing.assert_allclose(stay, [1.0, 0.66, 0.66, 1.0], atol=0.03)
    reg = stay_regression(tr["first_stage_action"], tr["common"], tr["rewarded"])
    assert reg["reward x transition"] > 3 * abs(reg["reward"])  # purely model-based


def test_stay_probabilities_by_hand():
    a = np.array([[0, 0, 1, 1, 1]])
    c = np.array([[1, 0, 1, 0, 0]], bool)
    r = np.array([[1, 1, 0, 0, 1]], bool)
    # pairs: (R-C, stay), (R-U, switch), (U-C, stay), (U-U, stay)
    np.testing.assert_array_equal(stay_probabilities(a, c, r), [1.0, 0.0, 1.0, 1.0])


def test_model_free_agent_loads_on_reward_not_interaction():
    rng = np.random.default_rng(0)
    E, T = 400, 100
    common = rng.random((E, T)) < 0.8
    rewarded = rng.random((E, T)) < 0.5
    a = np.zeros((E, T), int)
    for t in range(1, T):  # win-stay lose-shift regardless of transition, with noise
        stay = np.where(rewarded[:, t - 1], 0.9, 0.3) > rng.random(E)
        a[:, t] = np.where(stay, a[:, t - 1], 1 - a[:, t - 1])
    reg = stay_regression(a, common, rewarded)
    assert reg["reward"] > 0.8 and abs(reg["reward x transition"]) < 0.1


def test_logistic_regression_recovers_coefficients():
    rng = np.random.default_rng(1)
    X = np.column_stack([np.ones(20000), rng.normal(size=(20000, 2))])
    w = np.array([0.3, -1.0, 2.0])
    y = (rng.random(20000) < 1 / (1 + np.exp(-X @ w))).astype(float)
    fit = logistic_regression(X, y)
    np.testing.assert_allclose(fit["coef"], w, atol=0.08)


def test_analysis_rejects_bad_input():
    with pytest.raises(ValueError):
        stay_probabilities(np.zeros((2, 5)), np.zeros((2, 4), bool), np.zeros((2, 5), bool))
    with pytest.raises(ValueError):
        logistic_regression(np.ones((3, 2)), np.array([0, 1, 2]))

"""Reference policies (Bayes-optimal DP, Gittins, Thompson, UCB1, random, oracle) for the task families."""

from neurorl.baselines.bandits import (
    BASELINES,
    BaselineResult,
    Episodes,
    bayes_optimal_value,
    dependent_bayes_dp,
    episodes_from_probs,
    episodes_from_trajectory,
    expected_returns_for_probs,
    gittins_table,
    independent_bayes_dp,
    oracle_value,
    run_baselines,
    sample_episodes,
)

__all__ = [
    "BASELINES",
    "BaselineResult",
    "Episodes",
    "bayes_optimal_value",
    "dependent_bayes_dp",
    "episodes_from_probs",
    "episodes_from_trajectory",
    "expected_returns_for_probs",
    "gittins_table",
    "independent_bayes_dp",
    "oracle_value",
    "run_baselines",
    "sample_episodes",
]

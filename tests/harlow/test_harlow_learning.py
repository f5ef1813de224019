"""A short A2C run on the 1-D Harlow task learns one-shot: trial 2 clearly above chance, trial 1 at chance."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from neurorl.experiments.harlow import evaluate_accuracy, harlow_1d_preset
from neurorl.rl.a2c import compile_train, seed_keys
from neurorl.rl.trainer import build_network, make_env
from neurorl.utils.config import apply_overrides


@pytest.mark.slow
def test_short_training_beats_chance_on_trial_2():
    # Small, fast variant of the harlow-1d preset (probe on this machine: trial 2 ≈ 73 % after 500 updates).
    cfg = apply_overrides(harlow_1d_preset(), [
        "--config.agent.num_lstm_units=128", "--config.a2c.num_updates=400", "--config.a2c.num_envs=64",
        "--config.a2c.entropy_start=0.01", "--config.a2c.entropy_end=0.001",
        "--config.optim.learning_rate_end=0.001",
    ])
    env, params = make_env(cfg.env)
    net = build_network(cfg, env, params)
    v_init, v_chunk = compile_train(cfg, env, params, net)
    state = v_init(seed_keys(cfg))
    state, _ = v_chunk(state, cfg.a2c.num_updates)
    acc, ret, _ = evaluate_accuracy(env, params, net, state.params, episodes=400, seed=1)
    acc = acc[0]
    # Without learning across trials, trial 2 is right in at most 50 % of episodes (unreached trials count
    # as wrong); 400 episodes give a standard error of 2.5 points, so 60 % is 4 standard errors above.
    assert acc[1] > 0.60, f"trial 2 accuracy {acc[1]:.3f} not above chance; per trial {np.round(acc, 3)}"
    assert acc[0] < 0.62, f"trial 1 cannot beat chance (the rewarded object is random): {acc[0]:.3f}"
    assert float(ret[0]) > 1.2, "return above 'fixate only' (1.2)"


def test_per_trial_accuracy_counts_unreached_trials_as_wrong():
    from neurorl.analysis.harlow import per_trial_accuracy, summarise_accuracy

    # 2 episodes, 4 steps: episode 0 answers trials 0 (right) and 1 (wrong); episode 1 answers trial 0 (wrong)
    info = {"choice_made": np.array([[1, 0, 1, 0], [0, 1, 0, 0]], bool),
            "correct": np.array([[1, 0, 0, 0], [0, 0, 0, 0]], bool),
            "trial": np.array([[0, 1, 1, 2], [0, 0, 1, 1]])}
    alive = np.ones((2, 4), bool)
    acc = per_trial_accuracy(info, alive)
    np.testing.assert_allclose(acc, [0.5, 0, 0, 0, 0, 0])
    s = summarise_accuracy(np.stack([acc, acc]))
    assert s["per_trial_accuracy"][0] == 50.0 and len(s["per_trial_accuracy"]) == 6


@pytest.mark.parametrize("name", ["harlow-1d", "harlow-visual"])
def test_shipped_agent_learns_in_one_trial(name):
    """`neurorl eval <shipped Harlow agent>`: trials 2-6 far above chance, trial 1 at chance (the visual
    agent on held-out objects it never saw in training). 300 episodes: a trial's standard error is at most
    2.9 points; both agents measure >= 98 % on trials 2-6 (their READMEs); without learning across trials
    they cannot beat 50 %."""
    import json

    from typer.testing import CliRunner

    from neurorl.cli import app

    res = CliRunner().invoke(app, ["eval", name, "--episodes", "300", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout.strip().splitlines()[-1])
    acc = out["per_trial_accuracy"]
    assert len(acc) == 6 and min(acc[1:]) > 85.0, out
    assert 35.0 < acc[0] < 65.0, out

"""A short meta-RL training run on the two-step task shows the model-based signature.

Model-free agents repeat rewarded choices whatever the transition (a main effect of reward); the
model-based signature is the reward x transition interaction: stay after rewarded-common and
unrewarded-uncommon, switch more after rewarded-uncommon and unrewarded-common (meta_rl.md §1.1).
Random play gives 50 reward per 100 trials and no interaction (|z| < 3 by chance in >99 % of runs).
"""

import dataclasses

import jax
import pytest

from neurorl.experiments.two_step import evaluate_two_step, stay_summary, two_step_preset
from neurorl.rl.config import RunConfig
from neurorl.rl.trainer import train
from neurorl.utils.runs import RunDir


@pytest.mark.slow
def test_short_training_shows_model_based_signature(tmp_path):
    cfg = two_step_preset(num_envs=32, num_updates=600)  # 1.9 M trials; the preset runs 3000 updates
    cfg = dataclasses.replace(cfg, optim=dataclasses.replace(cfg.optim, schedule="constant"),
                              run=RunConfig(seeds=1, chunk_updates=600, eval_every_updates=0, eval_episodes=1))
    res = train(cfg, RunDir.create("two-step-test", cfg, path=tmp_path / "run"), quiet=True)
    params = jax.tree_util.tree_map(lambda x: x[0], res.params)
    trials = evaluate_two_step(res.env, res.env_params, res.net, params, episodes=300, seed=5)
    s = stay_summary(trials)
    st, reg = s["stay_probabilities"], s["regression"]
    assert s["reward_per_100_trials"] > 56.0  # random: 50 ± 0.3 over 300 episodes
    assert reg["reward x transition"] > 0.3 and reg["z reward x transition"] > 8
    assert st["R-C"] - st["R-U"] > 0.1 and st["U-U"] - st["U-C"] > 0.1

"""Baseline scores for the web page's "your score against the baselines" (per task family).

* Bandits: every baseline of ``neurorl.baselines.bandits`` simulated on the same arm probabilities
  as the human's episode (``expected_returns_for_probs``).
* Harlow (1-D and visual): reward scheme of meta_rl.md §3.1: +0.2 per fixation, +1 / -1 per choice,
  6 trials. An ideal learner fixates every trial, guesses on trial 1 (expected 0) and is right on
  trials 2-6: 6 x 0.2 + 5 = 6.2. Random choices after fixating: 6 x 0.2 + 0 = 1.2.
* Two-step: the belief-tracking agent of ``neurorl.baselines.two_step`` (meta_rl.md §8.2) and a
  random chooser (mean of the two reward probabilities per trial).
"""

from __future__ import annotations

import jax
import numpy as np

HARLOW_TRIALS = 6  # meta_rl.md §3.1
HARLOW_FIXATION_REWARD = 0.2


# Gittins is left out: its index table takes minutes to build on a cold cache (baselines/bandits.py)
BANDIT_BASELINES = ("bayes_optimal", "thompson", "ucb1", "random", "oracle")


def bandit_baselines(env, params, probs, num_episodes: int = 300) -> dict[str, float]:
    """Expected return of each baseline on ONE task (as ``expected_returns_for_probs``, without Gittins)."""
    from neurorl.baselines.bandits import episodes_from_probs, run_baselines

    probs = np.asarray(probs, np.float32).reshape(1, -1)
    k1, k2 = jax.random.split(jax.random.key(0))
    eps = episodes_from_probs(env, params, np.repeat(probs, num_episodes, axis=0), k1)
    res = run_baselines(env, params, key=k2, episodes=eps, names=BANDIT_BASELINES)
    return {name: r.summary()["expected_reward"] for name, r in res.items()}


def score_for_session(s) -> dict:
    env = s.env
    base: dict[str, float] = {}
    note = ""
    cls = type(env).__name__
    if cls == "BanditEnv":
        if s.last_task_probs is not None:
            base = bandit_baselines(env, s.env_params, s.last_task_probs)
            note = f"expected return of each baseline on your task (arm probabilities {np.round(s.last_task_probs, 3).tolist()})"
        else:
            note = "finish an episode first"
    elif cls in ("Harlow1D", "HarlowVisual"):
        base = {"ideal learner (guess once, then always right)": HARLOW_TRIALS * HARLOW_FIXATION_REWARD + HARLOW_TRIALS - 1,
                "random choice": HARLOW_TRIALS * HARLOW_FIXATION_REWARD}
        note = "meta_rl.md §3.1 reward scheme: +0.2 per fixation, +1/-1 per choice, 6 trials"
    elif cls == "TwoStep":
        from neurorl.baselines.two_step import simulate_belief_agent

        p = s.env_params
        two_stage = bool(getattr(env, "two_stage", False))
        sim = simulate_belief_agent(jax.random.key(0), 200, p, two_stage=two_stage)
        n_trials = int(p.num_trials)
        base = {"belief agent (knows the task structure)": float(sim["reward"].sum(-1).mean()),
                "random choice": n_trials * 0.5 * float(p.reward_prob_high + p.reward_prob_low)}
        note = "belief agent of meta_rl.md §8.2, 200 simulated episodes"
    else:
        note = f"no baselines known for {s.env_id}"
    return {"env_id": s.env_id, "episodes_done": s.episodes_done, "last_return": s.last_return,
            "baselines": {k: float(v) for k, v in base.items()}, "note": note}

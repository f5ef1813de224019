"""Belief-tracking baseline for the two-step task (meta_rl.md §8.2).

The agent knows the task structure: a Bayes filter tracks b = P(S1 is the high-reward state).
It picks the first-stage action whose *common* transition leads to the believed-better state
(a = 0 if b > 0.5, a = 1 if b < 0.5, a fair coin on a tie). After each trial it updates b with
the reward seen in the reached state, then applies the switch prior for the next trial:

    posterior  b' = b L1 / (b L1 + (1 - b) L2),  Lk = P(r | reached state, Sk high)
    prediction b  <- b' (1 - p_switch) + (1 - b') p_switch          (switch before every trial, §1.1)

Reference values (§8.2, 100k episodes): 70.6 reward / 100 trials and stay probabilities
1.00 / 0.66 / 0.66 / 1.00 for the paper parameters. Runs as one jitted vmap + scan.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from neurorl.envs.two_step import TwoStep, TwoStepParams, make_params

# meta_rl.md §8.2 [computed]
REFERENCE_REWARD_PER_100 = 70.6
REFERENCE_STAY = (1.00, 0.66, 0.66, 1.00)


def belief_update(b: jax.Array, second_state: jax.Array, rewarded: jax.Array, params: TwoStepParams) -> jax.Array:
    """One Bayes-filter step: condition on the trial's outcome, then predict the next trial."""
    ph, pl = params.reward_prob_high, params.reward_prob_low
    r = rewarded.astype(jnp.float32)
    lik_high = ph * r + (1.0 - ph) * (1.0 - r)  # reached state is the high one
    lik_low = pl * r + (1.0 - pl) * (1.0 - r)
    l1 = jnp.where(second_state == 0, lik_high, lik_low)  # hypothesis "S1 high"
    l2 = jnp.where(second_state == 0, lik_low, lik_high)  # hypothesis "S2 high"
    post = b * l1 / jnp.maximum(b * l1 + (1.0 - b) * l2, 1e-30)
    return post * (1.0 - params.switch_prob) + (1.0 - post) * params.switch_prob


def simulate_belief_agent(key: jax.Array, num_episodes: int, params: TwoStepParams | None = None,
                          two_stage: bool = False) -> dict[str, np.ndarray]:
    """Play ``num_episodes`` episodes; returns the per-step info arrays, shape (episodes, steps)."""
    if not isinstance(num_episodes, int) or num_episodes < 1:
        raise ValueError(f"num_episodes must be a positive integer, got {num_episodes!r}")
    env = TwoStep(two_stage=two_stage)
    params = params if params is not None else make_params(two_stage=two_stage)
    steps = params.max_steps_in_episode

    def episode(k):
        k_reset, k_run = jax.random.split(k)
        _, state = env.reset(k_reset, params)

        def body(carry, k_t):
            state, b = carry
            k_tie, k_env = jax.random.split(k_t)
            coin = jax.random.bernoulli(k_tie).astype(jnp.int32)
            choice = jnp.where(b > 0.5, 0, jnp.where(b < 0.5, 1, coin))
            _, state, reward, _, _, info = env.step(k_env, state, choice, params)
            b_new = belief_update(b, info["second_stage_state"], info["rewarded"], params)
            b = jnp.where(info["trial_end"], b_new, b)
            return (state, b), (reward, info)

        _, (rewards, info) = jax.lax.scan(body, (state, jnp.float32(0.5)), jax.random.split(k_run, steps))
        return rewards, info

    rewards, info = jax.jit(jax.vmap(episode))(jax.random.split(key, num_episodes))
    out = {k: np.asarray(v) for k, v in info.items() if k in (
        "first_stage_action", "second_stage_state", "common", "rewarded", "high_state", "trial", "stage", "trial_end")}
    out["reward"] = np.asarray(rewards)
    return out

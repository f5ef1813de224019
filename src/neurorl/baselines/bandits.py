"""Reference policies for the bandit families, run on the same episodes as the agent.

Sources: ../shared/reference/meta_rl.md §8.1 (method and reference values), §1.1/§2.3 (families).

Policies (``BASELINES``), all jitted and vmapped over episodes (one ``lax.scan`` over trials):

* ``bayes_optimal``: exact Bayes-optimal policy where it is known in closed form/DP:
  - ``independent`` with 2 arms: exact backward induction over the 4 counts (s1, f1, s2, f2) with
    Beta(1,1) priors (§8.1), vectorised over the count simplex level by level (about 1 s, cached);
  - the dependent 2-armed families (``dependent``, ``dependent-easy/medium/hard``, 2-armed
    ``correlated``): the arms are (p, 1-p), so every pull updates the posterior of p in the same way
    whichever arm is pulled (§8.1); the next belief does not depend on the action, hence acting greedily
    on the posterior mean is exactly optimal. The posterior is computed for the family's prior: Beta(1,1)
    for ``dependent``, the two point masses {1-p_high, p_high} for easy/medium/hard, and the density of
    u1/(u1+u2), f(p) = 1/(2 max(p,1-p)^2) (derived from §2.3), by Gauss-Legendre quadrature for ``correlated``;
  - ``informative``: pull the informative arm once, then the target it names (any other first pull
    costs more in expectation; see docs/envs.md).
  Not available (skipped) for restless bandits and for independent/correlated bandits with > 2 arms.
* ``gittins``: the Gittins index of a Beta(1+s, 1+f) arm for discount ``GITTINS_GAMMA`` = 0.99
  (effective horizon 1/(1-gamma) = 100 trials, the episode length), tabulated for s + f <= 100 by
  calibration (retirement reward lambda on a grid of 1,500 values, linear interpolation of the
  crossing; value iteration truncated 300 pulls deeper with the known-mean approximation).
  Index accuracy about 1e-4 (index of Beta(1,1): 0.8699).
* ``thompson``: Thompson sampling with independent Beta(1,1) priors per arm (also on the dependent
  families, as in §8.1's "indep. prior" column).
* ``ucb1``: Auer et al. 2002: pull each arm once, then argmax mean_i + sqrt(2 ln t / n_i).
* ``random``: uniform over arms. ``oracle``: the arm with the highest expected reward on every trial.

Same episodes: every policy sees the same arm-probability trajectories and the same reward table
``uniforms[e, t, i]`` (arm i pays 1 on trial t of episode e iff ``uniforms < probs``), i.e. common random
numbers. Regret per trial is the expected instantaneous regret ``max_i p_t,i - p_t,a``
(meta_rl.md §8.1: oracle E[max p]·100 minus expected reward).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from neurorl.envs.bandits import DEPENDENT_FIXED_P_HIGH, BanditEnv, BanditParams

BASELINES = ("bayes_optimal", "gittins", "thompson", "ucb1", "random", "oracle")
GITTINS_GAMMA = 0.99
GITTINS_MAX_COUNT = 100
GITTINS_LOOKAHEAD = 300
GITTINS_GRID = 1500


# ============================================================== episodes
@dataclass(frozen=True)
class Episodes:
    """A batch of bandit episodes shared by every policy.

    probs: float32 (E, T, N), expected reward of each arm on each trial.
    uniforms: float32 (E, T, N), reward draws; Bernoulli arm i pays 1 iff ``uniforms < probs``.
    """

    probs: jax.Array
    uniforms: jax.Array

    @property
    def num_episodes(self) -> int:
        return int(self.probs.shape[0])

    @property
    def horizon(self) -> int:
        return int(self.probs.shape[1])

    @property
    def num_arms(self) -> int:
        return int(self.probs.shape[2])


def sample_episodes(env: BanditEnv, params: BanditParams | None, key: jax.Array, num_episodes: int) -> Episodes:
    """Draw ``num_episodes`` tasks from the env's own sampler (drifting ones evolve as in the env)."""
    params = env.default_params if params is None else params
    if num_episodes < 1:
        raise ValueError(f"num_episodes must be >= 1, got {num_episodes}")
    k_task, k_unif = jax.random.split(key)
    probs = _sample_prob_trajectories(env, params, jax.random.split(k_task, num_episodes))
    uniforms = jax.random.uniform(k_unif, probs.shape, jnp.float32)
    return Episodes(probs, uniforms)


def episodes_from_probs(
    env: BanditEnv, params: BanditParams | None, probs: Any, key: jax.Array
) -> Episodes:
    """Episodes with given starting arm probabilities ``probs`` (E, N) (constant unless restless)."""
    params = env.default_params if params is None else params
    probs = jnp.asarray(probs, jnp.float32)
    if probs.ndim != 2 or probs.shape[1] != env.num_arms:
        raise ValueError(f"probs must have shape (episodes, {env.num_arms}), got {probs.shape}")
    a = np.asarray(probs)
    if not np.all(np.isfinite(a)) or (env.rewards_are_bernoulli and (a.min() < 0 or a.max() > 1)):
        raise ValueError("probs must be finite and, for Bernoulli bandits, within [0, 1]")
    k_task, k_unif = jax.random.split(key)
    keys = jax.random.split(k_task, probs.shape[0])
    traj = _prob_trajectories_from(env, params, keys, probs)
    return Episodes(traj, jax.random.uniform(k_unif, traj.shape, jnp.float32))


def episodes_from_trajectory(trajectory: Any, key: jax.Array, num_episodes: int) -> Episodes:
    """``num_episodes`` copies of one task whose arm probabilities per trial are ``trajectory`` (T, N),
    each with its own reward draws (e.g. the exact task a human just played, drifts included)."""
    traj = jnp.asarray(trajectory, jnp.float32)
    if traj.ndim != 2:
        raise ValueError(f"trajectory must have shape (trials, arms), got {traj.shape}")
    probs = jnp.broadcast_to(traj, (num_episodes, *traj.shape))
    return Episodes(probs, jax.random.uniform(key, probs.shape, jnp.float32))


@functools.partial(jax.jit, static_argnums=(0,))
def _sample_prob_trajectories(env, params, keys):
    def one(key):
        k_reset, k_run = jax.random.split(key)
        _, state = env.reset_env(k_reset, params)
        return _trajectory(env, params, k_run, state)

    return jax.vmap(one)(keys)


@functools.partial(jax.jit, static_argnums=(0,))
def _prob_trajectories_from(env, params, keys, probs):
    def one(key, p):
        _, state = env.reset_with_probs(key, p, params)
        return _trajectory(env, params, key, state)

    return jax.vmap(one)(keys, probs)


def _trajectory(env, params, key, state):
    # arm probabilities never depend on the actions, so stepping with arm 0 reveals the env's own
    # dynamics (constant for every family but restless)
    if not getattr(env, "probs_drift", True):
        return jnp.broadcast_to(state.arm_probs, (params.max_steps_in_episode, *state.arm_probs.shape))

    def body(state, k):
        _, state2, _, _, info = env.step_env(k, state, 0, params)
        return state2, info["arm_probs"]

    _, probs = jax.lax.scan(body, state, jax.random.split(key, params.max_steps_in_episode))
    return probs


# ============================================================== exact dynamic programming
def _independent_level(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Level n of the count simplex s1+f1+s2+f2 = n as a dense cube over (s1, f1, s2): which entries are
    states (f2 >= 0) and the Beta(1,1) posterior means m1, m2 there."""
    k = np.arange(n + 1, dtype=np.float64)
    s1, f1, s2 = k[:, None, None], k[None, :, None], k[None, None, :]
    f2 = n - s1 - f1 - s2
    return f2 >= 0, (s1 + 1) / (s1 + f1 + 2), (s2 + 1) / (s2 + np.maximum(f2, 0) + 2)


@functools.lru_cache(maxsize=4)
def independent_bayes_dp(horizon: int = 100) -> tuple[float, np.ndarray, np.ndarray]:
    """Exact Bayes-optimal 2-armed Bernoulli bandit with independent Beta(1,1) priors (meta_rl.md §8.1).

    Backward induction over the count simplex s1+f1+s2+f2 = n, one level at a time; a level is a dense
    cube W[s1, f1, s2] (f2 = n - s1 - f1 - s2, entries with f2 < 0 unused).

        m_i = (s_i + 1) / (s_i + f_i + 2)                       (Beta(1,1) posterior mean)
        Q_1 = m_1 (1 + V(s1+1, ...)) + (1 - m_1) V(f1+1, ...)    (and Q_2 alike)
        V_n = max(Q_1, Q_2),  V_horizon = 0

    Returns (expected total reward, ``choose_arm2`` flat bool table, level offsets). Level n occupies
    ``table[offsets[n]: offsets[n] + (n+1)**3]`` in C order over (s1, f1, s2); ties pick arm 1.
    """
    if horizon < 1:
        raise ValueError(f"horizon must be >= 1, got {horizon}")
    w_next = np.zeros((horizon + 1,) * 3)
    levels: list[np.ndarray] = [None] * horizon  # type: ignore[list-item]
    for n in range(horizon - 1, -1, -1):
        valid, m1, m2 = _independent_level(n)
        q1 = m1 * (1 + w_next[1 : n + 2, : n + 1, : n + 1]) + (1 - m1) * w_next[: n + 1, 1 : n + 2, : n + 1]
        q2 = m2 * (1 + w_next[: n + 1, : n + 1, 1 : n + 2]) + (1 - m2) * w_next[: n + 1, : n + 1, : n + 1]
        levels[n] = ((q2 > q1) & valid).ravel()
        w_next = np.where(valid, np.maximum(q1, q2), 0.0)
    offsets = np.concatenate([[0], np.cumsum([(n + 1) ** 3 for n in range(horizon)])]).astype(np.int64)
    return float(w_next[0, 0, 0]), np.concatenate(levels), offsets


def independent_discounted_policy_regret(gamma: float, horizon: int = 100) -> float:
    """Undiscounted regret over ``horizon`` trials of the policy that is Bayes-optimal for the
    *discounted* objective sum_t gamma^t r_t (independent arms, Beta(1,1) priors): what an agent
    trained with discount ``gamma`` can reach at best (docs/bandits.md "Tuning").

    Same backward induction as :func:`independent_bayes_dp`, with the continuation value multiplied
    by ``gamma`` to choose the arm, and a second value U that follows those choices undiscounted.
    ``gamma = 1`` gives the Bayes-optimal regret (1.748 for horizon 100, meta_rl.md §8.1)."""
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must be in [0, 1], got {gamma}")
    if horizon < 1:
        raise ValueError(f"horizon must be >= 1, got {horizon}")
    w_next = np.zeros((horizon + 1,) * 3)  # discounted value of the gamma-optimal policy
    u_next = np.zeros((horizon + 1,) * 3)  # its undiscounted expected reward
    for n in range(horizon - 1, -1, -1):
        valid, m1, m2 = _independent_level(n)

        def after(v):  # values after a success / failure of arm 1 and of arm 2
            return (v[1 : n + 2, : n + 1, : n + 1], v[: n + 1, 1 : n + 2, : n + 1],
                    v[: n + 1, : n + 1, 1 : n + 2], v[: n + 1, : n + 1, : n + 1])

        ws1, wf1, ws2, wf2 = after(w_next)
        us1, uf1, us2, uf2 = after(u_next)
        q1 = m1 * (1 + gamma * ws1) + (1 - m1) * gamma * wf1
        q2 = m2 * (1 + gamma * ws2) + (1 - m2) * gamma * wf2
        arm2 = q2 > q1  # ties pick arm 1, as independent_bayes_dp
        u = np.where(arm2, m2 * (1 + us2) + (1 - m2) * uf2, m1 * (1 + us1) + (1 - m1) * uf1)
        w_next = np.where(valid, np.maximum(q1, q2), 0.0)
        u_next = np.where(valid, u, 0.0)
    return float(horizon * 2.0 / 3.0 - u_next[0, 0, 0])  # oracle: E[max(p1, p2)] = 2/3 per trial


def dependent_prior(family: str, p_high: float | None = None, nodes: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """Prior over p (arm 1 pays with p, arm 2 with 1-p) as quadrature nodes and weights summing to 1."""
    if family in DEPENDENT_FIXED_P_HIGH:
        hi = DEPENDENT_FIXED_P_HIGH[family] if p_high is None else float(p_high)
        if not 0.0 <= hi <= 1.0:
            raise ValueError(f"p_high must be in [0, 1], got {hi}")
        return np.array([1.0 - hi, hi]), np.array([0.5, 0.5])  # §1.1: p in {1-p_high, p_high}, fair coin
    x, w = np.polynomial.legendre.leggauss(nodes)
    if family == "dependent":
        return 0.5 * (x + 1), 0.5 * w  # U[0,1]
    if family == "correlated":
        # p = u1/(u1+u2), u ~ U[0,1]^2 (§2.3): density 1/(2(1-p)^2) on [0,1/2], 1/(2p^2) on [1/2,1].
        # Gauss-Legendre on each half (the density is smooth there).
        lo, hi = 0.25 * (x + 1), 0.5 + 0.25 * (x + 1)
        p = np.concatenate([lo, hi])
        dens = np.concatenate([1 / (2 * (1 - lo) ** 2), 1 / (2 * hi**2)])
        wt = np.concatenate([0.25 * w, 0.25 * w]) * dens
        return p, wt / wt.sum()
    raise ValueError(f"family {family!r} is not a dependent 2-armed family")


def _posterior_mean_table(family: str, horizon: int, p_high: float | None) -> np.ndarray:
    """m[a, b] = E[p | a "p-up" and b "p-down" outcomes] under the family's prior, a, b <= horizon."""
    a = np.arange(horizon + 1)[:, None]
    b = np.arange(horizon + 1)[None, :]
    if family == "dependent":
        return (a + 1) / (a + b + 2)  # Beta(1,1) prior: exact
    p, w = dependent_prior(family, p_high)
    a, b = a[..., None], b[..., None]
    with np.errstate(divide="ignore"):
        logp, log1p, logw = np.log(p), np.log1p(-p), np.log(w)
    # log space for stability; a*log(p) with a = 0 and p = 0 must be 0, not nan
    loglik = np.where(a > 0, a * logp, 0.0) + np.where(b > 0, b * log1p, 0.0) + logw
    lik = np.exp(loglik - loglik.max(axis=-1, keepdims=True))
    return (lik * p).sum(-1) / lik.sum(-1)


@functools.lru_cache(maxsize=16)
def _dependent_dp_cached(family: str, horizon: int, p_high: float | None) -> tuple[float, np.ndarray]:
    mean = _posterior_mean_table(family, horizon, p_high)
    # DP: from level n, the next belief is (a+1, b) w.p. m and (a, b+1) w.p. 1-m whichever arm is pulled
    v_next = np.zeros(horizon + 1)
    for n in range(horizon - 1, -1, -1):
        ai = np.arange(n + 1)
        m = mean[ai, n - ai]
        v_next = np.maximum(m, 1 - m) + m * v_next[ai + 1] + (1 - m) * v_next[ai]
    return float(v_next[0]), mean


def dependent_bayes_dp(family: str, horizon: int = 100, p_high: float | None = None) -> tuple[float, np.ndarray]:
    """Exact Bayes-optimal value of a dependent 2-armed family and its posterior-mean table ``m[a, b]``.

    a = successes of arm 1 + failures of arm 2 (evidence for high p), b = the rest (§8.1). The optimal
    policy is greedy: arm 1 iff m[a, b] > 1/2 (ties: arm 1).
    """
    if family not in DEPENDENT_FIXED_P_HIGH and family not in ("dependent", "correlated"):
        raise ValueError(f"family {family!r} is not a dependent 2-armed family")
    if horizon < 1:
        raise ValueError(f"horizon must be >= 1, got {horizon}")
    if family in DEPENDENT_FIXED_P_HIGH:
        p_high = DEPENDENT_FIXED_P_HIGH[family] if p_high is None else float(p_high)
        if not 0.0 <= p_high <= 1.0:
            raise ValueError(f"p_high must be in [0, 1], got {p_high}")
    else:
        p_high = None
    return _dependent_dp_cached(family, int(horizon), p_high)


def bayes_optimal_value(family: str, horizon: int = 100, p_high: float | None = None) -> float:
    """Expected total reward of the Bayes-optimal policy over ``horizon`` trials (2-armed families)."""
    if family == "independent":
        return independent_bayes_dp(horizon)[0]
    return dependent_bayes_dp(family, horizon, p_high)[0]


def oracle_value(family: str, horizon: int = 100, p_high: float | None = None) -> float:
    """Expected total reward of always pulling the best arm (2-armed families, from the prior)."""
    if family == "independent":
        return horizon * 2.0 / 3.0  # E[max(p1,p2)] = 2/3 for U[0,1]^2
    p, w = dependent_prior(family, p_high)
    return float(horizon * (w * np.maximum(p, 1 - p)).sum())


# ============================================================== Gittins index
def _cache_dir() -> Path:
    return Path(os.environ.get("NEURORL_CACHE", Path.home() / ".cache" / "neurorl"))


@functools.lru_cache(maxsize=4)
def gittins_table(
    gamma: float = GITTINS_GAMMA,
    max_count: int = GITTINS_MAX_COUNT,
    lookahead: int = GITTINS_LOOKAHEAD,
    grid: int = GITTINS_GRID,
) -> np.ndarray:
    """Gittins indices G[s, f] of a Bernoulli arm with posterior Beta(1+s, 1+f), discount ``gamma``.

    Calibration (Gittins 1979): the index is the per-step retirement reward lambda at which pulling
    the arm once more and retiring forever are equally good:
        V(x) = max(lambda / (1-gamma), m_x + gamma (m_x V(x+s) + (1-m_x) V(x+f))).
    Value iteration runs for all lambda on a grid at once over the count triangle, ``lookahead`` pulls
    beyond ``max_count`` where V is replaced by max(lambda, m)/(1-gamma) (known-mean approximation).
    Cached in memory and in ``$NEURORL_CACHE`` (default ~/.cache/neurorl).
    """
    if not 0.0 < gamma < 1.0:
        raise ValueError(f"gamma must be in (0, 1), got {gamma}")
    path = _cache_dir() / f"gittins_g{gamma}_n{max_count}_d{lookahead}_l{grid}.npy"
    if path.exists():
        try:
            table = np.load(path)
            if table.shape == (max_count + 1, max_count + 1):
                return table
        except (OSError, ValueError):
            pass
    lam = np.linspace(0.0, 1.0, grid)[:, None]
    retire = lam / (1 - gamma)
    depth = max_count + lookahead
    m = (np.arange(depth + 1) + 1) / (depth + 2)
    v = np.maximum(lam, m[None, :]) / (1 - gamma)
    table = np.full((max_count + 1, max_count + 1), np.nan)
    for n in range(depth - 1, -1, -1):
        s = np.arange(n + 1)
        m = (s + 1) / (n + 2)
        cont = m + gamma * (m * v[:, 1 : n + 2] + (1 - m) * v[:, : n + 1])
        if n <= max_count:
            d = cont - retire  # decreasing in lambda; the index is its zero crossing
            crossed = d <= 0
            k = np.where(crossed.any(0), np.argmax(crossed, axis=0), grid - 1)
            k = np.maximum(k, 1)
            cols = np.arange(n + 1)
            d0, d1 = d[k - 1, cols], d[k, cols]
            l0, l1 = lam[k - 1, 0], lam[k, 0]
            table[s, n - s] = l0 + (l1 - l0) * d0 / np.maximum(d0 - d1, 1e-300)
        v = np.maximum(retire, cont)
    try:
        from neurorl.utils.atomic import atomic_write_bytes
        import io

        buf = io.BytesIO()
        np.save(buf, table)
        atomic_write_bytes(path, buf.getvalue())
    except OSError:
        pass  # read-only home: keep the in-memory cache only
    return table


# ============================================================== policies
# A policy is a module-level function act(aux, cfg, s, n, r, t, p, key) -> arm, where s / n / r are the
# per-arm successes, pulls and reward sums so far (N,), t the trial index, p the true expected rewards
# (only the oracle reads them), ``cfg`` a tuple of static ints/floats and ``aux`` a pytree of arrays
# (tables), passed as traced arguments so big tables are not baked into the compiled program.


@dataclass(frozen=True)
class BaselinePolicy:
    name: str
    act: Callable[..., jax.Array]
    cfg: tuple = ()
    aux: Any = field(default=None, compare=False, hash=False)


def _act_random(aux, cfg, s, n, r, t, p, key):
    return jnp.minimum(jnp.floor(jax.random.uniform(key) * cfg[0]), cfg[0] - 1).astype(jnp.int32)


def _act_oracle(aux, cfg, s, n, r, t, p, key):
    return jnp.argmax(p)


def _act_thompson(aux, cfg, s, n, r, t, p, key):
    theta = jax.random.beta(key, 1.0 + s, 1.0 + (n - s))  # Beta(1,1) prior per arm
    return jnp.argmax(theta)


def _act_ucb1(aux, cfg, s, n, r, t, p, key):
    # Auer, Cesa-Bianchi & Fischer 2002, UCB1: each arm once, then mean + sqrt(2 ln t / n_i);
    # rewards scaled to [0, 1] by cfg[0] = max reward
    mean = r / cfg[0] / jnp.maximum(n, 1)
    bonus = jnp.sqrt(2.0 * jnp.log(jnp.maximum(t, 1).astype(jnp.float32)) / jnp.maximum(n, 1))
    return jnp.where(jnp.any(n == 0), jnp.argmin(n), jnp.argmax(mean + bonus))


def _act_gittins(table, cfg, s, n, r, t, p, key):
    cap = table.shape[0] - 1
    si = jnp.clip(s, 0, cap).astype(jnp.int32)
    fi = jnp.clip(n - s, 0, cap - si).astype(jnp.int32)
    return jnp.argmax(table[si, fi])


def _act_independent_bayes(aux, cfg, s, n, r, t, p, key):
    choose2, offsets = aux
    s1, f1, s2 = s[0], n[0] - s[0], s[1]
    lvl = (n[0] + n[1]).astype(jnp.int32)
    idx = offsets[lvl] + ((s1 * (lvl + 1) + f1) * (lvl + 1) + s2).astype(jnp.int32)
    return choose2[idx].astype(jnp.int32)


def _act_dependent_bayes(mean_table, cfg, s, n, r, t, p, key):
    up = (s[0] + (n[1] - s[1])).astype(jnp.int32)  # evidence that p (arm 1) is high
    down = ((n[0] - s[0]) + s[1]).astype(jnp.int32)
    return jnp.where(mean_table[up, down] >= 0.5, 0, 1)


def _act_informative_bayes(aux, cfg, s, n, r, t, p, key):
    # pull the cue arm first; its payoff 0.1 x (target index from 1) names the target (§1.1)
    num_arms = cfg[0]
    cue = r[num_arms - 1] / jnp.maximum(n[num_arms - 1], 1)
    target = jnp.clip(jnp.round(cue / 0.1).astype(jnp.int32) - 1, 0, num_arms - 2)
    return jnp.where(n[num_arms - 1] == 0, num_arms - 1, target)


def baseline_policy(name: str, env: BanditEnv, params: BanditParams | None = None) -> BaselinePolicy | None:
    """The policy ``name`` for ``env``, or None where it is not available for this family."""
    params = env.default_params if params is None else params
    horizon = params.max_steps_in_episode
    fam, n_arms = env.family, env.num_arms
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; expected one of {list(BASELINES)}")
    if name == "random":
        return BaselinePolicy(name, _act_random, (n_arms,))
    if name == "oracle":
        return BaselinePolicy(name, _act_oracle)
    if name == "ucb1":
        return BaselinePolicy(name, _act_ucb1, (float(env.max_reward),))
    if not env.rewards_are_bernoulli:
        return BaselinePolicy(name, _act_informative_bayes, (n_arms,)) if name == "bayes_optimal" else None
    if name == "thompson":
        return BaselinePolicy(name, _act_thompson)
    if name == "gittins":
        return BaselinePolicy(name, _act_gittins, (), jnp.asarray(gittins_table(), jnp.float32))
    # bayes_optimal
    if fam == "independent" and n_arms == 2:
        _, choose2, offsets = independent_bayes_dp(horizon)
        return BaselinePolicy(name, _act_independent_bayes, (), (jnp.asarray(choose2), jnp.asarray(offsets, jnp.int32)))
    if n_arms == 2 and (fam in DEPENDENT_FIXED_P_HIGH or fam in ("dependent", "correlated")):
        p_high = float(params.p_high) if fam in DEPENDENT_FIXED_P_HIGH else None
        table = dependent_bayes_dp(fam, horizon, p_high)[1]
        return BaselinePolicy(name, _act_dependent_bayes, (), jnp.asarray(table, jnp.float32))
    return None


@dataclass(frozen=True)
class BaselineResult:
    """Per-episode, per-trial outcome arrays, shape (E, T)."""

    actions: np.ndarray
    reward: np.ndarray  # realised reward (common reward table)
    expected_reward: np.ndarray  # p_t[a_t]
    regret: np.ndarray  # max_i p_t,i - p_t[a_t]

    def summary(self) -> dict[str, float]:
        e = self.regret.shape[0]
        tot_reg = self.regret.sum(1)
        return {
            "reward": float(self.reward.sum(1).mean()),
            "expected_reward": float(self.expected_reward.sum(1).mean()),
            "regret": float(tot_reg.mean()),
            "regret_se": float(tot_reg.std(ddof=1) / np.sqrt(e)) if e > 1 else float("nan"),
            "reward_per_trial": float(self.reward.mean()),
        }


def run_policy(policy: BaselinePolicy, episodes: Episodes, key: jax.Array, bernoulli: bool = True) -> BaselineResult:
    """Run one policy on every episode (jit + vmap over episodes + scan over trials)."""
    out = _run_policy_jit(policy.act, policy.cfg, bool(bernoulli), policy.aux, episodes.probs, episodes.uniforms, key)
    return BaselineResult(*(np.asarray(x) for x in out))


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def _run_policy_jit(act, cfg, bernoulli, aux, probs, uniforms, key):
    e, t_max, n_arms = probs.shape

    def episode(p_traj, u_traj, k):
        def trial(carry, x):
            s, n, r = carry
            p, u, kt, t = x
            a = act(aux, cfg, s, n, r, t, p, kt)
            rew = jnp.where(u[a] < p[a], 1.0, 0.0) if bernoulli else p[a]
            onehot = jax.nn.one_hot(a, n_arms)
            carry = (s + onehot * rew, n + onehot, r + onehot * rew)
            return carry, (a, rew, p[a], p.max() - p[a])

        zeros = jnp.zeros(n_arms, jnp.float32)
        xs = (p_traj, u_traj, jax.random.split(k, t_max), jnp.arange(t_max))
        _, out = jax.lax.scan(trial, (zeros, zeros, zeros), xs)
        return out

    return jax.vmap(episode)(probs, uniforms, jax.random.split(key, e))


def run_baselines(
    env: BanditEnv,
    params: BanditParams | None = None,
    *,
    key: jax.Array | None = None,
    num_episodes: int = 1000,
    episodes: Episodes | None = None,
    names: tuple[str, ...] | list[str] | None = None,
) -> dict[str, BaselineResult]:
    """Run every available baseline on the same episodes (sampled from ``env`` unless given).

    Returns {name: BaselineResult}; baselines not available for this family are left out.
    """
    params = env.default_params if params is None else params
    key = jax.random.key(0) if key is None else key
    k_ep, k_pol = jax.random.split(key)
    policies = {name: baseline_policy(name, env, params) for name in (BASELINES if names is None else names)}
    policies = {k: v for k, v in policies.items() if v is not None}
    if not policies:
        return {}
    if episodes is None:
        episodes = sample_episodes(env, params, k_ep, num_episodes)
    if episodes.num_arms != env.num_arms:
        raise ValueError(f"episodes have {episodes.num_arms} arms, env has {env.num_arms}")
    return {
        name: run_policy(policy, episodes, jax.random.fold_in(k_pol, BASELINES.index(name)), env.rewards_are_bernoulli)
        for name, policy in policies.items()
    }


def expected_returns_for_probs(
    env: BanditEnv, probs: Any, *, key: jax.Array | None = None, num_episodes: int = 2000, params: BanditParams | None = None
) -> dict[str, float]:
    """Expected total reward of every baseline on ONE task (fixed arm probabilities), by simulation.

    Used by ``neurorl play bandit`` to compare a human's score with the baselines on the same task.
    """
    probs = np.asarray(probs, np.float32).reshape(1, -1)
    key = jax.random.key(0) if key is None else key
    k1, k2 = jax.random.split(key)
    eps = episodes_from_probs(env, params, np.repeat(probs, num_episodes, axis=0), k1)
    res = run_baselines(env, params, key=k2, episodes=eps)
    return {name: r.summary()["expected_reward"] for name, r in res.items()}

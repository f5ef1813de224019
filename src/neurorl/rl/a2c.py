"""Synchronous advantage actor-critic for recurrent meta-RL agents, as one compiled program.

``make_train(cfg, env, env_params, net)`` returns two pure functions:

- ``init(key, hp) -> TrainState`` for one seed;
- ``train_chunk(state, hp, num_updates) -> (state, metrics)``: ``lax.scan`` over updates; each
  update is a ``lax.scan`` over ``unroll_length`` steps of ``num_envs`` vmapped environments.

``hp`` is a :class:`Hyperparams` pytree of float32 scalars: the hyperparameters that change no
shape (γ, λ, β_v, β_e schedule, learning-rate schedule values, clip norm) are *inputs* of the
compiled program, not constants baked into it. Everything else in ``cfg`` (shapes, the schedule
and optimiser kinds, ``num_updates``) stays static.

:func:`compile_train_batched` vmaps and jits both over a leading axis of ``(key, hp)`` rows, so one
program trains several seeds AND several grid points (``neurorl sweep``);
:func:`compile_train` is the one-config case (every row gets ``hyperparams(cfg)``). The Python
driver in ``neurorl.rl.trainer`` only calls ``train_chunk`` once per chunk (progress bar, CSV row,
checkpoint), never per environment step.

Loss (Mnih et al. 2016 A2C; Wang et al. 2018 meta-RL, meta_rl.md §0, §9.2):
    L = -mean(log π(a_t) · Â_t) + β_v · ½ mean((R_t − V_t)²) − β_e · mean(H[π_t])
with Â_t from GAE(γ, λ) (λ = 1: n-step returns to the end of the unroll, bootstrapped with
V(s_T)), targets and advantages computed with stop-gradient values. The gradient is taken
through the rollout itself (actions are sampled, so no gradient flows through the
environment), which spares a second forward pass over the trajectory. The recurrent state at
the start of an unroll is carried over from the previous one (truncated BPTT, stop-gradient).

Fixes over the original implementation (meta_rl.md §2.4, §9.2): GAE/n-step advantage instead of
a 1-step TD error; the learning-rate schedule spans exactly ``num_updates``; gradients are
clipped by global norm *before* Adam; every seed, update and environment gets its own PRNG key;
an annealed entropy bonus (a mean over steps, not a sum).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from neurorl.rl.config import TrainConfig
from neurorl.utils.threefry import lowered_with_straight_line_threefry


class TrainState(NamedTuple):
    params: Any
    opt_state: Any
    env_state: Any
    obs: Any
    episode_start: jnp.ndarray  # (B,) bool: obs is the first observation of an episode
    carry: Any  # recurrent state after the last step
    episode_return: jnp.ndarray  # (B,) running return of the current episode
    key: jnp.ndarray
    update: jnp.ndarray  # number of updates done


class Hyperparams(NamedTuple):
    """Hyperparameters that change no shape, as float32 scalars (rows of a batched program: arrays
    with a leading axis). They are inputs of the compiled program, not constants baked into it, so
    one program can train several values at once. Build with :func:`hyperparams`.

    Numerics: the same seed trains the same weights as when these were Python constants only up to
    float rounding (XLA folds constants, e.g. ``x / c`` -> ``x * (1/c)``; measured on the bandit preset:
    max |Δparam| 6e-8 to 1.2e-7 after 30 updates), so runs are not bit-identical to runs made
    before this change (checkpoints and agents from before still load and resume). Rows of
    one batched program and separate programs give bit-identical results (tests/sweep).
    """

    gamma: Any  # γ, discount (meta_rl.md §2.2, §7)
    gae_lambda: Any  # λ of GAE; 1 = n-step returns to the end of the unroll (§8.3)
    value_coef: Any  # β_v (§2.2)
    entropy_start: Any  # β_e at update 0, annealed linearly (§8.3, §1.2)
    entropy_end: Any  # β_e after entropy_fraction of the run
    entropy_fraction: Any  # fraction of num_updates over which β_e anneals
    learning_rate: Any  # schedule start value (§8.3: Adam 1e-3)
    learning_rate_end: Any  # schedule end value, reached at the last update (§2.4 fixed)
    max_grad_norm: Any  # clip by global norm before the optimiser (§2.4 fixed)


# Config keys that reach the program only through Hyperparams: configs that differ only in these
# (and in agent.random_seed, which only changes the PRNG keys) can share one compiled program.
TRACED_KEYS = tuple(f"{'optim' if f in ('learning_rate', 'learning_rate_end', 'max_grad_norm') else 'a2c'}.{f}"
                    for f in Hyperparams._fields)


def hyperparams(cfg: TrainConfig) -> Hyperparams:
    """The traced hyperparameters of ``cfg``, as float32 scalars."""
    a, o = cfg.a2c, cfg.optim
    return Hyperparams(*(np.float32(getattr(o if k.startswith("optim.") else a, k.split(".")[1])) for k in TRACED_KEYS))


def stack_hyperparams(hps) -> Hyperparams:
    """Rows of a batched program: ``[hp_0, hp_1, ...]`` -> Hyperparams of float32 arrays of shape (rows,)."""
    return jax.tree_util.tree_map(lambda *x: np.stack([np.float32(v) for v in x]), *hps)


def learning_rate_schedule(cfg: TrainConfig, hp: Hyperparams | None = None) -> optax.Schedule:
    """Kind and length of the schedule are static (``cfg.optim.schedule``, ``num_updates``); its
    values come from ``hp`` (traced arrays inside the program)."""
    o, n = cfg.optim, cfg.a2c.num_updates
    hp = hyperparams(cfg) if hp is None else hp
    if o.schedule == "constant":
        return optax.constant_schedule(hp.learning_rate)
    if o.schedule == "linear":
        return optax.linear_schedule(hp.learning_rate, hp.learning_rate_end, transition_steps=n)
    return optax.cosine_decay_schedule(hp.learning_rate, decay_steps=n, alpha=hp.learning_rate_end / hp.learning_rate)


def entropy_coef(cfg: TrainConfig, update: jnp.ndarray, hp: Hyperparams | None = None) -> jnp.ndarray:
    """β_e annealed linearly from entropy_start to entropy_end over entropy_fraction of the run."""
    hp = hyperparams(cfg) if hp is None else hp
    span = jnp.maximum(1.0, hp.entropy_fraction * cfg.a2c.num_updates)
    frac = jnp.clip(update / span, 0.0, 1.0)
    return hp.entropy_start + frac * (hp.entropy_end - hp.entropy_start)


def make_optimizer(cfg: TrainConfig, hp: Hyperparams | None = None) -> optax.GradientTransformation:
    """Clip by global norm, then Adam/RMSProp with the learning-rate schedule. The optimiser state's
    structure depends only on ``cfg`` (not on ``hp``): checkpoints keep their layout, and the
    optimiser can be rebuilt from traced ``hp`` inside the program."""
    o = cfg.optim
    hp = hyperparams(cfg) if hp is None else hp
    lr = learning_rate_schedule(cfg, hp)
    opt = optax.adam(lr, eps=o.eps) if o.optimizer == "adam" else optax.rmsprop(lr, eps=o.eps)
    # Clip first, then the optimiser: the original chained clip AFTER Adam, where it never acts (§2.4).
    return optax.chain(optax.clip_by_global_norm(hp.max_grad_norm), opt)


def gae(rewards, values, dones, last_value, gamma, lam):
    """Generalised advantage estimation over time-major arrays (T, B). ``dones[t]``: episode ended at t."""

    def step(carry, x):
        next_adv, next_value = carry
        r, v, d = x
        not_done = 1.0 - d
        delta = r + gamma * next_value * not_done - v
        adv = delta + gamma * lam * not_done * next_adv
        return (adv, v), adv

    _, adv = jax.lax.scan(step, (jnp.zeros_like(last_value), last_value), (rewards, values, dones), reverse=True)
    return adv, adv + values


def make_train(cfg: TrainConfig, env, env_params, net):
    a = cfg.a2c
    B, T = a.num_envs, a.unroll_length
    vstep = jax.vmap(env.step, in_axes=(0, 0, 0, None))
    vreset = jax.vmap(env.reset, in_axes=(0, None))

    def init(key, hp: Hyperparams):
        k_params, k_env, key = jax.random.split(key, 3)
        obs, env_state = vreset(jax.random.split(k_env, B), env_params)
        carry = net.initialize_carry(B)
        start = jnp.ones((B,), bool)
        params = net.init(k_params, carry, obs, start)
        return TrainState(params, make_optimizer(cfg, hp).init(params), env_state, obs, start, carry,
                          jnp.zeros((B,), jnp.float32), key, jnp.zeros((), jnp.int32))

    def rollout(params, state: TrainState, key):
        def step(c, k):
            carry, env_state, obs, start = c
            carry, logits, value = net.apply(params, carry, obs, start)
            k_act, k_env = jax.random.split(k)
            action = jax.random.categorical(k_act, logits)
            obs2, env_state2, reward, term, trunc, info = vstep(jax.random.split(k_env, B), env_state, action, env_params)
            done = jnp.logical_or(term, trunc)
            return (carry, env_state2, obs2, done), (logits, value, action, reward.astype(jnp.float32), done, info)

        carry0 = jax.lax.stop_gradient(state.carry)
        c0 = (carry0, state.env_state, state.obs, state.episode_start)
        (carry, env_state, obs, start), traj = jax.lax.scan(step, c0, jax.random.split(key, T))
        _, _, last_value = net.apply(params, carry, obs, start)
        return (carry, env_state, obs, start), traj, last_value

    def loss_fn(params, state, key, beta_e, hp):
        final, traj, last_value = rollout(params, state, key)
        logits, values, actions, rewards, dones, info = traj
        d = dones.astype(jnp.float32)
        adv, returns = gae(rewards, jax.lax.stop_gradient(values), d, jax.lax.stop_gradient(last_value),
                           hp.gamma, hp.gae_lambda)
        if a.normalize_advantages:
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        logp_all = jax.nn.log_softmax(logits)
        logp = jnp.take_along_axis(logp_all, actions[..., None], -1)[..., 0]
        entropy = -(jnp.exp(logp_all) * logp_all).sum(-1).mean()
        pi_loss = -(logp * jax.lax.stop_gradient(adv)).mean()
        v_loss = 0.5 * ((jax.lax.stop_gradient(returns) - values) ** 2).mean()
        loss = pi_loss + hp.value_coef * v_loss - beta_e * entropy
        return loss, (final, rewards, dones, info, pi_loss, v_loss, entropy)

    def update(hp: Hyperparams, state: TrainState):
        key, k_roll = jax.random.split(state.key)
        beta_e = entropy_coef(cfg, state.update, hp)
        grads, aux = jax.grad(loss_fn, has_aux=True)(state.params, state, k_roll, beta_e, hp)
        (carry, env_state, obs, start), rewards, dones, info, pi_loss, v_loss, entropy = aux
        updates, opt_state = make_optimizer(cfg, hp).update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)

        # Episode returns completed during this unroll (for logging only).
        def acc(ret, x):
            r, d = x
            ret = ret + r
            return jnp.where(d, 0.0, ret), (ret, d)

        ep_ret, (rets, ds) = jax.lax.scan(acc, state.episode_return, (rewards, dones))
        n_done = ds.sum()
        metrics = {
            "reward_per_step": rewards.mean(),
            "episode_return": jnp.where(n_done > 0, (rets * ds).sum() / jnp.maximum(n_done, 1), jnp.nan),
            "episodes": n_done,
            "pi_loss": pi_loss,
            "v_loss": v_loss,
            "entropy": entropy,
            "entropy_coef": beta_e,
            "grad_norm": optax.global_norm(grads),
            "learning_rate": learning_rate_schedule(cfg, hp)(state.update),
        }
        if isinstance(info, dict) and "regret" in info:
            metrics["regret_per_step"] = info["regret"].mean()
        new = TrainState(params, opt_state, env_state, obs, start, carry, ep_ret, key, state.update + 1)
        return new, metrics

    def train_chunk(state: TrainState, hp: Hyperparams, num_updates: int):
        state, metrics = jax.lax.scan(lambda st, _: update(hp, st), state, None, length=num_updates)
        # nanmean: episode_return is NaN in updates where no episode ended.
        return state, jax.tree_util.tree_map(jnp.nanmean, metrics)

    return init, train_chunk


def compile_train_batched(cfg: TrainConfig, env, env_params, net):
    """Jitted ``init(keys, hps)`` and ``train_chunk(states, hps, num_updates)``, vmapped over rows.

    Row i trains with ``keys[i]`` and the hyperparameters ``hps[i]`` (a :class:`Hyperparams` of
    shape-(rows,) arrays, :func:`stack_hyperparams`): rows can be seeds, grid points that differ
    only in :data:`TRACED_KEYS`, or both. ``num_updates`` is static; ``states`` is donated.
    """
    init, train_chunk = make_train(cfg, env, env_params, net)
    # Rows are initialised one after another (lax.map), NOT vmapped: vmapping turns the orthogonal
    # initialisers' QR into a batched LAPACK call (lapack_sorgqr_ffi), whose ParallelBatchMap fans out
    # into the XLA intra-op pool it is already running on and waits. When every pool worker does that
    # at once the program deadlocks (found with gdb: both tf_XLAEigen threads in
    # jax::OrthogonalQr -> ParallelBatchMap -> BlockingCounter::Wait; jax 0.10.2 CPU, 2 cores; it hung
    # 4+ vmapped seeds intermittently, docs/harlow.md). Unbatched, the QR runs inline. Same values.
    b_init = jax.jit(lambda keys, hps: jax.lax.map(lambda row: init(*row), (keys, hps)))
    b_chunk = jax.jit(jax.vmap(train_chunk, in_axes=(0, 0, None)), static_argnums=2, donate_argnums=0)
    # Straight-line Threefry rounds in the training program: the same random bits, a fraction of the
    # XLA operations per step (+18-27 % env steps/s on the bandit task, docs/benchmarks.md).
    return b_init, lowered_with_straight_line_threefry(b_chunk)


def compile_train(cfg: TrainConfig, env, env_params, net):
    """Jitted ``init(keys)`` and ``train_chunk(states, num_updates)`` for ONE config, over a leading seed axis.

    The same program as :func:`compile_train_batched`, every row given ``hyperparams(cfg)``. With
    ``run.seed_layout == "sequential"`` ``train_chunk`` calls the one-row program once per seed (same
    stacked inputs and outputs): each seed then trains exactly as a one-seed run with its key would.
    """
    b_init, b_chunk = compile_train_batched(cfg, env, env_params, net)
    hp = hyperparams(cfg)

    def rows(n: int) -> Hyperparams:
        return stack_hyperparams([hp] * n)

    def v_init(keys):
        return b_init(keys, rows(keys.shape[0]))

    def v_chunk(states: TrainState, num_updates: int):
        n = states.update.shape[0]
        if cfg.run.seed_layout == "vmap" or n == 1:
            return b_chunk(states, rows(n), num_updates)
        # "sequential": the one-seed program once per seed; the same stacked states and metrics as "vmap"
        parts = [b_chunk(jax.tree_util.tree_map(lambda x: x[i:i + 1], states), rows(1), num_updates) for i in range(n)]
        return jax.tree_util.tree_map(lambda *xs: jnp.concatenate(xs), *parts)

    return v_init, v_chunk


def seed_keys(cfg: TrainConfig) -> jnp.ndarray:
    """One independent key per seed: seed i uses PRNGKey(random_seed + i)."""
    return jnp.stack([jax.random.PRNGKey(cfg.agent.random_seed + i) for i in range(cfg.run.seeds)])

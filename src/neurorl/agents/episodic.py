"""Episodic meta-RL (Ritter et al. 2018, "Been there, done that"): DND, epLSTM, episodic actor-critic.

Sources: ../shared/reference/meta_rl.md §3.5 (BKHMSI ``dnd.py``, ``ep_lstm_cell.py``,
``a3c_dnd_lstm.py``), §4.3 (episodic two-step), §9.6 (JAX design).

Differentiable neural dictionary (DND), pure functions on a ``DNDState`` pytree:
  * fixed capacity, keys (N, K) and values (N, M), a circular write pointer and a ``filled`` mask;
  * kernels ``cosine``, ``l1`` (= -L1 distance) and ``l2`` (= -L2 distance)              (§3.5)
  * 1-nearest-neighbour retrieval; zeros when memory is empty, retrieval is off, or the best
    similarity is <= ``threshold``                                                          (§3.5)
  * stored keys and values are ``stop_gradient``-ed: no gradient ever flows into memory     (§3.5)
  * optional ``replace_similar``: overwrite the most similar stored key (if its similarity is
    above the threshold) instead of appending                                               (§3.5)
  Everything has static shapes, so it vmaps over a batch and runs inside ``lax.scan``.

epLSTM cell (§3.5 ``EpLSTMCell``): an LSTM with a fifth, *reinstatement* gate
    r_t = sigma(W_r x_t + U_r h_{t-1} + b_r)
    c_t = f_t * c_{t-1} + i_t * g_t + r_t * tanh(m_t)       (m_t: retrieved memory, size of c)
    h_t = o_t * tanh(c_t)
With r_t = 0 (gate closed) or m_t = 0 it is exactly an LSTM; parameter names match
``flax.linen.LSTMCell`` (ii/if/ig/io, hi/hf/hg/ho) plus ``ir``/``hr`` for the new gate.
Initialisation as in §3.5: recurrent kernels orthogonal, input kernels Xavier-uniform, biases 0
except the recurrent forget bias = 1.

Episodic actor-critic: the trainer interface of ``neurorl.agents.actor_critic`` (module docstring
there): ``initialize_carry(batch)`` and ``__call__(carry, obs, episode_start) -> (carry, logits,
value)``. Per step it (1) reads the context key from ``obs[key_start:key_stop]``, (2) retrieves
m_t = DND(key) (1-NN), (3) steps the epLSTM on the rest of the observation and m_t, and (4) stores
(previous trial's key -> c_t): the outcome of the trial cued by key_{t-1} (action, transition,
reward) first enters the network at step t, so c_t is the cell state that remembers that trial.
An all-zero key means "no context": nothing is retrieved or stored.

Carry-reset semantics (why the memory is not simply zeroed with the LSTM):
  * ``episode_start`` (the trainer's episode boundary) always resets the LSTM state (c, h) and the
    pending key. The DND is also cleared when ``memory_scope == "episode"`` (the episodic two-step
    of §4.3: memories are written and recalled inside one 100-trial episode); with
    ``memory_scope == "lifetime"`` the DND survives episode boundaries for as long as the trainer
    keeps the carry.
  * ``lstm_reset_index``: optional index of an observation feature that, when 1, resets only the
    LSTM state (c, h) but keeps the DND. Environments whose one trainer episode is a *block* of
    task episodes (the episodic Harlow task: rewarded objects come back in later task episodes)
    raise it at every task boundary, so within-task working memory is wiped exactly as between
    meta-RL episodes (§0) while the episodic memory persists across task episodes.
"""

from __future__ import annotations

from typing import Literal

import flax.linen as nn
import jax
import jax.numpy as jnp
from flax import struct

KERNELS = ("cosine", "l1", "l2")
Kernel = Literal["cosine", "l1", "l2"]


# ---------------------------------------------------------------------------------------------
# Differentiable neural dictionary
# ---------------------------------------------------------------------------------------------
@struct.dataclass
class DNDState:
    keys: jax.Array  # (capacity, key_dim)
    values: jax.Array  # (capacity, value_dim)
    filled: jax.Array  # (capacity,) bool
    pointer: jax.Array  # () int32, next slot of the circular buffer

    @property
    def capacity(self) -> int:
        return self.keys.shape[-2]


def dnd_init(capacity: int, key_dim: int, value_dim: int) -> DNDState:
    for name, v in (("capacity", capacity), ("key_dim", key_dim), ("value_dim", value_dim)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    return DNDState(keys=jnp.zeros((capacity, key_dim), jnp.float32),
                    values=jnp.zeros((capacity, value_dim), jnp.float32),
                    filled=jnp.zeros((capacity,), bool), pointer=jnp.int32(0))


def _check_kernel(kernel: str) -> None:
    if kernel not in KERNELS:
        raise ValueError(f"unknown DND kernel {kernel!r}; expected one of {KERNELS}")


def dnd_similarity(keys: jax.Array, query: jax.Array, kernel: Kernel = "cosine") -> jax.Array:
    """Similarity of ``query`` (K,) to every key (N, K): cosine, -L1 or -L2 distance (§3.5)."""
    _check_kernel(kernel)
    if kernel == "cosine":
        num = keys @ query
        den = jnp.linalg.norm(keys, axis=-1) * jnp.linalg.norm(query) + 1e-8
        return num / den
    if kernel == "l1":
        return -jnp.sum(jnp.abs(keys - query), -1)
    return -jnp.sqrt(jnp.sum(jnp.square(keys - query), -1) + 1e-12)


def dnd_read(state: DNDState, query: jax.Array, kernel: Kernel = "cosine", threshold: float = -jnp.inf,
             enabled: jax.Array | bool = True):
    """1-NN retrieval. Returns (value, found, best_similarity, index); value is zeros if not found.

    ``found`` is False when memory is empty, ``enabled`` is False, or the best similarity is
    <= ``threshold`` (§3.5). The returned value carries no gradient into memory.
    """
    if query.shape != state.keys.shape[-1:]:
        raise ValueError(f"query must have shape {state.keys.shape[-1:]}, got {query.shape}")
    sim = dnd_similarity(jax.lax.stop_gradient(state.keys), query, kernel)
    sim = jnp.where(state.filled, sim, -jnp.inf)
    idx = jnp.argmax(sim)
    best = sim[idx]
    found = jnp.logical_and(jnp.asarray(enabled), jnp.logical_and(state.filled[idx], best > threshold))
    value = jnp.where(found, jax.lax.stop_gradient(state.values[idx]), 0.0)
    return value, found, jnp.where(state.filled[idx], best, -jnp.inf), idx


def dnd_write(state: DNDState, key: jax.Array, value: jax.Array, kernel: Kernel = "cosine",
              replace_similar: bool = False, threshold: float = -jnp.inf,
              enabled: jax.Array | bool = True) -> DNDState:
    """Store (key, value), detached. Circular pointer; or overwrite the most similar key (§3.5).

    With ``replace_similar`` the slot of the most similar stored key is overwritten when its
    similarity is > ``threshold``; otherwise the entry goes to the pointer slot, which then
    advances (wrapping at capacity, overwriting the oldest entry). ``enabled=False`` is a no-op.
    """
    if key.shape != state.keys.shape[-1:] or value.shape != state.values.shape[-1:]:
        raise ValueError(f"key/value must have shapes {state.keys.shape[-1:]}/{state.values.shape[-1:]}, "
                         f"got {key.shape}/{value.shape}")
    key = jax.lax.stop_gradient(key).astype(jnp.float32)
    value = jax.lax.stop_gradient(value).astype(jnp.float32)
    enabled = jnp.asarray(enabled)
    if replace_similar:
        _, found, _, idx = dnd_read(state, key, kernel, threshold)
    else:
        found, idx = jnp.array(False), jnp.int32(0)
    slot = jnp.where(found, idx, state.pointer)
    advance = jnp.logical_and(enabled, ~found)
    keys = jnp.where(enabled, state.keys.at[slot].set(key), state.keys)
    values = jnp.where(enabled, state.values.at[slot].set(value), state.values)
    filled = jnp.where(enabled, state.filled.at[slot].set(True), state.filled)
    pointer = jnp.where(advance, (state.pointer + 1) % state.capacity, state.pointer).astype(jnp.int32)
    return DNDState(keys=keys, values=values, filled=filled, pointer=pointer)


def dnd_clear(state: DNDState, where: jax.Array | bool = True) -> DNDState:
    """Empty the memory (where True): filled mask off, pointer back to 0."""
    where = jnp.asarray(where)
    return state.replace(filled=jnp.where(where, False, state.filled),
                         pointer=jnp.where(where, 0, state.pointer).astype(jnp.int32))


# ---------------------------------------------------------------------------------------------
# epLSTM cell
# ---------------------------------------------------------------------------------------------
class EpLSTMCell(nn.Module):
    """LSTM with a reinstatement gate (§3.5). Carry (c, h) as in ``flax.linen.LSTMCell``."""

    features: int
    forget_bias: float = 1.0  # §3.5: recurrent forget bias initialised to 1

    @nn.compact
    def __call__(self, carry, inputs, memory):
        c, h = carry
        if memory.shape[-1] != self.features:
            raise ValueError(f"retrieved memory must have {self.features} features (the cell size), got {memory.shape}")
        dense_i = lambda name: nn.Dense(self.features, use_bias=False, name=name,  # noqa: E731
                                        kernel_init=nn.initializers.xavier_uniform())
        dense_h = lambda name, b=0.0: nn.Dense(self.features, use_bias=True, name=name,  # noqa: E731
                                               kernel_init=nn.initializers.orthogonal(),
                                               bias_init=nn.initializers.constant(b))
        i = nn.sigmoid(dense_i("ii")(inputs) + dense_h("hi")(h))
        f = nn.sigmoid(dense_i("if")(inputs) + dense_h("hf", self.forget_bias)(h))
        g = nn.tanh(dense_i("ig")(inputs) + dense_h("hg")(h))
        o = nn.sigmoid(dense_i("io")(inputs) + dense_h("ho")(h))
        r = nn.sigmoid(dense_i("ir")(inputs) + dense_h("hr")(h))  # reinstatement gate
        new_c = f * c + i * g + r * nn.tanh(memory)
        new_h = o * nn.tanh(new_c)
        self.sow("intermediates", "reinstatement_gate", r)
        return (new_c, new_h), new_h


# ---------------------------------------------------------------------------------------------
# Episodic actor-critic
# ---------------------------------------------------------------------------------------------
@struct.dataclass
class EpisodicCarry:
    lstm: tuple  # (c, h), each (B, hidden)
    memory: DNDState  # batched: keys (B, N, K) ...
    pending_key: jax.Array  # (B, K): key of the previous trial, stored with the next cell state


class EpisodicActorCritic(nn.Module):
    """DND + epLSTM actor-critic (§3.5 ``A2C_DND_LSTM``) with the shared trainer interface."""

    num_actions: int
    key_start: int
    key_stop: int
    hidden: int = 48
    capacity: int = 128
    kernel: str = "cosine"
    threshold: float = 0.99
    retrieval: bool = True  # False: the retrieval-off ablation (memory never reinstated)
    replace_similar: bool = False
    memory_scope: str = "episode"  # "episode" | "lifetime" (see module docstring)
    lstm_reset_index: int = -1  # obs feature that resets only the LSTM (-1: none)
    key_in_input: bool = False  # feed the context key to the LSTM as well

    def __post_init__(self):
        _check_kernel(self.kernel)
        if not 0 <= self.key_start < self.key_stop:
            raise ValueError(f"need 0 <= key_start < key_stop, got {self.key_start}, {self.key_stop}")
        if self.memory_scope not in ("episode", "lifetime"):
            raise ValueError(f"memory_scope must be 'episode' or 'lifetime', got {self.memory_scope!r}")
        if self.hidden <= 0 or self.num_actions <= 0 or self.capacity <= 0:
            raise ValueError("hidden, num_actions and capacity must be positive")
        super().__post_init__()

    @property
    def key_dim(self) -> int:
        return self.key_stop - self.key_start

    def initialize_carry(self, batch_size: int) -> EpisodicCarry:
        z = jnp.zeros((batch_size, self.hidden), jnp.float32)
        mem = jax.vmap(lambda _: dnd_init(self.capacity, self.key_dim, self.hidden))(jnp.arange(batch_size))
        return EpisodicCarry(lstm=(z, z), memory=mem, pending_key=jnp.zeros((batch_size, self.key_dim), jnp.float32))

    @nn.compact
    def __call__(self, carry: EpisodicCarry, obs, episode_start):
        if obs.shape[-1] < self.key_stop:
            raise ValueError(f"observation has {obs.shape[-1]} features, the key slice needs {self.key_stop}")
        episode_start = jnp.asarray(episode_start, bool)
        reset_lstm = episode_start
        if self.lstm_reset_index >= 0:
            reset_lstm = jnp.logical_or(reset_lstm, obs[..., self.lstm_reset_index] > 0.5)
        c, h = carry.lstm
        c = jnp.where(reset_lstm[:, None], 0.0, c)
        h = jnp.where(reset_lstm[:, None], 0.0, h)
        pending = jnp.where(episode_start[:, None], 0.0, carry.pending_key)
        memory = carry.memory
        if self.memory_scope == "episode":
            memory = jax.vmap(dnd_clear)(memory, episode_start)

        key = obs[..., self.key_start:self.key_stop]
        has_key = jnp.any(key != 0, -1)
        m, found, _, _ = jax.vmap(lambda s, q, e: dnd_read(s, q, self.kernel, self.threshold, e))(
            memory, key, jnp.logical_and(has_key, self.retrieval))
        x = obs if self.key_in_input else jnp.concatenate([obs[..., :self.key_start], obs[..., self.key_stop:]], -1)
        (c, h), out = EpLSTMCell(self.hidden, name="eplstm")((c, h), x, m)
        # store (previous trial's key -> current cell state): see module docstring
        has_pending = jnp.any(pending != 0, -1)
        memory = jax.vmap(lambda s, k, v, e: dnd_write(s, k, v, self.kernel, self.replace_similar, self.threshold, e))(
            memory, pending, c, has_pending)
        self.sow("intermediates", "retrieved", found)
        logits = nn.Dense(self.num_actions, kernel_init=nn.initializers.orthogonal(0.01), name="policy")(out)
        value = nn.Dense(1, kernel_init=nn.initializers.orthogonal(1.0), name="value")(out)[..., 0]
        new_carry = EpisodicCarry(lstm=(c, h), memory=memory, pending_key=jnp.where(has_key[:, None], key, 0.0))
        return new_carry, logits, value

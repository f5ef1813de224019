"""Recurrent actor-critic of Wang et al. 2018 (meta_rl.md §0, §9.2).

One step: observation -> encoder -> recurrent core (LSTM 48 by default, GRU, or the paper's
stacked LSTM) -> linear policy logits and linear value. The recurrent state is reset to zeros
at every episode (task) boundary, which is what makes the learned algorithm *within-episode*.

Interface shared by every agent the trainer accepts (also the episodic agent)::

    carry = net.initialize_carry(batch_size)            # no params needed
    carry, logits, value = net.apply(params, carry, obs, episode_start)

``episode_start[b]`` is True when ``obs[b]`` is the first observation of a new episode; the
module resets that row of the carry before using it.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from neurorl.agents.encoders import make_encoder

CORES = ("lstm", "gru", "stacked_lstm")


def reset_where(episode_start: jnp.ndarray, carry: Any) -> Any:
    """Zero the rows of every carry leaf whose episode starts now."""
    return jax.tree_util.tree_map(
        lambda c: jnp.where(episode_start.reshape(episode_start.shape + (1,) * (c.ndim - episode_start.ndim)), 0.0, c),
        carry,
    )


class RecurrentActorCritic(nn.Module):
    num_actions: int
    core: str = "lstm"
    hidden: int = 48
    encoder: str = "none"
    encoder_kwargs: tuple = ()  # tuple of (name, value) pairs, hashable for flax

    def __post_init__(self):
        if self.core not in CORES:
            raise ValueError(f"unknown core {self.core!r}; expected one of {CORES}")
        if self.hidden <= 0 or self.num_actions <= 0:
            raise ValueError("hidden and num_actions must be positive")
        super().__post_init__()

    def initialize_carry(self, batch_size: int):
        z = jnp.zeros((batch_size, self.hidden), jnp.float32)
        if self.core == "lstm":
            return (z, z)
        if self.core == "gru":
            return z
        return ((z, z), (z, z))

    @staticmethod
    def hidden_output(carry, core: str) -> jnp.ndarray:
        """The recurrent output h (what analyses of 'units coding action and reward' look at)."""
        if core == "lstm":
            return carry[1]
        if core == "gru":
            return carry
        return carry[1][1]

    @nn.compact
    def __call__(self, carry, obs, episode_start):
        carry = reset_where(episode_start, carry)
        features, vector = make_encoder(self.encoder, **dict(self.encoder_kwargs))(obs)
        if self.core == "lstm":
            carry, h = nn.OptimizedLSTMCell(self.hidden, name="lstm")(carry, jnp.concatenate([features, vector], -1))
        elif self.core == "gru":
            carry, h = nn.GRUCell(self.hidden, name="gru")(carry, jnp.concatenate([features, vector], -1))
        else:
            # Stacked LSTM (meta_rl.md §1.2, after Mirowski et al. 2016): LSTM1 reads features and
            # the reward/action vector; LSTM2 reads features, LSTM1's output and the vector.
            c1, c2 = carry
            c1, h1 = nn.OptimizedLSTMCell(self.hidden, name="lstm1")(c1, jnp.concatenate([features, vector], -1))
            c2, h = nn.OptimizedLSTMCell(self.hidden, name="lstm2")(c2, jnp.concatenate([features, h1, vector], -1))
            carry = (c1, c2)
        logits = nn.Dense(self.num_actions, kernel_init=nn.initializers.orthogonal(0.01), name="policy")(h)
        value = nn.Dense(1, kernel_init=nn.initializers.orthogonal(1.0), name="value")(h)[..., 0]
        return carry, logits, value

"""epLSTM reduces to an LSTM when the reinstatement gate is closed; episodic actor-critic interface."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from neurorl.agents.episodic import EpisodicActorCritic, EpLSTMCell


def _lstm_and_ep_params(key, features=8, in_dim=5):
    x = jnp.ones((2, in_dim))
    z = jnp.zeros((2, features))
    lstm = nn.LSTMCell(features)
    lp = lstm.init(key, (z, z), x)["params"]
    ep = EpLSTMCell(features)
    epp = ep.init(jax.random.PRNGKey(9), (z, z), x, z)["params"]
    epp = {**epp, **lp}  # same LSTM weights; the reinstatement gate keeps its own
    return lstm, lp, ep, epp


def test_gate_closed_is_exactly_lstm():
    lstm, lp, ep, epp = _lstm_and_ep_params(jax.random.PRNGKey(0))
    k = jax.random.split(jax.random.PRNGKey(1), 3)
    x = jax.random.normal(k[0], (2, 5))
    c = jax.random.normal(k[1], (2, 8))
    h = jax.random.normal(k[2], (2, 8))
    mem = jax.random.normal(k[0], (2, 8)) * 3
    (c_ref, h_ref), _ = lstm.apply({"params": lp}, (c, h), x)
    closed = {**epp, "hr": {**epp["hr"], "bias": jnp.full((8,), -1e4)}}  # r_t = sigmoid(-1e4) = 0
    (c_ep, h_ep), _ = ep.apply({"params": closed}, (c, h), x, mem)
    np.testing.assert_allclose(c_ep, c_ref, atol=1e-6)
    np.testing.assert_allclose(h_ep, h_ref, atol=1e-6)
    (c0, h0), _ = ep.apply({"params": epp}, (c, h), x, jnp.zeros((2, 8)))  # empty memory: also an LSTM
    np.testing.assert_allclose(c0, c_ref, atol=1e-6)
    # open gate with a memory: the cell state moves by r * tanh(m)
    (c_open, _), _ = ep.apply({"params": epp}, (c, h), x, mem)
    assert np.abs(np.asarray(c_open - c_ref)).max() > 0.1


def test_episodic_actor_critic_reinstates_within_episode():
    # obs = [key (4) | other (2)]; a repeated key must retrieve the cell state stored after its trial
    net = EpisodicActorCritic(num_actions=2, key_start=0, key_stop=4, hidden=6, capacity=8)
    carry = net.initialize_carry(3)
    obs = jnp.zeros((3, 6))
    params = net.init(jax.random.PRNGKey(0), carry, obs, jnp.ones(3, bool))
    apply = jax.jit(lambda p, c, o, s: net.apply(p, c, o, s, mutable=["intermediates"]))
    keys = jnp.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0]], jnp.float32)
    start = jnp.array([True, False, False, False])
    found = []
    for t in range(4):
        o = jnp.concatenate([jnp.broadcast_to(keys[t], (3, 4)), jnp.ones((3, 2)) * t], -1)
        (carry, logits, value), st = apply(params, carry, o, jnp.broadcast_to(start[t], (3,)))
        found.append(np.asarray(st["intermediates"]["retrieved"][0]))
        assert logits.shape == (3, 2) and value.shape == (3,)
    assert [f.all() for f in found] == [False, False, False, True]
    assert np.all(np.asarray(carry.memory.filled.sum(-1)) == 3)
    # a new episode clears the memory (memory_scope="episode") and the LSTM
    o = jnp.concatenate([jnp.broadcast_to(keys[0], (3, 4)), jnp.zeros((3, 2))], -1)
    (carry2, _, _), st = apply(params, carry, o, jnp.ones(3, bool))
    assert not np.asarray(st["intermediates"]["retrieved"][0]).any()
    # retrieval-off ablation: same params, never reinstates
    off = net.clone(retrieval=False)
    (_, _, _), st = off.apply(params, carry, o, jnp.zeros(3, bool), mutable=["intermediates"])
    assert not np.asarray(st["intermediates"]["retrieved"][0]).any()


def test_bad_config_raises():
    with pytest.raises(ValueError):
        EpisodicActorCritic(num_actions=2, key_start=3, key_stop=3)
    with pytest.raises(ValueError):
        EpisodicActorCritic(num_actions=2, key_start=0, key_stop=3, kernel="dot")

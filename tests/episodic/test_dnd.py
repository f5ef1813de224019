"""DND: capacity wrap, kernels, threshold, replace-most-similar, no gradient into memory, vmap/scan."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from neurorl.agents.episodic import dnd_clear, dnd_init, dnd_read, dnd_similarity, dnd_write


def _write_all(state, keys, values, **kw):
    for k, v in zip(keys, values):
        state = dnd_write(state, jnp.asarray(k, jnp.float32), jnp.asarray(v, jnp.float32), **kw)
    return state


def test_capacity_wraps_circularly():
    s = dnd_init(3, 2, 1)
    keys = [[1, 0], [0, 1], [1, 1], [-1, 0]]
    s = _write_all(s, keys, [[10], [20], [30], [40]])
    assert int(s.pointer) == 1 and bool(s.filled.all())
    np.testing.assert_array_equal(np.asarray(s.values)[:, 0], [40, 20, 30])  # oldest (10) overwritten
    v, found, _, _ = dnd_read(s, jnp.array([1.0, 0.0]))  # its key is gone: nearest by cosine is [1,1]
    assert bool(found) and float(v[0]) == 30


@pytest.mark.parametrize("kernel", ["cosine", "l1", "l2"])
def test_kernels_retrieve_nearest(kernel):
    s = _write_all(dnd_init(8, 3, 2), [[1, 0, 0], [0, 2, 0], [0, 0, 3]], [[1, 1], [2, 2], [3, 3]], kernel=kernel)
    v, found, sim, idx = dnd_read(s, jnp.array([0.1, 1.9, 0.0]), kernel=kernel)
    assert bool(found) and int(idx) == 1 and np.allclose(v, [2, 2])


def test_kernel_values():
    keys = jnp.array([[3.0, 4.0], [0.0, 1.0]])
    q = jnp.array([3.0, 0.0])
    np.testing.assert_allclose(dnd_similarity(keys, q, "cosine"), [0.6, 0.0], atol=1e-6)
    np.testing.assert_allclose(dnd_similarity(keys, q, "l1"), [-4.0, -4.0], atol=1e-6)
    np.testing.assert_allclose(dnd_similarity(keys, q, "l2"), [-4.0, -np.sqrt(10)], atol=1e-5)
    with pytest.raises(ValueError):
        dnd_similarity(keys, q, "dot")


def test_threshold_and_empty_and_disabled():
    s = dnd_init(4, 2, 1)
    v, found, _, _ = dnd_read(s, jnp.array([1.0, 0.0]))
    assert not bool(found) and float(v[0]) == 0  # empty memory -> zeros
    s = dnd_write(s, jnp.array([1.0, 0.0]), jnp.array([5.0]))
    q = jnp.array([1.0, 1.0])  # cosine 0.707
    assert bool(dnd_read(s, q, threshold=0.7)[1])
    v, found, _, _ = dnd_read(s, q, threshold=0.75)
    assert not bool(found) and float(v[0]) == 0
    assert not bool(dnd_read(s, jnp.array([1.0, 0.0]), enabled=False)[1])  # retrieval off
    s2 = dnd_write(s, jnp.array([0.0, 1.0]), jnp.array([7.0]), enabled=False)  # write off: unchanged
    assert int(s2.pointer) == 1 and int(s2.filled.sum()) == 1
    assert int(dnd_clear(s).filled.sum()) == 0


def test_replace_most_similar():
    s = dnd_init(4, 2, 1)
    kw = dict(replace_similar=True, threshold=0.9)
    s = _write_all(s, [[1, 0], [0, 1], [1, 0.05]], [[1], [2], [3]], **kw)  # third is ~[1,0]: replaces slot 0
    assert int(s.filled.sum()) == 2 and int(s.pointer) == 2
    np.testing.assert_array_equal(np.asarray(s.values)[:2, 0], [3, 2])


def test_no_gradient_into_memory():
    def loss(value_written, query):
        s = dnd_write(dnd_init(4, 2, 3), jnp.array([1.0, 0.0]), value_written)
        v, _, _, _ = dnd_read(s, query)
        return jnp.sum(v ** 2)

    g_val, g_q = jax.grad(loss, argnums=(0, 1))(jnp.ones(3), jnp.array([1.0, 0.1]))
    assert np.all(np.asarray(g_val) == 0) and np.all(np.asarray(g_q) == 0)
    # the read itself returns the stored numbers
    assert float(loss(jnp.ones(3), jnp.array([1.0, 0.1]))) == 3.0


def test_vmap_inside_scan():
    B, T = 4, 6
    s = jax.vmap(lambda _: dnd_init(3, 2, 1))(jnp.arange(B))

    def body(s, t):
        k = jnp.stack([jnp.cos(t + jnp.arange(B)), jnp.sin(t + jnp.arange(B))], -1)
        s = jax.vmap(dnd_write)(s, k, jnp.full((B, 1), t, jnp.float32))
        v, f, _, _ = jax.vmap(dnd_read)(s, k)
        return s, v[:, 0]

    s, vs = jax.jit(lambda s: jax.lax.scan(body, s, jnp.arange(T, dtype=jnp.float32)))(s)
    np.testing.assert_array_equal(np.asarray(vs), np.repeat(np.arange(T)[:, None], B, 1))  # reads own write
    assert np.all(np.asarray(s.pointer) == T % 3)


def test_bad_shapes_raise():
    s = dnd_init(4, 2, 1)
    with pytest.raises(ValueError):
        dnd_read(s, jnp.zeros(3))
    with pytest.raises(ValueError):
        dnd_write(s, jnp.zeros(2), jnp.zeros(2))
    with pytest.raises(ValueError):
        dnd_init(0, 2, 1)

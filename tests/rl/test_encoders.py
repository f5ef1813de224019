"""Observation encoders: the patch encoder is a strided convolution, computed as a matrix product."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import flax.linen as nn

from neurorl.agents.encoders import PatchConvEncoder, make_encoder


def test_patchconv_equals_strided_conv_with_the_same_weights():
    """Each patch layer must equal nn.Conv(c, (k, k), strides=(k, k), padding='VALID') given the same
    kernel: Dense's kernel [k*k*C_in, C_out] reshaped to [k, k, C_in, C_out] is the conv kernel."""
    obs = {"image": jax.random.uniform(jax.random.PRNGKey(0), (5, 32, 32, 3)), "vector": jnp.zeros((5, 3))}
    enc = PatchConvEncoder()
    params = enc.init(jax.random.PRNGKey(1), obs)
    feats, vector = enc.apply(params, obs)
    assert feats.shape == (5, 128) and vector.shape == (5, 3)

    class Strided(nn.Module):
        @nn.compact
        def __call__(self, x):
            for i, (k, c) in enumerate(zip((4, 2), (16, 32))):
                x = nn.relu(nn.Conv(c, (k, k), strides=(k, k), padding="VALID", name=f"conv_{i}")(x))
            return nn.relu(nn.Dense(128, name="dense")(x.reshape(x.shape[0], -1)))

    p = params["params"]
    conv_params = {"params": {
        "conv_0": {"kernel": p["patch_0"]["kernel"].reshape(4, 4, 3, 16), "bias": p["patch_0"]["bias"]},
        "conv_1": {"kernel": p["patch_1"]["kernel"].reshape(2, 2, 16, 32), "bias": p["patch_1"]["bias"]},
        "dense": p["dense"]}}
    ref = Strided().apply(conv_params, obs["image"])
    np.testing.assert_allclose(np.asarray(feats), np.asarray(ref), rtol=1e-4, atol=1e-5)


def test_patchconv_keeps_leading_axes_and_rejects_bad_sizes():
    enc = make_encoder("patchconv")
    obs = {"image": jnp.zeros((2, 3, 32, 32, 3)), "vector": jnp.zeros((2, 3, 3))}
    params = enc.init(jax.random.PRNGKey(0), obs)
    assert enc.apply(params, obs)[0].shape == (2, 3, 128)
    with pytest.raises(ValueError, match="does not split into 4x4 patches"):
        enc.init(jax.random.PRNGKey(0), {"image": jnp.zeros((1, 30, 30, 3)), "vector": jnp.zeros((1, 3))})
    with pytest.raises(ValueError, match="needs dict observations"):
        enc.init(jax.random.PRNGKey(0), jnp.zeros((1, 3)))
    with pytest.raises(ValueError, match="unknown encoder"):
        make_encoder("vit")

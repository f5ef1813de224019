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


def _decision_screens():
    """The pixel Harlow view right after fixation (gaze 0, both images shown), with the rewarded image on
    the left and then on the right: the same two images, sides swapped."""
    from neurorl.envs.harlow_visual import HarlowVisual

    env = HarlowVisual(32)
    p = env.default_params
    _, state = env.reset(jax.random.PRNGKey(0), p)
    state = state.replace(phase=jnp.int32(1), gaze=jnp.int32(0))
    return [env.get_obs(state.replace(rewarded_left=jnp.bool_(side)), p) for side in (True, False)]


@pytest.mark.parametrize("options", [{}, {"side_code": 0, "patches": (2, 1), "channels": (32, 16)}])
def test_halves_encoder_codes_an_image_the_same_on_either_side(options):
    """Swapping the two images swaps the left and right halves of the code exactly (the images sit at
    different offsets from the screen centre, but at the same phase of the 2x2 patch grid), and the two
    images themselves get different codes."""
    left, right = _decision_screens()
    enc = make_encoder("halves", **options)
    params = enc.init(jax.random.PRNGKey(1), left)
    a, _ = enc.apply(params, left)
    b, _ = enc.apply(params, right)
    h = a.shape[-1] // 2
    assert a.shape == (2 * (2 * 16 if options else 8),)  # per side: mean + max of 16 channels, or the 8-number code
    np.testing.assert_allclose(np.asarray(a[:h]), np.asarray(b[h:]), atol=1e-6)
    np.testing.assert_allclose(np.asarray(a[h:]), np.asarray(b[:h]), atol=1e-6)
    assert float(jnp.abs(a[:h] - a[h:]).max()) > 1e-2


def test_halves_encoder_keeps_leading_axes_and_rejects_odd_maps():
    enc = make_encoder("halves", side_code=4)
    obs = {"image": jnp.zeros((2, 3, 32, 32, 3)), "vector": jnp.zeros((2, 3, 3))}
    params = enc.init(jax.random.PRNGKey(0), obs)
    feats, vector = enc.apply(params, obs)
    assert feats.shape == (2, 3, 8) and vector.shape == (2, 3, 3)
    with pytest.raises(ValueError, match="odd width"):
        make_encoder("halves", patches=(2, 1), channels=(8, 8)).init(jax.random.PRNGKey(0), {"image": jnp.zeros((1, 32, 34, 3)),
                                                                           "vector": jnp.zeros((1, 3))})


def test_encoder_options_are_parsed_and_checked():
    from neurorl.rl.config import AgentConfig, TrainConfig
    from neurorl.utils.config import ConfigError

    agent = AgentConfig(encoder="halves", encoder_options='{"side_code": 8, "patches": [2]}')
    assert agent.encoder_kwargs() == (("patches", (2,)), ("side_code", 8))
    for bad in ("[8]", "{side_code: 8}"):
        with pytest.raises(ConfigError, match="encoder_options must be a JSON object"):
            TrainConfig(agent=AgentConfig(encoder_options=bad)).validate()
    with pytest.raises(ValueError, match=r"encoder 'halves' has no option\(s\) \['sidecode'\]"):
        make_encoder("halves", sidecode=8)

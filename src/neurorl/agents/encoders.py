"""Observation encoders placed in front of the recurrent core.

Observations are either a flat float vector or a dict ``{"image": (H, W, C), "vector": (D,)}``
(pixel tasks; the vector holds previous action and reward). Every encoder returns
``(features, vector)``: ``features`` go through the encoder, ``vector`` (previous action, reward,
time) is passed through untouched so the recurrent core always sees it, as in Wang et al. 2018
(meta_rl.md §1.2: features + reward + previous action feed the LSTM).
"""

from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp


def split_observation(obs):
    if isinstance(obs, dict):
        return obs.get("image"), obs["vector"]
    return None, obs


class Identity(nn.Module):
    @nn.compact
    def __call__(self, obs):
        image, vector = split_observation(obs)
        if image is not None:
            raise ValueError("the 'none' encoder takes flat vector observations; use encoder='conv' for images")
        return jnp.zeros(vector.shape[:-1] + (0,), vector.dtype), vector


class MLPEncoder(nn.Module):
    """MLP on the whole flat observation (BKHMSI Harlow-1D: 9 -> 64 -> 128, meta_rl.md §3.2)."""

    features: Sequence[int] = (64, 128)

    @nn.compact
    def __call__(self, obs):
        image, vector = split_observation(obs)
        x = vector if image is None else jnp.concatenate([image.reshape(image.shape[:-3] + (-1,)), vector], -1)
        for i, f in enumerate(self.features):
            x = nn.relu(nn.Dense(f, name=f"dense_{i}")(x))
        return x, vector


def _flat_images(obs, encoder: str):
    """(images [N, H, W, C] with all leading axes flattened, vector, the leading axes) of a dict observation."""
    image, vector = split_observation(obs)
    if image is None:
        raise ValueError(f"the {encoder} encoder needs dict observations with an 'image' entry")
    return image.reshape((-1,) + image.shape[-3:]), vector, image.shape[:-3]


class ConvEncoder(nn.Module):
    """Small conv net for RGB screens (Harlow visual), then a dense layer (meta_rl.md §1.2: conv encoder)."""

    channels: Sequence[int] = (16, 32, 32)
    kernel: int = 3
    dense: int = 128

    @nn.compact
    def __call__(self, obs):
        x, vector, batch_shape = _flat_images(obs, "conv")
        for i, c in enumerate(self.channels):
            x = nn.relu(nn.Conv(c, (self.kernel, self.kernel), strides=(2, 2), name=f"conv_{i}")(x))
        x = x.reshape(x.shape[0], -1)
        x = nn.relu(nn.Dense(self.dense, name="dense")(x))
        return x.reshape(batch_shape + (self.dense,)), vector


class PatchConvEncoder(nn.Module):
    """Convolutions whose stride equals their kernel (non-overlapping patches), written as reshape +
    matrix product: the same function as ``nn.Conv(c, (k, k), strides=(k, k), padding="VALID")``, but
    XLA's CPU backend runs matrix products several times faster than its convolutions, forward and
    backward. Default: 4x4 patches -> 16 channels, 2x2 -> 32, dense 128 (a 32x32 screen becomes a 4x4x32
    map; the left/right layout of the Harlow display survives in the map's columns)."""

    patches: Sequence[int] = (4, 2)
    channels: Sequence[int] = (16, 32)
    dense: int = 128

    @nn.compact
    def __call__(self, obs):
        x, vector, batch_shape = _flat_images(obs, "patchconv")
        for i, (k, c) in enumerate(zip(self.patches, self.channels)):
            n, h, w, ch = x.shape
            if h % k or w % k:
                raise ValueError(f"patchconv layer {i}: a {h}x{w} map does not split into {k}x{k} patches")
            x = x.reshape(n, h // k, k, w // k, k, ch).transpose(0, 1, 3, 2, 4, 5).reshape(n, h // k, w // k, k * k * ch)
            x = nn.relu(nn.Dense(c, name=f"patch_{i}")(x))
        x = nn.relu(nn.Dense(self.dense, name="dense")(x.reshape(x.shape[0], -1)))
        return x.reshape(batch_shape + (self.dense,)), vector


def make_encoder(name: str, **kwargs) -> nn.Module:
    encoders = {"none": Identity, "mlp": MLPEncoder, "conv": ConvEncoder, "patchconv": PatchConvEncoder}
    if name not in encoders:
        raise ValueError(f"unknown encoder {name!r}; expected one of {sorted(encoders)}")
    return encoders[name](**kwargs)

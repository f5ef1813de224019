"""Observation encoders placed in front of the recurrent core.

Observations are either a flat float vector or a dict ``{"image": (H, W, C), "vector": (D,)}``
(pixel tasks; the vector holds previous action and reward). Every encoder returns
``(features, vector)``: ``features`` go through the encoder, ``vector`` (previous action, reward,
time) is passed through untouched so the recurrent core always sees it, as in Wang et al. 2018
(meta_rl.md §1.2: features + reward + previous action feed the LSTM).
"""

from __future__ import annotations

import dataclasses
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


def _patch_layers(x, patches: Sequence[int], channels: Sequence[int], encoder: str):
    """Stride-equals-kernel convolutions as reshape + matrix product (see PatchConvEncoder), ReLU after each."""
    for i, (k, c) in enumerate(zip(patches, channels)):
        n, h, w, ch = x.shape
        if h % k or w % k:
            raise ValueError(f"{encoder} layer {i}: a {h}x{w} map does not split into {k}x{k} patches")
        x = x.reshape(n, h // k, k, w // k, k, ch).transpose(0, 1, 3, 2, 4, 5).reshape(n, h // k, w // k, k * k * ch)
        x = nn.relu(nn.Dense(c, name=f"patch_{i}")(x))
    return x


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
        x = _patch_layers(x, self.patches, self.channels, "patchconv")
        x = nn.relu(nn.Dense(self.dense, name="dense")(x.reshape(x.shape[0], -1)))
        return x.reshape(batch_shape + (self.dense,)), vector


class HalvesEncoder(nn.Module):
    """Convolutional features pooled within the left and the right half of the view.

    The same patch convolutions as ``patchconv`` (default one layer, 2x2/2 -> 32 channels), but instead of
    flattening the map into a dense layer, each channel is averaged and max-pooled over the map's left
    columns and over its right columns, and each side's pooled vector goes through one shared linear
    projection to ``side_code`` numbers (default 8): ``[code_L, code_R]``. An object therefore has nearly
    the same code wherever it sits inside a half (exactly the same for shifts by whole patches; the Harlow
    images sit at different offsets from the screen centre and move 3 pixels per saccade), and the two
    halves share one code book, so the recurrent core can compare "the image on my left" with a remembered
    image directly. Which half holds what is kept, which is all the choice (a saccade left or right) needs.
    Why: with flattened features the pixel agent stayed at chance for 8 M steps (docs/harlow.md, "Pixel
    version")."""

    patches: Sequence[int] = (2,)
    channels: Sequence[int] = (32,)
    side_code: int = 8  # > 0: project each side's pooled vector to this many numbers (one projection, shared)
    dense: int = 0  # > 0: a ReLU dense layer on the pooled code

    @nn.compact
    def __call__(self, obs):
        x, vector, batch_shape = _flat_images(obs, "halves")
        x = _patch_layers(x, self.patches, self.channels, "halves")
        if x.shape[2] % 2:
            raise ValueError(f"halves: the feature map has an odd width {x.shape[2]}; it must split into two halves")
        half = x.shape[2] // 2
        sides = [x[:, :, :half], x[:, :, half:]]
        pooled = [jnp.concatenate([jnp.mean(s, axis=(1, 2)), jnp.max(s, axis=(1, 2))], -1) for s in sides]
        if self.side_code:
            project = nn.Dense(self.side_code, name="side_code")  # one module: the same projection on both sides
            pooled = [project(v) for v in pooled]
        x = jnp.concatenate(pooled, -1)
        if self.dense:
            x = nn.relu(nn.Dense(self.dense, name="dense")(x))
        return x.reshape(batch_shape + (x.shape[-1],)), vector


def make_encoder(name: str, **kwargs) -> nn.Module:
    encoders = {"none": Identity, "mlp": MLPEncoder, "conv": ConvEncoder, "patchconv": PatchConvEncoder,
                "halves": HalvesEncoder}
    if name not in encoders:
        raise ValueError(f"unknown encoder {name!r}; expected one of {sorted(encoders)}")
    allowed = {f.name for f in dataclasses.fields(encoders[name])} - {"parent", "name"}
    unknown = sorted(set(kwargs) - allowed)
    if unknown:
        raise ValueError(f"encoder {name!r} has no option(s) {unknown}; its options are {sorted(allowed)}")
    return encoders[name](**kwargs)

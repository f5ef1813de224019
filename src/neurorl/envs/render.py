"""Frame helpers shared by the task renderers: deterministic colours, upscaling, GIF/MP4 export.

GIF export uses Pillow (always installed). MP4 export needs an ffmpeg binary on PATH (through
matplotlib's writer); without one ``save_episode`` raises a clear error and GIF remains available.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np


def object_colour(obj_id: int) -> tuple[int, int, int]:
    """A bright colour derived from an object id (stable across runs and machines)."""
    h = hashlib.sha256(f"harlow-object-{int(obj_id)}".encode()).digest()
    rgb = np.frombuffer(h[:3], np.uint8).astype(int)
    rgb = 60 + (rgb * 195) // 255  # keep away from the black background
    return int(rgb[0]), int(rgb[1]), int(rgb[2])


def to_uint8(image) -> np.ndarray:
    """float [0,1] or uint8 (H,W,3) -> uint8 (H,W,3)."""
    a = np.asarray(image)
    if a.ndim != 3 or a.shape[-1] != 3:
        raise ValueError(f"expected an (H, W, 3) image, got shape {a.shape}")
    if a.dtype == np.uint8:
        return a
    if not np.all(np.isfinite(a)):
        raise ValueError("image contains NaN or inf")
    return (np.clip(a, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def upscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscaling by an integer factor."""
    if factor < 1:
        raise ValueError(f"upscale factor must be >= 1, got {factor}")
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def hstack_frames(frames: Sequence[np.ndarray], gap: int = 4, fill: int = 0) -> np.ndarray:
    """Place frames side by side (padding heights to the tallest)."""
    h = max(f.shape[0] for f in frames)
    parts = []
    for i, f in enumerate(frames):
        pad = np.full((h - f.shape[0], f.shape[1], 3), fill, np.uint8)
        parts.append(np.concatenate([f, pad], axis=0))
        if i < len(frames) - 1:
            parts.append(np.full((h, gap, 3), fill, np.uint8))
    return np.concatenate(parts, axis=1)


def save_episode(frames: Iterable[np.ndarray], path: str | Path, fps: int = 8) -> Path:
    """Write frames (uint8 (H,W,3)) as an animated GIF (``.gif``) or MP4 (``.mp4``, needs ffmpeg)."""
    path = Path(path)
    frames = [to_uint8(f) for f in frames]
    if not frames:
        raise ValueError("no frames to save")
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    tmp = path.with_name(path.name + ".tmp" + suffix)
    if suffix == ".gif":
        from PIL import Image

        imgs = [Image.fromarray(f) for f in frames]
        imgs[0].save(tmp, save_all=True, append_images=imgs[1:], duration=int(1000 / fps), loop=0, format="GIF")
    elif suffix == ".mp4":
        if not mp4_available():
            raise RuntimeError("MP4 export needs an ffmpeg binary on PATH; none found. Save a .gif instead.")
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.animation as animation
        import matplotlib.pyplot as plt

        h, w = frames[0].shape[:2]
        fig = plt.figure(figsize=(w / 100, h / 100), dpi=100)
        ax = fig.add_axes([0, 0, 1, 1])
        ax.axis("off")
        im = ax.imshow(frames[0])
        writer = animation.FFMpegWriter(fps=fps)
        with writer.saving(fig, str(tmp), dpi=100):
            for f in frames:
                im.set_data(f)
                writer.grab_frame()
        plt.close(fig)
    else:
        raise ValueError(f"unknown animation format {suffix!r}; expected .gif or .mp4")
    tmp.replace(path)
    return path


def mp4_available() -> bool:
    return shutil.which("ffmpeg") is not None

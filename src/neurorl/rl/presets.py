"""Named training presets (``neurorl train NAME``). Task modules register theirs on import."""

from __future__ import annotations

from neurorl.rl.config import TrainConfig

PRESETS: dict[str, TrainConfig] = {}


def register_preset(cfg: TrainConfig) -> TrainConfig:
    cfg.validate()
    PRESETS[cfg.name] = cfg
    return cfg


def get_preset(name: str) -> TrainConfig:
    from neurorl.experiments import load_all

    load_all()
    if name not in PRESETS:
        raise KeyError(f"unknown preset {name!r}; available: {', '.join(sorted(PRESETS)) or '(none)'}")
    return PRESETS[name]

"""Named reproductions. Each module registers its CLI commands, plotters and evaluators on import.

Add a module here to make its commands appear in ``neurorl``.
"""

from __future__ import annotations

import importlib

MODULES = [
    "neurorl.experiments.bandits",
    "neurorl.experiments.sweep_cli",
    "neurorl.experiments.serve",
    "neurorl.experiments.two_step",
    "neurorl.experiments.follow",
    "neurorl.experiments.harlow",
    "neurorl.experiments.play_bandit",
    "neurorl.experiments.hippocampus",
    # one line per subsystem
]


def load_all() -> None:
    for name in MODULES:
        importlib.import_module(name)

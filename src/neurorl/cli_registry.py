"""Typer apps and registries that subsystems plug into, so ``cli.py`` needs no edits per subsystem.

- ``reproduce_app``: ``@reproduce_app.command("name")`` adds ``neurorl reproduce name``.
- ``play_app``: ``@play_app.command("bandit")`` adds ``neurorl play bandit``.
- ``plotter("experiment")``: a function ``(run_dir: Path) -> list[Path]`` that redraws every
  figure of a finished run of that experiment from its saved data (``neurorl plot RUN_DIR``).
- ``agent_evaluator("family")``: ``(checkpoint_tree, meta, episodes, seed, greedy) -> dict`` used
  by ``neurorl eval NAME`` for agents of that task family.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import typer

app = typer.Typer(
    name="neurorl",
    help="neurorl: meta-RL, episodic meta-RL, a hippocampus model and FOLLOW spiking networks, reproduced fast in JAX.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
reproduce_app = typer.Typer(help="Run a named reproduction: figures, a report and a table beside the published numbers.", no_args_is_help=True)
play_app = typer.Typer(help="Play a task yourself in the terminal.", no_args_is_help=True)

PLOTTERS: dict[str, Callable[[Path], list[Path]]] = {}
AGENT_EVALUATORS: dict[str, Callable[..., dict]] = {}


def plotter(experiment: str):
    def deco(fn):
        PLOTTERS[experiment] = fn
        return fn

    return deco


def agent_evaluator(family: str):
    def deco(fn):
        AGENT_EVALUATORS[family] = fn
        return fn

    return deco

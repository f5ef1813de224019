"""Bandit figures (meta_rl.md §2.6, §9.5): action raster, cumulative regret, train x test regret matrix."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neurorl.analysis.common import plt, save_figure

BASELINE_STYLE = {
    "bayes_optimal": ("Bayes-optimal", "k", "--"),
    "gittins": ("Gittins", "tab:purple", ":"),
    "thompson": ("Thompson", "tab:green", "-."),
    "ucb1": ("UCB1", "tab:orange", ":"),
    "random": ("random", "tab:gray", "-"),
}


def plot_action_raster(actions: np.ndarray, p1: np.ndarray, out_dir: Path, *, title: str) -> list[Path]:
    """Episodes ordered by arm-1 probability (rows, p1 = 0 ... 1) x trials, coloured by the chosen arm.

    The figure of the original project's eval notebook (meta_rl.md §2.6), arms (p1, 1 - p1).
    """
    fig, ax = plt.subplots(figsize=(6, 4.2))
    from matplotlib.colors import ListedColormap

    ax.imshow(actions, aspect="auto", interpolation="nearest", cmap=ListedColormap(["tab:blue", "tab:orange"]),
              origin="lower", vmin=0, vmax=1)
    ticks = [0, len(p1) // 2, len(p1) - 1]
    ax.set_yticks(ticks)
    ax.set_yticklabels([f"Arm 1 {100 * p1[i]:.0f}%, Arm 2 {100 * (1 - p1[i]):.0f}%" for i in ticks], fontsize=7)
    ax.set_xlabel("trial")
    ax.set_title(title + "  (blue: arm 1, orange: arm 2)", fontsize=9)
    return save_figure(fig, out_dir, "action_raster")


def plot_cumulative_regret(curves: dict[str, np.ndarray], out_dir: Path, *, title: str) -> list[Path]:
    """Mean cumulative regret vs trial for the agent and every baseline (same episodes)."""
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for name, c in curves.items():
        label, color, ls = BASELINE_STYLE.get(name, (name, "tab:red", "-"))
        lw = 2.2 if name not in BASELINE_STYLE else 1.2
        ax.plot(np.arange(1, len(c) + 1), c, color=color, ls=ls, lw=lw, label=f"{label} ({c[-1]:.2f})")
    ax.set_xlabel("trial")
    ax.set_ylabel("cumulative regret")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    return save_figure(fig, out_dir, "cumulative_regret")


def plot_regret_matrix(matrix: np.ndarray, names: list[str], out_dir: Path, *, bayes: np.ndarray | None = None) -> list[Path]:
    """L2RL Fig 2f: cumulative regret of agents trained on one condition (rows) tested on each (columns)."""
    fig, ax = plt.subplots(figsize=(4.6, 3.8))
    im = ax.imshow(matrix, cmap="viridis")
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            txt = f"{matrix[i, j]:.2f}"
            ax.text(j, i, txt, ha="center", va="center", color="w" if matrix[i, j] > matrix.mean() else "k", fontsize=9)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names)
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names)
    ax.set_xlabel("tested on")
    ax.set_ylabel("trained on")
    sub = "" if bayes is None else "  Bayes-opt: " + ", ".join(f"{b:.2f}" for b in bayes)
    ax.set_title("cumulative regret (100 trials)" + sub, fontsize=8)
    fig.colorbar(im, ax=ax, shrink=0.8)
    return save_figure(fig, out_dir, "regret_matrix")

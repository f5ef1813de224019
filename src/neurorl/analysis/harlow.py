"""Harlow analyses and figures: % correct per trial (1-6) by training quantile beside the published
curves (Nature Fig 6c; BKHMSI plot.py), training curve, episode animation.

Published values are figure readings (meta_rl.md §1.1 and §3.4, about +-2 points).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neurorl.analysis.common import plt, read_csv, save_figure

N_TRIALS = 6

# meta_rl.md §1.1, Nature Fig 6c [fig]: "Final" and "6th" quantiles; 1st is flat below 50 % after trial 1.
PUBLISHED_PAPER = {
    "Final": [53.0, 97.0, 98.5, 98.5, 98.5, 98.5],
    "6th": [np.nan, 91.0, 96.0, 96.0, 96.0, 96.0],
    "1st": [47.5, 45.0, 45.0, 45.0, 45.0, 45.0],
}
# meta_rl.md §3.4, BKHMSI assets/harlow_perf_final.png (final LSTM, 8 seeds) [fig]
PUBLISHED_BKHMSI = {
    "Final": [50.0, 94.0, 94.5, 94.5, 94.5, 94.5],
    "4th": [np.nan, 89.0, 90.0, 90.0, 90.0, 90.0],
    "3rd": [np.nan, 78.0, 80.0, 80.0, 80.0, 80.0],
    "2nd": [np.nan, 58.0, 60.5, 60.5, 60.5, 60.5],
    "1st": [np.nan, 50.5, 50.5, 50.5, 50.5, 50.5],
}


def per_trial_accuracy(info: dict, alive: np.ndarray, n_trials: int = N_TRIALS) -> np.ndarray:
    """Fraction of episodes whose k-th trial was answered correctly, k = 1..n_trials (shape (n_trials,)).

    Arrays are (episodes, steps). As in BKHMSI's ``reward_counter`` (meta_rl.md §3.1, §3.4), a trial
    the episode never reached (250-step cap) counts as not correct.
    """
    ch = np.asarray(info["choice_made"]) & np.asarray(alive)
    co = np.asarray(info["correct"]) & ch
    tr = np.asarray(info["trial"])
    n_ep = ch.shape[0]
    return np.array([(co & (tr == k)).sum() / n_ep for k in range(n_trials)], dtype=np.float64)


def trials_completed(info: dict, alive: np.ndarray) -> float:
    ch = np.asarray(info["choice_made"]) & np.asarray(alive)
    return float(ch.sum(1).mean())


def summarise_accuracy(acc: np.ndarray) -> dict:
    """acc: (seeds, 6) fractions -> JSON-able summary in percent."""
    acc = np.atleast_2d(acc) * 100.0
    mean, sd = acc.mean(0), acc.std(0)
    t26 = acc[:, 1:].mean(1)
    return {
        "per_trial_accuracy": [round(float(x), 2) for x in mean],
        "per_trial_sd": [round(float(x), 2) for x in sd],
        "per_seed": [[round(float(x), 2) for x in row] for row in acc],
        "trial_1": round(float(mean[0]), 2),
        "trials_2_6": round(float(t26.mean()), 2),
        "trials_2_6_sd": round(float(t26.std()), 2),
        "trials_2_6_min_seed": round(float(t26.min()), 2),
    }


def plot_quantiles(quantiles: list[dict], out_dir: Path, *, title: str, published: dict | None = None,
                   published_label: str = "") -> list[Path]:
    """% correct per trial, one line per training quantile (mean +- sd over seeds), published beside."""
    ncols = 2 if published else 1
    fig, axes = plt.subplots(1, ncols, figsize=(5.2 * ncols, 3.8), sharey=True, squeeze=False)
    ax = axes[0, 0]
    trials = np.arange(1, N_TRIALS + 1)
    cmap = plt.get_cmap("viridis")
    for i, q in enumerate(quantiles):
        acc = np.asarray(q["accuracy"]) * 100.0  # (seeds, 6)
        colour = cmap(i / max(1, len(quantiles) - 1))
        ax.errorbar(trials, acc.mean(0), yerr=acc.std(0), marker="o", ms=3, capsize=2, color=colour,
                    label=q["label"])
    ax.axhline(50, ls="--", color="gray", lw=1, label="Random")
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("trial")
    ax.set_ylabel("% correct")
    ax.set_ylim(30, 102)
    ax.legend(fontsize=6, loc="lower right")
    if published:
        ax2 = axes[0, 1]
        names = list(published)
        for i, name in enumerate(names):
            ax2.plot(trials, published[name], marker="s", ms=3, color=plt.get_cmap("plasma")(i / max(1, len(names) - 1)),
                     label=name)
        ax2.axhline(50, ls="--", color="gray", lw=1)
        ax2.set_title(published_label, fontsize=9)
        ax2.set_xlabel("trial")
        ax2.legend(fontsize=6, loc="lower right")
    for a in axes[0]:
        a.set_xticks(trials)
    return save_figure(fig, out_dir, "accuracy_by_quantile")


def plot_training_curve(run_path: Path, out_dir: Path, *, title: str) -> list[Path]:
    """Reward per episode during training (per seed), with the ideal 6.2 and chance 1.2 (§3.1, §3.4)."""
    m = read_csv(run_path / "metrics.csv")
    fig, ax = plt.subplots(figsize=(6, 3.6))
    if m:
        for s in np.unique(m["seed"]):
            sel = m["seed"] == s
            ax.plot(m["episodes_total"][sel] if "episodes_total" in m else m["env_steps"][sel],
                    m["episode_return"][sel], lw=1, alpha=0.8, label=f"seed {int(s)}")
    ax.axhline(6.2, ls="--", color="gray", lw=1)
    ax.text(0, 6.2, " ideal 6.2", va="bottom", fontsize=7, color="gray")
    ax.axhline(1.2, ls=":", color="gray", lw=1)
    ax.text(0, 1.2, " fixations only (chance) 1.2", va="bottom", fontsize=7, color="gray")
    ax.set_xlabel("training episodes (per seed)" if m and "episodes_total" in m else "environment steps")
    ax.set_ylabel("reward per episode")
    ax.set_title(title, fontsize=9)
    if m and len(np.unique(m["seed"])) <= 8:
        ax.legend(fontsize=6, ncol=2)
    return save_figure(fig, out_dir, "training_curve")

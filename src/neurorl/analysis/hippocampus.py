"""Figures of the hippocampus experiments: recall heatmaps beside the published tables, AB-AC curves.

Published tables: ../shared/reference/hippocampus.md §1.5 (spolcyn paper Figs. 5 and 6).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _save(fig, path_stem: Path) -> list[Path]:
    out = []
    for ext in ("png", "pdf"):
        p = path_stem.with_suffix(f".{ext}")
        fig.savefig(p, dpi=130, bbox_inches="tight")
        out.append(p)
    plt.close(fig)
    return out


def plot_recall_grids(grids: dict, published: dict, list_sizes, ratios, out_dir: Path, networks: int) -> list[Path]:
    """One row per epoch setting: ours | published | ours - published (same colour scale as plot.py: Reds)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    epochs = sorted(grids)
    fig, axes = plt.subplots(len(epochs), 3, figsize=(14, 4.2 * len(epochs)), squeeze=False)
    for row, e in enumerate(epochs):
        ours = np.asarray(grids[e])
        pub = published.get(e)
        panels = [(ours, f"neurorl, {e} epochs (mean of {networks} networks)", "Reds", 0, 1)]
        if pub is not None and pub.shape == ours.shape:
            mad = np.abs(ours - pub).mean()
            panels.append((pub, f"published (Polcyn 2020), {e} epochs, 1 network", "Reds", 0, 1))
            panels.append((ours - pub, f"difference (MAD {mad:.3f})", "RdBu_r", -0.5, 0.5))
        for col, (data, title, cmap, vmin, vmax) in enumerate(panels):
            ax = axes[row, col]
            im = ax.imshow(data, cmap=cmap, aspect="auto", interpolation="none", vmin=vmin, vmax=vmax)
            ax.set_title(title, fontsize=9)
            ax.set_yticks(range(len(list_sizes)), [str(n) for n in list_sizes])
            ax.set_xticks(range(len(ratios)), [f"{r:.1f}" for r in ratios])
            ax.set_xlabel("Corruption Ratio")
            ax.set_ylabel("Number of Patterns")
            for i in range(data.shape[0]):
                for j in range(data.shape[1]):
                    ax.text(j, i, f"{data[i, j]:.2f}", ha="center", va="center", fontsize=6)
            fig.colorbar(im, ax=ax, fraction=0.046)
        for col in range(len(panels), 3):
            axes[row, col].axis("off")
    fig.suptitle("Effect of Pattern Count and Corruption Ratio on Recall Accuracy (nearest stored pattern)")
    return _save(fig, out_dir / "recall_grid")


def plot_abac(curves: dict, out_dir: Path) -> list[Path]:
    """AB and AC Mem per epoch (mean over networks), with the epoch each network switched to AC."""
    out_dir.mkdir(parents=True, exist_ok=True)
    ab = np.asarray(curves["ab_mem"])
    ac = np.asarray(curves["ac_mem"])
    phase = np.asarray(curves["phase"])
    x = np.arange(1, ab.shape[0] + 1)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(x, ab.mean(1), "o-", label="AB Mem")
    ax.plot(x, ac.mean(1), "s-", label="AC Mem")
    ax.plot(x, (phase >= 1).mean(1), ":", color="gray", label="fraction of networks on AC")
    ax.set_xlabel("epoch")
    ax.set_ylabel("proportion of items recalled (Mem)")
    ax.set_ylim(-0.02, 1.02)
    ax.legend()
    ax.set_title("AB-AC paired associates (hip model)")
    return _save(fig, out_dir / "abac")

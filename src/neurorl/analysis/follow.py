"""Figures of a FOLLOW run, redrawn from the arrays in its run folder (paper Fig 2 / Fig 4 style panels).

- ``follow_learning``: command u, prediction x̂ vs reference x and error for the first window (feedback
  off in the first trial, then on), the last window (open loop: feedback and learning off) and the
  structured open-loop test; per-trial MSE over the whole run on a log scale.
- ``follow_spikes``: spike rasters and firing-rate histograms of the recurrent layer (start / end / test).
- ``follow_weights``: histograms of the learned ff and recurrent weights and the weight norm over time.
- ``follow_phase`` (2-D plants): phase plane of the open-loop test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _save(fig, figdir: Path, name: str) -> list[Path]:
    out = []
    for ext in ("png", "pdf"):
        p = figdir / f"{name}.{ext}"
        fig.savefig(p, dpi=110, bbox_inches="tight")
        out.append(p)
    return out


def _window_axes(axes, w, title, dims_label="x"):
    t = w["t"]
    axes[0].plot(t, w["u"], lw=0.8)
    axes[0].set_ylabel("u (network)")
    axes[0].set_title(title, fontsize=9)
    d = w["xhat"].shape[1]
    for i in range(d):
        line, = axes[1].plot(t, w["x_err"][:, i], lw=1.0, label=f"{dims_label}{i + 1}")
        axes[1].plot(t, w["xhat"][:, i], lw=0.8, ls="--", color=line.get_color())
    axes[1].set_ylabel("x (solid), x̂ (dashed)")
    axes[2].plot(t, w["eps"], lw=0.7)
    axes[2].set_ylabel("ε = x̂ − x")
    axes[2].set_xlabel("time (s)")


def plot_follow_run(run_dir: str | Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run_dir = Path(run_dir)
    data, figdir = run_dir / "data", run_dir / "figures"
    figdir.mkdir(exist_ok=True)
    windows = {k: dict(np.load(data / f"{k}.npz")) for k in ("start", "end", "test") if (data / f"{k}.npz").exists()}
    paths: list[Path] = []

    # --- learning overview (Fig 2 A–D / Fig 4 style)
    ncol = len(windows) + 1
    fig, axes = plt.subplots(3, ncol, figsize=(4.2 * ncol, 7.5), squeeze=False)
    titles = {"start": "start (first trial: no feedback, then feedback on)", "end": "end of run (open loop, no learning)",
              "test": "open-loop test, structured input"}
    for j, (k, w) in enumerate(windows.items()):
        _window_axes(axes[:, j], w, titles[k])
    if (data / "mse.npz").exists():
        m = np.load(data / "mse.npz")
        ax = axes[0, -1]
        fb = m["feedback"].astype(bool)
        ax.semilogy(m["t_end"][fb], m["mse"][fb], ".", ms=2, label="ε² per trial, feedback on")
        ax.semilogy(m["t_end"][~fb], m["mse"][~fb], "x", ms=4, color="C3", label="feedback off (open loop)")
        ax.set_xlabel("time (s)")
        ax.set_ylabel("MSE per trial")
        ax.legend(fontsize=7)
        ax.set_title("error over the run (log scale)", fontsize=9)
        ax = axes[1, -1]
        ax.semilogy(m["t_end"], np.maximum(m["mse_err_p"], 1e-12), lw=0.6)
        ax.set_ylabel("MSE of 200 ms-filtered gated error")
        ax.set_xlabel("time (s)")
        ax = axes[2, -1]
        ax.plot(m["t_end"], m["weights_norm"], lw=0.8)
        ax.set_ylabel("‖plastic weights‖ (A or W)")
        ax.set_xlabel("time (s)")
    fig.tight_layout()
    paths += _save(fig, figdir, "follow_learning")
    plt.close(fig)

    # --- spikes: rasters and rate histograms
    fig, axes = plt.subplots(2, len(windows), figsize=(4.2 * len(windows), 5.5), squeeze=False)
    for j, (k, w) in enumerate(windows.items()):
        if "raster" in w:
            r = w["raster"][: min(len(w["raster"]), 2000)]
            tt, nn = np.nonzero(r)
            axes[0, j].plot(w["t"][tt], nn, "|", ms=2, color="k")
            axes[0, j].set_title(f"{k}: raster, first {r.shape[1]} recurrent neurons", fontsize=9)
            axes[0, j].set_xlabel("time (s)")
        dur = len(w["t"]) * (w["t"][1] - w["t"][0])
        for key, lab in (("counts_rec", "recurrent"), ("counts_ff", "feedforward")):
            axes[1, j].hist(w[key] / dur, bins=50, histtype="step", label=lab)
        axes[1, j].set_xlabel("firing rate (Hz)")
        axes[1, j].set_ylabel("neurons")
        axes[1, j].legend(fontsize=7)
    fig.tight_layout()
    paths += _save(fig, figdir, "follow_spikes")
    plt.close(fig)

    # --- weights
    if (data / "weights_end.npz").exists():
        w = np.load(data / "weights_end.npz")
        fig, axes = plt.subplots(1, 2, figsize=(8.5, 3.2))
        for ax, key, lab in ((axes[0], "ff", "feedforward W (InEtoE)"), (axes[1], "rec", "recurrent W (EtoE)")):
            e = w[f"edges_{key}"]
            ax.bar(0.5 * (e[1:] + e[:-1]), w[f"hist_{key}"], width=e[1] - e[0])
            ax.set_yscale("log")
            ax.set_title(f"learned {lab}", fontsize=9)
            ax.set_xlabel("weight")
        fig.tight_layout()
        paths += _save(fig, figdir, "follow_weights")
        plt.close(fig)

    # --- phase plane of the open-loop test (2-D plants)
    if "test" in windows and windows["test"]["xhat"].shape[1] >= 2:
        w = windows["test"]
        fig, ax = plt.subplots(figsize=(4, 4))
        ax.plot(w["x_err"][:, 0], w["x_err"][:, 1], lw=0.7, label="reference")
        ax.plot(w["xhat"][:, 0], w["xhat"][:, 1], lw=0.7, label="network (open loop)")
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
        ax.legend(fontsize=7)
        paths += _save(fig, figdir, "follow_phase")
        plt.close(fig)
    return paths

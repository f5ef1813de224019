"""Shared figure plumbing: Agg backend, PNG + PDF output, reading run CSVs."""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def save_figure(fig, out_dir: Path, name: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext in ("png", "pdf"):
        p = out_dir / f"{name}.{ext}"
        fig.savefig(p, dpi=130, bbox_inches="tight")
        paths.append(p)
    plt.close(fig)
    return paths


def read_csv(path: Path) -> dict[str, np.ndarray]:
    """CSV -> dict of float arrays (empty dict if the file is missing)."""
    if not path.exists():
        return {}
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return {}
    out = {}
    for k in rows[0]:
        try:
            out[k] = np.array([float(r[k]) if r[k] not in ("", None) else np.nan for r in rows])
        except ValueError:
            continue
    return out


def plot_training_curve(run_path: Path, out_dir: Path, *, title: str, value: str = "reward_per_step",
                        eval_value: str = "avg_reward", ylabel: str = "reward per trial",
                        reference: dict[str, float] | None = None) -> list[Path]:
    """Training reward (per seed, thin) and frozen-weight evaluations (markers) vs environment steps."""
    m = read_csv(run_path / "metrics.csv")
    e = read_csv(run_path / "evaluator.csv")
    fig, ax = plt.subplots(figsize=(6, 3.6))
    if m:
        for s in np.unique(m["seed"]):
            sel = m["seed"] == s
            ax.plot(m["env_steps"][sel], m[value][sel], lw=1, alpha=0.7, label=f"train seed {int(s)}")
    if e and eval_value in e:
        for s in np.unique(e["seed"]):
            sel = e["seed"] == s
            ax.plot(e["env_steps"][sel], e[eval_value][sel], "o", ms=3, label=f"eval seed {int(s)}")
    for name, v in (reference or {}).items():
        ax.axhline(v, ls="--", lw=1, color="gray")
        ax.text(ax.get_xlim()[0], v, f" {name}", va="bottom", fontsize=7, color="gray")
    ax.set_xlabel("environment steps")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if m and len(np.unique(m["seed"])) <= 8:
        ax.legend(fontsize=6, ncol=2)
    return save_figure(fig, out_dir, "training_curve")

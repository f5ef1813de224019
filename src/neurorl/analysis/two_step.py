"""Two-step analyses: stay probabilities, logistic regression of stay choices, figures.

Stay probability (meta_rl.md §1.1, §4.1 ``compute_stay_prob``): P(first-stage action on trial t+1
equals the one on trial t | trial t rewarded or not, its transition common or uncommon), pooled
over consecutive trial pairs of the same episode. Order everywhere: R-C, R-U, U-C, U-U.

Logistic regression (Daw et al. 2011 style read-out): stay ~ 1 + R + T + R*T with R = +1
rewarded / -1 unrewarded and T = +1 common / -1 uncommon. A model-free learner loads on R; a
model-based learner on the R*T interaction. Fitted by Newton / IRLS (no statsmodels).
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

CONDITIONS = ("rewarded, common", "rewarded, uncommon", "unrewarded, common", "unrewarded, uncommon")
SHORT = ("R-C", "R-U", "U-C", "U-U")
# meta_rl.md §1.1, Nature Fig 5b [fig]
PUBLISHED_STAY = (0.99, 0.64, 0.62, 0.99)
# meta_rl.md §1.1, Ritter et al. 2018 episodic two-step [fig]
PUBLISHED_EPISODIC_STAY = (0.84, 0.30, 0.35, 0.72)
REGRESSORS = ("intercept", "reward", "transition", "reward x transition")


def trials_from_steps(info: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Keep the trial-completing steps of (episodes, steps) info arrays -> (episodes, trials)."""
    te = np.asarray(info["trial_end"], bool)
    if te.ndim != 2:
        raise ValueError(f"expected (episodes, steps) info arrays, got trial_end of shape {te.shape}")
    n = te.sum(1)
    if not np.all(n == n[0]):
        raise ValueError("every episode must hold the same number of completed trials")
    keys = ("first_stage_action", "common", "rewarded", "second_stage_state")
    return {k: np.asarray(info[k])[te].reshape(te.shape[0], n[0]) for k in keys if k in info}


def _pairs(action, common, rewarded):
    action = np.asarray(action)
    common = np.asarray(common, bool)
    rewarded = np.asarray(rewarded, bool)
    if not (action.shape == common.shape == rewarded.shape) or action.ndim != 2:
        raise ValueError("action, common and rewarded must be (episodes, trials) arrays of one shape; "
                         f"got {action.shape}, {common.shape}, {rewarded.shape}")
    if action.shape[1] < 2:
        raise ValueError("need at least 2 trials per episode")
    stay = (action[:, 1:] == action[:, :-1]).ravel()
    return stay, rewarded[:, :-1].ravel(), common[:, :-1].ravel()


def stay_probabilities(action, common, rewarded) -> np.ndarray:
    """Stay probabilities [R-C, R-U, U-C, U-U] from (episodes, trials) arrays (NaN if a cell is empty)."""
    stay, r, c = _pairs(action, common, rewarded)
    out = []
    for rr, cc in ((True, True), (True, False), (False, True), (False, False)):
        m = (r == rr) & (c == cc)
        out.append(stay[m].mean() if m.any() else np.nan)
    return np.asarray(out)


def logistic_regression(X: np.ndarray, y: np.ndarray, iters: int = 100, ridge: float = 1e-2) -> dict[str, np.ndarray]:
    """Logistic regression by Newton / IRLS; returns coef, standard errors, z.

    ``ridge`` is a weak Gaussian prior (precision 1e-2, i.e. sd 10) so that perfectly separable
    cells (a belief agent that always stays after R-C) give a finite, large coefficient instead of
    diverging; with thousands of trials its effect on non-separable fits is negligible.
    """
    X = np.asarray(X, float)
    y = np.asarray(y, float)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"expected X (n, k) and y (n,), got {X.shape} and {y.shape}")
    if not np.all(np.isfinite(X)) or not np.all((y == 0) | (y == 1)):
        raise ValueError("X must be finite and y must be 0/1")
    w = np.zeros(X.shape[1])
    H = np.eye(X.shape[1])
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-np.clip(X @ w, -30, 30)))
        g = X.T @ (y - p) - ridge * w
        H = (X * (p * (1 - p))[:, None]).T @ X + ridge * np.eye(X.shape[1])
        step = np.linalg.solve(H, g)
        w = w + step
        if np.max(np.abs(step)) < 1e-10:
            break
    se = np.sqrt(np.diag(np.linalg.inv(H)))
    return {"coef": w, "se": se, "z": w / se}


def stay_regression(action, common, rewarded) -> dict[str, float]:
    """stay ~ 1 + R + T + R*T with +-1 coding; returns {regressor: coefficient} and z-scores."""
    stay, r, c = _pairs(action, common, rewarded)
    R = np.where(r, 1.0, -1.0)
    T = np.where(c, 1.0, -1.0)
    X = np.stack([np.ones_like(R), R, T, R * T], 1)
    fit = logistic_regression(X, stay.astype(float))
    out = {name: float(v) for name, v in zip(REGRESSORS, fit["coef"])}
    out.update({f"z {name}": float(v) for name, v in zip(REGRESSORS, fit["z"])})
    return out


def summarize_seeds(per_seed: Sequence[Mapping[str, np.ndarray]]) -> dict:
    """Per-seed and mean stay probabilities, regressions and reward per 100 trials.

    ``per_seed``: one dict per seed with (episodes, trials) arrays ``first_stage_action``,
    ``common``, ``rewarded``.
    """
    stays, regs, rewards = [], [], []
    for d in per_seed:
        stays.append(stay_probabilities(d["first_stage_action"], d["common"], d["rewarded"]))
        regs.append(stay_regression(d["first_stage_action"], d["common"], d["rewarded"]))
        rewards.append(100.0 * np.asarray(d["rewarded"], float).mean())
    stays = np.asarray(stays)
    return {
        "stay_per_seed": stays.tolist(),
        "stay_mean": np.nanmean(stays, 0).tolist(),
        "reward_per_100_per_seed": rewards,
        "reward_per_100_mean": float(np.mean(rewards)),
        "regression_per_seed": regs,
        "regression_mean": {k: float(np.mean([r[k] for r in regs])) for k in regs[0]},
    }


def plot_stay_bars(per_seed: np.ndarray, path: str | Path, published: Sequence[float] = PUBLISHED_STAY,
                   title: str = "Two-step stay probabilities", ylabel: str = "stay probability",
                   extra: Mapping[str, Sequence[float]] | None = None) -> list[Path]:
    """Grouped bars: ours (mean, per-seed dots) beside the published bars; PNG and PDF."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    per_seed = np.atleast_2d(np.asarray(per_seed, float))
    mean = np.nanmean(per_seed, 0)
    series = [("ours", mean, "tab:blue")]
    series.append(("published", np.asarray(published, float), "tab:gray"))
    for i, (name, vals) in enumerate((extra or {}).items()):
        series.append((name, np.asarray(vals, float), ("tab:orange", "tab:green", "tab:purple")[i % 3]))
    width = 0.8 / len(series)
    x = np.arange(4)
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for j, (name, vals, col) in enumerate(series):
        pos = x - 0.4 + width * (j + 0.5)
        ax.bar(pos, vals, width, label=name, color=col, alpha=0.85)
        if name == "ours" and per_seed.shape[0] > 1:
            jitter = np.linspace(-width / 4, width / 4, per_seed.shape[0])
            for s in range(per_seed.shape[0]):
                ax.plot(pos + jitter[s], per_seed[s], "k.", ms=4)
    ax.set_xticks(x, ["rewarded\ncommon", "rewarded\nuncommon", "unrewarded\ncommon", "unrewarded\nuncommon"])
    lo = min(0.0 if np.nanmin(np.concatenate([s[1] for s in series] + [per_seed.ravel()])) < 0.5 else 0.5, 0.5)
    ax.set_ylim(lo, 1.02)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="lower center")
    fig.tight_layout()
    path = Path(path)
    out = []
    for ext in (".png", ".pdf"):
        p = path.with_suffix(ext)
        fig.savefig(p, dpi=150)
        out.append(p)
    plt.close(fig)
    return out


def plot_reward_curve(steps: np.ndarray, rewards: np.ndarray, path: str | Path, reference: float | None = None,
                      ylabel: str = "reward per 100 trials", title: str = "Two-step training") -> list[Path]:
    """Learning curves: rewards (seeds, points) against steps; mean and per-seed lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rewards = np.atleast_2d(np.asarray(rewards, float))
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for r in rewards:
        ax.plot(steps, r, color="tab:blue", alpha=0.25, lw=0.8)
    ax.plot(steps, rewards.mean(0), color="tab:blue", lw=2, label="mean over seeds")
    if reference is not None:
        ax.axhline(reference, ls="--", color="k", lw=1, label=f"belief-optimal {reference:g}")
    ax.set_xlabel("environment steps")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    out = []
    for ext in (".png", ".pdf"):
        p = path.with_suffix(ext)
        fig.savefig(p, dpi=150)
        out.append(p)
    plt.close(fig)
    return out


def plot_regression(per_seed: Sequence[Mapping[str, float]], path: str | Path,
                    belief: Mapping[str, float] | None = None,
                    title: str = "Logistic regression of stay choices") -> list[Path]:
    """Coefficients of stay ~ R + T + R*T per seed (dots) and mean (bars); model-based = R*T > 0."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = REGRESSORS[1:]
    vals = np.asarray([[r[n] for n in names] for r in per_seed], float)
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    x = np.arange(len(names))
    ax.bar(x - 0.18, vals.mean(0), 0.36, color="tab:blue", alpha=0.85, label="ours (mean)")
    for s in vals:
        ax.plot(x - 0.18, s, "k.", ms=4)
    if belief is not None:
        ax.bar(x + 0.18, [belief[n] for n in names], 0.36, color="tab:orange", alpha=0.85, label="belief-optimal")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(x, ["reward", "transition", "reward x\ntransition"])
    ax.set_ylabel("logit coefficient (±1 coding)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    out = []
    for ext in (".png", ".pdf"):
        p = path.with_suffix(ext)
        fig.savefig(p, dpi=150)
        out.append(p)
    plt.close(fig)
    return out

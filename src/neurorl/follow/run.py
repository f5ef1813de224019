"""A whole FOLLOW run as jitted lax.scan chunks, with progress in simulated seconds, an atomic checkpoint
after each chunk, resume, and ``continue`` from saved weights with a new input seed (follow.md §8, §14.6).

Schedule of one run (follow.md §8): a "start" chunk of Tnolearning (its first trial has no feedback and no
learning), learning chunks of ``chunk_seconds``, an "end" chunk of Tnolearning with feedback and learning
off (the open-loop test inside the run), then a separate open-loop test with the structured test input
(``test_protocol``; zero initial state, learned weights, no feedback connection, η = 0).
"""

from __future__ import annotations

import dataclasses
import functools
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from neurorl.follow.inputs import build_protocol
from neurorl.follow.network import (FollowConfig, Schedule, build_network, init_state, make_step, materialize_weights,
                                    to_device)
from neurorl.follow.plants import make_plant
from neurorl.utils.atomic import save_npz_atomic
from neurorl.utils.checkpoint import load_checkpoint, save_checkpoint
from neurorl.utils.progress import progress_bar
from neurorl.utils.runs import RunDir

import os
UNROLL = int(os.environ.get("NEURORL_FOLLOW_UNROLL", "1"))
MSE_FIELDS = ["period", "t_end", "mse", "mse_err_p", "feedback", "weights_norm"]


@functools.lru_cache(maxsize=32)
def chunk_fn(cfg: FollowConfig, proto, sched: Schedule, length: int, n_raster: int):
    """jit(state, n0, params, arrays) -> (state, records, spike counts) over steps n0+1 .. n0+length."""
    step = make_step(cfg, proto, sched, n_raster)
    Nf, N = cfg.n_ff, cfg.n_rec

    count = n_raster > 0  # spike counts (rate histograms) only in the recorded windows

    def run(state, n0, params, arrays):
        def body(carry, i):
            st, cnt = carry
            st, rec, spikes = step(st, n0 + i + 1, params, arrays)
            if count:
                cnt = cnt + (spikes > 0)
            return (st, cnt), rec

        init = (state, jnp.zeros(Nf + N if count else 1, jnp.int32))
        (state, cnt), recs = jax.lax.scan(body, init, jnp.arange(length, dtype=jnp.int32), unroll=UNROLL)
        return state, recs, (cnt[:Nf], cnt[Nf:])

    return jax.jit(run, donate_argnums=(0,))


def _compile_key(cfg: FollowConfig) -> FollowConfig:
    """The config with fields that do not enter the compiled step zeroed, so runs that differ only in seeds,
    duration (the gates use ``Schedule``) or bookkeeping share one compiled chunk function."""
    return dataclasses.replace(cfg, seed_input=0, seed_ff=0, seed_rec=0, seed_net=0, test_seed=0, duration=0.0,
                               chunk_seconds=0.0, test_duration=0.0, test_protocol="zero", record_neurons=0)


def simulate(cfg: FollowConfig, params: dict, state: dict, proto, arrays: dict, sched: Schedule,
             n0: int, length: int, n_raster: int = 0):
    """Run one chunk; returns (state, records as numpy, spike counts as numpy)."""
    fn = chunk_fn(_compile_key(cfg), proto, sched, int(length), int(n_raster))
    state, recs, counts = fn(state, jnp.int32(n0), params, arrays)
    recs = jax.tree_util.tree_map(np.asarray, recs)
    return state, recs, tuple(np.asarray(c) for c in counts)


def segments(cfg: FollowConfig) -> list[tuple[str, int, int]]:
    """[(kind, n0, length)] covering steps 1..n_max: start, learning chunks, end (follow.md §8)."""
    n_max, n_nl, chunk = cfg.steps(cfg.duration), cfg.steps(cfg.t_nolearning), cfg.steps(cfg.chunk_seconds)
    P = cfg.steps(cfg.t_period)
    chunk = max(P, chunk // P * P)
    segs = [("start", 0, n_nl)]
    n = n_nl
    while n < n_max - n_nl:
        length = min(chunk, n_max - n_nl - n)
        segs.append(("learn", n, length))
        n += length
    segs.append(("end", n_max - n_nl, n_nl))
    return segs


def period_mse(cfg: FollowConfig, recs: dict, n0: int, weights_norm: float) -> list[dict]:
    """Per-trial mean over time and dims of ε² and of the 200 ms-filtered gated error (follow.md §8)."""
    P = cfg.steps(cfg.t_period)
    L = recs["eps"].shape[0]
    rows = []
    for k in range(L // P):
        sl = slice(k * P, (k + 1) * P)
        period = (n0 + k * P) // P
        rows.append({"period": period, "t_end": round((n0 + (k + 1) * P) * cfg.dt, 6),
                     "mse": float(np.mean(recs["eps"][sl].astype(np.float64) ** 2)),
                     "mse_err_p": float(np.mean(recs["err_p"][sl].astype(np.float64) ** 2)),
                     "feedback": int(np.any(recs["g_off"][sl])), "weights_norm": weights_norm})
    return rows


def open_loop_scores(x_hat: np.ndarray, x: np.ndarray) -> dict:
    """MSE, normalised MSE (÷ variance of x) and mean per-dimension Pearson correlation of a prediction."""
    x_hat, x = np.asarray(x_hat, np.float64), np.asarray(x, np.float64)
    mse = float(np.mean((x_hat - x) ** 2))
    var = float(np.mean(np.var(x, axis=0)))
    corr = [float(np.corrcoef(x_hat[:, i], x[:, i])[0, 1]) if np.std(x_hat[:, i]) > 0 and np.std(x[:, i]) > 0 else 0.0
            for i in range(x.shape[1])]
    # phase-tolerant companion: best mean correlation over lags up to ±0.5 s (500 steps at dt = 1 ms); an
    # autonomous oscillator that predicts the right shape with a constant phase lag scores high here only
    best, best_lag = -1.0, 0
    n = len(x)
    for lag in range(-min(500, n // 4), min(500, n // 4) + 1, 5):
        a, b = (x_hat[lag:], x[: n - lag]) if lag >= 0 else (x_hat[: n + lag], x[-lag:])
        c = [float(np.corrcoef(a[:, i], b[:, i])[0, 1]) if np.std(a[:, i]) > 0 and np.std(b[:, i]) > 0 else 0.0
             for i in range(x.shape[1])]
        if np.mean(c) > best:
            best, best_lag = float(np.mean(c)), lag
    return {"mse": mse, "nmse": mse / var if var > 0 else float("nan"), "corr": float(np.mean(corr)), "corr_per_dim": corr,
            "corr_best_lag": best, "best_lag_steps": int(best_lag)}


def _window_npz(path: Path, recs: dict, counts, cfg: FollowConfig, t0: float):
    save_npz_atomic(path, t=t0 + cfg.dt * np.arange(1, recs["eps"].shape[0] + 1), counts_ff=counts[0], counts_rec=counts[1],
                    **{k: v for k, v in recs.items()})


def weight_stats(cfg: FollowConfig, params: dict, weights) -> dict:
    """Statistics of the full W (materialised from Ẽ·A on the lowrank path) and a histogram of each block."""
    W = materialize_weights(cfg, params, weights)
    Nf = cfg.n_ff
    out = {}
    for name, blk in (("ff", W[:, :Nf]), ("rec", W[:, Nf:])):
        lim = float(np.max(np.abs(blk))) or 1.0
        hist, edges = np.histogram(blk, bins=101, range=(-lim, lim))
        out[name] = {"mean": float(blk.mean()), "std": float(blk.std()), "max_abs": lim,
                     "rank": int(np.linalg.matrix_rank(blk[: min(600, blk.shape[0]), : min(600, blk.shape[1])]))}
        out[f"{name}_hist"] = (hist, edges)
    return out


def run_follow(cfg: FollowConfig, run: RunDir, *, resume: bool = True, quiet: bool = False,
               initial_weights: np.ndarray | None = None) -> dict:
    """Run (or resume) a full FOLLOW reproduction into ``run``; returns the summary dict."""
    cfg = cfg.validate()
    t_wall0 = time.perf_counter()
    dtype = jnp.dtype(cfg.dtype)
    net = build_network(cfg)
    params = to_device(net, dtype)
    plant = make_plant(cfg.plant)
    save_npz_atomic(run.data_dir / "params.npz", **net.arrays())
    n_max = cfg.steps(cfg.duration)
    proto, arrays_np = build_protocol(cfg.protocol, n_max, cfg.dt, cfg.t_period, plant.dim_u, cfg.seed_input,
                                      cfg.t_clamp if cfg.trial_clamp else 0.0, plant)
    arrays = {k: jnp.asarray(v, dtype) for k, v in arrays_np.items()}
    sched = Schedule.for_run(cfg)
    ckpt = run.path / "checkpoint.ckpt"
    mse_csv = run.metrics("mse_per_period.csv", MSE_FIELDS)

    state = init_state(cfg, params, None if initial_weights is None else jnp.asarray(initial_weights, dtype))
    n_done, timings = 0, {"chunks": []}
    if resume and ckpt.exists():
        tree, meta = load_checkpoint(ckpt, template={"state": jax.tree_util.tree_map(np.asarray, state)})
        state = jax.tree_util.tree_map(lambda a: jnp.asarray(a, dtype), tree["state"])
        n_done, timings = int(meta["n_done"]), meta.get("timings", timings)
        mse_csv.truncate_after("t_end", n_done * cfg.dt + 1e-9)
    elif not resume:
        for p in (ckpt, run.path / "mse_per_period.csv"):
            p.unlink(missing_ok=True)
    total_s = cfg.duration + cfg.test_duration
    with progress_bar(total_s, f"FOLLOW {cfg.plant} (simulated s)", quiet=quiet, completed=n_done * cfg.dt) as bar:
        for kind, n0, length in segments(cfg):
            if n0 + length <= n_done:
                continue
            t0 = time.perf_counter()
            n_raster = cfg.record_neurons if kind in ("start", "end") else 0
            state, recs, counts = simulate(cfg, params, state, proto, arrays, sched, n0, length, n_raster)
            wall = time.perf_counter() - t0
            wnorm = float(jnp.linalg.norm(state["weights"]))
            if not np.all(np.isfinite(recs["xhat"])):
                raise FloatingPointError(f"non-finite prediction in chunk starting at t = {n0 * cfg.dt} s")
            mse_csv.extend(period_mse(cfg, recs, n0, wnorm))
            if kind in ("start", "end"):
                _window_npz(run.data_dir / f"{kind}.npz", recs, counts, cfg, n0 * cfg.dt)
            timings["chunks"].append({"kind": kind, "sim_s": length * cfg.dt, "wall_s": wall})
            n_done = n0 + length
            save_checkpoint(ckpt, {"state": state}, {"n_done": n_done, "timings": timings,
                                                     "config": dataclasses.asdict(cfg)})
            bar.advance(length * cfg.dt)
        # after-run open-loop test with the structured input (learned weights, zero state, no feedback)
        test = None
        final_weights = np.asarray(state["weights"])
        if cfg.test_duration > 0:
            n_test = cfg.steps(cfg.test_duration)
            tproto, tarr = build_protocol(cfg.test_protocol, n_test, cfg.dt, cfg.t_period, plant.dim_u, cfg.test_seed,
                                          0.0, plant)
            tsched = Schedule.for_run(cfg, duration=cfg.test_duration, feedback=False, learning=False, clamp=False)
            tstate = init_state(cfg, params, state["weights"])
            t0 = time.perf_counter()
            _, trecs, tcounts = simulate(cfg, params, tstate, tproto, {k: jnp.asarray(v, dtype) for k, v in tarr.items()},
                                         tsched, 0, n_test, cfg.record_neurons)
            timings["test_wall_s"] = time.perf_counter() - t0
            _window_npz(run.data_dir / "test.npz", trecs, tcounts, cfg, 0.0)
            test = open_loop_scores(trecs["xhat"], trecs["x_err"])
            bar.advance(cfg.test_duration)

    ws = weight_stats(cfg, params, final_weights)
    save_npz_atomic(run.data_dir / "weights_end.npz", weights=final_weights, lowrank=not cfg.use_dense,
                    hist_ff=ws["ff_hist"][0], edges_ff=ws["ff_hist"][1], hist_rec=ws["rec_hist"][0], edges_rec=ws["rec_hist"][1])
    summary = summarize(cfg, run, test, timings)
    summary["weights"] = {k: v for k, v in ws.items() if not k.endswith("_hist")}
    summary["wall_s_this_session"] = time.perf_counter() - t_wall0
    run.write_json("summary.json", summary)
    return summary


def summarize(cfg: FollowConfig, run: RunDir, test: dict | None, timings: dict) -> dict:
    rows = run.metrics("mse_per_period.csv").read()
    t_end = np.array([float(r["t_end"]) for r in rows])
    mse = np.array([float(r["mse"]) for r in rows])
    fb = np.array([int(r["feedback"]) for r in rows]).astype(bool)
    save_npz_atomic(run.data_dir / "mse.npz", t_end=t_end, mse=mse, mse_err_p=np.array([float(r["mse_err_p"]) for r in rows]),
                    feedback=fb, weights_norm=np.array([float(r["weights_norm"]) for r in rows]))
    t_learn_end = cfg.duration - cfg.t_nolearning
    first = fb & (t_end <= min(100.0, t_learn_end / 2) + cfg.t_period)
    last = fb & (t_end > t_learn_end - min(100.0, t_learn_end / 2))
    start = np.load(run.data_dir / "start.npz")
    end = np.load(run.data_dir / "end.npz")
    P = cfg.steps(cfg.t_period)
    mse_p = np.array([float(r["mse_err_p"]) for r in rows])
    out = {
        # the paper's error-vs-time curve: per-trial mean of the 200 ms-filtered gated error² (follow.md §8)
        "mse_err_p_first_100s": float(mse_p[first].mean()) if first.any() else float("nan"),
        "mse_err_p_last_100s": float(mse_p[last].mean()) if last.any() else float("nan"),
        # the raw error ε = x̂_f − x_f with feedback on (includes the spiking-noise floor of the readout)
        "mse_first_100s": float(mse[first].mean()) if first.any() else float("nan"),
        "mse_last_100s": float(mse[last].mean()) if last.any() else float("nan"),
        # open loop before learning: the first trial (zero weights, no feedback)
        "open_loop_start": open_loop_scores(start["xhat"][:P], start["x_err"][:P]),
        # open loop after learning: the last Tnolearning of the run (feedback and learning off)
        "open_loop_end": open_loop_scores(end["xhat"], end["x_err"]),
        "test": test,
        "n_periods": int(len(rows)),
    }
    out["mse_ratio_first_over_last"] = out["mse_first_100s"] / out["mse_last_100s"] if out["mse_last_100s"] > 0 else float("nan")
    out["mse_err_p_ratio_first_over_last"] = (out["mse_err_p_first_100s"] / out["mse_err_p_last_100s"]
                                              if out["mse_err_p_last_100s"] > 0 else float("nan"))
    ch = timings["chunks"]
    learn = [c for c in ch if c["kind"] == "learn"][1:]  # the first learning chunk includes compilation
    out["timing"] = {
        "wall_s_total_chunks": float(sum(c["wall_s"] for c in ch)),
        "sim_s": float(sum(c["sim_s"] for c in ch)),
        "wall_per_sim_s_steady": float(sum(c["wall_s"] for c in learn) / sum(c["sim_s"] for c in learn)) if learn else float("nan"),
        "test_wall_s": timings.get("test_wall_s"),
    }
    return out

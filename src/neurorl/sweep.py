"""Sweeps: many seeds and a hyperparameter grid over a training preset, on one machine or a Ray cluster.

A sweep is a list of **jobs**. A job is one grid point: ``(preset, overrides)``; all its seeds are
trained together, vmapped inside ONE compiled program (``run.seeds``; neurorl.rl.a2c.compile_train).
Locally, grid points that differ only in traced hyperparameters (γ, λ, β_v, β_e, learning rates,
clip norm: neurorl.rl.a2c.TRACED_KEYS) are also trained together in one program
(:func:`plan_groups`, :func:`run_group`, neurorl.grid_train); shape-changing keys
(agent.num_lstm_units, a2c.num_envs, ...) give separate programs. Every job keeps its own folder.

Sweep folder::

    sweep.json                the plan: experiment, seeds, grid, base overrides, the job list
    jobs/<job_id>/            a normal run folder (run.json, metrics.csv, checkpoint.ckpt, agent.ckpt)
    jobs/<job_id>/result.json written atomically when the job is finished (= "job done")
    summary.md|csv|json       mean ± sd across seeds per grid point; best grid point per metric
    figures/sweep.png|pdf     the main metric per grid point with ± sd error bars

Fault tolerance: every job resumes from its run folder's last ``checkpoint.ckpt`` (the trainer's
resume is exact), so a retried job (killed worker, lost node) or a resumed sweep continues where
it stopped; finished jobs (``result.json`` present) are skipped.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import re
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from neurorl.utils.atomic import atomic_write_json, atomic_write_text
from neurorl.utils.config import ConfigError, apply_overrides

PLAN = "sweep.json"
RESULT = "result.json"
JOBS_DIR = "jobs"
CACHE_DIR = "jax_cache"  # persistent XLA compilation cache shared by the sweep's worker processes
# Metrics where smaller is better; every other metric is maximised when picking the best config.
_MINIMISE = re.compile(r"(regret|loss|error|grad_norm)")
# Logged schedules and counters: reported, never ranked.
_NOT_RANKED = {"train/entropy_coef", "train/learning_rate", "train/episodes", "train/pi_loss", "train/grad_norm"}


class SweepError(ValueError):
    pass


# ------------------------------------------------------------------------------------------ plan
@dataclasses.dataclass(frozen=True)
class Job:
    job_id: str
    preset: str
    seeds: int
    point: dict  # grid key -> value text, e.g. {"a2c.gamma": "0.9"}
    overrides: tuple  # base overrides + this point's overrides, "--config.key=value"
    seed_start: int = 0  # this job trains the point's seeds seed_start .. seed_start + seeds - 1
    point_id: str = ""  # the grid point's id (= job_id unless its seeds are split over several jobs)

    def config(self):
        from neurorl.rl.presets import get_preset

        cfg = apply_overrides(get_preset(self.preset), list(self.overrides) + [f"--config.run.seeds={self.seeds}"])
        if self.seed_start:
            # The trainer gives seed i the key PRNGKey(agent.random_seed + i): shifting the base seed
            # makes this block train exactly the seeds it would have had in one vmapped job.
            cfg = apply_overrides(cfg, [f"--config.agent.random_seed={cfg.agent.random_seed + self.seed_start}"])
        return cfg

    def to_dict(self) -> dict:
        return {"job_id": self.job_id, "preset": self.preset, "seeds": self.seeds, "point": dict(self.point),
                "overrides": list(self.overrides), "seed_start": self.seed_start, "point_id": self.point_id or self.job_id}

    @classmethod
    def from_dict(cls, d: dict) -> "Job":
        return cls(d["job_id"], d["preset"], int(d["seeds"]), dict(d["point"]), tuple(d["overrides"]),
                   int(d.get("seed_start", 0)), d.get("point_id", d["job_id"]))


def _normalise_key(key: str) -> str:
    key = key.strip().lstrip("-")
    return key[len("config."):] if key.startswith("config.") else key


def parse_grid(items: Iterable[str]) -> dict[str, list[str]]:
    """``["a2c.gamma=0.8,0.9", "optim.learning_rate=1e-3,3e-4"]`` -> ordered ``{key: [values]}``."""
    grid: dict[str, list[str]] = {}
    for item in items:
        if "=" not in item:
            raise SweepError(f"grid entry {item!r} must look like key=v1,v2 (e.g. a2c.gamma=0.8,0.9)")
        key, _, values = item.partition("=")
        key = _normalise_key(key)
        vals = [v.strip() for v in values.split(",") if v.strip()]
        if not key or not vals:
            raise SweepError(f"grid entry {item!r} must name a key and at least one value")
        if key in grid:
            raise SweepError(f"grid key {key!r} given twice")
        if len(set(vals)) != len(vals):
            raise SweepError(f"grid key {key!r} has repeated values {vals}")
        if key == "run.seeds":
            raise SweepError("use --seeds N for seeds (they are vmapped inside every job), not a grid over run.seeds")
        grid[key] = vals
    return grid


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+-]+", "-", text).strip("-")[:40]


def plan_jobs(experiment: str, seeds: int, grid: dict[str, list[str]], base_overrides: Sequence[str] = (),
              seeds_per_job: int | None = None) -> list[Job]:
    """One job per grid point (cartesian product, in the order the keys were given), or, with
    ``seeds_per_job`` < ``seeds``, one job per block of that many seeds of each grid point.

    Every job's config is built and validated here, so an unknown key or a bad value fails before
    anything runs.
    """
    from neurorl.rl.presets import get_preset

    if seeds < 1:
        raise SweepError(f"--seeds must be >= 1, got {seeds}")
    if seeds_per_job is not None and seeds_per_job < 1:
        raise SweepError(f"--seeds-per-job must be >= 1, got {seeds_per_job}")
    block = min(seeds, seeds_per_job or seeds)
    try:
        get_preset(experiment)
    except KeyError as e:
        raise SweepError(str(e.args[0])) from None
    base = [o if o.startswith("--") else f"--config.{_normalise_key(o)}" for o in base_overrides]
    keys = list(grid)
    jobs = []
    for i, values in enumerate(itertools.product(*[grid[k] for k in keys]) if keys else [()]):
        point = dict(zip(keys, values))
        overrides = tuple(base + [f"--config.{k}={v}" for k, v in point.items()])
        name = "_".join(f"{k.rsplit('.', 1)[-1]}-{v}" for k, v in point.items())
        pid = f"p{i:03d}" + (f"_{_slug(name)}" if name else "")
        for start in range(0, seeds, block):
            jid = pid if block == seeds else f"{pid}_s{start:03d}"
            job = Job(jid, experiment, min(block, seeds - start), point, overrides, start, pid)
            try:
                job.config()
            except ConfigError as e:
                raise SweepError(f"grid point {point}: {e}") from None
            jobs.append(job)
    return jobs


@dataclasses.dataclass
class Sweep:
    path: Path
    experiment: str
    seeds: int
    grid: dict
    base_overrides: list
    jobs: list[Job]
    seeds_per_job: int | None = None

    @property
    def jobs_dir(self) -> Path:
        return self.path / JOBS_DIR

    @property
    def cache_dir(self) -> Path:
        return self.path / CACHE_DIR

    def job_dir(self, job: Job) -> Path:
        return self.jobs_dir / job.job_id

    def is_done(self, job: Job) -> bool:
        return (self.job_dir(job) / RESULT).exists()

    def pending(self) -> list[Job]:
        return [j for j in self.jobs if not self.is_done(j)]

    def plan_dict(self) -> dict:
        return {"experiment": self.experiment, "seeds": self.seeds, "grid": self.grid,
                "base_overrides": self.base_overrides, "seeds_per_job": self.seeds_per_job,
                "jobs": [j.to_dict() for j in self.jobs]}


def create_sweep(experiment: str, *, seeds: int, grid: dict[str, list[str]], out: str | Path | None = None,
                 base_overrides: Sequence[str] = (), resume: bool = False, seeds_per_job: int | None = None) -> Sweep:
    """Plan a sweep and write ``sweep.json``; with ``resume`` reopen an existing sweep folder.

    Resuming checks that the plan is the same (experiment, seeds, grid, overrides): a resumed sweep
    with a different grid would silently mix results.
    """
    from neurorl.utils.provenance import provenance
    from neurorl.utils.runs import DEFAULT_ROOT, _timestamp

    if seeds_per_job is not None and seeds_per_job >= seeds:
        seeds_per_job = None  # one job per point
    jobs = plan_jobs(experiment, seeds, grid, base_overrides, seeds_per_job)
    path = Path(out) if out is not None else DEFAULT_ROOT / "sweeps" / f"{experiment}-{_timestamp()}"
    sweep = Sweep(path, experiment, seeds, {k: list(v) for k, v in grid.items()}, list(base_overrides), jobs, seeds_per_job)
    plan_path = path / PLAN
    if plan_path.exists():
        if not resume:
            raise SweepError(f"{path} already holds a sweep; pass --resume to continue it or choose another --out")
        old = json.loads(plan_path.read_text())
        new = sweep.plan_dict()
        for k in ("experiment", "seeds", "grid", "base_overrides", "seeds_per_job"):
            if old.get(k) != new[k]:
                raise SweepError(f"cannot resume {path}: its {k} is {old.get(k)!r}, this command asks for {new[k]!r}")
        return sweep
    if resume:
        raise SweepError(f"--resume: {path} holds no sweep ({PLAN} missing)")
    path.mkdir(parents=True, exist_ok=True)
    atomic_write_json(plan_path, {**sweep.plan_dict(), "provenance": provenance(),
                                  "created": time.strftime("%Y-%m-%dT%H:%M:%S")})
    return sweep


def open_sweep(path: str | Path) -> Sweep:
    path = Path(path)
    if not (path / PLAN).exists():
        raise SweepError(f"{path} is not a sweep folder ({PLAN} missing)")
    d = json.loads((path / PLAN).read_text())
    return Sweep(path, d["experiment"], int(d["seeds"]), d["grid"], d["base_overrides"],
                 [Job.from_dict(j) for j in d["jobs"]], d.get("seeds_per_job"))


# ------------------------------------------------------------------------------------------ one job
def params_digest(params) -> str:
    """SHA-256 of every parameter leaf (bytes, shape and dtype): equal digests = identical weights."""
    import jax

    h = hashlib.sha256()
    for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]:
        a = np.ascontiguousarray(np.asarray(leaf))
        h.update(jax.tree_util.keystr(path).encode())
        h.update(str((a.shape, a.dtype.str)).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def run_job(job: Job, job_dir: str | Path, *, quiet: bool = True,
            stop_after_updates: int | None = None, on_chunk: Callable[[], None] | None = None) -> dict | None:
    """Train one job (its seeds vmapped in one program, or one after another: ``run.seed_layout``),
    resuming from ``job_dir``'s checkpoint.

    Writes ``result.json`` atomically at the end and returns it. Returns None when stopped early by
    ``stop_after_updates`` (used to simulate an interruption).
    """
    from neurorl.rl.trainer import train
    from neurorl.utils.runs import RunDir

    job_dir = Path(job_dir)
    result_path = job_dir / RESULT
    if result_path.exists():
        return json.loads(result_path.read_text())
    cfg = job.config()
    t0 = time.perf_counter()
    run = RunDir.create(cfg.name, cfg, path=job_dir, seed=[cfg.agent.random_seed + i for i in range(cfg.run.seeds)])
    resumed_from = _checkpoint_update(job_dir)
    res = train(cfg, run, resume=True, quiet=quiet, stop_after_updates=stop_after_updates)
    return _finish_job(job, job_dir, run, res, resumed_from, time.perf_counter() - t0)


def run_group(jobs: Sequence[Job], job_dirs: Sequence[str | Path], *, quiet: bool = True,
              stop_after_updates: int | None = None) -> list[dict | None]:
    """Train several jobs (grid points x their seeds) in ONE compiled program (neurorl.grid_train).

    The jobs must share a program (:func:`plan_groups`) and, when resumed, their checkpoints must be
    at the same update. Each job keeps its own run folder and ``result.json``, identical to what
    :func:`run_job` writes for it alone (the weights are bit-identical).
    """
    from neurorl.grid_train import train_grid
    from neurorl.utils.runs import RunDir

    job_dirs = [Path(d) for d in job_dirs]
    if any((d / RESULT).exists() for d in job_dirs):
        raise SweepError("run_group got a finished job; plan_groups leaves finished jobs out")
    cfgs = [j.config() for j in jobs]
    t0 = time.perf_counter()
    runs = [RunDir.create(c.name, c, path=d, seed=[c.agent.random_seed + i for i in range(c.run.seeds)])
            for c, d in zip(cfgs, job_dirs)]
    resumed_from = [_checkpoint_update(d) for d in job_dirs]
    results = train_grid(cfgs, runs, resume=True, quiet=quiet, stop_after_updates=stop_after_updates)
    wall = time.perf_counter() - t0
    return [_finish_job(j, d, run, res, u, wall, grid_points=len(jobs))
            for j, d, run, res, u in zip(jobs, job_dirs, runs, results, resumed_from)]


def _finish_job(job: Job, job_dir: Path, run, res, resumed_from: int, wall: float, grid_points: int = 1) -> dict | None:
    """``result.json`` of a job whose training returned (None if it stopped before num_updates)."""
    cfg = res.cfg
    done = res.env_steps // (cfg.a2c.num_envs * cfg.a2c.unroll_length)
    if done < cfg.a2c.num_updates:
        return None
    evals = run.metrics("evaluator.csv").read()
    last_eval = [r for r in evals if int(r["update"]) == done]
    per_seed: dict[str, list[float]] = {}
    # From the CSV, not res.final_metrics: a job killed after its last checkpoint resumes with no
    # update left to run, and its final rows are only on disk.
    last_train = [r for r in run.metrics("metrics.csv").read() if int(r["update"]) == done]
    for row in sorted(last_train, key=lambda r: int(r["seed"])):
        for k, v in row.items():
            if k not in ("update", "env_steps", "seed"):
                per_seed.setdefault(f"train/{k}", []).append(float(v))
    for row in sorted(last_eval, key=lambda r: int(r["seed"])):
        for k, v in row.items():
            if k not in ("update", "env_steps", "seed"):
                per_seed.setdefault(f"eval/{k}", []).append(float(v))
    result = {
        "job": job.to_dict(), "updates": done, "env_steps_per_seed": res.env_steps,
        "metrics": per_seed, "params_sha256": params_digest(res.params),
        "resumed_from_update": resumed_from, "wall_seconds_last_attempt": wall,
        "train_seconds_last_attempt": res.train_seconds, "run_dir": str(job_dir),
        "grid_points_in_program": grid_points,
    }
    run.finish(summary={"params_sha256": result["params_sha256"]})
    atomic_write_json(job_dir / RESULT, result)
    return result


def plan_groups(sweep: "Sweep", jobs: Sequence[Job] | None = None, *, max_points: int | None = None) -> list[list[Job]]:
    """Split unfinished jobs into groups that can share one compiled program, in plan order.

    Jobs share a program when their configs differ only in traced hyperparameters and the seed
    (``neurorl.grid_train.program_key``: not in shapes such as agent.num_lstm_units or
    a2c.num_envs), have the same number of seeds and their checkpoints are at the same update
    (a resumed group continues together). Jobs with ``run.seed_layout="sequential"`` train alone, as
    ``neurorl train`` would. ``max_points`` caps a group's size (memory).
    """
    from neurorl.grid_train import program_key

    jobs = sweep.pending() if jobs is None else [j for j in jobs if not sweep.is_done(j)]
    groups: dict[tuple, list[Job]] = {}
    for job in jobs:
        cfg = job.config()
        if cfg.run.seed_layout == "sequential":  # its seeds run one after another (trainer.train): never rows
            key = ("alone", job.job_id)
        else:
            key = (program_key(cfg), job.seeds, _checkpoint_update(sweep.job_dir(job)))
        groups.setdefault(key, []).append(job)
    out = []
    for members in groups.values():
        size = max_points or len(members)
        out += [members[i:i + size] for i in range(0, len(members), size)]
    order = {j.job_id: i for i, j in enumerate(sweep.jobs)}
    return sorted(out, key=lambda g: order[g[0].job_id])


def _checkpoint_update(job_dir: Path) -> int:
    from neurorl.rl.trainer import CHECKPOINT
    from neurorl.utils.checkpoint import load_checkpoint

    p = job_dir / CHECKPOINT
    if not p.exists():
        return 0
    try:
        return int(load_checkpoint(p)[1].get("update", 0))
    except (ValueError, OSError):
        return 0


# ------------------------------------------------------------------------------------------ local
def run_local(sweep: Sweep, *, quiet: bool = False, log: Callable[[str], None] = print, vmap_grid: bool = True,
              max_points: int | None = None, stop_after_updates: int | None = None) -> dict[str, dict]:
    """Run the sweep's unfinished jobs in this process, one program at a time (2-core machines: every
    program already uses all cores through XLA).

    With ``vmap_grid`` (default) jobs that can share a program (:func:`plan_groups`: grid points
    differing only in traced hyperparameters) are trained together in ONE compiled program, at most
    ``max_points`` per program; otherwise one program per job. ``stop_after_updates`` stops every
    job early (tests of resume); stopped jobs have no result.
    """
    results = {}
    for job in sweep.jobs:
        if sweep.is_done(job):
            log(f"[sweep] {job.job_id}: finished earlier, skipped")
            results[job.job_id] = json.loads((sweep.job_dir(job) / RESULT).read_text())
    groups = plan_groups(sweep, max_points=max_points) if vmap_grid else [[j] for j in sweep.pending()]
    for group in groups:
        if len(group) == 1:
            job = group[0]
            log(f"[sweep] {job.job_id}: {job.seeds} seed(s) {' '.join(job.overrides) or '(preset defaults)'}")
            results[job.job_id] = run_job(job, sweep.job_dir(job), quiet=quiet, stop_after_updates=stop_after_updates)
            continue
        log(f"[sweep] {', '.join(j.job_id for j in group)}: {len(group)} grid points x {group[0].seeds} seed(s) "
            "in one compiled program")
        outs = run_group(group, [sweep.job_dir(j) for j in group], quiet=quiet, stop_after_updates=stop_after_updates)
        results.update({j.job_id: r for j, r in zip(group, outs)})
    return results


def run_subprocesses(sweep: Sweep, *, parallel: int = 1, log: Callable[[str], None] = print,
                     compilation_cache: bool = True) -> dict[str, dict]:
    """Each unfinished job in its own ``python -m neurorl.sweep JOB_DIR`` process, ``parallel`` at a time.

    ``compilation_cache``: the processes share ``SWEEP/jax_cache`` (:func:`neurorl.utils.compile_cache.use_compilation_cache`).
    """
    import os
    import subprocess
    import sys

    env = dict(os.environ)
    if compilation_cache:
        env.setdefault("JAX_COMPILATION_CACHE_DIR", str(sweep.cache_dir.resolve()))

    pending = sweep.pending()
    for job in sweep.jobs:
        if job not in pending:
            log(f"[sweep] {job.job_id}: finished earlier, skipped")
    running: list[tuple[Job, subprocess.Popen]] = []
    failed = []
    while pending or running:
        while pending and len(running) < parallel:
            job = pending.pop(0)
            d = sweep.job_dir(job)
            d.mkdir(parents=True, exist_ok=True)
            atomic_write_json(d / "job.json", job.to_dict())
            log(f"[sweep] {job.job_id}: started in a subprocess")
            running.append((job, subprocess.Popen([sys.executable, "-m", "neurorl.sweep", str(d)], env=env)))
        time.sleep(0.2)
        for item in list(running):
            job, proc = item
            if proc.poll() is not None:
                running.remove(item)
                if proc.returncode != 0:
                    failed.append(job.job_id)
                    log(f"[sweep] {job.job_id}: exited with {proc.returncode}")
    if failed:
        raise RuntimeError(f"jobs failed: {failed}; rerun with --resume to retry them from their checkpoints")
    return {j.job_id: json.loads((sweep.job_dir(j) / RESULT).read_text()) for j in sweep.jobs}


# ------------------------------------------------------------------------------------------ aggregate
def _mean_sd(values: Sequence[float]) -> tuple[float, float]:
    v = np.asarray([x for x in values if not (isinstance(x, float) and math.isnan(x))], float)
    if v.size == 0:
        return float("nan"), float("nan")
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0


def _point_label(point: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in point.items()) or "(preset defaults)"


def main_metric(metrics: Iterable[str]) -> str:
    """The metric shown in the figure: evaluation reward first, then the training reward."""
    metrics = list(metrics)
    for m in ("eval/avg_reward", "eval/episode_return", "train/reward_per_step", "train/episode_return"):
        if m in metrics:
            return m
    return metrics[0]


def aggregate(sweep: Sweep, *, write: bool = True) -> dict:
    """Mean ± sd across seeds per grid point and the best grid point per metric.

    Writes summary.json/.csv/.md and figures/sweep.png/.pdf into the sweep folder when ``write``.
    Jobs without a result yet are listed as pending.
    """
    rows, pending = [], []
    by_point: dict[str, list[Job]] = {}
    for job in sweep.jobs:  # seed blocks of one grid point are merged (in seed order)
        by_point.setdefault(job.point_id or job.job_id, []).append(job)
    for pid, jobs in by_point.items():
        missing = [j.job_id for j in jobs if not (sweep.job_dir(j) / RESULT).exists()]
        if missing:
            pending += missing
            continue
        per_seed: dict[str, list[float]] = {}
        digests = []
        for j in sorted(jobs, key=lambda j: j.seed_start):
            r = json.loads((sweep.job_dir(j) / RESULT).read_text())
            for m, v in r["metrics"].items():
                per_seed.setdefault(m, []).extend(v)
            digests.append(r["params_sha256"])
        stats = {m: _mean_sd(v) for m, v in per_seed.items()}
        rows.append({"job_id": pid, "point": jobs[0].point, "label": _point_label(jobs[0].point),
                     "seeds": sum(j.seeds for j in jobs), "jobs": [j.job_id for j in jobs], "stats": stats,
                     "per_seed": per_seed, "params_sha256": digests[0] if len(digests) == 1 else digests})
    metrics = sorted({m for r in rows for m in r["stats"]})
    best = {}
    for m in metrics:
        if m in _NOT_RANKED:
            continue
        cands = [(r["stats"][m][0], r["job_id"], r["label"]) for r in rows if m in r["stats"] and not math.isnan(r["stats"][m][0])]
        if not cands:
            continue
        minimise = bool(_MINIMISE.search(m))
        # Ties go to the first grid point in plan order (min/max return the first extremum).
        v, jid, label = (min if minimise else max)(cands, key=lambda c: c[0])
        best[m] = {"job_id": jid, "point": label, "mean": v, "goal": "min" if minimise else "max"}
    summary = {"experiment": sweep.experiment, "seeds": sweep.seeds, "grid": sweep.grid, "metrics": metrics,
               "rows": rows, "best": best, "pending": pending,
               "main_metric": main_metric(metrics) if metrics else None}
    if write and rows:
        _write_summary(sweep, summary)
    return summary


def _fmt(mean: float, sd: float) -> str:
    return "nan" if math.isnan(mean) else f"{mean:.4g} ± {sd:.2g}"


# Columns of the printed/markdown table: the most informative metrics when present.
_TABLE_METRICS = ("eval/avg_reward", "eval/regret_per_episode", "train/reward_per_step", "train/regret_per_step",
                  "train/episode_return")


def table_metrics(summary: dict) -> list[str]:
    cols = [m for m in _TABLE_METRICS if m in summary["metrics"]]
    return cols or summary["metrics"][:5]


def summary_markdown(summary: dict) -> str:
    cols = table_metrics(summary)
    lines = [f"# Sweep: {summary['experiment']}", "",
             f"{summary['seeds']} seed(s) per grid point, vmapped in one compiled program; "
             "values are mean ± sd across seeds (sd with ddof=1) at the end of training.", "",
             "| grid point | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for r in summary["rows"]:
        cells = []
        for m in cols:
            cell = _fmt(*r["stats"][m]) if m in r["stats"] else "—"
            if summary["best"].get(m, {}).get("job_id") == r["job_id"] and len(summary["rows"]) > 1:
                cell = f"**{cell}**"
            cells.append(cell)
        lines.append(f"| {r['label']} | " + " | ".join(cells) + " |")
    lines += ["", "Best grid point per metric:", ""]
    for m, b in summary["best"].items():
        lines.append(f"- {m} ({b['goal']}): {b['point']} ({b['mean']:.4g})")
    if summary["pending"]:
        lines += ["", f"Pending (no result yet): {', '.join(summary['pending'])}"]
    lines += ["", "Figure: figures/sweep.png"]
    return "\n".join(lines) + "\n"


def _write_summary(sweep: Sweep, summary: dict) -> None:
    import csv
    import io

    atomic_write_json(sweep.path / "summary.json", summary)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["job_id", *sweep.grid.keys(), "metric", "mean", "sd", "n_seeds", "per_seed"])
    for r in summary["rows"]:
        for m, (mean, sd) in r["stats"].items():
            w.writerow([r["job_id"], *[r["point"].get(k, "") for k in sweep.grid], m, mean, sd, len(r["per_seed"][m]),
                        " ".join(f"{x:.6g}" for x in r["per_seed"][m])])
    atomic_write_text(sweep.path / "summary.csv", buf.getvalue())
    atomic_write_text(sweep.path / "summary.md", summary_markdown(summary))
    plot_sweep(summary, sweep.path / "figures")


def plot_sweep(summary: dict, figures_dir: Path) -> list[Path]:
    """Main metric per grid point (mean ± sd across seeds; dots = single seeds)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = summary["main_metric"]
    rows = [r for r in summary["rows"] if m in r["stats"]]
    figures_dir.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(max(4.0, 0.9 * len(rows) + 2), 3.6))
    x = np.arange(len(rows))
    means = [r["stats"][m][0] for r in rows]
    sds = [r["stats"][m][1] for r in rows]
    ax.bar(x, means, yerr=sds, capsize=4, color="#4C72B0", alpha=0.8)
    for i, r in enumerate(rows):
        ys = r["per_seed"][m]
        ax.scatter(np.full(len(ys), i) + np.linspace(-0.15, 0.15, len(ys)), ys, s=10, color="k", zorder=3)
    ax.set_xticks(x)
    ax.set_xticklabels([r["label"].replace(", ", "\n") for r in rows], fontsize=7)
    ax.set_ylabel(f"{m} (mean ± sd, {summary['seeds']} seeds)")
    ax.set_title(f"sweep {summary['experiment']}")
    fig.tight_layout()
    paths = []
    for ext in ("png", "pdf"):
        p = figures_dir / f"sweep.{ext}"
        fig.savefig(p, dpi=120)
        paths.append(p)
    plt.close(fig)
    return paths


def print_summary(summary: dict) -> None:
    """A rich table on stdout (mean ± sd across seeds; the best value per metric in bold)."""
    from rich.console import Console
    from rich.table import Table

    cols = table_metrics(summary)
    t = Table(title=f"sweep {summary['experiment']} ({summary['seeds']} seeds per point, mean ± sd)")
    t.add_column("grid point")
    for m in cols:
        t.add_column(m, justify="right")
    for r in summary["rows"]:
        cells = []
        for m in cols:
            c = _fmt(*r["stats"][m]) if m in r["stats"] else "—"
            if summary["best"].get(m, {}).get("job_id") == r["job_id"] and len(summary["rows"]) > 1:
                c = f"[bold green]{c}[/]"
            cells.append(c)
        t.add_row(r["label"], *cells)
    con = Console(width=None if Console().is_terminal else 140)
    con.print(t)
    for m in cols:
        if m in summary["best"]:
            b = summary["best"][m]
            con.print(f"best {m} ({b['goal']}): {b['point']}  {b['mean']:.4g}")
    if summary["pending"]:
        con.print(f"pending: {', '.join(summary['pending'])}")


def _job_main(argv: list[str]) -> int:
    """``python -m neurorl.sweep JOB_DIR``: run the job described by JOB_DIR/job.json (subprocess mode)."""
    job_dir = Path(argv[0])
    job = Job.from_dict(json.loads((job_dir / "job.json").read_text()))
    run_job(job, job_dir, quiet=True)
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(_job_main(sys.argv[1:]))

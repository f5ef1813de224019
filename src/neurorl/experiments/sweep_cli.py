"""CLI: ``neurorl sweep`` (seeds x hyperparameter grids, local or Ray) and ``neurorl reproduce all``.

    neurorl sweep bandit-independent --seeds 8 --grid a2c.gamma=0.8,0.9 --grid optim.learning_rate=1e-3,3e-4
    neurorl sweep bandit-independent --seeds 4 --grid a2c.gamma=0.8,0.9 --ray            # local Ray cluster
    neurorl sweep bandit-independent --seeds 4 --grid a2c.gamma=0.8,0.9 --address auto   # existing cluster
    neurorl sweep bandit-independent --out runs/sweeps/s1 --resume                       # continue a stopped sweep
    neurorl reproduce all --quick                                                        # every reproduction + docs/results.md
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from neurorl.cli_registry import app, reproduce_app

_EXTRA = {"allow_extra_args": True, "ignore_unknown_options": True}


def _fail(msg: str) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(2)


@app.command("sweep", context_settings=_EXTRA)
def sweep_cmd(
    ctx: typer.Context,
    experiment: str = typer.Argument(..., help="Training preset (neurorl presets lists them)."),
    seeds: Optional[int] = typer.Option(None, min=1, help="Seeds per grid point, vmapped in one compiled program (default 1)."),
    grid: Optional[List[str]] = typer.Option(None, "--grid", help="key=v1,v2 (repeatable), e.g. --grid a2c.gamma=0.8,0.9"),
    use_ray: bool = typer.Option(False, "--ray", help="Run each grid point as a Ray task (local cluster unless --address)."),
    address: Optional[str] = typer.Option(None, help="Existing Ray cluster ('auto', 'ray://host:10001'); implies --ray."),
    out: Optional[Path] = typer.Option(None, help="Sweep folder (default runs/sweeps/<experiment>-<timestamp>)."),
    resume: bool = typer.Option(False, help="Continue the sweep in --out: finished jobs are skipped, others resume from their checkpoints."),
    cpus_per_job: float = typer.Option(1.0, min=0.0, help="Ray: CPUs each job reserves."),
    gpus_per_job: float = typer.Option(0.0, min=0.0, help="Ray: GPUs each job reserves (fractions allowed)."),
    max_retries: int = typer.Option(3, min=0, help="Ray: retries of a job whose worker died (each resumes from its checkpoint)."),
    cluster_cpus: Optional[int] = typer.Option(None, min=1, help="Ray: CPUs of the local cluster started for this sweep (default: all)."),
    processes: int = typer.Option(0, min=0, help="Local: run each job in its own subprocess, N at a time (0: in this process)."),
    seeds_per_job: Optional[int] = typer.Option(None, min=1, help="Split each grid point's seeds into jobs of this many "
                                                "(default: all seeds of a point vmapped in one job)."),
    vmap_grid: bool = typer.Option(True, help="Local: train grid points that differ only in traced hyperparameters "
                                   "(gamma, lambda, loss coefficients, learning rates, clip norm) in ONE compiled program."),
    points_per_program: Optional[int] = typer.Option(None, min=1, help="Local, --vmap-grid: at most this many grid "
                                                     "points per program (memory)."),
    compilation_cache: Optional[bool] = typer.Option(None, help="Keep compiled programs in SWEEP/jax_cache so jobs of "
                                                     "equal shapes compile once (default: on, except with --address)."),
    json_out: bool = typer.Option(False, "--json", help="Print the aggregated summary as one JSON object."),
    quiet: bool = typer.Option(False, help="No progress bars."),
):
    """Train a preset over seeds and a hyperparameter grid; aggregate mean ± sd across seeds per grid point.

    Locally, grid points that differ only in traced hyperparameters share one compiled program
    (vmapped over grid point x seed); shape-changing keys (agent.num_lstm_units, a2c.num_envs, ...)
    run as separate programs. With --ray or --processes every grid point is its own job.

    Extra --config.section.key=value arguments apply to every job.
    """
    from neurorl import sweep as sw
    from neurorl.utils.compile_cache import use_compilation_cache

    base = list(ctx.args)
    bad = [a for a in base if not (a.startswith("--config.") and "=" in a)]
    if bad:
        _fail(f"unexpected arguments {bad}; config overrides look like --config.a2c.num_updates=2000")
    if resume and out is None:
        _fail("--resume needs --out pointing at the sweep folder")
    log = (lambda m: typer.echo(m, err=True))
    try:
        if resume and not grid and seeds is None and not base and (out / sw.PLAN).exists():
            old = sw.open_sweep(out)  # resume with the plan stored in the folder
            if old.experiment != experiment:
                _fail(f"{out} is a sweep of {old.experiment!r}, not {experiment!r}")
            sweep = sw.create_sweep(experiment, seeds=old.seeds, grid=old.grid, out=out,
                                    base_overrides=old.base_overrides, resume=True, seeds_per_job=old.seeds_per_job)
        else:
            sweep = sw.create_sweep(experiment, seeds=seeds or 1, grid=sw.parse_grid(grid or []), out=out,
                                    base_overrides=base, resume=resume, seeds_per_job=seeds_per_job)
    except sw.SweepError as e:
        _fail(str(e))
    done = len(sweep.jobs) - len(sweep.pending())
    log(f"[sweep] {sweep.path}: {len(sweep.jobs)} job(s) x {sweep.seeds} seed(s); {done} finished earlier")
    cache = (address is None) if compilation_cache is None else compilation_cache
    try:
        if use_ray or address:
            from neurorl.distributed import run_ray

            run_ray(sweep, address=address, num_cpus_per_job=cpus_per_job, num_gpus_per_job=gpus_per_job,
                    max_retries=max_retries, cluster_cpus=cluster_cpus, log=log, compilation_cache=cache)
        elif processes:
            sw.run_subprocesses(sweep, parallel=processes, log=log, compilation_cache=cache)
        else:
            if cache and sweep.pending():
                use_compilation_cache(sweep.cache_dir)  # this CLI process only
            sw.run_local(sweep, quiet=quiet or json_out, log=log, vmap_grid=vmap_grid, max_points=points_per_program)
    except KeyboardInterrupt:
        log(f"interrupted; resume with: neurorl sweep {experiment} --out {sweep.path} --resume")
        raise typer.Exit(130)
    except RuntimeError as e:
        _fail(f"{e}\nresume with: neurorl sweep {experiment} --out {sweep.path} --resume")
    summary = sw.aggregate(sweep)
    if json_out:
        print(json.dumps({"sweep_dir": str(sweep.path), **{k: summary[k] for k in ("experiment", "seeds", "grid", "best", "pending")},
                          "rows": [{k: r[k] for k in ("job_id", "point", "stats", "params_sha256")} for r in summary["rows"]]}))
    else:
        sw.print_summary(summary)
        typer.echo(f"sweep folder: {sweep.path} (summary.md, summary.csv, figures/sweep.png)")


@reproduce_app.command("all")
def reproduce_all_cmd(
    out: Optional[Path] = typer.Option(None, help="Parent folder: one run folder per reproduction "
                                       "(default runs/reproduce-all, with --quick runs/reproduce-all-quick)."),
    quick: bool = typer.Option(False, help="Short presets (a few updates and episodes, tiny networks; "
                               "neurorl.reports.QUICK_ARGS): checks the whole pipeline in minutes. "
                               "The numbers are meaningless."),
    only: Optional[List[str]] = typer.Option(None, help="Only reproductions matching these glob patterns (repeatable)."),
    skip: Optional[List[str]] = typer.Option(None, help="Skip reproductions matching these glob patterns (repeatable)."),
    results: Optional[Path] = typer.Option(None, help="Write the combined results table here ('' to skip; default "
                                           "docs/results.md, with --quick OUT/results.md so quick numbers never "
                                           "replace real ones)."),
    extra: Optional[List[str]] = typer.Option(None, help="'GLOB=ARGS': extra arguments for matching reproductions, "
                                              "e.g. 'bandit-*=--episodes 1000 --config.a2c.num_updates=1000'."),
    dry_run: bool = typer.Option(False, help="List what would run, run nothing."),
    keep_going: bool = typer.Option(True, help="Continue after a failed reproduction."),
    jobs: int = typer.Option(1, min=1, help="Reproductions run at the same time (each in its own process; XLA "
                             "compiles on one core, so up to one per core pays off)."),
    compilation_cache: bool = typer.Option(True, help="Share a persistent XLA compilation cache in OUT/jax_cache "
                                           "between the reproductions (a repeated run loads its programs)."),
):
    """Run every registered reproduction (each writes report.md), then generate docs/results.md from the reports."""
    from neurorl import reports

    import shlex

    if out is None:
        out = Path("runs/reproduce-all-quick" if quick else "runs/reproduce-all")
    if results is None:
        results = out / "results.md" if quick else Path("docs/results.md")
    extra_args = {}
    for item in extra or []:
        if "=" not in item:
            _fail(f"--extra {item!r} must look like 'GLOB=ARGS'")
        pat, _, args = item.partition("=")
        extra_args.setdefault(pat, []).extend(shlex.split(args))
    cmds = reports.discover_reproductions(only=only or [], skip=skip or [], extra=extra_args)
    if not cmds:
        _fail("no reproduction matches --only/--skip")
    if quick:
        problems = {c.name: c.quick_problems() for c in cmds}
        for name, probs in problems.items():
            for pr in probs:
                typer.echo(f"skipped in --quick mode: {pr}", err=True)
        cmds = [c for c in cmds if not problems[c.name]]
        if not cmds:
            _fail("no reproduction has a quick preset")
    for c in cmds:
        typer.echo(f"{c.name:28s} {' '.join(c.args(quick, out / c.name))}")
    if dry_run:
        return
    outcomes = reports.run_reproductions(cmds, out=out, quick=quick, keep_going=keep_going,
                                         log=lambda m: typer.echo(m, err=True), jobs=jobs,
                                         compilation_cache=compilation_cache)
    if str(results):
        path = reports.write_results_md(results, [o.run_dir for o in outcomes if o.ok], failures=[o for o in outcomes if not o.ok])
        typer.echo(f"results table: {path}")
    total, cpu = sum(o.wall_seconds for o in outcomes), sum(o.cpu_seconds for o in outcomes)
    typer.echo(f"{sum(o.ok for o in outcomes)}/{len(outcomes)} reproductions ok in {total:.0f} s ({cpu:.0f} CPU s)"
               + (" (quick presets: the numbers are meaningless)" if quick else ""))
    failed = [o.name for o in outcomes if not o.ok]
    if failed:
        typer.echo(f"failed: {', '.join(failed)} (logs in {out}/<name>.log)", err=True)
        raise typer.Exit(1)


@app.command("results")
def results_cmd(
    run_dirs: List[Path] = typer.Argument(..., help="Run folders of finished reproductions (or parents holding them)."),
    results: Path = typer.Option(Path("docs/results.md"), help="File whose generated section is rewritten."),
):
    """Regenerate the generated section of docs/results.md from reproduction run folders (keeps hand-written text)."""
    from neurorl import reports

    dirs = reports.find_run_dirs(run_dirs)
    if not dirs:
        _fail(f"no reproduction run folder (report.md + run.json) under {[str(p) for p in run_dirs]}")
    typer.echo(str(reports.write_results_md(results, dirs)))

"""``neurorl reproduce hippocampus-recall`` and ``neurorl reproduce hippocampus-abac`` (issue 5), with plotters.

hippocampus-recall: spolcyn's demo grid (list sizes 2..20, corruption 0..0.9, 2 and 5 epochs),
averaged over independent networks, beside the published tables (hippocampus.md §1.5).
hippocampus-abac: the upstream AB-AC paired-associate experiment (§2.6-§2.7, §5).
Each epoch setting of the grid is saved as soon as it is done, so an interrupted run resumes.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy as np
import typer

from neurorl.cli_registry import plotter, reproduce_app


def _grid_report(res: dict) -> str:
    from neurorl.hippocampus.experiment import trend_checks

    lines = ["# hippocampus-recall", "",
             "Nearest-stored-pattern recall accuracy (spolcyn's test, hippocampus.md §1.4) of the Leabra hip model,",
             f"mean of {res['config']['networks']} independent networks per cell; published numbers are single runs (§1.5).", ""]
    for e, mad in sorted(res.get("mad", {}).items()):
        lines.append(f"- {e} epochs: mean absolute difference vs published = **{mad:.3f}**; "
                     f"mean accuracy ours {np.mean(res['grids'][e]):.3f}")
    for k, v in trend_checks(res).items():
        lines.append(f"- trend `{k}`: {v}")
    for e, act in sorted(res.get("activity", {}).items()):
        lines.append(f"- activity (running ActMAvg at the end of training, {e} epochs): "
                     + ", ".join(f"{k} {v:.3f}" for k, v in act.items()))
    t = res["timings"]
    lines.append(f"- time (wall / CPU s): train {t['train_s']:.1f} / {t.get('train_cpu_s', 0):.1f}, "
                 f"test {t['test_s']:.1f} / {t.get('test_cpu_s', 0):.1f}, score {t['score_s']:.1f} / "
                 f"{t.get('score_cpu_s', 0):.1f} (total wall {t.get('total_s', 0):.1f} s)")
    lines.append("")
    lines.append("Figure: figures/recall_grid.png (ours | published | difference).")
    return "\n".join(lines) + "\n"


def _jsonable_result(res: dict) -> dict:
    from neurorl.hippocampus.experiment import trend_checks
    from neurorl.utils.atomic import to_jsonable

    out = {
        "grids": {str(e): np.asarray(g).round(4).tolist() for e, g in res["grids"].items()},
        "mem": {str(e): np.asarray(g).round(4).tolist() for e, g in res["mem"].items()},
        "mad": {str(e): v for e, v in res.get("mad", {}).items()},
        "trends": trend_checks(res),
        "activity": {str(e): v for e, v in res.get("activity", {}).items()},
        "timings": res["timings"],
        "config": res["config"],
    }
    return to_jsonable(out)


@reproduce_app.command("hippocampus-recall", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def reproduce_recall(
    ctx: typer.Context,
    networks: int = typer.Option(10, min=1, help="Independent networks (and pattern sets) per cell; the original used 1."),
    epochs: str = typer.Option("2,5", help="Comma-separated training epoch settings."),
    max_patterns: int = typer.Option(20, min=2, help="Largest list size (2..max step 2)."),
    deletion: str = typer.Option("structured", help="'structured' (the original: first active units in C order) or 'random'."),
    repeats: int = typer.Option(10, min=1, help="Test repeats (identical unless --legacy or random deletion)."),
    legacy: bool = typer.Option(False, help="Reproduce the original's quirks (hippocampus.md §1.6)."),
    seed: int = typer.Option(0, help="Seed of patterns, weights and orders."),
    nested_epochs: bool = typer.Option(True, "--nested-epochs/--independent-epochs",
                                       help="Test the longest setting's networks after each shorter epoch count "
                                            "(as the original's fixed seed did), or train separate networks per setting."),
    engine: str = typer.Option("auto", help="'fast' (default), or 'reference' (the vmapped-lanes engine; always used with --legacy)."),
    workers: int = typer.Option(0, min=0, help="Networks simulated at once by the fast engine (0: one per core)."),
    compile_cache: str = typer.Option("auto", help="JAX's persistent compilation cache: 'auto' keeps compiled programs "
                                                   "in ~/.cache/neurorl/xla/<cpu+jax key> (NEURORL_CACHE moves it), so "
                                                   "later runs skip ~7 s of XLA compilation; 'off'; or a directory."),
    out: Path = typer.Option(None, help="Run folder (default runs/hippocampus-recall/<timestamp>)."),
    json_out: bool = typer.Option(False, "--json", help="Print grids, differences and timings as one JSON object."),
    quiet: bool = typer.Option(False, help="No progress bar."),
):
    """The original demo grid, averaged over independent networks, beside the published tables."""
    from neurorl.analysis.hippocampus import plot_recall_grids
    from neurorl.hippocampus.experiment import PUBLISHED, RecallGridConfig, run_recall_grid
    from neurorl.hippocampus.params import HippocampusParams
    from neurorl.utils.atomic import save_npz_atomic
    from neurorl.utils.config import apply_overrides
    from neurorl.utils.progress import progress_bar
    from neurorl.utils.runs import RunDir

    try:
        ep = tuple(int(x) for x in epochs.split(",") if x.strip())
    except ValueError:
        raise typer.BadParameter(f"--epochs must be comma-separated ints, got {epochs!r}") from None
    cfg = RecallGridConfig(list_sizes=tuple(range(2, max_patterns + 1, 2)), epochs=ep, networks=networks,
                           repeats=repeats, deletion=deletion, seed=seed, legacy=legacy, nested_epochs=nested_epochs,
                           engine=engine, workers=workers)
    try:
        cfg.validate()
        params = apply_overrides(HippocampusParams(legacy=legacy), list(ctx.args)) if ctx.args else HippocampusParams(legacy=legacy)
    except Exception as e:  # ConfigError, ValueError: say what was expected
        raise typer.BadParameter(str(e)) from None
    from neurorl.utils.compile_cache import resolve_cache_option, use_compilation_cache

    cache_dir = resolve_cache_option(compile_cache)
    if cache_dir is not None:
        use_compilation_cache(cache_dir, min_compile_seconds=0.5)
    run = RunDir.create("hippocampus-recall", {"grid": dataclasses.asdict(cfg), "params": dataclasses.asdict(params)},
                        path=out, seed=seed)
    t_start = time.perf_counter()
    merged = {"grids": {}, "mem": {}, "distance": {}, "activity": {},
              "timings": {k: 0.0 for k in ("train_s", "test_s", "score_s", "train_cpu_s", "test_cpu_s", "score_cpu_s")},
              "config": dataclasses.asdict(cfg)}
    with progress_bar(len(ep) * 2, "hippocampus-recall", quiet=quiet or json_out) as bar:
        todo = []
        for e in ep:
            f = run.data_dir / f"grid_{e}.npz"
            if f.exists():  # resume: this epoch setting is done
                d = np.load(f, allow_pickle=False)
                merged["grids"][e], merged["mem"][e], merged["distance"][e] = d["grid"], d["mem"], d["distance"]
                merged["activity"][e] = json.loads(str(d["activity"]))
                for k in merged["timings"]:
                    merged["timings"][k] += float(d[k]) if k in d else 0.0
                bar.advance(2)
            else:
                todo.append(e)
        if todo:  # one call: with nested epochs the shorter settings are snapshots of the longest
            res = run_recall_grid(cfg, params, progress=lambda msg: bar.advance(1), epochs_to_run=tuple(todo))
            for k in merged["timings"]:
                merged["timings"][k] += res["timings"][k]
            for e in todo:
                merged["grids"][e], merged["mem"][e], merged["distance"][e] = res["grids"][e], res["mem"][e], res["distance"][e]
                merged["activity"][e] = res["activity"][e]
                save_npz_atomic(run.data_dir / f"grid_{e}.npz", grid=res["grids"][e], mem=res["mem"][e],
                                distance=res["distance"][e], per_network=res["grids_per_network"][e],
                                activity=json.dumps(res["activity"][e]),
                                **{k: res["timings"][k] / len(todo) for k in res["timings"]})
    merged["timings"]["total_s"] = time.perf_counter() - t_start
    for e, g in merged["grids"].items():
        if e in PUBLISHED and g.shape == PUBLISHED[e].shape:
            merged.setdefault("mad", {})[e] = float(np.abs(g - PUBLISHED[e]).mean())
    summary = _jsonable_result(merged)
    run.write_json("result.json", summary)
    save_npz_atomic(run.data_dir / "grids.npz", list_sizes=np.asarray(cfg.list_sizes), ratios=np.asarray(cfg.ratios),
                    epochs=np.asarray(ep), networks=np.asarray(networks),
                    **{f"grid_{e}": g for e, g in merged["grids"].items()})
    figs = plot_recall_grids(merged["grids"], PUBLISHED, cfg.list_sizes, cfg.ratios, run.figures_dir, networks)
    run.write_report(_grid_report(merged))
    run.finish(mad={str(k): v for k, v in merged.get("mad", {}).items()}, total_s=merged["timings"]["total_s"])
    if json_out:
        summary["run_dir"] = str(run.path)
        print(json.dumps(summary))
    else:
        for e, mad in sorted(merged.get("mad", {}).items()):
            print(f"{e} epochs: MAD vs published = {mad:.3f}")
        print(f"run folder: {run.path}; figures: {', '.join(str(p) for p in figs)}")


@plotter("hippocampus-recall")
def plot_recall(run_dir: Path) -> list[Path]:
    from neurorl.analysis.hippocampus import plot_recall_grids
    from neurorl.hippocampus.experiment import PUBLISHED
    from neurorl.utils.runs import RunDir

    run = RunDir.open(run_dir)
    d = np.load(run.data_dir / "grids.npz")
    grids = {int(e): d[f"grid_{int(e)}"] for e in d["epochs"]}
    return plot_recall_grids(grids, PUBLISHED, d["list_sizes"].tolist(), d["ratios"].tolist(), run.figures_dir,
                             int(d["networks"]))


@reproduce_app.command("hippocampus-abac")
def reproduce_abac(
    networks: int = typer.Option(10, min=1, help="Independent networks (each with its own lists)."),
    items: int = typer.Option(10, min=1, help="Items per list (examples/hip: 10)."),
    max_epochs: int = typer.Option(20, min=2, help="MaxEpcs: AB until criterion or MaxEpcs/2, then AC."),
    seed: int = typer.Option(0),
    out: Path = typer.Option(None, help="Run folder (default runs/hippocampus-abac/<timestamp>)."),
    json_out: bool = typer.Option(False, "--json", help="Print the results as one JSON object."),
    quiet: bool = typer.Option(False, help="No progress messages."),
):
    """AB-AC paired associates: epochs to criterion, AB memory after AC learning, activity levels."""
    from neurorl.analysis.hippocampus import plot_abac
    from neurorl.hippocampus.experiment import ACTIVITY_RANGES, ABACConfig, run_abac
    from neurorl.utils.runs import RunDir

    cfg = ABACConfig(networks=networks, items=items, max_epochs=max_epochs, seed=seed)
    run = RunDir.create("hippocampus-abac", dataclasses.asdict(cfg), path=out, seed=seed)
    say = (lambda m: None) if (quiet or json_out) else (lambda m: typer.echo(m, err=True))
    res = run_abac(cfg, progress=say)
    act = res["activity_final"]
    res["activity_ranges"] = {k.removeprefix("act_m_avg_"): v for k, v in ACTIVITY_RANGES.items()}
    res["activity_in_range"] = {k: bool(lo <= act.get(f"act_m_avg_{k}", np.nan) <= hi) for k, (lo, hi) in ACTIVITY_RANGES.items()}
    run.write_json("result.json", res)
    figs = plot_abac(res["curves"], run.figures_dir)
    report = ["# hippocampus-abac", "",
              f"- AB Mem after AC learning: **{res['ab_mem_after_ac']:.2f}** (AC Mem {res['ac_mem']:.2f})",
              f"- AB Mem after 2 epochs: {res['ab_mem_after_2_epochs']} (upstream README: 'about 50% or so')",
              f"- epochs to the first perfect AB test (FirstZero): {res['first_zero_mean']} "
              f"(reached by {res['ab_reached_criterion']:.0%} of networks); total epochs AB+AC: {res['n_epochs_mean']:.1f}",
              "- layer activity (running ActMAvg): " + ", ".join(f"{k} {v:.3f}" for k, v in act.items()),
              f"- in reference ranges: {res['activity_in_range']}",
              f"- time: {res['seconds']:.1f} s", "", "Figure: figures/abac.png"]
    run.write_report("\n".join(report) + "\n")
    run.finish(ab_mem_after_ac=res["ab_mem_after_ac"], seconds=res["seconds"])
    if json_out:
        res["run_dir"] = str(run.path)
        print(json.dumps({k: v for k, v in res.items() if k != "curves"} | {"curves": res["curves"]}))
    else:
        print("\n".join(report[2:7]))
        print(f"run folder: {run.path}; figures: {', '.join(str(p) for p in figs)}")


@plotter("hippocampus-abac")
def plot_abac_run(run_dir: Path) -> list[Path]:
    from neurorl.analysis.hippocampus import plot_abac
    from neurorl.utils.runs import RunDir

    run = RunDir.open(run_dir)
    res = json.loads((run.path / "result.json").read_text())
    return plot_abac(res["curves"], run.figures_dir)


def cueing_demo(n_patterns: int = 10, epochs: int = 5, updates: int = 400, seed: int = 0, steps: int = 10) -> dict:
    """Meta-RL cueing demo: the A2C LSTM agent learns which 3 pools of a target to present.

    The environment's rewards come from a precomputed (target, window) table of the trained
    hippocampus (exactly the simulated rewards: tests are deterministic and do not change it).
    Returns the agent's mean reward per step in the first and last tenth of the updates (and the
    curve over the ten tenths) beside random cueing and the per-target best window.
    """
    from dataclasses import replace as _replace

    from neurorl.envs.hippocampus_recall import HippocampusRecall
    from neurorl.hippocampus.experiment import random_patterns
    from neurorl.hippocampus.model import HippocampusModel
    from neurorl.rl.a2c import compile_train, seed_keys
    from neurorl.rl.config import A2CConfig, OptimConfig, TrainConfig
    from neurorl.rl.trainer import build_network

    t0 = time.perf_counter()
    model = HippocampusModel(seed=seed)
    model.set_patterns(random_patterns(np.random.default_rng(seed), n_patterns))
    model.train(epochs=epochs)
    env = HippocampusRecall(n_patterns=n_patterns)
    params = env.with_reward_table(HippocampusRecall.params_from_model(model, max_steps_in_episode=steps))
    table = np.asarray(params.reward_table)
    cfg = TrainConfig(name="hippocampus-cueing", a2c=_replace(A2CConfig(), num_envs=32, unroll_length=steps,
                                                              num_updates=updates, gamma=0.0, entropy_start=0.02),
                      optim=_replace(OptimConfig(), learning_rate=3e-3, learning_rate_end=3e-4))
    net = build_network(cfg, env, params)
    v_init, v_chunk = compile_train(cfg, env, params, net)
    states = v_init(seed_keys(cfg))
    # a chunk's metrics are means over its updates, so train in 10 chunks to see the learning curve
    n_chunks = min(10, updates)
    per = updates // n_chunks
    curve = []
    for _ in range(n_chunks):
        states, metrics = v_chunk(states, per)
        curve.append(float(np.nanmean(np.asarray(metrics["episode_return"]))) / steps)
    return {"agent_first": curve[0], "agent_last": curve[-1], "curve": curve,
            "random": float(table.mean()), "best": float(table.max(1).mean()),
            "seconds": time.perf_counter() - t0, "updates": per * n_chunks}


@reproduce_app.command("hippocampus-cueing")
def reproduce_cueing(
    updates: int = typer.Option(400, min=1, help="A2C updates (32 episodes of 10 steps each)."),
    seed: int = typer.Option(0),
    json_out: bool = typer.Option(False, "--json"),
):
    """Short meta-RL demo: an LSTM A2C agent learns a cueing policy for the trained hippocampus."""
    res = cueing_demo(updates=updates, seed=seed)
    if json_out:
        print(json.dumps(res))
    else:
        print(f"reward per step: agent {res['agent_first']:.3f} -> {res['agent_last']:.3f}; "
              f"random cueing {res['random']:.3f}; best window per target {res['best']:.3f} ({res['seconds']:.0f} s)")

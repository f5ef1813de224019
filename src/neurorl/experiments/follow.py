"""``neurorl reproduce follow-vanderpol`` and ``neurorl reproduce follow-arm`` (issue 7), and their plotter.

Each command runs (or resumes) a whole FOLLOW reproduction into a run folder: chunked lax.scan with a
progress bar in simulated seconds and a checkpoint after every chunk; ``--continue-from RUN`` starts a new
run from that run's learned weights with a new input seed (the original chained 10,000 s + 5,000 s this
way, follow.md §8). Extra ``--config.key=value`` arguments override any FollowConfig field.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy as np
import typer

from neurorl.cli_registry import plotter, reproduce_app

# paper / original-code figures for the report (follow.md §5, §10)
PUBLISHED = {
    "original_cpu_wall_per_sim_s": 270.0,  # Nengo 2.4 on an i7: 3 h per 40 s (README)
    "original_gpu_wall_per_sim_s": 8.6,  # ~24 h per 10,000 s on a GPU (README)
    "paper_duration_vdp_s": 10000.0,
    "paper_duration_arm_s": 15000.0,
}


def _config_from_json(d: dict):
    from neurorl.follow.network import FollowConfig

    fields = {f.name: f for f in dataclasses.fields(FollowConfig)}
    kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items() if k in fields}
    return FollowConfig(**kw)


def reproduce(kind: str, *, duration: float | None, neurons: int | None, out: Path | None, resume: bool,
              continue_from: Path | None, input_seed: int | None, overrides: list[str], quiet: bool,
              figures: bool = True) -> dict:
    from neurorl.analysis.follow import plot_follow_run
    from neurorl.follow.network import arm_config, vanderpol_config
    from neurorl.follow.run import run_follow
    from neurorl.utils.config import apply_overrides
    from neurorl.utils.runs import RunDir

    t0 = time.perf_counter()
    experiment = f"follow-{kind}"
    weights = None
    if continue_from is not None:
        prev = RunDir.open(continue_from)
        cfg = _config_from_json(prev.read_info()["config"])
        wfile = prev.data_dir / "weights_end.npz"
        if not wfile.exists():
            raise typer.BadParameter(f"{continue_from} has no data/weights_end.npz (did that run finish?)")
        weights = np.load(wfile)["weights"]
        cfg = dataclasses.replace(cfg, seed_input=input_seed if input_seed is not None else cfg.seed_input + 1)
    else:
        cfg = vanderpol_config() if kind == "vanderpol" else arm_config()
        if input_seed is not None:
            cfg = dataclasses.replace(cfg, seed_input=input_seed)
    if duration is not None:
        cfg = dataclasses.replace(cfg, duration=float(duration))
    if neurons is not None:
        cfg = dataclasses.replace(cfg, n_ff=int(neurons), n_rec=int(neurons))
    cfg = apply_overrides(cfg, overrides).validate()
    if weights is not None and continue_from is not None:
        prev_cfg = _config_from_json(RunDir.open(continue_from).read_info()["config"])
        for f in ("plant", "n_ff", "n_rec", "seed_ff", "seed_rec", "seed_net", "radius_ff", "radius_rec", "max_rates",
                  "intercepts", "constant_gain", "weights", "random_init_sd"):
            if getattr(prev_cfg, f) != getattr(cfg, f):
                raise typer.BadParameter(f"--continue-from needs the same network: {f} differs ({getattr(prev_cfg, f)} "
                                         f"vs {getattr(cfg, f)})")
    if out is not None and resume and (Path(out) / "run.json").exists():
        old_cfg = _config_from_json(RunDir.open(out).read_info()["config"])
        if old_cfg != cfg:
            diff = [f.name for f in dataclasses.fields(cfg) if getattr(old_cfg, f.name) != getattr(cfg, f.name)]
            raise typer.BadParameter(f"{out} holds a run with a different config ({', '.join(diff)}); "
                                     "use the same options, another --out, or --no-resume")
    run = RunDir.create(experiment, cfg, path=out, seed=cfg.seed_input)
    if continue_from is not None:
        run.update_info(continued_from=str(continue_from))
    summary = run_follow(cfg, run, resume=resume, quiet=quiet, initial_weights=weights)
    summary["figures"] = [str(p) for p in plot_follow_run(run.path)] if figures else []
    summary["wall_s"] = time.perf_counter() - t0
    summary["run_dir"] = str(run.path)
    summary["config"] = {"plant": cfg.plant, "n_ff": cfg.n_ff, "n_rec": cfg.n_rec, "duration": cfg.duration,
                         "semantics": cfg.semantics, "weights": "dense" if cfg.use_dense else "lowrank",
                         "seed_input": cfg.seed_input, "eta": cfg.eta, "feedback_gain": cfg.feedback_gain}
    run.write_json("summary.json", summary)
    run.write_report(report(summary))
    run.finish(summary={k: v for k, v in summary.items() if k.startswith("mse_") or k in ("test", "open_loop_end", "timing")})
    return summary


def report(s: dict) -> str:
    c, t = s["config"], s["timing"]
    ol0, ol1, test = s["open_loop_start"], s["open_loop_end"], s.get("test") or {}
    lines = [f"# FOLLOW {c['plant']}: {c['n_ff']}+{c['n_rec']} neurons, {c['duration']:g} s ({c['weights']} weights, "
             f"Nengo {c['semantics']} semantics)", "",
             "| quantity | ours | paper / original |", "|---|---|---|",
             f"| MSE of the 200 ms-filtered error per trial (paper's error curve), first 100 s | {s['mse_err_p_first_100s']:.3g} | falls over the run (Fig 2) |",
             f"| same, last 100 s of learning | {s['mse_err_p_last_100s']:.3g} | |",
             f"| ratio first/last (issue target >= 10) | {s['mse_err_p_ratio_first_over_last']:.3g} | |",
             f"| raw error ε² per trial with feedback, first / last 100 s | {s['mse_first_100s']:.3g} / {s['mse_last_100s']:.3g} "
             f"(ratio {s['mse_ratio_first_over_last']:.3g}) | |",
             f"| open loop, first trial (zero weights): MSE / corr | {ol0['mse']:.3g} / {ol0['corr']:.3f} | |",
             "| open loop, last window of the run (feedback off): MSE / NMSE / corr | "
             f"{ol1['mse']:.3g} / {ol1['nmse']:.3g} / {ol1['corr']:.3f} | no numbers published (follow.md §10) |"]
    if test:
        lines.append(f"| structured open-loop test: MSE / NMSE / corr | {test['mse']:.3g} / {test['nmse']:.3g} / {test['corr']:.3f} | |")
        lines.append(f"| same, best correlation over lags ≤ 0.5 s (lag) | {test['corr_best_lag']:.3f} "
                     f"({test['best_lag_steps']} steps) | |")
    lines += [f"| wall s per simulated s (steady) | {t['wall_per_sim_s_steady']:.3g} | 270 (Nengo 2.4, i7), 8.6 (nengo_ocl GPU) |",
              f"| simulation wall time, all sessions (chunks) | {t['wall_s_total_chunks']:.0f} s for {t['sim_s']:.0f} simulated s | |",
              f"| wall time of this session | {s['wall_s']:.0f} s | |", "",
              "Figures: " + ", ".join(Path(p).name for p in s.get("figures", []) if p.endswith(".png")), ""]
    return "\n".join(lines)


def _print(s: dict, json_out: bool) -> None:
    if json_out:
        print(json.dumps({k: v for k, v in s.items() if k != "figures"}, default=str))
        return
    typer.echo(report(s))
    typer.echo(f"run folder: {s['run_dir']}")


def _make(kind: str):
    def cmd(
        ctx: typer.Context,
        duration: float = typer.Option(None, help="Simulated seconds (default: the paper's 10,000 s vdP / 15,000 s arm)."),
        neurons: int = typer.Option(None, min=1, help="Neurons per layer (default 3000 vdP / 5000 arm)."),
        out: Path = typer.Option(None, help="Run folder (default runs/follow-<kind>/<timestamp>)."),
        resume: bool = typer.Option(True, help="Resume from the checkpoint in --out if there is one."),
        continue_from: Path = typer.Option(None, "--continue-from", help="Start from this finished run's learned weights."),
        input_seed: int = typer.Option(None, help="Seed of the command input (continue: default previous + 1)."),
        json_out: bool = typer.Option(False, "--json", help="Print the MSE figures and timings as one JSON object."),
        quiet: bool = typer.Option(False, help="No progress bar."),
    ):
        s = reproduce(kind, duration=duration, neurons=neurons, out=out, resume=resume, continue_from=continue_from,
                      input_seed=input_seed, overrides=list(ctx.args), quiet=quiet or json_out)
        _print(s, json_out)

    cmd.__doc__ = (f"FOLLOW learning of the {'van der Pol oscillator (Fig 2)' if kind == 'vanderpol' else '2-link arm (Fig 4)'}"
                   ": learn, test open loop, draw figures. Extra --config.<field>=<value> override FollowConfig.")
    return cmd


for _kind in ("vanderpol", "arm"):
    reproduce_app.command(f"follow-{_kind}", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(
        _make(_kind))


def _plot(run_dir: Path) -> list[Path]:
    from neurorl.analysis.follow import plot_follow_run

    return plot_follow_run(run_dir)


plotter("follow-vanderpol")(_plot)
plotter("follow-arm")(_plot)

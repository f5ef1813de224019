"""The ``neurorl`` command. Subsystems add commands through ``neurorl.cli_registry``.

Common conventions for every command:
- ``--json`` prints one JSON object with the metrics on stdout (progress goes to stderr);
- ``--out DIR`` chooses the run folder (default ``runs/<experiment>/<timestamp>``);
- ``--config.section.key=value`` overrides any field of the command's config.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from neurorl.cli_registry import AGENT_EVALUATORS, PLOTTERS, app, play_app, reproduce_app

app.add_typer(reproduce_app, name="reproduce")
app.add_typer(play_app, name="play")

_EXTRA = {"allow_extra_args": True, "ignore_unknown_options": True}


def _fail(msg: str) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(2)


def _mean_sd(values) -> str:
    import numpy as np

    v = np.asarray(values, float)
    return f"{v.mean():.4f} ± {v.std(ddof=1) if v.size > 1 else 0.0:.4f}"


@app.command("train", context_settings=_EXTRA)
def train_cmd(
    ctx: typer.Context,
    preset: str = typer.Argument(..., help="Preset name (neurorl train --list shows them)."),
    seeds: int = typer.Option(None, help="Seeds trained together in one vmapped program (overrides run.seeds)."),
    out: Path = typer.Option(None, help="Run folder (default runs/<preset>/<timestamp>)."),
    resume: bool = typer.Option(False, help="Continue the run in --out from its last checkpoint."),
    export_agent: Path = typer.Option(None, help="Also export seed 0 as a shippable agent folder."),
    json_out: bool = typer.Option(False, "--json", help="Print the summary as one JSON object."),
    quiet: bool = typer.Option(False, help="No progress bar."),
):
    """Train a meta-RL agent. Any config field: --config.section.key=value (e.g. --config.agent.random_seed=42)."""
    from neurorl.rl.presets import get_preset
    from neurorl.rl.trainer import train
    from neurorl.utils.config import ConfigError, apply_overrides
    from neurorl.utils.runs import RunDir

    try:
        cfg = get_preset(preset)
        overrides = list(ctx.args)
        bad = [a for a in overrides if not (a.startswith("--config.") and "=" in a)]
        if bad:
            _fail(f"unexpected arguments {bad}; config overrides look like --config.a2c.num_updates=2000")
        if seeds is not None:
            overrides.append(f"--config.run.seeds={seeds}")
        cfg = apply_overrides(cfg, overrides)
    except (KeyError, ConfigError) as e:
        _fail(str(e.args[0] if isinstance(e, KeyError) else e))
    if resume and out is None:
        _fail("--resume needs --out pointing at the interrupted run folder")
    run = RunDir.create(cfg.name, cfg, path=out, seed=[cfg.agent.random_seed + i for i in range(cfg.run.seeds)])
    try:
        res = train(cfg, run, resume=resume, quiet=quiet or json_out)
    except KeyboardInterrupt:
        typer.echo(f"interrupted; resume with: neurorl train {preset} --out {run.path} --resume", err=True)
        raise typer.Exit(130)
    rows = res.final_metrics
    evals = run.metrics("evaluator.csv").read()
    last_eval = [r for r in evals if int(r["update"]) == int(rows[0]["update"])] if rows else []
    summary = {
        "preset": cfg.name, "run_dir": str(run.path), "seeds": cfg.run.seeds,
        "updates": res.env_steps // (cfg.a2c.num_envs * cfg.a2c.unroll_length),
        "env_steps_per_seed": res.env_steps, "compile_seconds": round(res.compile_seconds, 2),
        "train_seconds": round(res.train_seconds, 2), "steps_per_second": round(res.steps_per_second),
        "train_reward_per_step": [r["reward_per_step"] for r in rows],
    }
    if last_eval:
        summary["eval_avg_reward"] = [float(r["avg_reward"]) for r in last_eval]
    run.finish(summary=summary)
    if export_agent is not None:
        from neurorl.rl.zoo import export_agent as _export

        _export(run.path / "agent.ckpt", export_agent, 0, {k: summary[k] for k in ("updates", "env_steps_per_seed")})
        summary["exported_agent"] = str(export_agent)
    if json_out:
        print(json.dumps(summary))
    else:
        typer.echo(f"run folder: {run.path}")
        typer.echo(f"{summary['env_steps_per_seed']:,} env steps per seed, {summary['steps_per_second']:,} steps/s, "
                   f"compile {summary['compile_seconds']} s, train {summary['train_seconds']} s")
        typer.echo(f"train reward per step (mean ± sd over {cfg.run.seeds} seeds): {_mean_sd(summary['train_reward_per_step'])}")
        if "eval_avg_reward" in summary:
            typer.echo(f"eval reward per step, frozen weights: {_mean_sd(summary['eval_avg_reward'])}")


@app.command("presets")
def presets_cmd():
    """List training presets."""
    from neurorl.experiments import load_all
    from neurorl.rl.presets import PRESETS

    load_all()
    for name, cfg in sorted(PRESETS.items()):
        typer.echo(f"{name:28s} {cfg.env.id}  ({cfg.a2c.num_updates} updates x {cfg.a2c.num_envs} envs x {cfg.a2c.unroll_length} steps)")


@app.command("agents")
def agents_cmd():
    """List the trained agents shipped in the package."""
    from neurorl.rl.zoo import ZOO_DIR, shipped_agents

    for name in shipped_agents():
        typer.echo(f"{name:24s} {ZOO_DIR / name}")


@app.command("eval")
def eval_cmd(
    agent: str = typer.Argument(..., help="Shipped agent name (neurorl agents), run folder, or agent.ckpt path."),
    episodes: int = typer.Option(1000, min=1, help="Evaluation episodes (frozen weights)."),
    greedy: bool = typer.Option(False, help="Act greedily (argmax) instead of sampling from the policy."),
    seed: int = typer.Option(0, help="Seed of the evaluation episodes."),
    seed_index: int = typer.Option(0, help="Which trained seed to evaluate when the agent holds several."),
    dump: Path = typer.Option(None, help="Write the dynamics (actions, logits, values, hidden states, rewards, info) to this .npz."),
    json_out: bool = typer.Option(False, "--json", help="Print the metrics as one JSON object."),
):
    """Evaluate a trained agent with frozen weights."""
    from neurorl.experiments import load_all
    from neurorl.rl.trainer import load_agent
    from neurorl.rl.zoo import resolve_agent

    load_all()
    try:
        loaded = load_agent(resolve_agent(agent))
        loaded.seed_params(seed_index)
    except (FileNotFoundError, ValueError) as e:
        _fail(str(e))
    family = loaded.cfg.family
    evaluator = AGENT_EVALUATORS.get(family, AGENT_EVALUATORS.get("generic"))
    try:
        metrics = evaluator(loaded, episodes=episodes, seed=seed, greedy=greedy, seed_index=seed_index, dump=dump)
    except ValueError as e:  # options this family's evaluator does not support
        _fail(str(e))
    metrics = {"agent": agent, "family": family, "episodes": episodes, "greedy": greedy, **metrics}
    if json_out:
        print(json.dumps(metrics))
    else:
        for k, v in metrics.items():
            typer.echo(f"{k}: {v}")


@app.command("plot")
def plot_cmd(run_dir: Path = typer.Argument(..., help="A finished run folder (holds run.json)."),
             json_out: bool = typer.Option(False, "--json", help="Print the written figure paths as JSON.")):
    """Redraw every figure of a finished run from its saved data."""
    from neurorl.experiments import load_all
    from neurorl.utils.runs import RunDir

    load_all()
    try:
        run = RunDir.open(run_dir)
    except FileNotFoundError as e:
        raise typer.BadParameter(str(e)) from None
    experiment = run.experiment
    if experiment not in PLOTTERS:
        raise typer.BadParameter(f"no plotter for experiment {experiment!r}; known: {sorted(PLOTTERS)}")
    paths = PLOTTERS[experiment](run.path)
    if json_out:
        print(json.dumps({"figures": [str(p) for p in paths]}))
    else:
        for p in paths:
            print(p)


def main(argv: list[str] | None = None) -> None:
    from neurorl.experiments import load_all

    load_all()
    from neurorl.utils.config import ConfigError

    try:
        app(args=argv if argv is not None else sys.argv[1:], prog_name="neurorl")
    except ConfigError as e:  # a bad --config.x.y=v override or an unknown option: say what was expected
        typer.echo(f"error: {e}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()

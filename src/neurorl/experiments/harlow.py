"""Harlow "learning to learn" (Wang et al. 2018 Sim 5, Nature Fig 6), 1-D and pixel versions.

- presets ``harlow-1d`` and ``harlow-visual`` (``neurorl train NAME``);
- ``neurorl reproduce harlow-1d | harlow-visual``: train the seeds (one jitted A2C program; 1-D vmaps
  them, the pixel version runs them one after another, ``run.seed_layout``), evaluate frozen weights
  at successive training quantiles (% correct per trial 1-6, mean +- sd over seeds), final evaluation,
  figures beside the published curves, report, and optionally export a shipped agent;
- ``neurorl eval harlow-1d --episodes 1000 --json`` (evaluator family ``harlow``);
- ``neurorl play harlow``: a human plays the task in the terminal.

Hyperparameters: BKHMSI Harlow-1D (meta_rl.md §3.3, §7): gamma 0.91, GAE lambda 1, unroll 20,
value weight 0.4, 256 recurrent units, MLP encoder 64 -> 128 (§3.2), GRU core (the config's
cell type, which learns fastest, §3.4). Changes for speed and stability with one synchronous
vmapped batch instead of 8 Hogwild workers: Adam 1e-3 -> 3e-4 (instead of RMSProp 7.5e-4),
global-norm clipping 1.0, and an entropy bonus annealed 0.05 -> 0.002 (0.001 constant collapses
the policy early in our runs; docs/harlow.md).
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import typer

from neurorl.cli_registry import agent_evaluator, play_app, plotter, reproduce_app
from neurorl.rl.config import A2CConfig, AgentConfig, EnvConfig, OptimConfig, RunConfig, TrainConfig
from neurorl.rl.presets import register_preset

N_TRIALS = 6
TARGETS = {  # issue 3
    "harlow-1d": {"trials_2_6 >=": 97.0, "trial_1 in": [40.0, 60.0], "minutes_per_seed <=": 15.0},
    "harlow-visual": {"trials_2_6 >=": 90.0, "trial_1 in": [40.0, 60.0]},
}
QUANTILE_LABELS = ["1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th", "9th"]


def harlow_1d_preset() -> TrainConfig:
    return TrainConfig(
        name="harlow-1d",
        family="harlow",
        env=EnvConfig(id="neurorl/Harlow1D-v0"),
        agent=AgentConfig(core="gru", num_lstm_units=256, encoder="mlp"),          # §3.2, §3.3
        optim=OptimConfig(optimizer="adam", learning_rate=1e-3, learning_rate_end=5e-4, schedule="linear",
                          max_grad_norm=1.0),
        # entropy kept >= 0.03: annealing to 0.002 within 1500 updates locks the policy into a 75 % local
        # optimum (a 1-bit "code above/below a threshold" memory); docs/harlow.md
        a2c=A2CConfig(num_envs=64, unroll_length=20, num_updates=1500, gamma=0.91, gae_lambda=1.0,  # §3.3
                      value_coef=0.4, entropy_start=0.05, entropy_end=0.03, entropy_fraction=1.0),
        run=RunConfig(seeds=1, chunk_updates=100, eval_every_updates=0, eval_episodes=200),
    )


def harlow_visual_preset() -> TrainConfig:
    return TrainConfig(
        name="harlow-visual",
        family="harlow",
        env=EnvConfig(id="neurorl/HarlowVisual-v0"),
        # halves: a 2x2/2 patch convolution (a matrix product: XLA's CPU convolutions cost 16-22x the learning
        # throughput here) pooled within the left and right halves of the view, each half's pooled vector
        # projected by one shared layer to an 8-number object code. With flattened patch features the agent
        # stayed at chance for 8 M steps; with this code it learns within ~1,500 updates (docs/harlow.md)
        agent=AgentConfig(core="gru", num_lstm_units=256, encoder="halves",
                          encoder_options='{"patches": [2], "channels": [32], "side_code": 8}'),
        optim=OptimConfig(optimizer="adam", learning_rate=1e-3, learning_rate_end=5e-4, schedule="linear",
                          max_grad_norm=1.0),
        a2c=A2CConfig(num_envs=64, unroll_length=20, num_updates=4000, gamma=0.91, gae_lambda=1.0,
                      value_coef=0.4, entropy_start=0.05, entropy_end=0.03, entropy_fraction=1.0),
        # seeds one after another: one seed of this agent already keeps both cores busy, and five vmapped seeds
        # ran ~20 % slower in total than five one-seed calls (docs/benchmarks.md, Harlow section)
        run=RunConfig(seeds=1, chunk_updates=100, eval_every_updates=0, eval_episodes=200, seed_layout="sequential"),
    )


register_preset(harlow_1d_preset())
register_preset(harlow_visual_preset())


# ----------------------------------------------------------------------------- evaluation
def is_visual(env) -> bool:
    from neurorl.envs.harlow_visual import HarlowVisual

    return isinstance(env, HarlowVisual)


def eval_params(env, env_params, held_out: bool = True):
    """Evaluation params: held-out test objects for the visual task (issue 3), unchanged for 1-D."""
    from neurorl.envs.harlow_visual import TEST

    return env_params.replace(split=TEST) if (is_visual(env) and held_out) else env_params


def evaluate_accuracy(env, env_params, net, params_stacked, *, episodes: int, seed: int, greedy: bool = False,
                      batch: int = 500) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-trial accuracy for every seed of ``params_stacked`` (leading axis = seed).

    Returns (accuracy (seeds, 6), mean return (seeds,), trials completed per episode (seeds,)).
    """
    from neurorl.analysis.harlow import per_trial_accuracy, trials_completed
    from neurorl.rl.evaluate import make_rollout

    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    rollout = make_rollout(env, env_params, net, int(env_params.max_steps_in_episode), greedy=greedy)
    n_seeds = int(jax.tree_util.tree_leaves(params_stacked)[0].shape[0])
    acc = np.zeros((n_seeds, N_TRIALS))
    ret = np.zeros(n_seeds)
    done = np.zeros(n_seeds)
    key = jax.random.PRNGKey(seed)
    sizes = [min(batch, episodes - s) for s in range(0, episodes, batch)]
    fns = {n: jax.jit(jax.vmap(lambda p, k, n=n: rollout(p, k, n), in_axes=(0, None))) for n in set(sizes)}
    for n in sizes:
        key, k = jax.random.split(key)
        traj = jax.device_get(fns[n](params_stacked, k))
        for s in range(n_seeds):
            info = {k2: v[s] for k2, v in traj["info"].items()}
            acc[s] += per_trial_accuracy(info, traj["alive"][s]) * n
            ret[s] += (traj["reward"][s] * traj["alive"][s]).sum(1).sum()
            done[s] += trials_completed(info, traj["alive"][s]) * n
    return acc / episodes, ret / episodes, done / episodes


def harlow_agent_evaluator(agent, *, episodes: int, seed: int, greedy: bool, seed_index: int = 0, dump=None) -> dict:
    """``neurorl eval``: per-trial accuracy (6 numbers, %) on fresh episodes (visual: held-out objects)."""
    from neurorl.analysis.harlow import summarise_accuracy

    params = jax.tree_util.tree_map(lambda x: jnp.asarray(x[seed_index:seed_index + 1]), agent.params)
    ep = eval_params(agent.env, agent.env_params)
    acc, ret, done = evaluate_accuracy(agent.env, ep, agent.net, params, episodes=episodes, seed=seed, greedy=greedy)
    s = summarise_accuracy(acc)
    out = {"per_trial_accuracy": s["per_trial_accuracy"], "trial_1": s["trial_1"], "trials_2_6": s["trials_2_6"],
           "mean_return": round(float(ret[0]), 4), "trials_completed_per_episode": round(float(done[0]), 3),
           "episodes": episodes, "greedy": greedy, "env": agent.cfg.env.id}
    if is_visual(agent.env):
        out["objects"] = "held-out test objects (never seen in training)"
    if dump is not None:
        from neurorl.rl.evaluate import dump_dynamics, evaluate_episodes

        traj = evaluate_episodes(agent.env, ep, agent.net, agent.seed_params(seed_index), episodes=min(episodes, 500),
                                 seed=seed, greedy=greedy, record_hidden=True)
        dump_dynamics(dump, traj)
    return out


agent_evaluator("harlow")(harlow_agent_evaluator)


# ----------------------------------------------------------------------------- training driver
_LAYOUT_WORDS = {"vmap": "vmapped together", "sequential": "one after another"}


def _chunking(num_updates: int, n_quantiles: int, chunk_max: int) -> tuple[int, int]:
    """(updates per quantile, chunk size dividing it) so every compiled call has the same length."""
    if n_quantiles < 1 or num_updates < n_quantiles:
        raise ValueError(f"need num_updates >= quantiles >= 1, got {num_updates} updates, {n_quantiles} quantiles")
    if num_updates % n_quantiles:
        raise ValueError(f"a2c.num_updates ({num_updates}) must be a multiple of the number of quantiles ({n_quantiles})")
    per_q = num_updates // n_quantiles
    chunk = max(d for d in range(1, min(chunk_max, per_q) + 1) if per_q % d == 0)
    return per_q, chunk


def train_with_quantiles(cfg: TrainConfig, run, *, n_quantiles: int, quantile_episodes: int, resume: bool,
                         quiet: bool) -> dict:
    """Train all seeds (one jitted A2C chunk; vmapped or one after another, ``run.seed_layout``), evaluating
    frozen weights after each quantile."""
    from neurorl.rl.a2c import compile_train, seed_keys
    from neurorl.rl.trainer import AGENT, CHECKPOINT, _load_state, _save_state, build_network, make_env, save_agent
    from neurorl.utils.progress import progress_bar

    cfg.validate()
    env, env_params = make_env(cfg.env)
    net = build_network(cfg, env, env_params)
    v_init, v_chunk = compile_train(cfg, env, env_params, net)
    a, r = cfg.a2c, cfg.run
    per_q, chunk = _chunking(a.num_updates, n_quantiles, r.chunk_updates)
    steps_per_update = a.num_envs * a.unroll_length

    state = v_init(seed_keys(cfg))
    done = 0
    ckpt = run.path / CHECKPOINT
    qpath = run.data_dir / "quantiles.json"
    quantiles: list[dict] = []
    metrics_csv = run.metrics("metrics.csv")
    episodes_total = np.zeros(r.seeds)
    if resume and ckpt.exists():
        state, done = _load_state(ckpt, state)
        metrics_csv.truncate_after("update", done)
        if qpath.exists():
            quantiles = [q for q in json.loads(qpath.read_text()) if q["update"] <= done]
        rows = metrics_csv.read()
        for row in rows:
            episodes_total[int(row["seed"])] = float(row["episodes_total"])
    ev_params = eval_params(env, env_params)
    compile_s, train_s, eval_s = None, 0.0, 0.0
    with progress_bar(a.num_updates, f"train {cfg.name}", quiet=quiet, completed=done) as bar:
        while done < a.num_updates:
            tc = time.perf_counter()
            state, m = v_chunk(state, chunk)
            m = jax.device_get(m)
            dt = time.perf_counter() - tc
            if compile_s is None:
                compile_s = dt
            else:
                train_s += dt
            done += chunk
            for s in range(r.seeds):
                episodes_total[s] += float(m["episodes"][s]) * chunk
                row = {"update": done, "env_steps": done * steps_per_update, "seed": s,
                       "episodes_total": episodes_total[s]}
                row.update({k: float(v[s]) for k, v in m.items()})
                metrics_csv.append(row)
            if done % per_q == 0:
                te = time.perf_counter()
                acc, ret, _ = evaluate_accuracy(env, ev_params, net, state.params, episodes=quantile_episodes,
                                                seed=50_000 + done)
                eval_s += time.perf_counter() - te
                k = done // per_q - 1
                label = "Final" if done == a.num_updates else QUANTILE_LABELS[k]
                quantiles.append({"label": label, "update": done, "episodes_per_seed": episodes_total.tolist(),
                                  "accuracy": acc.tolist(), "mean_return": ret.tolist()})
                run.write_json("data/quantiles.json", quantiles)
            _save_state(ckpt, state, done, cfg)
            bar.set(done, description=f"train {cfg.name} R/ep {np.nanmean(m['episode_return']):.2f}")
    save_agent(run.path / AGENT, state.params, cfg)
    if compile_s is None:
        compile_s = 0.0
    return {"env": env, "env_params": env_params, "net": net, "params": state.params, "quantiles": quantiles,
            "compile_seconds": compile_s, "train_seconds": train_s, "quantile_eval_seconds": eval_s,
            "updates": done, "env_steps_per_seed": done * steps_per_update,
            "episodes_per_seed": episodes_total.tolist()}


# ----------------------------------------------------------------------------- animation
def record_episode(env, env_params, net, params, *, seed: int = 0, greedy: bool = False, max_steps: int = 250):
    """One episode with frozen weights: returns (frames uint8, rewards). Python loop: for animations only."""
    key = jax.random.PRNGKey(seed)
    key, k = jax.random.split(key)
    obs, state = env.reset(k, env_params)
    carry = net.initialize_carry(1)

    @jax.jit
    def act(carry, obs, start, key):
        batched = jax.tree_util.tree_map(lambda x: x[None], obs)
        carry, logits, _ = net.apply(params, carry, batched, jnp.array([start]))
        a = jnp.argmax(logits[0]) if greedy else jax.random.categorical(key, logits[0])
        return carry, a

    frames, rewards = [env.render(state)], []
    start = True
    for _ in range(max_steps):
        key, ka, ks = jax.random.split(key, 3)
        carry, a = act(carry, obs, start, ka)
        start = False
        obs, state2, r, term, trunc, _ = _step(env, ks, state, a, env_params)
        state = state2
        frames.append(env.render(state))
        rewards.append(float(r))
        if bool(term) or bool(trunc):
            break
    return frames, rewards


def _step(env, key, state, action, params):
    obs, state, reward, terminated, info = env.step_env(key, state, action, params)
    return obs, state, reward, terminated, env.is_truncated(state, params), info


# ----------------------------------------------------------------------------- figures, report
def draw_harlow_figures(run_path: Path) -> list[Path]:
    from neurorl.analysis.harlow import PUBLISHED_BKHMSI, PUBLISHED_PAPER, plot_quantiles, plot_training_curve

    run_path = Path(run_path)
    info = json.loads((run_path / "run.json").read_text())
    name = info["experiment"]
    out = run_path / "figures"
    paths: list[Path] = []
    qpath = run_path / "data" / "quantiles.json"
    if qpath.exists():
        quantiles = json.loads(qpath.read_text())
        n_seeds = len(quantiles[0]["accuracy"]) if quantiles else 0
        held = " (held-out objects)" if "visual" in name else ""
        pub, label = (PUBLISHED_PAPER, "Published: Wang et al. 2018, Nature Fig 6c") if "visual" in name else \
            (PUBLISHED_BKHMSI, "Published: BKHMSI 1-D (PyTorch, 8 seeds)")
        paths += plot_quantiles(quantiles, out, title=f"neurorl {name}{held}: mean ± sd over {n_seeds} seed(s)",
                                published=pub, published_label=label)
        if "visual" not in name:
            # second figure: beside the paper's curve too
            p2 = plot_quantiles(quantiles, out / "paper", title=f"neurorl {name}: mean ± sd over {n_seeds} seed(s)",
                                published=PUBLISHED_PAPER, published_label="Published: Wang et al. 2018, Nature Fig 6c")
            paths += p2
    paths += plot_training_curve(run_path, out, title=f"{name}: reward per episode during training")
    return paths


def _report(s: dict) -> str:
    layout = _LAYOUT_WORDS.get(s.get("seed_layout"), "vmapped together")
    lines = [f"# {s['preset']}", "",
             f"{s['seeds']} seed(s), {s['episodes']} evaluation episodes per seed "
             f"({'held-out test objects' if 'visual' in s['preset'] else 'fresh episodes'}), "
             f"{'greedy' if s['greedy'] else 'sampled'} actions.", "",
             "| trial | 1 | 2 | 3 | 4 | 5 | 6 |", "|---|---|---|---|---|---|---|",
             "| % correct (mean) | " + " | ".join(f"{x:.1f}" for x in s["per_trial_accuracy"]) + " |",
             "| sd over seeds | " + " | ".join(f"{x:.1f}" for x in s["per_trial_sd"]) + " |", "",
             f"Trials 2-6: {s['trials_2_6']:.2f} % (sd over seeds {s['trials_2_6_sd']:.2f}, worst seed "
             f"{s['trials_2_6_min_seed']:.2f}); trial 1: {s['trial_1']:.2f} %.", "",
             "Published (figure readings, meta_rl.md §1.1, §3.4): paper final ≈53 / 97 / 98-99 %; "
             "BKHMSI 1-D final ≈50 / 94 / 94-95 %.", "",
             f"Targets (issue 3): {s['targets']} -> {'met' if s['targets_met'] else 'NOT met'}: {s['target_checks']}", "",
             f"Training: {s['env_steps_per_seed']:,} env steps and {s['episodes_per_seed_mean']:,.0f} episodes per seed; "
             f"compile {s['compile_seconds']:.1f} s, train {s['train_seconds']:.1f} s "
             f"({s['minutes_per_seed']:.2f} min per seed, seeds {layout}), quantile evaluations "
             f"{s['quantile_eval_seconds']:.1f} s; total wall {s['wall_seconds']:.1f} s on {s['machine']}.", "",
             "Figures: figures/accuracy_by_quantile.png, figures/training_curve.png, figures/episode.gif"]
    return "\n".join(lines) + "\n"


def reproduce(name: str, *, seeds: int, episodes: int, quantiles: int, quantile_episodes: int, out: Path | None,
              overrides: list[str], greedy: bool, quiet: bool, resume: bool, export_agent: Path | None) -> dict:
    from neurorl.analysis.harlow import summarise_accuracy
    from neurorl.envs.render import save_episode
    from neurorl.rl.presets import get_preset
    from neurorl.utils.config import apply_overrides
    from neurorl.utils.provenance import machine_description
    from neurorl.utils.runs import RunDir

    t0 = time.perf_counter()
    cfg = apply_overrides(get_preset(name), list(overrides) + [f"--config.run.seeds={seeds}"])
    run = RunDir.create(name, cfg, path=out, seed=[cfg.agent.random_seed + i for i in range(seeds)])
    res = train_with_quantiles(cfg, run, n_quantiles=quantiles, quantile_episodes=quantile_episodes,
                               resume=resume, quiet=quiet)
    env, ep, net = res["env"], res["env_params"], res["net"]
    acc, ret, done = evaluate_accuracy(env, eval_params(env, ep), net, res["params"], episodes=episodes, seed=2024,
                                       greedy=greedy)
    summary = {"preset": name, "seeds": seeds, "episodes": episodes, "greedy": greedy, **summarise_accuracy(acc),
               "mean_return": [round(float(x), 4) for x in ret],
               "trials_completed_per_episode": [round(float(x), 3) for x in done]}
    if is_visual(env):
        acc_tr, _, _ = evaluate_accuracy(env, ep, net, res["params"], episodes=min(episodes, 500), seed=2025,
                                         greedy=greedy)
        summary["training_objects"] = summarise_accuracy(acc_tr)
    t = res["train_seconds"] + res["compile_seconds"]
    summary.update({k: res[k] for k in ("compile_seconds", "train_seconds", "quantile_eval_seconds", "updates",
                                         "env_steps_per_seed")})
    summary["episodes_per_seed_mean"] = float(np.mean(res["episodes_per_seed"]))
    summary["minutes_per_seed"] = t / 60.0 / seeds
    summary["seed_layout"] = cfg.run.seed_layout
    summary["wall_minutes_all_seeds"] = t / 60.0
    summary["steps_per_second"] = (seeds * res["env_steps_per_seed"] / res["train_seconds"]) if res["train_seconds"] else None
    summary["machine"] = machine_description()
    tg = TARGETS.get(name, {})
    checks = {}
    if "trials_2_6 >=" in tg:
        checks["trials_2_6"] = summary["trials_2_6"] >= tg["trials_2_6 >="]
    if "trial_1 in" in tg:
        lo, hi = tg["trial_1 in"]
        checks["trial_1"] = lo <= summary["trial_1"] <= hi
    if "minutes_per_seed <=" in tg:
        checks["minutes_per_seed"] = summary["minutes_per_seed"] <= tg["minutes_per_seed <="]
    summary.update(targets=tg, target_checks=checks, targets_met=all(checks.values()))
    # an animation of one evaluation episode (seed 0's agent)
    p0 = jax.tree_util.tree_map(lambda x: x[0], res["params"])
    frames, _ = record_episode(env, eval_params(env, ep), net, p0, seed=7, greedy=greedy)
    save_episode(frames, run.figures_dir / "episode.gif", fps=6)
    summary["wall_seconds"] = time.perf_counter() - t0
    run.write_json("data/summary.json", summary)
    summary["figures"] = [str(p) for p in draw_harlow_figures(run.path)] + [str(run.figures_dir / "episode.gif")]
    if export_agent is not None:
        from neurorl.rl.zoo import export_agent as _export

        t26 = np.asarray(acc)[:, 1:].mean(1)
        best = int(np.argmax(t26))
        _export(run.path / "agent.ckpt", Path(export_agent), best,
                {"per_trial_accuracy_%": [round(float(x) * 100, 2) for x in acc[best]],
                 "evaluation": f"{episodes} episodes, {'held-out objects, ' if is_visual(env) else ''}"
                               f"{'greedy' if greedy else 'sampled'} actions",
                 "chosen": f"seed index {best} of {seeds} (best trials 2-6)"})
        summary["exported_agent"] = str(export_agent)
    run.write_report(_report(summary))
    run.finish(summary={k: v for k, v in summary.items() if k != "figures"})
    summary["run_dir"] = str(run.path)
    return summary


def _print(s: dict, json_out: bool) -> None:
    if json_out:
        print(json.dumps(s, default=float))
        return
    typer.echo(f"\n{s['preset']}: % correct per trial {s['per_trial_accuracy']} (sd {s['per_trial_sd']})")
    typer.echo(f"  trials 2-6 {s['trials_2_6']:.2f} %, trial 1 {s['trial_1']:.2f} %; targets met: {s['targets_met']} "
               f"{s['target_checks']}")
    typer.echo(f"  {s['minutes_per_seed']:.2f} min per seed; report: {s['run_dir']}/report.md")


def _make_reproduce(name: str, default_seeds: int):
    def cmd(
        ctx: typer.Context,
        seeds: int = typer.Option(default_seeds, min=1, help="Seeds (vmapped in one program, or one after another "
                                  "where the preset's run.seed_layout says so: harlow-visual)."),
        episodes: int = typer.Option(1000, min=1, help="Final evaluation episodes per seed (frozen weights)."),
        quantiles: int = typer.Option(5, min=1, help="Training quantiles at which % correct per trial is measured."),
        quantile_episodes: int = typer.Option(200, min=1, help="Evaluation episodes per seed at each quantile."),
        greedy: bool = typer.Option(False, help="Evaluate greedy (argmax) actions instead of sampling."),
        out: Path = typer.Option(None, help="Run folder."),
        resume: bool = typer.Option(False, help="Resume the run in --out from its last checkpoint."),
        export_agent: Path = typer.Option(None, help="Also export the best seed as a shipped agent folder."),
        json_out: bool = typer.Option(False, "--json", help="Print the metrics as one JSON object."),
    ):
        s = reproduce(name, seeds=seeds, episodes=episodes, quantiles=quantiles, quantile_episodes=quantile_episodes,
                      out=out, overrides=list(ctx.args), greedy=greedy, quiet=json_out, resume=resume,
                      export_agent=export_agent)
        _print(s, json_out)

    cmd.__doc__ = (f"Train {name} (preset '{name}'), measure % correct per trial at training quantiles and at the end, "
                   "draw the figures beside the published curves. Extra --config.a.b=v overrides the preset.")
    return cmd


_CTX = {"allow_extra_args": True, "ignore_unknown_options": True}
# 5 seeds by default for both: the targets are over >= 5 seeds.
reproduce_app.command("harlow-1d", context_settings=_CTX)(_make_reproduce("harlow-1d", 5))
reproduce_app.command("harlow-visual", context_settings=_CTX)(_make_reproduce("harlow-visual", 5))


@plotter("harlow-1d")
def _plot_1d(run_path: Path) -> list[Path]:
    return draw_harlow_figures(run_path)


@plotter("harlow-visual")
def _plot_visual(run_path: Path) -> list[Path]:
    return draw_harlow_figures(run_path)


# ----------------------------------------------------------------------------- human play
@play_app.command("harlow")
def play_harlow(
    visual: bool = typer.Option(False, help="Play the pixel version (ASCII sketch; --image writes the screen)."),
    size: int = typer.Option(32, help="Screen size of the pixel version."),
    held_out: bool = typer.Option(False, help="Pixel version: use the held-out test objects."),
    seed: int = typer.Option(0, help="Episode seed."),
    episodes: int = typer.Option(1, min=1, help="Episodes to play."),
    image: Path = typer.Option(None, help="Write the current frame to this PNG after every move."),
):
    """Play Harlow: type a (or l, 0) to look left, d (or r, 1) to look right, q to quit; one move per line.

    Fixate the red cross (+), then look at one of the two objects: the same object is rewarded in
    all 6 trials of an episode, whatever its side.
    """
    import sys

    from PIL import Image

    from neurorl.envs.harlow import Harlow1D
    from neurorl.envs.harlow_visual import TEST, HarlowVisual

    env = HarlowVisual(size=size) if visual else Harlow1D()
    params = env.default_params.replace(split=TEST) if (visual and held_out) else env.default_params
    key = jax.random.PRNGKey(seed)
    total_correct = np.zeros(N_TRIALS)
    moves = {"a": 0, "l": 0, "0": 0, "left": 0, "d": 1, "r": 1, "1": 1, "right": 1}

    def show(state, msg=""):
        typer.echo(env.render_text(state) + (f"   {msg}" if msg else ""))
        if image is not None:
            Image.fromarray(env.render(state)).save(image)

    for e in range(episodes):
        key, k = jax.random.split(key)
        _, state = env.reset(k, params)
        typer.echo(f"episode {e + 1}: a/d to move the gaze, q to quit")
        show(state)
        ep_return = 0.0
        while True:
            line = sys.stdin.readline()
            if not line:
                typer.echo("end of input")
                return
            cmd = line.strip().lower()
            if cmd in ("q", "quit", "exit"):
                typer.echo(f"quit; correct by trial so far: {total_correct.astype(int).tolist()}")
                return
            if cmd not in moves:
                typer.echo(f"unknown move {cmd!r}: type a/l/0 (left), d/r/1 (right) or q")
                continue
            key, k = jax.random.split(key)
            _, state, r, term, trunc, info = _step(env, k, state, jnp.int32(moves[cmd]), params)
            r = float(r)
            ep_return += r
            msg = ""
            if bool(info["fixated"]):
                msg = "fixated: +0.2"
            elif bool(info["choice_made"]):
                t = int(info["trial"])
                ok = bool(info["correct"])
                total_correct[t] += ok
                msg = f"trial {t + 1}: {'correct +1' if ok else 'wrong -1'}"
            show(state, msg)
            if bool(term) or bool(trunc):
                typer.echo(f"episode over ({'6 trials' if bool(term) else '250-step limit'}): return {ep_return:.1f}")
                break
    typer.echo(f"correct by trial over {episodes} episode(s): {total_correct.astype(int).tolist()}")

"""``neurorl play bandit``: play a bandit episode yourself in the terminal.

Choose the family, the number of arms and of trials; type an arm number each trial (``q`` quits).
At the end the arm probabilities are revealed and your score is compared with every baseline on
the SAME task (same arm probabilities, drifts included), as expected reward over the trials played.

Non-interactive use (tests, scripts): choices are read line by line from stdin, e.g.
``printf '1\\n2\\n1\\n' | neurorl play bandit --trials 3 --seed 0 --json``.
"""

from __future__ import annotations

import json
import sys

import typer

from neurorl.cli_registry import play_app


def _read_choice(console, prompt: str, num_arms: int) -> int | None:
    """Arm index (0-based) from one stdin line, re-asking on bad input; None on 'q' or end of input."""
    while True:
        console.print(prompt, end="")
        line = sys.stdin.readline()
        if not line:  # end of input
            console.print()
            return None
        text = line.strip().lower()
        if not sys.stdin.isatty():
            console.print(text)  # echo piped input so transcripts read naturally
        if text in ("q", "quit", "exit"):
            return None
        if text.isdigit() and 1 <= int(text) <= num_arms:
            return int(text) - 1
        console.print(f"[red]Please type an arm number from 1 to {num_arms}, or q to stop.[/red]")


@play_app.command("bandit")
def play_bandit(
    family: str = typer.Option("independent", help="Task family: independent, dependent, dependent-easy, "
                               "dependent-medium, dependent-hard, correlated, restless, informative."),
    arms: int = typer.Option(None, help="Number of arms (default: the family's, 2 or 11)."),
    trials: int = typer.Option(20, help="Trials in the episode (the tasks use 100)."),
    seed: int = typer.Option(None, help="Random seed of the task and rewards (default: random)."),
    baseline_episodes: int = typer.Option(4000, help="Simulated episodes per baseline on your task."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as one JSON object on stdout."),
):
    """Play a multi-armed bandit yourself; arm probabilities and baseline scores are revealed at the end."""
    import secrets

    import jax
    import jax.numpy as jnp
    import numpy as np
    from rich.console import Console
    from rich.table import Table

    from neurorl.baselines.bandits import episodes_from_trajectory, run_baselines
    from neurorl.envs import FAMILIES, make

    if family not in FAMILIES:
        raise typer.BadParameter(f"unknown family {family!r}; expected one of {list(FAMILIES)}", param_hint="--family")
    if trials < 1:
        raise typer.BadParameter(f"must be >= 1, got {trials}", param_hint="--trials")
    if baseline_episodes < 1:
        raise typer.BadParameter(f"must be >= 1, got {baseline_episodes}", param_hint="--baseline-episodes")
    try:
        env, params = make(f"neurorl/Bandit-{family}-v0", num_arms=arms, max_steps_in_episode=trials)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--arms") from None

    console = Console(stderr=json_out, highlight=False)
    seed = secrets.randbelow(2**31) if seed is None else seed
    key = jax.random.key(seed)
    k_reset, k_steps, k_base = jax.random.split(key, 3)
    _, state = env.reset(k_reset, params)
    step = jax.jit(env.step_no_reset)
    n = env.num_arms

    console.print(f"[bold]Bandit ({family}, {n} arms, {trials} trials)[/bold]. Each arm pays "
                  + ("1 with a hidden probability" if env.rewards_are_bernoulli else "a hidden fixed amount")
                  + (" that drifts over time" if env.probs_drift else "") + ". Type 1-%d, or q to stop." % n)
    actions, rewards, probs_seen = [], [], []
    pulls, wins = np.zeros(n, int), np.zeros(n)
    for t, k in enumerate(jax.random.split(k_steps, trials)):
        a = _read_choice(console, f"Trial {t + 1}/{trials} - arm? ", n)
        if a is None:
            break
        _, state_next, r, _, _, info = step(k, state, jnp.int32(a), params)
        state = state_next
        r = float(r)
        actions.append(a)
        rewards.append(r)
        probs_seen.append(np.asarray(info["arm_probs"]))
        pulls[a] += 1
        wins[a] += r
        console.print(f"  arm {a + 1} -> reward [bold]{r:g}[/bold]   (total {sum(rewards):g})")

    played = len(actions)
    result: dict = {"family": family, "arms": n, "trials": trials, "trials_played": played, "seed": seed}
    if played == 0:
        console.print("No trials played.")
        if json_out:
            print(json.dumps(result))
        return

    traj = np.stack(probs_seen)  # (played, n): the task exactly as you faced it
    expected = float(sum(traj[t, a] for t, a in enumerate(actions)))
    result.update(
        actions=[a + 1 for a in actions], rewards=rewards, reward=float(sum(rewards)), expected_reward=expected,
        arm_probs_start=traj[0].round(4).tolist(), arm_probs_end=traj[-1].round(4).tolist(),
    )
    short = params.replace(max_steps_in_episode=played)
    res = run_baselines(env, short, key=k_base, episodes=episodes_from_trajectory(traj, k_base, baseline_episodes))
    result["baselines"] = {name: round(r.summary()["expected_reward"], 3) for name, r in res.items()}

    reveal = Table(title="The arms, revealed")
    reveal.add_column("arm")
    reveal.add_column("probability" if env.rewards_are_bernoulli else "payoff")
    if env.probs_drift:
        reveal.add_column("at the end")
    reveal.add_column("your pulls")
    reveal.add_column("your reward")
    for i in range(n):
        row = [str(i + 1), f"{traj[0, i]:.2f}"] + ([f"{traj[-1, i]:.2f}"] if env.probs_drift else [])
        reveal.add_row(*row, str(pulls[i]), f"{wins[i]:g}")
    console.print(reveal)
    score = Table(title=f"Expected reward over your {played} trials, same task")
    score.add_column("player")
    score.add_column("expected reward", justify="right")
    entries = [("you", expected)] + [(k.replace("_", " "), v) for k, v in result["baselines"].items()]
    for name, v in sorted(entries, key=lambda x: -x[1]):
        style = "bold green" if name == "you" else None
        score.add_row(name, f"{v:.2f}", style=style)
    console.print(score)
    console.print(f"You collected {sum(rewards):g} (expected {expected:.2f}; the oracle expects "
                  f"{result['baselines'].get('oracle', float('nan')):.2f}).")
    if json_out:
        print(json.dumps(result))

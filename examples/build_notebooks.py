"""Write the example notebooks (examples/*.ipynb) from the cell sources below.

The notebooks are stored without outputs; edit the cells here and run
``python examples/build_notebooks.py`` to regenerate them. Every notebook reads
``NEURORL_NOTEBOOK_QUICK=1`` (set by tests/notebooks) to switch to tiny settings, so CI executes
each one top to bottom in seconds; without it they run the laptop-sized settings (a few minutes).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

SETUP = '''import os
os.environ.setdefault("MPLBACKEND", "Agg")  # headless-safe; inline plots still show in Jupyter
import matplotlib
import matplotlib.pyplot as plt
import numpy as np

QUICK = os.environ.get("NEURORL_NOTEBOOK_QUICK") == "1"  # tiny settings for CI
RUNS = os.environ.get("NEURORL_RUNS", "runs/notebooks")
print("quick mode" if QUICK else "laptop mode", "| run folders under", RUNS)'''

BANDIT = [
    new_markdown_cell("""# Meta-RL on bandits: train, evaluate, analyse, play

The workflow of Wang et al. (2018) "Prefrontal cortex as a meta-reinforcement learning system",
and of the original meta-rl notebooks (train -> evaluate-and-analyse -> play as a human),
with neurorl's JAX trainer:

1. **train** a recurrent (LSTM 48) actor-critic with A2C on a distribution of two-armed bandits
   (seeds vmapped in one compiled program);
2. **evaluate** with frozen weights beside the Bayes-optimal, Gittins, Thompson and UCB1 baselines on
   the *same* episodes;
3. **analyse**: cumulative regret, the action raster over arm probabilities, the hidden state;
4. **play** the task yourself (ipywidgets; skipped if ipywidgets is not installed).

Set `NEURORL_NOTEBOOK_QUICK=1` for a smoke run in seconds; the default settings take a few minutes on a laptop CPU.
The same steps on the command line: `neurorl train bandit-independent`, `neurorl reproduce bandit-independent`,
`neurorl play bandit`."""),
    new_code_cell(SETUP),
    new_markdown_cell("## 1. Train"),
    new_code_cell('''import jax
from neurorl.rl.presets import get_preset
from neurorl.rl.trainer import train
from neurorl.utils.config import apply_overrides
from neurorl.utils.runs import RunDir

SEEDS = 2
if QUICK:
    overrides = ["--config.a2c.num_updates=10", "--config.a2c.num_envs=8", "--config.run.chunk_updates=5",
                 "--config.run.eval_every_updates=0"]
else:
    overrides = ["--config.a2c.num_updates=3000", "--config.run.chunk_updates=250", "--config.run.eval_every_updates=1000"]
cfg = apply_overrides(get_preset("bandit-independent"), overrides + [f"--config.run.seeds={SEEDS}"])
run = RunDir.create(cfg.name, cfg, root=RUNS, seed=[cfg.agent.random_seed + i for i in range(SEEDS)])
res = train(cfg, run, quiet=True)
print(f"{res.env_steps:,} env steps per seed; compile {res.compile_seconds:.1f} s, train {res.train_seconds:.1f} s; run folder {run.path}")'''),
    new_code_cell('''from neurorl.analysis.common import read_csv

m = read_csv(run.path / "metrics.csv")
fig, ax = plt.subplots(figsize=(5, 3))
for s in range(SEEDS):
    sel = m["seed"] == s
    ax.plot(m["update"][sel], m["reward_per_step"][sel], label=f"seed {s}")
ax.axhline(0.6667, ls="--", c="k", lw=0.8, label="oracle 0.667")
ax.set_xlabel("update"); ax.set_ylabel("reward per trial (training)"); ax.legend(); plt.show()'''),
    new_markdown_cell("## 2. Evaluate with frozen weights, beside the baselines on the same episodes"),
    new_code_cell('''from neurorl.experiments.bandits import evaluate_bandit

EPISODES = 64 if QUICK else 2000
params_list = [jax.tree_util.tree_map(lambda x: x[s], res.params) for s in range(SEEDS)]
ev = evaluate_bandit(res.env, res.env_params, res.net, params_list, episodes=EPISODES, seed=2024, greedy=False)
print(f"{'policy':16s} {'regret/100 trials':>18s} {'reward/trial':>13s}")
for i, a in enumerate(ev["agents"]):
    print(f"{'meta-RL seed ' + str(i):16s} {a['regret']:18.2f} {a['reward_per_trial']:13.3f}")
for name, b in ev["baselines"].items():
    print(f"{name:16s} {b['regret']:18.2f} {b['reward_per_trial']:13.3f}")'''),
    new_markdown_cell("## 3. Analyse: cumulative regret, actions across tasks, hidden state"),
    new_code_cell('''fig, ax = plt.subplots(figsize=(5, 3))
for name, curve in ev["curves"].items():
    ax.plot(np.arange(1, len(curve) + 1), curve, label=name, lw=2 if name.startswith("agent") else 1)
ax.set_xlabel("trial"); ax.set_ylabel("cumulative regret"); ax.legend(fontsize=7); plt.show()'''),
    new_code_cell('''from neurorl.rl.evaluate import evaluate_episodes

# 101 episodes with arm probabilities (p1, 1 - p1), p1 = 0 ... 1 (the original's action raster, meta_rl.md §2.6)
env = res.env
p1 = np.linspace(0.0, 1.0, 101, dtype=np.float32)
probs = np.stack([p1, 1.0 - p1], axis=1)
traj = evaluate_episodes(env, res.env_params, res.net, params_list[0], episodes=101, seed=7, greedy=False,
                         record_hidden=True, reset_fn=lambda k, p, prm: env.reset_with_probs(k, p, prm), reset_args=probs)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
axes[0].imshow(traj["action"], aspect="auto", cmap="coolwarm", interpolation="nearest",
               extent=[0, traj["action"].shape[1], 1, 0])
axes[0].set_xlabel("trial"); axes[0].set_ylabel("p(arm 1)"); axes[0].set_title("actions (blue: arm 1, red: arm 2)")
# Hidden state at the last trial, projected on its first two principal components, coloured by p1.
h = np.asarray(traj["hidden"])
h_last = h[:, -1].reshape(h.shape[0], -1)
h_c = h_last - h_last.mean(0)
_, _, vt = np.linalg.svd(h_c, full_matrices=False)
pc = h_c @ vt[:2].T
sc = axes[1].scatter(pc[:, 0], pc[:, 1], c=p1, cmap="coolwarm", s=12)
axes[1].set_title("LSTM state after 100 trials (PCA)"); plt.colorbar(sc, ax=axes[1], label="p(arm 1)")
plt.tight_layout(); plt.show()'''),
    new_markdown_cell("""## 4. Play it yourself

Click an arm; rewards are Bernoulli with hidden probabilities drawn like the agent's tasks.
After the last trial the probabilities and the agent's score on the same task are revealed.
(Without ipywidgets, or in CI, a few clicks are simulated.)"""),
    new_code_cell('''import jax.numpy as jnp

class HumanBandit:
    """One episode of the trained agent's task family, stepped by clicks."""

    def __init__(self, env, env_params, seed=0, trials=20):
        self.env, self.params, self.trials = env, env_params, trials
        self.key = jax.random.PRNGKey(seed)
        self.key, k = jax.random.split(self.key)
        self.obs, self.state = env.reset(k, env_params)
        self.rewards, self.choices = [], []

    @property
    def done(self):
        return len(self.choices) >= self.trials

    def pull(self, arm):
        if self.done:
            return None
        self.key, k = jax.random.split(self.key)
        self.obs, self.state, r, term, trunc, info = self.env.step(k, self.state, jnp.int32(arm), self.params)
        self.choices.append(arm); self.rewards.append(float(r))
        return float(r)

    def summary(self):
        probs = np.asarray(self.state.arm_probs)
        return (f"{sum(self.rewards):.0f} reward in {len(self.choices)} trials; arm probabilities {np.round(probs, 2)}; "
                f"best arm would give {probs.max() * len(self.choices):.1f} expected")

game = HumanBandit(res.env, res.env_params, seed=3, trials=5 if QUICK else 20)
try:
    import ipywidgets as widgets
    from IPython.display import display
except ImportError:
    widgets = None

if widgets is not None:
    out = widgets.Output()
    def on_click(arm):
        def handler(_button):
            r = game.pull(arm)
            with out:
                print(game.summary() if game.done else f"trial {len(game.choices)}: arm {arm + 1} -> reward {r:.0f}")
        return handler
    buttons = [widgets.Button(description=f"arm {i + 1}") for i in range(res.env.num_arms)]
    for i, b in enumerate(buttons):
        b.on_click(on_click(i))
    display(widgets.HBox(buttons), out)
    if QUICK:  # CI: simulate clicks through the same handlers
        for t in range(game.trials):
            buttons[t % len(buttons)].click()
else:
    print("ipywidgets is not installed (pip install ipywidgets); simulating a player that alternates arms")
    for t in range(game.trials):
        game.pull(t % res.env.num_arms)
print(game.summary() if game.done else "click the arms above")'''),
]

NOTEBOOKS = {"bandit_meta_rl.ipynb": BANDIT}


def build(names=None) -> list[Path]:
    paths = []
    for name, cells in NOTEBOOKS.items():
        if names and name not in names:
            continue
        nb = new_notebook(cells=cells, metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"}})
        p = HERE / name
        nbformat.write(nb, p)
        paths.append(p)
    return paths


if __name__ == "__main__":
    import sys

    for p in build(sys.argv[1:]):
        print(p)

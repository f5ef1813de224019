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
# Baselines include the exact Bayes-optimal DP and the Gittins table (slow to build): skipped in quick mode.
ev = evaluate_bandit(res.env, res.env_params, res.net, params_list, episodes=EPISODES, seed=2024, greedy=False,
                     baselines=not QUICK)
print(f"{'policy':16s} {'regret/100 trials':>18s} {'reward/trial':>13s}")
for i, a in enumerate(ev["agents"]):
    print(f"{'meta-RL seed ' + str(i):16s} {a['regret']:18.2f} {a['reward_per_trial']:13.3f}")
for name, b in ev.get("baselines", {}).items():
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

HARLOW = [
    new_markdown_cell("""# Harlow "learning to learn" (Wang et al. 2018, Sim 5 / Fig 6)

Each episode shows pairs of new objects; one object of the pair is rewarded for the whole episode.
A meta-RL agent learns the *rule*: trial 1 is a guess (50 %), trials 2-6 are near 100 %.
This notebook trains the 1-D version (BKHMSI's strip task; GRU 256 with an MLP encoder), measures
% correct per trial at training quantiles, shows the figures and one evaluation episode, and
evaluates a shipped agent if the package has one.

`NEURORL_NOTEBOOK_QUICK=1`: a few updates only (the agent will still be at chance).
Command line: `neurorl reproduce harlow-1d`, `neurorl eval harlow-1d`, `neurorl play harlow`."""),
    new_code_cell(SETUP),
    new_code_cell('''from IPython.display import Image, Markdown, display
from neurorl.experiments.harlow import reproduce

if QUICK:
    overrides = ["--config.a2c.num_updates=4", "--config.a2c.num_envs=8", "--config.run.chunk_updates=2",
                 "--config.agent.num_lstm_units=32"]
    kw = dict(seeds=2, episodes=20, quantiles=2, quantile_episodes=10)
else:
    overrides = ["--config.a2c.num_updates=600"]
    kw = dict(seeds=2, episodes=500, quantiles=4, quantile_episodes=200)
s = reproduce("harlow-1d", out=None, overrides=overrides, greedy=False, quiet=True, resume=False, export_agent=None, **kw)
print("% correct per trial (mean over seeds):", s["per_trial_accuracy"])
print(f"trial 1: {s['trial_1']:.1f} %, trials 2-6: {s['trials_2_6']:.1f} %; {s['minutes_per_seed']:.2f} min per seed")
display(Markdown(open(f"{s['run_dir']}/report.md").read()))'''),
    new_code_cell('''import glob
for f in sorted(glob.glob(f"{s['run_dir']}/figures/*.png")) + glob.glob(f"{s['run_dir']}/figures/*.gif"):
    print(f)
    display(Image(filename=f))'''),
    new_markdown_cell("## A shipped agent (if the package has one), evaluated with frozen weights"),
    new_code_cell('''from neurorl.rl.zoo import shipped_agents, resolve_agent
from neurorl.rl.trainer import load_agent
from neurorl.experiments.harlow import evaluate_accuracy, eval_params

names = [n for n in shipped_agents() if n.startswith("harlow")]
print("shipped Harlow agents:", names or "none")
if names:
    agent = load_agent(resolve_agent(names[0]))
    acc, ret, _ = evaluate_accuracy(agent.env, eval_params(agent.env, agent.env_params), agent.net, agent.params,
                                    episodes=20 if QUICK else 500, seed=0)
    print(names[0], "% correct per trial:", np.round(100 * acc.mean(0), 1))'''),
]

HIPPOCAMPUS = [
    new_markdown_cell("""# The hippocampus model: locally and over HTTP

The Leabra hippocampus (EC, DG, CA3, CA1; theta-phase learning) stores binary 144-unit patterns and
recalls them from partial cues. This notebook uses the same model two ways:

1. **in Python**: `neurorl.hippocampus.model.HippocampusModel` (set patterns, train, test, step);
2. **over HTTP**: `neurorl serve` (started here as a subprocess on a free port) and `neurorl.client.Client`,
   the replacement of the original Go server + Python client (the server holds its own model instance,
   so compare behaviour — distance to the target, nearest stored pattern — rather than bits).

`NEURORL_NOTEBOOK_QUICK=1`: 3 patterns, 1 epoch."""),
    new_code_cell(SETUP),
    new_markdown_cell("## 1. In Python"),
    new_code_cell('''from neurorl.hippocampus.experiment import corrupt_random, random_patterns
from neurorl.hippocampus.model import HippocampusModel

rng = np.random.default_rng(0)
N, EPOCHS = (3, 1) if QUICK else (10, 5)
patterns = random_patterns(rng, N)  # 36 of 144 units on (the original client's patterns)
model = HippocampusModel(seed=0)
model.set_patterns(patterns)
stats = model.train(epochs=EPOCHS)
print(f"trained {N} patterns for {EPOCHS} epoch(s) in {stats['seconds']:.1f} s; last epoch Mem = {stats['epoch_stats'][-1]['mem']:.3f}")

cue = corrupt_random(rng, patterns[0], 0.5)  # half of the active units removed
local = model.test(cue, target=patterns[0])
print(f"recall from a 50 % cue: Hamming distance to the target {local['distance']}, nearest stored pattern #{local['closest_index']}")
rewards = model.step(np.stack([corrupt_random(rng, p, 0.25) for p in patterns]), patterns)
print("reward per cue (144 - distance):", rewards)'''),
    new_code_cell('''fig, axes = plt.subplots(1, 3, figsize=(8, 2.4))
for ax, img, title in zip(axes, [patterns[0], cue, local["recall"]], ["target", "cue", "recall"]):
    ax.imshow(np.asarray(img).reshape(12, 12), cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(title); ax.axis("off")
plt.show()'''),
    new_markdown_cell("## 2. Over HTTP: `neurorl serve` + `neurorl.client.Client`"),
    new_code_cell('''import socket, subprocess, sys, time
from neurorl.client import Client

with socket.socket() as sock:
    sock.bind(("127.0.0.1", 0)); port = sock.getsockname()[1]
server = subprocess.Popen([sys.executable, "-m", "neurorl.cli", "serve", "--port", str(port)])
client = Client(f"http://127.0.0.1:{port}", timeout=120)
for _ in range(600):  # wait for the server to answer (imports + startup)
    try:
        client.health(); break
    except Exception:
        time.sleep(0.2)
print("server:", client.health())'''),
    new_code_cell('''try:
    client.create_model("notebook", seed=0)
    client.set_patterns("notebook", patterns)
    job = client.train("notebook", max_epochs=EPOCHS, wait=True, timeout=600)
    print("training job:", job.get("status"))
    remote = client.test("notebook", cue, target=patterns[0])
    print(f"over HTTP: Hamming distance to the target {remote['target_distance']}, nearest stored pattern #{remote['closest_index']}"
          f" (in Python: {local['distance']}, #{local['closest_index']})")
finally:
    client.close()
    server.terminate(); server.wait(30)'''),
]

FOLLOW = [
    new_markdown_cell("""# FOLLOW: a spiking network learns a forward model (Gilra & Gerstner 2017)

A recurrent network of LIF neurons learns the dynamics of a van der Pol oscillator from the error
fed back into it, with a local, online plasticity rule. After learning, the network predicts the
trajectory open loop (no feedback). The paper ran 10,000 simulated seconds with 3,000 neurons; here
a small network and a short run show the mechanics. `neurorl reproduce follow-vanderpol` runs the
full reproduction.

`NEURORL_NOTEBOOK_QUICK=1`: 100 neurons, 24 simulated seconds."""),
    new_code_cell(SETUP),
    new_code_cell('''from IPython.display import Image, Markdown, display
from neurorl.experiments.follow import reproduce

if QUICK:
    duration, neurons = 24.0, 100
    overrides = ["--config.t_nolearning=4", "--config.test_duration=4", "--config.chunk_seconds=8"]
else:
    duration, neurons = 400.0, 1000
    overrides = ["--config.test_duration=20", "--config.chunk_seconds=50"]
s = reproduce("vanderpol", duration=duration, neurons=neurons, out=None, resume=False, continue_from=None,
              input_seed=None, overrides=overrides, quiet=True)
display(Markdown(open(f"{s['run_dir']}/report.md").read()))'''),
    new_code_cell('''import glob
for f in sorted(glob.glob(f"{s['run_dir']}/figures/*.png")):
    print(f)
    display(Image(filename=f))'''),
]

NOTEBOOKS = {"bandit_meta_rl.ipynb": BANDIT, "harlow.ipynb": HARLOW, "hippocampus_api.ipynb": HIPPOCAMPUS,
             "follow.ipynb": FOLLOW}


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

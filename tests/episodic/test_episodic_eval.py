"""`neurorl eval` loads episodic (DND + epLSTM) agents: the network is rebuilt from the run's family."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from neurorl.agents.episodic import EpisodicActorCritic
from neurorl.cli import app
from neurorl.experiments.two_step import reproduce_episodic_two_step
from neurorl.rl.trainer import load_agent

TINY = ["--config.a2c.num_updates=6", "--config.a2c.num_envs=4", "--config.run.chunk_updates=3"]


def test_eval_loads_episodic_two_step_agent(tmp_path):
    out = tmp_path / "run"
    reproduce_episodic_two_step(seeds=1, episodes=8, out=out, overrides=TINY, quiet=True)
    agent = load_agent(out)
    assert isinstance(agent.net, EpisodicActorCritic)

    res = CliRunner().invoke(app, ["eval", str(out), "--episodes", "8", "--json"])
    assert res.exit_code == 0, res.output
    m = json.loads(res.output.strip().splitlines()[-1])
    assert m["family"] == "two-step-episodic"
    assert len(m["episodic_stay"]) == 4 and 0.0 <= m["reward_per_100"] <= 100.0
    assert set(m["published_episodic_stay"]) == {"R-C", "R-U", "U-C", "U-U"}

    bad = CliRunner().invoke(app, ["eval", str(out), "--episodes", "8", "--greedy"])
    assert bad.exit_code != 0 and "greedy" in bad.output


def test_episodic_harlow_family_builds_its_network():
    # The two-step test above covers train -> save -> `neurorl eval`; here only the family's builder
    # (a full Harlow-episodic run costs ~2 min of compilation in the suite).
    from neurorl.rl.presets import get_preset
    from neurorl.rl.trainer import build_network, make_env

    cfg = get_preset("harlow-episodic")
    env, env_params = make_env(cfg.env)
    net = build_network(cfg, env, env_params)
    assert isinstance(net, EpisodicActorCritic) and net.replace_similar and net.retrieval
    assert net.hidden == cfg.agent.num_lstm_units

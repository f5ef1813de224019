"""The neurorl command as a newcomer uses it: train, eval, reproduce, plot, and its error messages."""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from neurorl.cli import app
from neurorl.experiments import load_all

load_all()
runner = CliRunner()
TINY = ["--config.a2c.num_updates=20", "--config.a2c.num_envs=8", "--config.run.chunk_updates=10",
        "--config.run.eval_every_updates=10", "--config.run.eval_episodes=16"]


def invoke(*args):
    return runner.invoke(app, list(args))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    res = invoke("train", "bandit-dependent-easy", *TINY, "--out", str(out), "--json")
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    assert summary["updates"] == 20 and summary["seeds"] == 1
    return out


def test_train_writes_a_complete_run_folder(run_dir):
    for name in ("run.json", "metrics.csv", "evaluator.csv", "checkpoint.ckpt", "agent.ckpt"):
        assert (run_dir / name).exists(), name
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "finished" and info["config"]["a2c"]["num_updates"] == 20


def test_eval_prints_regret_and_baselines_as_json(run_dir):
    res = invoke("eval", str(run_dir), "--episodes", "50", "--json")
    assert res.exit_code == 0, res.output
    m = json.loads(res.stdout.strip().splitlines()[-1])
    assert m["episodes"] == 50 and m["bandit_family"] == "dependent-easy"
    assert {"bayes_optimal", "thompson", "ucb1", "gittins", "random", "oracle"} <= set(m["baselines"])
    assert 0.0 <= m["regret"] <= 80.0


def test_eval_dump_is_loadable(run_dir, tmp_path):
    import numpy as np

    res = invoke("eval", str(run_dir), "--episodes", "5", "--dump", str(tmp_path / "d.npz"))
    assert res.exit_code == 0, res.output
    d = np.load(tmp_path / "d.npz")
    assert d["action"].shape == (5, 100) and d["hidden"].shape == (5, 100, 48)
    assert d["info_arm_probs"].shape == (5, 100, 2) and d["logits"].shape == (5, 100, 2)


def test_plot_redraws_the_training_curve(run_dir):
    res = invoke("plot", str(run_dir), "--json")
    assert res.exit_code == 0, res.output
    assert (run_dir / "figures" / "training_curve.png").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (("train", "no-such-preset"), "unknown preset"),
        (("train", "bandit-independent", "--config.a2c.gamma=2"), "gamma must be in [0, 1]"),
        (("train", "bandit-independent", "--config.a2c.bogus=2"), "unknown config key"),
        (("train", "bandit-independent", "--stray"), "unexpected arguments"),
        (("eval", "no-such-agent"), "no agent named"),
        (("plot", "/nonexistent/run"), "not a neurorl run folder"),
    ],
)
def test_errors_are_clear(args, message):
    res = invoke(*args)
    assert res.exit_code != 0
    assert message in res.output


def test_reproduce_writes_report_figures_and_json(tmp_path):
    out = tmp_path / "rep"
    res = invoke("reproduce", "bandit-dependent-easy", "--seeds", "1", "--episodes", "200", "--out", str(out), "--json", *TINY)
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout.strip().splitlines()[-1])
    assert s["family"] == "dependent-easy" and "bayes_optimal" in s["baselines"] and "target_met" in s
    for f in ("action_raster.png", "cumulative_regret.png", "training_curve.png"):
        assert (out / "figures" / f).exists(), f
    assert "Bayes" in (out / "report.md").read_text() or "bayes" in (out / "report.md").read_text()
    for f in (out / "figures").glob("*.png"):
        f.unlink()
    assert invoke("plot", str(out)).exit_code == 0
    assert (out / "figures" / "action_raster.png").exists()


def test_console_script_is_installed():
    res = subprocess.run([sys.executable, "-m", "neurorl.cli", "--help"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and "reproduce" in res.stdout


def test_unknown_option_of_a_reproduce_command_is_a_clean_error():
    r = subprocess.run([sys.executable, "-m", "neurorl.cli", "reproduce", "harlow-1d", "--no-such-flag"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2
    assert "'--no-such-flag' is not an option of this command" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("name", ["bandit-independent", "bandit-dependent", "bandit-correlated"])
def test_shipped_agents_are_trained(name):
    """`neurorl eval <shipped agent>` right after install: a trained agent, not an initialised one.

    400 episodes: the regret's standard error is about 0.25. The shipped agents measure 1.3-2.3
    (10,000 episodes, their READMEs); UCB1 is at 5.6-6.0 and random at 16-25 on these families."""
    res = invoke("eval", name, "--episodes", "400", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["regret"] < 3.5 < out["baselines"]["ucb1"]["regret"], out
    assert out["regret"] < out["baselines"]["random"]["regret"] / 4

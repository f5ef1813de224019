"""``neurorl play bandit`` driven non-interactively: choices fed on stdin."""

from __future__ import annotations

import json

from typer.testing import CliRunner

import neurorl.cli  # noqa: F401  (attaches play_app to app)
import neurorl.experiments.play_bandit  # noqa: F401  (registers the command)
from neurorl.cli_registry import app

runner = CliRunner()
# Full plays use 100 trials and 4,000 baseline episodes of a 2-armed family: the same shapes as
# tests/baselines, so the jitted baselines compile once per test session.
PLAY = ["play", "bandit", "--trials", "100", "--baseline-episodes", "4000"]
CHOICES = [1, 2, 2, 2, 1, 1] * 16 + [2, 1, 1, 2]  # 100 choices


def test_play_bandit_from_stdin_json():
    lines = ["1", "2", "banana", "7"] + [str(c) for c in CHOICES[2:]]
    res = runner.invoke(app, PLAY + ["--seed", "4", "--json"], input="\n".join(lines) + "\n")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["trials_played"] == 100 and out["actions"] == CHOICES  # bad lines re-asked
    assert set(out["rewards"]) <= {0.0, 1.0} and out["reward"] == sum(out["rewards"])
    p = out["arm_probs_start"]
    assert abs(out["expected_reward"] - sum(p[a - 1] for a in out["actions"])) < 1e-3
    b = out["baselines"]
    assert set(b) == {"bayes_optimal", "gittins", "thompson", "ucb1", "random", "oracle"}
    assert abs(b["oracle"] - 100 * max(p)) < 1e-2 and abs(b["random"] - 50 * sum(p)) < 0.5


def test_play_bandit_reveals_probabilities():
    res = runner.invoke(app, PLAY + ["--family", "dependent-easy", "--seed", "1"], input="2\n1\n" * 50)
    assert res.exit_code == 0, res.output
    assert "revealed" in res.output and "0.90" in res.output and "0.10" in res.output
    assert "bayes optimal" in res.output and "you" in res.output


def test_play_bandit_quit_and_bad_options():
    res = runner.invoke(app, ["play", "bandit", "--seed", "1", "--json"], input="q\n")
    assert res.exit_code == 0 and json.loads(res.stdout.strip().splitlines()[-1])["trials_played"] == 0
    bad = runner.invoke(app, ["play", "bandit", "--family", "nope"], input="")
    assert bad.exit_code != 0 and "unknown family" in bad.output
    bad = runner.invoke(app, ["play", "bandit", "--family", "dependent", "--arms", "3"], input="")
    assert bad.exit_code != 0 and "exactly 2 arms" in bad.output
    bad = runner.invoke(app, ["play", "bandit", "--trials", "0"], input="")
    assert bad.exit_code != 0 and ">= 1" in bad.output

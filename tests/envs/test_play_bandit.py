"""``neurorl play bandit`` driven non-interactively: choices fed on stdin."""

from __future__ import annotations

import json

from typer.testing import CliRunner

import neurorl.cli  # noqa: F401  (attaches play_app to app)
import neurorl.experiments.play_bandit  # noqa: F401  (registers the command)
from neurorl.cli_registry import app

runner = CliRunner()
# Both full plays use 6 trials of a 2-armed family, so the baselines compile once.
PLAY = ["play", "bandit", "--trials", "6", "--baseline-episodes", "4000"]


def test_play_bandit_from_stdin_json():
    res = runner.invoke(app, PLAY + ["--seed", "4", "--json"], input="1\n2\nbanana\n7\n2\n2\n1\n1\n")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["trials_played"] == 6 and out["actions"] == [1, 2, 2, 2, 1, 1]  # bad lines re-asked
    assert set(out["rewards"]) <= {0.0, 1.0} and out["reward"] == sum(out["rewards"])
    p = out["arm_probs_start"]
    assert abs(out["expected_reward"] - sum(p[a - 1] for a in out["actions"])) < 1e-3
    b = out["baselines"]
    assert set(b) == {"bayes_optimal", "gittins", "thompson", "ucb1", "random", "oracle"}
    assert abs(b["oracle"] - 6 * max(p)) < 1e-2 and abs(b["random"] - 3 * sum(p)) < 0.1


def test_play_bandit_reveals_probabilities():
    res = runner.invoke(app, PLAY + ["--family", "dependent-easy", "--seed", "1"], input="2\n1\n2\n1\n2\n1\n")
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

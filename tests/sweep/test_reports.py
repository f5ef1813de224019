"""Reproduction reports and the generated section of docs/results.md."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from neurorl import reports
from neurorl.utils.runs import RunDir


def _repro_run(tmp_path, name="toy-repro"):
    run = RunDir.create(name, {"x": 1}, path=tmp_path / name)
    reports.write_reproduction_report(
        run.path, title="Toy reproduction", wall_seconds=12.3, figures=[run.path / "figures" / "a.png"],
        rows=[{"quantity": "accuracy", "ours": 0.91234, "published": "0.9 (Fig 2)", "original": "0.85", "source": "x.md §1"}])
    run.finish()
    return run.path


def test_write_report_md_and_json(tmp_path):
    d = _repro_run(tmp_path)
    md = (d / "report.md").read_text()
    assert "| accuracy | **0.9123** | 0.9 (Fig 2) | 0.85 | x.md §1 |" in md
    assert "Time on this machine: 12.3 s" in md and "![a](figures/a.png)" in md
    rep = json.loads((d / "report.json").read_text())
    assert rep["rows"][0]["ours"] == "0.9123" and rep["wall_seconds"] == 12.3
    with pytest.raises(ValueError, match="lacks"):
        reports.write_reproduction_report(d, title="t", wall_seconds=1, rows=[{"quantity": "q", "ours": 1}])


def test_results_md_keeps_hand_written_text_and_regenerates_only_its_section(tmp_path):
    d = _repro_run(tmp_path)
    results = tmp_path / "results.md"
    hand = "# Results\n\nIntro by hand.\n\n| reproduction | ours |\n|---|---|\n| manual row | 1 |\n"
    results.write_text(hand)
    reports.write_results_md(results, [d])
    text = results.read_text()
    assert text.startswith(hand)  # everything before the section is kept byte for byte
    assert reports.BEGIN in text and reports.END in text
    assert "| toy-repro | accuracy | 0.9123 | 0.9 (Fig 2) | 0.85 | 12 s | [report](toy-repro/report.md) |" in text
    # hand edits after the section survive a regeneration; the section is replaced, not duplicated
    results.write_text(text + "\nTrailing notes by hand.\n")
    reports.write_results_md(results, [])
    again = results.read_text()
    assert again.startswith(hand) and again.endswith("\nTrailing notes by hand.\n")
    assert again.count(reports.BEGIN) == 1 and "toy-repro" not in again


def test_bandit_adapter_and_fallback_rows(tmp_path):
    run = RunDir.create("bandit-independent", {}, path=tmp_path / "b")
    run.write_json("data/summary.json", {
        "seeds": 2, "episodes": 100, "regret_mean": 2.1, "regret_sd": 0.2, "reward_per_trial_mean": 0.646,
        "reference": {"oracle": 66.67, "bayes_optimal_regret": 1.75}, "baselines": {"bayes_optimal": {"regret": 1.7, "reward_per_trial": 0.649}},
        "target": "regret <= 2.300", "target_met": True, "wall_seconds": 33.0})
    run.write_report("# Meta-RL bandit reproduction: independent\n")
    e = reports.report_entry(run.path)
    assert e["rows"][0]["ours"] == "2.10 ± 0.20" and "Bayes-optimal 1.75" in e["rows"][0]["published"]
    assert "met" in e["rows"][0]["quantity"]
    other = RunDir.create("something-else", {}, path=tmp_path / "o")
    other.write_report("# Something else\n")
    other.finish()
    e2 = reports.report_entry(other.path)
    assert e2["title"] == "Something else" and e2["rows"][0]["ours"] == "see report" and e2["wall_seconds"] is not None
    assert reports.find_run_dirs([tmp_path]) == sorted([run.path, other.path])


def test_reproduce_all_discovers_registered_commands():
    cmds = {c.name: c for c in reports.discover_reproductions()}
    assert "all" not in cmds and "bandit-independent" in cmds
    assert "--out" in cmds["bandit-independent"].options
    only = reports.discover_reproductions(only=["bandit-*"], skip=["bandit-dependent*"],
                                          extra={"bandit-*": ["--episodes", "10"]})
    assert only and all(c.name.startswith("bandit-") and not c.name.startswith("bandit-dependent") for c in only)
    args = only[0].args(quick=True, out_dir=__import__("pathlib").Path("/tmp/x"))
    assert args[:2] == ["reproduce", only[0].name] and args[-2:] == ["--episodes", "10"] and "--quick" not in args


def test_reproduce_all_dry_run_cli():
    from neurorl.cli import app
    from neurorl.experiments import load_all

    load_all()
    r = CliRunner().invoke(app, ["reproduce", "all", "--dry-run", "--only", "bandit-independent"])
    assert r.exit_code == 0, r.output
    assert "bandit-independent" in r.stdout and "reproduce bandit-independent --out" in r.stdout
    r = CliRunner().invoke(app, ["reproduce", "all", "--dry-run", "--only", "no-such-*"])
    assert r.exit_code == 2


def test_quick_plan_covers_every_reproduction():
    """`reproduce all --quick` has a short preset for every registered reproduction, and every option
    in it exists on that command (a renamed option or a new reproduction without a preset fails here)."""
    from pathlib import Path

    cmds = reports.discover_reproductions()
    assert len(cmds) >= 10
    assert [p for c in cmds for p in c.quick_problems()] == []
    for c in cmds:
        full, quick = c.args(quick=False, out_dir=Path("/tmp/x")), c.args(quick=True, out_dir=Path("/tmp/x"))
        assert quick == full + (["--quick"] if "--quick" in c.options else list(c.quick_args)), c.name
    # every training reproduction is cut to a few updates
    bandit = next(c for c in cmds if c.name == "bandit-independent")
    assert "--config.a2c.num_updates=10" in bandit.args(True, Path("/tmp/x"))
    # what the check catches
    assert "no short preset" in reports.ReproCommand("brand-new", frozenset({"--out"})).quick_problems()[0]
    renamed = reports.ReproCommand("x", frozenset({"--out"}), quick_args=("--episodes", "5"))
    assert "--episodes is not an option" in renamed.quick_problems()[0]
    no_config = reports.ReproCommand("x", frozenset(), quick_args=("--config.a2c.num_updates=1",))
    assert "takes no --config overrides" in no_config.quick_problems()[0]


def test_reproduce_all_quick_runs_reproductions_end_to_end(tmp_path):
    """The real pipeline on the two cheapest reproductions (~15 CPU s each), two at a time: subprocesses
    with their quick presets, report.md, wall and CPU seconds per reproduction, and the results table
    written to OUT/results.md (never docs/results.md in quick mode), marked as quick."""
    from neurorl.cli import app
    from neurorl.experiments import load_all

    load_all()
    out = tmp_path / "quick"
    r = CliRunner().invoke(app, ["reproduce", "all", "--quick", "--jobs", "2", "--only", "hippocampus-abac",
                                 "--only", "follow-vanderpol", "--out", str(out)])
    logs = "".join(p.read_text() for p in out.glob("*.log"))
    assert r.exit_code == 0, r.output + logs
    assert "--networks 1 --items 2 --max-epochs 2" in r.stdout and "2/2 reproductions ok" in r.stdout
    results = (out / "results.md").read_text()
    assert reports.BEGIN in results and "| hippocampus-abac |" in results and "| follow-vanderpol |" in results
    assert "Quick presets" in results
    for name in ("hippocampus-abac", "follow-vanderpol"):
        info = json.loads((out / name / "reproduce_all.json").read_text())
        assert info["returncode"] == 0 and info["quick"] and info["cpu_seconds"] > 0
    assert (out / "jax_cache").is_dir()  # shared compilation cache of the subprocesses

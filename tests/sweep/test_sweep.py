"""Sweeps: planning and validation, a local sweep stopped and resumed (finished jobs skipped, the
interrupted job resumed from its checkpoint), aggregation, the CLI, and a Ray sweep on a local
2-CPU cluster with one worker process killed mid-run whose final parameters equal the
uninterrupted sweep's."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from neurorl import sweep as sw

# Tiny jobs: compile-dominated, a few updates, 2 seeds vmapped per job.
# Evaluation is off (eval_every_updates=0): one compile less per job; the sweep then ranks training metrics.
TINY = ["--config.a2c.num_envs=4", "--config.a2c.unroll_length=10", "--config.a2c.num_updates=4",
        "--config.run.chunk_updates=2", "--config.run.eval_every_updates=0"]
GRID = {"a2c.gamma": ["0.8", "0.9"]}
# The Ray sweep has 4 jobs; its value_coef=0.05 points are the local sweep's jobs (0.05 is the preset default).
RAY_GRID = {"a2c.gamma": ["0.8", "0.9"], "a2c.value_coef": ["0.05", "0.1"]}


@pytest.fixture(scope="module", autouse=True)
def compilation_cache(tmp_path_factory):
    """A persistent XLA cache for this module (restored afterwards). γ and β_v are traced inputs of the
    trainer, so every tiny job here (any γ, any β_v, local or in a Ray worker) is the same program:
    compiled once, then loaded. Results are identical either way (same executable)."""
    import jax
    from jax.experimental.compilation_cache import compilation_cache as cc

    old = jax.config.jax_compilation_cache_dir
    path = tmp_path_factory.mktemp("jax_cache")
    jax.config.update("jax_compilation_cache_dir", str(path))
    cc.reset_cache()
    yield path
    jax.config.update("jax_compilation_cache_dir", old)
    cc.reset_cache()


def test_parse_grid_and_plan():
    grid = sw.parse_grid(["a2c.gamma=0.8,0.9", "--config.optim.learning_rate=1e-3, 3e-4"])
    assert grid == {"a2c.gamma": ["0.8", "0.9"], "optim.learning_rate": ["1e-3", "3e-4"]}
    jobs = sw.plan_jobs("bandit-independent", 3, grid, TINY)
    assert len(jobs) == 4 and len({j.job_id for j in jobs}) == 4
    assert jobs[1].point == {"a2c.gamma": "0.8", "optim.learning_rate": "3e-4"}
    cfg = jobs[1].config()
    assert cfg.run.seeds == 3 and cfg.a2c.gamma == 0.8 and cfg.optim.learning_rate == 3e-4 and cfg.a2c.num_updates == 4


def test_seed_blocks_train_the_same_seeds_and_aggregate_per_point(tmp_path):
    jobs = sw.plan_jobs("bandit-independent", 5, {"a2c.gamma": ["0.8", "0.9"]}, TINY, seeds_per_job=2)
    assert [(j.job_id, j.seed_start, j.seeds) for j in jobs[:3]] == [
        ("p000_gamma-0.8_s000", 0, 2), ("p000_gamma-0.8_s002", 2, 2), ("p000_gamma-0.8_s004", 4, 1)]
    base = jobs[0].config().agent.random_seed
    assert [j.config().agent.random_seed for j in jobs[:3]] == [base, base + 2, base + 4]  # seed i -> base + i
    assert {j.point_id for j in jobs} == {"p000_gamma-0.8", "p001_gamma-0.9"}
    # aggregation merges the blocks of a point in seed order (fake results: no training needed)
    sweep = sw.create_sweep("bandit-independent", seeds=5, grid={"a2c.gamma": ["0.8", "0.9"]}, out=tmp_path / "s",
                            base_overrides=TINY, seeds_per_job=2)
    for j in sweep.jobs:
        vals = [float(j.seed_start + i) for i in range(j.seeds)]
        sw.atomic_write_json(sweep.job_dir(j) / sw.RESULT, {"metrics": {"train/reward_per_step": vals}, "params_sha256": j.job_id})
    s = sw.aggregate(sweep, write=False)
    assert [r["per_seed"]["train/reward_per_step"] for r in s["rows"]] == [[0.0, 1.0, 2.0, 3.0, 4.0]] * 2
    assert s["rows"][0]["seeds"] == 5 and s["rows"][0]["stats"]["train/reward_per_step"][0] == 2.0
    assert sw.open_sweep(sweep.path).seeds_per_job == 2


@pytest.mark.parametrize("items, match", [
    (["a2c.gamma"], "key=v1,v2"),
    (["a2c.gamma=0.8,0.8"], "repeated"),
    (["a2c.gamma=0.8", "a2c.gamma=0.9"], "twice"),
    (["run.seeds=1,2"], "--seeds"),
])
def test_parse_grid_rejects_bad_entries(items, match):
    with pytest.raises(sw.SweepError, match=match):
        sw.parse_grid(items)


def test_plan_rejects_unknown_keys_values_and_presets():
    with pytest.raises(sw.SweepError, match="unknown config key"):
        sw.plan_jobs("bandit-independent", 1, {"a2c.gamme": ["0.9"]})
    with pytest.raises(sw.SweepError, match=r"gamma must be in \[0, 1\]"):
        sw.plan_jobs("bandit-independent", 1, {"a2c.gamma": ["1.5"]})
    with pytest.raises(sw.SweepError, match="expected a number"):
        sw.plan_jobs("bandit-independent", 1, {"a2c.gamma": ["high"]})
    with pytest.raises(sw.SweepError, match="unknown preset"):
        sw.plan_jobs("no-such-preset", 1, {})
    with pytest.raises(sw.SweepError, match="seeds"):
        sw.plan_jobs("bandit-independent", 0, {})


def assert_same_metrics(a: dict, b: dict) -> None:
    """Equal final metrics per seed (NaN == NaN: episode_return is NaN when no episode ended)."""
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(np.asarray(a[k], float), np.asarray(b[k], float), err_msg=k)


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory):
    """A 2-job sweep stopped after job 0 finished and job 1 ran half its updates, then resumed."""
    out = tmp_path_factory.mktemp("sweep") / "s"
    sweep = sw.create_sweep("bandit-independent", seeds=2, grid=GRID, out=out, base_overrides=TINY)
    assert sw.run_job(sweep.jobs[0], sweep.job_dir(sweep.jobs[0])) is not None
    assert sw.run_job(sweep.jobs[1], sweep.job_dir(sweep.jobs[1]), stop_after_updates=2) is None  # "stopped"
    first_result = (sweep.job_dir(sweep.jobs[0]) / sw.RESULT).read_bytes()
    assert [j.job_id for j in sweep.pending()] == [j.job_id for j in sweep.jobs[1:]]

    resumed = sw.create_sweep("bandit-independent", seeds=2, grid=GRID, out=out, base_overrides=TINY, resume=True)
    logs: list[str] = []
    results = sw.run_local(resumed, quiet=True, log=logs.append)
    return {"sweep": resumed, "results": results, "logs": logs, "first_result": first_result}


def test_resume_skips_finished_and_continues_interrupted(local_sweep):
    sweep, results, logs = local_sweep["sweep"], local_sweep["results"], local_sweep["logs"]
    j0, j1 = sweep.jobs[0], sweep.jobs[1]
    assert any(j0.job_id in m and "skipped" in m for m in logs)
    assert (sweep.job_dir(j0) / sw.RESULT).read_bytes() == local_sweep["first_result"]  # not rerun
    assert results[j1.job_id]["resumed_from_update"] == 2
    assert results[j0.job_id]["resumed_from_update"] == 0 and results[j1.job_id]["updates"] == 4
    assert sweep.pending() == []
    # metrics.csv of the resumed job holds each update once per seed (no duplicated rows after resume)
    rows = [r for r in open(sweep.job_dir(j1) / "metrics.csv").read().splitlines()[1:]]
    assert len(rows) == 2 * 2  # 2 chunks x 2 seeds


def test_resume_refuses_a_different_plan(local_sweep):
    out = local_sweep["sweep"].path
    with pytest.raises(sw.SweepError, match="already holds a sweep"):
        sw.create_sweep("bandit-independent", seeds=2, grid=GRID, out=out, base_overrides=TINY)
    with pytest.raises(sw.SweepError, match="its seeds is 2"):
        sw.create_sweep("bandit-independent", seeds=3, grid=GRID, out=out, base_overrides=TINY, resume=True)


def test_aggregation_mean_sd_best_and_files(local_sweep):
    sweep = local_sweep["sweep"]
    s = sw.aggregate(sweep)
    assert len(s["rows"]) == 2 and not s["pending"]
    m = "train/reward_per_step"
    assert s["main_metric"] == m
    for row in s["rows"]:
        vals = np.asarray(row["per_seed"][m])
        assert len(vals) == 2  # one value per seed
        mean, sd = row["stats"][m]
        assert math.isclose(mean, vals.mean(), rel_tol=1e-9) and math.isclose(sd, vals.std(ddof=1), rel_tol=1e-9)
    best = max(s["rows"], key=lambda r: r["stats"][m][0])
    assert s["best"][m]["job_id"] == best["job_id"] and s["best"][m]["goal"] == "max"
    least_regret = min(s["rows"], key=lambda r: r["stats"]["train/regret_per_step"][0])
    assert s["best"]["train/regret_per_step"]["job_id"] == least_regret["job_id"]
    assert s["best"]["train/regret_per_step"]["goal"] == "min"
    for name in ("summary.md", "summary.csv", "summary.json", "figures/sweep.png", "figures/sweep.pdf"):
        assert (sweep.path / name).stat().st_size > 0
    md = (sweep.path / "summary.md").read_text()
    assert "| a2c.gamma=0.8 |" in md and "±" in md


def test_cli_resume_of_finished_sweep_only_aggregates(local_sweep):
    from neurorl.cli import app
    from neurorl.experiments import load_all

    load_all()
    out = local_sweep["sweep"].path
    r = CliRunner().invoke(app, ["sweep", "bandit-independent", "--out", str(out), "--resume", "--json"])
    assert r.exit_code == 0, r.output
    payload = json.loads(r.stdout.strip().splitlines()[-1])
    assert len(payload["rows"]) == 2 and payload["pending"] == []
    assert "finished earlier, skipped" in r.stderr


def test_cli_rejects_bad_input(tmp_path):
    from neurorl.cli import app
    from neurorl.experiments import load_all

    load_all()
    r = CliRunner().invoke(app, ["sweep", "bandit-independent", "--grid", "a2c.gama=0.9", "--out", str(tmp_path / "x")])
    assert r.exit_code == 2 and "unknown config key" in r.stderr
    r = CliRunner().invoke(app, ["sweep", "bandit-independent", "--out", str(tmp_path / "y"), "--resume"])
    assert r.exit_code == 2 and "holds no sweep" in r.stderr
    r = CliRunner().invoke(app, ["sweep", "bandit-independent", "--bogus"])
    assert r.exit_code == 2 and "unexpected arguments" in r.stderr


def test_plan_groups_share_programs_only_across_traced_keys(tmp_path):
    """gamma/learning rates are traced (one program); num_lstm_units changes shapes (separate programs);
    a group never mixes checkpoint updates or seed counts; max_points caps a group. No training here."""
    from neurorl.rl.trainer import CHECKPOINT
    from neurorl.utils.checkpoint import save_checkpoint

    grid = {"agent.num_lstm_units": ["8", "16"], "a2c.gamma": ["0.8", "0.9"], "optim.learning_rate": ["1e-3", "3e-4"]}
    sweep = sw.create_sweep("bandit-independent", seeds=2, grid=grid, out=tmp_path / "g", base_overrides=TINY)
    groups = sw.plan_groups(sweep)
    assert [[j.point["agent.num_lstm_units"] for j in g] for g in groups] == [["8"] * 4, ["16"] * 4]
    assert [len(g) for g in sw.plan_groups(sweep, max_points=3)] == [3, 1, 3, 1]
    # a job with a checkpoint at update 2 resumes in its own group; a finished job is left out
    save_checkpoint(sweep.job_dir(sweep.jobs[1]) / CHECKPOINT, {"x": np.zeros(1)}, {"update": 2})
    sw.atomic_write_json(sweep.job_dir(sweep.jobs[2]) / sw.RESULT, {})
    ids = [[j.job_id for j in g] for g in sw.plan_groups(sweep)]
    assert ids == [[sweep.jobs[i].job_id for i in (0, 3)], [sweep.jobs[1].job_id], [j.job_id for j in sweep.jobs[4:]]]
    # seed blocks of different sizes never share a program
    blocks = sw.create_sweep("bandit-independent", seeds=3, grid=GRID, out=tmp_path / "b", base_overrides=TINY,
                             seeds_per_job=2)
    assert [[(j.point_id, j.seeds) for j in g] for g in sw.plan_groups(blocks)] == [
        [("p000_gamma-0.8", 2), ("p001_gamma-0.9", 2)], [("p000_gamma-0.8", 1), ("p001_gamma-0.9", 1)]]
    # seeds run one after another (run.seed_layout="sequential"): every job alone, as `neurorl train` runs it
    seq = sw.create_sweep("bandit-independent", seeds=2, grid=GRID, out=tmp_path / "s",
                          base_overrides=TINY + ["--config.run.seed_layout=sequential"])
    assert [len(g) for g in sw.plan_groups(seq)] == [1, 1]


def test_vmapped_grid_points_equal_separate_jobs_and_resume(local_sweep, tmp_path):
    """The 2-point gamma grid trained in ONE program (2 points x 2 seeds = 4 rows), stopped after 2 of 4
    updates and resumed (again one program): every point's weights and final metrics equal the local
    sweep's separate jobs (job 0 uninterrupted, job 1 stopped and resumed), bit for bit."""
    sweep = sw.create_sweep("bandit-independent", seeds=2, grid=GRID, out=tmp_path / "v", base_overrides=TINY)
    logs: list[str] = []
    stopped = sw.run_local(sweep, quiet=True, log=logs.append, stop_after_updates=2)
    assert all(v is None for v in stopped.values()) and len(sweep.pending()) == 2
    assert any("2 grid points x 2 seed(s) in one compiled program" in m for m in logs)
    resumed = sw.create_sweep("bandit-independent", seeds=2, grid=GRID, out=tmp_path / "v", base_overrides=TINY,
                              resume=True)
    assert [len(g) for g in sw.plan_groups(resumed)] == [2]  # both checkpoints at update 2: one program again
    results = sw.run_local(resumed, quiet=True, log=logs.append)
    assert resumed.pending() == []
    local = local_sweep["sweep"]
    for vjob, ljob in zip(resumed.jobs, local.jobs):
        a, b = results[vjob.job_id], local_sweep["results"][ljob.job_id]
        assert a["grid_points_in_program"] == 2 and a["resumed_from_update"] == 2 and a["updates"] == 4
        assert a["params_sha256"] == b["params_sha256"], vjob.job_id
        assert_same_metrics(a["metrics"], b["metrics"])
        rows = open(resumed.job_dir(vjob) / "metrics.csv").read().splitlines()[1:]
        assert len(rows) == 2 * 2  # 2 chunks x 2 seeds, none duplicated by the resume
    assert results[resumed.jobs[0].job_id]["params_sha256"] != results[resumed.jobs[1].job_id]["params_sha256"]
    # a point of the vmapped sweep is an ordinary run folder: its agent loads alone
    from neurorl.rl.trainer import load_agent

    agent = load_agent(resumed.job_dir(resumed.jobs[1]))
    assert agent.num_seeds == 2 and agent.cfg.a2c.gamma == 0.9
    assert len(sw.aggregate(resumed)["rows"]) == 2


@pytest.mark.slow
def test_ray_sweep_with_killed_worker_equals_uninterrupted(local_sweep, tmp_path, compilation_cache):
    """4 jobs on a local 2-CPU Ray cluster; the worker running the (gamma 0.8, value_coef 0.05) job is
    SIGKILLed after 2 of its 4 updates, Ray retries the task, it resumes from the checkpoint, and its
    final parameters and metrics equal the same job's uninterrupted local run (job 0 of the local
    sweep). The (gamma 0.9, value_coef 0.05) job matches the local job that was stopped and resumed."""
    pytest.importorskip("ray")
    from neurorl.distributed import KILL_MARKER, run_ray

    sweep = sw.create_sweep("bandit-independent", seeds=2, grid=RAY_GRID, out=tmp_path / "ray", base_overrides=TINY)
    assert len(sweep.jobs) == 4
    victim = sweep.jobs[0]
    assert victim.point == {"a2c.gamma": "0.8", "a2c.value_coef": "0.05"}
    logs: list[str] = []
    # The workers share this module's compilation cache: the local sweep already compiled their program.
    results = run_ray(sweep, cluster_cpus=2, num_cpus_per_job=1, max_retries=2,
                      kill={"job_id": victim.job_id, "after_updates": 2}, log=logs.append,
                      compilation_cache=compilation_cache)
    killed_pid = int((sweep.job_dir(victim) / KILL_MARKER).read_text())
    final_pid = json.loads((sweep.job_dir(victim) / "worker.json").read_text())["pid"]
    assert final_pid != killed_pid  # the retry ran in another worker process
    assert results[victim.job_id]["resumed_from_update"] == 2
    local = local_sweep["sweep"]
    local_results = local_sweep["results"]
    assert local_results[local.jobs[0].job_id]["resumed_from_update"] == 0  # the uninterrupted reference
    for ray_job, local_job in ((sweep.jobs[0], local.jobs[0]), (sweep.jobs[2], local.jobs[1])):
        assert ray_job.point["a2c.gamma"] == local_job.point["a2c.gamma"]
        a, b = results[ray_job.job_id], local_results[local_job.job_id]
        assert a["params_sha256"] == b["params_sha256"], ray_job.job_id
        assert_same_metrics(a["metrics"], b["metrics"])
    # value_coef changes the loss, so those jobs train different weights
    assert results[sweep.jobs[1].job_id]["params_sha256"] != results[sweep.jobs[0].job_id]["params_sha256"]
    assert len(sw.aggregate(sweep)["rows"]) == 4

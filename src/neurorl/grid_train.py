"""Several grid points of a hyperparameter sweep trained in ONE compiled program.

Configs that differ only in :data:`neurorl.rl.a2c.TRACED_KEYS` (γ, λ, β_v, β_e schedule values,
learning-rate schedule values, clip norm) and in ``agent.random_seed`` (only the PRNG keys) run
the same program: the trainer takes those hyperparameters as a traced :class:`Hyperparams` pytree
(``neurorl.rl.a2c.compile_train_batched``). :func:`train_grid` stacks every (grid point, seed) as
one row of the vmapped batch, compiles once, and then does for each point exactly what
``neurorl.rl.trainer.train`` does for one config: its own run folder with ``metrics.csv``,
``evaluator.csv`` (same evaluation keys), ``checkpoint.ckpt`` (same format: a point can later be
resumed alone, by ``train``) and ``agent.ckpt``. Rows of one batched program and separate
programs give bit-identical weights (tests/sweep/test_grid_vmap.py).

Shape-changing keys (``agent.num_lstm_units``, ``a2c.num_envs``, ...), the schedule/optimiser kind,
``num_updates`` and the run settings (chunking, evaluation) must be equal: :func:`program_key`
says which configs can share a program.
"""

from __future__ import annotations

import json
import time
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from neurorl.rl.a2c import TRACED_KEYS, compile_train_batched, hyperparams, seed_keys, stack_hyperparams
from neurorl.rl.config import TrainConfig
from neurorl.utils.runs import RunDir

# Keys that may differ between configs of one program besides TRACED_KEYS: seeds only change the
# PRNG keys and the number of rows; the display name does not reach the program.
_FREE_KEYS = ("agent.random_seed", "run.seeds", "name")


def program_key(cfg: TrainConfig) -> str:
    """Configs with equal keys can be trained in one program (everything but the traced fields)."""
    d = cfg.to_dict()
    for key in TRACED_KEYS + _FREE_KEYS:
        *parents, leaf = key.split(".")
        node = d
        for p in parents:
            node = node[p]
        node[leaf] = None
    return json.dumps(d, sort_keys=True)


class GridError(ValueError):
    pass


# The last few programs, by program_key: a sweep that trains several groups of one shape in this
# process (points split by --points-per-program, or groups resumed from different updates) compiles
# once; jax.jit keeps one executable per batch size.
_PROGRAMS: dict[str, tuple] = {}
_MAX_PROGRAMS = 2


def _program(cfg: TrainConfig) -> tuple:
    from neurorl.rl.evaluate import make_rollout
    from neurorl.rl.trainer import build_network, make_env

    key = program_key(cfg)
    if key not in _PROGRAMS:
        env, env_params = make_env(cfg.env)
        net = build_network(cfg, env, env_params)
        b_init, b_chunk = compile_train_batched(cfg, env, env_params, net)
        eval_rollout = jax.jit(make_rollout(env, env_params, net, int(env_params.max_steps_in_episode), greedy=False),
                               static_argnums=2)
        while len(_PROGRAMS) >= _MAX_PROGRAMS:
            _PROGRAMS.pop(next(iter(_PROGRAMS)))
        _PROGRAMS[key] = (env, env_params, net, b_init, b_chunk, eval_rollout)
    return _PROGRAMS[key]


def train_grid(cfgs: Sequence[TrainConfig], runs: Sequence[RunDir], *, resume: bool = False, quiet: bool = False,
               stop_after_updates: int | None = None):
    """Train ``cfgs[i]`` (all its ``run.seeds`` seeds) into ``runs[i]``, all in one compiled program.

    Returns one ``neurorl.rl.trainer.TrainResult`` per config (timings are the shared program's).
    With ``resume`` every point continues from its own ``checkpoint.ckpt``; all points must be at
    the same update (a sweep groups jobs by checkpoint, see ``neurorl.sweep.plan_groups``).
    """
    from neurorl.rl.trainer import AGENT, CHECKPOINT, TrainResult, _load_state, _save_state, save_agent
    from neurorl.utils.progress import progress_bar

    cfgs = [c.validate() for c in cfgs]
    if not cfgs or len(cfgs) != len(runs):
        raise GridError(f"train_grid needs one run folder per config, got {len(cfgs)} configs and {len(runs)} runs")
    keys0 = program_key(cfgs[0])
    for c in cfgs[1:]:
        if program_key(c) != keys0:
            raise GridError(f"configs of one program may differ only in {', '.join(TRACED_KEYS + _FREE_KEYS)}; "
                            f"{c.name!r} differs from {cfgs[0].name!r} in another field")
    cfg0 = cfgs[0]
    a, r = cfg0.a2c, cfg0.run
    env, env_params, net, b_init, b_chunk, eval_rollout = _program(cfg0)
    seeds = [c.run.seeds for c in cfgs]
    offsets = np.concatenate([[0], np.cumsum(seeds)]).tolist()
    keys = np.concatenate([np.asarray(seed_keys(c)) for c in cfgs])
    hps = stack_hyperparams([hyperparams(c) for c in cfgs for _ in range(c.run.seeds)])
    steps_per_update = a.num_envs * a.unroll_length

    def rows_of(tree, i):
        return jax.tree_util.tree_map(lambda x: x[offsets[i]:offsets[i + 1]], tree)

    t0 = time.perf_counter()
    state = b_init(keys, hps)
    done_updates = 0
    if resume:
        loaded, updates = [], []
        for i, run in enumerate(runs):
            ckpt = run.path / CHECKPOINT
            part, u = _load_state(ckpt, rows_of(state, i)) if ckpt.exists() else (rows_of(state, i), 0)
            loaded.append(part)
            updates.append(u)
        if len(set(updates)) > 1:
            raise GridError(f"the points' checkpoints are at different updates {updates}: resume them separately "
                            "(or group them by checkpoint update, as neurorl sweep does)")
        done_updates = updates[0]
        if done_updates:
            state = jax.tree_util.tree_map(lambda *x: jnp.concatenate(x), *loaded)
    metrics_csv = [run.metrics("metrics.csv") for run in runs]
    eval_csv = [run.metrics("evaluator.csv") for run in runs]
    if done_updates:
        for m, e in zip(metrics_csv, eval_csv):
            m.truncate_after("update", done_updates)
            e.truncate_after("update", done_updates)
    writers = [None] * len(runs)
    if r.tensorboard:
        from tensorboardX import SummaryWriter

        writers = [SummaryWriter(str(run.path / "tensorboard")) for run in runs]

    target = a.num_updates if stop_after_updates is None else min(a.num_updates, stop_after_updates)
    compile_seconds, train_seconds = None, 0.0
    last_rows: list[list[dict]] = [[] for _ in runs]
    desc = f"train {cfg0.name} ({len(cfgs)} grid points)"
    try:
        with progress_bar(a.num_updates, desc, quiet=quiet, completed=done_updates) as bar:
            while done_updates < target:
                n = min(r.chunk_updates, target - done_updates)
                tc = time.perf_counter()
                state, m = b_chunk(state, hps, n)
                m = jax.device_get(m)
                elapsed = time.perf_counter() - tc
                if compile_seconds is None:
                    compile_seconds = elapsed  # first call includes compilation (as in trainer.train)
                else:
                    train_seconds += elapsed
                done_updates += n
                evaluate = r.eval_every_updates and (done_updates % r.eval_every_updates == 0
                                                     or done_updates == a.num_updates)
                for i, run in enumerate(runs):
                    last_rows[i] = []
                    for s in range(seeds[i]):
                        row = {"update": done_updates, "env_steps": done_updates * steps_per_update, "seed": s}
                        row.update({k: float(v[offsets[i] + s]) for k, v in m.items()})
                        metrics_csv[i].append(row)
                        last_rows[i].append(row)
                        if writers[i] is not None:
                            for k, v in row.items():
                                if k not in ("update", "seed"):
                                    writers[i].add_scalar(f"seed{s}/{k}", v, done_updates * steps_per_update)
                    if evaluate:
                        for s in range(seeds[i]):
                            p = jax.tree_util.tree_map(lambda x: x[offsets[i] + s], state.params)
                            # Same evaluation keys as trainer.train, so a point's evaluator.csv equals a separate run's.
                            traj = jax.device_get(eval_rollout(p, jax.random.PRNGKey(10_000 + done_updates + s),
                                                               r.eval_episodes))
                            alive = traj["alive"]
                            row = {"update": done_updates, "env_steps": done_updates * steps_per_update, "seed": s,
                                   "avg_reward": float((traj["reward"] * alive).sum() / alive.sum()),
                                   "episode_return": float((traj["reward"] * alive).sum(1).mean())}
                            if "regret" in traj["info"]:
                                row["regret_per_episode"] = float((traj["info"]["regret"] * alive).sum(1).mean())
                            eval_csv[i].append(row)
                    _save_state(run.path / CHECKPOINT, rows_of(state, i), done_updates, cfgs[i])
                mean_r = np.nanmean([x["reward_per_step"] for rows in last_rows for x in rows])
                bar.set(done_updates, description=f"{desc} R/step {mean_r:.3f}")
    except KeyboardInterrupt:
        for run in runs:
            run.update_info(status="interrupted", updates_done=done_updates)
        raise
    finally:
        for w in writers:
            if w is not None:
                w.close()

    if compile_seconds is None:
        compile_seconds = time.perf_counter() - t0
    total_rows = offsets[-1]
    steps_done = max(done_updates, 1) * steps_per_update
    sps = total_rows * steps_done / (train_seconds if train_seconds > 0 else max(compile_seconds, 1e-9))
    results = []
    for i, (cfg, run) in enumerate(zip(cfgs, runs)):
        params = rows_of(state.params, i)
        save_agent(run.path / AGENT, params, cfg)
        run.update_info(updates_done=done_updates, compile_seconds=compile_seconds, train_seconds=train_seconds,
                        steps_per_second=sps, grid_points_in_program=len(cfgs), program_rows=total_rows)
        results.append(TrainResult(run, params, net, env, env_params, cfg, compile_seconds, train_seconds,
                                   done_updates * steps_per_update, sps, last_rows[i]))
    return results

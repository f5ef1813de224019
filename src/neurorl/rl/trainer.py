"""The training driver: compile once, call the jitted chunk repeatedly, log, evaluate, checkpoint, resume.

Per chunk of ``run.chunk_updates`` updates it writes one CSV row per seed (``metrics.csv``),
optionally TensorBoard scalars, and an atomic checkpoint of the whole training state
(``checkpoint.ckpt``: parameters, optimiser state, environment states, recurrent states and PRNG
keys), so a run killed at any point resumes from its last chunk and continues exactly as if it
had never stopped. Every ``run.eval_every_updates`` it evaluates frozen weights on fresh
episodes (``evaluator.csv``: the original's ``step, avg-reward`` rows, meta_rl.md §2.5).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from neurorl.agents.actor_critic import RecurrentActorCritic
from neurorl.rl.a2c import compile_train, seed_keys
from neurorl.rl.config import TrainConfig
from neurorl.rl.evaluate import make_rollout
from neurorl.utils.checkpoint import load_checkpoint, save_checkpoint
from neurorl.utils.progress import progress_bar
from neurorl.utils.runs import RunDir

CHECKPOINT = "checkpoint.ckpt"
AGENT = "agent.ckpt"


def make_env(env_cfg):
    """Environment from the neurorl registry, or any environment registered with gymnax."""
    params = env_cfg.params_dict()
    from neurorl.envs import registry

    if env_cfg.id in registry.list_envs():
        return registry.make(env_cfg.id, **params)
    import gymnax

    if env_cfg.id in gymnax.registered_envs:
        env, env_params = gymnax.make(env_cfg.id)
        return env, env_params.replace(**params) if params else env_params
    raise ValueError(f"unknown environment id {env_cfg.id!r}; neurorl ids: {registry.list_envs()}")


# Task families whose agent is not the plain RecurrentActorCritic (e.g. the episodic DND + epLSTM
# agents) register a builder here, so load_agent / `neurorl eval` rebuild the right network.
NETWORK_BUILDERS: dict[str, Callable[[TrainConfig, Any, Any], Any]] = {}


def register_network(family: str):
    """Decorator: ``builder(cfg, env, env_params) -> net`` for agents of ``cfg.family == family``."""

    def deco(fn):
        NETWORK_BUILDERS[family] = fn
        return fn

    return deco


def build_network(cfg: TrainConfig, env, env_params):
    if cfg.family not in NETWORK_BUILDERS:
        from neurorl.experiments import load_all  # task modules register their builders on import

        load_all()
    if cfg.family in NETWORK_BUILDERS:
        return NETWORK_BUILDERS[cfg.family](cfg, env, env_params)
    num_actions = int(env.action_space(env_params).n)
    encoder_kwargs = cfg.agent.encoder_kwargs()
    return RecurrentActorCritic(num_actions=num_actions, core=cfg.agent.core, hidden=cfg.agent.num_lstm_units,
                                encoder=cfg.agent.encoder, encoder_kwargs=encoder_kwargs)


@dataclasses.dataclass
class TrainResult:
    run: RunDir
    params: Any  # stacked over seeds
    net: Any
    env: Any
    env_params: Any
    cfg: TrainConfig
    compile_seconds: float
    train_seconds: float
    env_steps: int  # per seed
    steps_per_second: float  # all seeds together, learning included
    final_metrics: list[dict]  # last chunk, one dict per seed


def _save_state(path: Path, state, update: int, cfg: TrainConfig) -> None:
    leaves = jax.tree_util.tree_leaves(state)
    save_checkpoint(path, {str(i): np.asarray(x) for i, x in enumerate(leaves)},
                    {"update": update, "config": cfg.to_dict(), "num_leaves": len(leaves)})


def _load_state(path: Path, template) -> tuple[Any, int]:
    tree, meta = load_checkpoint(path)
    t_leaves, treedef = jax.tree_util.tree_flatten(template)
    if meta.get("num_leaves") != len(t_leaves):
        raise ValueError(f"{path} holds a training state of another shape (different config?)")
    leaves = []
    for i, t in enumerate(t_leaves):
        x = np.asarray(tree[str(i)])
        if x.shape != t.shape:
            raise ValueError(f"{path}: leaf {i} has shape {x.shape}, expected {t.shape} (different config?)")
        leaves.append(jnp.asarray(x, dtype=t.dtype))
    return jax.tree_util.tree_unflatten(treedef, leaves), int(meta["update"])


def save_agent(path: Path, params, cfg: TrainConfig, extra: dict | None = None) -> Path:
    meta = {"config": cfg.to_dict(), "family": cfg.family, "seeds": int(jax.tree_util.tree_leaves(params)[0].shape[0])}
    meta.update(extra or {})
    return save_checkpoint(path, {"params": jax.device_get(params)}, meta)


def train(cfg: TrainConfig, run: RunDir, *, resume: bool = False, quiet: bool = False,
          stop_after_updates: int | None = None) -> TrainResult:
    """Train ``cfg.run.seeds`` seeds together. ``stop_after_updates`` stops early (tests of resume)."""
    cfg.validate()
    env, env_params = make_env(cfg.env)
    net = build_network(cfg, env, env_params)
    v_init, v_chunk = compile_train(cfg, env, env_params, net)
    keys = seed_keys(cfg)
    a, r = cfg.a2c, cfg.run
    steps_per_update = a.num_envs * a.unroll_length

    t0 = time.perf_counter()
    state = v_init(keys)
    done_updates = 0
    ckpt = run.path / CHECKPOINT
    if resume and ckpt.exists():
        state, done_updates = _load_state(ckpt, state)
    metrics_csv = run.metrics("metrics.csv")
    eval_csv = run.metrics("evaluator.csv")
    if done_updates:
        metrics_csv.truncate_after("update", done_updates)
        eval_csv.truncate_after("update", done_updates)

    eval_rollout = jax.jit(make_rollout(env, env_params, net, int(env_params.max_steps_in_episode), greedy=False),
                           static_argnums=2)
    writer = None
    if r.tensorboard:
        from tensorboardX import SummaryWriter

        writer = SummaryWriter(str(run.path / "tensorboard"))

    target = a.num_updates if stop_after_updates is None else min(a.num_updates, stop_after_updates)
    compile_seconds = None
    train_seconds = 0.0
    last_rows: list[dict] = []
    try:
        with progress_bar(a.num_updates, f"train {cfg.name}", quiet=quiet, completed=done_updates) as bar:
            while done_updates < target:
                n = min(r.chunk_updates, target - done_updates)
                tc = time.perf_counter()
                state, m = v_chunk(state, n)
                m = jax.device_get(m)
                elapsed = time.perf_counter() - tc
                if compile_seconds is None:
                    # The first call includes compilation; time a second call of the same shape
                    # to separate the two when the run is long enough.
                    compile_seconds = elapsed
                else:
                    train_seconds += elapsed
                done_updates += n
                last_rows = []
                for s in range(r.seeds):
                    row = {"update": done_updates, "env_steps": done_updates * steps_per_update, "seed": s}
                    row.update({k: float(v[s]) for k, v in m.items()})
                    metrics_csv.append(row)
                    last_rows.append(row)
                    if writer is not None:
                        for k, v in row.items():
                            if k not in ("update", "seed"):
                                writer.add_scalar(f"seed{s}/{k}", v, done_updates * steps_per_update)
                if r.eval_every_updates and (done_updates % r.eval_every_updates == 0 or done_updates == a.num_updates):
                    for s in range(r.seeds):
                        p = jax.tree_util.tree_map(lambda x: x[s], state.params)
                        traj = jax.device_get(eval_rollout(p, jax.random.PRNGKey(10_000 + done_updates + s), r.eval_episodes))
                        alive = traj["alive"]
                        row = {"update": done_updates, "env_steps": done_updates * steps_per_update, "seed": s,
                               "avg_reward": float((traj["reward"] * alive).sum() / alive.sum()),
                               "episode_return": float((traj["reward"] * alive).sum(1).mean())}
                        if "regret" in traj["info"]:
                            row["regret_per_episode"] = float((traj["info"]["regret"] * alive).sum(1).mean())
                        eval_csv.append(row)
                _save_state(ckpt, state, done_updates, cfg)
                bar.set(done_updates, description=f"train {cfg.name} R/step {np.nanmean([x['reward_per_step'] for x in last_rows]):.3f}")
    except KeyboardInterrupt:
        run.update_info(status="interrupted", updates_done=done_updates)
        raise
    finally:
        if writer is not None:
            writer.close()

    if compile_seconds is None:
        compile_seconds = time.perf_counter() - t0
    params = state.params
    save_agent(run.path / AGENT, params, cfg)
    steps_done_this_call = max(done_updates, 1) * steps_per_update
    # With a single chunk there is no compile-free call to time: fall back to the time including compilation.
    sps = r.seeds * steps_done_this_call / (train_seconds if train_seconds > 0 else max(compile_seconds, 1e-9))
    run.update_info(updates_done=done_updates, compile_seconds=compile_seconds, train_seconds=train_seconds,
                    steps_per_second=sps)
    return TrainResult(run, params, net, env, env_params, cfg, compile_seconds, train_seconds,
                       done_updates * steps_per_update, sps, last_rows)


@dataclasses.dataclass
class LoadedAgent:
    net: Any
    params: Any  # stacked over seeds: leading axis = seed
    cfg: TrainConfig
    env: Any
    env_params: Any
    meta: dict

    @property
    def num_seeds(self) -> int:
        return int(jax.tree_util.tree_leaves(self.params)[0].shape[0])

    def seed_params(self, i: int = 0):
        if not 0 <= i < self.num_seeds:
            raise ValueError(f"seed index {i} out of range: this agent holds {self.num_seeds} seed(s)")
        return jax.tree_util.tree_map(lambda x: jnp.asarray(x[i]), self.params)


def load_agent(path: str | Path) -> LoadedAgent:
    """Load ``agent.ckpt`` (a file, a run folder, or a shipped agent folder)."""
    path = Path(path)
    if path.is_dir():
        path = path / AGENT
    tree, meta = load_checkpoint(path)
    cfg = TrainConfig.from_dict(meta["config"])
    env, env_params = make_env(cfg.env)
    net = build_network(cfg, env, env_params)
    params = jax.tree_util.tree_map(np.asarray, tree["params"])
    return LoadedAgent(net, params, cfg, env, env_params, meta)

"""Throughput of the pixel Harlow task: env alone and env + agent with learning, side by side with a peer.

ours (a) env only: ``vmap`` over B episodes x ``lax.scan`` over steps, random actions, in one jitted call;
ours (b) learning: the A2C chunk of the ``harlow-visual`` preset (halves encoder + GRU 256, B x 20-step
         unrolls, gradients and Adam included), steps per second of environment experience;
peer:    the same task stepped one step at a time through the Gymnasium adapter (what Stable-Baselines3
         or any per-step Python loop sees; random actions, no learning).

Prints steps/s and the ratios ours/peer. Usage:
    python benchmarks/harlow_visual_throughput.py [--size 32] [--batch 64] [--updates 20] [--peer-steps 2000] [--encoder patchconv]
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import jax.numpy as jnp
import numpy as np


def env_only(size: int, batch: int, steps: int) -> float:
    from neurorl.envs.harlow_visual import HarlowVisual

    env = HarlowVisual(size=size)
    params = env.default_params

    @jax.jit
    def run(key):
        obs, st = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(key, batch), params)

        def f(st, k):
            ka, ks = jax.random.split(k)
            a = jax.random.randint(ka, (batch,), 0, 2)
            obs, st, r, te, tr, info = jax.vmap(env.step, in_axes=(0, 0, 0, None))(jax.random.split(ks, batch), st, a, params)
            return st, obs["image"].mean()

        return jax.lax.scan(f, st, jax.random.split(key, steps))[1]

    jax.block_until_ready(run(jax.random.PRNGKey(0)))
    times = []
    for i in range(3):
        t = time.perf_counter()
        jax.block_until_ready(run(jax.random.PRNGKey(i + 1)))
        times.append(time.perf_counter() - t)
    return batch * steps / float(np.median(times))


def learning(size: int, batch: int, updates: int, encoder: str | None = None) -> tuple[float, float]:
    from neurorl.experiments.harlow import harlow_visual_preset
    from neurorl.rl.a2c import compile_train, seed_keys
    from neurorl.rl.trainer import build_network, make_env
    from neurorl.utils.config import apply_overrides

    cfg = apply_overrides(harlow_visual_preset(), [f"--config.a2c.num_envs={batch}"])
    if encoder:  # another encoder with its own defaults (the preset's options belong to its encoder)
        cfg = apply_overrides(cfg, [f"--config.agent.encoder={encoder}", "--config.agent.encoder_options={}"])
    if size != 32:
        cfg = apply_overrides(cfg, ["--config.env.id=neurorl/HarlowVisual-64-v0"])
    env, ep = make_env(cfg.env)
    net = build_network(cfg, env, ep)
    v_init, v_chunk = compile_train(cfg, env, ep, net)
    state = v_init(seed_keys(cfg))
    t = time.perf_counter()
    state, m = v_chunk(state, updates)
    jax.block_until_ready(m)
    compile_and_first = time.perf_counter() - t
    t = time.perf_counter()
    state, m = v_chunk(state, updates)
    jax.block_until_ready(m)
    dt = time.perf_counter() - t
    return updates * batch * cfg.a2c.unroll_length / dt, compile_and_first


def peer_gymnasium(size: int, steps: int) -> float:
    import gymnasium

    import neurorl.envs  # noqa: F401

    env = gymnasium.make("neurorl/HarlowVisual-v0" if size == 32 else "neurorl/HarlowVisual-64-v0")
    rng = np.random.default_rng(0)
    env.reset(seed=0)
    for _ in range(20):  # warm-up (compilation)
        env.step(int(rng.integers(2)))
    t = time.perf_counter()
    for _ in range(steps):
        _, _, term, trunc, _ = env.step(int(rng.integers(2)))
        if term or trunc:
            env.reset()
    return steps / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--env-steps", type=int, default=250)
    ap.add_argument("--updates", type=int, default=20)
    ap.add_argument("--peer-steps", type=int, default=2000)
    ap.add_argument("--encoder", default=None, help="learn with this encoder instead of the preset's (e.g. patchconv)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    from neurorl.utils.provenance import machine_description

    ours_env = env_only(args.size, args.batch, args.env_steps)
    ours_learn, compile_s = learning(args.size, args.batch, args.updates, args.encoder)
    peer = peer_gymnasium(args.size, args.peer_steps)
    out = {"size": args.size, "batch": args.batch, "encoder": args.encoder or "preset", "ours_env_steps_per_s": ours_env,
           "ours_learning_steps_per_s": ours_learn, "ours_learning_compile_s": compile_s,
           "peer_gymnasium_env_steps_per_s": peer, "ratio_env": ours_env / peer, "ratio_learning_vs_peer_env": ours_learn / peer,
           "machine": machine_description(), "device": str(jax.devices()[0])}
    if args.json:
        print(json.dumps(out))
        return
    print(f"machine: {out['machine']} ({out['device']})")
    print(f"ours, env only (vmap {args.batch} x scan):          {ours_env:12,.0f} steps/s")
    print(f"ours, env + conv-GRU agent + A2C learning:     {ours_learn:12,.0f} steps/s (compile+first {compile_s:.1f} s)")
    print(f"peer, Gymnasium adapter one step at a time:    {peer:12,.0f} steps/s (env only, no agent)")
    print(f"ratio ours env / peer env: {ours_env / peer:.1f}x; ours learning / peer env only: {ours_learn / peer:.1f}x")


if __name__ == "__main__":
    main()

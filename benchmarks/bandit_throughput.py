"""Meta-RL training throughput on the two-armed bandit: neurorl's jitted A2C vs a peer users would pick.

Peer: Stable-Baselines3 / sb3-contrib RecurrentPPO (torch, CPU) on OUR Gymnasium adapter of the same
environment (neurorl/Bandit-independent-v0), LSTM 48 units, learning included. Both sides count
environment steps per second of wall-clock time, learning included, after compilation/warm-up.

    python benchmarks/bandit_throughput.py [--ours-updates 400] [--peer-steps 20000] [--stock-threefry] [--json]

Prints both rates and the ratio. Needs the `peers` extra (torch==2.13.0, stable-baselines3, sb3-contrib).
``--stock-threefry`` also times ours with jax's stock CPU lowering of the random-number rounds (a loop per
draw) instead of the straight-line rounds the trainer uses (neurorl/utils/threefry.py), then the default
again (against drift), to show what that choice is worth.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import jax


def ours(updates: int, num_envs: int, seeds: int) -> dict:
    from neurorl.rl.a2c import compile_train, seed_keys
    from neurorl.rl.config import A2CConfig, EnvConfig, RunConfig, TrainConfig
    from neurorl.rl.trainer import build_network, make_env

    cfg = TrainConfig(env=EnvConfig(id="neurorl/Bandit-independent-v0"),
                      a2c=A2CConfig(num_envs=num_envs, num_updates=updates * 10), run=RunConfig(seeds=seeds)).validate()
    env, env_params = make_env(cfg.env)
    net = build_network(cfg, env, env_params)
    v_init, v_chunk = compile_train(cfg, env, env_params, net)
    state = v_init(seed_keys(cfg))
    t0 = time.perf_counter()
    state, m = v_chunk(state, updates)
    jax.block_until_ready(m)
    compile_and_first = time.perf_counter() - t0
    times, cpu = [], []
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        state, m = v_chunk(state, updates)
        jax.block_until_ready(m)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    steps = updates * num_envs * cfg.a2c.unroll_length * seeds
    best = min(times)
    return {"steps_per_second": steps / best, "median_steps_per_second": steps / sorted(times)[1],
            "steps_per_cpu_second": steps / min(cpu), "compile_and_first_call_s": compile_and_first,
            "steps_per_call": steps}


def peer(steps: int) -> dict:
    import gymnasium
    import torch
    from sb3_contrib import RecurrentPPO

    import neurorl.envs  # noqa: F401  (registers the Gymnasium ids)

    torch.set_num_threads(2)
    env = gymnasium.make("neurorl/Bandit-independent-v0")
    # LSTM 48 as in the meta-RL papers; n_steps 100 = one episode per rollout, as the A2C unroll.
    model = RecurrentPPO("MlpLstmPolicy", env, n_steps=100, batch_size=100, n_epochs=1, gamma=0.9, verbose=0,
                         policy_kwargs={"lstm_hidden_size": 48, "net_arch": [], "shared_lstm": True,
                                        "enable_critic_lstm": False}, device="cpu", seed=0)
    model.learn(200)  # warm-up
    t0, c0 = time.perf_counter(), time.process_time()
    model.learn(steps)
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    return {"steps_per_second": steps / dt, "steps_per_cpu_second": steps / dc, "steps": steps, "seconds": dt}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ours-updates", type=int, default=200)
    ap.add_argument("--num-envs", type=int, default=64)
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--peer-steps", type=int, default=10_000)
    ap.add_argument("--skip-peer", action="store_true")
    ap.add_argument("--stock-threefry", action="store_true", help="also time ours with jax's stock Threefry lowering")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    from neurorl.utils.provenance import machine_description

    import sys

    from machine_speed import probe  # benchmarks/machine_speed.py: is the VM fast or slow right now?

    result = {"machine": machine_description(), "machine_speed_before": probe(),
              "ours": ours(args.ours_updates, args.num_envs, args.seeds)}
    print(f"ours: {result['ours']}", file=sys.stderr, flush=True)
    if args.stock_threefry:  # read when the trainer's program is lowered, i.e. at its first call
        os.environ["NEURORL_STOCK_THREEFRY"] = "1"
        result["ours_stock_threefry"] = ours(args.ours_updates, args.num_envs, args.seeds)
        del os.environ["NEURORL_STOCK_THREEFRY"]
        result["ours_again"] = ours(args.ours_updates, args.num_envs, args.seeds)  # after, against drift
        print(f"ours, stock threefry: {result['ours_stock_threefry']}", file=sys.stderr, flush=True)
    if not args.skip_peer:
        result["peer_recurrent_ppo_sb3"] = peer(args.peer_steps)
        result["ratio"] = result["ours"]["steps_per_second"] / result["peer_recurrent_ppo_sb3"]["steps_per_second"]
        # CPU time is what a loaded (shared) machine does not distort: the same ratio per CPU-second.
        result["ratio_per_cpu_second"] = (result["ours"]["steps_per_cpu_second"]
                                          / result["peer_recurrent_ppo_sb3"]["steps_per_cpu_second"])
    result["machine_speed_after"] = probe()
    if args.json:
        print(json.dumps(result))
        return
    print(f"machine: {result['machine']}")
    for when in ("before", "after"):
        sp = result[f"machine_speed_{when}"]
        print(f"machine speed {when}: memory probe {sp['memory_ms']} ms, compute probe {sp['compute_ms']} ms "
              f"(benchmarks/machine_speed.py; lower is faster)")
    o = result["ours"]
    print(f"neurorl A2C (jit+vmap+scan), {args.seeds} seed(s) x {args.num_envs} envs: "
          f"{o['steps_per_second']:,.0f} env steps/s incl. learning (median {o['median_steps_per_second']:,.0f}; "
          f"compile+first call {o['compile_and_first_call_s']:.1f} s; {o['steps_per_cpu_second']:,.0f} steps per CPU-second)")
    if args.stock_threefry:
        st, again = result["ours_stock_threefry"], result["ours_again"]
        print(f"  same, jax's stock Threefry lowering: {st['steps_per_second']:,.0f} env steps/s "
              f"({st['steps_per_cpu_second']:,.0f} per CPU-second); default again: {again['steps_per_second']:,.0f}")
    if "ratio" in result:
        p = result["peer_recurrent_ppo_sb3"]
        print(f"SB3 RecurrentPPO (torch {__import__('torch').__version__}, CPU) on our Gymnasium adapter: "
              f"{p['steps_per_second']:,.0f} env steps/s incl. learning")
        print(f"ratio neurorl / SB3: {result['ratio']:.0f}x wall-clock, {result['ratio_per_cpu_second']:.0f}x per CPU-second")


if __name__ == "__main__":
    main()

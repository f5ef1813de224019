"""Grid points vmapped in one compiled program vs one program per grid point.

A sweep over hyperparameters that change no shape (here: G values of a2c.gamma, S seeds each)
can run as ONE program of G x S rows (``neurorl sweep``'s default locally; neurorl.grid_train),
or as G programs of S rows (``--no-vmap-grid``, ``--processes``, Ray). This prints, for the same
work (G x S seeds x U updates of the bandit preset), the wall and CPU seconds of:

- ``vmapped``: one program, compiled once (compile_train_batched with G x S rows);
- ``separate``: G programs one after another in one process, each compiled (compile_train);
- ``separate+cache``: the same with JAX's persistent compilation cache (what sweep workers share):
  since γ is a traced input, the G programs are identical and only the first one is compiled.

Each variant's first chunk includes compilation ("first"); the rest is training ("train").
The load average (``os.getloadavg``) is printed with every variant: the machine is shared.

    python benchmarks/grid_vmap.py                         # 4 gamma points x 2 seeds, 20 updates
    python benchmarks/grid_vmap.py --points 4 --seeds 2 --updates 200 --chunk 100
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import jax
import numpy as np


def _configs(preset: str, points: int, seeds: int, updates: int, chunk: int):
    from neurorl.rl.presets import get_preset
    from neurorl.utils.config import apply_overrides

    gammas = np.linspace(0.8, 0.95, points)
    return [apply_overrides(get_preset(preset), [f"--config.run.seeds={seeds}", f"--config.a2c.num_updates={updates}",
                                                 f"--config.run.chunk_updates={chunk}", f"--config.a2c.gamma={g:.4f}"])
            for g in gammas]


def _timed(fn):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t0, time.process_time() - c0


def run_vmapped(cfgs, env, env_params, net):
    from neurorl.rl.a2c import compile_train_batched, hyperparams, seed_keys, stack_hyperparams

    cfg0 = cfgs[0]
    keys = np.concatenate([np.asarray(seed_keys(c)) for c in cfgs])
    hps = stack_hyperparams([hyperparams(c) for c in cfgs for _ in range(c.run.seeds)])
    b_init, b_chunk = compile_train_batched(cfg0, env, env_params, net)
    first = train = 0.0
    state = b_init(keys, hps)
    for i in range(cfg0.a2c.num_updates // cfg0.run.chunk_updates):
        t0 = time.perf_counter()
        state, m = b_chunk(state, hps, cfg0.run.chunk_updates)
        jax.block_until_ready(m)
        if i == 0:
            first = time.perf_counter() - t0
        else:
            train += time.perf_counter() - t0
    return {"first_s": first, "train_s": train, "params": jax.device_get(state.params)}


def run_separate(cfgs, env, env_params, net):
    from neurorl.rl.a2c import compile_train, seed_keys

    first = train = 0.0
    params = []
    for cfg in cfgs:
        v_init, v_chunk = compile_train(cfg, env, env_params, net)
        state = v_init(seed_keys(cfg))
        for i in range(cfg.a2c.num_updates // cfg.run.chunk_updates):
            t0 = time.perf_counter()
            state, m = v_chunk(state, cfg.run.chunk_updates)
            jax.block_until_ready(m)
            if i == 0:
                first += time.perf_counter() - t0
            else:
                train += time.perf_counter() - t0
        params.append(jax.device_get(state.params))
    return {"first_s": first, "train_s": train,
            "params": jax.tree_util.tree_map(lambda *x: np.concatenate(x), *params)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="bandit-independent")
    ap.add_argument("--points", type=int, default=4, help="gamma values (grid points)")
    ap.add_argument("--seeds", type=int, default=2, help="seeds per point")
    ap.add_argument("--updates", type=int, default=20)
    ap.add_argument("--chunk", type=int, default=10, help="updates per compiled call")
    ap.add_argument("--variants", default="vmapped,separate,separate+cache")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from neurorl.rl.trainer import build_network, make_env
    from neurorl.utils.provenance import machine_description

    cfgs = _configs(args.preset, args.points, args.seeds, args.updates, args.chunk)
    env, env_params = make_env(cfgs[0].env)
    net = build_network(cfgs[0], env, env_params)
    out = {"machine": machine_description(), "preset": args.preset, "points": args.points, "seeds": args.seeds,
           "updates": args.updates, "chunk": args.chunk, "cpus": os.cpu_count(), "variants": {}}
    params = {}
    for name in args.variants.split(","):
        load0 = os.getloadavg()[0]
        if name == "separate+cache":
            from jax.experimental.compilation_cache import compilation_cache as cc

            jax.config.update("jax_compilation_cache_dir", tempfile.mkdtemp(prefix="grid_vmap_cache_"))
            cc.reset_cache()
        fn = run_vmapped if name == "vmapped" else run_separate
        res, wall, cpu = _timed(lambda: fn(cfgs, env, env_params, net))
        params[name] = res.pop("params")
        out["variants"][name] = {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "first_chunk_incl_compile_s": round(res["first_s"], 2),
                                 "train_s": round(res["train_s"], 2), "load_before": round(load0, 2),
                                 "load_after": round(os.getloadavg()[0], 2)}
        if not args.json:
            print(name, out["variants"][name], flush=True)
    names = list(params)
    out["identical_params"] = {f"{a} == {b}": all(np.array_equal(x, y) for x, y in zip(
        jax.tree_util.tree_leaves(params[a]), jax.tree_util.tree_leaves(params[b]))) for a in names for b in names if a < b}
    if "vmapped" in out["variants"] and "separate" in out["variants"]:
        v, s = out["variants"]["vmapped"], out["variants"]["separate"]
        out["separate_over_vmapped_wall"] = round(s["wall_s"] / v["wall_s"], 2)
        out["separate_over_vmapped_cpu"] = round(s["cpu_s"] / v["cpu_s"], 2)
    if args.json:
        print(json.dumps(out))
        return
    print(f"machine: {out['machine']}")
    print(f"{args.preset}: {args.points} gamma points x {args.seeds} seeds, {args.updates} updates "
          f"({args.chunk} per call)")
    for name, v in out["variants"].items():
        print(f"{name:15s} wall {v['wall_s']:7.1f} s  cpu {v['cpu_s']:7.1f} s  first chunk incl. compile "
              f"{v['first_chunk_incl_compile_s']:6.1f} s  train {v['train_s']:6.1f} s  load {v['load_before']}->{v['load_after']}")
    if "separate_over_vmapped_wall" in out:
        print(f"separate / vmapped: wall {out['separate_over_vmapped_wall']}x, cpu {out['separate_over_vmapped_cpu']}x")
    print(json.dumps(out))


if __name__ == "__main__":
    main()

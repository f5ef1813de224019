"""Seeds vmapped in one compiled program: the bandit reproduction with 8 seeds vs 1 seed.

Issue 8 target: 8 seeds of the bandit reproduction on one 2-core machine take <= 1.5x the time
of one seed. Both variants run the SAME compiled trainer (``neurorl.rl.a2c.compile_train``, the
program ``neurorl train`` and ``neurorl reproduce bandit-*`` use), differing only in
``run.seeds``. Runs are interleaved (1, 8, 1, 8, ...) and repeated because the machine is
shared and noisy (environment.md finding 8); the median of the repeats is reported.

    python benchmarks/seeds_vmap.py                      # bandit-independent, 250-update chunks
    python benchmarks/seeds_vmap.py --updates 500 --repeats 3 --seeds 8
    python benchmarks/seeds_vmap.py --preset harlow-visual --seeds 5 --updates 10 --seed-layout vmap   # or sequential

Prints the time per chunk of updates for 1 seed and for N seeds, and the ratio, in wall AND CPU
seconds, with the load average before and after (``os.getloadavg``; the machine is shared, so a
wall-time ratio alone can mislead). Also prints the end-to-end figure (compile + first call) for each.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import time

import jax

from neurorl.rl.config import SEED_LAYOUTS


def build(preset: str, seeds: int, updates: int, seed_layout: str | None = None):
    from neurorl.rl.a2c import compile_train, seed_keys
    from neurorl.rl.presets import get_preset
    from neurorl.rl.trainer import build_network, make_env
    from neurorl.utils.config import apply_overrides

    overrides = [f"--config.run.seeds={seeds}", f"--config.a2c.num_updates={updates}"]
    if seed_layout:
        overrides.append(f"--config.run.seed_layout={seed_layout}")
    cfg = apply_overrides(get_preset(preset), overrides)
    env, env_params = make_env(cfg.env)
    net = build_network(cfg, env, env_params)
    v_init, v_chunk = compile_train(cfg, env, env_params, net)
    return cfg, v_init, v_chunk, seed_keys(cfg)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="bandit-independent")
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--updates", type=int, default=250, help="updates per timed chunk (one compiled call)")
    ap.add_argument("--repeats", type=int, default=3, help="timed calls per variant, interleaved")
    ap.add_argument("--seed-layout", choices=SEED_LAYOUTS, default=None,
                    help="run.seed_layout of the N-seed variant (default: the preset's)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from neurorl.utils.provenance import machine_description

    load_start = os.getloadavg()
    variants = {}
    for s in (1, args.seeds):
        t0 = time.perf_counter()
        cfg, v_init, v_chunk, keys = build(args.preset, s, args.updates, args.seed_layout)
        state = v_init(keys)
        state, m = v_chunk(state, args.updates)  # compile + first call
        jax.block_until_ready(m)
        variants[s] = {"cfg": cfg, "chunk": v_chunk, "state": state, "first_call_s": time.perf_counter() - t0, "times": [],
                       "cpu": [], "faults": []}
    for _ in range(args.repeats):
        for s, v in variants.items():  # interleaved: 1, N, 1, N, ...
            f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            t0, c0 = time.perf_counter(), time.process_time()
            v["state"], m = v["chunk"](v["state"], args.updates)
            jax.block_until_ready(m)
            v["times"].append(time.perf_counter() - t0)
            v["cpu"].append(time.process_time() - c0)
            v["faults"].append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
    cfg1 = variants[1]["cfg"]
    steps = args.updates * cfg1.a2c.num_envs * cfg1.a2c.unroll_length
    t1 = statistics.median(variants[1]["times"])
    tn = statistics.median(variants[args.seeds]["times"])
    out = {
        "machine": machine_description(), "preset": args.preset, "updates_per_call": args.updates,
        "seed_layout": variants[args.seeds]["cfg"].run.seed_layout,
        "env_steps_per_seed_per_call": steps, "repeats": args.repeats,
        "one_seed_s": round(t1, 3), f"{args.seeds}_seeds_s": round(tn, 3), "ratio": round(tn / t1, 3),
        "one_seed_all_s": [round(x, 3) for x in variants[1]["times"]],
        f"{args.seeds}_seeds_all_s": [round(x, 3) for x in variants[args.seeds]["times"]],
        "cpu_over_wall_1": round(sum(variants[1]["cpu"]) / sum(variants[1]["times"]), 2),
        f"cpu_over_wall_{args.seeds}": round(sum(variants[args.seeds]["cpu"]) / sum(variants[args.seeds]["times"]), 2),
        "one_seed_cpu_s": round(statistics.median(variants[1]["cpu"]), 3),
        f"{args.seeds}_seeds_cpu_s": round(statistics.median(variants[args.seeds]["cpu"]), 3),
        "cpu_ratio": round(statistics.median(variants[args.seeds]["cpu"]) / statistics.median(variants[1]["cpu"]), 3),
        "loadavg_start": [round(x, 2) for x in load_start], "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "minor_page_faults_per_call_1": int(statistics.median(variants[1]["faults"])),
        f"minor_page_faults_per_call_{args.seeds}": int(statistics.median(variants[args.seeds]["faults"])),
        "first_call_incl_compile_s": {str(s): round(v["first_call_s"], 2) for s, v in variants.items()},
        "steps_per_second_1": round(steps / t1), f"steps_per_second_{args.seeds}": round(args.seeds * steps / tn),
    }
    if args.json:
        print(json.dumps(out))
        return
    print(f"machine: {out['machine']}")
    print(f"{args.preset}: {args.updates} updates x {cfg1.a2c.num_envs} envs x {cfg1.a2c.unroll_length} steps per call, "
          f"median of {args.repeats} interleaved calls")
    print(f"1 seed : {t1:.3f} s  {variants[1]['times']}")
    print(f"{args.seeds} seeds ({out['seed_layout']}): {tn:.3f} s  {variants[args.seeds]['times']}")
    print(f"ratio {args.seeds} seeds / 1 seed: {tn / t1:.2f} wall, {out['cpu_ratio']:.2f} CPU  (target <= 1.5)")
    print(f"CPU s per call: 1 seed {out['one_seed_cpu_s']}, {args.seeds} seeds {out[f'{args.seeds}_seeds_cpu_s']}; "
          f"load average {out['loadavg_start']} -> {out['loadavg_end']} on {out['cpus']} CPUs")
    print(f"first call incl. compile: {out['first_call_incl_compile_s']}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()

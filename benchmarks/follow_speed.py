"""FOLLOW speed: our JAX simulator vs Nengo 4.x on the same network and the same simulated duration.

    python benchmarks/follow_speed.py                      # vdP 3000+3000, dt 1 ms, 1 s each, prints the ratio
    python benchmarks/follow_speed.py --plant arm --neurons 5000 --ours-seconds 100 --skip-nengo
    python benchmarks/follow_speed.py --weights dense --ours-seconds 2   # the dense N×N path

Both simulators run the identical model (our encoders/gains/biases/decoders, the same command input
and reference trajectory, feedback and learning on, Nengo ≥ 3 semantics so Nengo can build it).
Ours is timed after compilation (compile time printed separately); Nengo's build time is printed
separately from its run time. The ratio compares run times over the same simulated seconds.
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import jax.numpy as jnp
import numpy as np

from neurorl.follow.inputs import build_protocol
from neurorl.follow.network import Schedule, arm_config, build_network, init_state, to_device, vanderpol_config
from neurorl.follow.plants import make_plant
from neurorl.follow.run import simulate
from neurorl.utils.provenance import machine_description


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--plant", choices=["vanderpol", "arm"], default="vanderpol")
    ap.add_argument("--neurons", type=int, default=None, help="per layer (default 3000 vdP, 5000 arm)")
    ap.add_argument("--sim-seconds", type=float, default=1.0, help="simulated seconds for the side-by-side comparison")
    ap.add_argument("--ours-seconds", type=float, default=None, help="also time ours over this many seconds")
    ap.add_argument("--weights", choices=["lowrank", "dense"], default="lowrank")
    ap.add_argument("--semantics", default="3+")
    ap.add_argument("--skip-nengo", action="store_true")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    mk = vanderpol_config if a.plant == "vanderpol" else arm_config
    kw = {} if a.neurons is None else {"n_ff": a.neurons, "n_rec": a.neurons}
    cfg = mk(semantics=a.semantics, weights=a.weights, **kw)
    plant = make_plant(cfg.plant)
    net = build_network(cfg)
    params = to_device(net, jnp.float32)
    longest = max(a.sim_seconds, a.ours_seconds or 0)
    n_total = cfg.steps(longest) + cfg.steps(cfg.t_period) * 2
    proto, arr = build_protocol(cfg.protocol, n_total, cfg.dt, cfg.t_period, plant.dim_u, cfg.seed_input,
                                cfg.t_clamp if cfg.trial_clamp else 0.0, plant)
    arr = {k: jnp.asarray(v, jnp.float32) for k, v in arr.items()}
    sched = Schedule.for_run(cfg)
    res = {"machine": machine_description(), "plant": cfg.plant, "n_ff": cfg.n_ff, "n_rec": cfg.n_rec, "dt": cfg.dt,
           "weights": a.weights, "sim_seconds": a.sim_seconds, "jax": jax.__version__}

    def time_ours(seconds):
        n = cfg.steps(seconds)
        st = init_state(cfg, params)
        t0 = time.perf_counter()
        st, recs, _ = simulate(cfg, params, st, proto, arr, sched, 0, n)  # compile + first run
        first = time.perf_counter() - t0
        st = init_state(cfg, params)
        c0, t0 = time.process_time(), time.perf_counter()
        st, recs, _ = simulate(cfg, params, st, proto, arr, sched, 0, n)
        jax.block_until_ready(st["weights"])
        return first, time.perf_counter() - t0, time.process_time() - c0, recs

    first, wall, cpu, recs = time_ours(a.sim_seconds)
    res.update(ours_compile_plus_first_s=first, ours_wall_s=wall, ours_cpu_s=cpu, ours_wall_per_sim_s=wall / a.sim_seconds)
    if a.ours_seconds:
        f2, w2, c2, _ = time_ours(a.ours_seconds)
        res.update(ours_long_seconds=a.ours_seconds, ours_long_wall_s=w2, ours_long_wall_per_sim_s=w2 / a.ours_seconds,
                   ours_long_cpu_per_sim_s=c2 / a.ours_seconds)
        res["extrapolated_paper_run_min"] = w2 / a.ours_seconds * (10000 if a.plant == "vanderpol" else 15000) / 60
    if not a.skip_nengo:
        import nengo

        from neurorl.follow.nengo_ref import run_nengo_follow

        _, _, build_s, run_s = run_nengo_follow(cfg, net, np.asarray(recs["u"], float), np.asarray(recs["x"], float), sched)
        res.update(nengo_version=nengo.__version__, nengo_build_s=build_s, nengo_run_s=run_s,
                   nengo_wall_per_sim_s=run_s / a.sim_seconds, speedup=run_s / wall)
    if a.json:
        print(json.dumps(res))
        return
    print(f"machine: {res['machine']}")
    print(f"FOLLOW {cfg.plant} {cfg.n_ff}+{cfg.n_rec} neurons, dt {cfg.dt * 1000:g} ms, {a.weights} weights, "
          f"{a.sim_seconds:g} simulated s")
    print(f"ours : {wall:.3f} s wall ({res['ours_wall_per_sim_s']:.4f} s per simulated s; cpu {cpu:.3f} s); "
          f"compile+first run {first:.1f} s")
    if a.ours_seconds:
        print(f"ours over {a.ours_seconds:g} s: {res['ours_long_wall_per_sim_s']:.4f} wall s per simulated s "
              f"-> paper-length run ≈ {res['extrapolated_paper_run_min']:.1f} min")
    if not a.skip_nengo:
        print(f"nengo {res['nengo_version']}: build {res['nengo_build_s']:.1f} s, run {res['nengo_run_s']:.2f} s "
              f"({res['nengo_wall_per_sim_s']:.2f} s per simulated s)")
        print(f"speed-up ours vs Nengo: {res['speedup']:.0f}x")


if __name__ == "__main__":
    main()

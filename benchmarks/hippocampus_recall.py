"""Speed of the hippocampus recall experiment, per phase, beside the previous engine and a per-trial peer.

    python benchmarks/hippocampus_recall.py               # one 10x10 grid, 1 network, 5 epochs: cold, then warm (issue: <= 10 s)
    python benchmarks/hippocampus_recall.py --full        # first the full experiment, cold (issue: <= 60 s), then the 1-network grid warm
    python benchmarks/hippocampus_recall.py --reference   # + the same 1-network grid on the reference engine (side by side, ratio)
    python benchmarks/hippocampus_recall.py --peer        # + the per-trial peer: one jitted dynamics.trial call per trial
    python benchmarks/hippocampus_recall.py --compile-cache auto   # as the CLI runs by default: run twice, the second
                                                                   # process loads the compiled programs

Ours: the fast engine (src/neurorl/hippocampus/fast.py): one compiled call trains one network for all
its epochs, one compiled call tests all items of a network (matrix-matrix products), a thread per core
runs independent networks. The full experiment is `neurorl reproduce hippocampus-recall`'s work: list
sizes 2..20, ratios 0..0.9, 10 networks per cell, 2 and 5 epochs (the 2-epoch grid tests the 5-epoch
networks after epoch 2). The reference engine is the previous implementation (runner.train_jobs_lanes:
networks vmapped as lanes of dynamics.trial). The original (Go server + Python client, 1 network,
5 epochs) took about 6 min on an i7-7820HQ (its README, hippocampus.md §1.4).

Every phase is reported in wall and CPU seconds (process-wide, all threads) with the load average
before and after: the machine is shared, so CPU seconds are the more stable figure.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

ORIGINAL_SECONDS = 360.0  # README: about 6 minutes on an i7-7820HQ (1 network, 5 epochs, 10x10 grid)


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def ours_grid(networks: int, epochs: tuple, engine: str = "fast", seed: int = 0) -> dict:
    from neurorl.hippocampus.experiment import RecallGridConfig, run_recall_grid

    load0 = _load()
    c0, w0 = time.process_time(), time.perf_counter()
    res = run_recall_grid(RecallGridConfig(networks=networks, epochs=epochs, seed=seed, engine=engine))
    t = res["timings"]
    phases = {ph: {"wall_s": round(t[f"{ph}_s"], 2), "cpu_s": round(t[f"{ph}_cpu_s"], 2)} for ph in ("train", "test", "score")}
    return {"wall_s": round(time.perf_counter() - w0, 2), "cpu_s": round(time.process_time() - c0, 2), "phases": phases,
            "load_before": load0, "load_after": _load(), "mad": {str(k): round(v, 4) for k, v in res.get("mad", {}).items()},
            "mean_accuracy": {str(k): round(float(np.mean(g)), 4) for k, g in res["grids"].items()},
            "activity": {str(k): {n: round(v, 4) for n, v in a.items()} for k, a in res["activity"].items()}}


def peer_grid(epochs: int = 5, seed: int = 0) -> dict:
    """One network per list size, one jitted dynamics.trial call per training trial and per test."""
    import jax

    from neurorl.hippocampus.dynamics import trial_jit
    from neurorl.hippocampus.experiment import LIST_SIZES, RATIOS, corrupt_structured, nearest_pattern, random_patterns
    from neurorl.hippocampus.network import init_net
    from neurorl.hippocampus.params import HippocampusParams

    p = HippocampusParams()
    rng = np.random.default_rng(seed)
    pats = random_patterns(rng, 20)
    load0 = _load()
    train_w = train_c = test_w = test_c = 0.0
    for j, n in enumerate(LIST_SIZES):
        w, c = time.perf_counter(), time.process_time()
        net = init_net(jax.random.PRNGKey(j), p)
        for _ in range(epochs):
            for i in rng.permutation(n):
                net, _ = trial_jit(net, pats[i], pats[i], train=True, p=p)
        jax.block_until_ready(net)
        train_w += time.perf_counter() - w
        train_c += time.process_time() - c
        w, c = time.perf_counter(), time.process_time()
        for r in RATIOS:
            for i in range(n):  # 10 repeats in the original; identical here, so one
                _, out = trial_jit(net, corrupt_structured(pats[i], r), pats[i], train=False, p=p)
                nearest_pattern(np.asarray(out.recall), pats[:n])
        test_w += time.perf_counter() - w
        test_c += time.process_time() - c
    return {"wall_s": round(train_w + test_w, 2), "cpu_s": round(train_c + test_c, 2), "load_before": load0,
            "load_after": _load(), "phases": {"train": {"wall_s": round(train_w, 2), "cpu_s": round(train_c, 2)},
                                              "test": {"wall_s": round(test_w, 2), "cpu_s": round(test_c, 2)}}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="time the full experiment first (cold), then the 1-network grid")
    ap.add_argument("--reference", action="store_true", help="also time the 1-network grid on the reference engine")
    ap.add_argument("--peer", action="store_true", help="also time the per-trial peer on the 1-network grid")
    ap.add_argument("--compile-cache", default=None, help="JAX persistent compilation cache: a directory, or 'auto' "
                    "for the one `neurorl reproduce hippocampus-recall` uses by default (a second process then "
                    "skips XLA compilation; leave out to time first-ever cold starts)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()
    import jax

    if args.compile_cache:
        from neurorl.utils.compile_cache import resolve_cache_option, use_compilation_cache

        args.compile_cache = str(resolve_cache_option(args.compile_cache))
        use_compilation_cache(args.compile_cache, min_compile_seconds=0.5)

    from neurorl.utils.provenance import machine_description

    from machine_speed import probe  # benchmarks/machine_speed.py: is the VM fast or slow right now?

    out = {"machine": machine_description(), "cpu_count": os.cpu_count(), "jax": jax.__version__,
           "compile_cache": args.compile_cache, "machine_speed_before": probe()}
    if args.full:  # first heavy call of the process: includes every compilation
        out["full_10net_2and5ep_cold"] = ours_grid(10, (2, 5))
        out["grid_1net_5ep_warm"] = ours_grid(1, (5,))
    else:
        out["grid_1net_5ep_cold"] = ours_grid(1, (5,))
        out["grid_1net_5ep_warm"] = ours_grid(1, (5,))
    if args.reference:
        ours_grid(1, (5,), engine="reference")  # compile
        out["reference_1net_5ep_warm"] = ours_grid(1, (5,), engine="reference")
        out["ratio_reference_over_fast_cpu"] = round(out["reference_1net_5ep_warm"]["cpu_s"] / out["grid_1net_5ep_warm"]["cpu_s"], 2)
        out["ratio_reference_over_fast_wall"] = round(out["reference_1net_5ep_warm"]["wall_s"] / out["grid_1net_5ep_warm"]["wall_s"], 2)
    if args.peer:
        peer_grid(1)  # compile
        out["peer_1net_5ep"] = peer_grid(5)
        out["ratio_peer_over_fast_cpu"] = round(out["peer_1net_5ep"]["cpu_s"] / out["grid_1net_5ep_warm"]["cpu_s"], 2)
    out["machine_speed_after"] = probe()
    out["original_seconds_i7"] = ORIGINAL_SECONDS
    out["ratio_original_over_fast_1net_warm_wall"] = round(ORIGINAL_SECONDS / out["grid_1net_5ep_warm"]["wall_s"], 1)
    if args.json:
        print(json.dumps(out, indent=1))
        return
    print(f"machine: {out['machine']} (jax {out['jax']})")
    for when in ("before", "after"):
        sp = out[f"machine_speed_{when}"]
        print(f"machine speed {when}: memory probe {sp['memory_ms']} ms, compute probe {sp['compute_ms']} ms "
              f"(benchmarks/machine_speed.py; lower is faster)")
    for k, v in out.items():
        if isinstance(v, dict) and "wall_s" in v:
            ph = ", ".join(f"{n} {x['wall_s']:.1f}/{x['cpu_s']:.1f}" for n, x in v["phases"].items())
            print(f"{k:28s} wall {v['wall_s']:7.1f} s  cpu {v['cpu_s']:7.1f} s  [{ph} wall/cpu s]  "
                  f"load {v['load_before']}->{v['load_after']}  {('MAD ' + str(v['mad'])) if v.get('mad') else ''}")
    for k, v in out.items():
        if k.startswith("ratio_"):
            print(f"{k}: {v}")


if __name__ == "__main__":
    main()

"""Speed of the hippocampus recall experiment, per phase, beside a per-trial peer.

    python benchmarks/hippocampus_recall.py            # one 10x10 grid, 1 network, 5 epochs (issue: <= 10 s)
    python benchmarks/hippocampus_recall.py --full     # + the full experiment (2 and 5 epochs, 10 networks; issue: <= 60 s)
    python benchmarks/hippocampus_recall.py --peer     # + the peer: the same grid with one jitted call per trial

Ours: batched (packed lanes of networks, all test items of a network at once). The peer is the
same model driven the way the original interface drives its Go server: one trial per call, from a
Python loop (hippocampus.md §1.4: 11,000 test calls; the original took ~6 min on an i7-7820HQ).
Each phase is reported with wall and CPU seconds; the machine is shared, so CPU seconds are the
more stable figure (wall ~ CPU / 1.8 when both cores are free, environment.md finding 7).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

ORIGINAL_SECONDS = 360.0  # README: about 6 minutes on an i7-7820HQ (1 network, 5 epochs, 10x10 grid)


class Timer:
    def __init__(self):
        self.rows = {}

    def __call__(self, name):
        timer = self

        class _T:
            def __enter__(self):
                self.w, self.c = time.perf_counter(), time.process_time()

            def __exit__(self, *a):
                timer.rows[name] = {"wall_s": time.perf_counter() - self.w, "cpu_s": time.process_time() - self.c}

        return _T()


def ours_grid(networks: int, epochs: tuple, seed: int = 0) -> dict:
    from neurorl.hippocampus.experiment import RecallGridConfig, run_recall_grid

    c0, w0 = time.process_time(), time.perf_counter()
    res = run_recall_grid(RecallGridConfig(networks=networks, epochs=epochs, seed=seed))
    return {"wall_s": time.perf_counter() - w0, "cpu_s": time.process_time() - c0, "phases_wall_s": res["timings"],
            "mad": res.get("mad", {})}


def peer_grid(epochs: int = 5, seed: int = 0) -> dict:
    """One network per list size, one jitted trial call per training trial and per test."""
    import jax

    from neurorl.hippocampus.dynamics import trial_jit
    from neurorl.hippocampus.experiment import LIST_SIZES, RATIOS, corrupt_structured, nearest_pattern, random_patterns
    from neurorl.hippocampus.network import init_net
    from neurorl.hippocampus.params import HippocampusParams

    p = HippocampusParams()
    rng = np.random.default_rng(seed)
    pats = random_patterns(rng, 20)
    t = Timer()
    grid = np.zeros((len(LIST_SIZES), len(RATIOS)))
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
        for r_i, r in enumerate(RATIOS):
            ok = 0
            for i in range(n):  # 10 repeats in the original; identical here, so one
                _, out = trial_jit(net, corrupt_structured(pats[i], r), pats[i], train=False, p=p)
                ok += int(nearest_pattern(np.asarray(out.recall), pats[:n])[0] == i)
            grid[j, r_i] = ok / n
        test_w += time.perf_counter() - w
        test_c += time.process_time() - c
    del t
    return {"wall_s": train_w + test_w, "cpu_s": train_c + test_c,
            "phases": {"train": {"wall_s": train_w, "cpu_s": train_c}, "test": {"wall_s": test_w, "cpu_s": test_c}}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="also time the full experiment (2 and 5 epochs, 10 networks)")
    ap.add_argument("--peer", action="store_true", help="also time the per-trial peer on the 1-network grid")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    from neurorl.utils.provenance import machine_description

    out = {"machine": machine_description()}
    # first call includes compilation; the second is warm (same shapes)
    out["grid_1net_5ep_cold"] = ours_grid(1, (5,))
    out["grid_1net_5ep_warm"] = ours_grid(1, (5,))
    if args.full:
        out["full_10net_2and5ep"] = ours_grid(10, (2, 5))
    if args.peer:
        out["peer_1net_5ep"] = peer_grid(5)
        out["ratio_peer_over_ours_warm_cpu"] = out["peer_1net_5ep"]["cpu_s"] / out["grid_1net_5ep_warm"]["cpu_s"]
    out["original_seconds_i7"] = ORIGINAL_SECONDS
    out["ratio_original_over_ours_cold_wall"] = ORIGINAL_SECONDS / out["grid_1net_5ep_cold"]["wall_s"]
    if args.json:
        print(json.dumps(out, indent=1))
        return
    print(f"machine: {out['machine']}")
    for k, v in out.items():
        if isinstance(v, dict) and "wall_s" in v:
            print(f"{k:28s} wall {v['wall_s']:8.1f} s   cpu {v['cpu_s']:8.1f} s   phases {v.get('phases_wall_s', v.get('phases'))}")
    print(f"original (Go server + Python client, i7-7820HQ, README): ~{ORIGINAL_SECONDS:.0f} s; "
          f"ratio original / ours (cold, wall) = {out['ratio_original_over_ours_cold_wall']:.1f}")
    if "ratio_peer_over_ours_warm_cpu" in out:
        print(f"ratio per-trial peer / ours (warm, CPU s) = {out['ratio_peer_over_ours_warm_cpu']:.1f}")


if __name__ == "__main__":
    main()

"""A Ray sweep of 4 tiny jobs (the tests/sweep Ray sweep) with and without the shared compilation cache.

Since γ and β_v are traced inputs of the trainer, the 4 jobs (γ ∈ {0.8, 0.9} × β_v ∈ {0.05, 0.1})
compile to ONE program. Without a cache every worker compiles it; with ``SWEEP/jax_cache``
(neurorl sweep's default on a local cluster) only the first worker(s) do and the others load it.
Prints wall seconds and the CPU seconds of all Ray processes (sampled with psutil every 0.2 s) for
each variant, with the load average, and checks that both variants trained identical weights.

    python benchmarks/ray_compile_cache.py            # no cache, then cache
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from pathlib import Path

TINY = ["--config.a2c.num_envs=4", "--config.a2c.unroll_length=10", "--config.a2c.num_updates=4",
        "--config.run.chunk_updates=2", "--config.run.eval_every_updates=0"]
GRID = {"a2c.gamma": ["0.8", "0.9"], "a2c.value_coef": ["0.05", "0.1"]}


class CPUMeter:
    """CPU seconds of this process's descendants (Ray's raylet, workers, ...), sampled in a thread."""

    def __init__(self):
        import psutil

        self.psutil, self.seen, self.stop = psutil, {}, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        me = self.psutil.Process()
        while not self.stop.is_set():
            for p in me.children(recursive=True):
                try:
                    t = p.cpu_times()
                    self.seen[p.pid] = t.user + t.system
                except self.psutil.Error:
                    pass
            time.sleep(0.2)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()

    @property
    def seconds(self) -> float:
        return sum(self.seen.values())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--variants", default="no-cache,cache")
    args = ap.parse_args()
    os.environ.setdefault("NEURORL_NO_PROGRESS", "1")

    from neurorl import sweep as sw
    from neurorl.distributed import run_ray
    from neurorl.utils.provenance import machine_description

    root = Path(tempfile.mkdtemp(prefix="ray_cache_"))
    out = {"machine": machine_description(), "cpus": args.cpus, "variants": {}}
    digests = {}
    for name in args.variants.split(","):
        sweep = sw.create_sweep("bandit-independent", seeds=2, grid=GRID, out=root / name, base_overrides=TINY)
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        with CPUMeter() as meter:
            res = run_ray(sweep, cluster_cpus=args.cpus, num_cpus_per_job=1, compilation_cache=(name == "cache"),
                          log=lambda m: None)
        out["variants"][name] = {"wall_s": round(time.perf_counter() - t0, 1), "ray_processes_cpu_s": round(meter.seconds, 1),
                                 "load_before": round(load0, 2), "load_after": round(os.getloadavg()[0], 2)}
        digests[name] = [res[j.job_id]["params_sha256"] for j in sweep.jobs]
        print(name, out["variants"][name], flush=True)
    out["identical_weights"] = len({tuple(d) for d in digests.values()}) == 1
    print(json.dumps(out))


if __name__ == "__main__":
    main()

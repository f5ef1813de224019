"""A Ray sweep of 4 jobs on a local Ray cluster with one worker process killed mid-run, against the
same sweep uninterrupted (issue 8: "completes ... and the final results equal an uninterrupted sweep's").

The driver watches the victim job's folder; once its worker has written a checkpoint (and after a
random extra delay, so the kill lands at an arbitrary point of a chunk) it SIGKILLs that worker's
process (PID from the job's worker.json). Ray retries the task; the retry resumes from the last
checkpoint. At the end every job's parameter digest (SHA-256 of all weights) and final metrics are
compared with the uninterrupted sweep's.

    python benchmarks/ray_fault_tolerance.py                # prints PASS/FAIL, timings and one JSON line
    python benchmarks/ray_fault_tolerance.py --updates 60 --cpus 2
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import tempfile
import threading
import time
from pathlib import Path

import numpy as np


def killer(job_dir: Path, min_checkpoints: int, delay: float, record: dict) -> None:
    """Kill the worker of ``job_dir`` once it has checkpointed, then ``delay`` seconds later."""
    ckpt, worker = job_dir / "checkpoint.ckpt", job_dir / "worker.json"
    seen = 0
    last = None
    while seen < min_checkpoints:
        if ckpt.exists() and ckpt.stat().st_mtime != last:
            last = ckpt.stat().st_mtime
            seen += 1
        if (job_dir / "result.json").exists():
            record["error"] = "job finished before it could be killed; use more --updates"
            return
        time.sleep(0.05)
    time.sleep(delay)
    pid = json.loads(worker.read_text())["pid"]
    os.kill(pid, signal.SIGKILL)
    record.update(pid=pid, at=time.time())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="bandit-independent")
    ap.add_argument("--updates", type=int, default=60)
    ap.add_argument("--chunk", type=int, default=10)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray cluster")
    ap.add_argument("--out", default=None)
    ap.add_argument("--seed", type=int, default=0, help="seed of the random kill delay")
    args = ap.parse_args()
    os.environ.setdefault("NEURORL_NO_PROGRESS", "1")

    from neurorl import sweep as sw
    from neurorl.distributed import init_ray, run_ray
    from neurorl.utils.provenance import machine_description

    base = [f"--config.a2c.num_updates={args.updates}", f"--config.run.chunk_updates={args.chunk}",
            "--config.a2c.num_envs=16", f"--config.run.eval_every_updates={args.updates}", "--config.run.eval_episodes=32"]
    grid = {"a2c.gamma": ["0.8", "0.9"], "optim.learning_rate": ["1e-3", "3e-4"]}
    root = Path(args.out or tempfile.mkdtemp(prefix="ray_fault_"))
    init_ray(None, num_cpus=args.cpus)
    timings, out = {}, {}
    for name in ("uninterrupted", "killed"):
        sweep = sw.create_sweep(args.preset, seeds=args.seeds, grid=grid, out=root / name, base_overrides=base)
        record: dict = {}
        if name == "killed":
            victim = sweep.jobs[1]
            delay = random.Random(args.seed).uniform(0.0, 1.0)
            threading.Thread(target=killer, args=(sweep.job_dir(victim), 2, delay, record), daemon=True).start()
        t0 = time.perf_counter()
        out[name] = run_ray(sweep, num_cpus_per_job=1, max_retries=3, log=lambda m: print(f"  [{name}] {m}"))
        timings[name] = time.perf_counter() - t0
        if name == "killed":
            if "pid" not in record:
                raise SystemExit(f"FAIL: no worker was killed ({record.get('error', 'unknown')})")
            out["victim"] = {"job_id": victim.job_id, "killed_pid": record["pid"],
                             "resumed_from_update": out[name][victim.job_id]["resumed_from_update"]}
    def same_metrics(a: dict, b: dict) -> bool:  # NaN == NaN (no episode ended in a logged chunk)
        return a.keys() == b.keys() and all(np.array_equal(np.asarray(a[k], float), np.asarray(b[k], float), equal_nan=True)
                                            for k in a)

    same = {j: (out["killed"][j]["params_sha256"] == r["params_sha256"] and same_metrics(out["killed"][j]["metrics"], r["metrics"]))
            for j, r in out["uninterrupted"].items()}
    ok = all(same.values()) and out["victim"]["resumed_from_update"] > 0
    summary = {"machine": machine_description(), "jobs": len(same), "seeds_per_job": args.seeds, "updates": args.updates,
               "victim": out["victim"], "identical_per_job": same, "all_identical": ok,
               "uninterrupted_s": round(timings["uninterrupted"], 1), "killed_s": round(timings["killed"], 1),
               "folder": str(root)}
    print(("PASS" if ok else "FAIL") + f": {len(same)} jobs; worker {out['victim']['killed_pid']} of {out['victim']['job_id']} "
          f"killed, retried from update {out['victim']['resumed_from_update']}; final params and metrics identical: {same}")
    print(json.dumps(summary))
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()

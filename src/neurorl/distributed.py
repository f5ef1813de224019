"""Ray execution of sweeps: each job is one Ray task with its CPU/GPU requirement.

- ``address=None`` starts a local Ray cluster in this process (``ray.init(num_cpus=...)``, ~5 s and
  ~0.8 GB, environment.md); ``address="auto"`` or ``"ray://host:10001"`` joins an existing cluster.
- Fault tolerance: a task whose worker process dies (killed, OOM, node lost) is retried by Ray up
  to ``max_retries`` times (Ray's ``max_retries`` covers system failures: worker or node death).
  The retried task calls :func:`neurorl.sweep.run_job` on the same job folder, which resumes from
  the last atomic ``checkpoint.ckpt``; the trainer's resume is exact, so the final parameters equal
  those of an uninterrupted run. Exceptions raised by the job itself (bad config, NaN) are NOT
  retried: they would fail again.
- The job folders must be on storage every worker sees (one machine: any path; a cluster: a shared
  file system). Each task also returns its result, and the driver writes it atomically if the
  worker's file is not visible to it.

Fault injection for tests and the benchmark: ``kill={"job_id": ..., "after_updates": k}`` makes the
worker running that job train ``k`` updates (checkpointed), then SIGKILL its own process on the
first attempt, exactly what a killed worker looks like to Ray.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Callable

from neurorl.sweep import RESULT, Job, Sweep, run_job
from neurorl.utils.compile_cache import use_compilation_cache
from neurorl.utils.atomic import atomic_write_json

KILL_MARKER = ".killed_once"


def _import_ray():
    # Ray 2.60 enables token auth by default and warns about it; a local cluster needs none
    # (environment.md, ray row). A user's explicit setting wins.
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    try:
        import ray
    except ImportError:
        raise RuntimeError("--ray needs Ray: pip install 'neurorl[distributed]' (ray==2.60.0)") from None
    return ray


def init_ray(address: str | None = None, *, num_cpus: int | None = None, num_gpus: int | None = None):
    """Join ``address`` or start a local cluster. Returns the ray module. Idempotent."""
    ray = _import_ray()
    if ray.is_initialized():
        return ray
    kwargs: dict = {"include_dashboard": False, "log_to_driver": True}
    # Workers must import neurorl from the same source tree as the driver.
    env = {"RAY_AUTH_MODE": os.environ["RAY_AUTH_MODE"], "NEURORL_NO_PROGRESS": "1"}
    for k in ("XLA_FLAGS", "JAX_PLATFORMS", "NEURORL_RUNS"):
        if k in os.environ:
            env[k] = os.environ[k]
    kwargs["runtime_env"] = {"env_vars": env}
    if address is None:
        kwargs.update(num_cpus=num_cpus or os.cpu_count(), num_gpus=num_gpus)
    else:
        kwargs["address"] = address
    ray.init(**kwargs)
    return ray


def _task_body(job_dict: dict, job_dir: str, kill: dict | None, cache_dir: str | None = None) -> dict:
    """What a Ray worker runs for one job (module-level so Ray can pickle it by reference)."""
    use_compilation_cache(cache_dir)  # jobs of equal shapes: the first compiles, the others load
    job = Job.from_dict(job_dict)
    d = Path(job_dir)
    d.mkdir(parents=True, exist_ok=True)
    atomic_write_json(d / "worker.json", {"pid": os.getpid(), "started": time.time()})
    if kill and kill.get("job_id") == job.job_id and not (d / KILL_MARKER).exists():
        # Fault injection: train part of the job (checkpointed), then die like a killed worker.
        run_job(job, d, quiet=True, stop_after_updates=int(kill["after_updates"]))
        (d / KILL_MARKER).write_text(str(os.getpid()))
        os.kill(os.getpid(), 9)  # SIGKILL: no cleanup, no exception, the process is just gone
    return run_job(job, d, quiet=True)


def run_ray(sweep: Sweep, *, address: str | None = None, num_cpus_per_job: float = 1.0,
            num_gpus_per_job: float = 0.0, max_retries: int = 3, cluster_cpus: int | None = None,
            kill: dict | None = None, log: Callable[[str], None] = print, shutdown: bool | None = None,
            compilation_cache: bool | str | Path | None = None) -> dict[str, dict]:
    """Run the sweep's unfinished jobs as Ray tasks; returns ``{job_id: result}`` for every job.

    ``shutdown`` (default: only when this call started the local cluster) stops Ray at the end.
    ``compilation_cache`` (default: only on a local cluster, i.e. no ``address``): workers share
    ``SWEEP/jax_cache`` (or the folder given), so jobs of equal shapes compile once. On a multi-node
    cluster turn it on only when every node sees the folder and has the same CPU and JAX version.
    """
    ray = _import_ray()
    started_here = not ray.is_initialized()
    init_ray(address, num_cpus=cluster_cpus)
    try:
        remote = ray.remote(num_cpus=num_cpus_per_job, num_gpus=num_gpus_per_job, max_retries=max_retries,
                            retry_exceptions=False)(_task_body)
        if compilation_cache is None:
            compilation_cache = address is None
        if isinstance(compilation_cache, (str, Path)):
            cache = str(Path(compilation_cache).resolve())
        else:
            cache = str(sweep.cache_dir.resolve()) if compilation_cache else None
        refs = {}
        for job in sweep.jobs:
            if sweep.is_done(job):
                log(f"[sweep] {job.job_id}: finished earlier, skipped")
                continue
            refs[job.job_id] = remote.remote(job.to_dict(), str(sweep.job_dir(job).resolve()), kill, cache)
            log(f"[sweep] {job.job_id}: submitted to Ray ({num_cpus_per_job} CPU, {num_gpus_per_job} GPU, "
                f"max_retries={max_retries})")
        results, errors = {}, {}
        pending = dict(refs)
        while pending:
            done, _ = ray.wait(list(pending.values()), num_returns=1)
            jid = next(k for k, v in pending.items() if v == done[0])
            del pending[jid]
            try:
                res = ray.get(done[0])
            except Exception as e:  # the job failed for good (its own error, or retries exhausted)
                errors[jid] = f"{type(e).__name__}: {e}"
                log(f"[sweep] {jid}: FAILED ({type(e).__name__}); resume the sweep to retry from its checkpoint")
                continue
            job = next(j for j in sweep.jobs if j.job_id == jid)
            path = sweep.job_dir(job) / RESULT
            if not path.exists():  # worker on another node without shared storage
                atomic_write_json(path, res)
            results[jid] = res
            log(f"[sweep] {jid}: done" + (f" (resumed from update {res['resumed_from_update']})"
                                         if res.get("resumed_from_update") else ""))
        if errors:
            raise RuntimeError(f"{len(errors)} job(s) failed: {errors}")
        for job in sweep.jobs:
            if job.job_id not in results:
                results[job.job_id] = json.loads((sweep.job_dir(job) / RESULT).read_text())
        return results
    finally:
        if shutdown or (shutdown is None and started_here and address is None):
            ray.shutdown()

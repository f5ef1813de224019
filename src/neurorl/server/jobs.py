"""Background jobs (model training): a thread per job, status polling, cooperative cancellation.

The job thread owns the model's lock from submission to the end, so every other request on that
model answers 409 while it trains, and requests on other models never wait for it.
"""

from __future__ import annotations

import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from neurorl.server.errors import NotFound

MAX_KEPT_JOBS = 1000


@dataclass
class Job:
    job_id: str
    model: str
    epochs_total: int
    kind: str = "train"
    status: str = "queued"
    epochs_done: int = 0
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    error: str | None = None
    result: dict[str, Any] | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)
    done_event: threading.Event = field(default_factory=threading.Event)

    def info(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("job_id", "model", "kind", "status", "epochs_done", "epochs_total",
                                              "created", "started", "finished", "error", "result")}

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")


class JobManager:
    def __init__(self):
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def submit(self, model: str, epochs_total: int, work: Callable[[Job], dict], release: Callable[[], None]) -> Job:
        """Run ``work(job)`` in a daemon thread; ``release()`` runs at the end whatever happens."""
        job = Job(job_id=uuid.uuid4().hex[:16], model=model, epochs_total=epochs_total)
        with self._lock:
            self._jobs[job.job_id] = job
            if len(self._jobs) > MAX_KEPT_JOBS:  # forget the oldest finished jobs
                for jid in [j.job_id for j in self._jobs.values() if not j.active][: len(self._jobs) - MAX_KEPT_JOBS]:
                    del self._jobs[jid]

        def run():
            job.status, job.started = "running", time.time()
            try:
                job.result = work(job)
                job.status = "cancelled" if job.cancel_event.is_set() else "succeeded"
            except Exception as e:  # the job reports the failure; the server keeps serving
                job.status, job.error = "failed", f"{type(e).__name__}: {e}"
                traceback.print_exc()
            finally:
                job.finished = time.time()
                try:
                    release()
                finally:
                    job.done_event.set()

        threading.Thread(target=run, name=f"neurorl-job-{job.job_id}", daemon=True).start()
        return job

    def get(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(f"no job {job_id!r}; GET /v1/jobs lists the known jobs")
        return job

    def list(self, model: str | None = None) -> list[Job]:
        with self._lock:
            jobs = list(self._jobs.values())
        return [j for j in jobs if model is None or j.model == model]

    def cancel(self, job_id: str) -> Job:
        job = self.get(job_id)
        if job.active:
            job.cancel_event.set()
        return job

    def cancel_all(self, wait_s: float = 10.0) -> None:
        for job in self.list():
            job.cancel_event.set()
        deadline = time.time() + wait_s
        for job in self.list():
            job.done_event.wait(max(0.0, deadline - time.time()))

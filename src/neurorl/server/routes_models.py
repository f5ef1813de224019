"""``/v1/models`` and ``/v1/jobs``: named hippocampus models, background training, test, step, save/load."""

from __future__ import annotations

import io
import tempfile
import time
from pathlib import Path

import numpy as np
from fastapi import APIRouter, Path as PathParam, Request, Response, UploadFile
from fastapi.responses import Response as RawResponse

from neurorl.server import schemas as S
from neurorl.server.errors import BadRequest, NotFound
from neurorl.server.hip_backend import closest_pattern, hamming

router = APIRouter(prefix="/v1", tags=["hippocampus models"])
NameP = PathParam(pattern=S.NAME_RE, description="model name")


def _state(request: Request):
    return request.app.state.neurorl


@router.get("/models", response_model=S.ModelList, summary="List models")
def list_models(request: Request):
    st = _state(request)
    entries = [st.models.get_or_none(n) for n in st.models.names()]
    return {"models": [e.info() for e in entries if e is not None and e.backend is not None]}


@router.post("/models", response_model=S.ModelInfo, status_code=201, summary="Create a model (fresh weights)")
def create_model(body: S.ModelCreate, request: Request):
    return _state(request).models.create(body.name, body.seed, body.legacy).info()


@router.get("/models/{name}", response_model=S.ModelInfo, summary="A model's status")
def get_model(request: Request, name: str = NameP):
    entry = _state(request).models.get(name)
    if entry.backend is None:
        raise NotFound(f"model {name!r} is still being created")
    return entry.info()


@router.delete("/models/{name}", status_code=204, summary="Delete a model (409 while it trains)")
def delete_model(request: Request, name: str = NameP):
    _state(request).models.delete(name)
    return Response(status_code=204)


@router.put("/models/{name}/patterns", response_model=S.ModelInfo, summary="Replace the stored (training) patterns")
def set_patterns(body: S.PatternsIn, request: Request, name: str = NameP):
    st = _state(request)
    pats = np.asarray(body.patterns, np.float32)
    with st.models.use(name) as entry:
        entry.backend.set_patterns(pats, pats)
        entry.extra = {}
        st.models.persist(entry)
        return entry.info()


@router.get("/models/{name}/patterns", response_model=S.PatternsOut, summary="The stored patterns")
def get_patterns(request: Request, name: str = NameP):
    entry = _state(request).models.get(name)
    if entry.backend is None:
        raise NotFound(f"model {name!r} is still being created")
    return {"patterns": np.asarray(entry.backend.patterns, float).tolist(), "shape": list(S.PATTERN_SHAPE)}


@router.post("/models/{name}/train", response_model=S.JobInfo, status_code=202,
             summary="Start training in the background (continues from the current weights); 409 when busy")
def start_training(body: S.TrainRequest, request: Request, name: str = NameP):
    st = _state(request)
    entry = st.models.acquire(name)  # released by the job
    if len(entry.backend.patterns) == 0:
        entry.lock.release()
        raise BadRequest(f"model {name!r} holds no patterns; PUT /v1/models/{name}/patterns first")

    def work(job):
        def on_epoch(done: int):
            job.epochs_done = done

        res = entry.backend.train(body.max_runs, body.max_epochs,
                                  should_stop=lambda: job.cancel_event.is_set() or st.stopping, on_epoch=on_epoch)
        st.models.persist(entry)
        return {k: v for k, v in dict(res).items() if isinstance(v, (int, float, str, bool, list))}

    def release():
        entry.job_id = None
        entry.lock.release()

    job = st.jobs.submit(name, body.max_runs * body.max_epochs, work, release)
    entry.job_id = job.job_id
    return job.info()


@router.post("/models/{name}/test", response_model=S.TestResult, summary="Recall from one cue (no learning)")
def test_pattern(body: S.TestRequest, request: Request, name: str = NameP):
    st = _state(request)
    with st.models.use(name) as entry:
        if len(entry.backend.patterns) == 0:
            raise BadRequest(f"model {name!r} holds no patterns; PUT /v1/models/{name}/patterns first")
        cue = np.asarray(body.cue, np.float32)
        target = None if body.target is None else np.asarray(body.target, np.float32)
        recall = entry.backend.test(cue, target)
        patterns = entry.backend.patterns
        if entry.backend.legacy:
            st.models.persist(entry)  # legacy tests change the network (hippocampus.md §1.6 quirk 3)
    i, d = closest_pattern(recall, patterns)
    return {"recall": [float(x) for x in recall], "recall_binary": [int(x) for x in np.floor(recall + 0.5)],
            "closest_index": i, "closest_distance": d,
            "target_distance": None if target is None else int(hamming(recall, target))}


@router.post("/models/{name}/step", response_model=S.StepResult,
             summary="The original client's Step: test every cue for some iterations and score the recall")
def step(body: S.StepRequest, request: Request, name: str = NameP):
    if len(body.cues) != len(body.targets):
        raise BadRequest(f"cues and targets must have the same length, got {len(body.cues)} and {len(body.targets)}")
    st = _state(request)
    cues = np.asarray(body.cues, np.float32)
    targets = np.asarray(body.targets, np.float32)
    legacy_r = np.zeros((body.iterations, len(cues)))
    fixed_r = np.zeros_like(legacy_r)
    with st.models.use(name) as entry:
        if len(entry.backend.patterns) == 0:
            raise BadRequest(f"model {name!r} holds no patterns; PUT /v1/models/{name}/patterns first")
        recalls = []
        for it in range(body.iterations):
            recalls = []
            for j, (c, t) in enumerate(zip(cues, targets)):
                r = entry.backend.test(c, t)
                recalls.append(r)
                # v1 Step (hippocampus.md §1.3): reward = cue.size - Distance (to the nearest stored pattern)
                legacy_r[it, j] = c.size - closest_pattern(r, entry.backend.patterns)[1]
                fixed_r[it, j] = c.size - int(hamming(r, t))
        if entry.backend.legacy:
            st.models.persist(entry)
    return {"reward": float(legacy_r.mean()), "rewards_per_cue": fixed_r.mean(0).tolist(),
            "recalls": [np.asarray(r, float).tolist() for r in recalls]}


@router.get("/models/{name}/checkpoint", response_class=RawResponse, summary="Download the model (save)",
            responses={200: {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
                             "description": "a checkpoint file that PUT .../checkpoint loads"}})
def save_model(request: Request, name: str = NameP):
    st = _state(request)
    with st.models.use(name) as entry, tempfile.TemporaryDirectory() as tmp:
        data = st.export_model(entry, Path(tmp))
    return RawResponse(data, media_type="application/octet-stream",
                       headers={"Content-Disposition": f'attachment; filename="{name}.hipmodel"'})


@router.put("/models/{name}/checkpoint", response_model=S.ModelInfo, summary="Load a saved model (replaces or creates it)",
            openapi_extra={"requestBody": {"required": True, "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
async def load_model(request: Request, name: str = NameP):
    from starlette.concurrency import run_in_threadpool

    data = await request.body()
    st = _state(request)
    return await run_in_threadpool(st.import_model, name, data)


# ------------------------------------------------------------------ jobs
@router.get("/jobs", response_model=S.JobList, tags=["jobs"], summary="List background jobs")
def list_jobs(request: Request, model: str | None = None):
    return {"jobs": [j.info() for j in _state(request).jobs.list(model)]}


@router.get("/jobs/{job_id}", response_model=S.JobInfo, tags=["jobs"], summary="A job's status and progress")
def get_job(request: Request, job_id: str = PathParam(pattern=r"^[0-9a-f]{1,32}$")):
    return _state(request).jobs.get(job_id).info()


@router.delete("/jobs/{job_id}", response_model=S.JobInfo, tags=["jobs"],
               summary="Cancel a job (it stops after the current epoch; the weights so far are kept)")
def cancel_job(request: Request, job_id: str = PathParam(pattern=r"^[0-9a-f]{1,32}$")):
    return _state(request).jobs.cancel(job_id).info()

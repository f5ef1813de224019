"""``/v1/envs`` and ``/v1/sessions``: Gym over HTTP for every registered task, plus baselines for scoring."""

from __future__ import annotations

from fastapi import APIRouter, Path as PathParam, Request, Response

from neurorl.server import schemas as S
from neurorl.server.baselines import score_for_session

router = APIRouter(prefix="/v1", tags=["environment sessions"])
SidP = PathParam(pattern=r"^[0-9a-f]{1,32}$", description="session id")


def _st(request: Request):
    return request.app.state.neurorl


@router.get("/envs", response_model=S.EnvList, summary="Registered environment ids")
def list_envs():
    from neurorl.envs import list_envs as _list
    from neurorl.envs.registry import spec

    return {"envs": [{"id": i, "description": spec(i).description} for i in _list()]}


@router.post("/sessions", response_model=S.SessionInfo, status_code=201, summary="Create an env session")
def create_session(body: S.SessionCreate, request: Request):
    return _st(request).sessions.create(body.env_id, body.params, body.seed, body.num_envs, body.autoreset).info()


@router.get("/sessions", response_model=list[S.SessionInfo], summary="List env sessions")
def list_sessions(request: Request):
    return [s.info() for s in _st(request).sessions.list()]


@router.get("/sessions/{sid}", response_model=S.SessionInfo, summary="A session's spaces and returns")
def get_session(request: Request, sid: str = SidP):
    return _st(request).sessions.get(sid).info()


@router.post("/sessions/{sid}/reset", response_model=S.Observation, summary="Start new episodes in every env")
def reset(body: S.ResetRequest, request: Request, sid: str = SidP):
    s = _st(request).sessions.use(sid)
    try:
        return s.reset(body.seed, body.render)
    finally:
        s.lock.release()


@router.post("/sessions/{sid}/step", response_model=S.StepOut, summary="One step of every env (one action each)")
def step(body: S.StepRequestEnv, request: Request, sid: str = SidP):
    s = _st(request).sessions.use(sid)
    try:
        return s.step(body.actions, body.render)
    finally:
        s.lock.release()


@router.get("/sessions/{sid}/score", response_model=S.ScoreOut,
            summary="The last finished episode's return beside the baselines' expected return on the same task")
def score(request: Request, sid: str = SidP):
    s = _st(request).sessions.use(sid)
    try:
        return score_for_session(s)
    finally:
        s.lock.release()


@router.delete("/sessions/{sid}", status_code=204, summary="Close a session")
def close(request: Request, sid: str = SidP):
    _st(request).sessions.close(sid)
    return Response(status_code=204)

"""``/v1/agents``: load trained agents, act on one observation, or play a whole episode."""

from __future__ import annotations

from fastapi import APIRouter, Path as PathParam, Request, Response

from neurorl.server import schemas as S
from neurorl.server.agents_state import act as _act, play as _play

router = APIRouter(prefix="/v1", tags=["trained agents"])
AidP = PathParam(pattern=S.NAME_RE, description="agent id")


def _st(request: Request):
    return request.app.state.neurorl


@router.get("/agents/shipped", response_model=S.ShippedList, summary="Agents shipped inside the package")
def shipped():
    from neurorl.rl.zoo import shipped_agents

    return {"shipped": shipped_agents()}


@router.get("/agents", response_model=S.AgentList, summary="Loaded agents")
def list_agents(request: Request):
    return {"agents": [e.info() for e in _st(request).agents.list()]}


@router.post("/agents", response_model=S.AgentInfo, status_code=201, summary="Load a shipped or saved agent")
def load(body: S.AgentLoad, request: Request):
    st = _st(request)
    entry = st.agents.load(body.source, body.agent_id)
    st.save_agents()
    return entry.info()


@router.get("/agents/{agent_id}", response_model=S.AgentInfo, summary="A loaded agent")
def get_agent(request: Request, agent_id: str = AidP):
    return _st(request).agents.get(agent_id).info()


@router.delete("/agents/{agent_id}", status_code=204, summary="Unload an agent")
def unload(request: Request, agent_id: str = AidP):
    st = _st(request)
    st.agents.unload(agent_id)
    st.save_agents()
    return Response(status_code=204)


@router.post("/agents/{agent_id}/act", response_model=S.ActOut,
             summary="One step: action, probabilities, value and the next recurrent state")
def act(body: S.ActRequest, request: Request, agent_id: str = AidP):
    return _act(_st(request).agents.get(agent_id), body)


@router.post("/agents/{agent_id}/play", response_model=S.PlayOut,
             summary="Play one whole episode in the agent's own task; every step's probabilities and value")
def play(body: S.PlayRequest, request: Request, agent_id: str = AidP):
    return _play(_st(request).agents.get(agent_id), body)

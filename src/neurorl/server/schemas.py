"""Strict request/response models of the ``/v1`` JSON API (pydantic v2).

Strict means: no silent coercion (``"3"`` is not an int, ``true`` is not a number), no NaN or
infinity, no unknown fields, and fixed lengths where the model needs them. A request that breaks a
rule gets 422 with the field's location and what was expected (FastAPI's validation answer).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

# hippocampus.md §2.1 / §2.7: EC layers are 6x2 pools of 3x4 units = 144 units, C order of (6, 2, 3, 4)
PATTERN_SHAPE = (6, 2, 3, 4)
PATTERN_SIZE = 144
NAME_RE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
MAX_PATTERNS = 1000
SEED_MAX = 2**31 - 1


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False)


def _binary(v: list[float]) -> list[float]:
    bad = [i for i, x in enumerate(v) if x != 0.0 and x != 1.0]
    if bad:
        i = bad[0]
        raise ValueError(f"values must be binary (0 or 1); index {i} is {v[i]!r} ({len(bad)} non-binary values)")
    return v


def _finite(v: list[float]) -> list[float]:
    for i, x in enumerate(v):
        if not math.isfinite(x):
            raise ValueError(f"values must be finite numbers; index {i} is {x!r}")
    return v


FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
BinaryPattern = Annotated[
    list[FiniteFloat],
    Field(min_length=PATTERN_SIZE, max_length=PATTERN_SIZE,
          description="144 binary values (0 or 1): the (6, 2, 3, 4) EC pattern flattened in C order"),
    AfterValidator(_binary),
]
Seed = Annotated[int, Field(ge=0, le=SEED_MAX)]
Name = Annotated[str, Field(pattern=NAME_RE, description="1-64 characters: letters, digits, '_', '.', '-'")]


class ErrorResponse(BaseModel):
    detail: str = Field(description="What went wrong and what was expected.")


# ------------------------------------------------------------------ hippocampus models
class ModelCreate(Strict):
    name: Name
    seed: Seed = 0
    legacy: bool = Field(False, description="Copy the 2020 model's quirks (hippocampus.md §1.6): stale-Mem early "
                                            "stop, last weight change not applied, tests that change the network.")


class ModelInfo(BaseModel):
    name: str
    seed: int
    legacy: bool
    num_patterns: int
    pattern_shape: list[int]
    trained_epochs: int
    busy: bool
    job_id: str | None = None
    created: float
    updated: float


class ModelList(BaseModel):
    models: list[ModelInfo]


class PatternsIn(Strict):
    patterns: Annotated[list[BinaryPattern], Field(min_length=1, max_length=MAX_PATTERNS)]


class PatternsOut(BaseModel):
    patterns: list[list[float]]
    shape: list[int]


class TrainRequest(Strict):
    max_runs: Annotated[int, Field(ge=1, le=10)] = 1
    max_epochs: Annotated[int, Field(ge=1, le=500)] = 50


class JobInfo(BaseModel):
    job_id: str
    model: str
    kind: Literal["train"]
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    epochs_done: int
    epochs_total: int
    created: float
    started: float | None = None
    finished: float | None = None
    error: str | None = None
    result: dict[str, Any] | None = None


class JobList(BaseModel):
    jobs: list[JobInfo]


class TestRequest(Strict):
    cue: BinaryPattern
    target: BinaryPattern | None = Field(None, description="Optional: also report the Hamming distance of the "
                                                          "recall to this pattern (the fixed v1 semantics).")


class TestResult(BaseModel):
    recall: list[float] = Field(description="ECout ActM (end of quarter 3), 144 values in [0, 1]")
    recall_binary: list[int] = Field(description="recall rounded at 0.5")
    closest_index: int = Field(description="index of the stored pattern nearest the rounded recall (ties: lowest)")
    closest_distance: int = Field(description="Hamming distance to that pattern (the legacy 'Distance')")
    target_distance: int | None = Field(None, description="Hamming distance from the rounded recall to 'target'")


class StepRequest(Strict):
    cues: Annotated[list[BinaryPattern], Field(min_length=1, max_length=MAX_PATTERNS)]
    targets: Annotated[list[BinaryPattern], Field(min_length=1, max_length=MAX_PATTERNS)]
    iterations: Annotated[int, Field(ge=1, le=100)] = 1


class StepResult(BaseModel):
    reward: float = Field(description="the original client's Step: mean over iterations and cues of 144 - Distance, "
                                      "Distance measured to the nearest stored pattern (hippocampus.md §1.3, quirk 5)")
    rewards_per_cue: list[float] = Field(description="the fixed semantics: per cue, mean over iterations of "
                                                     "144 - Hamming(rounded recall, target)")
    recalls: list[list[float]] = Field(description="the last iteration's recall of every cue")


# ------------------------------------------------------------------ environment sessions
JSONScalar = bool | int | FiniteFloat | str


class SessionCreate(Strict):
    env_id: str = Field(description="a registered id, GET /v1/envs lists them")
    params: dict[str, JSONScalar] = Field(default_factory=dict, description="keyword arguments of neurorl.envs.make")
    seed: Seed = 0
    num_envs: Annotated[int, Field(ge=1, le=256)] = 1
    autoreset: bool = Field(False, description="gymnax semantics: an ended episode restarts inside step")


class SpaceInfo(BaseModel):
    kind: str
    n: int | None = None
    shape: list[int] | None = None
    low: float | None = None
    high: float | None = None
    spaces: dict[str, "SpaceInfo"] | None = None


class SessionInfo(BaseModel):
    session_id: str
    env_id: str
    params: dict[str, Any]
    num_envs: int
    autoreset: bool
    observation_space: SpaceInfo
    action_space: SpaceInfo
    episode_returns: list[float]
    episodes_done: int


class ResetRequest(Strict):
    seed: Seed | None = None
    render: bool = False


class Observation(BaseModel):
    observation: Any = Field(description="batched: a list with one entry per env (a dict of lists for dict spaces)")
    frames: list[str] | None = Field(None, description="PNG images as data URLs, one per env, when render was asked")


class StepRequestEnv(Strict):
    actions: Annotated[list[Annotated[int, Field(ge=0, le=10_000)]], Field(min_length=1, max_length=256)]
    render: bool = False


class StepOut(Observation):
    reward: list[float]
    terminated: list[bool]
    truncated: list[bool]
    info: dict[str, Any]
    episode_returns: list[float]


class EnvList(BaseModel):
    envs: list[dict[str, str]]


class ScoreOut(BaseModel):
    env_id: str
    episodes_done: int
    last_return: float | None
    baselines: dict[str, float] = Field(description="expected return of each baseline on the same task")
    note: str


# ------------------------------------------------------------------ trained agents
class AgentLoad(Strict):
    source: str = Field(description="a shipped agent's name (GET /v1/agents/shipped), a run folder or an agent.ckpt path")
    agent_id: Name | None = None


class AgentInfo(BaseModel):
    agent_id: str
    source: str
    env_id: str
    env_params: dict[str, Any]
    family: str
    num_actions: int
    num_seeds: int
    observation_shape: Any
    state_shapes: list[list[int]]


class AgentList(BaseModel):
    agents: list[AgentInfo]


class ShippedList(BaseModel):
    shipped: list[str]


class ActRequest(Strict):
    observation: list[FiniteFloat] | dict[str, list[FiniteFloat]] = Field(
        description="one observation, flattened in C order (a dict of flat lists for dict observations)")
    state: list[list[FiniteFloat]] | None = Field(None, description="the recurrent state returned by the previous act "
                                                                   "(omit at the start of an episode)")
    episode_start: bool = False
    greedy: bool = False
    seed_index: Annotated[int, Field(ge=0, le=1023)] = 0
    seed: Seed = 0


class ActOut(BaseModel):
    action: int
    probs: list[float]
    logits: list[float]
    value: float
    state: list[list[float]]


class PlayRequest(Strict):
    seed: Seed = 0
    greedy: bool = False
    seed_index: Annotated[int, Field(ge=0, le=1023)] = 0
    max_steps: Annotated[int, Field(ge=1, le=1000)] | None = None


class PlayOut(BaseModel):
    env_id: str
    steps: int
    total_reward: float
    actions: list[int]
    rewards: list[float]
    probs: list[list[float]]
    values: list[float]
    info: dict[str, Any]


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    models: int
    sessions: int
    agents: int

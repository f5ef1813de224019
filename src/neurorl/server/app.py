"""The FastAPI application: ``create_app(ServerConfig(...))``.

Layout: ``legacy.py`` (the original wire formats), ``routes_models.py`` (``/v1/models``, ``/v1/jobs``),
``routes_envs.py`` (``/v1/envs``, ``/v1/sessions``), ``routes_agents.py`` (``/v1/agents``), ``web/``
(the page and the offline API docs page, no CDN). ``auth.SecurityMiddleware`` wraps everything.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import threading
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from neurorl.server import schemas as S
from neurorl.server.agents_state import AgentRegistry
from neurorl.server.auth import SecurityMiddleware
from neurorl.server.errors import APIError, BadRequest, Conflict
from neurorl.server.jobs import JobManager
from neurorl.server.models_state import ModelEntry, ModelRegistry
from neurorl.server.sessions import SessionRegistry
from neurorl.utils.atomic import atomic_write_json

WEB_DIR = Path(__file__).resolve().parent / "web"
DEFAULT_MAX_BODY = 8 * 2**20  # 8 MiB: 1000 patterns of 144 values as JSON is about 1 MiB


@dataclass
class ServerConfig:
    token: str | None = None
    state_dir: Path | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY
    max_models: int = 100
    max_sessions: int = 256
    max_agents: int = 32
    legacy_quirks: bool = False  # the legacy endpoints' model copies the 2020 quirks (hippocampus.md §1.6)
    threads: int = 64  # worker threads for blocking requests (one per concurrently served model)
    backend_create: Callable | None = None  # (seed, legacy) -> HipBackend; default neurorl.hippocampus
    backend_load: Callable | None = None  # (path, meta) -> HipBackend


def _default_backends():
    from neurorl.server.hip_backend import CoreHippocampus

    return (lambda seed, legacy: CoreHippocampus(seed, legacy)), CoreHippocampus.load


class AppState:
    def __init__(self, cfg: ServerConfig):
        self.cfg = cfg
        create, load = cfg.backend_create, cfg.backend_load
        if create is None or load is None:
            create, load = _default_backends()
        self.new_backend, self._load_backend = create, load
        self.state_dir = Path(cfg.state_dir) if cfg.state_dir else None
        self.models = ModelRegistry(create, load, self.state_dir, cfg.max_models)
        self.jobs = JobManager()
        self.sessions = SessionRegistry(cfg.max_sessions)
        self.agents = AgentRegistry(cfg.max_agents)
        self.legacy_quirks = cfg.legacy_quirks
        self.stopping = False
        self._agents_lock = threading.Lock()

    # ---------------------------------------------------------------- model files
    def export_model(self, entry: ModelEntry, tmp: Path) -> bytes:
        entry.backend.save(tmp / "model.ckpt")
        meta = {"format": "neurorl-hipmodel-1", "seed": entry.backend.seed, "legacy": entry.backend.legacy,
                "trained_epochs": entry.backend.trained_epochs}
        buf = io.BytesIO()
        np.savez(buf, model=np.frombuffer((tmp / "model.ckpt").read_bytes(), np.uint8),
                 patterns=np.asarray(entry.backend.patterns, np.float32), meta=np.asarray(json.dumps(meta)))
        return buf.getvalue()

    def import_model(self, name: str, data: bytes) -> dict:
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                model_bytes, patterns, meta = z["model"].tobytes(), z["patterns"], json.loads(str(z["meta"]))
            if meta.get("format") != "neurorl-hipmodel-1":
                raise ValueError("unknown format")
        except Exception as e:
            raise BadRequest(f"body is not a model file saved by GET /v1/models/{{name}}/checkpoint ({type(e).__name__}: {e})") from None
        meta["patterns"] = patterns
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "model.ckpt").write_bytes(model_bytes)
            try:
                backend = self._load_backend(Path(tmp) / "model.ckpt", meta)
            except Exception as e:
                raise BadRequest(f"cannot load the model file: {type(e).__name__}: {e}") from None
        self.models.create(name, meta.get("seed", 0), meta.get("legacy", False), exist_ok=True)
        with self.models.use(name) as entry:
            entry.backend, entry.extra = backend, {}
            self.models.persist(entry)
            return entry.info()

    # ---------------------------------------------------------------- agents survive restarts too
    def save_agents(self) -> None:
        if self.state_dir is None:
            return
        with self._agents_lock:
            atomic_write_json(self.state_dir / "agents.json",
                              [{"agent_id": e.agent_id, "source": e.source} for e in self.agents.list()])

    def load_agents(self) -> None:
        p = self.state_dir / "agents.json" if self.state_dir else None
        if p is None or not p.exists():
            return
        for rec in json.loads(p.read_text()):
            try:
                self.agents.load(rec["source"], rec["agent_id"])
            except Exception as e:
                print(f"neurorl serve: could not reload agent {rec}: {e}")


def _warm_imports() -> None:
    try:
        import neurorl.envs  # noqa: F401
    except Exception:
        pass


def create_app(cfg: ServerConfig | None = None) -> FastAPI:
    cfg = cfg or ServerConfig()
    state = AppState(cfg)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        import anyio.to_thread

        anyio.to_thread.current_default_thread_limiter().total_tokens = max(cfg.threads, 8)
        state.models.load_all()
        state.load_agents()
        # import the task registry now rather than inside the first env request (gymnax's import is slow)
        threading.Thread(target=_warm_imports, daemon=True).start()
        yield
        state.stopping = True
        state.jobs.cancel_all()

    from neurorl import __version__ as version

    app = FastAPI(title="neurorl", version=str(version), lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Hippocampus models, environment sessions and trained agents over HTTP, plus the "
                              "original hippocampus interface's wire format. Guide: docs/api.md.",
                  responses={401: {"model": S.ErrorResponse, "description": "missing or wrong bearer token"},
                             403: {"model": S.ErrorResponse, "description": "cross-site request"},
                             413: {"model": S.ErrorResponse, "description": "body over the size limit"}})
    app.state.neurorl = state

    @app.exception_handler(APIError)
    async def api_error(request: Request, exc: APIError):
        return JSONResponse({"detail": exc.message}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        errors = exc.errors()
        parts = []
        for e in errors[:5]:
            loc = ".".join(str(x) for x in e.get("loc", ()) if x != "body") or "body"
            parts.append(f"{loc}: {e.get('msg')}")
        # the standard 422 shape (detail = list of errors) plus one readable line
        return JSONResponse({"detail": [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg")), "type": str(e.get("type"))}
                                        for e in errors],
                             "message": "; ".join(parts) + (f" (+{len(errors) - 5} more)" if len(errors) > 5 else "")},
                            status_code=422)

    from neurorl.server import legacy, routes_agents, routes_envs, routes_models

    common = {400: {"model": S.ErrorResponse}, 404: {"model": S.ErrorResponse}, 409: {"model": S.ErrorResponse},
              429: {"model": S.ErrorResponse}}
    app.include_router(legacy.router)
    app.include_router(routes_models.router, responses=common)
    app.include_router(routes_envs.router, responses=common)
    app.include_router(routes_agents.router, responses=common)

    @app.get("/v1/health", response_model=S.Health, tags=["server"], summary="Liveness and counts")
    def health():
        return {"status": "ok", "version": str(version), "models": len(state.models), "sessions": len(state.sessions),
                "agents": len(state.agents)}

    @app.get("/", include_in_schema=False)
    def index():
        return FileResponse(WEB_DIR / "index.html")

    @app.get("/docs", include_in_schema=False)
    def docs_page():
        return FileResponse(WEB_DIR / "docs.html")

    app.mount("/web", StaticFiles(directory=WEB_DIR), name="web")
    app.add_middleware(SecurityMiddleware, token=cfg.token, max_body_bytes=cfg.max_body_bytes)
    return app

"""Python client for ``neurorl serve`` (httpx), and ``RemoteEnv``: a Gymnasium env backed by a server session.

    from neurorl.client import Client
    c = Client("http://127.0.0.1:1323", token=None, timeout=30)
    c.create_model("m1", seed=0)
    c.set_patterns("m1", patterns)              # numpy (N, 144) or (N, 6, 2, 3, 4), binary
    job = c.train("m1", max_epochs=5)           # background job; c.wait(job) polls it
    res = c.test("m1", cue)                     # dict: recall (numpy), closest_index, ...

Methods that mirror the original ``HipAPI`` (hippocampus.md §1.2-1.3) with Pythonic names:
``update_training_patterns``, ``update_training_file``, ``start_training`` (blocking, legacy endpoint),
``test_pattern`` (v1 answer: distance + closest pattern), ``test_pattern_v2`` (protobuf: raw recall) and
``step``. Every failure raises :class:`ServerError` (with ``status_code`` and the server's message),
:class:`AuthError`, :class:`NotFoundError`, :class:`BusyError` (409) or :class:`ValidationError` (422);
connection problems and timeouts raise :class:`ConnectionError_`.
"""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np

try:
    import httpx
except ImportError as e:  # pragma: no cover
    raise ImportError("neurorl.client needs httpx: pip install 'neurorl[server]'") from e

PATTERN_SIZE = 144
PATTERN_SHAPE = (6, 2, 3, 4)


class ServerError(Exception):
    """The server answered with an error status; ``message`` is its explanation."""

    def __init__(self, status_code: int, message: str, body: Any = None):
        super().__init__(f"HTTP {status_code}: {message}")
        self.status_code, self.message, self.body = status_code, message, body


class AuthError(ServerError):
    pass


class NotFoundError(ServerError):
    pass


class BusyError(ServerError):
    """409: the model or session is busy (e.g. training) or the name exists."""


class ValidationError(ServerError):
    """400/422: the request was malformed; the message says what was expected."""


class TooLargeError(ServerError):
    pass


class ConnectionError_(ServerError):
    """No answer: the server is unreachable or the request timed out."""

    def __init__(self, message: str):
        super().__init__(0, message)


_BY_STATUS = {400: ValidationError, 401: AuthError, 403: AuthError, 404: NotFoundError, 409: BusyError,
              413: TooLargeError, 422: ValidationError}


def _patterns(a, what="patterns") -> list[list[float]]:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim >= 1 and a.shape[-4:] == PATTERN_SHAPE:
        a = a.reshape(-1, PATTERN_SIZE)
    elif a.ndim in (1, 2) and a.shape[-1] == PATTERN_SIZE:
        a = a.reshape(-1, PATTERN_SIZE)
    else:
        raise ValueError(f"{what}: expected shape (N, 144), (144,), (N, 6, 2, 3, 4) or (6, 2, 3, 4), got {a.shape}")
    return a.tolist()


class Client:
    def __init__(self, url: str = "http://127.0.0.1:1323", *, token: str | None = None, timeout: float = 60.0,
                 transport: httpx.BaseTransport | None = None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---------------------------------------------------------------- plumbing
    def request(self, method: str, path: str, **kw) -> httpx.Response:
        try:
            r = self._http.request(method, path, **kw)
        except httpx.TimeoutException as e:
            raise ConnectionError_(f"{method} {path}: no answer within the timeout ({e})") from None
        except httpx.TransportError as e:
            raise ConnectionError_(f"{method} {path}: cannot reach {self.url} ({e})") from None
        if r.status_code >= 400:
            try:
                body = r.json()
                msg = body.get("message") or body.get("detail") if isinstance(body, dict) else str(body)
                if isinstance(msg, list):
                    msg = "; ".join(str(m.get("msg", m)) for m in msg)
            except ValueError:
                body, msg = r.text, r.text
            raise _BY_STATUS.get(r.status_code, ServerError)(r.status_code, str(msg), body)
        return r

    def _json(self, method: str, path: str, **kw) -> Any:
        r = self.request(method, path, **kw)
        return r.json() if r.content else None

    def health(self) -> dict:
        return self._json("GET", "/v1/health")

    # ---------------------------------------------------------------- /v1 models
    def list_models(self) -> list[dict]:
        return self._json("GET", "/v1/models")["models"]

    def create_model(self, name: str, seed: int = 0, legacy: bool = False) -> dict:
        return self._json("POST", "/v1/models", json={"name": name, "seed": seed, "legacy": legacy})

    def model(self, name: str) -> dict:
        return self._json("GET", f"/v1/models/{name}")

    def delete_model(self, name: str) -> None:
        self.request("DELETE", f"/v1/models/{name}")

    def set_patterns(self, name: str, patterns) -> dict:
        return self._json("PUT", f"/v1/models/{name}/patterns", json={"patterns": _patterns(patterns)})

    def get_patterns(self, name: str) -> np.ndarray:
        return np.asarray(self._json("GET", f"/v1/models/{name}/patterns")["patterns"], np.float32)

    def train(self, name: str, max_epochs: int = 50, max_runs: int = 1, wait: bool = False,
              poll_s: float = 0.2, timeout: float | None = None) -> dict:
        job = self._json("POST", f"/v1/models/{name}/train", json={"max_runs": max_runs, "max_epochs": max_epochs})
        return self.wait(job["job_id"], poll_s=poll_s, timeout=timeout) if wait else job

    def job(self, job_id: str) -> dict:
        return self._json("GET", f"/v1/jobs/{job_id}")

    def cancel(self, job_id: str) -> dict:
        return self._json("DELETE", f"/v1/jobs/{job_id}")

    def wait(self, job_id: str, poll_s: float = 0.2, timeout: float | None = None) -> dict:
        t0 = time.monotonic()
        while True:
            j = self.job(job_id)
            if j["status"] not in ("queued", "running"):
                if j["status"] == "failed":
                    raise ServerError(500, f"job {job_id} failed: {j['error']}", j)
                return j
            if timeout is not None and time.monotonic() - t0 > timeout:
                raise TimeoutError(f"job {job_id} still {j['status']} after {timeout} s ({j['epochs_done']} epochs)")
            time.sleep(poll_s)

    def test(self, name: str, cue, target=None) -> dict:
        body = {"cue": _patterns(cue, "cue")[0]}
        if target is not None:
            body["target"] = _patterns(target, "target")[0]
        out = self._json("POST", f"/v1/models/{name}/test", json=body)
        out["recall"] = np.asarray(out["recall"], np.float32)
        return out

    def step_model(self, name: str, cues, targets, iterations: int = 1) -> dict:
        return self._json("POST", f"/v1/models/{name}/step", json={
            "cues": _patterns(cues, "cues"), "targets": _patterns(targets, "targets"), "iterations": iterations})

    def save_model(self, name: str) -> bytes:
        return self.request("GET", f"/v1/models/{name}/checkpoint").content

    def load_model(self, name: str, data: bytes) -> dict:
        return self._json("PUT", f"/v1/models/{name}/checkpoint", content=data,
                          headers={"content-type": "application/octet-stream"})

    # ---------------------------------------------------------------- the original HipAPI calls (legacy wire format)
    def update_training_patterns(self, patterns) -> str:
        """v1 ``UpdateTrainingDataPatterns``: form fields, each pattern as a bracketed 0/1 string (§1.2)."""
        a = np.asarray(patterns)
        if a.ndim < 2:
            raise ValueError(f"patterns: expected a batch of patterns, got shape {a.shape}")
        a = a.reshape((a.shape[0],) + (PATTERN_SHAPE if a[0].size == PATTERN_SIZE else a.shape[1:]))
        if not np.isin(a, (0, 1)).all():
            raise ValueError("patterns: the v1 format carries only binary values (0 or 1)")
        data = {"source": "body", "shape": json.dumps(list(a.shape[1:])),
                "patterns": [json.dumps(p.astype(int).tolist()).replace("[", "(").replace("]", ")") for p in a]}
        return self.request("PUT", "/dataset/train/update", data=data).text

    def update_training_file(self, filename: str) -> str:
        """v1 ``UpdateTrainingDataFile``: an Emergent CSV on the server's file system."""
        return self.request("PUT", "/dataset/train/update", data={"source": "file", "filename": filename}).text

    def start_training(self, maxruns: int = 1, maxepcs: int = 50) -> str:
        """``StartTraining``: blocks until the server has trained; returns its elapsed-time text."""
        return self.request("POST", "/model/train", data={"maxruns": maxruns, "maxepcs": maxepcs}).text

    def test_pattern(self, corrupted, target) -> dict:
        """v1 ``TestPattern``: returns ``{"Distance": int, "ClosestPattern": ndarray (6, 2, 3, 4)}``."""
        c, t = np.asarray(corrupted), np.asarray(target)
        r = self.request("POST", "/model/testpattern", data={
            "shape": json.dumps(list(c.shape)), "corruptedPattern": json.dumps(c.tolist()),
            "targetPattern": json.dumps(t.tolist())}).json()
        cp = r["ClosestPattern"]
        return {"Distance": int(r["Distance"]), "ClosestPattern": np.asarray(cp["Values"], np.float32).reshape(cp["Shp"])}

    def test_pattern_v2(self, corrupted) -> np.ndarray:
        """v2 ``TestPattern``: protobuf TestItem in, the raw ECout recall (6, 2, 3, 4) out."""
        from neurorl.server import protobuf as pb

        msg = pb.TestItem(version=2, corrupted_pattern=pb.tensor_from_array(np.asarray(corrupted)))
        r = self.request("POST", "/model/testpattern", content=msg.SerializeToString(),
                         headers={"content-type": "application/octet-stream"})
        return pb.array_from_tensor(pb.NameError_.FromString(r.content).output_pattern).astype(np.float32)

    def step(self, cues, targets, iterations: int = 1) -> float:
        """v1 ``Step``: mean over iterations and cues of 144 - Distance (to the nearest stored pattern)."""
        rewards = [c.size - self.test_pattern(c, t)["Distance"] for _ in range(iterations)
                   for c, t in zip(np.asarray(cues), np.asarray(targets))]
        return float(np.mean(rewards))

    # ---------------------------------------------------------------- env sessions
    def list_envs(self) -> list[str]:
        return [e["id"] for e in self._json("GET", "/v1/envs")["envs"]]

    def create_session(self, env_id: str, params: dict | None = None, seed: int = 0, num_envs: int = 1,
                       autoreset: bool = False) -> dict:
        return self._json("POST", "/v1/sessions", json={"env_id": env_id, "params": params or {}, "seed": seed,
                                                        "num_envs": num_envs, "autoreset": autoreset})

    def reset(self, session_id: str, seed: int | None = None, render: bool = False) -> dict:
        return self._json("POST", f"/v1/sessions/{session_id}/reset", json={"seed": seed, "render": render})

    def step_env(self, session_id: str, actions, render: bool = False) -> dict:
        acts = [int(a) for a in np.atleast_1d(np.asarray(actions))]
        return self._json("POST", f"/v1/sessions/{session_id}/step", json={"actions": acts, "render": render})

    def score(self, session_id: str) -> dict:
        return self._json("GET", f"/v1/sessions/{session_id}/score")

    def close_session(self, session_id: str) -> None:
        self.request("DELETE", f"/v1/sessions/{session_id}")

    # ---------------------------------------------------------------- agents
    def load_agent(self, source: str, agent_id: str | None = None) -> dict:
        body = {"source": source}
        if agent_id:
            body["agent_id"] = agent_id
        return self._json("POST", "/v1/agents", json=body)

    def act(self, agent_id: str, observation, state=None, episode_start: bool = False, greedy: bool = False,
            seed: int = 0, seed_index: int = 0) -> dict:
        obs = ({k: np.asarray(v, float).ravel().tolist() for k, v in observation.items()}
               if isinstance(observation, dict) else np.asarray(observation, float).ravel().tolist())
        return self._json("POST", f"/v1/agents/{agent_id}/act", json={
            "observation": obs, "state": state, "episode_start": episode_start, "greedy": greedy, "seed": seed,
            "seed_index": seed_index})

    def play(self, agent_id: str, seed: int = 0, greedy: bool = False, seed_index: int = 0,
             max_steps: int | None = None) -> dict:
        return self._json("POST", f"/v1/agents/{agent_id}/play", json={
            "seed": seed, "greedy": greedy, "seed_index": seed_index, "max_steps": max_steps})


# ------------------------------------------------------------------ Gymnasium env over HTTP
def _space(info: dict):
    from gymnasium import spaces

    kind = info["kind"]
    if kind == "discrete":
        return spaces.Discrete(info["n"])
    if kind == "box":
        low = -np.inf if info.get("low") is None else info["low"]
        high = np.inf if info.get("high") is None else info["high"]
        return spaces.Box(low=low, high=high, shape=tuple(info["shape"]), dtype=np.float32)
    if kind == "dict":
        return spaces.Dict({k: _space(v) for k, v in info["spaces"].items()})
    raise ValueError(f"cannot build a Gymnasium space from {info}")


def _first(obs, space):
    from gymnasium import spaces

    if isinstance(space, spaces.Dict):
        return {k: _first(obs[k], s) for k, s in space.spaces.items()}
    if isinstance(space, spaces.Discrete):
        return np.int64(obs[0])
    return np.asarray(obs[0], dtype=space.dtype).reshape(space.shape)


def _gym_base():
    import gymnasium

    return gymnasium.Env


class RemoteEnv(_gym_base()):
    """A ``gymnasium.Env`` whose episodes run in a ``neurorl serve`` session (Gymnasium semantics, no auto-reset)."""

    metadata = {"render_modes": ["rgb_array"]}

    def __init__(self, env_id: str, url: str = "http://127.0.0.1:1323", *, token: str | None = None,
                 params: dict | None = None, seed: int = 0, timeout: float = 60.0, render_mode: str | None = None,
                 client: Client | None = None):
        self.client = client or Client(url, token=token, timeout=timeout)
        self._own_client = client is None
        info = self.client.create_session(env_id, params, seed=seed, num_envs=1, autoreset=False)
        self.session_id = info["session_id"]
        self.env_id = env_id
        self.observation_space = _space(info["observation_space"])
        self.action_space = _space(info["action_space"])
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.render_mode = render_mode
        self._frame = None

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if seed is None:
            seed = int(self.np_random.integers(0, 2**31 - 1))
        out = self.client.reset(self.session_id, seed=seed, render=self.render_mode is not None)
        self._frame = (out.get("frames") or [None])[0]
        return _first(out["observation"], self.observation_space), {}

    def step(self, action):
        a = np.asarray(action)
        if a.size != 1 or not self.action_space.contains(int(a.reshape(()))):
            raise ValueError(f"action must be an integer in [0, {self.action_space.n}), got {action!r}")
        out = self.client.step_env(self.session_id, [int(a.reshape(()))], render=self.render_mode is not None)
        self._frame = (out.get("frames") or [None])[0]
        info = {k: (v[0] if isinstance(v, list) and v else v) for k, v in out["info"].items()}
        return (_first(out["observation"], self.observation_space), float(out["reward"][0]),
                bool(out["terminated"][0]), bool(out["truncated"][0]), info)

    def render(self):
        if self.render_mode != "rgb_array" or self._frame is None:
            return None
        import base64
        import io

        from PIL import Image

        return np.asarray(Image.open(io.BytesIO(base64.b64decode(self._frame.split(",", 1)[1]))).convert("RGB"))

    def close(self):
        try:
            self.client.close_session(self.session_id)
        except ServerError:
            pass
        if self._own_client:
            self.client.close()

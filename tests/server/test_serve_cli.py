"""``neurorl serve``: the token rule for non-loopback interfaces, and a real subprocess on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest
from typer.testing import CliRunner

from neurorl.experiments.serve import is_loopback


def test_is_loopback():
    for h in ("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"):
        assert is_loopback(h), h
    for h in ("0.0.0.0", "::", "192.168.1.10", "10.0.0.1"):
        assert not is_loopback(h), h


def test_non_loopback_needs_a_token(monkeypatch):
    from neurorl.cli import app
    from neurorl.experiments import load_all

    load_all()

    monkeypatch.delenv("NEURORL_TOKEN", raising=False)
    res = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--port", "0"])
    assert res.exit_code == 2
    assert "--token" in res.output and "NEURORL_TOKEN" in res.output


def test_serve_subprocess_with_token_and_state_dir(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "NEURORL_TOKEN": "tok"}
    proc = subprocess.Popen([sys.executable, "-m", "neurorl.cli", "serve", "--port", str(port),
                             "--state-dir", str(tmp_path / "st")], env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        t0 = time.time()
        while True:
            try:
                r = httpx.get(url + "/v1/health", timeout=5)
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.time() - t0 > 600:
                    pytest.fail("neurorl serve did not start")
                time.sleep(0.3)
        assert r.status_code == 401  # the token from the environment applies on loopback too
        r = httpx.get(url + "/v1/health", headers={"Authorization": "Bearer tok"})
        assert r.status_code == 200 and r.json()["status"] == "ok"
        assert (tmp_path / "st").is_dir()
    finally:
        proc.terminate()
        proc.wait(20)

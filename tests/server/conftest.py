"""Fixtures: a real uvicorn server on a free 127.0.0.1 port, running in a thread of the test process."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fakes import fake_config  # noqa: E402


@contextlib.contextmanager
def live_server(cfg):
    """Start ``create_app(cfg)`` under uvicorn on a free loopback port; yields the base URL."""
    import uvicorn

    from neurorl.server.app import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(cfg), log_level="warning", timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    t0 = time.time()
    while not server.started:
        if time.time() - t0 > 30 or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture
def fake_server(tmp_path):
    """A live server whose hippocampus models are the fast stand-in (server mechanics only)."""
    with live_server(fake_config(state_dir=tmp_path / "state")) as url:
        yield url


@pytest.fixture
def client(fake_server):
    from neurorl.client import Client

    with Client(fake_server, timeout=600) as c:
        yield c

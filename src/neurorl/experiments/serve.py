"""``neurorl serve``: the HTTP API, the original hippocampus wire format and the web page (uvicorn)."""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path

import typer

from neurorl.cli_registry import app


def is_loopback(host: str) -> bool:
    """True when ``host`` only reaches this machine (127.0.0.0/8, ::1, 'localhost')."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        try:  # a host name: loopback only if every address it resolves to is
            addrs = {ai[4][0] for ai in socket.getaddrinfo(host, None)}
        except OSError:
            return False
        return bool(addrs) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addrs)


@app.command("serve")
def serve_cmd(
    host: str = typer.Option("127.0.0.1", help="Interface to bind. Anything but loopback needs a token."),
    port: int = typer.Option(1323, min=0, max=65535, help="TCP port (1323: the original server's port)."),
    token: str = typer.Option(None, envvar="NEURORL_TOKEN", show_default=False,
                              help="Bearer token every request must carry (also NEURORL_TOKEN)."),
    state_dir: Path = typer.Option(None, help="Folder where models (and loaded agents) persist across restarts."),
    max_body_bytes: int = typer.Option(8 * 2**20, min=1024, help="Largest request body accepted (413 above)."),
    max_models: int = typer.Option(100, min=1, help="Most hippocampus models held at once."),
    max_sessions: int = typer.Option(256, min=1, help="Most environment sessions held at once."),
    legacy_quirks: bool = typer.Option(False, help="The legacy endpoints' model copies the 2020 model's quirks "
                                                   "(hippocampus.md §1.6)."),
    log_level: str = typer.Option("warning", help="uvicorn log level."),
):
    """Serve hippocampus models, environment sessions and trained agents over HTTP, with a web page at /."""
    import uvicorn

    from neurorl.server.app import ServerConfig, create_app

    if not is_loopback(host) and not token:
        typer.echo(f"error: binding {host} exposes the server beyond this machine; give a bearer token with "
                   "--token or the NEURORL_TOKEN environment variable", err=True)
        raise typer.Exit(2)
    if state_dir is not None:
        state_dir.mkdir(parents=True, exist_ok=True)
    cfg = ServerConfig(token=token, state_dir=state_dir, max_body_bytes=max_body_bytes, max_models=max_models,
                       max_sessions=max_sessions, legacy_quirks=legacy_quirks)
    shown = f"[{host}]" if ":" in host else host
    typer.echo(f"neurorl serve: http://{shown}:{port}/ (API docs at /docs{', token required' if token else ''})", err=True)
    uvicorn.run(create_app(cfg), host=host, port=port, log_level=log_level, timeout_graceful_shutdown=5)

"""Security middleware (pure ASGI): bearer token, request size limit, cross-site request refusal.

* Token: when the server has one (``--token`` / ``NEURORL_TOKEN``; required by ``neurorl serve``
  whenever it binds a non-loopback interface), every request must carry
  ``Authorization: Bearer <token>``. Browsers cannot add that header to a page load, so
  ``GET /?token=<token>`` answers with an HttpOnly, SameSite=Strict cookie holding the token, which
  the page's own requests then carry; cross-site pages never get it.
* Size: a body longer than ``max_body_bytes`` gets 413, whether announced by Content-Length or
  streamed in chunks.
* Cross-site: a request whose ``Origin`` header names another host than the one it was sent to
  gets 403, so a web page the user happens to visit cannot drive a loopback server (the original
  listened on every interface with no check, hippocampus.md §1.1).
"""

from __future__ import annotations

import hmac
import json
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

COOKIE = "neurorl_token"


async def _send_json(send, status: int, detail: str, headers: list | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
                + (headers or [])})
    await send({"type": "http.response.body", "body": body})


class _TooLarge(BaseException):
    """BaseException so that no handler inside the app (FastAPI turns body errors into 400) swallows it."""


class SecurityMiddleware:
    def __init__(self, app, token: str | None, max_body_bytes: int):
        self.app, self.token, self.max_body_bytes = app, token or None, int(max_body_bytes)

    def _authorized(self, headers: dict[bytes, bytes]) -> bool:
        if self.token is None:
            return True
        auth = headers.get(b"authorization", b"").decode("latin-1")
        if auth[:7].lower() == "bearer " and hmac.compare_digest(auth[7:].strip().encode(), self.token.encode()):
            return True
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get(b"cookie", b"").decode("latin-1"))
        except Exception:
            return False
        c = cookie.get(COOKIE)
        return c is not None and hmac.compare_digest(c.value.encode(), self.token.encode())

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        origin = headers.get(b"origin")
        if origin and origin != b"null":
            o = urlsplit(origin.decode("latin-1"))
            if o.netloc.lower() != headers.get(b"host", b"").decode("latin-1").lower():
                return await _send_json(send, 403, f"cross-site request from {origin.decode('latin-1')!r} refused")
        if self.token is not None and scope["method"] == "GET" and scope["path"] == "/":
            q = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            given = (q.get("token") or [""])[0]
            if given and hmac.compare_digest(given.encode(), self.token.encode()):
                cookie = f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/"
                await send({"type": "http.response.start", "status": 303,
                            "headers": [(b"location", b"/"), (b"set-cookie", cookie.encode()),
                                        (b"content-length", b"0")]})
                return await send({"type": "http.response.body", "body": b""})
        if not self._authorized(headers):
            return await _send_json(send, 401, "missing or wrong bearer token: send 'Authorization: Bearer <token>' "
                                               "(the token given to neurorl serve by --token or NEURORL_TOKEN)",
                                    [(b"www-authenticate", b'Bearer realm="neurorl"')])
        length = headers.get(b"content-length")
        if length is not None:
            try:
                n = int(length)
            except ValueError:
                return await _send_json(send, 400, "bad Content-Length header")
            if n > self.max_body_bytes:
                return await _send_json(send, 413, f"request body of {n} bytes is over this server's limit of "
                                                   f"{self.max_body_bytes} bytes (--max-body-bytes)")
        received = 0
        started = False

        async def limited_receive():
            nonlocal received
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > self.max_body_bytes:
                    raise _TooLarge()
            return msg

        async def tracking_send(msg):
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _send_json(send, 413, f"request body is over this server's limit of {self.max_body_bytes} bytes")

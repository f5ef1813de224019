"""Errors the API answers with: one exception type carrying the HTTP status and a clear message."""

from __future__ import annotations


class APIError(Exception):
    status_code = 400

    def __init__(self, message: str, status_code: int | None = None):
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code


class BadRequest(APIError):
    status_code = 400


class NotFound(APIError):
    status_code = 404


class Conflict(APIError):
    """Busy model, existing name: the client may retry later or pick another name."""

    status_code = 409


class TooMany(APIError):
    """A server limit (models, sessions, agents) is reached."""

    status_code = 429

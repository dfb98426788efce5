"""What every failed call raises."""

import json

from appdeck_api.types import Response


class AppdeckError(Exception):
    """A non-2xx answer: its status, and the ``code`` and ``error`` of appdeck's JSON error body.

    ``code`` is ``unexpected_response`` when the body was not appdeck's (a proxy's page, say).
    ``request_id`` is the response's ``X-Request-Id``, to quote when asking about a failure.
    """

    def __init__(self, status: int, code: str, message: str, request_id: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id

    @classmethod
    def from_response(cls, response: Response) -> "AppdeckError":
        status = int(response.status_code)
        request_id = response.headers.get("x-request-id")
        try:
            body = json.loads(response.content)
            return cls(status, str(body["code"]), str(body["error"]), request_id)
        except (ValueError, KeyError, TypeError):
            text = response.content.decode("utf-8", "replace") or f"HTTP {status}"
            return cls(status, "unexpected_response", text, request_id)

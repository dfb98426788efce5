"""The layer's own logic, against httpx's mock transport: no server needed.

Run from a directory holding both `appdeck` and the generated `appdeck_api`
(`cargo xtask sdk` does): python -m unittest discover -s tests
"""

import json
import time
import unittest

import httpx
from appdeck import Appdeck, AppdeckError
from appdeck.client import retry_after_seconds
from appdeck_api.api.identity import get_current_token
from appdeck_api.api.webhook_endpoints import (
    create_webhook_endpoint,
    list_webhook_endpoints,
    rotate_webhook_endpoint_secret,
)
from appdeck_api.models import CreateWebhookEndpointRequest

ENDPOINT = {
    "id": "0193a1b2-0000-7000-8000-000000000001",
    "url": "https://hooks.example.com/appdeck",
    "description": None,
    "event_types": None,
    "enabled": True,
    "disabled_reason": None,
    "created_at": "2026-12-03T10:00:00Z",
    "updated_at": "2026-12-03T10:00:00Z",
}
CREATED = {"success": True, "webhook_endpoint": ENDPOINT, "secret": "whsec_x"}


HOOK = CreateWebhookEndpointRequest.from_dict({"url": "https://hooks.example.com/appdeck"})


def answer(status: int, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers or {})


def rate_limited(retry_after: str) -> httpx.Response:
    return answer(429, {"success": False, "error": "Too many requests", "code": "rate_limited"}, {"Retry-After": retry_after})


class Script:
    """Answers requests in order and keeps them."""

    def __init__(self, *answers: httpx.Response) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.answers:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        return self.answers.pop(0)

    def appdeck(self, **options: object) -> Appdeck:
        return Appdeck("http://appdeck.test", "apps_x", httpx_args={"transport": httpx.MockTransport(self)}, **options)


class LayerTests(unittest.TestCase):
    def test_a_create_gets_a_key_kept_when_a_429_is_waited_out_for_retry_after_seconds(self) -> None:
        script = Script(rate_limited("1"), answer(201, CREATED))
        started = time.monotonic()
        created = script.appdeck().call(create_webhook_endpoint, body=HOOK)
        self.assertGreaterEqual(time.monotonic() - started, 1.0)
        self.assertEqual(created.secret, "whsec_x")
        first, second = (request.headers.get("idempotency-key") for request in script.requests)
        self.assertRegex(first, r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        self.assertEqual(second, first)
        self.assertEqual([json.loads(request.content) for request in script.requests], [{"url": HOOK.url}] * 2)
        self.assertEqual(script.requests[0].headers["authorization"], "Bearer apps_x")

    def test_each_create_gets_its_own_key_the_callers_key_is_kept_other_posts_get_none(self) -> None:
        script = Script(*[answer(201, CREATED)] * 3, answer(200, CREATED))
        appdeck = script.appdeck()
        appdeck.call(create_webhook_endpoint, body=HOOK)
        appdeck.call(create_webhook_endpoint, body=HOOK)
        appdeck.call(create_webhook_endpoint, body=HOOK, idempotency_key="mine")
        appdeck.call(rotate_webhook_endpoint_secret, id=ENDPOINT["id"])
        keys = [request.headers.get("idempotency-key") for request in script.requests]
        self.assertNotEqual(keys[0], keys[1])
        self.assertEqual(keys[2:], ["mine", None])

    def test_without_waiting_a_429_is_raised_at_once(self) -> None:
        script = Script(rate_limited("30"))
        with self.assertRaises(AppdeckError) as raised:
            script.appdeck(wait_on_rate_limit=False).call(get_current_token)
        self.assertEqual((raised.exception.status, raised.exception.code), (429, "rate_limited"))
        self.assertEqual(len(script.requests), 1)

    def test_after_three_retries_the_429_is_raised(self) -> None:
        script = Script(*[rate_limited("0")] * 4)
        with self.assertRaises(AppdeckError) as raised:
            script.appdeck().call(get_current_token)
        self.assertEqual(raised.exception.status, 429)
        self.assertEqual(len(script.requests), 4)

    def test_an_error_carries_status_code_message_and_request_id(self) -> None:
        script = Script(
            answer(400, {"success": False, "error": "url must be https", "code": "validation_failed"}, {"X-Request-Id": "req-1"}),
            httpx.Response(502, text="<html>Bad gateway</html>"),
        )
        appdeck = script.appdeck()
        with self.assertRaises(AppdeckError) as raised:
            appdeck.call(create_webhook_endpoint, body=HOOK)
        error = raised.exception
        self.assertEqual((error.status, error.code, error.message, error.request_id), (400, "validation_failed", "url must be https", "req-1"))
        self.assertEqual(str(error), "url must be https")
        with self.assertRaises(AppdeckError) as raised:
            appdeck.call(get_current_token)
        error = raised.exception
        self.assertEqual((error.status, error.code, error.message, error.request_id), (502, "unexpected_response", "<html>Bad gateway</html>", None))

    def test_paginate_follows_next_cursor_and_keeps_the_other_parameters(self) -> None:
        def page(ids: list[str], next_cursor: str | None) -> httpx.Response:
            return answer(200, {"success": True, "webhook_endpoints": [{**ENDPOINT, "id": i} for i in ids], "next_cursor": next_cursor})

        ids = ["0193a1b2-0000-7000-8000-00000000000" + str(n) for n in range(3)]
        script = Script(page(ids[:2], "c1"), page(ids[2:], "c2"), page([], None))
        listed = [endpoint.id for endpoint in script.appdeck().paginate(list_webhook_endpoints, limit=2)]
        self.assertEqual([str(i) for i in listed], ids)
        queries = [dict(request.url.params) for request in script.requests]
        self.assertEqual(
            queries,
            [
                {"limit": "2"},
                {"limit": "2", "cursor": "c1"},
                {"limit": "2", "cursor": "c2"},
            ],
        )

    def test_retry_after_is_seconds_or_an_http_date(self) -> None:
        self.assertEqual(retry_after_seconds("7"), 7.0)
        self.assertEqual(retry_after_seconds("Thu, 01 Jan 1970 00:00:05 GMT", now=2.0), 3.0)
        self.assertEqual(retry_after_seconds(None), 1.0)
        self.assertEqual(retry_after_seconds("soon"), 1.0)


if __name__ == "__main__":
    unittest.main()

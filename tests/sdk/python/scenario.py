"""An integrator's program using the installed `appdeck-sdk` wheel alone, run
against a live server. Prints what it verified; exits non-zero on any surprise.

usage: python scenario.py BASE_URL TOKEN
"""

import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from appdeck import Appdeck, AppdeckError
from appdeck_api.api.api_tokens import create_api_token, revoke_api_token
from appdeck_api.api.apps import create_app, delete_app, get_app, list_apps, update_app
from appdeck_api.api.identity import get_current_token
from appdeck_api.models import CreateApiTokenRequest, CreateAppRequest, TokenRole, UpdateAppRequest


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SystemExit(f"python sdk: {message}")


def refusal(call, *args, **kwargs) -> AppdeckError:
    try:
        call(*args, **kwargs)
    except AppdeckError as error:
        return error
    raise SystemExit("python sdk: the call succeeded")


class Recorder:
    """Every request the SDK sends and the status it got, each attempt on its own."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str | None, int]] = []

    def hooks(self) -> dict:
        return {"event_hooks": {"response": [self.record]}}

    def record(self, response: httpx.Response) -> None:
        request = response.request
        path = request.url.raw_path.decode()
        self.sent.append((request.method, path, request.headers.get("idempotency-key"), response.status_code))


def main(base_url: str, token: str) -> None:
    recorder = Recorder()
    appdeck = Appdeck(base_url, token, httpx_args=recorder.hooks())

    # Create: the SDK sent an Idempotency-Key of its own; the same key sent again by hand replays the first answer.
    body = CreateAppRequest.from_dict({"name": "Python SDK app", "environment": "staging"})
    app = appdeck.call(create_app, body=body).app
    check(app.name == "Python SDK app" and app.environment == "staging", "create: fields")
    key = recorder.sent[-1][2]
    check(bool(key), "create: no Idempotency-Key was sent")
    replay = create_app.sync_detailed(client=appdeck.client, body=body, idempotency_key=key)
    check(replay.headers.get("idempotent-replayed") == "true", f"replay: {replay.status_code}, not replayed")
    check(replay.parsed.app.id == app.id, "replay: another app")
    print("python sdk: create sent an Idempotency-Key; the same key replays the same app (Idempotent-Replayed: true)")

    same = appdeck.call(get_app, id=app.id).app
    check(same.id == app.id and same.name == app.name, "get: another app")

    # List with one app a page: every app, made here or not, over several pages.
    more = [appdeck.call(create_app, body=CreateAppRequest(name=name)).app for name in ("Python SDK app 2", "Python SDK app 3")]
    pages_before = sum(1 for sent in recorder.sent if sent[1].startswith("/v1/apps?"))
    listed = [each.id for each in appdeck.paginate(list_apps, limit=1)]
    pages = sum(1 for sent in recorder.sent if sent[1].startswith("/v1/apps?")) - pages_before
    ours = [each.id for each in (app, *more)]
    check(all(each in listed for each in ours), "list: an app is missing")
    check(len(set(listed)) == len(listed), "list: an app is listed twice")
    check(pages >= 3 and pages >= len(listed), f"list: {pages} pages for {len(listed)} apps at one a page")
    print(f"python sdk: get; paginate followed next_cursor over {pages} pages (limit 1) and yielded all {len(listed)} apps")

    updated = appdeck.call(update_app, id=app.id, body=UpdateAppRequest.from_dict({"description": "Changed through the SDK"})).app
    check(updated.description == "Changed through the SDK", "update: description")

    invalid = refusal(appdeck.call, create_app, body=CreateAppRequest(name=" "))
    check((invalid.status, invalid.code) == (400, "validation_failed"), f"error: {invalid.status} {invalid.code}")
    check(bool(invalid.message) and bool(invalid.request_id), "error: message or request id")
    print(f'python sdk: update; a blank name raises AppdeckError 400 validation_failed ("{invalid.message}", request {invalid.request_id})')

    # A token made and revoked; the revoked token is refused.
    created = appdeck.call(create_api_token, body=CreateApiTokenRequest(label="Python SDK token", role=TokenRole.DEVELOPER))
    check(created.token.label == "Python SDK token" and created.secret.startswith("apps_"), "token: create")
    as_new_token = Appdeck(base_url, created.secret)
    check(as_new_token.call(get_current_token).token.id == created.token.id, "token: /v1/me is another token")
    appdeck.call(revoke_api_token, id=created.token.id)
    revoked = refusal(as_new_token.call, get_current_token)
    check(revoked.status == 401, f"token: revoked, yet {revoked.status}")
    print("python sdk: a token created, used, revoked, then refused (401)")

    for each in (app, *more):
        appdeck.call(delete_app, id=each.id)
    gone = refusal(appdeck.call, get_app, id=app.id)
    check((gone.status, gone.code) == (404, "not_found"), f"delete: then {gone.status} {gone.code}")
    print("python sdk: deleted apps are 404 not_found")

    # 429: a token of its own spends its hourly budget, then one call waits out Retry-After.
    limited = appdeck.call(create_api_token, body=CreateApiTokenRequest(label="Python SDK limited", role=TokenRole.DEVELOPER))
    spend_budget(base_url, limited.secret)
    refused = refusal(Appdeck(base_url, limited.secret, wait_on_rate_limit=False).call, get_current_token)
    check((refused.status, refused.code) == (429, "rate_limited"), f"429: {refused.status} {refused.code}")
    patient = Recorder()
    started = time.monotonic()
    me = Appdeck(base_url, limited.secret, httpx_args=patient.hooks()).call(get_current_token)
    waited = time.monotonic() - started
    check(me.token.id == limited.token.id, "429: /v1/me is another token")
    statuses = [sent[3] for sent in patient.sent]
    check(statuses[0] == 429 and statuses[-1] == 200, f"429: statuses {statuses}")
    print(
        "python sdk: wait_on_rate_limit=False raises 429 rate_limited; by default the call got "
        f"{', '.join(map(str, statuses))} and waited {waited:.1f} s"
    )


def spend_budget(base_url: str, spender: str) -> None:
    """Sends requests with the token until one is refused 429."""
    with httpx.Client(base_url=base_url, headers={"X-API-Key": spender}) as client, ThreadPoolExecutor(8) as pool:
        for _ in range(0, 100_000, 50):
            statuses = list(pool.map(lambda _: client.get("/v1/me").status_code, range(50)))
            if 429 in statuses:
                return
            check(all(status == 200 for status in statuses), f"spending the budget: {statuses}")
    raise SystemExit("python sdk: 100000 requests and no 429")


if __name__ == "__main__":
    main(*sys.argv[1:3])

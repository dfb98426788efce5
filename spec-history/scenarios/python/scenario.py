"""The compatibility scenario in Python: what an integrator's code written
against the oldest released spec's client (openapi-python-client) does, run
against the current server. The generated functions parse every documented
response into its model, whose enums refuse unknown values and whose
`from_dict` refuses a missing required field; an undocumented status
raises. Each step prints `step ID ok` or `step ID failed: REASON`, and the
steps after a failed one still run, so that `cargo xtask compat` can judge
every step.

usage: python scenario.py BASE_URL TOKEN
"""

import sys

from appdeck_app_management_api_client import AuthenticatedClient
from appdeck_app_management_api_client.api.apps import (
    create_app,
    delete_app,
    get_app,
    list_apps,
    rotate_app_secret,
    update_app,
)
from appdeck_app_management_api_client.api.identity import get_current_token
from appdeck_app_management_api_client.api.organization import get_organization, update_organization
from appdeck_app_management_api_client.models import (
    AppListResponse,
    AppResponse,
    AppStatus,
    CreateAppRequest,
    Environment,
    ErrorBody,
    MeResponse,
    OrganizationResponse,
    SuccessResponse,
    TokenRole,
    TokenStatus,
    UpdateAppRequest,
    UpdateOrganizationRequest,
)
from appdeck_app_management_api_client.types import UNSET


class StepFailed(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise StepFailed(message)


def step(step_id, run, *needed):
    """Runs one step and prints its result; returns what it made, or None when it failed."""
    try:
        check(all(value is not None for value in needed), "the step it needs failed")
        value = run(*needed)
    except Exception as error:  # noqa: BLE001 - any exception, a decode error included, fails the step
        message = f"{type(error).__name__}: {error}".replace("\n", " ")
        print(f"step {step_id} failed: {message}", flush=True)
        return None
    print(f"step {step_id} ok", flush=True)
    return value


def identity(client):
    me = get_current_token.sync_detailed(client=client)
    check(isinstance(me.parsed, MeResponse), f"status {me.status_code}")
    check(me.parsed.token.role == TokenRole.ADMIN and me.parsed.token.status == TokenStatus.ACTIVE, "an active admin")


def organization_get(client):
    got = get_organization.sync_detailed(client=client)
    check(isinstance(got.parsed, OrganizationResponse), f"status {got.status_code}")
    check(got.parsed.organization.rate_limit_per_hour > 0, "the organization's fields")


def organization_update(client):
    body = UpdateOrganizationRequest.from_dict({"name": "Compatibility Inc."})
    updated = update_organization.sync_detailed(client=client, body=body)
    check(isinstance(updated.parsed, OrganizationResponse), f"status {updated.status_code}")
    check(updated.parsed.organization.name == "Compatibility Inc.", "the new name")


def app_create(client):
    body = CreateAppRequest.from_dict({"name": "Python app", "environment": "staging", "features": {"push": True}})
    created = create_app.sync_detailed(client=client, body=body)
    check(created.status_code == 201 and isinstance(created.parsed, AppResponse), f"status {created.status_code}")
    first = created.parsed.app
    check(first.environment == Environment.STAGING and first.features.push, "the created app's fields")
    check(first.status == AppStatus.ACTIVE and first.api_key.startswith("ak_"), "the server's defaults")
    second = create_app.sync_detailed(client=client, body=CreateAppRequest.from_dict({"name": "Second Python app"}))
    check(isinstance(second.parsed, AppResponse), f"the second app: status {second.status_code}")
    return first, second.parsed.app


def app_get(client, apps):
    first, _ = apps
    got = get_app.sync_detailed(client=client, id=first.id)
    check(isinstance(got.parsed, AppResponse) and got.parsed.app.id == first.id, f"status {got.status_code}")


def app_list_cursors(client, apps):
    seen = []
    cursor = UNSET
    while True:
        page = list_apps.sync_detailed(client=client, limit=1, cursor=cursor)
        check(isinstance(page.parsed, AppListResponse), f"status {page.status_code}")
        seen.extend(listed.id for listed in page.parsed.apps)
        check(len(seen) <= 10, "more pages than apps")
        if not page.parsed.next_cursor:
            break
        cursor = page.parsed.next_cursor
    check(seen == [app.id for app in apps], "both apps, oldest first, one per page")


def app_update(client, apps):
    first, _ = apps
    body = UpdateAppRequest.from_dict({"description": "From Python", "data_retention_days": 30})
    updated = update_app.sync_detailed(client=client, id=first.id, body=body)
    check(isinstance(updated.parsed, AppResponse), f"status {updated.status_code}")
    check(updated.parsed.app.description == "From Python" and updated.parsed.app.data_retention_days == 30, "fields")


def app_rotate_secret(client, apps):
    first, _ = apps
    rotated = rotate_app_secret.sync_detailed(client=client, id=first.id)
    check(isinstance(rotated.parsed, AppResponse), f"status {rotated.status_code}")
    check(rotated.parsed.app.api_secret != first.api_secret, "a new secret")


def error_body(client):
    refused = create_app.sync_detailed(client=client, body=CreateAppRequest.from_dict({"name": " "}))
    check(refused.status_code == 400 and isinstance(refused.parsed, ErrorBody), f"status {refused.status_code}")
    check(refused.parsed.success is False and refused.parsed.code == "validation_failed", "the error body")


def app_delete(client, apps):
    first, _ = apps
    deleted = delete_app.sync_detailed(client=client, id=first.id)
    check(isinstance(deleted.parsed, SuccessResponse) and deleted.parsed.success, f"status {deleted.status_code}")
    gone = get_app.sync_detailed(client=client, id=first.id)
    check(gone.status_code == 404 and isinstance(gone.parsed, ErrorBody), f"after the delete: {gone.status_code}")
    check(gone.parsed.code == "not_found", "404 not_found after the delete")


def main(base_url: str, token: str) -> None:
    # The generated client sends `Authorization: Bearer <token>`, one of the
    # three forms 1.0.0 documents; a status the spec does not list raises.
    client = AuthenticatedClient(base_url=base_url, token=token, raise_on_unexpected_status=True)
    step("identity", identity, client)
    step("organization-get", organization_get, client)
    step("organization-update", organization_update, client)
    apps = step("app-create", app_create, client)
    step("app-get", app_get, client, apps)
    step("app-list-cursors", app_list_cursors, client, apps)
    step("app-update", app_update, client, apps)
    step("app-rotate-secret", app_rotate_secret, client, apps)
    step("error-body", error_body, client)
    step("app-delete", app_delete, client, apps)


if __name__ == "__main__":
    main(*sys.argv[1:3])

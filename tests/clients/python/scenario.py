"""What an integrator's Python code does with a client generated from
openapi.yaml by openapi-python-client: create an app, list apps following
cursors, update it, read a 4xx error body, delete it.

usage: python scenario.py BASE_URL TOKEN
"""

import sys

from appdeck_app_management_api_client import AuthenticatedClient
from appdeck_app_management_api_client.api.apps import create_app, delete_app, get_app, list_apps, update_app
from appdeck_app_management_api_client.models import (
    AppListResponse,
    AppResponse,
    CreateAppRequest,
    ErrorBody,
    SuccessResponse,
    UpdateAppRequest,
)
from appdeck_app_management_api_client.types import UNSET


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SystemExit(f"python client: {message}")


def main(base_url: str, token: str) -> None:
    # The generated client sends `Authorization: Bearer <token>`, one of the three accepted forms.
    client = AuthenticatedClient(base_url=base_url, token=token)

    created = create_app.sync_detailed(client=client, body=CreateAppRequest.from_dict({"name": "Python app"}))
    check(created.status_code == 201 and isinstance(created.parsed, AppResponse), f"create: {created.status_code}")
    app = created.parsed.app
    check(app.name == "Python app" and app.api_key.startswith("ak_"), "create: fields")

    seen = []
    cursor = UNSET
    while True:
        page = list_apps.sync_detailed(client=client, limit=1, cursor=cursor)
        check(isinstance(page.parsed, AppListResponse), f"list: {page.status_code}")
        seen.extend(listed.id for listed in page.parsed.apps)
        if not page.parsed.next_cursor:
            break
        cursor = page.parsed.next_cursor
    check(app.id in seen, "list: the new app is listed")

    body = UpdateAppRequest.from_dict({"description": "From Python", "data_retention_days": 30})
    updated = update_app.sync_detailed(client=client, id=app.id, body=body)
    check(isinstance(updated.parsed, AppResponse), f"update: {updated.status_code}")
    check(updated.parsed.app.description == "From Python" and updated.parsed.app.data_retention_days == 30, "update: fields")

    refused = create_app.sync_detailed(client=client, body=CreateAppRequest.from_dict({"name": " "}))
    check(refused.status_code == 400 and isinstance(refused.parsed, ErrorBody), f"error: {refused.status_code}")
    check(refused.parsed.success is False and refused.parsed.code == "validation_failed", "error: body")

    deleted = delete_app.sync_detailed(client=client, id=app.id)
    check(isinstance(deleted.parsed, SuccessResponse) and deleted.parsed.success, f"delete: {deleted.status_code}")
    gone = get_app.sync_detailed(client=client, id=app.id)
    check(gone.status_code == 404 and isinstance(gone.parsed, ErrorBody) and gone.parsed.code == "not_found", "deleted")

    print("python client: create, list with cursors, update, 400 error body, delete: ok")


if __name__ == "__main__":
    main(*sys.argv[1:3])

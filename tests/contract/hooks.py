"""Schemathesis hooks for appdeck: what the generator must know about our
data that OpenAPI 3.0 cannot state.

Every rule the spec can state, it states (patterns, bounds, enums), and the
checks run unchanged on every case. What is left is taught here, and only for
*positive* cases, the ones Schemathesis expects the server to accept; negative
cases stay exactly as generated:

- `format: iana-time-zone` values are drawn from real zone names.
- Rules across items, fields or against the clock (API.md, "Apps" and "API
  tokens"): a webhook that is on needs an https `webhook_url`; a platform
  other than `none` needs its credentials and `none` takes none; a token's
  `expires_at` lies in the future; `authorized_domains` lists a host once, whatever its case
  (`uniqueItems` would only catch exact repeats). A webhook endpoint's URL is
  https (plain http only on hosts the operator allows, and this run allows
  none) and its `event_types` name each type once. A positive case that
  breaks one of them is mended into one that keeps it, never dropped.

One thing is kept from every case: the run's own token
(`APPDECK_CONTRACT_TOKEN_ID`) is never disabled, relabelled, revoked or
rolled, or every later request would be a 403 (or a 401) and test nothing.
"""

import os
import uuid
from datetime import datetime, timedelta, timezone

import schemathesis
from hypothesis import strategies as st
from schemathesis import GenerationMode

# Zones every tz database has had for years, so the server's copy knows them.
TIME_ZONES = [
    "UTC",
    "Europe/Paris",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Australia/Sydney",
    "Africa/Nairobi",
    "Pacific/Auckland",
    "Etc/GMT+5",
]
schemathesis.openapi.format("iana-time-zone", st.sampled_from(TIME_ZONES))

WEBHOOK_URL = "https://hooks.example.com/appdeck"
CREDENTIALS = {"api_key": "contract-test"}


def keep_webhook_rule(body: dict) -> None:
    if body.get("webhook_enabled") is True and not isinstance(body.get("webhook_url"), str):
        body["webhook_url"] = WEBHOOK_URL
    # A PATCH that clears the URL must not leave a stored webhook switched on.
    if "webhook_url" in body and body["webhook_url"] is None:
        body["webhook_enabled"] = False


def keep_platform_rule(body: dict, platform: str, credentials: str, a_platform: str) -> None:
    if platform in body:
        if body[platform] == "none":
            body[credentials] = None
        elif not isinstance(body.get(credentials), dict) or not body[credentials]:
            body[credentials] = dict(CREDENTIALS)
    # Credentials sent alone must fit the platform stored, which a PATCH
    # cannot see: send the platform with them.
    elif credentials in body:
        body[platform] = "none" if body[credentials] is None else a_platform
        if body[credentials] is not None and not body[credentials]:
            body[credentials] = dict(CREDENTIALS)


def keep_domains_unique(body: dict) -> None:
    domains = body.get("authorized_domains")
    if not isinstance(domains, list):
        return
    seen = set()
    unique = []
    for domain in domains:
        key = domain.lower() if isinstance(domain, str) else repr(domain)
        if key not in seen:
            seen.add(key)
            unique.append(domain)
    body["authorized_domains"] = unique


def keep_endpoint_rules(body: dict) -> None:
    url = body.get("url")
    if isinstance(url, str) and url.startswith("http://"):
        body["url"] = "https://" + url[len("http://"):]
    event_types = body.get("event_types")
    if isinstance(event_types, list):
        body["event_types"] = list(dict.fromkeys(event_types))


def keep_expiry_in_the_future(body: dict) -> None:
    expires_at = body.get("expires_at")
    if not isinstance(expires_at, str):
        return
    try:
        moment = datetime.fromisoformat(expires_at.replace("Z", "+00:00"))
    except ValueError:
        return
    if moment.tzinfo is None or moment <= datetime.now(timezone.utc) + timedelta(minutes=5):
        later = datetime.now(timezone.utc) + timedelta(days=30)
        body["expires_at"] = later.isoformat().replace("+00:00", "Z")


OWN_TOKEN_ID = os.environ.get("APPDECK_CONTRACT_TOKEN_ID", "")


@schemathesis.hook
def map_case(context, case):
    path_parameters = case.path_parameters or {}
    own_token_writes = {("/v1/api-tokens/{id}", "PATCH"), ("/v1/api-tokens/{id}", "DELETE"),
                        ("/v1/api-tokens/{id}/roll", "POST")}
    if (
        (case.operation.path, case.method) in own_token_writes
        and str(path_parameters.get("id", "")).lower() == OWN_TOKEN_ID.lower()
        and OWN_TOKEN_ID
    ):
        case.path_parameters = {**path_parameters, "id": str(uuid.uuid4())}
    if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
        return case
    if not isinstance(case.body, dict):
        return case
    path = case.operation.path
    if path in ("/v1/apps", "/v1/apps/{id}") and case.method in ("POST", "PATCH"):
        keep_webhook_rule(case.body)
        keep_domains_unique(case.body)
        keep_platform_rule(case.body, "engagement_platform", "engagement_credentials", "wonderpush")
        keep_platform_rule(case.body, "email_platform", "email_credentials", "brevo")
    if path == "/v1/api-tokens" and case.method == "POST":
        keep_expiry_in_the_future(case.body)
    if path in ("/v1/webhook-endpoints", "/v1/webhook-endpoints/{id}") and case.method in ("POST", "PATCH"):
        keep_endpoint_rules(case.body)
    return case

"""``Appdeck``: the generated client's calls, with errors raised, lists paginated,
creates made safe to retry and 429s waited out."""

import email.utils
import inspect
import time
import uuid
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import attrs
from appdeck_api import AuthenticatedClient
from appdeck_api.types import UNSET, Response

from .errors import AppdeckError

RATE_LIMIT_RETRIES = 3
"""How many times one call is sent again after a 429 before the 429 is raised."""


class Appdeck:
    """The appdeck API for one token.

    ``call(endpoint, **kwargs)`` runs ``endpoint.sync_detailed(client=..., **kwargs)``
    for any module of ``appdeck_api.api`` and returns the parsed 2xx body, or
    raises ``AppdeckError``. ``httpx_args`` go to the underlying ``httpx.Client``
    (a ``transport``, ``timeout``, ...).
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        wait_on_rate_limit: bool = True,
        httpx_args: dict[str, Any] | None = None,
    ) -> None:
        self.client = AuthenticatedClient(base_url=base_url, token=token, httpx_args=httpx_args or {})
        self.wait_on_rate_limit = wait_on_rate_limit

    def call(self, endpoint: ModuleType, **kwargs: Any) -> Any:
        if _takes_idempotency_key(endpoint) and kwargs.get("idempotency_key") in (None, UNSET):
            # One key for the whole call, so a retry after a 429 cannot create twice.
            kwargs["idempotency_key"] = str(uuid.uuid4())
        retries = RATE_LIMIT_RETRIES if self.wait_on_rate_limit else 0
        for attempt in range(retries + 1):
            response: Response = endpoint.sync_detailed(client=self.client, **kwargs)
            if response.status_code != 429 or attempt == retries:
                break
            time.sleep(retry_after_seconds(response.headers.get("retry-after")))
        if not 200 <= response.status_code < 300:
            raise AppdeckError.from_response(response)
        return response.parsed

    def paginate(self, endpoint: ModuleType, **kwargs: Any) -> Iterator[Any]:
        """Every item of a list, page after page, following ``next_cursor`` from ``cursor`` (or the start)."""
        cursor = kwargs.pop("cursor", UNSET)
        while True:
            page = self.call(endpoint, cursor=cursor, **kwargs)
            yield from _items_of(page)
            cursor = page.next_cursor
            if not cursor:
                return


def retry_after_seconds(value: str | None, now: float | None = None) -> float:
    """``Retry-After`` is whole seconds from appdeck; an HTTP date (allowed by HTTP) or nothing waits a second."""
    if value is None:
        return 1.0
    if value.strip().isdigit():
        return float(value)
    try:
        at = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return 1.0
    return max(0.0, at - (time.time() if now is None else now))


def _takes_idempotency_key(endpoint: ModuleType) -> bool:
    return "idempotency_key" in inspect.signature(endpoint.sync_detailed).parameters


def _items_of(page: Any) -> list[Any]:
    """A list page has one list field (``apps``, ``tokens``, ...) beside ``next_cursor``."""
    lists = [value for field in attrs.fields(type(page)) if isinstance(value := getattr(page, field.name), list)]
    if len(lists) != 1:
        raise TypeError(f"a list page has one list field, {type(page).__name__} has {len(lists)}")
    return lists[0]

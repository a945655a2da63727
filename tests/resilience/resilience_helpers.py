"""Helpers for the resilience tests: a scripted in-memory handler and one-line call helpers.

Every call helper returns what the client returned, awaited when the client is async, so one
test body proves the sync and the async twin (``client_kind`` parametrizes ``make_client``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

import httpx
from pydantic import BaseModel

from nilecare_clients import AsyncBaseServiceClient, ServiceConfig
from support import FakeClock, call, retry_policy

BASE = "http://clinical.test"
ROUTE = "/api/v1/patients/{id}"


class Patient(BaseModel):
    id: str


#: What a scripted handler does with one request: answer with a status, or raise.
Outcome = int | httpx.Response | Exception


class Handler:
    """An ``httpx.MockTransport`` handler that plays outcomes in order and records requests.

    ``default`` answers once the script runs out. ``on_request`` runs before answering (a test
    advances its fake clock there to stand for a slow service).
    """

    def __init__(self, *outcomes: Outcome, default: Outcome = 200) -> None:
        self.script: deque[Outcome] = deque(outcomes)
        self.default = default
        self.requests: list[httpx.Request] = []
        self.on_request: Callable[[httpx.Request], None] | None = None

    @property
    def count(self) -> int:
        return len(self.requests)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.on_request is not None:
            self.on_request(request)
        outcome = self.script.popleft() if self.script else self.default
        if isinstance(outcome, Exception):
            raise outcome
        if isinstance(outcome, httpx.Response):
            return outcome
        if 200 <= outcome < 300:
            return httpx.Response(outcome, json={"success": True, "data": {"id": "p-1"}})
        return httpx.Response(
            outcome, json={"success": False, "error": {"code": "E", "message": "no"}}
        )


def transport_error(kind: type[httpx.TransportError]) -> httpx.TransportError:
    return kind("scripted", request=httpx.Request("GET", BASE))


def make_config(clock: FakeClock, url: str = BASE, **changes: Any) -> ServiceConfig:
    """A config on the fake clock; ``retry`` may be a dict of ``RetryPolicy`` overrides."""
    retry = changes.pop("retry", {})
    return ServiceConfig(
        name="clinical", base_url=url, retry=retry_policy(clock, **retry), **changes
    )


async def get(client: Any, **kwargs: Any) -> Any:
    """``GET /api/v1/patients/{id}`` into ``Patient``."""
    return await call(
        client._request("GET", ROUTE, path_params={"id": "p-1"}, response_model=Patient, **kwargs)
    )


async def send(client: Any, method: str, key: str | None = None, **kwargs: Any) -> Any:
    """Any method on the patients collection, with an optional Idempotency-Key."""
    return await call(
        client._request(
            method,
            "/api/v1/patients",
            json={"firstName": "Amna"} if method in ("POST", "PUT", "PATCH") else None,
            idempotency_key=key,
            response_model=Patient,
            **kwargs,
        )
    )


async def close(client: Any) -> None:
    """Close a client of either kind (make_client closes only the sync ones)."""
    if isinstance(client, AsyncBaseServiceClient):
        await client.aclose()
    else:
        client.close()

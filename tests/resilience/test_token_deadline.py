"""A slow token provider is bounded by the call's deadline, on a real loopback server.

Async clients (both transports) cancel an async provider at the deadline. A sync provider
cannot be interrupted from its own thread: the deadline is checked when it returns, so the
call ends when the provider does, fails as a timeout, and sends nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from nilecare_clients import (
    AsyncBaseServiceClient,
    BaseServiceClient,
    ServiceConfig,
    ServiceTimeoutError,
    deadline_scope,
)
from scripted_server import scripted_server
from support import call


@pytest.fixture(params=["sync", "httpx", "aiohttp"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def make(kind: str) -> AsyncIterator[Callable[..., Any]]:
    made: list[Any] = []

    def factory(url: str, provider: Callable[[], Any]) -> Any:
        extra: dict[str, Any] = {} if kind == "sync" else {"async_transport": kind}
        config = ServiceConfig(
            name="things",
            base_url=url,
            token_provider=provider,
            deadline=5.0,
            breaker={"consecutive_failures": 1},  # one counted failure would open it
            **extra,
        )
        cls = BaseServiceClient if kind == "sync" else AsyncBaseServiceClient
        client = cls(config=config)
        made.append(client)
        return client

    yield factory
    for client in made:
        if isinstance(client, AsyncBaseServiceClient):
            await client.aclose()
        else:
            client.close()


def _get(client: Any) -> Any:
    return client._request("GET", "/api/v1/things", response_model=None, envelope_key=None)


async def test_a_slow_token_provider_ends_the_call_at_the_deadline(make: Any, kind: str) -> None:
    """deadline_scope(0.3) and a provider that takes 0.8 s (sync) or 5 s (async): a
    ServiceTimeoutError naming the token, nothing sent, the breaker untouched. Async ends
    at the deadline; sync ends when its blocking provider returns."""

    def blocking() -> str:
        time.sleep(0.8)
        return "tok"

    async def waiting() -> str:
        await asyncio.sleep(5)
        return "tok"

    with scripted_server() as server:
        client = make(server.url, blocking if kind == "sync" else waiting)
        started = time.monotonic()
        with pytest.raises(ServiceTimeoutError) as info, deadline_scope(0.3):
            await call(_get(client))
        took = time.monotonic() - started
        print(f"{kind}: slow token provider, deadline 0.3 s: call ended after {took:.3f} s")
        assert "deadline exceeded while getting the token" in str(info.value)
        assert info.value.request_sent is False
        assert server.count() == 0
        assert client.breaker_state == "closed"
        if kind == "sync":
            assert 0.8 <= took < 0.8 + 0.4, took  # the provider's time: it cannot be cut short
        else:
            assert took < 0.3 + 0.3, took


async def test_a_sync_provider_on_the_async_client_is_checked_when_it_returns(
    make: Any, kind: str
) -> None:
    """A blocking provider on an async client (it blocks the loop) still fails the call as
    a timeout once it returns past the deadline; a quick provider's call goes through."""
    if kind == "sync":
        pytest.skip("the sync client's case is the test above")

    def blocking() -> str:
        time.sleep(0.5)
        return "tok"

    with scripted_server() as server:
        slow = make(server.url, blocking)
        with pytest.raises(ServiceTimeoutError), deadline_scope(0.2):
            await call(_get(slow))
        quick = make(server.url, lambda: "tok")
        with deadline_scope(2.0):
            await call(_get(quick))
        assert server.count() == 1
        assert server.requests[0].headers["authorization"] == "Bearer tok"

"""Both async transports, one behaviour suite: ``async_transport`` parametrizes every test here.

``make_client`` and ``loopback`` are redefined for this folder: they build only the async client,
on the config's transport switched to the test's ``async_transport`` (an injected handler or
transport still wins, as it does in production). Clients are closed in the test's own loop, and
a garbage collection after each test turns an unclosed aiohttp session or connector into a
failure of that test (pyproject makes those ResourceWarnings errors).
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from nilecare_clients import AsyncBaseServiceClient, ServiceConfig

TRANSPORTS = ["httpx", "aiohttp"]


@pytest.fixture(params=TRANSPORTS)
def async_transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client_kind() -> str:
    """The shared behaviour tests ask for sync or async; here it is always the async twin."""
    return "async"


def on_transport(config: ServiceConfig, async_transport: str) -> ServiceConfig:
    return config.model_copy(update={"async_transport": async_transport})


@pytest.fixture
async def make_client(async_transport: str) -> AsyncIterator[Callable[..., Any]]:
    """Build ``AsyncBaseServiceClient`` (or ``cls=...``) on ``async_transport``; closes them."""
    made: list[AsyncBaseServiceClient] = []

    def factory(
        config: ServiceConfig,
        handler: Callable[[httpx.Request], httpx.Response] | None = None,
        *,
        cls: type[AsyncBaseServiceClient] = AsyncBaseServiceClient,
        **kwargs: Any,
    ) -> Any:
        if handler is not None:
            kwargs["transport"] = httpx.MockTransport(handler)
        client = cls(config=on_transport(config, async_transport), **kwargs)
        made.append(client)
        return client

    yield factory
    for client in made:
        await client.aclose()


@pytest.fixture
def loopback(make_client: Callable[..., Any]) -> Callable[..., Any]:
    return make_client


@pytest.fixture(autouse=True)
def _no_unclosed_sessions() -> Iterator[None]:
    yield
    gc.collect()

"""Shared fixtures: fresh process-wide state per test, a fake clock, and sync/async parity.

``client_kind`` parametrizes a test over the sync and the async client; ``call`` runs a client
method and awaits it only when it returns an awaitable, so one test body proves both twins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from nilecare_clients import (
    AsyncBaseServiceClient,
    BaseServiceClient,
    ServiceConfig,
)
from nilecare_clients.testing import reset_state
from support import FakeClock, retry_policy


@pytest.fixture(autouse=True)
def _fresh_state() -> Iterator[None]:
    reset_state()
    yield
    reset_state()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def config(clock: FakeClock) -> ServiceConfig:
    return ServiceConfig(
        name="clinical", base_url="http://clinical.test", retry=retry_policy(clock)
    )


@pytest.fixture(params=["sync", "async"])
def client_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


ClientFactory = Callable[..., "BaseServiceClient | AsyncBaseServiceClient"]


@pytest.fixture
def make_client(client_kind: str) -> Iterator[ClientFactory]:
    """Build the sync or async client (per ``client_kind``) over a handler or transport."""
    made: list[BaseServiceClient | AsyncBaseServiceClient] = []

    def factory(
        config: ServiceConfig,
        handler: Callable[[httpx.Request], httpx.Response] | None = None,
        **kwargs: Any,
    ) -> BaseServiceClient | AsyncBaseServiceClient:
        if handler is not None:
            kwargs["transport"] = httpx.MockTransport(handler)
        cls = BaseServiceClient if client_kind == "sync" else AsyncBaseServiceClient
        client = cls(config=config, **kwargs)
        made.append(client)
        return client

    yield factory
    for client in made:
        if isinstance(client, BaseServiceClient):
            client.close()

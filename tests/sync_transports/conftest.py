"""Both sync transports, one behaviour suite: ``sync_transport`` parametrizes every test here.

``make_client`` and ``loopback`` are redefined for this folder: they build only the sync client,
on the config's transport switched to the test's ``sync_transport`` (an injected handler or
transport still wins, as it does in production).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from nilecare_clients import BaseServiceClient, ServiceConfig

TRANSPORTS = ["httpx", "urllib3"]


@pytest.fixture(params=TRANSPORTS)
def sync_transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client_kind() -> str:
    """The shared behaviour tests ask for sync or async; here it is always the sync twin."""
    return "sync"


def on_transport(config: ServiceConfig, sync_transport: str) -> ServiceConfig:
    return config.model_copy(update={"sync_transport": sync_transport})


@pytest.fixture
def make_client(sync_transport: str) -> Iterator[Callable[..., Any]]:
    """Build ``BaseServiceClient`` (or ``cls=...``) on ``sync_transport``; closes them."""
    made: list[BaseServiceClient] = []

    def factory(
        config: ServiceConfig,
        handler: Callable[[httpx.Request], httpx.Response] | None = None,
        *,
        cls: type[BaseServiceClient] = BaseServiceClient,
        **kwargs: Any,
    ) -> Any:
        if handler is not None:
            kwargs["transport"] = httpx.MockTransport(handler)
        client = cls(config=on_transport(config, sync_transport), **kwargs)
        made.append(client)
        return client

    yield factory
    for client in made:
        client.close()


@pytest.fixture
def loopback(make_client: Callable[..., Any]) -> Callable[..., Any]:
    return make_client

"""Closes async clients that used real sockets (helpers come from ``resilience_helpers``, on the
pytest ``pythonpath``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from nilecare_clients import AsyncBaseServiceClient


@pytest.fixture
async def loopback(make_client: Callable[..., Any]) -> AsyncIterator[Callable[..., Any]]:
    """Like ``make_client``, and async clients are closed in the test's own event loop."""
    made: list[Any] = []

    def factory(*args: Any, **kwargs: Any) -> Any:
        client = make_client(*args, **kwargs)
        made.append(client)
        return client

    yield factory
    for client in made:
        if isinstance(client, AsyncBaseServiceClient):
            await client.aclose()

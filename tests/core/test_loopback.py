"""Behaviour that depends on a real socket: refused connections, read timeouts, resets."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from nilecare_clients import (
    ServiceConfig,
    ServiceTimeoutError,
    ServiceUnavailableError,
    ServiceUnreachableError,
)
from nilecare_clients.testing import set_testing
from scripted_server import Action, free_port, scripted_server
from support import call


class Thing(BaseModel):
    id: str


def loopback_config(url: str, **changes: Any) -> ServiceConfig:
    return ServiceConfig(name="clinical", base_url=url, **changes)


async def get_thing(client: Any) -> Any:
    return await call(
        client._request(
            "GET", "/api/v1/things/{id}", path_params={"id": "t1"}, response_model=Thing
        )
    )


async def test_real_round_trip(make_client: Any) -> None:
    """A real HTTP exchange on loopback returns the model and keeps the connection alive."""
    with scripted_server() as server:
        client = make_client(loopback_config(server.url))
        assert await get_thing(client) == Thing(id="p-1")
        assert await get_thing(client) == Thing(id="p-1")
        assert server.count("GET") == 2
        assert server.connections == 1


async def test_connection_refused(make_client: Any) -> None:
    """Nothing listening raises ServiceUnreachableError with request_sent False."""
    client = make_client(loopback_config(f"http://127.0.0.1:{free_port()}"))
    with set_testing(attempts=1), pytest.raises(ServiceUnreachableError) as info:
        await get_thing(client)
    assert info.value.request_sent is False
    assert info.value.status_code is None


async def test_read_timeout(make_client: Any) -> None:
    """A server slower than the read timeout raises ServiceTimeoutError."""
    with scripted_server() as server:
        server.default = Action(delay=0.5)
        client = make_client(loopback_config(server.url, read_timeout=0.1))
        with set_testing(attempts=1), pytest.raises(ServiceTimeoutError) as info:
            await get_thing(client)
        assert info.value.request_sent is True
        assert "read timeout" in str(info.value)


async def test_reset_after_request(make_client: Any) -> None:
    """A reset after the request was read raises ServiceUnavailableError (maybe processed)."""
    with scripted_server() as server:
        server.default = Action(reset=True)
        client = make_client(loopback_config(server.url))
        with set_testing(attempts=1), pytest.raises(ServiceUnavailableError) as info:
            await get_thing(client)
        assert info.value.request_sent is True
        assert server.count() == 1


async def test_health_check_never_raises_when_unreachable(make_client: Any) -> None:
    """health_check reports an unreachable service instead of raising."""
    client = make_client(loopback_config(f"http://127.0.0.1:{free_port()}"))
    status = await call(client.health_check())
    assert status.ok is False and status.status_code is None and status.error == "ConnectError"

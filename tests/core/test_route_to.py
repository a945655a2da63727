"""testing.route_to: clients built anywhere by the code under test reach a fake in-process."""

from __future__ import annotations

from typing import Any

import httpx

from nilecare_clients import AsyncBaseServiceClient, BaseServiceClient, ServiceConfig
from nilecare_clients.testing import reset_state, route_to
from support import call

ENV = {"NILECARE_CLINICAL_URL": "http://clinical.invalid:7001"}


def answering(tag: str, seen: list[str]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(tag)
        return httpx.Response(200, json={"success": True, "data": {"via": tag}})

    return httpx.MockTransport(handler)


def build(kind: str, **kwargs: Any) -> BaseServiceClient | AsyncBaseServiceClient:
    config = ServiceConfig.from_env("CLINICAL", environ=ENV)
    cls = BaseServiceClient if kind == "sync" else AsyncBaseServiceClient
    return cls(config=config, **kwargs)


async def test_clients_built_from_env_are_routed(client_kind: str) -> None:
    """A client built from the environment inside route_to talks to the routed transport."""
    seen: list[str] = []
    with route_to(clinical=answering("fake", seen)):
        client = build(client_kind)
        assert await call(client._request("GET", "/api/v1/x", response_model=dict)) == {
            "via": "fake"
        }
    assert seen == ["fake"]


async def test_explicit_transport_still_wins(client_kind: str) -> None:
    """A transport injected into the client is used even while the service is routed."""
    seen: list[str] = []
    with route_to(clinical=answering("routed", seen)):
        client = build(client_kind, transport=answering("explicit", seen))
        await call(client._request("GET", "/api/v1/x"))
    assert seen == ["explicit"]


def test_routes_end_with_the_block_and_with_reset_state() -> None:
    """Outside route_to (or after reset_state) clients get their real transport again."""
    seen: list[str] = []
    with route_to(clinical=answering("fake", seen)):
        pass
    assert not isinstance(_transport_of(build("sync")), httpx.MockTransport)
    routing = route_to(clinical=answering("fake", seen))
    reset_state()
    assert not isinstance(_transport_of(build("sync")), httpx.MockTransport)
    routing.undo()


def test_other_services_are_untouched() -> None:
    """Routing clinical leaves a facility client on its real transport."""
    seen: list[str] = []
    with route_to(clinical=answering("fake", seen)):
        facility = BaseServiceClient(
            config=ServiceConfig(name="facility", base_url="http://facility.invalid")
        )
        assert not isinstance(_transport_of(facility), httpx.MockTransport)


def _transport_of(client: Any) -> object:
    """The httpx transport under a client on the default sync transport."""
    assert client._http is not None
    return client._http._transport

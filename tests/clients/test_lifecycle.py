"""Lifecycle misuse and unsendable credentials, on real loopback sockets.

``kind`` is the sync client, the async client on httpx, and the async client on aiohttp.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from client_payloads import FACILITY_ID, facility_ok, facility_row

from nilecare_clients import (
    AsyncBaseServiceClient,
    BaseServiceClient,
    BreakerPolicy,
    ClientClosedError,
    ConfigurationError,
    InvalidRequestError,
    NileCareError,
    ServiceConfig,
)
from nilecare_clients.facility import AsyncFacilityServiceClient, FacilityServiceClient
from scripted_server import ScriptedServer, scripted_server
from support import call

KINDS = ["sync", "httpx", "aiohttp"]
SECRET = "s3cr3t-t0ken"


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with scripted_server() as running:
        yield running


def make(kind: str, url: str, **changes: Any) -> Any:
    transport = "aiohttp" if kind == "aiohttp" else "httpx"
    config = ServiceConfig(name="clinical", base_url=url, async_transport=transport, **changes)
    if kind == "sync":
        return BaseServiceClient(config=config)
    return AsyncBaseServiceClient(config=config)


async def close(client: Any) -> None:
    if isinstance(client, BaseServiceClient):
        client.close()
    else:
        await client.aclose()


def get(client: Any, **kwargs: Any) -> Any:
    return client._request("GET", "/api/v1/things/{id}", path_params={"id": "t1"}, **kwargs)


def post(client: Any) -> Any:
    return client._request("POST", "/api/v1/things", json={"name": "x"})


def chain(error: BaseException) -> Iterator[BaseException]:
    current: BaseException | None = error
    while current is not None:
        yield current
        current = current.__cause__ or current.__context__


# -- use after close ----------------------------------------------------------------------


async def test_every_path_after_close_raises_client_closed(
    kind: str, server: ScriptedServer
) -> None:
    """After close, calls, health checks, copies, with_options and re-entry raise ClientClosedError."""
    client = make(kind, server.url)
    copy = client.with_options(read_timeout=1.0)
    await call(get(client))
    await close(copy)  # closing a copy closes nothing
    await call(get(client))
    await close(client)
    attempts: list[Callable[[], Any]] = [
        lambda: get(client),
        lambda: get(copy),
        lambda: client.health_check(),
        lambda: copy.health_check(),
        lambda: client.with_options(deadline=1.0),
    ]
    for attempt in attempts:
        with pytest.raises(ClientClosedError) as info:
            await call(attempt())
        assert isinstance(info.value, NileCareError) and isinstance(info.value, RuntimeError)
        assert "create a new client" in str(info.value)
    with pytest.raises(ClientClosedError):
        if kind == "sync":
            client.__enter__()
        else:
            await client.__aenter__()
    assert server.count() == 2


async def test_a_closed_facility_client_refuses_even_a_cache_hit(kind: str) -> None:
    """A cached facility is not served by a closed client: use after close is refused."""
    transport = "aiohttp" if kind == "aiohttp" else "httpx"
    row = facility_row()

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=facility_ok(row))

    config = ServiceConfig(
        name="facility", base_url="http://facility.test", async_transport=transport
    )
    if kind == "sync":
        client: Any = FacilityServiceClient(config=config, transport=httpx.MockTransport(answer))
    else:
        client = AsyncFacilityServiceClient(config=config, transport=httpx.MockTransport(answer))
    assert (await call(client.get_facility(FACILITY_ID))).facility_id == FACILITY_ID
    await close(client)
    with pytest.raises(ClientClosedError):
        await call(client.get_facility(FACILITY_ID))


# -- a second event loop ------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
def test_a_second_event_loop_gets_the_same_clear_error_on_both_transports(transport: str) -> None:
    """First used in one loop, the client (and its copies) raise ConfigurationError in another."""
    with scripted_server() as server:
        client = make(transport, server.url)
        first, second = asyncio.new_event_loop(), asyncio.new_event_loop()
        try:
            first.run_until_complete(get(client))
            for target in (client, client.with_options(deadline=2.0)):
                for use in (get, lambda c: c.health_check()):
                    with pytest.raises(ConfigurationError) as info:
                        second.run_until_complete(asyncio.wait_for(use(target), 2.0))
                    assert "first used in another event loop" in str(info.value)
                    assert "create one client per event loop" in str(info.value)
            assert server.count() == 1
            first.run_until_complete(client.aclose())
        finally:
            first.close()
            second.close()


# -- credentials that cannot go in a header (issue 17 item 3) ----------------------------------


async def test_a_token_with_a_trailing_newline_is_sent_stripped(
    kind: str, server: ScriptedServer
) -> None:
    """A token provider's result loses surrounding whitespace and the call succeeds."""
    client = make(kind, server.url, token_provider=lambda: SECRET + "\n")
    try:
        await call(get(client))
    finally:
        await close(client)
    assert server.requests[0].headers["authorization"] == f"Bearer {SECRET}"


async def test_an_unsendable_token_is_a_typed_error_never_sent_never_a_breaker_failure(
    kind: str, server: ScriptedServer
) -> None:
    """A token with an inner newline: ConfigurationError naming the provider, not the token;
    nothing reaches the socket, a POST is not OutcomeUnknownError, the breaker stays closed."""
    client = make(
        kind,
        server.url,
        token_provider=lambda: SECRET[:4] + "\n" + SECRET[4:],
        breaker=BreakerPolicy(consecutive_failures=2, minimum_calls=2),
    )
    try:
        for send in (get, post) * 4:
            with pytest.raises(ConfigurationError) as info:
                await call(send(client))
            assert "token_provider's token must be printable ASCII" in str(info.value)
            for error in chain(info.value):
                assert SECRET[4:] not in str(error) and SECRET[4:] not in repr(error)
        assert client.breaker_state == "closed"
    finally:
        await close(client)
    assert server.count() == 0


async def test_a_header_http_forbids_is_not_sent_and_not_outcome_unknown(
    kind: str, server: ScriptedServer
) -> None:
    """A per-call header with a non-ASCII value fails before the first byte: InvalidRequestError,
    no request on the wire, no breaker failure, nothing of the header in the chain."""
    client = make(kind, server.url, breaker=BreakerPolicy(consecutive_failures=2, minimum_calls=2))
    value = "Am\u00efna-" + SECRET
    try:
        for _ in range(4):
            with pytest.raises(InvalidRequestError) as info:
                await call(
                    client._request("POST", "/api/v1/things", json={}, headers={"X-Note": value})
                )
            assert "nothing was sent" in str(info.value)
            for error in chain(info.value):
                assert SECRET not in str(error)
        assert client.breaker_state == "closed"
        await call(get(client))  # the service is still healthy and reachable
    finally:
        await close(client)
    assert server.count() == 1

"""The ``async_transport`` option: choosing it, what it must honour, and its failure classes.

Loopback tests take ``async_transport`` (both transports); a few lifecycle tests are about the
aiohttp session alone; the classification tests need no HTTP at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import socket
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import aiohttp
import httpx
import pytest
from pydantic import BaseModel

from nilecare_clients import (
    AsyncBaseServiceClient,
    BaseServiceClient,
    ConfigurationError,
    OutcomeUnknownError,
    ServiceConfig,
    ServiceError,
    ServiceTimeoutError,
    ServiceUnavailableError,
    ServiceUnreachableError,
    correlation_scope,
    deadline_scope,
)
from nilecare_clients._transport import map_transport_error
from nilecare_clients.clinical import AsyncClinicalServiceClient
from nilecare_clients.testing import FakeClinicalService, make_patient, route_to, set_testing
from scripted_server import Action, scripted_server
from support import call
from tls_material import tls_material


class Thing(BaseModel):
    id: str


def config_for(url: str, **changes: Any) -> ServiceConfig:
    return ServiceConfig(name="clinical", base_url=url, **changes)


async def get_thing(client: Any, **kwargs: Any) -> Any:
    return await client._request("GET", "/api/v1/things/{id}", path_params={"id": "t1"}, **kwargs)


async def post_thing(client: Any) -> Any:
    return await client._request("POST", "/api/v1/things", json={"name": "x"})


# -- choosing the transport -----------------------------------------------------------------


def test_default_is_httpx_and_env_selects_aiohttp() -> None:
    """``async_transport`` defaults to httpx; ``NILECARE_<SERVICE>_ASYNC_TRANSPORT`` sets it."""
    assert config_for("http://clinical.test").async_transport == "httpx"
    env = {"NILECARE_CLINICAL_URL": "http://clinical.test"}
    config = ServiceConfig.from_env(
        "CLINICAL", environ={**env, "NILECARE_CLINICAL_ASYNC_TRANSPORT": "AioHTTP"}
    )
    assert config.async_transport == "aiohttp"
    assert ServiceConfig.from_env("CLINICAL", environ=env).async_transport == "httpx"


def test_env_rejects_an_unknown_transport() -> None:
    """An unknown transport name is a ConfigurationError naming the variable."""
    env = {"NILECARE_CLINICAL_URL": "http://x.test", "NILECARE_CLINICAL_ASYNC_TRANSPORT": "curl"}
    with pytest.raises(ConfigurationError, match="NILECARE_CLINICAL_ASYNC_TRANSPORT"):
        ServiceConfig.from_env("CLINICAL", environ=env)
    with pytest.raises(ValueError, match="async_transport"):
        config_for("http://x.test", async_transport="curl")


def test_aiohttp_without_the_extra_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without aiohttp installed, choosing it fails at construction naming the extra; the sync
    client and the default transport do not care."""
    monkeypatch.setitem(sys.modules, "aiohttp", None)  # as if it were not installed
    monkeypatch.delitem(sys.modules, "nilecare_clients._aiohttp", raising=False)
    config = config_for("http://clinical.test", async_transport="aiohttp")
    with pytest.raises(ConfigurationError, match=r"nilecare-clients\[aiohttp\]"):
        AsyncBaseServiceClient(config=config)
    BaseServiceClient(config=config).close()
    AsyncBaseServiceClient(
        config=config, transport=httpx.MockTransport(lambda r: httpx.Response(200))
    )
    AsyncBaseServiceClient(config=config.model_copy(update={"async_transport": "httpx"}))


async def test_an_injected_transport_or_route_wins_over_the_setting() -> None:
    """A transport given to the client, or a ``route_to`` route, is used even with aiohttp set."""
    config = config_for("http://clinical.test", async_transport="aiohttp")
    ok = httpx.Response(200, json={"success": True, "data": {"id": "mock"}})
    async with AsyncBaseServiceClient(
        config=config, transport=httpx.MockTransport(lambda r: ok)
    ) as client:
        assert (await get_thing(client, response_model=Thing)).id == "mock"
    fake = FakeClinicalService()
    patient = fake.create_patient()
    with route_to(fake):
        async with AsyncClinicalServiceClient(config=config) as client:
            assert (await client.get_patient(patient["id"])).id == patient["id"]


# -- classification by cause ------------------------------------------------------------------


def classify(exc: BaseException) -> Any:
    from nilecare_clients._aiohttp import _classified

    return _classified(exc).failure


def connection_key() -> Any:
    # Its field count differs across aiohttp releases (7 at our floor, 8 later).
    fields = len(inspect.signature(aiohttp.client_reqrep.ConnectionKey).parameters)
    return aiohttp.client_reqrep.ConnectionKey("127.0.0.1", 1, False, True, *[None] * (fields - 4))


@pytest.mark.parametrize(
    ("cause", "expected", "sent"),
    [
        # Only what fails in the connector sent nothing.
        (aiohttp.ConnectionTimeoutError("t"), ServiceTimeoutError, False),
        (
            aiohttp.ClientConnectorError(connection_key(), OSError(111, "refused")),
            ServiceUnreachableError,
            False,
        ),
        (aiohttp.ServerDisconnectedError(), ServiceUnavailableError, True),
        (aiohttp.ClientOSError(104, "Connection reset by peer"), ServiceUnavailableError, True),
        (aiohttp.ClientConnectionResetError("closing transport"), ServiceUnavailableError, True),
        (aiohttp.SocketTimeoutError("read"), ServiceTimeoutError, True),
        (aiohttp.ClientPayloadError("cut"), ServiceUnavailableError, True),
    ],
)
def test_aiohttp_failures_are_judged_by_their_cause(
    cause: BaseException, expected: type[ServiceError], sent: bool
) -> None:
    """A reset after the body counts as sent; a connector failure does not."""
    failure = classify(cause)
    assert failure.public is expected
    assert failure.request_sent is sent
    assert failure.unhealthy is True


def test_httpx_failures_keep_their_rows() -> None:
    def classify_httpx(exc: Exception) -> tuple[Any, bool]:
        return map_transport_error(
            exc, service="clinical", method="POST", path_template="/x", correlation_id="c"
        )

    assert classify_httpx(httpx.ConnectTimeout("x"))[0].request_sent is False
    assert classify_httpx(httpx.ReadError("x"))[0].request_sent is True
    pool, unhealthy = classify_httpx(httpx.PoolTimeout("x"))
    assert pool.request_sent is False and unhealthy is False


# -- the wire, on both transports ------------------------------------------------------------


async def test_correlation_deadline_and_default_headers_reach_the_server(
    make_client: Any, async_transport: str
) -> None:
    """Correlation and request ids, the remaining deadline, config headers, API key and user
    agent arrive as sent; the transport adds no headers of its own."""
    with scripted_server() as server:
        server.script(Action(status=503, body={}))
        config = config_for(
            server.url, headers={"X-Team": "triage"}, api_key="k-1", retry={"backoff_base": 0}
        )
        client = make_client(config)
        with correlation_scope("corr-42"), deadline_scope(3.0):
            await get_thing(client)
        first, retry = (r.headers for r in server.requests)
        assert first["x-correlation-id"] == first["x-request-id"] == "corr-42"
        assert 2500 < int(first["x-request-deadline-ms"]) <= 3000
        assert int(retry["x-request-deadline-ms"]) <= int(first["x-request-deadline-ms"])
        assert first["x-team"] == "triage" and first["x-api-key"] == "k-1"
        assert first["user-agent"].startswith("nilecare-clients/")
        assert first["accept"] == "application/json"
        assert "x-retry-attempt" not in first and retry["x-retry-attempt"] == "1"
        assert set(first) == set(retry) - {"x-retry-attempt"}
        assert set(first) <= {
            "host",
            "accept",
            "accept-encoding",
            "connection",
            "user-agent",
            "x-correlation-id",
            "x-request-id",
            "x-request-deadline-ms",
            "x-team",
            "x-api-key",
        }


async def test_typed_client_reads_and_writes_through_a_served_fake(
    make_client: Any, async_transport: str
) -> None:
    """AsyncClinicalServiceClient gets and creates patients over either transport."""
    fake = FakeClinicalService()
    patient = fake.create_patient()
    with fake.serve() as base_url:
        client = make_client(config_for(base_url), cls=AsyncClinicalServiceClient)
        assert (await client.get_patient(patient["id"])).id == patient["id"]
        assert await client.patient_exists(str(uuid.uuid4())) is False
        created = await client.create_patient(make_patient(seed=7))
        assert (await client.get_patient(str(created.id))).id == created.id


async def test_pool_limit_caps_connections(make_client: Any, async_transport: str) -> None:
    """max_connections=2 with 6 concurrent calls (bulkhead wider): at most 2 connections."""
    with scripted_server() as server:
        server.default = Action(delay=0.1)
        client = make_client(config_for(server.url, max_connections=2, max_in_flight=6))
        await asyncio.gather(*(get_thing(client) for _ in range(6)))
        assert server.count() == 6
        assert server.connections == 2


async def test_pool_wait_times_out_before_anything_is_sent(
    make_client: Any, async_transport: str
) -> None:
    """A call that cannot get a pooled connection within pool_timeout fails unsent."""
    with scripted_server() as server:
        server.default = Action(delay=0.5)
        config = config_for(server.url, max_connections=1, max_in_flight=2, pool_timeout=0.1)
        client = make_client(config)
        with set_testing(attempts=1):
            results = await asyncio.gather(
                get_thing(client), get_thing(client), return_exceptions=True
            )
        errors = [r for r in results if isinstance(r, Exception)]
        assert len(errors) == 1 and isinstance(errors[0], ServiceTimeoutError)
        assert errors[0].request_sent is False
        assert server.count() == 1


@pytest.mark.parametrize(
    ("limits", "pause", "connections"),
    [
        ({}, 0.0, 1),  # kept alive and reused
        ({"keepalive_expiry": 0.05}, 0.3, 2),  # idle longer than the expiry: a new connection
        ({"max_keepalive_connections": 0}, 0.0, 2),  # no keep-alive at all
    ],
)
async def test_keep_alive_settings(
    make_client: Any, async_transport: str, limits: dict[str, Any], pause: float, connections: int
) -> None:
    """Keep-alive expiry and a zero keep-alive pool are honoured."""
    with scripted_server() as server:
        client = make_client(config_for(server.url, **limits))
        await get_thing(client)
        await asyncio.sleep(pause)
        await get_thing(client)
        assert server.connections == connections


@pytest.fixture
def full_backlog() -> Iterator[int]:
    """A port whose listen queue is full: a new connection's SYN is dropped (connect hangs)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    yield port
    for sock in [*fillers, listener]:
        sock.close()


async def test_connect_timeout_sends_nothing_so_a_post_is_retried(
    make_client: Any, async_transport: str, full_backlog: int
) -> None:
    """A connect timeout means nothing was written: even a POST without key is retried."""
    config = config_for(f"http://127.0.0.1:{full_backlog}", connect_timeout=0.1)
    client = make_client(config)
    with set_testing(attempts=2, backoff=False), pytest.raises(ServiceTimeoutError) as info:
        await post_thing(client)
    assert info.value.request_sent is False
    assert not isinstance(info.value, OutcomeUnknownError)
    assert "connect timeout" in str(info.value)


async def serve_raw(reply: bytes | None) -> tuple[asyncio.Server, list[int]]:
    """A server that reads one request head, then writes ``reply`` and closes (or, with
    ``None``, resets at once without reading). Counts connections."""
    seen: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(1)
        if reply is None:
            sock = writer.get_extra_info("socket")
            sock.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
            writer.transport.abort()
            return
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(reply)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, seen


@pytest.mark.parametrize(
    "reply",
    [b"garbage\r\n\r\n", b'HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{"cut"', None],
    ids=["malformed", "truncated", "reset-at-once"],
)
async def test_broken_answers_are_one_typed_error_and_a_post_is_sent_once(
    make_client: Any, async_transport: str, reply: bytes | None
) -> None:
    """A malformed or cut answer, or a reset before the server read anything: the same typed
    error on both transports, and a POST without key goes out once."""
    server, connections = await serve_raw(reply)
    port = server.sockets[0].getsockname()[1]
    try:
        client = make_client(config_for(f"http://127.0.0.1:{port}"))
        with set_testing(attempts=1), pytest.raises(ServiceUnavailableError) as info:
            await get_thing(client)
        assert info.value.request_sent is True
        assert type(info.value) is ServiceUnavailableError
        connections.clear()
        with set_testing(attempts=3, backoff=False), pytest.raises(OutcomeUnknownError):
            await post_thing(client)
        assert len(connections) == 1
    finally:
        server.close()
        await server.wait_closed()


async def test_health_check_reports_an_outage_by_its_httpx_name(
    make_client: Any, async_transport: str
) -> None:
    """health_check names a reset like the default transport does (not the adapter's name)."""
    with scripted_server() as server:
        server.default = Action(reset=True)
        status = await call(make_client(config_for(server.url)).health_check())
        assert status.ok is False and status.error in ("ReadError", "RemoteProtocolError")


# -- lifecycle of the aiohttp session --------------------------------------------------------


def test_session_is_created_in_the_loop_that_uses_it() -> None:
    """Built outside any loop, the client opens its session on first use, inside the loop, and
    ``async with`` closes it (an unclosed one fails this test via the ResourceWarning filter)."""
    with scripted_server() as server:
        client = AsyncBaseServiceClient(config=config_for(server.url, async_transport="aiohttp"))

        async def use() -> None:
            async with client:
                await get_thing(client)
                await get_thing(client)

        asyncio.run(use())
        assert server.connections == 1


def test_a_second_event_loop_gets_a_clear_error_not_a_hang() -> None:
    """A client first used in one loop raises ConfigurationError in another, at once."""
    with scripted_server() as server:
        client = AsyncBaseServiceClient(config=config_for(server.url, async_transport="aiohttp"))
        first, second = asyncio.new_event_loop(), asyncio.new_event_loop()
        try:
            first.run_until_complete(get_thing(client))
            with pytest.raises(ConfigurationError, match="another event loop"):
                second.run_until_complete(asyncio.wait_for(get_thing(client), 2.0))
            assert server.count() == 1
            first.run_until_complete(client.aclose())
        finally:
            first.close()
            second.close()


async def test_a_cancelled_call_gives_back_its_bulkhead_slot(
    make_client: Any, async_transport: str
) -> None:
    """Cancelling calls in flight over either transport frees their slots; later calls run."""
    from nilecare_clients._resilience.registry import state_for

    with scripted_server() as server:
        server.script(Action(delay=1.0), Action(delay=1.0))
        config = config_for(server.url, max_in_flight=2)
        client = make_client(config)
        tasks = [asyncio.ensure_future(get_thing(client)) for _ in range(2)]
        await asyncio.sleep(0.1)
        assert state_for(config).bulkhead.in_flight == 2
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert state_for(config).bulkhead.in_flight == 0
        assert (await get_thing(client, response_model=Thing)).id == "p-1"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    pytest.importorskip("cryptography")
    return tls_material(tmp_path_factory.mktemp("tls"))


async def serve_tls(
    tls: dict[str, str], *, require_client_cert: bool
) -> tuple[asyncio.Server, list[str]]:
    """An HTTPS server on loopback answering every request with a thing; records client CNs."""
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls["server"], tls["server_key"])
    if require_client_cert:
        context.load_verify_locations(tls["ca"])
        context.verify_mode = ssl.CERT_REQUIRED
    peers: list[str] = []
    body = json.dumps({"success": True, "data": {"id": "p-1"}}).encode()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        cert = writer.get_extra_info("peercert")
        if cert:
            peers.append(dict(x[0] for x in cert["subject"])["commonName"])
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                writer.write(head.encode() + body)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            pass
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    return server, peers


@pytest.mark.parametrize(
    ("verify", "client_cert", "outcome"),
    [
        ("ca", None, "ok"),  # a CA bundle path
        (False, None, "ok"),  # verification off
        (True, None, "unreachable"),  # the system bundle does not know our CA: nothing sent
        ("ca", ("client", "client_key"), "ok+cn"),  # mTLS: the server sees the client cert
    ],
)
async def test_tls_verification_and_client_certificates(
    make_client: Any,
    async_transport: str,
    tls: dict[str, str],
    verify: Any,
    client_cert: tuple[str, str] | None,
    outcome: str,
) -> None:
    """verify (True, False, CA path) and client_cert apply to both transports alike."""
    server, peers = await serve_tls(tls, require_client_cert=client_cert is not None)
    port = server.sockets[0].getsockname()[1]
    try:
        config = config_for(
            f"https://127.0.0.1:{port}",
            verify=tls["ca"] if verify == "ca" else verify,
            client_cert=(tls[client_cert[0]], tls[client_cert[1]]) if client_cert else None,
        )
        client = make_client(config)
        if outcome == "unreachable":
            with set_testing(attempts=1), pytest.raises(ServiceUnreachableError) as info:
                await get_thing(client)
            assert info.value.request_sent is False
        else:
            assert (await get_thing(client, response_model=Thing)).id == "p-1"
            assert peers == (["triage-service"] if outcome == "ok+cn" else [])
        await client.aclose()
    finally:
        server.close()
        await server.wait_closed()

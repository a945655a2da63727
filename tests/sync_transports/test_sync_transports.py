"""The ``sync_transport`` option: choosing it, what it must honour, and its failure classes.

Loopback tests take ``sync_transport`` (both sync transports, from ``conftest.py``) and run on
real sockets: refused, connect timeout and pool timeout send nothing; a reset after the
request or a read timeout may have been applied; no redirect is followed and the transport
itself never repeats a request (connections counted on a raw socket server).
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import ssl
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from nilecare_clients import (
    BaseServiceClient,
    ConfigurationError,
    NileCareError,
    OutcomeUnknownError,
    ServiceConfig,
    ServiceTimeoutError,
    ServiceUnavailableError,
    ServiceUnreachableError,
)
from nilecare_clients.clinical import ClinicalServiceClient
from nilecare_clients.testing import FakeClinicalService, route_to, set_testing
from scripted_server import Action, scripted_server
from tls_material import tls_material

PATIENT_ID = "3f1c2a9e-8d7b-4c6a-9e5f-1a2b3c4d5e6f"


class Thing(BaseModel):
    id: str


def config_for(url: str, **changes: Any) -> ServiceConfig:
    return ServiceConfig(name="clinical", base_url=url, **changes)


def get_thing(client: Any, **kwargs: Any) -> Any:
    return client._request("GET", "/api/v1/things/{id}", path_params={"id": "t1"}, **kwargs)


def post_thing(client: Any) -> Any:
    return client._request("POST", "/api/v1/things", json={"name": "x"})


# -- choosing the transport -----------------------------------------------------------------


def test_default_is_httpx_and_env_selects_urllib3() -> None:
    assert config_for("http://x.test").sync_transport == "httpx"
    env = {"NILECARE_CLINICAL_URL": "http://x.test", "NILECARE_CLINICAL_SYNC_TRANSPORT": "URLLIB3"}
    assert ServiceConfig.from_env("clinical", environ=env).sync_transport == "urllib3"


def test_env_rejects_an_unknown_transport() -> None:
    env = {"NILECARE_CLINICAL_URL": "http://x.test", "NILECARE_CLINICAL_SYNC_TRANSPORT": "curl"}
    with pytest.raises(ConfigurationError, match="SYNC_TRANSPORT must be httpx or urllib3"):
        ServiceConfig.from_env("clinical", environ=env)


def test_urllib3_without_the_extra_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without urllib3 installed, choosing it fails at construction naming the extra."""
    monkeypatch.setitem(sys.modules, "urllib3", None)  # as if it were not installed
    monkeypatch.delitem(sys.modules, "nilecare_clients._urllib3", raising=False)
    config = config_for("http://clinical.test", sync_transport="urllib3")
    with pytest.raises(ConfigurationError, match=r"nilecare-clients\[urllib3\]") as info:
        BaseServiceClient(config=config)
    assert "\n" not in str(info.value)
    BaseServiceClient(config=config.model_copy(update={"sync_transport": "httpx"})).close()


def test_an_injected_transport_or_route_wins_over_the_setting() -> None:
    """A transport or client given to the client, or a ``route_to`` route, is httpx's and is
    used even with urllib3 set (the option names the pool the client builds itself)."""
    config = config_for("http://clinical.test", sync_transport="urllib3")
    ok = httpx.Response(200, json={"success": True, "data": {"id": "mock"}})
    with BaseServiceClient(config=config, transport=httpx.MockTransport(lambda r: ok)) as client:
        assert get_thing(client, response_model=Thing).id == "mock"
    http = httpx.Client(transport=httpx.MockTransport(lambda r: ok))
    with BaseServiceClient(config=config, http_client=http) as client:
        assert get_thing(client, response_model=Thing).id == "mock"
    fake = FakeClinicalService()
    patient = fake.create_patient()
    with route_to(fake), ClinicalServiceClient(config=config) as clinical:
        assert clinical.get_patient(patient["id"]).id == patient["id"]


# -- settings honoured on real sockets -------------------------------------------------------


def test_correlation_deadline_query_and_default_headers_reach_the_server(
    make_client: Any,
) -> None:
    with scripted_server() as server:
        client = make_client(config_for(server.url, headers={"X-Team": "triage"}))
        client._request(
            "GET", "/api/v1/things", params={"q": "a b&c", "active": True, "tag": ["x", "y"]}
        )
        seen = server.requests[0]
        # A space is "+" or "%20" (httpx changed in 0.28): what the server decodes is the same.
        path, _, query = seen.path.partition("?")
        assert path == "/api/v1/things"
        assert query.replace("%20", "+") == "q=a+b%26c&active=true&tag=x&tag=y"
        assert seen.headers["accept"] == "application/json"
        assert seen.headers["user-agent"].startswith("nilecare-clients/")
        assert seen.headers["x-team"] == "triage"
        assert seen.headers["x-correlation-id"] == seen.headers["x-request-id"]
        assert 0 < int(seen.headers["x-request-deadline-ms"]) <= 30_000


def test_a_base_url_with_a_path_prefix_is_kept(make_client: Any) -> None:
    with scripted_server() as server:
        client = make_client(config_for(server.url + "/clinical"))
        assert get_thing(client, response_model=Thing).id == "p-1"
        assert server.requests[0].path == "/clinical/api/v1/things/t1"


def test_pool_limit_caps_connections(make_client: Any) -> None:
    """max_connections=2 with 6 concurrent calls (bulkhead wider): at most 2 connections."""
    with scripted_server() as server:
        server.default = Action(delay=0.1)
        client = make_client(config_for(server.url, max_connections=2, max_in_flight=6))
        with ThreadPoolExecutor(6) as pool:
            list(pool.map(lambda _: get_thing(client), range(6)))
        assert server.count() == 6
        assert server.connections == 2


def test_pool_wait_times_out_before_anything_is_sent(make_client: Any) -> None:
    """A call that cannot get a pooled connection within pool_timeout fails unsent."""
    with scripted_server() as server:
        server.default = Action(delay=0.5)
        config = config_for(server.url, max_connections=1, max_in_flight=2, pool_timeout=0.1)
        client = make_client(config)

        def attempt(_: int) -> Any:
            try:
                return get_thing(client)
            except NileCareError as exc:
                return exc

        with set_testing(attempts=1), ThreadPoolExecutor(2) as pool:
            results = list(pool.map(attempt, range(2)))
        errors = [r for r in results if isinstance(r, Exception)]
        assert len(errors) == 1 and isinstance(errors[0], ServiceTimeoutError)
        assert errors[0].request_sent is False
        assert "pool timeout" in str(errors[0])
        assert server.count() == 1


@pytest.mark.parametrize(
    ("limits", "pause", "connections"),
    [
        ({}, 0.0, 1),  # kept alive and reused
        ({"keepalive_expiry": 0.05}, 0.3, 2),  # idle longer than the expiry: a new connection
        ({"max_keepalive_connections": 0}, 0.0, 2),  # no keep-alive at all
    ],
)
def test_keep_alive_settings(
    make_client: Any, limits: dict[str, Any], pause: float, connections: int
) -> None:
    import time

    with scripted_server() as server:
        client = make_client(config_for(server.url, **limits))
        get_thing(client)
        time.sleep(pause)
        get_thing(client)
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


def test_connect_timeout_sends_nothing_so_a_post_is_retried(
    make_client: Any, full_backlog: int
) -> None:
    config = config_for(f"http://127.0.0.1:{full_backlog}", connect_timeout=0.1)
    client = make_client(config)
    with set_testing(attempts=2, backoff=False), pytest.raises(ServiceTimeoutError) as info:
        post_thing(client)
    assert info.value.request_sent is False
    assert not isinstance(info.value, OutcomeUnknownError)
    assert "connect timeout" in str(info.value)


@contextmanager
def raw_server(reply: bytes) -> Iterator[tuple[int, list[int]]]:
    """Reads one request head, then writes ``reply`` and closes. Counts connections, so a
    transport's own repeat would show."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.1)
    seen: list[int] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            seen.append(1)
            with conn:
                data = b""
                with contextlib.suppress(OSError):
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    conn.sendall(reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], seen
    finally:
        stop.set()
        thread.join(timeout=2)
        listener.close()


@pytest.mark.parametrize(
    "reply",
    [
        b"garbage\r\n\r\n",
        b'HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{"cut"',
        b"",  # closed without an answer
    ],
    ids=["malformed", "truncated", "closed"],
)
def test_broken_answers_are_one_typed_error_and_never_repeated_by_the_transport(
    make_client: Any, reply: bytes
) -> None:
    """Each broken answer is ServiceUnavailableError (may have been applied); with one attempt
    the server sees one connection (the transport retries nothing itself), and a POST
    without key goes out once even when the client may retry."""
    with raw_server(reply) as (port, connections):
        client = make_client(config_for(f"http://127.0.0.1:{port}"))
        with set_testing(attempts=1), pytest.raises(ServiceUnavailableError) as info:
            get_thing(client)
        assert info.value.request_sent is True
        assert type(info.value) is ServiceUnavailableError
        assert len(connections) == 1
        connections.clear()
        with set_testing(attempts=3, backoff=False), pytest.raises(OutcomeUnknownError):
            post_thing(client)
        assert len(connections) == 1


def test_read_timeout_may_have_been_applied(make_client: Any) -> None:
    with scripted_server() as server:
        server.default = Action(delay=0.5)
        client = make_client(config_for(server.url, read_timeout=0.1))
        with set_testing(attempts=3, backoff=False), pytest.raises(OutcomeUnknownError) as info:
            post_thing(client)
        assert "read timeout" in str(info.value)
        assert server.count("POST") == 1


def test_no_redirect_is_followed(make_client: Any) -> None:
    with scripted_server() as server:
        server.default = Action(status=302, headers={"Location": "/api/v1/elsewhere"}, body={})
        client = make_client(config_for(server.url))
        with set_testing(attempts=1), pytest.raises(NileCareError):
            get_thing(client)
        assert [r.path for r in server.requests] == ["/api/v1/things/t1"]


def test_health_check_names_an_outage_like_the_default_transport(make_client: Any) -> None:
    with scripted_server() as server:
        server.default = Action(reset=True)
        status = make_client(config_for(server.url)).health_check()
        assert status.ok is False and status.error in ("ReadError", "RemoteProtocolError")
    with scripted_server() as server:
        status = make_client(config_for(server.url)).health_check()
        assert status.ok is True and status.status_code == 200


# -- TLS --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    pytest.importorskip("cryptography")
    return tls_material(tmp_path_factory.mktemp("tls"))


@contextmanager
def tls_server(
    tls: dict[str, str], *, require_client_cert: bool
) -> Iterator[tuple[int, list[str]]]:
    """An HTTPS server on loopback answering every request with a thing; records client CNs."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls["server"], tls["server_key"])
    if require_client_cert:
        context.load_verify_locations(tls["ca"])
        context.verify_mode = ssl.CERT_REQUIRED
    peers: list[str] = []
    body = json.dumps({"success": True, "data": {"id": "p-1"}}).encode()
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except TimeoutError:
                continue
            raw.settimeout(2)
            try:
                with context.wrap_socket(raw, server_side=True) as conn:
                    cert = conn.getpeercert()
                    if cert:
                        subject = dict(x[0] for x in cert["subject"])  # type: ignore[misc]
                        peers.append(str(subject["commonName"]))
                    while b"\r\n\r\n" not in conn.recv(65536):
                        pass
                    conn.sendall(head.encode() + b"\r\n\r\n" + body)
            except OSError:
                raw.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], peers
    finally:
        stop.set()
        thread.join(timeout=2)
        listener.close()


@pytest.mark.parametrize(
    ("verify", "client_cert", "outcome"),
    [
        ("ca", None, "ok"),  # a CA bundle path
        (False, None, "ok"),  # verification off
        (True, None, "unreachable"),  # the system bundle does not know our CA: nothing sent
        ("ca", ("client", "client_key"), "ok+cn"),  # mTLS: the server sees the client cert
    ],
)
def test_tls_verification_and_client_certificates(
    make_client: Any,
    tls: dict[str, str],
    verify: Any,
    client_cert: tuple[str, str] | None,
    outcome: str,
) -> None:
    with tls_server(tls, require_client_cert=client_cert is not None) as (port, peers):
        config = config_for(
            f"https://127.0.0.1:{port}",
            verify=tls["ca"] if verify == "ca" else verify,
            client_cert=(tls[client_cert[0]], tls[client_cert[1]]) if client_cert else None,
        )
        client = make_client(config)
        if outcome == "unreachable":
            with set_testing(attempts=1), pytest.raises(ServiceUnreachableError) as info:
                get_thing(client)
            assert info.value.request_sent is False
        else:
            assert get_thing(client, response_model=Thing).id == "p-1"
            assert peers == (["triage-service"] if outcome == "ok+cn" else [])


# -- PHI: the transport's own log ------------------------------------------------------------


def test_the_transport_log_shows_the_route_template_never_the_id_or_query(
    make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """urllib3 logs each request line at DEBUG (httpx at INFO): the patient id in the path
    and the search term in the query never reach it."""
    caplog.set_level(logging.DEBUG)
    with scripted_server() as server:
        client = make_client(config_for(server.url))
        client._request("GET", "/api/v1/patients/{id}", path_params={"id": PATIENT_ID})
        client._request("GET", "/api/v1/patients/search", params={"q": "Amina Osman"})
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert PATIENT_ID not in text and "Amina" not in text
    assert "/api/v1/patients/{id}" in text


def test_a_malformed_header_warning_carries_no_query_and_no_header(
    make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """urllib3 warns about a header line it cannot parse, quoting the full URL and the line:
    the search term in the query and the header's text never reach the log."""
    body = b'{"success": true, "data": []}'
    reply = (
        b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nX-Patient Amina Osman\r\nX-Ok: 1\r\n\r\n"
        % len(body)
    ) + body
    caplog.set_level(logging.DEBUG)
    with raw_server(reply) as (port, _seen):
        client = make_client(config_for(f"http://127.0.0.1:{port}"))
        with contextlib.suppress(NileCareError):
            client._request("GET", "/api/v1/patients/search", params={"q": "Amina Osman"})
    texts = [r.getMessage() for r in caplog.records] + [
        caplog.text,
        *(repr(r.exc_info) for r in caplog.records),
    ]
    assert not [t for t in texts if "Amina" in t]

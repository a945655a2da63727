"""The urllib3 wire's direct path (``Urllib3Wire._open``): it writes what urlopen wrote, and a
header HTTP forbids still fails before anything is sent.

The direct path writes our header block in one piece instead of one checked ``putheader`` per
header; anything unusual goes by urlopen, where http.client judges it as before.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from nilecare_clients import BaseServiceClient, InvalidRequestError, ServiceConfig
from nilecare_clients import _urllib3 as wire_module
from nilecare_clients._correlation import correlation_scope

BODY = b'{"success": true, "data": {"id": "t1"}}'
REPLY = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
    len(BODY),
    BODY,
)


@contextlib.contextmanager
def capturing_server() -> Iterator[tuple[str, list[bytes]]]:
    """Keeps connections alive; records each request's bytes (head and declared body)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.1)
    seen: list[bytes] = []
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        conn.settimeout(0.2)
        data = b""
        with conn:
            while not stop.is_set():
                try:
                    chunk = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not chunk:
                    return
                data += chunk
                while b"\r\n\r\n" in data:
                    head, _, rest = data.partition(b"\r\n\r\n")
                    length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
                    size = int(length.group(1)) if length else 0
                    if len(rest) < size:
                        break
                    seen.append(head + b"\r\n\r\n" + rest[:size])
                    data = rest[size:]
                    conn.sendall(REPLY)

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", seen
    finally:
        stop.set()
        thread.join(timeout=2)
        listener.close()


def urllib3_client(url: str, **changes: Any) -> BaseServiceClient:
    config = ServiceConfig(name="clinical", base_url=url, sync_transport="urllib3", **changes)
    return BaseServiceClient(config=config)


def calls(client: BaseServiceClient) -> None:
    with correlation_scope("cid-1"):
        client._request("GET", "/api/v1/things/{id}", path_params={"id": "t1"})
        client._request("GET", "/api/v1/things", params={"q": "a b&c", "tag": ["x", "y"]})
        client._request("POST", "/api/v1/things", json={"name": "x"}, idempotency_key="k-1")
        client._request("DELETE", "/api/v1/things/{id}", path_params={"id": "t1"})
        client._request("PUT", "/api/v1/things/t1/flag", idempotency_key="k-2")
        client._request("GET", "/api/v1/things", headers={"X-Trace": "a:b c"})


def test_the_direct_path_writes_what_urlopen_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    taken: list[bool] = []
    head = wire_module.Urllib3Wire._head

    def watched(self: Any, *args: Any) -> bytes | None:
        made: bytes | None = head(self, *args)
        taken.append(made is not None)
        return made

    monkeypatch.setattr(wire_module.Urllib3Wire, "_head", watched)
    with capturing_server() as (url, seen):
        with urllib3_client(url + "/clinical", headers={"X-Team": "triage"}) as client:
            calls(client)
        direct = list(seen)
        seen.clear()
        assert taken == [True] * 6  # every one of them went the direct way
        monkeypatch.setattr(wire_module.Urllib3Wire, "_head", lambda *args: None)
        with urllib3_client(url + "/clinical", headers={"X-Team": "triage"}) as client:
            calls(client)
        by_urlopen = list(seen)

    def same(request: bytes) -> bytes:
        return re.sub(rb"X-Request-Deadline-Ms: \d+", b"X-Request-Deadline-Ms: N", request)

    assert len(direct) == 6
    assert [same(r) for r in direct] == [same(r) for r in by_urlopen]
    assert direct[0].startswith(b"GET /clinical/api/v1/things/t1 HTTP/1.1\r\nHost: 127.0.0.1:")


@pytest.mark.parametrize(
    ("headers", "key"),
    [
        ({" X-Lead": "v"}, None),  # a name starting with a space
        ({"": "v"}, None),  # an empty name
        ({"X-Ok": "v"}, "k\r\nX-Evil: 1"),  # a line break in the idempotency key
        ({"X-Note": "Am\u00efna"}, None),  # non-ASCII (the core refuses it first)
        ({"X-Note": "a\rb"}, None),  # a bare CR (the core refuses it first)
        ({"X-Note": "a\nX-Evil: 1"}, None),  # a bare LF (the core refuses it first)
        ({"X-A\r\nX-Evil": "1"}, None),  # a line break in a name (the core refuses it first)
        ({"X-Note": "a\x00b"}, None),  # NUL (the core refuses it first)
        ({"X Odd": "1"}, None),  # a name that is not a token (the core refuses it first)
        ({"X-Ok": "v"}, "k\r\n folded"),  # a folded idempotency key (the core refuses it)
    ],
)
def test_a_header_http_forbids_is_refused_with_nothing_sent(
    headers: dict[str, str], key: str | None
) -> None:
    with capturing_server() as (url, seen):
        with urllib3_client(url) as client:
            client._request("GET", "/api/v1/things")  # a pooled, connected connection
            for _ in range(2):
                with pytest.raises(InvalidRequestError):
                    client._request(
                        "POST", "/api/v1/things", json={}, headers=headers, idempotency_key=key
                    )
            client._request("GET", "/api/v1/things")  # the pool still works
        assert len(seen) == 2
        assert all(r.startswith(b"GET ") for r in seen)


def test_unusual_names_and_targets_go_by_urlopen_as_before() -> None:
    """A name urllib3 writes itself, a target urllib3 would re-encode: written by urlopen and
    http.client, exactly as before the direct path."""
    with capturing_server() as (url, seen):
        with urllib3_client(url) as client:
            client._request("GET", "/api/v1/things", headers={"Accept-Encoding": "gzip"})
            client._request("GET", "/api/v1/th%69ngs")
        assert len(seen) == 2
        assert b"\r\nAccept-Encoding: gzip\r\n" in seen[0]
        assert b"identity" not in seen[0]


def test_the_methods_sent_without_a_length_are_urllib3s() -> None:
    from urllib3.util.request import _METHODS_NOT_EXPECTING_BODY

    assert frozenset(_METHODS_NOT_EXPECTING_BODY) == wire_module._NO_BODY_METHODS

"""The deadline bounds a slow body, and a body's size is bounded, on real loopback sockets.

A raw socket server sends the status line and headers at once and then the body as it is told:
trickled a byte at a time (each byte well inside the read timeout), or far larger than the
client accepts. Every test runs for both sync transports and both async transports.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from nilecare_clients import (
    AsyncBaseServiceClient,
    BaseServiceClient,
    ResponseTooLargeError,
    ServerError,
    ServiceConfig,
    ServiceTimeoutError,
    deadline_scope,
)
from nilecare_clients._errors import ERROR_BODY_LIMIT
from support import call

OK_BODY = json.dumps({"success": True, "data": {"id": "t1", "pad": "x" * 150}}).encode()


@dataclass
class BodyServer:
    """Answers every request with ``status`` and a body written as ``mode`` says."""

    mode: str  # "trickle" | "huge" | "huge-chunked"
    status: int = 200
    gap: float = 0.1
    total: int = 100 * 1024 * 1024
    written: int = 0
    port: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def serve(self, listener: socket.socket) -> None:
        listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            head = f"HTTP/1.1 {self.status} X\r\nContent-Type: application/json\r\n"
            try:
                if self.mode == "trickle":
                    conn.sendall(f"{head}Content-Length: {len(OK_BODY)}\r\n\r\n".encode())
                    for byte in OK_BODY:
                        if self._stop.is_set():
                            return
                        time.sleep(self.gap)
                        conn.sendall(bytes([byte]))
                        self.written += 1
                    return
                chunk = b"[" + b"0," * 32767 + b"0"
                if self.mode == "huge":
                    conn.sendall(f"{head}Content-Length: {self.total}\r\n\r\n".encode())
                    while self.written < self.total and not self._stop.is_set():
                        conn.sendall(chunk)
                        self.written += len(chunk)
                else:
                    conn.sendall(f"{head}Transfer-Encoding: chunked\r\n\r\n".encode())
                    while self.written < self.total and not self._stop.is_set():
                        conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        self.written += len(chunk)
            except OSError:
                return  # the client went away: that is the point


@contextmanager
def body_server(mode: str, **kwargs: Any) -> Iterator[BodyServer]:
    server = BodyServer(mode, **kwargs)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    server.port = listener.getsockname()[1]
    thread = threading.Thread(target=server.serve, args=(listener,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server._stop.set()
        thread.join(timeout=2)
        listener.close()


@pytest.fixture(params=["sync", "urllib3", "httpx", "aiohttp"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def make(kind: str) -> Any:
    made: list[Any] = []

    def factory(url: str, **changes: Any) -> Any:
        sync = kind in ("sync", "urllib3")
        extra: dict[str, Any] = {"sync_transport": "urllib3"} if kind == "urllib3" else {}
        if not sync:
            extra["async_transport"] = kind
        config = ServiceConfig(
            name="things", base_url=url, retry={"max_attempts": 1}, **extra, **changes
        )
        client: Any = (BaseServiceClient if sync else AsyncBaseServiceClient)(config=config)
        made.append(client)
        return client

    yield factory
    for client in made:
        if isinstance(client, AsyncBaseServiceClient):
            await client.aclose()
        else:
            client.close()


def get(client: Any) -> Any:
    return client._request(
        "GET", "/api/v1/things/{id}", path_params={"id": "t1"}, response_model=dict
    )


async def test_a_trickled_body_ends_at_the_deadline(make: Any, kind: str) -> None:
    """Headers at once, then one byte every 0.1 s (the body would take ~17 s): the call ends
    with ServiceTimeoutError naming the deadline about 1 s in, not when the server finishes."""
    with body_server("trickle") as server:
        client = make(server.url, deadline=1.0, read_timeout=5.0)
        started = time.monotonic()
        with pytest.raises(ServiceTimeoutError) as info:
            with deadline_scope(1.0):
                await call(get(client))
        took = time.monotonic() - started
        print(f"{kind}: trickled body, deadline 1.0 s: call ended after {took:.3f} s")
        assert took < 1.0 + 0.4, took
        assert "deadline exceeded" in str(info.value) and info.value.request_sent
        assert server.written < len(OK_BODY)


@pytest.mark.parametrize("mode", ["huge", "huge-chunked"])
async def test_a_success_body_over_the_limit_is_refused_unbuffered(make: Any, mode: str) -> None:
    """A 100 MB answer against max_response_bytes=1 MiB: ResponseTooLargeError at once, the
    server is cut off long before it has sent the whole body."""
    with body_server(mode) as server:
        client = make(server.url, max_response_bytes=1024 * 1024)
        with pytest.raises(ResponseTooLargeError) as info:
            await call(get(client))
        assert "max_response_bytes" in str(info.value)
        await asyncio.sleep(0.2)
        assert server.written < 40 * 1024 * 1024


async def test_an_error_body_is_kept_only_up_to_its_limit(make: Any) -> None:
    """A 500 with a 100 MB body: ServerError whose ``.body`` holds at most 64 KiB."""
    with body_server("huge-chunked", status=500) as server:
        client = make(server.url)
        with pytest.raises(ServerError) as info:
            await call(get(client))
        assert info.value.body is not None
        assert 0 < len(info.value.body) <= ERROR_BODY_LIMIT
        await asyncio.sleep(0.2)
        assert server.written < 40 * 1024 * 1024


async def test_a_normal_body_still_arrives_whole(make: Any) -> None:
    """The same server trickling fast enough finishes inside the deadline: the value is read."""
    with body_server("trickle", gap=0.001) as server:
        client = make(server.url, deadline=5.0)
        assert (await call(get(client)))["id"] == "t1"

"""Serve a fake on loopback with a real uvicorn server in a background thread.

``serve(app)`` binds 127.0.0.1 on a free port itself (no race between picking and binding),
starts uvicorn on that socket in a daemon thread, waits until it is accepting, yields
``"http://127.0.0.1:PORT"`` and shuts it down on exit.

How a ``reset_connection`` fault really resets the TCP connection: uvicorn runs with a
subclass of its h11 protocol that records each connection's asyncio transport, keyed by the
peer address. The ASGI scope of each request gets an ``ABORT_EXTENSION`` callable that looks
that transport up by ``scope["client"]``, sets ``SO_LINGER`` to zero on its socket and calls
``transport.abort()``. The fake calls it only after it has read the whole request body, so the
client sees its request sent and then an RST (``ECONNRESET``: ``httpx.ReadError``), not a
polite close; uvicorn, seeing the connection lost, sends nothing further.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from nilecare_clients.testing.fakes._asgi import ABORT_EXTENSION, ASGIApp, Receive, Scope, Send


class _Connections:
    """Live connections of one server, by peer address; touched only on the server's loop."""

    def __init__(self) -> None:
        self._by_peer: dict[tuple[str, int], asyncio.Transport] = {}

    def opened(self, transport: asyncio.Transport) -> None:
        peer = transport.get_extra_info("peername")
        if peer:
            self._by_peer[(str(peer[0]), int(peer[1]))] = transport

    def closed(self, transport: asyncio.Transport) -> None:
        peer = transport.get_extra_info("peername")
        if peer:
            self._by_peer.pop((str(peer[0]), int(peer[1])), None)

    def reset(self, client: Any) -> None:
        transport = self._by_peer.get((str(client[0]), int(client[1]))) if client else None
        if transport is None:
            return
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # Linger 0: close() sends RST instead of FIN, dropping any unsent data.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()


def _tracking_protocol(connections: _Connections) -> type[H11Protocol]:
    class TrackingH11Protocol(H11Protocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            sock = transport.get_extra_info("socket")
            if sock is not None:
                # h11 writes the head and the body separately: without TCP_NODELAY, Nagle
                # holds the body until the client's delayed ACK, adding ~40 ms per request.
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            super().connection_made(transport)
            connections.opened(transport)

        def connection_lost(self, exc: Exception | None) -> None:
            connections.closed(self.transport)
            super().connection_lost(exc)

    return TrackingH11Protocol


def _with_abort(app: ASGIApp, connections: _Connections) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            client = scope.get("client")
            extensions = dict(scope.get("extensions") or {})
            extensions[ABORT_EXTENSION] = lambda: connections.reset(client)
            scope = {**scope, "extensions": extensions}
        await app(scope, receive, send)

    return wrapped


@contextlib.contextmanager
def serve(
    app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0, startup_timeout: float = 10.0
) -> Iterator[str]:
    """Run ``app`` under uvicorn on ``host:port`` (0 = a free port) and yield its base URL."""
    connections = _Connections()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        _with_abort(app, connections),
        http=_tracking_protocol(connections),
        loop="asyncio",
        lifespan="off",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="nilecare-fake-server", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + startup_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the fake server did not start")
            time.sleep(0.005)
        yield f"http://{host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=startup_timeout)
        sock.close()

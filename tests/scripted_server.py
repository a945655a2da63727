"""A real HTTP/1.1 server on 127.0.0.1 whose answers each test scripts, and which counts requests.

Built on asyncio streams rather than an ASGI server because the behaviours under test live
below HTTP: answering late (read timeouts), resetting the TCP connection after the request
body was read (an RST, via SO_LINGER 0), or resetting before reading anything.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Action:
    """What the server does with one request."""

    status: int = 200
    body: Any = field(default_factory=lambda: {"success": True, "data": {"id": "p-1"}})
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    reset: bool = False  # read the whole request, then reset the connection (RST)
    raw_body: bytes | None = None


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class ScriptedServer:
    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.connections = 0
        self._script: deque[Action] = deque()
        self.default = Action()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def script(self, *actions: Action) -> None:
        self._script.extend(actions)

    def count(self, method: str | None = None) -> int:
        return sum(1 for r in self.requests if method is None or r.method == method)

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> bool:
        """Block until ``n`` requests have arrived (True) or ``timeout`` passes (False)."""
        until = time.monotonic() + timeout
        while self.count() < n:
            if time.monotonic() >= until:
                return False
            time.sleep(0.005)
        return True

    def start(self) -> None:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        future.result(timeout=5)

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        async def _stop() -> None:
            assert self._server is not None
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(_stop(), self._loop).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append(Seen(method, path, headers, body))
                action = self._script.popleft() if self._script else self.default
                if action.delay:
                    await asyncio.sleep(action.delay)
                if action.reset:
                    sock = writer.get_extra_info("socket")
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    writer.transport.abort()
                    return
                payload = (
                    action.raw_body
                    if action.raw_body is not None
                    else json.dumps(action.body).encode()
                )
                out = [f"HTTP/1.1 {action.status} X", f"Content-Length: {len(payload)}"]
                if action.raw_body is None:
                    out.append("Content-Type: application/json")
                out += [f"{k}: {v}" for k, v in action.headers.items()]
                writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + payload)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            return
        finally:
            if not writer.transport.is_closing():
                writer.close()


@contextmanager
def scripted_server() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def free_port() -> int:
    """A port nothing listens on (bound, then released): connecting to it is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])

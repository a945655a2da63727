"""A loopback HTTP/1.1 server for the resilience benchmark: it injects 503s and counts requests.

Runs its own asyncio loop in a daemon thread. ``fault_rate`` is the share of requests answered
503 (drawn from a seeded generator, so runs repeat); ``fault_rate = 1.0`` is a total outage.
Keep-alive is supported, so a healthy client reuses one connection as it would in production.
"""

from __future__ import annotations

import asyncio
import random
import threading

_OK = b'{"success":true,"data":{"id":"p-1"}}'
_DOWN = b'{"success":false,"error":{"code":"UNAVAILABLE","message":"down"}}'


def _answer(status: int, body: bytes) -> bytes:
    reason = "OK" if status == 200 else "Service Unavailable"
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


_OK_ANSWER = _answer(200, _OK)
_DOWN_ANSWER = _answer(503, _DOWN)


class FaultServer:
    def __init__(self, seed: int = 7) -> None:
        self.requests = 0
        self.connections = 0
        self.fault_rate = 0.0
        self._rng = random.Random(seed)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_faults(self, rate: float, seed: int = 7) -> None:
        self.fault_rate = rate
        self._rng = random.Random(seed)

    def __enter__(self) -> FaultServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=5)
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            assert self._server is not None
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=512)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                if length:
                    await reader.readexactly(length)
                self.requests += 1
                down = self.fault_rate >= 1.0 or self._rng.random() < self.fault_rate
                writer.write(_DOWN_ANSWER if down else _OK_ANSWER)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

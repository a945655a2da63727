"""``FakeTransport``: mount a fake (or any ASGI app) in-process, for sync and async httpx.

One object serves both ``httpx.Client(transport=...)`` and ``httpx.AsyncClient(transport=...)``.
The async path runs the app on the caller's event loop. The sync path cannot, since the
caller may have no loop (or one that is busy running the caller), so it runs the app on a
private event loop in a daemon thread that starts on first use and stops in ``close()``;
``httpx.Client.close()`` calls that for you.

Unlike ``httpx.ASGITransport`` it behaves like a network where a fake needs it to:

- a ``reset_connection`` fault raises ``httpx.ReadError`` (the request was sent, the
  connection was reset before an answer) after the fake recorded the attempt;
- the request's read timeout is honoured, so a ``latency`` fault longer than the client's
  timeout raises ``httpx.ReadTimeout`` as a slow server would.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import MutableMapping
from typing import Any

import anyio

from nilecare_clients._http import httpx
from nilecare_clients.testing.fakes._asgi import ABORT_EXTENSION, ASGIApp


class FakeTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """An in-process httpx transport over an ASGI app; usable by sync and async clients."""

    def __init__(self, app: ASGIApp, *, client: tuple[str, int] = ("127.0.0.1", 50123)) -> None:
        self._app = app
        self._client = client
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # -- async ---------------------------------------------------------------------------
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._exchange_in_time(request, await request.aread())

    async def aclose(self) -> None:
        self.close()

    # -- sync ----------------------------------------------------------------------------
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        coroutine = self._exchange_in_time(request, body)
        return asyncio.run_coroutine_threadsafe(coroutine, self._start()).result()

    def close(self) -> None:
        """Stop the private loop thread of the sync path, if it was started."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)

    def _start(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=_run_loop, args=(loop,), name="nilecare-fake-transport", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    # -- shared --------------------------------------------------------------------------
    async def _exchange_in_time(self, request: httpx.Request, body: bytes) -> httpx.Response:
        """The exchange under the request's read timeout, cancelled (and finished) in-loop."""
        try:
            with anyio.fail_after(_read_timeout(request)):
                return await self._exchange(request, body)
        except TimeoutError:
            raise httpx.ReadTimeout(
                "fake service did not answer in time", request=request
            ) from None

    async def _exchange(self, request: httpx.Request, body: bytes) -> httpx.Response:
        reset = False

        def abort() -> None:
            nonlocal reset
            reset = True

        url = request.url
        port = url.port or (443 if url.scheme == "https" else 80)
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": url.scheme,
            "path": url.path,
            "raw_path": url.raw_path.split(b"?", 1)[0],
            "query_string": url.query,
            "root_path": "",
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "client": self._client,
            "server": (url.host, port),
            "extensions": {ABORT_EXTENSION: abort},
        }
        delivered = False
        status: int | None = None
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def receive() -> MutableMapping[str, Any]:
            nonlocal delivered
            if delivered:
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: MutableMapping[str, Any]) -> None:
            nonlocal status, headers
            if reset:
                return
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))

        await self._app(scope, receive, send)
        if reset:
            raise httpx.ReadError("connection reset by peer (injected fault)", request=request)
        if status is None:
            raise httpx.RemoteProtocolError(
                "server disconnected without sending a response", request=request
            )
        return httpx.Response(status, headers=headers, content=b"".join(chunks), request=request)


def _read_timeout(request: httpx.Request) -> float | None:
    timeout = request.extensions.get("timeout") or {}
    value = timeout.get("read")
    return float(value) if value is not None else None


def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()

"""A process forked while a call is in flight starts with fresh state and its own sockets.

Real ``os.fork()`` against a real loopback server, for the sync client and both async
transports: the parent has an idle keep-alive connection in one client's pool and a slow call
in flight on another client of the same service (``max_in_flight=1``, so that call holds the
service's only bulkhead slot), while a third thread holds the registry lock. The child reports
by exit code only (it never returns into pytest); the parent counts connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlsplit

import pytest

from nilecare_clients import (
    AsyncBaseServiceClient,
    BaseServiceClient,
    ServiceConfig,
    ServiceUnreachableError,
    _state,
)
from scripted_server import Action, scripted_server

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")

# Child exit codes: what went wrong, for the parent's assertion message.
OK, CALL_FAILED, BULKHEAD_NOT_RESET, LOCK_STUCK, SOCKET_KEPT, CHILD_HUNG = 0, 1, 2, 3, 5, -1


def _wait_child(pid: int, timeout: float = 20.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return CHILD_HUNG


def _get(client: Any) -> Any:
    return client._request("GET", "/api/v1/patients", response_model=None, envelope_key=None)


class _Loop:
    """An event loop in a thread of the parent, as a pre-fork app's warm-up might leave."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def submit(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


SYNC_KINDS: dict[str, dict[str, Any]] = {"sync": {}, "urllib3": {"sync_transport": "urllib3"}}


@pytest.mark.parametrize("kind", ["sync", "urllib3", "httpx", "aiohttp"])
def test_child_forked_during_an_in_flight_call_has_fresh_state_and_own_sockets(kind: str) -> None:
    """The child's bulkhead is empty (max_in_flight=1, the parent's call in flight), the lock
    another thread held is free, and its call succeeds on a new connection: 3 connections in
    all (the parent's idle one, the parent's busy one, the child's), and the parent's idle
    connection still serves the parent afterwards."""
    with scripted_server() as server:
        server.script(Action(), Action(delay=2.0))  # the parent's first call, then the slow one
        extra: dict[str, Any] = SYNC_KINDS.get(kind, {"async_transport": kind})
        config = ServiceConfig(
            name="clinical",
            base_url=server.url,
            max_in_flight=1,
            pool_timeout=0.5,
            retry={"max_attempts": 1},
            **extra,
        )
        sync = kind in SYNC_KINDS
        cls: Callable[..., Any] = BaseServiceClient if sync else AsyncBaseServiceClient
        idle, busy = cls(config=config), cls(config=config)
        loop = None if sync else _Loop()
        slow: Any
        if loop is None:
            _get(idle)  # leaves an idle keep-alive connection in idle's pool
            slow = threading.Thread(target=_get, args=(busy,))
            slow.start()
        else:
            loop.submit(_get(idle)).result(timeout=5)
            slow = loop.submit(_get(busy))
        assert server.wait_for_requests(2)
        assert idle._core.bulkhead.in_flight == 1

        def hold_lock() -> None:
            with _state.lock:
                time.sleep(1)

        holder = threading.Thread(target=hold_lock)
        holder.start()  # the registry lock, held by another thread at fork time
        time.sleep(0.05)
        pid = os.fork()
        if pid == 0:  # the child
            code = CALL_FAILED
            try:
                if idle._core.bulkhead.in_flight != 0:
                    code = BULKHEAD_NOT_RESET
                elif sync:
                    _get(idle)
                    idle.close()
                    code = OK
                else:

                    async def in_child() -> None:
                        await _get(idle)
                        await idle.aclose()

                    asyncio.run(in_child())
                    code = OK
                if code == OK and not _state.lock.acquire(timeout=1):
                    code = LOCK_STUCK
            except BaseException:
                code = CALL_FAILED
            finally:
                os._exit(code)
        assert _wait_child(pid) == OK
        assert server.count() == 3 and server.connections == 3  # the child dialled its own
        if loop is None:
            slow.join()
            _get(idle)
            idle.close()
            busy.close()
        else:
            slow.result(timeout=5)
            loop.submit(_get(idle)).result(timeout=5)
            loop.submit(idle.aclose()).result(timeout=5)
            loop.submit(busy.aclose()).result(timeout=5)
            loop.stop()
        holder.join()
        assert server.count() == 4 and server.connections == 3  # the parent's idle one reused


def test_a_copy_adopts_the_transport_its_parent_rebuilt_after_fork() -> None:
    """A with_options copy and its parent share one pool in the child, as in the parent."""
    with scripted_server() as server:
        client = BaseServiceClient(config=ServiceConfig(name="clinical", base_url=server.url))
        copy = client.with_options(read_timeout=3.0)
        _get(client)
        pid = os.fork()
        if pid == 0:
            code = CALL_FAILED
            try:
                _get(copy)
                _get(client)
                code = OK if client._http is copy._http and client._http is not None else 4
            finally:
                os._exit(code)
        assert _wait_child(pid) == OK
        assert server.connections == 2  # the parent's, then one for the child's two calls
        client.close()


def _client_sockets(url: str) -> list[tuple[int, int]]:
    """(descriptor, inode) of this process's open sockets connected to the server at ``url``
    (not the server's own ends: the scripted server runs in this process too)."""
    import gc
    import socket

    port = urlsplit(url).port
    found = []
    for obj in gc.get_objects():
        if isinstance(obj, socket.socket) and obj.family == socket.AF_INET and obj.fileno() >= 0:
            with contextlib.suppress(OSError):
                if obj.getpeername()[1] == port:
                    found.append((obj.fileno(), os.fstat(obj.fileno()).st_ino))
    return found


@pytest.mark.parametrize("kind", list(SYNC_KINDS))
def test_child_releases_the_parents_sockets(kind: str) -> None:
    """In the child, the parent's idle keep-alive socket is closed (its descriptor no longer
    names that socket) once the client rebuilt its pool; urllib3 keeps it in a queue."""
    with scripted_server() as server:
        config = ServiceConfig(name="clinical", base_url=server.url, **SYNC_KINDS[kind])
        client = BaseServiceClient(config=config)
        _get(client)
        parents = _client_sockets(server.url)
        assert parents
        pid = os.fork()
        if pid == 0:
            code = CALL_FAILED
            try:
                _get(client)
                still_open = []
                for fd, ino in parents:
                    with contextlib.suppress(OSError):
                        if os.fstat(fd).st_ino == ino:
                            still_open.append(fd)
                code = OK if not still_open else SOCKET_KEPT
            finally:
                os._exit(code)
        assert _wait_child(pid) == OK
        _get(client)  # the parent's own connection still serves the parent
        client.close()


@pytest.mark.parametrize("kind", list(SYNC_KINDS))
def test_a_copy_used_first_in_the_child_leaves_the_parents_headers_alone(kind: str) -> None:
    """The rebuild after a fork uses the constructor's config, whichever object runs first:
    a copy with its own User-Agent does not become the parent's in the child."""
    with scripted_server() as server:
        server.script(*[Action() for _ in range(5)])
        config = ServiceConfig(name="clinical", base_url=server.url, **SYNC_KINDS[kind])
        client = BaseServiceClient(config=config)
        copy = client.with_options(user_agent="copy-agent/1")
        _get(client)
        _get(copy)
        pid = os.fork()
        if pid == 0:
            code = CALL_FAILED
            try:
                _get(copy)
                _get(client)
                _get(copy)
                code = OK
            finally:
                os._exit(code)
        assert _wait_child(pid) == OK
        agents = [seen.headers.get("user-agent") for seen in server.requests]
        assert agents[2:] == ["copy-agent/1", agents[0], "copy-agent/1"]
        assert agents[0] != "copy-agent/1"
        client.close()


def test_child_starts_with_a_closed_breaker_a_full_budget_and_its_own_ids() -> None:
    """The parent's open breaker, spent retry budget and spare correlation ids stay behind: the
    child's breaker is closed, and its correlation ids are none of the parent's spare ones."""
    from nilecare_clients._correlation import new_correlation_id
    from scripted_server import free_port

    config = ServiceConfig(
        name="clinical",
        base_url=f"http://127.0.0.1:{free_port()}",  # refused: every call fails
        retry={"max_attempts": 1},
        breaker={"consecutive_failures": 1},
    )
    client = BaseServiceClient(config=config)
    with pytest.raises(ServiceUnreachableError):
        _get(client)
    assert client.breaker_state == "open"
    new_correlation_id()  # draws a batch: the rest are spare
    spare = set(_state.correlation_ids)
    pid = os.fork()
    if pid == 0:
        code = CALL_FAILED
        try:
            fresh = client.breaker_state == "closed" and not _state.correlation_ids
            code = OK if fresh and new_correlation_id() not in spare else CALL_FAILED
        finally:
            os._exit(code)
    assert _wait_child(pid) == OK
    assert client.breaker_state == "open"  # the parent's own state is untouched
    client.close()

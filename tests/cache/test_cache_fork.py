"""The Facility cache in a forked child: the parent's in-flight loads and Redis tier stay behind.

Real ``os.fork()``, a real loopback Facility and a real ``redis-server``. The child reports by
exit code only (it never returns into pytest).
"""

from __future__ import annotations

import asyncio
import os
import select
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from client_payloads import FACILITY_ID, OTHER_FACILITY_ID, facility_ok, facility_row

from cache.redis_support import RedisServer
from nilecare_clients import (
    AsyncFacilityServiceClient,
    CachePolicy,
    FacilityServiceClient,
    ServiceConfig,
    deadline_scope,
)
from nilecare_clients._cache import all_caches
from scripted_server import Action, scripted_server

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()"),
    pytest.mark.slow,
]

OK, FAILED, WRONG_ORIGIN, NOT_CONNECTED, NO_DROP, HUNG = 0, 1, 2, 3, 4, -1


def _wait_child(pid: int, timeout: float = 30.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return HUNG


def _client(kind: str, url: str, policy: CachePolicy | None = None) -> Any:
    extra: dict[str, Any] = {} if kind == "sync" else {"async_transport": kind}
    config = ServiceConfig(name="facility", base_url=url, deadline=5, **extra)
    cls = FacilityServiceClient if kind == "sync" else AsyncFacilityServiceClient
    return cls(config=config, cache_policy=policy or CachePolicy(jitter=0))


def _get(client: Any, facility_id: str) -> Any:
    if isinstance(client, FacilityServiceClient):
        return client.get_facility(facility_id)
    return asyncio.run(client.get_facility(facility_id))


@pytest.mark.parametrize("kind", ["sync", "httpx", "aiohttp"])
def test_child_does_not_wait_for_a_load_led_in_the_parent(kind: str) -> None:
    """The parent leads a slow load of a facility when it forks; the child's lookup of the
    same facility loads it itself within its deadline (the leader's future would never
    resolve in the child)."""
    with scripted_server() as server:
        server.default = Action(body=facility_ok(facility_row()))
        server.script(Action(body=facility_ok(facility_row()), delay=3.0))
        client = _client(kind, server.url)
        loop = asyncio.new_event_loop()
        in_loop = threading.Thread(target=loop.run_forever, daemon=True)
        in_loop.start()
        if kind == "sync":
            leader: Any = threading.Thread(target=_get, args=(client, FACILITY_ID))
            leader.start()
        else:
            leader = asyncio.run_coroutine_threadsafe(client.get_facility(FACILITY_ID), loop)
        assert server.wait_for_requests(1)
        pid = os.fork()
        if pid == 0:
            code = FAILED
            try:
                with deadline_scope(2.0):
                    code = OK if _get(client, FACILITY_ID).facility_id == FACILITY_ID else FAILED
            finally:
                os._exit(code)
        assert _wait_child(pid) == OK
        if kind == "sync":
            leader.join()
            client.close()
        else:
            leader.result(timeout=10)
            asyncio.run_coroutine_threadsafe(client.aclose(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        in_loop.join(timeout=5)
        loop.close()
        assert server.count() == 2  # the parent's load and the child's own


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    yield server
    server.stop()


@pytest.mark.parametrize("kind", ["sync", "httpx"])
def test_child_has_its_own_redis_tier_and_hears_the_parents_drops(
    kind: str, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In the child, the tier has a new origin and its own listener: a drop the parent
    publishes reaches the child (with the parent's origin the child would ignore it as its
    own), and the child's lookups go through Redis and Facility on its own connections."""
    monkeypatch.setenv("NILECARE_SERVICE_NAME", "billing")
    redis_server.client.flushall()
    with scripted_server() as server:
        server.default = Action(body=facility_ok(facility_row()))
        client = _client(kind, server.url, CachePolicy(redis_url=redis_server.url, jitter=0))
        loop = asyncio.new_event_loop()  # the parent's (the child makes its own)
        if kind == "sync":
            client.get_facility(FACILITY_ID)
        else:
            loop.run_until_complete(client.get_facility(FACILITY_ID))
        tier = all_caches()["facility"]._tier
        assert tier is not None and tier.wait_connected(5)
        parent_origin = tier._origin
        ready_r, ready_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = FAILED
            try:
                os.close(ready_r)
                if tier._origin == parent_origin:
                    code = WRONG_ORIGIN
                elif not tier.wait_connected(5):
                    code = NOT_CONNECTED
                else:
                    os.write(ready_w, b"r")
                    until = time.monotonic() + 5
                    while tier.stats().drops_received < 1 and time.monotonic() < until:
                        time.sleep(0.01)
                    if tier.stats().drops_received < 1:
                        code = NO_DROP
                    else:
                        _get(client, OTHER_FACILITY_ID)  # Redis, then Facility: the child's sockets
                        code = OK
            finally:
                os._exit(code)
        os.close(ready_w)
        readable, _, _ = select.select([ready_r], [], [], 10)
        if readable and os.read(ready_r, 1) == b"r":
            client.invalidate(FACILITY_ID)  # published with the parent's origin
        os.close(ready_r)
        assert _wait_child(pid) == OK
        assert server.count() == 2  # the parent's first lookup, the child's lookup of another
        if kind == "sync":
            client.close()
        else:
            loop.run_until_complete(client.aclose())
        loop.close()

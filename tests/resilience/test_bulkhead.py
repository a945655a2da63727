"""The bulkhead: at most K requests in flight per service; the excess waits, then fails typed.

Concurrency is real here (threads for the sync client, tasks for the async one) against a
slow loopback server; the delays are a few hundred milliseconds at most.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from resilience_helpers import get, make_config

from nilecare_clients import BulkheadFullError, ServiceError, deadline_scope
from nilecare_clients._resilience.bulkhead import Bulkhead
from scripted_server import Action, scripted_server
from support import FakeClock


async def run_together(client_kind: str, n: int, make_call: Callable[[], Any]) -> list[Any]:
    """Start ``n`` calls at once (threads or tasks); each result is a value or its error."""
    if client_kind == "sync":

        def one() -> Any:
            try:
                return make_call()
            except ServiceError as exc:
                return exc

        with ThreadPoolExecutor(max_workers=n) as pool:
            return list(pool.map(lambda _: one(), range(n)))

    async def one_async() -> Any:
        try:
            result = make_call()
            assert isinstance(result, Awaitable)
            return await result
        except ServiceError as exc:
            return exc

    return list(await asyncio.gather(*(one_async() for _ in range(n))))


def sync_or_async_get(client: Any) -> Callable[[], Any]:
    return lambda: client._request("GET", "/api/v1/patients/p-1")


async def test_excess_calls_wait_then_fail_with_bulkhead_full(
    loopback: Any, clock: FakeClock, client_kind: str
) -> None:
    """With K=2 and a slow server, 2 calls reach it; 3 more wait pool_timeout, then fail."""
    with scripted_server() as server:
        server.default = Action(delay=0.4)
        config = make_config(clock, server.url, max_in_flight=2, pool_timeout=0.1)
        client = loopback(config)
        started = time.monotonic()
        results = await run_together(client_kind, 5, sync_or_async_get(client))
        full = [r for r in results if isinstance(r, BulkheadFullError)]
        assert len(full) == 3
        assert all(r.request_sent is False for r in full)
        assert server.count() == 2
        assert time.monotonic() - started >= 0.39
        assert client.breaker_state == "closed"  # a full bulkhead says nothing about the service


async def test_waiting_calls_go_through_as_slots_free(
    loopback: Any, clock: FakeClock, client_kind: str
) -> None:
    """With K=2 and room to wait, 4 calls all succeed in two waves, never more than 2 at once."""
    with scripted_server() as server:
        server.default = Action(delay=0.2)
        config = make_config(clock, server.url, max_in_flight=2, pool_timeout=2.0)
        client = loopback(config)
        started = time.monotonic()
        results = await run_together(client_kind, 4, sync_or_async_get(client))
        elapsed = time.monotonic() - started
        assert not [r for r in results if isinstance(r, Exception)]
        assert server.count() == 4
        assert elapsed >= 0.39  # two waves of 0.2 s: at most 2 were in flight at a time


async def test_bulkhead_wait_is_bounded_by_the_deadline(
    loopback: Any, clock: FakeClock, client_kind: str
) -> None:
    """A call waiting for a slot gives up when its deadline runs out, not after pool_timeout."""
    with scripted_server() as server:
        server.default = Action(delay=0.5)
        config = make_config(clock, server.url, max_in_flight=1, pool_timeout=5.0)
        client = loopback(config)

        def bounded() -> Any:
            with deadline_scope(0.1):
                return client._request("GET", "/api/v1/patients/p-1")

        async def bounded_async() -> Any:
            with deadline_scope(0.1):
                return await client._request("GET", "/api/v1/patients/p-1")

        started = time.monotonic()
        if client_kind == "sync":
            with ThreadPoolExecutor(max_workers=1) as pool:
                slow = pool.submit(client._request, "GET", "/slow")
                await asyncio.sleep(0.05)
                with pytest.raises(BulkheadFullError):
                    bounded()
                waited = time.monotonic() - started
                slow.result()
        else:
            slow_task = asyncio.ensure_future(client._request("GET", "/slow"))
            await asyncio.sleep(0.05)
            with pytest.raises(BulkheadFullError):
                await bounded_async()
            waited = time.monotonic() - started
            await slow_task
        assert waited < 0.5


async def test_slots_are_released_after_failures(make_client: Any, clock: FakeClock) -> None:
    """Failed and successful calls alike give their slot back."""
    from resilience_helpers import Handler

    handler = Handler(500, 404, 200, default=200)
    client = make_client(make_config(clock, max_in_flight=1, retry={"max_attempts": 1}), handler)
    for _ in range(3):
        with contextlib.suppress(ServiceError):
            await get(client)
    await get(client)
    assert handler.count == 4


def test_bulkhead_counts_and_releases() -> None:
    """try_acquire admits up to the limit; release frees a slot for a waiting thread."""
    bulkhead = Bulkhead(2)
    assert bulkhead.try_acquire() and bulkhead.try_acquire()
    assert not bulkhead.try_acquire()
    assert bulkhead.acquire(0.01) is False
    with ThreadPoolExecutor(max_workers=1) as pool:
        waiter = pool.submit(bulkhead.acquire, 2.0)
        time.sleep(0.02)
        bulkhead.release()
        assert waiter.result(timeout=2) is True
    assert bulkhead.in_flight == 2


async def test_async_waiter_gets_a_freed_slot() -> None:
    """acquire_async waits without blocking the loop and takes a slot as soon as one frees."""
    bulkhead = Bulkhead(1)
    assert bulkhead.try_acquire()
    waiter = asyncio.ensure_future(bulkhead.acquire_async(2.0))
    await asyncio.sleep(0.02)
    assert not waiter.done()
    bulkhead.release()
    assert await waiter is True
    assert await bulkhead.acquire_async(0.01) is False


async def test_cancelled_probe_gives_back_its_slots(clock: FakeClock) -> None:
    """Cancelling an async probe in flight frees its bulkhead slot and its probe slot."""
    from nilecare_clients import AsyncBaseServiceClient
    from nilecare_clients._resilience.breaker import ADMITTED, GONE, SERVICE_PROBE
    from nilecare_clients._resilience.registry import state_for

    with scripted_server() as server:
        server.default = Action(delay=1.0)
        config = make_config(
            clock, server.url, max_in_flight=1, retry={"max_attempts": 1}, pool_timeout=5.0
        )
        client = AsyncBaseServiceClient(config=config)
        state = state_for(config)
        for _ in range(15):  # consecutive transport failures: the service is gone
            state.breaker.record("/api/v1/patients/{id}", GONE, 0)
        clock.advance(30.0)  # the next call is the half-open probe
        tasks = [asyncio.ensure_future(get(client)) for _ in range(3)]
        await asyncio.sleep(0.1)
        assert state.bulkhead.in_flight == 1
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert state.bulkhead.in_flight == 0
        assert state.breaker.state == "half-open"
        # The probe slot is free again.
        assert state.breaker.admit("/api/v1/patients/{id}")[:2] == (ADMITTED, SERVICE_PROBE)
        await client.aclose()


async def test_concurrent_chaos_never_exceeds_the_limit_nor_leaks(
    make_client: Any, clock: FakeClock, client_kind: str
) -> None:
    """16 concurrent callers, K=4, random faults: never more than 4 in flight, nothing leaks."""
    import random
    import threading

    from nilecare_clients._resilience.registry import state_for

    lock = threading.Lock()
    rng = random.Random(2)
    in_flight = 0
    peak = 0

    def enter() -> int:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
            return 503 if rng.random() < 0.3 else 200

    def leave() -> None:
        nonlocal in_flight
        with lock:
            in_flight -= 1

    def answer(status: int) -> httpx.Response:
        return httpx.Response(status, json={"success": True, "data": {"id": "p-1"}})

    config = make_config(
        clock,
        max_in_flight=4,
        pool_timeout=5.0,
        breaker={"consecutive_failures": 1000, "minimum_calls": 1000, "window_size": 1000},
    )
    if client_kind == "sync":

        def handler(request: httpx.Request) -> httpx.Response:
            status = enter()
            time.sleep(0.002)
            leave()
            return answer(status)

        client = make_client(config, handler)
    else:

        async def async_handler(request: httpx.Request) -> httpx.Response:
            status = enter()
            await asyncio.sleep(0.002)
            leave()
            return answer(status)

        client = make_client(config, transport=httpx.MockTransport(async_handler))

    def one_caller() -> Any:
        return client._request("GET", "/api/v1/patients/p-1")

    for _ in range(10):
        await run_together(client_kind, 16, one_caller)
    state = state_for(config)
    assert peak == 4
    assert state.bulkhead.in_flight == 0
    assert state.breaker._service.probes == 0

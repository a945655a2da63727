"""Correlation ids live in a ContextVar: per call, per task, per thread (with copied context)."""

from __future__ import annotations

import asyncio
import contextvars
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from nilecare_clients import (
    AsyncBaseServiceClient,
    InvalidRequestError,
    ServiceConfig,
    correlation_scope,
    get_correlation_id,
)
from support import call


def recording_handler(seen: list[tuple[str, str]]) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.headers["x-correlation-id"], request.headers["x-request-id"]))
        return httpx.Response(200, json={"success": True, "data": None})

    return handler


async def test_bound_id_is_sent_on_both_headers(make_client: Any, config: ServiceConfig) -> None:
    """Inside correlation_scope every call carries the bound id in both headers."""
    seen: list[tuple[str, str]] = []
    client = make_client(config, recording_handler(seen))
    with correlation_scope("billing-run-1") as cid:
        assert cid == get_correlation_id() == "billing-run-1"
        await call(client._request("GET", "/a"))
        await call(client._request("GET", "/b"))
    assert seen == [("billing-run-1", "billing-run-1")] * 2
    assert get_correlation_id() is None


async def test_new_id_per_call_when_unbound(make_client: Any, config: ServiceConfig) -> None:
    """Without a scope each call generates its own UUID4."""
    seen: list[tuple[str, str]] = []
    client = make_client(config, recording_handler(seen))
    await call(client._request("GET", "/a"))
    await call(client._request("GET", "/a"))
    assert seen[0][0] != seen[1][0]
    assert all(a == b and len(a) == 36 and a[14] == "4" for a, b in seen)


def test_scope_generates_and_restores() -> None:
    """A scope without an id generates one; nested scopes restore the outer id on exit."""
    with correlation_scope() as outer:
        assert len(outer) == 36
        with correlation_scope("inner"):
            assert get_correlation_id() == "inner"
        assert get_correlation_id() == outer
    assert get_correlation_id() is None


def test_scope_rejects_invalid_ids() -> None:
    """An id with characters unsafe for headers or logs is refused."""
    for bad in ("a b", "x" * 129, "a\r\nb", ""):
        with pytest.raises(InvalidRequestError), correlation_scope(bad):
            pass


async def test_id_follows_tasks_and_gather(config: ServiceConfig) -> None:
    """Concurrent tasks keep their own ids, and gather/create_task inherit the caller's."""
    seen: list[tuple[str, str]] = []
    client = AsyncBaseServiceClient(
        config=config, transport=httpx.MockTransport(recording_handler(seen))
    )

    async def one(cid: str) -> None:
        with correlation_scope(cid):
            await asyncio.sleep(0)
            await asyncio.gather(
                client._request("GET", "/x"), asyncio.create_task(client._request("GET", "/y"))
            )

    await asyncio.gather(*(one(f"task-{i}") for i in range(10)))
    counts: dict[str, int] = {}
    for cid, rid in seen:
        assert cid == rid
        counts[cid] = counts.get(cid, 0) + 1
    assert counts == {f"task-{i}": 2 for i in range(10)}
    await client.aclose()


def test_id_follows_into_thread_pool_with_copied_context() -> None:
    """A thread pool sees the id when the caller submits through copy_context()."""
    with correlation_scope("thread-ctx"), ThreadPoolExecutor(2) as pool:
        ctx = contextvars.copy_context()
        assert pool.submit(ctx.run, get_correlation_id).result() == "thread-ctx"
        # Without copying, a worker thread has no id: context does not leak across threads.
        assert pool.submit(get_correlation_id).result() is None

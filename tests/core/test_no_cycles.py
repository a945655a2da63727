"""A failed call leaves no reference cycle of ours for the garbage collector.

A frame kept in an exception's traceback that still names that exception is a cycle: it is
freed only by a collection, and collections then land on calls (a refusal by an open circuit
went from ~40 µs to ~280 µs at p99 that way; issue 22). These tests fail on any
``ServiceError`` or frame of this package that only the cycle collector can free. httpx's own
request and response objects form cycles of their own, which are not ours to fix: only our
objects are counted.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from nilecare_clients import (
    AsyncClinicalServiceClient,
    BreakerPolicy,
    CircuitOpenError,
    ClinicalServiceClient,
    NotFoundError,
    ServerError,
    ServiceConfig,
    ServiceError,
)
from support import FakeClock, call, retry_policy

PATIENT_ID = "3f2b8c1e-4a5d-4e6f-8a9b-0c1d2e3f4a5b"
PACKAGE = "nilecare_clients"


def _ours(obj: object) -> bool:
    if isinstance(obj, ServiceError):
        return True
    code = getattr(obj, "f_code", None)
    return code is not None and PACKAGE in code.co_filename


@pytest.fixture
def leaked() -> Iterator[Callable[[], list[str]]]:
    """Collects everything unreachable made in between and names what is ours."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)

    def ours() -> list[str]:
        gc.collect()
        found = [
            type(o).__name__ if isinstance(o, ServiceError) else o.f_code.co_name
            for o in gc.garbage
            if _ours(o)
        ]
        gc.garbage.clear()
        return found

    try:
        yield ours
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def _client(client_kind: str, handler: Callable[[httpx.Request], httpx.Response]) -> Any:
    clock = FakeClock()
    config = ServiceConfig(
        name="clinical",
        base_url="http://clinical.test",
        retry=retry_policy(clock, max_attempts=2),
        breaker=BreakerPolicy(consecutive_failures=3),
    )
    cls = ClinicalServiceClient if client_kind == "sync" else AsyncClinicalServiceClient
    return cls(config=config, transport=httpx.MockTransport(handler))


def _answer(status: int) -> Callable[[httpx.Request], httpx.Response]:
    body = {"success": False, "error": {"code": "X", "message": "no"}}
    return lambda request: httpx.Response(status, json=body)


def _refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("refused")


async def _fails(client: Any, expected: type[ServiceError], times: int = 20) -> None:
    for _ in range(times):
        with pytest.raises(expected):
            await call(client.get_patient(PATIENT_ID))


async def test_a_refusal_by_an_open_circuit_leaves_no_cycle(
    client_kind: str, leaked: Callable[[], list[str]]
) -> None:
    client = _client(client_kind, _refused)
    await _fails(client, ServiceError, times=3)  # the service's circuit opens
    leaked()  # what opening it left is not the question
    await _fails(client, CircuitOpenError)
    assert leaked() == []


@pytest.mark.parametrize(("status", "expected"), [(404, NotFoundError), (500, ServerError)])
async def test_an_error_answer_and_its_retries_leave_no_cycle(
    client_kind: str, leaked: Callable[[], list[str]], status: int, expected: type[ServiceError]
) -> None:
    client = _client(client_kind, _answer(status))
    await _fails(client, expected, times=5)
    assert leaked() == []


def test_the_check_sees_a_cycle(leaked: Callable[[], list[str]]) -> None:
    """The fixture itself: an error named by its own raising frame is reported."""

    def keeps_itself() -> None:
        error = ServerError(service="s", method="GET", path_template="/x")
        raise error

    with contextlib.suppress(ServerError):
        keeps_itself()
    assert "ServerError" in leaked()

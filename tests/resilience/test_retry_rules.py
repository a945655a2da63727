"""Which failures are retried, how long the client waits, and what each retry carries.

An in-memory handler stands for the service and a fake clock for time: nothing sleeps.
"""

from __future__ import annotations

import itertools
import time
from email.utils import formatdate
from typing import Any

import httpx
import pytest
from resilience_helpers import Handler, Outcome, get, make_config, send, transport_error

from nilecare_clients import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    ServiceError,
    ServiceTimeoutError,
    ServiceUnavailableError,
    ServiceUnreachableError,
    correlation_scope,
)
from support import FakeClock

REFUSED = "refused"
POOL = "pool"
READ_TIMEOUT = "read_timeout"
RESET = "reset"


def failure(kind: str | int) -> Outcome:
    if kind == REFUSED:
        return transport_error(httpx.ConnectError)
    if kind == POOL:
        return transport_error(httpx.PoolTimeout)
    if kind == READ_TIMEOUT:
        return transport_error(httpx.ReadTimeout)
    if kind == RESET:
        return transport_error(httpx.RemoteProtocolError)
    assert isinstance(kind, int)
    return kind


# Attempts made when every attempt fails the same way (max_attempts=3). A write that cannot be
# repeated safely is retried only when the failure proves it was not processed (issue 11).
RETRIED = 3
ONCE = 1
MATRIX: list[tuple[str | int, int, int]] = [
    # failure, GET / keyed write honoured, write without a key / key not honoured
    (REFUSED, RETRIED, RETRIED),
    (POOL, RETRIED, RETRIED),
    (READ_TIMEOUT, RETRIED, ONCE),
    (RESET, RETRIED, ONCE),
    (500, RETRIED, ONCE),
    (502, RETRIED, ONCE),
    (503, RETRIED, RETRIED),
    (504, RETRIED, ONCE),
    (429, RETRIED, RETRIED),
    (400, ONCE, ONCE),
    (403, ONCE, ONCE),
    (404, ONCE, ONCE),
    (409, ONCE, ONCE),
    (422, ONCE, ONCE),
    (501, ONCE, ONCE),
]


@pytest.mark.parametrize(("kind", "safe_attempts", "unsafe_attempts"), MATRIX)
@pytest.mark.parametrize(
    ("method", "key", "honoured", "safe"),
    [
        ("GET", None, False, True),
        ("DELETE", None, False, True),
        ("PUT", None, False, True),
        ("POST", None, False, False),
        ("POST", None, True, False),
        ("PATCH", None, False, False),
        ("POST", "key-1", False, False),
        ("POST", "key-1", True, True),
        ("PATCH", "key-1", True, True),
    ],
)
async def test_retry_matrix(
    make_client: Any,
    clock: FakeClock,
    kind: str | int,
    safe_attempts: int,
    unsafe_attempts: int,
    method: str,
    key: str | None,
    honoured: bool,
    safe: bool,
) -> None:
    """Each failure is retried up to 3 attempts only when the rules allow it for that call."""
    handler = Handler(default=failure(kind))
    client = make_client(make_config(clock, idempotency_keys_honoured=honoured), handler)
    with pytest.raises(ServiceError) as info:
        await send(client, method, key)
    expected = safe_attempts if safe else unsafe_attempts
    assert handler.count == expected
    write = method in ("POST", "PATCH")
    maybe_applied = write and not safe and kind in (READ_TIMEOUT, RESET, 500, 502, 504)
    assert isinstance(info.value, OutcomeUnknownError) is maybe_applied
    if maybe_applied:
        assert isinstance(info.value, OutcomeUnknownError)
        assert info.value.idempotency_key == key
        assert "may have been applied" in str(info.value)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, BadRequestError),
    ],
)
async def test_other_4xx_are_never_retried(
    make_client: Any, clock: FakeClock, status: int, cls: type[ServiceError]
) -> None:
    """A 4xx other than 401 (with a token provider) and 429 fails at once with its typed error."""
    handler = Handler(default=status)
    client = make_client(make_config(clock), handler)
    with pytest.raises(cls):
        await get(client)
    assert handler.count == 1
    assert clock.sleeps == []


async def test_default_is_three_attempts_then_the_last_error(
    make_client: Any, clock: FakeClock
) -> None:
    """By default a call makes 3 attempts in total and raises the last attempt's error."""
    handler = Handler(503, 502, 504)
    client = make_client(make_config(clock), handler)
    with pytest.raises(ServerError) as info:
        await get(client)
    assert handler.count == 3
    assert info.value.status_code == 504


async def test_a_retry_that_succeeds_returns_the_value(make_client: Any, clock: FakeClock) -> None:
    """Two failures then a success return the success, after two backoff sleeps."""
    handler = Handler(503, transport_error(httpx.ReadTimeout), 200)
    client = make_client(make_config(clock), handler)
    assert (await get(client)).id == "p-1"
    assert handler.count == 3
    assert len(clock.sleeps) == 2


async def test_backoff_is_full_jitter_exponential_and_capped(
    make_client: Any, clock: FakeClock
) -> None:
    """Sleep n is jitter_n * min(cap, base * 2**(n-1)), jitter_n being the injected draw."""
    jitters = itertools.cycle([0.25, 0.5, 0.75, 1.0, 0.1])
    retry = {
        "max_attempts": 6,
        "backoff_base": 1.0,
        "backoff_cap": 3.0,
        "jitter": lambda: next(jitters),
    }
    handler = Handler(default=503)
    config = make_config(clock, deadline=60.0, retry=retry, breaker={"enabled": False})
    client = make_client(config, handler)
    with pytest.raises(ServiceUnavailableError):
        await get(client)
    assert handler.count == 6
    assert clock.sleeps == pytest.approx([0.25 * 1, 0.5 * 2, 0.75 * 3, 1.0 * 3, 0.1 * 3])


async def test_retry_attempt_header_only_on_retries(make_client: Any, clock: FakeClock) -> None:
    """The first attempt has no X-Retry-Attempt; retry n carries ``X-Retry-Attempt: n``."""
    handler = Handler(503, 503, 200)
    client = make_client(make_config(clock), handler)
    await get(client)
    assert [r.headers.get("X-Retry-Attempt") for r in handler.requests] == [None, "1", "2"]


async def test_every_attempt_carries_the_same_ids(make_client: Any, clock: FakeClock) -> None:
    """Correlation id, request id and Idempotency-Key are made once and reused on every attempt."""
    handler = Handler(503, 503, 201)
    client = make_client(make_config(clock), handler)
    with correlation_scope("corr-42"):
        await send(client, "POST", "idem-7")
    assert handler.count == 3
    for request in handler.requests:
        assert request.headers["X-Correlation-ID"] == "corr-42"
        assert request.headers["X-Request-ID"] == "corr-42"
        assert request.headers["Idempotency-Key"] == "idem-7"
        assert request.content == b'{"firstName":"Amna"}'


async def test_generated_correlation_id_is_reused_on_retries(
    make_client: Any, clock: FakeClock
) -> None:
    """Without a bound correlation id, one is generated per call and kept across its retries."""
    handler = Handler(503, 200, 503, 200)
    client = make_client(make_config(clock), handler)
    await get(client)
    await get(client)
    ids = [r.headers["X-Correlation-ID"] for r in handler.requests]
    assert ids[0] == ids[1]
    assert ids[2] == ids[3]
    assert ids[0] != ids[2]


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_delta_seconds_is_honoured(
    make_client: Any, clock: FakeClock, status: int
) -> None:
    """A Retry-After in seconds on 429/503 replaces the backoff delay."""
    handler = Handler(httpx.Response(status, headers={"Retry-After": "3"}), 200)
    client = make_client(make_config(clock), handler)
    await get(client)
    assert clock.sleeps == [3.0]


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_http_date_is_honoured(
    make_client: Any, clock: FakeClock, status: int
) -> None:
    """A Retry-After HTTP-date on 429/503 waits until that date (second resolution)."""
    when = formatdate(time.time() + 4, usegmt=True)
    handler = Handler(httpx.Response(status, headers={"Retry-After": when}), 200)
    client = make_client(make_config(clock), handler)
    await get(client)
    assert len(clock.sleeps) == 1
    assert 2.5 <= clock.sleeps[0] <= 4.0


async def test_retry_after_is_ignored_on_other_statuses(make_client: Any, clock: FakeClock) -> None:
    """A Retry-After on a 502 is not read: the backoff applies."""
    handler = Handler(httpx.Response(502, headers={"Retry-After": "7"}), 200)
    client = make_client(make_config(clock), handler)
    await get(client)
    assert clock.sleeps == [pytest.approx(0.05)]


@pytest.mark.parametrize(
    ("status", "cls", "retry_after", "changes"),
    [
        (429, RateLimitedError, "30", {}),  # above max_retry_after (10 s)
        (503, ServiceUnavailableError, "30", {}),
        (429, RateLimitedError, "5", {"deadline": 4.0}),  # above the time left
        (503, ServiceUnavailableError, "5", {"deadline": 4.0}),
    ],
)
async def test_retry_after_too_long_fails_at_once(
    make_client: Any,
    clock: FakeClock,
    status: int,
    cls: type[ServiceError],
    retry_after: str,
    changes: dict[str, Any],
) -> None:
    """A Retry-After beyond max_retry_after or the deadline raises at once, carrying it."""
    handler = Handler(httpx.Response(status, headers={"Retry-After": retry_after}), 200)
    client = make_client(make_config(clock, **changes), handler)
    with pytest.raises(cls) as info:
        await get(client)
    assert info.value.retry_after == float(retry_after)
    assert handler.count == 1
    assert clock.sleeps == []


async def test_401_asks_the_token_provider_again_and_retries_once(
    make_client: Any, clock: FakeClock
) -> None:
    """A 401 calls the token provider again and repeats the call once with the new token."""
    tokens = (f"token-{n}" for n in itertools.count(1))
    handler = Handler(401, 200)
    config = make_config(clock, token_provider=lambda: next(tokens))
    client = make_client(config, handler)
    assert (await get(client)).id == "p-1"
    assert [r.headers["Authorization"] for r in handler.requests] == [
        "Bearer token-1",
        "Bearer token-2",
    ]


async def test_401_twice_raises_authentication_error(make_client: Any, clock: FakeClock) -> None:
    """A second 401 after the token refresh raises AuthenticationError: one refresh only."""
    handler = Handler(default=401)
    client = make_client(make_config(clock, token_provider=lambda: "t"), handler)
    with pytest.raises(AuthenticationError):
        await get(client)
    assert handler.count == 2


async def test_401_without_token_provider_is_not_retried(
    make_client: Any, clock: FakeClock
) -> None:
    """Without a token provider nothing could change, so a 401 fails at once."""
    handler = Handler(default=401)
    client = make_client(make_config(clock), handler)
    with pytest.raises(AuthenticationError):
        await get(client)
    assert handler.count == 1


async def test_a_write_refused_by_auth_is_retried_after_refresh(
    make_client: Any, clock: FakeClock
) -> None:
    """A POST without a key answered 401 was not processed, so the refreshed retry is safe."""
    handler = Handler(401, 201)
    client = make_client(make_config(clock, token_provider=lambda: "t"), handler)
    assert (await send(client, "POST")).id == "p-1"
    assert handler.count == 2


@pytest.mark.parametrize(
    ("kind", "cls"),
    [
        (REFUSED, ServiceUnreachableError),
        (READ_TIMEOUT, ServiceTimeoutError),
        (RESET, ServiceUnavailableError),
    ],
)
async def test_transport_failures_map_to_typed_errors(
    make_client: Any, clock: FakeClock, kind: str, cls: type[ServiceError]
) -> None:
    """After the last attempt a GET raises the typed error of the transport failure."""
    handler = Handler(default=failure(kind))
    client = make_client(make_config(clock), handler)
    with pytest.raises(cls):
        await get(client)

"""The pure retry decisions, on plain values: no client, no HTTP, no clock of their own."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from email.utils import formatdate
from typing import Any

import pytest

from nilecare_clients import (
    AuthenticationError,
    BulkheadFullError,
    CircuitOpenError,
    RateLimitedError,
    ServerError,
    ServiceError,
    ServiceTimeoutError,
    ServiceUnavailableError,
    ServiceUnreachableError,
)
from nilecare_clients._decisions import (
    backoff_delay,
    decide_retry,
    is_final,
    parse_retry_after,
    proves_not_processed,
)

WHERE: dict[str, Any] = {
    "service": "clinical",
    "method": "POST",
    "path_template": "/p",
    "correlation_id": "c",
}


def error(cls: type[ServiceError] = ServiceUnavailableError, **kwargs: Any) -> ServiceError:
    return cls(**WHERE, **kwargs)


def decide(err: ServiceError, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "retries_done": 0,
        "max_attempts": 3,
        "repeatable": True,
        "now": 100.0,
        "deadline": 110.0,
        "backoff_base": 0.1,
        "backoff_cap": 2.0,
        "max_retry_after": 10.0,
        "jitter": 0.5,
    }
    values.update(overrides)
    return decide_retry(err, **values)


@pytest.fixture
def tokyo_time() -> Iterator[None]:
    """Run in a time zone far from UTC, so a local-time reading of a date shows."""
    old = time.tzname
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Tokyo"
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = saved
        time.tzset()
        assert time.tzname == old


def test_backoff_full_jitter_values() -> None:
    """Full jitter: jitter times min(cap, base * 2**(n-1))."""
    assert backoff_delay(1, 0.1, 2.0, 0.5) == pytest.approx(0.05)
    assert backoff_delay(3, 0.1, 2.0, 1.0) == pytest.approx(0.4)
    assert backoff_delay(8, 0.1, 2.0, 0.25) == pytest.approx(0.5)
    assert backoff_delay(2, 0.1, 2.0, 0.0) == 0.0


def test_retry_after_forms() -> None:
    """Delta-seconds, fractional seconds and HTTP-dates parse; junk and negatives do not."""
    now = 1_700_000_000.0
    assert parse_retry_after("3", now) == 3.0
    assert parse_retry_after(" 1.5 ", now) == 1.5
    assert parse_retry_after("-1", now) is None
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(formatdate(now + 5, usegmt=True), now) == pytest.approx(5.0)
    assert parse_retry_after(formatdate(now - 5, usegmt=True), now) == 0.0


def test_retry_after_minus_zero_date_is_utc(tokyo_time: None) -> None:
    """A '-0000' HTTP-date is read as UTC, not as the host's local time."""
    now = 1_700_000_000.0
    date = formatdate(now + 5, usegmt=True).replace("GMT", "-0000")
    assert parse_retry_after(date, now) == pytest.approx(5.0)


def test_attempts_are_counted_in_total() -> None:
    """With 3 attempts, a retry follows the first and second failure, never the third."""
    assert decide(error(), retries_done=0).retry
    assert decide(error(), retries_done=1).retry
    assert decide(error(), retries_done=2).reason == "attempts_exhausted"


def test_unrepeatable_calls_retry_only_what_proves_nothing_was_done() -> None:
    """A write that cannot be repeated retries refused connections, 429 and 503 only."""
    assert decide(error(ServiceUnreachableError, request_sent=False), repeatable=False).retry
    assert decide(error(status_code=503), repeatable=False).retry
    assert decide(error(RateLimitedError, status_code=429), repeatable=False).retry
    assert not decide(error(ServiceTimeoutError), repeatable=False).retry
    assert not decide(error(ServerError, status_code=500), repeatable=False).retry
    assert not decide(error(ServerError, status_code=502), repeatable=False).retry


def test_501_proves_not_processed_but_is_not_retried() -> None:
    """A 501 says the service did nothing (no OutcomeUnknown), and retrying will not help."""
    not_implemented = error(ServerError, status_code=501)
    assert proves_not_processed(not_implemented)
    assert not decide(not_implemented).retry
    assert not proves_not_processed(error(ServerError, status_code=500))


def test_final_errors_are_never_retried() -> None:
    """An open breaker or a full bulkhead is final: retrying only adds load."""
    for cls in (CircuitOpenError, BulkheadFullError):
        err = error(cls, request_sent=False)
        assert is_final(err)
        assert decide(err).reason == "not_retryable"
    assert not is_final(error())
    assert not decide(error(AuthenticationError, status_code=401)).retry


def test_retry_after_rules() -> None:
    """Retry-After replaces backoff, fails at once beyond the cap or the deadline."""
    assert decide(error(status_code=503, retry_after=2.0)).delay == 2.0
    assert decide(error(status_code=503, retry_after=11.0)).reason == "retry_after_too_long"
    assert decide(error(status_code=503, retry_after=10.0), deadline=105.0).reason == (
        "retry_after_too_long"
    )


def test_no_backoff_means_no_sleep_even_with_retry_after() -> None:
    """In test mode (backoff off) a Retry-After is obeyed as a retry but not slept."""
    decision = decide(error(status_code=503, retry_after=2.0), backoff=False)
    assert decision.retry and decision.delay == 0.0
    assert decide(error(status_code=503, retry_after=30.0), backoff=False).reason == (
        "retry_after_too_long"
    )


def test_backoff_longer_than_the_time_left_stops() -> None:
    """A backoff that would end after the deadline is not started."""
    assert decide(error(), jitter=1.0, deadline=100.05).reason == "deadline"

"""Pure decision functions, tested with no HTTP at all."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any

import pytest

from nilecare_clients import (
    BadRequestError,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    ServiceError,
    ServiceUnavailableError,
)
from nilecare_clients._decisions import (
    backoff_delay,
    build_path,
    error_from_response,
    is_repeatable,
    parse_error_body,
    parse_retry_after,
)
from nilecare_clients._errors import error_class_for_status


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "3f9a1c2e-8b7d-4e6f-9a0b-1c2d3e4f5a6b",
            "/api/v1/patients/3f9a1c2e-8b7d-4e6f-9a0b-1c2d3e4f5a6b",
        ),
        ("MED-1700000000000", "/api/v1/patients/MED-1700000000000"),
        ("a b", "/api/v1/patients/a%20b"),
        ("amna+osman", "/api/v1/patients/amna%2Bosman"),
        ("é", "/api/v1/patients/%C3%A9"),
    ],
)
def test_build_path_encodes_safe_ids(value: str, expected: str) -> None:
    """Ordinary ids pass through and anything else is percent-encoded into one segment."""
    assert build_path("/api/v1/patients/{id}", {"id": value}) == expected


@pytest.mark.parametrize(
    "value",
    [
        "../admin",
        "..",
        ".",
        "a/b",
        "x?y",
        "x#y",
        "a\r\nX-Evil: 1",
        "a\nb",
        "nul\x00",
        "",
        "a\\b",
        "%2e%2e",
    ],
)
def test_build_path_rejects_ids_that_change_the_request(value: str) -> None:
    """Ids that could escape the path segment or split the request raise before any I/O."""
    with pytest.raises(InvalidRequestError) as info:
        build_path("/api/v1/patients/{id}", {"id": value})
    if len(value) > 2:  # the rejected value is never echoed
        assert value not in str(info.value)


def test_build_path_rejects_missing_and_non_string_params() -> None:
    """A missing parameter or a non-id value (a dict, a bool) is a caller bug, reported clearly."""
    with pytest.raises(InvalidRequestError, match="missing path parameter"):
        build_path("/api/v1/patients/{id}", {})
    with pytest.raises(InvalidRequestError):
        build_path("/api/v1/patients/{id}", {"id": {"x": 1}})
    with pytest.raises(InvalidRequestError):
        build_path("/api/v1/patients/{id}", {"id": True})


def test_backoff_is_exponential_with_full_jitter_and_capped() -> None:
    """Delay = jitter * min(cap, base * 2**(n-1))."""
    assert backoff_delay(1, 0.1, 2.0, 0.5) == pytest.approx(0.05)
    assert backoff_delay(3, 0.1, 2.0, 1.0) == pytest.approx(0.4)
    assert backoff_delay(10, 0.1, 2.0, 1.0) == pytest.approx(2.0)
    assert backoff_delay(2, 0.1, 2.0, 0.0) == 0.0


def test_parse_retry_after_seconds_and_http_date() -> None:
    """Retry-After is read as delta-seconds or as an HTTP-date relative to now."""
    now = 1_700_000_000.0
    assert parse_retry_after("7", now) == 7.0
    assert parse_retry_after("1.5", now) == 1.5
    date = format_datetime(datetime.fromtimestamp(now + 30, tz=timezone.utc), usegmt=True)
    assert parse_retry_after(date, now) == pytest.approx(30, abs=1)
    assert parse_retry_after("not a date", now) is None
    assert parse_retry_after(None, now) is None
    assert parse_retry_after("-3", now) is None


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (422, BadRequestError),
        (404, NotFoundError),
        (429, RateLimitedError),
        (500, ServerError),
        (502, ServerError),
        (503, ServiceUnavailableError),
        (418, ServiceError),
    ],
)
def test_error_class_comes_from_status(status: int, cls: type[ServiceError]) -> None:
    """The exception class is chosen by HTTP status alone (contract I10)."""
    assert error_class_for_status(status) is cls


def test_parse_error_body_reads_every_shape() -> None:
    """Canonical, Facility (numeric code), string error and HTML bodies all parse without raising."""
    canonical = json.dumps(
        {
            "success": False,
            "error": {
                "code": "VALIDATION_ERROR",
                "message": "Validation failed",
                "details": {"fields": {"phoneNumber": ["must be a phone number"]}},
            },
        }
    ).encode()
    assert parse_error_body(canonical) == (
        "VALIDATION_ERROR",
        {"phoneNumber": ["must be a phone number"]},
    )
    facility = b'{"success": false, "error": {"message": "nope", "code": 404}}'
    assert parse_error_body(facility) == (None, {})
    assert parse_error_body(b'{"success": false, "error": "blocked"}') == (None, {})
    assert parse_error_body(b"<html><body>502 Bad Gateway</body></html>") == (None, {})
    assert parse_error_body(b"") == (None, {})


def test_error_from_response_keeps_body_out_of_the_message() -> None:
    """The error carries the body for opt-in readers but never prints it."""
    body = (
        b'{"success":false,"error":{"code":"NOT_FOUND","message":"Patient Amna Osman not found"}}'
    )
    err = error_from_response(
        status_code=404,
        headers={},
        content=body,
        service="clinical",
        method="GET",
        path_template="/api/v1/patients/{id}",
        correlation_id="c-1",
        now_epoch=0,
    )
    assert isinstance(err, NotFoundError)
    assert err.error_code == "NOT_FOUND"
    assert err.body == body
    assert "Amna" not in str(err) and "Amna" not in repr(err)
    assert "clinical" in str(err) and "/api/v1/patients/{id}" in str(err) and "c-1" in str(err)


def test_retry_after_read_only_for_429_and_503() -> None:
    """Retry-After is honoured on 429/503 and ignored on other statuses."""
    kwargs: dict[str, Any] = dict(
        content=b"", service="s", method="GET", path_template="/x", correlation_id=None, now_epoch=0
    )
    assert (
        error_from_response(status_code=429, headers={"retry-after": "3"}, **kwargs).retry_after
        == 3
    )
    assert (
        error_from_response(status_code=503, headers={"retry-after": "4"}, **kwargs).retry_after
        == 4
    )
    assert (
        error_from_response(status_code=500, headers={"retry-after": "4"}, **kwargs).retry_after
        is None
    )


def test_repeatable_methods() -> None:
    """GET/PUT/DELETE repeat; POST/PATCH only with a key the service honours."""
    assert is_repeatable("GET", False, False)
    assert is_repeatable("PUT", False, False)
    assert not is_repeatable("POST", False, True)
    assert not is_repeatable("POST", True, False)
    assert is_repeatable("POST", True, True)
    assert not is_repeatable("PATCH", False, False)

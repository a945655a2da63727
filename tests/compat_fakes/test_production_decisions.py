"""The pure rules behind the production behaviours, without HTTP."""

from __future__ import annotations

import pytest

from nilecare_clients._decisions import answer_may_echo_earlier_write, is_breaker_failure


@pytest.mark.parametrize("status", [400, 404, 409, 422])
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_a_refusal_after_a_maybe_applied_attempt_may_echo_it(method: str, status: int) -> None:
    """A write's 400/404/409/422 after an attempt that may have been applied is ambiguous."""
    assert answer_may_echo_earlier_write(method, status, True)
    assert not answer_may_echo_earlier_write(method, status, False)


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_reads_never_echo_a_write(method: str) -> None:
    """A read's 404 after a 500 is a plain NotFoundError."""
    assert not answer_may_echo_earlier_write(method, 404, True)


@pytest.mark.parametrize("status", [None, 401, 403, 429, 500, 503])
def test_other_answers_are_not_echoes(status: int | None) -> None:
    """Auth refusals, throttling and server errors say nothing about an earlier attempt."""
    assert not answer_may_echo_earlier_write("DELETE", status, True)


@pytest.mark.parametrize(
    ("status", "transport_failure", "counts"),
    [
        (500, False, True),
        (501, False, False),
        (502, False, True),
        (503, False, True),
        (403, False, False),
        (404, False, False),
        (None, True, True),
    ],
)
def test_breaker_failures(status: int | None, transport_failure: bool, counts: bool) -> None:
    """5xx except 501 and transport failures count against the breaker; 4xx never do."""
    assert is_breaker_failure(status, transport_failure) is counts

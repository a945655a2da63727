"""Pure decisions on plain values: paths, retry safety, backoff, Retry-After, error mapping.

Nothing here does I/O or reads a clock of its own, so each rule is unit-tested without HTTP
and the sync and async clients cannot drift apart: they both call these functions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache
from urllib.parse import quote
from uuid import UUID

from nilecare_clients._errors import (
    AuthenticationError,
    InvalidRequestError,
    RejectedLocallyError,
    ServiceError,
    error_class_for_status,
)

__all__ = [
    "IDEMPOTENT_METHODS",
    "OVERLOAD_STATUSES",
    "RetryDecision",
    "answer_may_echo_earlier_write",
    "backoff_delay",
    "build_path",
    "decide_retry",
    "error_from_response",
    "failed_envelope_status",
    "is_final",
    "parse_error_body",
    "parse_retry_after",
]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})

# Characters that would change the request's path or split the request itself.
_FORBIDDEN_IN_SEGMENT = re.compile(r"[/\\?#%\x00-\x1f\x7f]")
_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9._~-]+")
_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@lru_cache(maxsize=512)
def _template_fields(template: str) -> tuple[str, ...]:
    return tuple(_FIELD.findall(template))


def _segment(name: str, value: object) -> str:
    if type(value) is str and _SAFE_SEGMENT.fullmatch(value) and value not in (".", ".."):
        return value  # fast path: an id (a UUID) is a safe segment as it is
    if isinstance(value, bool) or not isinstance(value, (str, int, UUID)):
        raise InvalidRequestError(f"path parameter {name!r} must be a string id")
    text = str(value)
    if _SAFE_SEGMENT.fullmatch(text) and text not in (".", ".."):
        return text
    if not text or text in (".", "..") or _FORBIDDEN_IN_SEGMENT.search(text):
        # The value is not echoed: ids are PHI-adjacent and may hold control characters.
        raise InvalidRequestError(
            f"path parameter {name!r} is empty, '.'/'..', or contains '/', '\\', '?', '#', "
            "'%' or a control character"
        )
    return quote(text, safe="")


def build_path(template: str, params: Mapping[str, object] | None) -> str:
    """Fill ``/api/v1/patients/{id}`` with validated, percent-encoded path parameters.

    Raises ``InvalidRequestError`` before any I/O when a value could change the request path
    (``../admin``, ``a/b``, ``x?y``, ``x#y``) or the request line (CR, LF, NUL).
    """
    fields = _template_fields(template)
    if not fields:
        return template
    params = params or {}
    missing = [f for f in fields if f not in params]
    if missing:
        raise InvalidRequestError(f"missing path parameter(s): {', '.join(missing)}")
    return template.format_map({f: _segment(f, params[f]) for f in fields})


def backoff_delay(retry_number: int, base: float, cap: float, jitter: float) -> float:
    """Exponential backoff with full jitter: uniform in ``[0, min(cap, base * 2**(n-1))]``.

    ``jitter`` is a number in ``[0, 1)`` (injected, so tests are deterministic).
    """
    ceiling = min(cap, base * 2.0 ** (retry_number - 1))
    return ceiling * jitter


def parse_retry_after(value: str | None, now_epoch: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        # "-0000" parses to a naive datetime; HTTP dates are always UTC (RFC 9110 5.6.7),
        # and .timestamp() would otherwise read it in the host's local time zone.
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now_epoch)


def parse_error_body(content: bytes) -> tuple[str | None, dict[str, list[str]]]:
    """``(error_code, field_errors)`` from any of the services' error shapes (contract I1, I10).

    The code is kept only when it is a string (Facility puts the numeric status there). Field
    errors come from ``error.details.fields``; messages are kept for callers but never used in
    an exception message. Unparseable bodies (HTML from a proxy) give ``(None, {})``.
    """
    try:
        body = json.loads(content) if content else None
    except (ValueError, UnicodeDecodeError):
        return None, {}
    if not isinstance(body, dict):
        return None, {}
    error = body.get("error")
    if not isinstance(error, dict):
        return None, {}
    code = error.get("code")
    fields: dict[str, list[str]] = {}
    details = error.get("details")
    if isinstance(details, dict) and isinstance(details.get("fields"), dict):
        for field, messages in details["fields"].items():
            if isinstance(messages, list):
                fields[str(field)] = [str(m) for m in messages]
            else:
                fields[str(field)] = [str(messages)]
    return (code if isinstance(code, str) else None), fields


#: The status each platform error code stands for (contract §1.6), used when an answer's
#: status says success but its envelope says ``success: false``.
_STATUS_OF_CODE: Mapping[str, int] = {
    "VALIDATION_ERROR": 400,
    "INVALID_REQUEST": 400,
    "AUTHENTICATION_REQUIRED": 401,
    "AUTHENTICATION_FAILED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "PATIENT_NOT_FOUND": 404,
    "CONFLICT": 409,
    "DUPLICATE_ENTRY": 409,
    "APPOINTMENT_CONFLICT": 409,
    "OPERATION_NOT_ALLOWED": 422,
    "EXPIRED": 422,
    "INSUFFICIENT_BALANCE": 422,
    "PRESCRIPTION_INVALID": 422,
    "PAYMENT_FAILED": 422,
    "RATE_LIMIT_EXCEEDED": 429,
    "INTERNAL_ERROR": 500,
    "DATABASE_ERROR": 500,
    "EXTERNAL_SERVICE_ERROR": 502,
    "SERVICE_UNAVAILABLE": 503,
}

_SAYS_FAILED = re.compile(rb'"success"\s*:\s*false')


def failed_envelope_status(content: bytes) -> int | None:
    """The status a 2xx answer really means when its envelope says ``success: false``.

    ``None`` for every ordinary answer (one regex scan, no parse). Otherwise the status of
    the body's error code (contract §1.6), and 500 for a code we do not know or no code: the
    service said it failed without saying why, so the answer is never a value and never
    "not found" (only ``NOT_FOUND`` is).
    """
    # A body without "false" anywhere (nearly every success) cannot match: no regex scan.
    if b"false" not in content or _SAYS_FAILED.search(content) is None:
        return None
    try:
        body = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None  # not JSON: the body parser reports it
    if not isinstance(body, dict) or body.get("success") is not False:
        return None  # ``success: false`` nested inside the payload, not the envelope's
    code, _ = parse_error_body(content)
    return _STATUS_OF_CODE.get(code or "", 500)


def error_from_response(
    *,
    status_code: int,
    headers: Mapping[str, str],
    content: bytes,
    service: str,
    method: str,
    path_template: str,
    correlation_id: str | None,
    now_epoch: float,
) -> ServiceError:
    """The typed error for an error answer: the class comes from the status alone (contract I10)."""
    code, fields = parse_error_body(content)
    retry_after = None
    if status_code in (429, 503):
        retry_after = parse_retry_after(headers.get("retry-after"), now_epoch)
    cls = error_class_for_status(status_code)
    return cls(
        service=service,
        method=method,
        path_template=path_template,
        status_code=status_code,
        error_code=code,
        correlation_id=correlation_id,
        retry_after=retry_after,
        field_errors=fields,
        body=content,
        retryable=status_code in (429, 500, 502, 503, 504),
    )


#: Answers by which the service (or its gateway) says "too much load": not an accept for the
#: adaptive throttle. A 500 is the service answering (a bug on one route: the route circuit's
#: business), so it counts as accepted.
OVERLOAD_STATUSES = frozenset({429, 502, 503, 504})


def is_breaker_failure(status_code: int | None, transport_failure: bool) -> bool:
    """Only what says "the service is unhealthy" counts: 5xx, connect errors, timeouts.

    A 501 does not: the service is up and says the route has no handler (today's Clinical
    answers 501 for every ``/encounters`` and ``/diagnostics`` call). Counting it would let a
    caller of a missing route open the breaker for the patient routes that work.
    """
    if transport_failure:
        return True
    return status_code is not None and status_code >= 500 and status_code != 501


def is_repeatable(method: str, has_idempotency_key: bool, keys_honoured: bool) -> bool:
    """A call that may be sent twice without changing the outcome."""
    return method in IDEMPOTENT_METHODS or (has_idempotency_key and keys_honoured)


#: Answers by which the service itself says it did not act on the request: throttled (429),
#: not implemented (501, e.g. Clinical's /encounters), unavailable (503).
_REFUSED_STATUSES = frozenset({429, 501, 503})


def proves_not_processed(error: ServiceError) -> bool:
    """The failure proves the service did not act: nothing was sent, or a 429/501/503 refusal.

    A 501 proves it as well as a 503 does, but unlike a 503 it does not go away on retry.
    """
    return not error.request_sent or error.status_code in _REFUSED_STATUSES


#: Answers a repeated write can get *because* an earlier attempt was applied: 400 "already
#: exists" (Clinical's duplicate phone, contract I11), 404 for a delete that already happened,
#: 409 for a duplicate or a bed that the first attempt assigned (contract I19), 422 for a state
#: already changed.
_ECHOES_OF_AN_APPLIED_WRITE = frozenset({400, 404, 409, 422})


def answer_may_echo_earlier_write(
    method: str, status_code: int | None, earlier_attempt_maybe_applied: bool
) -> bool:
    """A retry's refusal that may only say "the earlier attempt already did it".

    Today's Clinical commits ``DELETE /patients/{id}`` and then answers 500 (its event producer
    is down); the retry gets 404. Reporting that 404 as ``NotFoundError`` would tell the caller
    the patient never existed, so the call ends in ``OutcomeUnknownError`` instead.
    """
    return (
        earlier_attempt_maybe_applied
        and method not in ("GET", "HEAD", "OPTIONS")
        and status_code in _ECHOES_OF_AN_APPLIED_WRITE
    )


@dataclass(frozen=True, slots=True)
class RetryDecision:
    retry: bool
    delay: float = 0.0
    reason: str = ""


_STOP_NOT_RETRYABLE = RetryDecision(False, reason="not_retryable")


def is_final(error: ServiceError) -> bool:
    """No retry can help: the call was refused locally (open circuit, throttle, full bulkhead).

    A retry would only add load. The client checks this before building any retry machinery,
    so a call rejected by an open circuit or the throttle fails in microseconds.
    """
    return isinstance(error, RejectedLocallyError)


def decide_retry(
    error: ServiceError,
    *,
    retries_done: int,
    max_attempts: int,
    repeatable: bool,
    now: float,
    deadline: float,
    backoff_base: float,
    backoff_cap: float,
    max_retry_after: float,
    jitter: float,
    backoff: bool = True,
) -> RetryDecision:
    """Whether to repeat a failed attempt, and after how long (budget and auth are not here).

    ``retries_done`` counts retries already made (0 after the first attempt). ``repeatable``
    is ``is_repeatable(...)`` for the call.
    """
    if is_final(error) or isinstance(error, AuthenticationError):
        return _STOP_NOT_RETRYABLE
    if retries_done + 1 >= max_attempts:
        return RetryDecision(False, reason="attempts_exhausted")
    status = error.status_code
    nothing_processed = not error.request_sent or status in (429, 503)
    if not nothing_processed:
        # It may have been processed: repeat only a call that is safe to repeat, and only
        # on a failure that is plausibly transient.
        transient = error.retryable if status is None else status in (500, 502, 504)
        if not (repeatable and transient):
            return _STOP_NOT_RETRYABLE
    left = deadline - now
    if error.retry_after is not None:
        if error.retry_after > max_retry_after or error.retry_after >= left:
            return RetryDecision(False, reason="retry_after_too_long")
        delay = error.retry_after if backoff else 0.0  # test mode never sleeps
    else:
        delay = (
            backoff_delay(retries_done + 1, backoff_base, backoff_cap, jitter) if backoff else 0.0
        )
    if delay >= left:
        return RetryDecision(False, reason="deadline")
    return RetryDecision(True, delay=delay, reason="retry")

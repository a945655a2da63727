"""``BaseServiceClient`` and ``AsyncBaseServiceClient``: the only sync/async twins.

A call flows one way: a typed method hands a declared ``Endpoint`` and its values to ``_run``;
``Endpoint.bind`` checks them (no I/O), ``_ClientCore.prepare`` builds the call once, the
twin's ``_attempt`` does the I/O for one attempt, ``_ClientCore`` classifies the answer
(pure), and only when an attempt fails does ``_retry`` ask ``_ClientCore.decide`` whether and
when to try again. The fast path (first attempt succeeds) pays for no retry machinery at all;
the twins differ only in ``await`` and in how they wait.
"""

from __future__ import annotations

import asyncio
import copy
import enum
import inspect
import logging
import re
import time
from collections.abc import AsyncIterable, Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from json import loads as json_loads
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError
from pydantic_core import to_json

from nilecare_clients import _hooks, _state, _testmode
from nilecare_clients._config import HEADER_NAME, ServiceConfig, checked_token
from nilecare_clients._correlation import get_correlation_id, get_deadline, new_correlation_id
from nilecare_clients._decisions import (
    OVERLOAD_STATUSES,
    RetryDecision,
    answer_may_echo_earlier_write,
    build_path,
    decide_retry,
    error_from_response,
    failed_envelope_status,
    is_breaker_failure,
    is_final,
    is_repeatable,
    proves_not_processed,
)
from nilecare_clients._endpoint import Bound, Endpoint, adhoc
from nilecare_clients._envelope import DataIsNull, EnvelopeMismatch, parse_data
from nilecare_clients._errors import (
    ERROR_BODY_LIMIT,
    AuthenticationError,
    BulkheadFullError,
    CircuitOpenError,
    ClientClosedError,
    ConfigurationError,
    InvalidRequestError,
    NileCareError,
    NotFoundError,
    OutcomeUnknownError,
    ResponseTooLargeError,
    ResponseValidationError,
    ServiceError,
    ServiceTimeoutError,
    ThrottledError,
)
from nilecare_clients._hooks import CallCompleted, RequestAttempt, RetryScheduled
from nilecare_clients._http import httpx, install_log_filter, name_route
from nilecare_clients._log import audit_logger, emit, enabled, record_access
from nilecare_clients._resilience import breaker as _breaker
from nilecare_clients._resilience.registry import state_for
from nilecare_clients._transport import (
    AsyncHttpxWire,
    HttpxWire,
    build_async_wire,
    build_sync_wire,
    map_transport_error,
    timeout_for,
)
from nilecare_clients._wire import AsyncWire, SyncWire, WireFailure, wrong_event_loop

__all__ = ["AsyncBaseServiceClient", "BaseServiceClient", "HealthStatus"]

T = TypeVar("T")
_Invalid = TypeVar("_Invalid", bound=ResponseValidationError)
_WRITE_METHODS = frozenset({"POST", "PATCH"})
# The breaker hears one verdict per logical call (settle), not one per attempt: a call that
# succeeds on its second attempt is a success, so 30 % transient errors that retries absorb do
# not trip it; a call that exhausts its attempts is one failure.


class _Verdict(enum.IntEnum):
    """What a call's last attempt said about the service's health (the breaker's outcomes).

    Per-route isolation: a 5xx says the *route* failed; a transport failure (refused, reset
    before an answer, timeout) says the service itself may be gone.
    """

    NEUTRAL = _breaker.NEUTRAL  # nothing either way (4xx, refused before I/O, bad input)
    HEALTHY = _breaker.HEALTHY  # the service answered as a healthy service does
    UNHEALTHY = _breaker.ROUTE_FAILURE  # a 5xx from this route
    GONE = _breaker.GONE  # connect failure, reset or timeout: no answer at all


# Headers every call carries with one value per client: a client built here sends them itself
# (fewer headers per request is the largest saving in httpx's request building).
_CLIENT_DEFAULT_HEADERS = ("Accept", "User-Agent")


@dataclass(frozen=True)
class HealthStatus:
    """A liveness probe's result: healthy only on a 200 from the health route (contract I23)."""

    service: str
    ok: bool
    status_code: int | None
    latency_ms: float
    breaker_state: str
    error: str | None = None
    #: The ``service`` the health body names (``"clinical-service"``), when it names one: how
    #: ``nilecare-clients check`` tells the configured service from whatever else answers.
    answered_as: str | None = None


class _Call:
    """One logical call: built once, reused by every attempt (same correlation id and key)."""

    __slots__ = (
        "attempts",
        "audit_id",
        "auth_refreshed",
        "content",
        "correlation_id",
        "deadline",
        "endpoint",
        "headers",
        "idempotency_key",
        "maybe_applied",
        "method",
        "outcome",
        "params",
        "phase",
        "probe",
        "repeatable",
        "retries",
        "route",
        "span",
        "started",
        "status",
        "url",
        "verdict",
    )

    auth_refreshed: bool
    content: bytes | None
    correlation_id: str
    deadline: float
    endpoint: Endpoint[Any]
    headers: dict[str, str]
    idempotency_key: str | None
    maybe_applied: bool
    method: str
    params: Mapping[str, Any] | None
    #: Where an async attempt is, for the deadline's error: waiting, or reading the body.
    phase: str
    probe: int
    repeatable: bool
    retries: int
    route: str
    span: Any
    started: float
    status: int | None
    outcome: str
    attempts: int
    audit_id: str | None
    url: str
    verdict: _Verdict

    def __init__(self) -> None:
        self.retries = 0
        self.auth_refreshed = False
        self.maybe_applied = False  # an earlier attempt may have been processed
        self.probe = 0  # probe bits: admitted as the half-open service's and/or route's probe
        self.verdict = _Verdict.NEUTRAL  # what the last attempt said about the service's health
        self.span = None
        self.status = None
        self.outcome = "not_sent"
        self.attempts = 0
        self.audit_id = None


class _ClientCore:
    """Everything about a call that does no I/O, shared by the sync and async clients."""

    def __init__(self, config: ServiceConfig, *, audited: bool = False) -> None:
        self.config = config
        install_log_filter()  # httpx's request log shows route templates (once per process)
        #: Whether calls are access-audited (the Clinical clients: patient data).
        self.audited = audited
        self.service = config.name
        # Read on every call: plain attributes here rather than the config model's.
        self.base_url = config.base_url
        self.deadline = config.deadline
        self.keys_honoured = config.idempotency_keys_honoured
        shared = state_for(config)
        self.breaker = shared.breaker
        self.budget = shared.budget
        self.bulkhead = shared.bulkhead
        self.retry = config.retry
        self.timeout = timeout_for(config)
        headers = {"Accept": "application/json", "User-Agent": config.user_agent}
        headers.update(config.headers)
        if config.api_key is not None:
            headers["X-API-Key"] = config.api_key.get_secret_value()
        self.static_headers = headers
        self.token_provider = config.token_provider
        self.longest_timeout = max(
            config.connect_timeout, config.read_timeout, config.write_timeout, config.pool_timeout
        )
        # What each call adds to the http client's own defaults, and the timeout it names: the
        # safe choices until bind_http knows the client was built here.
        self.call_headers = headers
        self.default_timeout: Any = self.timeout
        self.http_binding: tuple[httpx.Client | httpx.AsyncClient, bool] | None = None

    def bind_http(self, http: httpx.Client | httpx.AsyncClient, built_here: bool) -> None:
        """Leave to a client built here what it already does, so httpx does less per call.

        Its default headers need not be repeated per call (httpx's cost per request grows
        with the number of headers it merges), and its default timeout saves a ``Timeout``
        per call. (A path relative to its base URL would cost more: httpx re-parses the
        joined URL.) Only for clients built here (shared by ``with_options`` copies): an
        injected client's defaults may change under us, so it gets everything on every call.
        """
        self.http_binding = (http, built_here)
        if not built_here:
            return
        defaults = http.headers
        self.call_headers = {k: v for k, v in self.static_headers.items() if defaults.get(k) != v}
        self.default_timeout = (
            httpx.USE_CLIENT_DEFAULT if http.timeout == self.timeout else self.timeout
        )

    # -- building a call (pure) -----------------------------------------------------------
    def prepare(self, bound: Bound[Any]) -> _Call:
        """The call every attempt reuses: URL, headers, body bytes, deadline (no I/O)."""
        endpoint = bound.endpoint
        path_params, params = bound.path_params, bound.params
        json, headers, idempotency_key = bound.json, bound.headers, bound.idempotency_key
        call = _Call()
        call.endpoint = endpoint
        call.method = method = endpoint.method
        call.route = route = endpoint.route
        path = bound.path
        call.url = self.base_url + (path if path is not None else build_path(route, path_params))
        call.params = {k: v for k, v in params.items() if v is not None} if params else None
        call.correlation_id = cid = get_correlation_id() or new_correlation_id()
        out = dict(self.call_headers)
        out["X-Correlation-ID"] = cid
        out["X-Request-ID"] = cid
        if headers:
            for name, value in headers.items():
                if (
                    any(c in value for c in "\r\n\x00")
                    or not value.isascii()
                    or not HEADER_NAME.fullmatch(name)  # a token: both wires send the same
                ):
                    raise InvalidRequestError(
                        "a header name or value holds a character HTTP forbids; nothing was sent"
                    )
                if name.lower() == "idempotency-key":
                    name = "Idempotency-Key"  # one spelling, so the key is recognised below
                out[name] = value
        if json is None:
            call.content = None
        else:
            call.content = self._encode(json)
            out["Content-Type"] = "application/json"
        key = idempotency_key or out.get("Idempotency-Key")
        if key is not None:
            out["Idempotency-Key"] = key
        call.idempotency_key = key
        call.headers = out
        call.repeatable = (
            endpoint.repeatable  # the method alone says so, key or not (most calls)
            or is_repeatable(method, key is not None, self.keys_honoured)
        )
        now = self.retry.clock()
        deadline = now + self.deadline
        scoped = get_deadline()
        if scoped is not None:
            deadline = min(deadline, now + (scoped - time.monotonic()))
        call.deadline = deadline
        call.started = time.perf_counter()
        if self.audited and path_params:
            call.audit_id = str(path_params.get("id")) if "id" in path_params else None
        tracer = _state.observers.tracer
        if tracer is not None:
            call.span = tracer.start(method, route, call.url, out, cid)
        return call

    @staticmethod
    def _encode(body: Any) -> bytes:
        try:
            if isinstance(body, BaseModel):
                return body.model_dump_json(by_alias=True, exclude_none=True).encode()
            return to_json(body, by_alias=True)
        except Exception as exc:  # pydantic_core raises PydanticSerializationError
            kind = type(exc).__name__
        # Raised outside the handler: the serialiser's error (which quotes the input, e.g. a
        # lone surrogate) must not ride along as __context__.
        raise InvalidRequestError(f"request body cannot be encoded as JSON ({kind})")

    # -- one attempt ----------------------------------------------------------------------
    def admit(self, call: _Call) -> None:
        """Deadline and breaker checks before any I/O (a probe's own retries need no new one)."""
        if call.deadline - self.retry.clock() <= 0:
            call.outcome = "ServiceTimeoutError"
            raise ServiceTimeoutError(
                service=self.service,
                method=call.method,
                path_template=call.route,
                correlation_id=call.correlation_id,
                detail="deadline exceeded",
                request_sent=False,
            )
        if call.probe:
            return
        verdict, probe, wait = self.breaker.admit(call.route, call.attempts == 0)
        if verdict != _breaker.ADMITTED:
            raise self._refused(call, verdict, wait)
        call.probe = probe

    def _refused(self, call: _Call, verdict: int, wait: float) -> ServiceError:
        """The error for a call refused locally: an open circuit (service or route) or the
        throttle. Nothing was sent; the call gives the breaker no verdict."""
        throttled = verdict == _breaker.THROTTLED
        route_open = verdict == _breaker.ROUTE_OPEN
        call.outcome = "ThrottledError" if throttled else "CircuitOpenError"
        if enabled("debug"):  # checked first: the fields cost more than the check
            emit(
                "debug",
                "nilecare_clients.throttled" if throttled else "nilecare_clients.circuit_rejected",
                service=self.service,
                method=call.method,
                route=call.route,
                scope=None if throttled else "route" if route_open else "service",
                correlation_id=call.correlation_id,
            )
        if throttled:
            return ThrottledError(
                service=self.service,
                method=call.method,
                path_template=call.route,
                correlation_id=call.correlation_id,
                detail="throttled locally: the service is refusing a share of calls",
            )
        return CircuitOpenError(
            service=self.service,
            method=call.method,
            path_template=call.route,
            correlation_id=call.correlation_id,
            retry_after=wait,
            detail="circuit open for this route" if route_open else "circuit open",
            route_open=route_open,
        )

    def settle(self, call: _Call) -> None:
        """Report the call's one verdict to the breaker (and free its probe slot, if any)."""
        if call.span is not None and _state.observers.tracer is not None:
            _state.observers.tracer.end(
                call.span, call.status, call.outcome, max(0, call.attempts - 1)
            )
        if self.audited and audit_logger.isEnabledFor(logging.INFO):
            record_access(
                service=self.service,
                method=call.method,
                route=call.route,
                resource_id=call.audit_id,
                outcome=call.outcome,
                correlation_id=call.correlation_id,
            )
        if _state.observers.active:
            _hooks.dispatch(
                CallCompleted(
                    self.service,
                    call.method,
                    call.route,
                    call.attempts,
                    call.status,
                    call.outcome,
                    time.perf_counter() - call.started,
                    call.correlation_id,
                )
            )
        if call.verdict or call.probe:
            # The circuits and the throttle hear the call's outcome (after its retries), not
            # each attempt's: what the caller got is what the service accepted.
            self.breaker.record(
                call.route, call.verdict, call.probe, call.status in OVERLOAD_STATUSES
            )

    def bulkhead_wait(self, call: _Call) -> float:
        """How long a call may queue for a bulkhead slot: the pool timeout, within the deadline."""
        return max(0.0, min(self.config.pool_timeout, call.deadline - self.retry.clock()))

    def unwritable(self, call: _Call) -> InvalidRequestError:
        """The request could not be written (a header or URL HTTP forbids): nothing was sent.

        Not a service failure (no breaker verdict, no retry, never ``OutcomeUnknownError``),
        and raised without the transport's error, whose message quotes the header.
        """
        call.outcome = "InvalidRequestError"
        return InvalidRequestError(
            f"{self.service}: {call.method} {call.route}: the request could not be written "
            "(a header or the URL holds a character HTTP forbids); nothing was sent"
        )

    def bulkhead_full(self, call: _Call) -> BulkheadFullError:
        call.outcome = "BulkheadFullError"
        return BulkheadFullError(
            service=self.service,
            method=call.method,
            path_template=call.route,
            correlation_id=call.correlation_id,
            detail=f"more than {self.bulkhead.limit} calls in flight",
            request_sent=False,
        )

    def prepare_attempt(self, call: _Call, attempt: int, token: str | None) -> float:
        """This attempt's headers (deadline, retry number, token); returns the time left."""
        headers = call.headers
        now = self.retry.clock()  # the budget's clock too (one per service): read once
        if attempt == 1:
            # Only a first attempt that really goes out earns retry budget (a call refused by
            # the open breaker must not bank retries for when it half-opens).
            self.budget.record_request(now)
        left = call.deadline - now
        headers["X-Request-Deadline-Ms"] = str(max(1, int(left * 1000)))
        if call.retries:
            headers["X-Retry-Attempt"] = str(call.retries)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return left

    def build_request(
        self, http: httpx.Client | httpx.AsyncClient, call: _Call, attempt: int, token: str | None
    ) -> httpx.Request:
        """The httpx request of one attempt (the httpx wires only)."""
        left = self.prepare_attempt(call, attempt, token)
        if left >= self.longest_timeout:
            timeout = self.default_timeout
        else:
            timeout = timeout_for(self.config, left)
        request = http.build_request(
            call.method,
            call.url,
            params=call.params,
            content=call.content,
            headers=call.headers,
            timeout=timeout,
        )
        name_route(request, self.config.base_url, call.route)
        return request

    # -- reading the body: bounded in size and by the deadline --------------------------------
    def body_limit(
        self, call: _Call, status: int, headers: Mapping[str, str], attempt: int, started: float
    ) -> int:
        """How much of this answer to read; a success announced too large is refused unread."""
        if not 200 <= status < 300:
            return ERROR_BODY_LIMIT
        limit = self.config.max_response_bytes
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            raise self.too_large(call, status, attempt, started)
        return limit

    def too_large(
        self, call: _Call, status: int, attempt: int, started: float
    ) -> ResponseTooLargeError:
        call.verdict = _Verdict.HEALTHY  # the service answered; the answer is the fault
        self._attempted(call, attempt, status, "ResponseTooLargeError", started)
        reason = f"body over max_response_bytes ({self.config.max_response_bytes})"
        return self._invalid(call, status, reason, [], None, ResponseTooLargeError)

    def read_body(
        self,
        call: _Call,
        status: int,
        headers: Mapping[str, str],
        chunks: Iterable[bytes],
        attempt: int,
        started: float,
    ) -> bytes:
        """The body, chunk by chunk: never past the size limit, never past the deadline.

        Sync checks the deadline between chunks: a blocking read cannot be interrupted, so a
        sync call ends at the deadline plus at most one read gap (itself capped by the
        per-attempt read timeout). Async bounds the whole attempt with one timer instead.
        """
        limit = self.body_limit(call, status, headers, attempt, started)
        parts: list[bytes] = []
        size = 0
        for chunk in chunks:
            if parts and self.past_deadline(call):  # more body after the deadline: stop
                raise self.deadline_exceeded(call, "while reading the body", attempt, started)
            parts.append(chunk)
            size += len(chunk)
            if size > limit:
                if 200 <= status < 300:
                    raise self.too_large(call, status, attempt, started)
                break  # an error body is kept only up to ERROR_BODY_LIMIT
        content = parts[0] if len(parts) == 1 else b"".join(parts)
        return content[:limit] if size > limit else content

    async def aread_body(
        self,
        call: _Call,
        status: int,
        headers: Mapping[str, str],
        chunks: AsyncIterable[bytes],
        attempt: int,
        started: float,
    ) -> bytes:
        """``read_body`` for the async wires (the deadline is the attempt's one timer)."""
        limit = self.body_limit(call, status, headers, attempt, started)
        call.phase = "while reading the body"
        parts: list[bytes] = []
        size = 0
        async for chunk in chunks:
            parts.append(chunk)
            size += len(chunk)
            if size > limit:
                if 200 <= status < 300:
                    raise self.too_large(call, status, attempt, started)
                break  # an error body is kept only up to ERROR_BODY_LIMIT
        content = parts[0] if len(parts) == 1 else b"".join(parts)
        return content[:limit] if size > limit else content

    def past_deadline(self, call: _Call) -> bool:
        return self.retry.clock() >= call.deadline

    def token_late(self, call: _Call) -> ServiceTimeoutError:
        """The token provider used up the call's deadline: nothing was sent, and it says
        nothing about the service (no breaker verdict)."""
        call.outcome = "ServiceTimeoutError"
        return ServiceTimeoutError(
            service=self.service,
            method=call.method,
            path_template=call.route,
            correlation_id=call.correlation_id,
            detail="deadline exceeded while getting the token",
            request_sent=False,
        )

    def deadline_exceeded(
        self, call: _Call, phase: str, attempt: int, started: float
    ) -> ServiceError:
        """The call's deadline ran out while it was ``phase`` (after the request was sent)."""
        call.verdict = _Verdict.GONE
        error = ServiceTimeoutError(
            service=self.service,
            method=call.method,
            path_template=call.route,
            correlation_id=call.correlation_id,
            detail=f"deadline exceeded {phase}",
            request_sent=True,
        )
        return self._finish_error(call, error, attempt, started)

    def on_transport_error(
        self, call: _Call, exc: Exception, attempt: int, started: float
    ) -> ServiceError:
        if isinstance(exc, WireFailure):
            failure = exc.failure
            error = failure.public(
                service=self.service,
                method=call.method,
                path_template=call.route,
                correlation_id=call.correlation_id,
                detail=f"{failure.detail} ({exc.kind})",
                request_sent=failure.request_sent,
            )
            unhealthy = failure.unhealthy
        else:
            error, unhealthy = map_transport_error(
                exc,
                service=self.service,
                method=call.method,
                path_template=call.route,
                correlation_id=call.correlation_id,
            )
        call.verdict = _Verdict.GONE if unhealthy else _Verdict.NEUTRAL
        return self._finish_error(call, error, attempt, started)

    def on_response(
        self,
        call: _Call,
        status: int,
        headers: Mapping[str, str],
        content: bytes,
        attempt: int,
        started: float,
    ) -> Any:
        meant = status
        if 200 <= status < 300:
            failed = failed_envelope_status(content)
            if failed is not None:
                meant = failed  # a 2xx whose envelope says ``success: false`` is an error
        if 200 <= meant < 300:
            call.verdict = _Verdict.HEALTHY
            try:
                result = self._parse(call, status, content)
            except NileCareError as exc:  # answered, but not with what the contract promises
                self._attempted(call, attempt, status, type(exc).__name__, started)
                raise
            self._attempted(call, attempt, status, "success", started)
            if self.audited and call.audit_id is None and call.method == "POST":
                created = getattr(result, "id", None)
                call.audit_id = str(created) if created is not None else None
            if enabled("debug"):  # checked first: the fields cost more than the check
                emit(
                    "debug",
                    "nilecare_clients.request",
                    service=self.service,
                    method=call.method,
                    route=call.route,
                    status=status,
                    attempt=attempt,
                    duration_ms=round((time.perf_counter() - started) * 1000, 3),
                    correlation_id=call.correlation_id,
                    outcome="success",
                )
            return result
        raise self._answer_error(call, status, meant, headers, content, attempt, started)

    def _answer_error(
        self,
        call: _Call,
        status: int,
        meant: int,
        headers: Mapping[str, str],
        content: bytes,
        attempt: int,
        started: float,
    ) -> ServiceError:
        """The error an answer means. Built here and raised by the caller, whose frame then
        names no exception: a frame in a traceback that names its own exception is a
        reference cycle, left to the garbage collector's pauses."""
        error = error_from_response(
            status_code=meant,
            headers=headers,
            content=content,
            service=self.service,
            method=call.method,
            path_template=call.route,
            correlation_id=call.correlation_id,
            now_epoch=time.time(),
        )
        if meant != status:
            error.detail = f"answered {status} with success: false"
        call.verdict = (
            _Verdict.UNHEALTHY
            if is_breaker_failure(meant, transport_failure=False)
            else _Verdict.HEALTHY
        )
        return self._finish_error(call, error, attempt, started)

    def _parse(self, call: _Call, status: int, content: bytes) -> Any:
        endpoint = call.endpoint
        if endpoint.parse is not None:
            try:
                return endpoint.parse(content)
            except ValidationError as exc:
                errors = [
                    {"loc": e["loc"], "type": e["type"]} for e in exc.errors(include_url=False)
                ]
                raise self._invalid(
                    call, status, "body does not match the schema", errors, content
                ) from None
            except (ValueError, TypeError, KeyError):
                raise self._invalid(
                    call, status, "body does not fit the envelope", [], content
                ) from None
        if endpoint.returns is None:
            return None
        try:
            return parse_data(content, endpoint.returns, endpoint.key)
        except DataIsNull:
            if endpoint.null_is_not_found:
                raise NotFoundError(
                    service=self.service,
                    method=call.method,
                    path_template=call.route,
                    status_code=status,
                    correlation_id=call.correlation_id,
                    detail="answered 200 with data: null",
                ) from None
            raise self._invalid(call, status, "data is null", [], content) from None
        except EnvelopeMismatch as exc:
            raise self._invalid(call, status, exc.reason, exc.errors, content) from None

    def _attempted(
        self, call: _Call, attempt: int, status: int | None, outcome: str, started: float
    ) -> None:
        """Record how an attempt ended, for the call's summary and for registered hooks."""
        call.attempts = attempt
        call.status = status
        call.outcome = outcome
        if _state.observers.active:
            _hooks.dispatch(
                RequestAttempt(
                    self.service,
                    call.method,
                    call.route,
                    attempt,
                    status,
                    outcome,
                    time.perf_counter() - started,
                    call.correlation_id,
                )
            )

    def _invalid(
        self,
        call: _Call,
        status: int,
        reason: str,
        errors: list[dict[str, Any]],
        content: bytes | None,
        cls: type[_Invalid] = ResponseValidationError,  # type: ignore[assignment]
    ) -> _Invalid:
        emit(
            "warning",
            "nilecare_clients.invalid_response",
            service=self.service,
            method=call.method,
            route=call.route,
            status=status,
            correlation_id=call.correlation_id,
            reason=reason,
        )
        return cls(
            service=self.service,
            method=call.method,
            path_template=call.route,
            status_code=status,
            correlation_id=call.correlation_id,
            reason=reason,
            errors=errors,
            body=content,
        )

    def _finish_error(
        self, call: _Call, error: ServiceError, attempt: int, started: float
    ) -> ServiceError:
        earlier_maybe_applied = call.maybe_applied
        if not proves_not_processed(error):
            call.maybe_applied = True
        if (
            call.method in _WRITE_METHODS
            and not call.repeatable
            and not proves_not_processed(error)
            and (error.status_code is None or error.status_code >= 500)
        ) or answer_may_echo_earlier_write(call.method, error.status_code, earlier_maybe_applied):
            # A write we may not repeat, and nothing proves it was not applied (contract I11, I26).
            error = OutcomeUnknownError(
                idempotency_key=call.idempotency_key,
                service=error.service,
                method=error.method,
                path_template=error.path_template,
                status_code=error.status_code,
                error_code=error.error_code,
                correlation_id=error.correlation_id,
                retryable=False,
                detail=error.detail,
                body=error.body,
            )
        self._attempted(call, attempt, error.status_code, type(error).__name__, started)
        emit(
            "warning" if error.status_code is None or error.status_code >= 500 else "info",
            "nilecare_clients.request",
            service=self.service,
            method=call.method,
            route=call.route,
            status=error.status_code,
            attempt=attempt,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            correlation_id=call.correlation_id,
            outcome=type(error).__name__,
            error_code=error.error_code,
        )
        return error

    # -- the failure path -----------------------------------------------------------------
    def decide(self, call: _Call, error: ServiceError) -> RetryDecision:
        if (
            isinstance(error, AuthenticationError)
            and self.token_provider is not None
            and not call.auth_refreshed
        ):
            call.auth_refreshed = True  # ask the provider again, once (rotated token)
            return RetryDecision(True, 0.0, "token_refresh")
        mode = _testmode.current()
        retry = self.retry
        decision = decide_retry(
            error,
            retries_done=call.retries,
            max_attempts=mode.attempts or retry.max_attempts,
            repeatable=call.repeatable,
            now=retry.clock(),
            deadline=call.deadline,
            backoff_base=retry.backoff_base,
            backoff_cap=retry.backoff_cap,
            max_retry_after=retry.max_retry_after,
            jitter=retry.jitter(),
            backoff=mode.backoff,
        )
        if decision.retry and self.breaker.seconds_until_probe(call.route) > decision.delay:
            # The breaker is open (perhaps tripped by this very failure) and would refuse the
            # retry: fail now with the real error rather than sleep first and spend budget.
            return RetryDecision(False, reason="circuit_open")
        if decision.retry:
            if not self.budget.try_spend():
                emit(
                    "warning",
                    "nilecare_clients.retry_budget_exhausted",
                    service=self.service,
                    method=call.method,
                    route=call.route,
                    correlation_id=call.correlation_id,
                )
                return RetryDecision(False, reason="budget")
            call.retries += 1
            emit(
                "info",
                "nilecare_clients.retry_scheduled",
                service=self.service,
                method=call.method,
                route=call.route,
                correlation_id=call.correlation_id,
                attempt=call.retries + 1,
                delay_s=round(decision.delay, 4),
                error=type(error).__name__,
                status=error.status_code,
            )
            if _state.observers.active:
                _hooks.dispatch(
                    RetryScheduled(
                        self.service,
                        call.method,
                        call.route,
                        call.retries + 1,
                        decision.delay,
                        type(error).__name__,
                        call.correlation_id,
                    )
                )
        return decision


# What a ``with_options`` copy cannot change: it shares its parent's connection pool, built
# with these. (The per-service fields, ``_config.SHARED_FIELDS``, are refused by the registry.)
_POOL_FIELDS = (
    "max_connections",
    "max_keepalive_connections",
    "keepalive_expiry",
    "verify",
    "client_cert",
    "async_transport",
    "sync_transport",
)


def _new_config(config: ServiceConfig, changes: Mapping[str, Any]) -> ServiceConfig:
    values = {name: getattr(config, name) for name in type(config).model_fields}
    values.update(changes)
    new = type(config)(**values)
    if _origin(new.base_url) != _origin(config.base_url):
        raise ConfigurationError(
            "with_options cannot change base_url's scheme, host or port: the copy shares its "
            "parent's connection pool; build a new client for another origin"
        )
    for field in _POOL_FIELDS:
        if getattr(new, field) != getattr(config, field):
            raise ConfigurationError(
                f"with_options cannot change {field}: the copy shares its parent's connection "
                "pool; build a new client for other pool or TLS settings"
            )
    return new


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


class _Lifecycle:
    """Closed or not, the event loop an async client is bound to, and the wire of this process
    (rebuilt in a forked child when it was built here); shared with copies."""

    __slots__ = (
        "bind_loop",
        "closed",
        "config",
        "default_headers",
        "generation",
        "loop",
        "rebuildable",
        "wire",
    )

    def __init__(self, config: ServiceConfig, bind_loop: bool, rebuildable: bool) -> None:
        self.closed = False
        self.bind_loop = bind_loop
        self.loop: asyncio.AbstractEventLoop | None = None
        self.rebuildable = rebuildable
        self.generation = _state.process.generation
        self.wire: SyncWire | AsyncWire | None = None
        #: The constructor's config and the default headers it set: what a rebuild uses.
        self.config = config
        self.default_headers: dict[str, str] = {}


class _ClientBase:
    """What both twins share besides the core: construction rules and health status shape."""

    _core: _ClientCore
    _owns_http: bool
    _life: _Lifecycle
    _wire: SyncWire | AsyncWire
    #: The httpx client under an httpx wire (None on urllib3 or aiohttp).
    _http: httpx.Client | httpx.AsyncClient | None
    #: The process generation ``_wire`` belongs to (``_state.process``; bumped by a fork).
    _generation: int
    #: ``with_options`` copies: closing one closes nothing (its parent owns the connections).
    _is_copy = False
    #: Subclasses whose calls touch patient data set this: each call emits an audit event.
    _audited = False

    @property
    def config(self) -> ServiceConfig:
        return self._core.config

    def with_options(self, **changes: Any) -> Self:
        """A copy with some ``ServiceConfig`` fields changed, sharing the connection pool.

        Only per-client fields can change (timeouts, deadline, headers, credentials, retry
        attempts and backoff): pool and TLS fields, and the per-service ones (breaker, retry
        budget, in-flight limit), raise ``ConfigurationError`` naming the field.
        """
        self._ensure_open()
        clone = copy.copy(self)
        core = _ClientCore(_new_config(self._core.config, changes), audited=self._audited)
        if self._core.http_binding is not None:
            core.bind_http(*self._core.http_binding)
        clone._core = core
        clone._owns_http = False
        clone._is_copy = True
        return clone

    def _ensure_usable(self) -> None:
        """Open, and in the event loop the client's connections belong to (async clients)."""
        self._ensure_open()
        life = self._life
        if life.bind_loop:
            loop = asyncio.get_running_loop()
            if life.loop is None:
                life.loop = loop
            elif life.loop is not loop:
                raise wrong_event_loop(self._core.service)

    def _ensure_open(self) -> None:
        """Refuse use after ``close()``/``aclose()`` with a typed error that says what to do.

        Also the first thing every call does in a process forked after this client was built
        (``_after_fork``), so a child never sends on its parent's sockets.
        """
        if self._generation != _state.process.generation:
            self._after_fork()
        if self._life.closed or self._wire.is_closed:
            raise ClientClosedError(
                f"the {self._core.service!r} client is closed: create a new client (a "
                "with_options copy shares its parent's connections and closes with it)"
            )

    def _after_fork(self) -> None:
        """In a forked child: the first object of a lifecycle (the client or a copy) to be
        used rebuilds the wire as the constructor built it and abandons the parent's (see
        ``_state``); every copy then adopts the new one. An async client's pool is no longer
        bound to the parent's loop. An injected ``http_client`` or transport is left as it is.
        """
        generation = _state.process.generation
        life = self._life
        with _state.lock:
            if life.generation != generation:
                life.generation = generation
                life.loop = None
                if life.rebuildable and life.wire is not None:
                    _state.abandon(life.wire)
                    life.wire = self._rebuild_transport()
            wire = life.wire or self._wire
        if wire is not self._wire:
            self._use_wire(wire)
        self._generation = generation

    def _rebuild_transport(self) -> SyncWire | AsyncWire:
        """A new wire (pool, transport) from the constructor's config, with the constructor's
        default headers: the one place a transport is rebuilt (after a fork). Never from a
        ``with_options`` copy's config, whichever object is used first in the child."""
        config = self._life.config
        if isinstance(self, AsyncBaseServiceClient):
            wire: SyncWire | AsyncWire = build_async_wire(config, None, None)
        else:
            wire = build_sync_wire(config, None, None)
        if isinstance(wire, (HttpxWire, AsyncHttpxWire)):
            wire.http.headers.update(self._life.default_headers)
        return wire

    def _adopt_wire(self, wire: SyncWire | AsyncWire, built_here: bool) -> None:
        """The constructor's wire: a client built here sends our fixed headers itself, once
        set (see ``bind_http``); kept on the lifecycle for a rebuild after a fork."""
        life = self._life
        life.wire = wire
        if built_here and isinstance(wire, (HttpxWire, AsyncHttpxWire)):
            static = self._core.static_headers
            for name in _CLIENT_DEFAULT_HEADERS:
                if sum(key.lower() == name.lower() for key in static) == 1:
                    life.default_headers[name] = static[name]
            wire.http.headers.update(life.default_headers)
        self._use_wire(wire, built_here)
        self._generation = life.generation

    def _use_wire(self, wire: SyncWire | AsyncWire, built_here: bool = True) -> None:
        """Send through ``wire``; under an httpx wire, its client is ``_http``. The generation
        is set by the caller, after the wire: no thread passes ``_ensure_open`` early."""
        self._wire = wire
        self._http = None
        if isinstance(wire, (HttpxWire, AsyncHttpxWire)):
            self._http = wire.http
            self._core.bind_http(wire.http, built_here)

    @property
    def breaker_state(self) -> str:
        """``"closed"``, ``"open"`` or ``"half-open"``: this service's shared breaker."""
        return self._core.breaker.state

    def _health(
        self, status: int | None, started: float, error: str | None, body: bytes = b""
    ) -> HealthStatus:
        return HealthStatus(
            service=self._core.service,
            ok=status == 200,
            status_code=status,
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
            breaker_state=self._core.breaker.state,
            error=error,
            answered_as=_service_named_in(body) if status == 200 else None,
        )

    def _health_request(self) -> tuple[str, dict[str, str]]:
        cid = get_correlation_id() or new_correlation_id()
        headers = dict(self._core.static_headers, **{"X-Correlation-ID": cid, "X-Request-ID": cid})
        return self._core.config.base_url + self._core.config.health_path, headers

    def __repr__(self) -> str:
        core = self._core
        return f"{type(self).__name__}(service={core.service!r}, base_url={core.config.base_url!r})"


def raise_refined(refine: Callable[[ServiceError], ServiceError], error: ServiceError) -> None:
    """Raise the endpoint's own error for ``error`` if it has one (else return).

    The names are deleted as it raises: a frame in an exception's traceback that still names
    the exception is a reference cycle, and cycles bring the garbage collector's pauses onto
    calls (see ``tests/core/test_no_cycles.py``).
    """
    refined = refine(error)
    if refined is error:
        return
    try:
        raise refined from error
    finally:
        del refined, error


def _service_named_in(body: bytes) -> str | None:
    """The ``service`` field of a NileCare health body, or None for any other answer.

    Both services name themselves in it (contract §1.7). Only a short plain name is kept.
    """
    try:
        parsed = json_loads(body)
    except ValueError:
        return None
    name = parsed.get("service") if isinstance(parsed, dict) else None
    if isinstance(name, str) and re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name):
        return name
    return None


class BaseServiceClient(_ClientBase):
    """Synchronous client for one NileCare service; subclass it to declare typed methods.

    Every call carries the correlation id (``X-Correlation-ID`` and ``X-Request-ID``) and its
    remaining deadline; failures are retried only when safe (see ``RetryPolicy``); the service's
    breaker, retry budget and bulkhead are shared with every other client of the same name.
    """

    _wire: SyncWire

    def __init__(
        self,
        *,
        config: ServiceConfig,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if http_client is not None and transport is not None:
            raise InvalidRequestError("pass http_client or transport, not both")
        self._core = _ClientCore(config, audited=self._audited)
        self._owns_http = http_client is None
        self._life = _Lifecycle(
            config, bind_loop=False, rebuildable=http_client is None and transport is None
        )
        self._adopt_wire(
            build_sync_wire(config, http_client, transport), built_here=http_client is None
        )

    def close(self) -> None:
        """Close the connections; later calls (and calls on copies) raise ClientClosedError."""
        if self._generation != _state.process.generation:
            self._after_fork()  # never close the parent's pool from a forked child
        if not self._is_copy:
            self._life.closed = True
        if self._owns_http:
            self._wire.close()

    def __enter__(self) -> Self:
        self._ensure_open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def health_check(self) -> HealthStatus:
        """Probe ``GET /health`` once (no retry, no breaker); never raises for an outage."""
        self._ensure_open()
        started = time.perf_counter()
        url, headers = self._health_request()
        status, failure, body = self._wire.health(self._core, url, headers)
        return self._health(status, started, failure, body)

    def _run(self, endpoint: Endpoint[T], *ids: str, **values: Any) -> T:
        """Call a declared endpoint with this call's ids and values (see ``_endpoint.py``)."""
        return self._send(endpoint.bind(ids, values))

    def _request(
        self,
        method: str,
        path_template: str,
        *,
        path_params: Mapping[str, object] | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        response_model: Any = None,
        envelope_key: str | None = None,
        null_is_not_found: bool = False,
        parse: Callable[[bytes], Any] | None = None,
    ) -> Any:
        """Call a route that is not declared (tests, one-off calls); prefer an ``Endpoint``."""
        return self._send(
            adhoc(
                method,
                path_template,
                path_params=path_params,
                params=params,
                json=json,
                headers=headers,
                idempotency_key=idempotency_key,
                response_model=response_model,
                envelope_key=envelope_key,
                null_is_not_found=null_is_not_found,
                parse=parse,
            )
        )

    def _send(self, bound: Bound[T]) -> T:
        """One logical call: the first attempt, the retries if it failed, the one verdict."""
        self._ensure_open()
        core = self._core
        endpoint = bound.endpoint
        call = core.prepare(bound)
        try:
            # Refused locally (open circuit, throttle, deadline already gone): raised here,
            # before any attempt machinery, so a refusal costs microseconds.
            core.admit(call)
            try:
                result = self._attempt(call, 1)
            except ServiceError as error:
                if is_final(error):
                    raise  # bulkhead full: no retry machinery, no extra latency
                result = self._retry(call, error)
        except ServiceError as error:
            if endpoint.refine is not None:
                raise_refined(endpoint.refine, error)
            raise
        finally:
            core.settle(call)
        return endpoint.convert(result) if endpoint.convert is not None else result

    def _retry(self, call: _Call, error: ServiceError) -> Any:
        """The failure path: the core decides (pure rules, budget, breaker); this only waits."""
        core = self._core
        attempt = 1
        while True:
            decision = core.decide(call, error)
            if not decision.retry:
                try:
                    raise error
                finally:
                    del error  # a frame naming its own exception would be a reference cycle
            core.retry.sleep(decision.delay)
            attempt += 1
            try:
                core.admit(call)
                return self._attempt(call, attempt)
            except ServiceError as failed:
                error = failed  # decide() says no to what no retry can help (is_final)

    def _token(self, call: _Call) -> str | None:
        """The provider's token for this attempt, within the call's deadline.

        An async provider (async client) is cancelled when the deadline passes. A blocking
        one cannot be interrupted from its own thread (running it in another would leave it
        running past the call), so the deadline is checked when it returns. Either way a late
        token fails the call with ``ServiceTimeoutError`` (nothing sent, no breaker verdict);
        a provider that may block should bound its own wait.
        """
        core = self._core
        provider = core.token_provider
        if provider is None:
            return None
        token = provider()
        if inspect.isawaitable(token):
            if inspect.iscoroutine(token):
                token.close()
            raise InvalidRequestError("token_provider is async: use the async client")
        if core.past_deadline(call):
            raise core.token_late(call)
        return checked_token(token, "the token_provider's token")

    def _attempt(self, call: _Call, attempt: int) -> Any:
        """One exchange of an admitted call (``core.admit`` said yes)."""
        core = self._core
        token = self._token(call) if core.token_provider is not None else None
        bulkhead = core.bulkhead
        # A free slot (the usual case) is taken without working out how long to queue.
        if not (bulkhead.try_acquire() or bulkhead.acquire(core.bulkhead_wait(call))):
            raise core.bulkhead_full(call)
        started = time.perf_counter()
        try:
            status, headers, content = self._wire.exchange(core, call, attempt, token, started)
        finally:
            core.bulkhead.release()
        return core.on_response(call, status, headers, content, attempt, started)


class AsyncBaseServiceClient(_ClientBase):
    """The asyncio twin of ``BaseServiceClient``: same behaviour, same shared state."""

    _wire: AsyncWire

    def __init__(
        self,
        *,
        config: ServiceConfig,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if http_client is not None and transport is not None:
            raise InvalidRequestError("pass http_client or transport, not both")
        self._core = _ClientCore(config, audited=self._audited)
        self._owns_http = http_client is None
        # A pool built here belongs to the loop of its first call; an injected client or
        # transport is the caller's to manage.
        built = http_client is None and transport is None
        self._life = _Lifecycle(config, bind_loop=built, rebuildable=built)
        self._adopt_wire(
            build_async_wire(config, http_client, transport), built_here=http_client is None
        )

    async def aclose(self) -> None:
        """Close the connections; later calls (and calls on copies) raise ClientClosedError."""
        if self._generation != _state.process.generation:
            self._after_fork()  # never close the parent's pool from a forked child
        if not self._is_copy:
            self._life.closed = True
        if self._owns_http:
            await self._wire.aclose()

    async def __aenter__(self) -> Self:
        self._ensure_open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def health_check(self) -> HealthStatus:
        """Probe ``GET /health`` once (no retry, no breaker); never raises for an outage."""
        self._ensure_usable()
        started = time.perf_counter()
        url, headers = self._health_request()
        status, failure, body = await self._wire.health(self._core, url, headers)
        return self._health(status, started, failure, body)

    def _arun(self, endpoint: Endpoint[T], *ids: str, **values: Any) -> Coroutine[Any, Any, T]:
        """Call a declared endpoint with this call's ids and values (see ``_endpoint.py``)."""
        # Not a coroutine itself: it hands back _send's for the typed method to await, one
        # coroutine fewer per call (an error raised through each costs microseconds).
        return self._send(endpoint.bind(ids, values))

    async def _request(
        self,
        method: str,
        path_template: str,
        *,
        path_params: Mapping[str, object] | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        response_model: Any = None,
        envelope_key: str | None = None,
        null_is_not_found: bool = False,
        parse: Callable[[bytes], Any] | None = None,
    ) -> Any:
        """Call a route that is not declared (tests, one-off calls); prefer an ``Endpoint``."""
        return await self._send(
            adhoc(
                method,
                path_template,
                path_params=path_params,
                params=params,
                json=json,
                headers=headers,
                idempotency_key=idempotency_key,
                response_model=response_model,
                envelope_key=envelope_key,
                null_is_not_found=null_is_not_found,
                parse=parse,
            )
        )

    async def _send(self, bound: Bound[T]) -> T:
        """One logical call: the first attempt, the retries if it failed, the one verdict."""
        self._ensure_usable()
        core = self._core
        endpoint = bound.endpoint
        call = core.prepare(bound)
        try:
            # Refused locally (open circuit, throttle, deadline already gone): raised here,
            # before any attempt machinery, so a refusal costs microseconds.
            core.admit(call)
            try:
                result = await self._attempt(call, 1)
            except ServiceError as error:
                if is_final(error):
                    raise  # bulkhead full: no retry machinery, no extra latency
                result = await self._retry(call, error)
        except ServiceError as error:
            if endpoint.refine is not None:
                raise_refined(endpoint.refine, error)
            raise
        finally:
            core.settle(call)
        return endpoint.convert(result) if endpoint.convert is not None else result

    async def _retry(self, call: _Call, error: ServiceError) -> Any:
        """The failure path: the core decides (pure rules, budget, breaker); this only waits."""
        core = self._core
        attempt = 1
        while True:
            decision = core.decide(call, error)
            if not decision.retry:
                try:
                    raise error
                finally:
                    del error  # a frame naming its own exception would be a reference cycle
            await core.retry.async_sleep(decision.delay)
            attempt += 1
            try:
                core.admit(call)
                return await self._attempt(call, attempt)
            except ServiceError as failed:
                error = failed  # decide() says no to what no retry can help (is_final)

    async def _token(self, call: _Call) -> str | None:
        """The provider's token for this attempt, within the call's deadline.

        An async provider (async client) is cancelled when the deadline passes. A blocking
        one cannot be interrupted from its own thread (running it in another would leave it
        running past the call), so the deadline is checked when it returns. Either way a late
        token fails the call with ``ServiceTimeoutError`` (nothing sent, no breaker verdict);
        a provider that may block should bound its own wait.
        """
        core = self._core
        provider = core.token_provider
        if provider is None:
            return None
        timer = asyncio.timeout(max(0.0, call.deadline - core.retry.clock()))
        try:
            async with timer:
                token = provider()
                if inspect.isawaitable(token):
                    token = await token
        except TimeoutError:
            if not timer.expired():
                raise  # the provider's own TimeoutError, not our deadline
            raise core.token_late(call) from None
        if core.past_deadline(call):
            raise core.token_late(call)
        return checked_token(token, "the token_provider's token")

    async def _attempt(self, call: _Call, attempt: int) -> Any:
        """One exchange of an admitted call (``core.admit`` said yes)."""
        core = self._core
        # No coroutine for what needs no waiting: no token provider, a free bulkhead slot.
        token = await self._token(call) if core.token_provider is not None else None
        if not core.bulkhead.try_acquire() and not await core.bulkhead.acquire_async(
            core.bulkhead_wait(call)
        ):
            raise core.bulkhead_full(call)
        started = time.perf_counter()
        call.phase = "waiting for the answer"
        try:
            # One timer for the whole exchange: a body trickled byte by byte, each byte inside
            # the read timeout, still ends at the deadline, on either async transport.
            async with asyncio.timeout(max(0.0, call.deadline - core.retry.clock())):
                status, headers, content = await self._wire.exchange(
                    core, call, attempt, token, started
                )
        except TimeoutError:
            raise core.deadline_exceeded(call, call.phase, attempt, started) from None
        finally:
            core.bulkhead.release()
        return core.on_response(call, status, headers, content, attempt, started)

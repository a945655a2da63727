"""The exception tree of nilecare_clients.

::

    NileCareError                      root of everything this library raises
    ├── InvalidRequestError            bad input caught before any I/O (also a ValueError)
    ├── ConfigurationError             a missing or invalid setting (names it, never its value;
    │                                  also a ValueError), or an async client used from a
    │                                  second event loop
    ├── ClientClosedError              the client was closed (also a RuntimeError)
    ├── ResponseValidationError        an answer that does not fit the contract
    │   └── ResponseTooLargeError      a success body over ``max_response_bytes`` (not buffered)
    └── ServiceError                   the service answered with an error, or could not be reached
        ├── BadRequestError            400, 422 (field errors in ``field_errors``)
        │   └── PrescriptionOverrideRequiredError  high-risk, needs an override (contract I14)
        ├── AuthenticationError        401
        ├── PermissionDeniedError      403
        │   └── PrescriptionBlockedError       absolute contraindication (contract I14)
        ├── NotFoundError              404
        ├── ConflictError              409
        ├── RateLimitedError           429
        ├── OutcomeUnknownError        a write that may have been applied (no safe retry);
        │                              NOT a ServerError: ``except ServerError`` misses it,
        │                              whatever the status (a 5xx, a timeout, a reset)
        └── ServerError                5xx
            └── ServiceUnavailableError    503, and transport failures:
                ├── ServiceUnreachableError    connect failed: nothing was sent
                ├── ServiceTimeoutError        connect / read / write / pool timeout
                └── RejectedLocallyError       refused by this process: nothing was sent
                    ├── CircuitOpenError       the service's or the route's circuit is open
                    ├── ThrottledError         shed by adaptive throttling (a brownout)
                    └── BulkheadFullError      too many calls in flight to this service

Every message names service, method, route *template*, status and correlation id, never a
body, a query value or a path id: an error message is a log line, and logs must stay free of
PHI. The raw body of an error answer is kept on ``body`` for callers who opt in to read it.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "BulkheadFullError",
    "CircuitOpenError",
    "ClientClosedError",
    "ConfigurationError",
    "ConflictError",
    "InvalidRequestError",
    "NileCareError",
    "NotFoundError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "PrescriptionBlocked",
    "PrescriptionBlockedError",
    "PrescriptionOverrideRequired",
    "PrescriptionOverrideRequiredError",
    "RateLimitedError",
    "RejectedLocallyError",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "ServerError",
    "ServiceError",
    "ServiceTimeoutError",
    "ServiceUnavailableError",
    "ServiceUnreachableError",
    "ThrottledError",
    "error_class_for_status",
]


class NileCareError(Exception):
    """Root of every exception raised by nilecare_clients."""


class InvalidRequestError(NileCareError, ValueError):
    """The caller's input is invalid; raised before any request leaves the process.

    For an invalid body, ``errors`` lists each broken rule as ``field``, ``rule``, ``type``
    and ``loc`` (pydantic's details without the input values).
    """

    def __init__(self, message: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.errors: list[dict[str, Any]] = errors or []


class ConfigurationError(NileCareError, ValueError):
    """A configuration value is missing or invalid (names the variable, never its value)."""


class ClientClosedError(NileCareError, RuntimeError):
    """The client (or the client a ``with_options`` copy was made from) was closed.

    Its connections are gone; the message says to create a new client rather than leaving
    the caller with httpx's bare ``RuntimeError``.
    """


class _CallContext:
    """Where a failure happened; shared by the service-side errors."""

    service: str
    method: str
    path_template: str
    status_code: int | None
    correlation_id: str | None

    def _where(self) -> str:
        status = f" -> {self.status_code}" if self.status_code is not None else ""
        return (
            f"{self.service}: {self.method} {self.path_template}{status} "
            f"(correlation_id={self.correlation_id})"
        )


class ResponseValidationError(_CallContext, NileCareError):
    """The service answered, but the body is not what the contract promises.

    Not JSON, a missing envelope, a schema mismatch or a proxy's HTML page. The message says
    where; ``errors`` holds pydantic's locations and error types (never input values).
    """

    def __init__(
        self,
        *,
        service: str,
        method: str,
        path_template: str,
        status_code: int | None,
        correlation_id: str | None,
        reason: str,
        errors: list[dict[str, Any]] | None = None,
        body: bytes | None = None,
    ) -> None:
        self.service = service
        self.method = method
        self.path_template = path_template
        self.status_code = status_code
        self.correlation_id = correlation_id
        self.reason = reason
        self.errors = errors or []
        self.body = body
        super().__init__(f"{self._where()}: invalid response: {reason}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self})"


#: Error bodies are kept on ``ServiceError.body`` up to this many bytes; the rest is not read.
ERROR_BODY_LIMIT = 64 * 1024


class ResponseTooLargeError(ResponseValidationError):
    """A success body larger than ``ServiceConfig.max_response_bytes``: refused unread.

    A list or record that large is a fault (a missing filter, a runaway upstream), and reading
    it whole would let one answer take the process's memory.
    """


class ServiceError(_CallContext, NileCareError):
    """Any failed call to a service: an error answer or a transport failure.

    ``retryable`` says whether repeating the same call could succeed (it is not a promise
    that the library retried it). ``retry_after`` is the server's ``Retry-After`` in seconds.
    ``body`` holds the raw error body (its first ``ERROR_BODY_LIMIT`` bytes, 64 KiB) for
    callers who opt in; it may contain PHI and is never part of ``str()`` or ``repr()``.
    ``status_code`` is the status the answer means: the wire status, except for a 2xx whose
    envelope says ``success: false``, which takes the status of its error code (500 when
    there is none) and says so in ``detail``.
    """

    default_retryable = False
    #: A class whose failures never reach the wire (set by ``RejectedLocallyError``; a class
    #: attribute rather than an ``__init__`` layer: a refusal must cost microseconds).
    _never_sent = False

    def __init__(
        self,
        *,
        service: str,
        method: str,
        path_template: str,
        status_code: int | None = None,
        error_code: str | None = None,
        correlation_id: str | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
        detail: str | None = None,
        field_errors: dict[str, list[str]] | None = None,
        body: bytes | None = None,
        request_sent: bool = True,
    ) -> None:
        self.service = service
        self.method = method
        self.path_template = path_template
        self.status_code = status_code
        self.error_code = error_code
        self.correlation_id = correlation_id
        self.retryable = self.default_retryable if retryable is None else retryable
        self.retry_after = retry_after
        self.detail = detail
        self.field_errors = field_errors or {}
        self.body = body
        #: False only when the failure proves nothing reached the server (connect refused,
        #: pool timeout, breaker open): such a call is safe to repeat whatever its method.
        self.request_sent = request_sent and not self._never_sent

    def __str__(self) -> str:
        # Built when read, not when raised: most errors are caught and never printed (a call
        # refused by an open circuit must cost microseconds), and it shows the fields as they
        # are (``detail`` may be completed after the error is built).
        return self._message()

    def _message(self) -> str:
        extras = []
        if self.error_code:
            extras.append(f"code={self.error_code}")
        if self.detail:
            extras.append(self.detail)
        if self.field_errors:
            # Field names only: the messages may echo the submitted (PHI) values.
            extras.append("invalid fields: " + ", ".join(sorted(self.field_errors)))
        if self.retry_after is not None:
            extras.append(f"retry_after={self.retry_after:g}s")
        return self._where() + (": " + "; ".join(extras) if extras else "")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: type[ServiceError], state: dict[str, Any]) -> ServiceError:
    err = cls.__new__(cls)
    err.__dict__.update(state)
    return err


class BadRequestError(ServiceError):
    """400 or 422: the service refused the input; ``field_errors`` maps field -> messages."""


class AuthenticationError(ServiceError):
    """401: the token or API key is missing, malformed or rejected."""


class PermissionDeniedError(ServiceError):
    """403: authenticated, but not allowed (Facility answers 403 to most callers: contract I21)."""


class _PrescriptionRefusal(ServiceError):
    """A prescription refusal carries the CDS assessment the service sent (contract I14)."""

    def __init__(self, *, safety_assessment: Any = None, **kwargs: Any) -> None:
        #: Clinical data: never logged, never part of the message.
        self.safety_assessment = safety_assessment
        super().__init__(**kwargs)

    @classmethod
    def refining(cls, error: ServiceError, safety_assessment: Any) -> ServiceError:
        """The same failure as ``error``, as this more specific class."""
        return cls(
            safety_assessment=safety_assessment,
            service=error.service,
            method=error.method,
            path_template=error.path_template,
            status_code=error.status_code,
            error_code=error.error_code,
            correlation_id=error.correlation_id,
            retryable=error.retryable,
            retry_after=error.retry_after,
            detail=error.detail,
            field_errors=error.field_errors,
            body=error.body,
            request_sent=error.request_sent,
        )


class PrescriptionOverrideRequiredError(_PrescriptionRefusal, BadRequestError):
    """400 with ``requiresOverride``: a high-risk prescription needs ``override_reason``
    (contract I14); ``safety_assessment`` holds the service's assessment."""


class PrescriptionBlockedError(_PrescriptionRefusal, PermissionDeniedError):
    """403 with ``blocked``: an absolute contraindication; no override exists (contract I14)."""


#: Deprecated aliases (the names before 0.2): the same classes, kept for existing callers.
PrescriptionOverrideRequired = PrescriptionOverrideRequiredError
PrescriptionBlocked = PrescriptionBlockedError


class NotFoundError(ServiceError):
    """404, or a get-by-id answered 200 with ``data: null`` (contract I11)."""


class ConflictError(ServiceError):
    """409: a duplicate, a lost race (bed assign), or an idempotency key reused with a new body."""


class RateLimitedError(ServiceError):
    """429: slow down; ``retry_after`` says for how long when the server sent it."""

    default_retryable = True


class OutcomeUnknownError(ServiceError):
    """A write that may have been applied: the library will not repeat it blindly.

    Raised for a POST/PATCH that cannot be safely repeated when the failure does not prove the
    request was left unprocessed (read timeout, reset after the body was sent, 500).
    ``idempotency_key`` is the key the request carried, if any, so the caller can reconcile.
    """

    def __init__(self, *, idempotency_key: str | None = None, **kwargs: Any) -> None:
        self.idempotency_key = idempotency_key
        super().__init__(**kwargs)

    def _message(self) -> str:
        key = f"; idempotency_key={self.idempotency_key}" if self.idempotency_key else ""
        return f"{super()._message()}: the write may have been applied{key}"


class ServerError(ServiceError):
    """5xx: the service failed; counts against the circuit breaker."""


class ServiceUnavailableError(ServerError):
    """503, and the parent of every failure to get an answer at all."""

    default_retryable = True


class ServiceUnreachableError(ServiceUnavailableError):
    """The connection could not be made (refused, DNS, TLS): nothing reached the service."""


class ServiceTimeoutError(ServiceUnavailableError):
    """A connect, read, write or pool timeout, or the call's deadline ran out."""


class RejectedLocallyError(ServiceUnavailableError):
    """Refused by this process before any I/O: the request never reached the wire.

    ``request_sent`` is always False, the call is never retried (a retry would only add load),
    and it counts as neither success nor failure for the circuits and the throttle.
    """

    _never_sent = True


class CircuitOpenError(RejectedLocallyError):
    """The service's circuit, or this route's (``route_open``), is open: failed at once.

    ``retry_after`` is the number of seconds until the circuit lets a probe through.
    """

    def __init__(self, *, route_open: bool = False, **kwargs: Any) -> None:
        #: True when only this route template's circuit is open: other routes still work.
        self.route_open = route_open
        super().__init__(**kwargs)


class ThrottledError(RejectedLocallyError):
    """Shed locally by adaptive throttling: the service refuses a share of calls (a brownout),
    and the client does not send the excess it would refuse too.

    The next call may well go through (its probability is ``dependencies_health()``'s
    ``throttle_probability``); ``retry_after`` is not set.
    """


class BulkheadFullError(RejectedLocallyError):
    """Too many calls to this service are already in flight; none was sent."""


_STATUS_CLASSES: dict[int, type[ServiceError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: BadRequestError,
    429: RateLimitedError,
    503: ServiceUnavailableError,
}


def error_class_for_status(status_code: int) -> type[ServiceError]:
    """The exception class for an HTTP status (contract I10: the status decides, not the code)."""
    cls = _STATUS_CLASSES.get(status_code)
    if cls is not None:
        return cls
    if status_code >= 500:
        return ServerError
    return ServiceError

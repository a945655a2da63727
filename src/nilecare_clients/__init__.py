"""Typed, resilient HTTP clients for NileCare's Clinical and Facility services.

Everything public is re-exported here; the implementation modules are private.
"""

from nilecare_clients._client import AsyncBaseServiceClient, BaseServiceClient, HealthStatus
from nilecare_clients._config import (
    BreakerPolicy,
    RetryPolicy,
    ServiceConfig,
    TokenFile,
)
from nilecare_clients._correlation import (
    correlation_scope,
    deadline_scope,
    get_correlation_id,
)
from nilecare_clients._errors import (
    AuthenticationError,
    BadRequestError,
    BulkheadFullError,
    CircuitOpenError,
    ConfigurationError,
    ConflictError,
    InvalidRequestError,
    NileCareError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    RateLimitedError,
    ResponseValidationError,
    ServerError,
    ServiceError,
    ServiceTimeoutError,
    ServiceUnavailableError,
    ServiceUnreachableError,
)
from nilecare_clients._version import __version__
from nilecare_clients.middleware import CorrelationIdMiddleware, WSGICorrelationIdMiddleware

__all__ = [
    "AsyncBaseServiceClient",
    "AuthenticationError",
    "BadRequestError",
    "BaseServiceClient",
    "BreakerPolicy",
    "BulkheadFullError",
    "CircuitOpenError",
    "ConfigurationError",
    "ConflictError",
    "CorrelationIdMiddleware",
    "HealthStatus",
    "InvalidRequestError",
    "NileCareError",
    "NotFoundError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "RateLimitedError",
    "ResponseValidationError",
    "RetryPolicy",
    "ServerError",
    "ServiceConfig",
    "ServiceError",
    "ServiceTimeoutError",
    "ServiceUnavailableError",
    "ServiceUnreachableError",
    "TokenFile",
    "WSGICorrelationIdMiddleware",
    "__version__",
    "correlation_scope",
    "deadline_scope",
    "get_correlation_id",
]

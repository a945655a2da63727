"""Typed, resilient HTTP clients for NileCare's Clinical and Facility services.

Everything public is re-exported here; the implementation modules are private.
"""

from nilecare_clients._cache import CachePolicy, CacheResult, CacheStats, FacilityCache
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
    ClientClosedError,
    ConfigurationError,
    ConflictError,
    InvalidRequestError,
    NileCareError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    PrescriptionBlocked,
    PrescriptionBlockedError,
    PrescriptionOverrideRequired,
    PrescriptionOverrideRequiredError,
    RateLimitedError,
    RejectedLocallyError,
    ResponseTooLargeError,
    ResponseValidationError,
    ServerError,
    ServiceError,
    ServiceTimeoutError,
    ServiceUnavailableError,
    ServiceUnreachableError,
    ThrottledError,
)
from nilecare_clients._version import __version__
from nilecare_clients.clinical import AsyncClinicalServiceClient, ClinicalServiceClient
from nilecare_clients.facility import AsyncFacilityServiceClient, FacilityServiceClient
from nilecare_clients.middleware import CorrelationIdMiddleware, WSGICorrelationIdMiddleware

__all__ = [
    "AsyncBaseServiceClient",
    "AsyncClinicalServiceClient",
    "AsyncFacilityServiceClient",
    "AuthenticationError",
    "BadRequestError",
    "BaseServiceClient",
    "BreakerPolicy",
    "BulkheadFullError",
    "CachePolicy",
    "CacheResult",
    "CacheStats",
    "CircuitOpenError",
    "ClientClosedError",
    "ClinicalServiceClient",
    "ConfigurationError",
    "ConflictError",
    "CorrelationIdMiddleware",
    "FacilityCache",
    "FacilityServiceClient",
    "HealthStatus",
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
    "RetryPolicy",
    "ServerError",
    "ServiceConfig",
    "ServiceError",
    "ServiceTimeoutError",
    "ServiceUnavailableError",
    "ServiceUnreachableError",
    "ThrottledError",
    "TokenFile",
    "WSGICorrelationIdMiddleware",
    "__version__",
    "correlation_scope",
    "deadline_scope",
    "get_correlation_id",
]


def _restamp_public_names() -> None:
    """Public names say ``nilecare_clients.X`` (reprs, tracebacks, docs), not a private module."""
    for name in __all__:
        value = globals()[name]
        if getattr(value, "__module__", "").startswith("nilecare_clients._"):
            value.__module__ = __name__


_restamp_public_names()

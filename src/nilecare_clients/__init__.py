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
    ConfigurationError,
    ConflictError,
    InvalidRequestError,
    NileCareError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    PrescriptionBlocked,
    PrescriptionOverrideRequired,
    RateLimitedError,
    ResponseTooLargeError,
    ResponseValidationError,
    ServerError,
    ServiceError,
    ServiceTimeoutError,
    ServiceUnavailableError,
    ServiceUnreachableError,
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
    "PrescriptionOverrideRequired",
    "RateLimitedError",
    "ResponseTooLargeError",
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

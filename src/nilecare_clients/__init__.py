"""Typed, resilient HTTP clients for NileCare's Clinical and Facility services.

Everything public is re-exported here; the implementation modules are private. Names load on
first use (PEP 562), so ``import nilecare_clients`` costs almost nothing and a service pays
only for what it touches: the Clinical client does not load the Facility models, and nothing
optional (redis, aiohttp, OpenTelemetry, Prometheus) loads unless asked for. Type checkers and
IDEs read the ``TYPE_CHECKING`` imports below, so the names and their types are unchanged.
"""

import importlib
import sys

from nilecare_clients._version import __version__

# Not ``typing.TYPE_CHECKING``: importing typing (and re) would double the cost of this
# module; type checkers treat any ``TYPE_CHECKING`` name as true. Deleted at the end: not public.
TYPE_CHECKING = False
if TYPE_CHECKING:
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
    from nilecare_clients.clinical import AsyncClinicalServiceClient, ClinicalServiceClient
    from nilecare_clients.facility import AsyncFacilityServiceClient, FacilityServiceClient
    from nilecare_clients.middleware import CorrelationIdMiddleware, WSGICorrelationIdMiddleware


# Each public name and the module it lives in (relative to this package); loaded on first use.
_LAZY: dict[str, tuple[str, ...]] = {
    "_cache": (
        "CachePolicy",
        "CacheResult",
        "CacheStats",
        "FacilityCache",
    ),
    "_client": (
        "AsyncBaseServiceClient",
        "BaseServiceClient",
        "HealthStatus",
    ),
    "_config": (
        "BreakerPolicy",
        "RetryPolicy",
        "ServiceConfig",
        "TokenFile",
    ),
    "_correlation": (
        "correlation_scope",
        "deadline_scope",
        "get_correlation_id",
    ),
    "_errors": (
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
    ),
    "clinical": (
        "AsyncClinicalServiceClient",
        "ClinicalServiceClient",
    ),
    "facility": (
        "AsyncFacilityServiceClient",
        "FacilityServiceClient",
    ),
    "middleware": (
        "CorrelationIdMiddleware",
        "WSGICorrelationIdMiddleware",
    ),
}

_HOME = {name: module for module, names in _LAZY.items() for name in names}

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


# Hidden from type checkers, which would otherwise accept any attribute (a typo) as
# ``object``: they see the names through the imports above.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> object:
        """Load the module a public name lives in, on first use (PEP 562)."""
        module = _HOME.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
        _publish_loaded()
        return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def _publish_loaded() -> None:
    """Bind every public name whose module is loaded, saying ``nilecare_clients.X``.

    Reprs, tracebacks and pickles name the package, not a private module: an error raised by a
    client says ``nilecare_clients.NotFoundError`` even if the caller never touched that name.
    """
    for name, module in _HOME.items():
        loaded = sys.modules.get(f"{__name__}.{module}")
        value = getattr(loaded, name, None)  # None too while that module is still importing
        if value is None:
            continue
        if getattr(value, "__module__", "").startswith("nilecare_clients._"):
            value.__module__ = __name__
        globals()[name] = value


del TYPE_CHECKING

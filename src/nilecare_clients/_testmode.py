"""The process-wide test switch behind ``nilecare_clients.testing.set_testing``.

Read once per call by the retry loop, so a service team's test suite never sleeps through
backoff and never needs to patch a private function.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["TestMode", "clear_routes", "current", "routed_transport", "set_mode", "set_route"]


@dataclass(frozen=True)
class TestMode:
    attempts: int | None = None  # overrides RetryPolicy.max_attempts when set
    backoff: bool = True  # False: retries happen at once (no sleeping)


_OFF = TestMode()
_mode = _OFF


def current() -> TestMode:
    return _mode


def set_mode(mode: TestMode | None) -> TestMode:
    """Install ``mode`` (``None``: off); returns the previous one."""
    global _mode
    previous, _mode = _mode, (mode or _OFF)
    return previous


# Service name -> a transport serving that service in-process (``testing.route_to``). Read once
# when a client is constructed, so production code pays one dict lookup per client, not per call.
_routes: dict[str, Any] = {}


def routed_transport(service: str) -> Any:
    return _routes.get(service)


def set_route(service: str, transport: Any) -> Any:
    """Route clients of ``service`` to ``transport`` (``None`` removes); returns the previous."""
    previous = _routes.get(service)
    if transport is None:
        _routes.pop(service, None)
    else:
        _routes[service] = transport
    return previous


def clear_routes() -> None:
    _routes.clear()

"""The process-wide test switch behind ``nilecare_clients.testing.set_testing``.

Read once per call by the retry loop, so a service team's test suite never sleeps through
backoff and never needs to patch a private function.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nilecare_clients._state import routes as _routes
from nilecare_clients._state import settings

__all__ = ["TestMode", "clear_routes", "current", "routed_transport", "set_mode", "set_route"]


@dataclass(frozen=True)
class TestMode:
    attempts: int | None = None  # overrides RetryPolicy.max_attempts when set
    backoff: bool = True  # False: retries happen at once (no sleeping)


_OFF = TestMode()


def current() -> TestMode:
    mode: TestMode | None = settings.test_mode
    return mode or _OFF


def set_mode(mode: TestMode | None) -> TestMode:
    """Install ``mode`` (``None``: off); returns the previous one."""
    previous = current()
    settings.test_mode = mode
    return previous


# ``_state.routes``: service name -> a transport serving that service in-process
# (``testing.route_to``). Read once when a client is constructed, so production code pays one
# dict lookup per client, not per call.


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

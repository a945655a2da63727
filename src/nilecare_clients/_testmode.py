"""Process-wide test switches behind ``nilecare_clients.testing``: test mode, routes, clock.

Test mode is read once per call by the retry loop, so a service team's suite that asks for it
never sleeps through backoff and never patches a private function. Nothing here is on unless a
test turns it on; ``testing.reset_state()`` turns all of it off.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from nilecare_clients._state import routes as _routes
from nilecare_clients._state import settings

__all__ = [
    "TestMode",
    "advance_clock",
    "clear_routes",
    "clock_offset",
    "current",
    "monotonic",
    "routed_transport",
    "set_clock_offset",
    "set_mode",
    "set_route",
]


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


# The library's default clock (``RetryPolicy.clock``): ``time.monotonic`` plus an offset that
# only tests move (``testing.TestClock``), so a test ages caches and breaker timers without
# sleeping, even in clients the app built itself. Costs one addition per read in production.
_offset = 0.0
_system_monotonic = time.monotonic


def monotonic() -> float:
    return _system_monotonic() + _offset


def clock_offset() -> float:
    return _offset


def set_clock_offset(seconds: float) -> None:
    global _offset
    _offset = seconds


def advance_clock(seconds: float) -> None:
    """Move the library's clock forward (``testing.TestClock`` validates ``seconds``)."""
    global _offset
    _offset += seconds

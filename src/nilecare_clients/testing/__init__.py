"""Test support for services that call Clinical and Facility through nilecare_clients.

``set_testing``, ``reset_state``, ``route_to`` and ``TestClock`` need nothing beyond the core
install. The fakes, stubs
and pytest plugin need the ``testing`` extra (``pip install "nilecare-clients[testing]"``)
and are imported lazily, so importing this package never pulls Starlette by itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nilecare_clients import _state, _testmode
from nilecare_clients._errors import ConfigurationError

if TYPE_CHECKING:
    from nilecare_clients.testing.fakes import (
        FakeClinicalService,
        FakeFacilityService,
        make_bed,
        make_department,
        make_diagnostic,
        make_encounter,
        make_facility,
        make_medication,
        make_patient,
        make_ward,
    )
    from nilecare_clients.testing.stubs import CLINICAL_STUB_URL, FACILITY_STUB_URL, NileCareStub

__all__ = [
    "CLINICAL_STUB_URL",
    "FACILITY_STUB_URL",
    "FakeClinicalService",
    "FakeFacilityService",
    "NileCareStub",
    "TestClock",
    "make_bed",
    "make_department",
    "make_diagnostic",
    "make_encounter",
    "make_facility",
    "make_medication",
    "make_patient",
    "make_ward",
    "reset_state",
    "route_to",
    "set_testing",
]

_LAZY = {
    "CLINICAL_STUB_URL": "stubs",
    "FACILITY_STUB_URL": "stubs",
    "NileCareStub": "stubs",
    **{name: "fakes" for name in __all__ if name.startswith(("Fake", "make_"))},
}


def __getattr__(name: str) -> Any:
    """Fakes and stubs load on first use: they need the ``testing`` extra (Starlette, respx)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


class _TestingSwitch:
    """Returned by ``set_testing``: already active; as a context manager, restores on exit."""

    def __init__(self, previous: _testmode.TestMode) -> None:
        self._previous = previous

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        _testmode.set_mode(self._previous)


def set_testing(
    on: bool = True, *, attempts: int | None = 1, backoff: bool = False
) -> _TestingSwitch:
    """Make every client retry ``attempts`` times in total, without sleeping (for test suites).

    ``set_testing()`` switches it on for the process; ``set_testing(False)`` switches it off;
    ``with set_testing(attempts=3):`` applies only inside the block. ``attempts=None`` keeps
    each client's own ``RetryPolicy.max_attempts`` and only drops the backoff sleeps.
    Nothing turns it on by itself: not installing the library, not the pytest plugin.
    """
    if attempts is not None and (isinstance(attempts, bool) or not isinstance(attempts, int)):
        raise ConfigurationError("set_testing: attempts must be an int or None")
    if attempts is not None and attempts < 1:
        raise ConfigurationError("set_testing: attempts must be at least 1")
    mode = _testmode.TestMode(attempts=attempts, backoff=backoff) if on else None
    return _TestingSwitch(_testmode.set_mode(mode))


class TestClock:
    """The library's monotonic clock as a test drives it: ``advance()`` ages without sleeping.

    Every client whose ``RetryPolicy.clock`` is the default reads this clock, including the
    clients an app builds itself: advancing it expires Facility cache entries (fresh, then
    stale-if-error, then gone), lets an open breaker reach half-open, and rolls retry-budget
    windows. A client given its own ``clock=`` keeps it. ``reset_state()`` puts it back to 0.
    """

    __test__ = False  # not a test class, whatever pytest's naming rules say

    def __call__(self) -> float:
        """The library's current monotonic time (real time plus every ``advance``)."""
        return _testmode.monotonic()

    @property
    def offset(self) -> float:
        """Seconds added to the real monotonic clock by ``advance`` since the last reset."""
        return _testmode.clock_offset()

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (an int or float >= 0)."""
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise ConfigurationError("TestClock.advance: seconds must be a number")
        if not seconds >= 0:  # also refuses NaN
            raise ConfigurationError("TestClock.advance: the clock only moves forward")
        _testmode.advance_clock(float(seconds))

    def __repr__(self) -> str:
        return f"TestClock(offset={self.offset:g})"


def reset_state() -> None:
    """Forget all process-wide state (``_state.reset``): breakers, budgets, bulkheads, caches,
    hooks, tracer, test mode, routes, audit caller, remembered enum values, spare ids."""
    _state.reset()
    _testmode.set_clock_offset(0.0)


class _Routing:
    """Returned by ``route_to``: already active; as a context manager, restores on exit."""

    def __init__(self, previous: dict[str, Any]) -> None:
        self._previous = previous

    def __enter__(self) -> _Routing:
        return self

    def __exit__(self, *exc: object) -> None:
        self.undo()

    def undo(self) -> None:
        for service, transport in self._previous.items():
            _testmode.set_route(service, transport)


def route_to(*fakes: Any, **by_service: Any) -> _Routing:
    """Send every client of a service that the code under test creates to a fake, in-process.

    However the app builds its clients (constructor, ``from_env``, a lifespan), a client whose
    ``ServiceConfig.name`` is routed talks to the fake through its transport, without sockets.
    Positional fakes are routed by their service (``clinical-service`` -> ``"clinical"``);
    keywords route any service name: ``route_to(billing=fake)``. A transport or client given
    explicitly to a client still wins. Use as a context manager, or call ``.undo()``.
    """
    targets = {fake.service_name.removesuffix("-service"): fake for fake in fakes}
    targets.update(by_service)
    previous: dict[str, Any] = {}
    for service, fake in targets.items():
        transport = fake.transport() if hasattr(fake, "transport") else fake
        previous[service] = _testmode.set_route(service, transport)
    return _Routing(previous)

"""Circuit breakers of one service, per process: one for the service, one per route template.

A hard open state is the right tool when something is gone and the wrong one when a service is
merely degraded (issue 22): partial failure is left to the adaptive throttle (``throttle.py``),
and a circuit opens only when nearly everything it covers fails (issue 17 item 9):

* a **route** circuit (one per route template, e.g. ``/api/v1/patients``) opens when at least
  ``failure_rate`` of its last ``window_size`` calls (``minimum_calls`` at least) failed with a
  5xx or a transport failure. One broken route (Clinical's ``GET /patients`` answering 500)
  stops being called; the routes that work keep working.
* the **service** circuit opens on failures that say the service itself is gone: the same
  rate over the service's last ``window_size`` calls when the failures are transport failures
  (refused, timeouts, resets before an answer) or 5xx spread across at least two routes, or
  ``consecutive_failures`` transport failures in a row.

Each call asks ``admit(route)`` before any I/O and reports one outcome when it ends; no lock is
held across I/O; an open circuit lets ``half_open_max_calls`` probes through after
``reset_timeout``; time is the injected monotonic clock. Calls refused here (open circuit or
throttle) count as neither success nor failure. Transitions are logged and dispatched to hooks
after the lock is released (naming the route, or none for the service); listeners added with
``add_listener`` hear the service's transitions, and one that raises never fails the call that
caused the transition.

The state machine is ours; pybreaker was used once and is gone (docs/architecture.md).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

from nilecare_clients import _hooks, _state
from nilecare_clients._config import BreakerPolicy
from nilecare_clients._hooks import BreakerTransition
from nilecare_clients._log import emit
from nilecare_clients._resilience.throttle import Throttle

__all__ = [
    "ADMITTED",
    "CLOSED",
    "GONE",
    "HALF_OPEN",
    "HEALTHY",
    "NEUTRAL",
    "OPEN",
    "ROUTE_FAILURE",
    "ROUTE_OPEN",
    "ROUTE_PROBE",
    "SERVICE_OPEN",
    "SERVICE_PROBE",
    "THROTTLED",
    "ServiceBreaker",
    "StateListener",
]

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half-open"

# What admit() says (first item of its answer).
ADMITTED, SERVICE_OPEN, ROUTE_OPEN, THROTTLED = 0, 1, 2, 3
# Probe bits (second item): the call is the service's probe, the route's probe, or both.
SERVICE_PROBE, ROUTE_PROBE = 1, 2
# The one outcome a call reports: nothing learnt, an answer, a 5xx answer, no answer at all.
NEUTRAL, HEALTHY, ROUTE_FAILURE, GONE = 0, 1, 2, 3

#: Called as ``listener(service, previous_state, new_state)`` on every service transition.
StateListener = Callable[[str, str, str], None]

_ADMIT = (ADMITTED, 0, 0.0)
_THROTTLE = (THROTTLED, 0, 0.0)


class _Circuit:
    """State and trailing window of one scope (the service, or one route)."""

    __slots__ = ("fail_routes", "failures", "gone", "opened_at", "probes", "state", "window")

    def __init__(self, size: int) -> None:
        self.state = CLOSED
        self.opened_at = 0.0
        self.probes = 0
        # (outcome, route) per call; outcome is HEALTHY, ROUTE_FAILURE or GONE.
        self.window: deque[tuple[int, str]] = deque(maxlen=size)
        self.failures = 0
        self.gone = 0
        #: Failures in the window per route (the service scope uses it for "across routes").
        self.fail_routes: dict[str, int] = {}

    def push(self, outcome: int, route: str) -> None:
        window = self.window
        if outcome == HEALTHY and not self.failures and len(window) == window.maxlen:
            # Fast path (the steady state): a full window of successes is unchanged by one
            # more success (a success's route is never read), so there is nothing to update.
            return
        if len(window) == window.maxlen:
            old, old_route = window[0]
            if old != HEALTHY:
                self.failures -= 1
                self.gone -= old == GONE
                left = self.fail_routes[old_route] - 1
                if left:
                    self.fail_routes[old_route] = left
                else:
                    del self.fail_routes[old_route]
        window.append((outcome, route))
        if outcome != HEALTHY:
            self.failures += 1
            self.gone += outcome == GONE
            self.fail_routes[route] = self.fail_routes.get(route, 0) + 1

    def clear(self) -> None:
        self.window.clear()
        self.failures = self.gone = 0
        self.fail_routes.clear()

    def rate(self) -> float:
        n = len(self.window)
        return self.failures / n if n else 0.0

    def release_probe(self) -> None:
        # Probes are counted while in flight, across re-openings: a probe that outlives its
        # half-open period still holds a slot, so at most half_open_max_calls are ever out.
        # The floor only matters after reset() forgot probes still in flight.
        if self.probes > 0:
            self.probes -= 1


class ServiceBreaker:
    """The circuits and throttle of one service. Thread-safe; never blocks across I/O."""

    def __init__(self, service: str, policy: BreakerPolicy, clock: Callable[[], float]) -> None:
        self.service = service
        self.policy = policy
        self._clock = clock
        self._lock = threading.Lock()
        self._service = _Circuit(policy.window_size)
        self._routes: dict[str, _Circuit] = {}
        self._consecutive_gone = 0
        self.throttle = Throttle(
            policy.throttle_k,
            policy.throttle_window,
            policy.throttle_min_requests,
            clock,
            policy.throttle_random,
        )
        self._throttling = policy.enabled and policy.throttle
        self._listeners: list[StateListener] = []
        self._pending: deque[tuple[str | None, str, str]] = deque()

    # -- what callers, health endpoints and metrics read ------------------------------------
    @property
    def state(self) -> str:
        """The service circuit: ``"closed"``, ``"open"`` or ``"half-open"``."""
        return self._service.state

    def route_state(self, route: str) -> str:
        """The circuit of one route template (``"closed"`` for a route never called)."""
        circuit = self._routes.get(route)
        return circuit.state if circuit is not None else CLOSED

    def route_states(self) -> dict[str, str]:
        """Every route this breaker has heard of, with its circuit's state."""
        with self._lock:
            return {route: circuit.state for route, circuit in self._routes.items()}

    def seconds_until_probe(self, route: str | None = None) -> float:
        """Time until a call (to ``route``, if given) may go out as a probe (0 when closed)."""
        now = self._clock()
        wait = self._wait(self._service, now)
        if route is not None:
            circuit = self._routes.get(route)
            if circuit is not None:
                wait = max(wait, self._wait(circuit, now))
        return wait

    def failure_rate(self, route: str | None = None) -> float:
        """Failures over the calls in the service's (or the route's) window (0.0 when empty)."""
        with self._lock:
            circuit = self._service if route is None else self._routes.get(route)
            return circuit.rate() if circuit is not None else 0.0

    def rejection_probability(self) -> float:
        """The throttle's current probability of refusing a call locally."""
        return self.throttle.rejection_probability() if self._throttling else 0.0

    def add_listener(self, listener: StateListener) -> None:
        self._listeners.append(listener)

    # -- the call protocol: admit() before I/O, one record() when the call ends -------------
    def admit(self, route: str, first: bool = True) -> tuple[int, int, float]:
        """``(verdict, probe bits, retry_after)`` for a call to ``route`` about to go out.

        ``verdict`` is ``ADMITTED``, ``SERVICE_OPEN``, ``ROUTE_OPEN`` or ``THROTTLED``; a call
        not admitted raises without any I/O. ``retry_after`` is the time until the next probe
        (0 while probes are in flight). The throttle judges only first attempts (``first``):
        retries are bounded by the retry budget. A probe is never throttled: it is the one
        call that can tell the circuit the service is back.
        """
        if not self.policy.enabled:
            return _ADMIT
        if self._service.state == CLOSED:
            circuit = self._routes.get(route)
            if circuit is None or circuit.state == CLOSED:
                if first and self._throttling and self.throttle.rejects():
                    return _THROTTLE
                return _ADMIT
        with self._lock:
            result = self._admit_locked(route)
        if self._pending:
            self._deliver()
        # Closed after all (another thread closed them): the throttle judges as on the fast path.
        throttled = result == _ADMIT and first and self._throttling and self.throttle.rejects()
        return _THROTTLE if throttled else result

    def record(self, route: str, outcome: int, probe: int, overloaded: bool = False) -> None:
        """The call's one outcome: ``HEALTHY``, ``ROUTE_FAILURE``, ``GONE`` or ``NEUTRAL``.

        The throttle hears it too, unless ``NEUTRAL``: accepted when the service answered
        with anything but "too much load" (``overloaded``: a 429, 502, 503 or 504).
        """
        if not self.policy.enabled:
            return
        if self._throttling and outcome != NEUTRAL:
            self.throttle.record(outcome != GONE and not overloaded)
        with self._lock:
            if outcome == HEALTHY and not probe:
                # The steady state: one more success into full windows of successes changes
                # nothing (no transition without a failure or a probe; no failure in the
                # service's window means no transport failure in a row either).
                service = self._service
                circuit = self._routes.get(route)
                if (
                    not service.failures
                    and circuit is not None
                    and not circuit.failures
                    and len(service.window) == service.window.maxlen
                    and len(circuit.window) == circuit.window.maxlen
                ):
                    return
            if outcome == NEUTRAL:
                if probe & SERVICE_PROBE:
                    self._service.release_probe()
                if probe & ROUTE_PROBE and (circuit := self._routes.get(route)) is not None:
                    circuit.release_probe()
                return
            self._record_locked(route, outcome, probe)
        if self._pending:
            self._deliver()

    def reset(self) -> None:
        """Everything closed, windows and throttle empty (tests, an operator's override)."""
        with self._lock:
            self._consecutive_gone = 0
            service = self._service
            service.clear()
            service.probes = 0
            if service.state != CLOSED:
                self._transition(service, None, CLOSED)
            for route, circuit in self._routes.items():
                circuit.clear()
                circuit.probes = 0
                if circuit.state != CLOSED:
                    self._transition(circuit, route, CLOSED)
        self.throttle.reset()
        self._deliver()

    # -- internals (lock held) ------------------------------------------------------------
    def _wait(self, circuit: _Circuit, now: float) -> float:
        if circuit.state != OPEN:
            return 0.0
        return max(0.0, circuit.opened_at + self.policy.reset_timeout - now)

    def _admit_locked(self, route: str) -> tuple[int, int, float]:
        now = self._clock()
        limit = self.policy.half_open_max_calls
        service = self._service
        if service.state == OPEN:
            wait = self._wait(service, now)
            if wait > 0:
                return SERVICE_OPEN, 0, wait
            self._transition(service, None, HALF_OPEN)
        if service.state == HALF_OPEN and service.probes >= limit:
            return SERVICE_OPEN, 0, 0.0  # probes are out; the rest fail fast until one reports
        circuit = self._routes.get(route)
        if circuit is not None:
            if circuit.state == OPEN:
                wait = self._wait(circuit, now)
                if wait > 0:
                    return ROUTE_OPEN, 0, wait
                self._transition(circuit, route, HALF_OPEN)
            if circuit.state == HALF_OPEN and circuit.probes >= limit:
                return ROUTE_OPEN, 0, 0.0
        probe = 0
        if service.state == HALF_OPEN:
            service.probes += 1
            probe |= SERVICE_PROBE
        if circuit is not None and circuit.state == HALF_OPEN:
            circuit.probes += 1
            probe |= ROUTE_PROBE
        return ADMITTED, probe, 0.0

    def _record_locked(self, route: str, outcome: int, probe: int) -> None:
        service = self._service
        circuit = self._routes.get(route)
        if circuit is None:
            circuit = self._routes[route] = _Circuit(self.policy.window_size)
        failed = outcome != HEALTHY
        self._consecutive_gone = self._consecutive_gone + 1 if outcome == GONE else 0
        # The route's circuit.
        circuit.push(outcome, route)
        if probe & ROUTE_PROBE:
            circuit.release_probe()
            if circuit.state == HALF_OPEN:
                self._transition(circuit, route, OPEN if failed else CLOSED)
        elif circuit.state == CLOSED and failed and self._rate_trips(circuit):
            self._transition(circuit, route, OPEN)
        # The service's circuit: a route's 5xx alone says the service is there.
        service.push(outcome, route)
        if probe & SERVICE_PROBE:
            service.release_probe()
            if service.state == HALF_OPEN:
                # A probe that reached the service and got a 5xx from its route still proves
                # the service is there: only "gone" reopens the service circuit.
                self._transition(service, None, OPEN if outcome == GONE else CLOSED)
        elif service.state == CLOSED and failed and self._service_trips():
            self._transition(service, None, OPEN)

    def _rate_trips(self, circuit: _Circuit) -> bool:
        n = len(circuit.window)
        return n >= self.policy.minimum_calls and circuit.failures >= self.policy.failure_rate * n

    def _service_trips(self) -> bool:
        if self._consecutive_gone >= self.policy.consecutive_failures:
            return True
        service = self._service
        if not self._rate_trips(service):
            return False
        # Gone failures alone reach the rate, or the failures are spread across routes.
        n = len(service.window)
        return service.gone >= self.policy.failure_rate * n or len(service.fail_routes) >= 2

    def _transition(self, circuit: _Circuit, route: str | None, new_state: str) -> None:
        # Queued under the lock, delivered after it: a listener that reads ``state`` sees the
        # new one and may call back into the breaker.
        previous = circuit.state
        circuit.state = new_state
        if new_state == OPEN:
            circuit.opened_at = self._clock()
        elif new_state == CLOSED:
            circuit.clear()
            if route is None:
                self._consecutive_gone = 0
        self._pending.append((route, previous, new_state))

    # -- notifications (delivered without the lock: listeners may read the breaker) --------
    def _deliver(self) -> None:
        while True:
            try:
                route, previous, new = self._pending.popleft()
            except IndexError:
                return
            self._notify(route, previous, new)

    def _notify(self, route: str | None, previous: str, new: str) -> None:
        event = {OPEN: "opened", HALF_OPEN: "half_opened", CLOSED: "closed"}[new]
        emit(
            "warning" if new == OPEN else "info",
            f"nilecare_clients.breaker_{event}",
            service=self.service,
            route=route,
            scope="service" if route is None else "route",
            state=new,
            previous_state=previous,
        )
        if _state.observers.active:
            _hooks.dispatch(BreakerTransition(self.service, previous, new, route))
        if route is not None:
            return
        for listener in list(self._listeners):
            try:
                listener(self.service, previous, new)
            except Exception as exc:
                # A broken metrics hook must not fail the call that happened to trip the breaker.
                emit(
                    "error",
                    "nilecare_clients.breaker_listener_failed",
                    service=self.service,
                    state=new,
                    error=type(exc).__name__,
                )

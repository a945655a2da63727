"""A hypothesis rule-based test of the circuits *and* the throttle together, against a model.

The model is the rules' wording (docs/architecture.md, "Circuits and throttle"), written as
plainly as possible: calls to two routes are admitted, stay in flight, and report one outcome
(healthy, a 5xx from their route, no answer at all, or nothing learnt) in any order while time
moves and the throttle's random draw changes. Every step compares admission (admitted, which
circuit refused, throttled), probe bits and ``retry_after``; the invariants compare the state
of the service and of each route, failure rates, the throttle's probability, and that no more
than ``half_open_max_calls`` probes of any circuit are ever in flight.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass, field

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
)

from nilecare_clients import BreakerPolicy
from nilecare_clients._resilience import breaker as b
from nilecare_clients._resilience.breaker import ServiceBreaker
from support import FakeClock

RESET_TIMEOUT = 30.0
THROTTLE_WINDOW = 10.0  # ten one-second buckets
ROUTES = ("/a", "/b")


@dataclass
class Circuit:
    state: str = "closed"
    opened_at: float = 0.0
    probes: int = 0
    window: deque[tuple[int, str]] = field(default_factory=deque)

    def failures(self) -> int:
        return sum(1 for outcome, _ in self.window if outcome != b.HEALTHY)


@dataclass
class InFlight:
    route: str
    probe: int


class BreakerAndThrottle(RuleBasedStateMachine):
    calls = Bundle("calls")

    @initialize(
        consecutive=st.integers(1, 6),
        window=st.integers(1, 12),
        minimum=st.integers(1, 12),
        rate=st.sampled_from([0.25, 0.5, 0.75, 1.0]),
        probes=st.integers(1, 3),
        k=st.sampled_from([1.5, 2.0, 3.0]),
        min_requests=st.integers(1, 8),
    )
    def setup(
        self,
        consecutive: int,
        window: int,
        minimum: int,
        rate: float,
        probes: int,
        k: float,
        min_requests: int,
    ) -> None:
        self.draw = 0.5
        minimum = min(minimum, window)  # a larger minimum is a ConfigurationError
        self.policy = BreakerPolicy(
            consecutive_failures=consecutive,
            window_size=window,
            minimum_calls=minimum,
            failure_rate=rate,
            reset_timeout=RESET_TIMEOUT,
            half_open_max_calls=probes,
            throttle_k=k,
            throttle_window=THROTTLE_WINDOW,
            throttle_min_requests=min_requests,
            throttle_random=lambda: self.draw,
        )
        self.clock = FakeClock()
        self.breaker = ServiceBreaker("model", self.policy, self.clock)
        # The model.
        self.service = Circuit(window=deque(maxlen=window))
        self.routes = {route: Circuit(window=deque(maxlen=window)) for route in ROUTES}
        self.seen: set[str] = set()
        self.consecutive_gone = 0
        self.throttle: list[tuple[int, bool]] = []  # (bucket, accepted) per call sent
        self.in_flight: list[InFlight] = []

    # -- the model's rules ----------------------------------------------------------------
    def _bucket(self) -> int:
        return int(self.clock() / (THROTTLE_WINDOW / 10))

    def _probability(self) -> float:
        now = self._bucket()
        recent = [accepted for bucket, accepted in self.throttle if now - bucket < 10]
        requests, accepts = len(recent), sum(recent)
        if requests < self.policy.throttle_min_requests:
            return 0.0
        return max(0.0, (requests - self.policy.throttle_k * accepts) / (requests + 1))

    def _wait(self, circuit: Circuit) -> float:
        if circuit.state != "open":
            return 0.0
        return max(0.0, circuit.opened_at + RESET_TIMEOUT - self.clock())

    def _set(self, circuit: Circuit, state: str) -> None:
        circuit.state = state
        if state == "open":
            circuit.opened_at = self.clock()
        elif state == "closed":
            circuit.window.clear()
            if circuit is self.service:
                self.consecutive_gone = 0

    def _rate_trips(self, circuit: Circuit) -> bool:
        n = len(circuit.window)
        return n >= self.policy.minimum_calls and circuit.failures() >= self.policy.failure_rate * n

    def _expected_admission(self, route: str) -> tuple[int, int, float]:
        limit = self.policy.half_open_max_calls
        service, circuit = self.service, self.routes[route]
        if service.state == "open":
            if self._wait(service) > 0:
                return b.SERVICE_OPEN, 0, self._wait(service)
            service.state = "half-open"
        if service.state == "half-open" and service.probes >= limit:
            return b.SERVICE_OPEN, 0, 0.0
        if route in self.seen:
            if circuit.state == "open":
                if self._wait(circuit) > 0:
                    return b.ROUTE_OPEN, 0, self._wait(circuit)
                circuit.state = "half-open"
            if circuit.state == "half-open" and circuit.probes >= limit:
                return b.ROUTE_OPEN, 0, 0.0
        probe = 0
        if service.state == "half-open":
            service.probes += 1
            probe |= b.SERVICE_PROBE
        if circuit.state == "half-open":
            circuit.probes += 1
            probe |= b.ROUTE_PROBE
        if probe == 0 and self.draw < self._probability():
            return b.THROTTLED, 0, 0.0  # a probe is never throttled
        return b.ADMITTED, probe, 0.0

    # -- steps ----------------------------------------------------------------------------
    @rule(target=calls, route=st.sampled_from(ROUTES))
    def admit(self, route: str) -> object:
        verdict, probe, wait = self.breaker.admit(route)
        expected = self._expected_admission(route)
        assert (verdict, probe) == expected[:2]
        assert abs(wait - expected[2]) < 1e-9
        if verdict != b.ADMITTED:
            return multiple()  # nothing in flight, nothing recorded
        flight = InFlight(route, probe)
        self.in_flight.append(flight)
        return flight

    @rule(
        flight=consumes(calls),
        outcome=st.sampled_from([b.HEALTHY, b.ROUTE_FAILURE, b.GONE, b.NEUTRAL]),
        overloaded=st.booleans(),
    )
    def report(self, flight: InFlight, outcome: int, overloaded: bool) -> None:
        self.in_flight.remove(flight)
        self.breaker.record(flight.route, outcome, flight.probe, overloaded)
        service, circuit = self.service, self.routes[flight.route]
        if outcome == b.NEUTRAL:
            if flight.probe & b.SERVICE_PROBE:
                service.probes = max(0, service.probes - 1)
            if flight.probe & b.ROUTE_PROBE:
                circuit.probes = max(0, circuit.probes - 1)
            return
        self.throttle.append((self._bucket(), outcome != b.GONE and not overloaded))
        self.seen.add(flight.route)
        failed = outcome != b.HEALTHY
        self.consecutive_gone = self.consecutive_gone + 1 if outcome == b.GONE else 0
        circuit.window.append((outcome, flight.route))
        if flight.probe & b.ROUTE_PROBE:
            circuit.probes = max(0, circuit.probes - 1)
            if circuit.state == "half-open":
                self._set(circuit, "open" if failed else "closed")
        elif circuit.state == "closed" and failed and self._rate_trips(circuit):
            self._set(circuit, "open")
        service.window.append((outcome, flight.route))
        if flight.probe & b.SERVICE_PROBE:
            service.probes = max(0, service.probes - 1)
            if service.state == "half-open":
                self._set(service, "open" if outcome == b.GONE else "closed")
        elif service.state == "closed" and failed:
            gone = sum(1 for o, _ in service.window if o == b.GONE)
            routes = {r for o, r in service.window if o != b.HEALTHY}
            n = len(service.window)
            if self.consecutive_gone >= self.policy.consecutive_failures or (
                self._rate_trips(service)
                and (gone >= self.policy.failure_rate * n or len(routes) >= 2)
            ):
                self._set(service, "open")

    @rule(seconds=st.sampled_from([0.0, 0.5, 1.0, 5.0, RESET_TIMEOUT - 1, RESET_TIMEOUT]))
    def wait(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @rule(draw=st.floats(0.0, 0.999))
    def next_draw(self, draw: float) -> None:
        self.draw = draw

    # -- invariants -----------------------------------------------------------------------
    @invariant()
    def same_states(self) -> None:
        assert self.breaker.state == self.service.state
        for route in ROUTES:
            assert self.breaker.route_state(route) == self.routes[route].state

    @invariant()
    def never_more_probes_than_allowed(self) -> None:
        limit = self.policy.half_open_max_calls
        assert sum(1 for c in self.in_flight if c.probe & b.SERVICE_PROBE) <= limit
        for route in ROUTES:
            out = sum(1 for c in self.in_flight if c.route == route and c.probe & b.ROUTE_PROBE)
            assert out <= limit

    @invariant()
    def seconds_until_probe_agrees(self) -> None:
        assert abs(self.breaker.seconds_until_probe() - self._wait(self.service)) < 1e-9
        for route in ROUTES:
            expected = max(self._wait(self.service), self._wait(self.routes[route]))
            assert abs(self.breaker.seconds_until_probe(route) - expected) < 1e-9

    @invariant()
    def failure_rates_agree(self) -> None:
        for circuit, route in [(self.service, None)] + [(self.routes[r], r) for r in ROUTES]:
            n = len(circuit.window)
            expected = circuit.failures() / n if n else 0.0
            assert math.isclose(self.breaker.failure_rate(route), expected, abs_tol=1e-9)

    @invariant()
    def throttle_agrees(self) -> None:
        assert math.isclose(self.breaker.rejection_probability(), self._probability(), abs_tol=1e-9)


BreakerAndThrottle.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_circuits_and_throttle_match_their_model = BreakerAndThrottle.TestCase
test_circuits_and_throttle_match_their_model.__doc__ = (
    "Circuits and throttle agree with the model on admission, states, rates and retry_after."
)


def test_a_probe_outliving_its_half_open_period_still_counts() -> None:
    """A probe still in flight after its sibling reopened the circuit keeps its slot."""
    clock = FakeClock()
    policy = BreakerPolicy(consecutive_failures=1, half_open_max_calls=2)
    breaker = ServiceBreaker("unit", policy, clock)
    breaker.record("/a", b.GONE, 0)
    clock.advance(RESET_TIMEOUT)
    assert breaker.admit("/a")[:2] == (b.ADMITTED, b.SERVICE_PROBE)
    assert breaker.admit("/a")[:2] == (b.ADMITTED, b.SERVICE_PROBE)
    breaker.record("/a", b.GONE, b.SERVICE_PROBE)  # reopens; the other probe is still out
    clock.advance(RESET_TIMEOUT)
    assert breaker.admit("/a")[:2] == (b.ADMITTED, b.SERVICE_PROBE)
    assert breaker.admit("/a")[0] == b.SERVICE_OPEN  # one slot is still held by the old probe
    breaker.record("/a", b.NEUTRAL, b.SERVICE_PROBE)  # the old probe ends without an answer
    assert breaker.admit("/a")[:2] == (b.ADMITTED, b.SERVICE_PROBE)
    assert breaker.admit("/a")[0] == b.SERVICE_OPEN


def test_reset_forgets_probes_without_going_negative() -> None:
    """reset() with a probe in flight, then that probe reporting, never frees an extra slot."""
    clock = FakeClock()
    breaker = ServiceBreaker("unit", BreakerPolicy(consecutive_failures=1), clock)
    breaker.record("/a", b.GONE, 0)
    clock.advance(RESET_TIMEOUT)
    assert breaker.admit("/a")[1] == b.SERVICE_PROBE
    breaker.reset()
    breaker.record("/a", b.NEUTRAL, b.SERVICE_PROBE)  # the forgotten probe reports late
    breaker.record("/a", b.GONE, 0)
    clock.advance(RESET_TIMEOUT)
    assert [breaker.admit("/a")[0] for _ in range(3)] == [
        b.ADMITTED,
        b.SERVICE_OPEN,
        b.SERVICE_OPEN,
    ]


def test_listeners_may_read_the_breaker() -> None:
    """A listener that reads failure_rate() on a transition neither deadlocks nor sees stale state."""
    clock = FakeClock()
    breaker = ServiceBreaker("unit", BreakerPolicy(consecutive_failures=2), clock)
    heard: list[tuple[str, str, float]] = []
    breaker.add_listener(
        lambda service, old, new: heard.append((new, breaker.state, breaker.failure_rate()))
    )

    def trip() -> None:
        breaker.record("/a", b.GONE, 0)
        breaker.record("/a", b.GONE, 0)

    worker = threading.Thread(target=trip, daemon=True)
    worker.start()
    worker.join(timeout=2)
    assert not worker.is_alive(), "a listener reading the breaker deadlocked it"
    assert heard == [("open", "open", 1.0)]

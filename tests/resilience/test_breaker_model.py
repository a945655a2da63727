"""A hypothesis rule-based test of ``ServiceBreaker`` against a small model of the rules.

The model is the issue's wording, written as plainly as possible: calls are admitted, stay in
flight, and report one outcome in any order while time moves. Every step compares admission,
``retry_after`` and state; the invariant that matters most is that no more than
``half_open_max_calls`` probes are ever in flight, whatever order the outcomes arrive in.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

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
from nilecare_clients._resilience.breaker import ServiceBreaker
from support import FakeClock

RESET_TIMEOUT = 30.0


@dataclass
class InFlight:
    probe: bool


class BreakerMachine(RuleBasedStateMachine):
    calls = Bundle("calls")

    @initialize(
        consecutive=st.integers(1, 6),
        window=st.integers(1, 12),
        minimum=st.integers(1, 12),
        rate=st.sampled_from([0.25, 0.5, 0.75, 1.0]),
        probes=st.integers(1, 3),
    )
    def setup(self, consecutive: int, window: int, minimum: int, rate: float, probes: int) -> None:
        self.policy = BreakerPolicy(
            consecutive_failures=consecutive,
            window_size=window,
            minimum_calls=minimum,
            failure_rate=rate,
            reset_timeout=RESET_TIMEOUT,
            half_open_max_calls=probes,
        )
        self.clock = FakeClock()
        self.breaker = ServiceBreaker("model", self.policy, self.clock)
        # The model.
        self.state = "closed"
        self.opened_at = 0.0
        self.consecutive = 0
        self.window: deque[bool] = deque(maxlen=window)
        self.in_flight: list[InFlight] = []

    # -- the model's rules ----------------------------------------------------------------
    def _open(self) -> None:
        self.state = "open"
        self.opened_at = self.clock()

    def _close(self) -> None:
        self.state = "closed"
        self.window.clear()
        self.consecutive = 0

    def _probes_in_flight(self) -> int:
        return sum(1 for c in self.in_flight if c.probe)

    # -- steps ----------------------------------------------------------------------------
    @rule(target=calls)
    def admit(self) -> object:
        admitted, probe, wait = self.breaker.admit()
        expected: tuple[bool, bool, float]
        if self.state == "open" and self.opened_at + RESET_TIMEOUT - self.clock() > 0:
            expected = (False, False, self.opened_at + RESET_TIMEOUT - self.clock())
        elif self.state == "closed":
            expected = (True, False, 0.0)
        else:
            self.state = "half-open"
            if self._probes_in_flight() < self.policy.half_open_max_calls:
                expected = (True, True, 0.0)
            else:
                expected = (False, False, 0.0)
        assert (admitted, probe) == expected[:2]
        assert abs(wait - expected[2]) < 1e-9
        if not admitted:
            return multiple()  # nothing in flight
        flight = InFlight(probe)
        self.in_flight.append(flight)
        return flight

    @rule(flight=consumes(calls))
    def succeed(self, flight: InFlight) -> None:
        self.in_flight.remove(flight)
        self.breaker.record_success(flight.probe)
        self.consecutive = 0
        self.window.append(False)
        if flight.probe and self.state == "half-open":
            self._close()

    @rule(flight=consumes(calls))
    def fail(self, flight: InFlight) -> None:
        self.in_flight.remove(flight)
        self.breaker.record_failure(flight.probe)
        self.consecutive += 1
        self.window.append(True)
        if self.state == "half-open":
            self._open()
        elif self.state == "closed":
            n = len(self.window)
            too_many = n >= self.policy.minimum_calls and sum(self.window) / n >= (
                self.policy.failure_rate
            )
            if self.consecutive >= self.policy.consecutive_failures or too_many:
                self._open()

    @rule(flight=consumes(calls))
    def cancel(self, flight: InFlight) -> None:
        self.in_flight.remove(flight)
        self.breaker.record_neutral(flight.probe)

    @rule(seconds=st.sampled_from([0.0, 1.0, RESET_TIMEOUT - 1, RESET_TIMEOUT, RESET_TIMEOUT + 1]))
    def wait(self, seconds: float) -> None:
        self.clock.advance(seconds)

    # -- invariants -----------------------------------------------------------------------
    @invariant()
    def same_state(self) -> None:
        assert self.breaker.state == self.state

    @invariant()
    def never_more_probes_than_allowed(self) -> None:
        assert self._probes_in_flight() <= self.policy.half_open_max_calls

    @invariant()
    def seconds_until_probe_agrees(self) -> None:
        expected = (
            max(0.0, self.opened_at + RESET_TIMEOUT - self.clock()) if self.state == "open" else 0.0
        )
        assert abs(self.breaker.seconds_until_probe() - expected) < 1e-9

    @invariant()
    def failure_rate_agrees(self) -> None:
        n = len(self.window)
        expected = sum(self.window) / n if n else 0.0
        assert abs(self.breaker.failure_rate() - expected) < 1e-9


BreakerMachine.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_breaker_matches_its_model = BreakerMachine.TestCase
test_breaker_matches_its_model.__doc__ = (
    "ServiceBreaker agrees with the model on admission, state and retry_after at every step."
)


def test_a_probe_outliving_its_half_open_period_still_counts() -> None:
    """A probe still in flight after its sibling reopened the breaker keeps its slot."""
    clock = FakeClock()
    policy = BreakerPolicy(consecutive_failures=1, half_open_max_calls=2)
    breaker = ServiceBreaker("unit", policy, clock)
    breaker.record_failure(False)
    clock.advance(RESET_TIMEOUT)
    assert breaker.admit()[:2] == (True, True)
    assert breaker.admit()[:2] == (True, True)
    breaker.record_failure(True)  # reopens; the other probe is still out
    clock.advance(RESET_TIMEOUT)
    assert breaker.admit()[:2] == (True, True)
    assert breaker.admit()[:2] == (False, False)  # one slot is still held by the old probe
    breaker.record_neutral(True)  # the old probe ends without an answer
    assert breaker.admit()[:2] == (True, True)
    assert breaker.admit()[:2] == (False, False)


def test_reset_forgets_probes_without_going_negative() -> None:
    """reset() with a probe in flight, then that probe reporting, never frees an extra slot."""
    clock = FakeClock()
    breaker = ServiceBreaker("unit", BreakerPolicy(consecutive_failures=1), clock)
    breaker.record_failure(False)
    clock.advance(RESET_TIMEOUT)
    assert breaker.admit()[1] is True
    breaker.reset()
    breaker.record_neutral(True)  # the forgotten probe reports late
    breaker.record_failure(False)
    clock.advance(RESET_TIMEOUT)
    assert [breaker.admit()[0] for _ in range(3)] == [True, False, False]


def test_listeners_may_read_the_breaker() -> None:
    """A listener that reads failure_rate() on a transition neither deadlocks nor sees stale state."""
    clock = FakeClock()
    breaker = ServiceBreaker("unit", BreakerPolicy(consecutive_failures=2), clock)
    heard: list[tuple[str, str, float]] = []
    breaker.add_listener(
        lambda service, old, new: heard.append((new, breaker.state, breaker.failure_rate()))
    )

    def trip() -> None:
        breaker.record_failure(False)
        breaker.record_failure(False)

    worker = threading.Thread(target=trip, daemon=True)
    worker.start()
    worker.join(timeout=2)
    assert not worker.is_alive(), "a listener reading the breaker deadlocked it"
    assert heard == [("open", "open", 1.0)]

"""One circuit breaker per service name per process, shared by sync and async clients.

The state machine, admission and counting rules are ours. pybreaker was used once and is
gone: it cannot express these rules (no asyncio support: ``call(async_fn)`` counts the
coroutine as a success before it runs and holds a lock for the whole call; consecutive
failures only; every call let through when half-open; the wall clock), so its breaker was
only written to, never read, and importing it loads redis when redis is installed.

A call asks ``admit()`` before any I/O and reports exactly one outcome afterwards; no lock is
held across I/O, the failure *rate* over a sliding window also trips the breaker, half-open
admits a bounded number of probes, and time comes from the injected monotonic clock.
Transitions are logged and passed to listeners after the lock is released, so a listener may
read the breaker; a listener that raises is logged and never fails the call that caused the
transition.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

from nilecare_clients import _hooks, _state
from nilecare_clients._config import BreakerPolicy
from nilecare_clients._hooks import BreakerTransition
from nilecare_clients._log import emit

__all__ = ["CLOSED", "HALF_OPEN", "OPEN", "ServiceBreaker", "StateListener"]

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half-open"

#: Called as ``listener(service, previous_state, new_state)`` on every transition.
StateListener = Callable[[str, str, str], None]


class ServiceBreaker:
    """The breaker of one service. Thread-safe; never blocks while a request is in flight."""

    def __init__(self, service: str, policy: BreakerPolicy, clock: Callable[[], float]) -> None:
        self.service = service
        self.policy = policy
        self._clock = clock
        self._lock = threading.Lock()
        self._state: str = CLOSED
        self._window: deque[bool] = deque(maxlen=policy.window_size)
        self._window_failures = 0
        self._consecutive = 0
        self._opened_at = 0.0
        self._probes = 0
        self._listeners: list[StateListener] = []
        self._pending: deque[tuple[str, str]] = deque()

    # -- what callers and health endpoints read -------------------------------------------
    @property
    def state(self) -> str:
        """``"closed"``, ``"open"`` or ``"half-open"`` (an expired open state reads as open)."""
        return self._state

    def seconds_until_probe(self) -> float:
        """Time until an open breaker lets a probe through (0 when not open)."""
        if self._state != OPEN:
            return 0.0
        return max(0.0, self._opened_at + self.policy.reset_timeout - self._clock())

    def failure_rate(self) -> float:
        """Failures over the calls in the sliding window (0.0 when the window is empty)."""
        with self._lock:
            n = len(self._window)
            return self._window_failures / n if n else 0.0

    def add_listener(self, listener: StateListener) -> None:
        self._listeners.append(listener)

    # -- the call protocol: admit() before I/O, then exactly one record_*() ---------------
    def admit(self) -> tuple[bool, bool, float]:
        """``(admitted, is_probe, retry_after)`` for a call about to go out.

        When not admitted the caller raises ``CircuitOpenError`` without any I/O;
        ``retry_after`` is the time until the next probe (0 while probes are in flight).
        """
        if self._state == CLOSED or not self.policy.enabled:
            return True, False, 0.0
        with self._lock:
            if self._state == OPEN:
                wait = self._opened_at + self.policy.reset_timeout - self._clock()
                if wait > 0:
                    return False, False, wait
                self._transition(HALF_OPEN)
            if self._state != HALF_OPEN:
                result = (True, False, 0.0)
            elif self._probes >= self.policy.half_open_max_calls:
                # Probes are out; the rest fail fast until one of them reports back.
                result = (False, False, 0.0)
            else:
                self._probes += 1
                result = (True, True, 0.0)
        self._deliver()
        return result

    def record_success(self, probe: bool) -> None:
        """The service answered (2xx, or a 4xx: the service is healthy and said no)."""
        if not self.policy.enabled:
            return
        with self._lock:
            self._consecutive = 0
            self._push(False)
            if probe:
                self._probe_done()
                if self._state == HALF_OPEN:
                    self._transition(CLOSED)
        if self._pending:
            self._deliver()

    def record_failure(self, probe: bool) -> None:
        """A 5xx, a connect failure or a timeout: the service looks unhealthy."""
        if not self.policy.enabled:
            return
        with self._lock:
            self._consecutive += 1
            self._push(True)
            if probe:
                self._probe_done()
            if self._state == HALF_OPEN or (self._state == CLOSED and self._should_open()):
                self._transition(OPEN)
        if self._pending:
            self._deliver()

    def record_neutral(self, probe: bool) -> None:
        """The call ended without telling anything about the service (cancelled, bad body)."""
        if probe:
            with self._lock:
                self._probe_done()

    def reset(self) -> None:
        """Back to closed with empty counters (tests, and an operator's manual override)."""
        with self._lock:
            self._window.clear()
            self._window_failures = 0
            self._consecutive = 0
            self._probes = 0
            if self._state != CLOSED:
                self._transition(CLOSED)
        self._deliver()

    # -- internals (called with the lock held) --------------------------------------------
    def _probe_done(self) -> None:
        # Probes are counted while in flight, across re-openings: a probe that outlives its
        # half-open period still occupies a slot, so at most half_open_max_calls are ever
        # out at once. The floor only matters after reset() forgot probes still in flight.
        if self._probes > 0:
            self._probes -= 1

    def _push(self, failed: bool) -> None:
        window = self._window
        if len(window) == window.maxlen and window[0]:
            self._window_failures -= 1
        window.append(failed)
        if failed:
            self._window_failures += 1

    def _should_open(self) -> bool:
        policy = self.policy
        if self._consecutive >= policy.consecutive_failures:
            return True
        n = len(self._window)
        return n >= policy.minimum_calls and self._window_failures / n >= policy.failure_rate

    def _transition(self, new_state: str) -> None:
        # Queued under the lock, delivered after it: a listener that reads ``state`` sees the
        # new one and may call back into the breaker.
        previous = self._state
        self._state = new_state
        if new_state == OPEN:
            self._opened_at = self._clock()
        elif new_state == CLOSED:
            self._window.clear()
            self._window_failures = 0
            self._consecutive = 0
        self._pending.append((previous, new_state))

    # -- notifications (delivered without the lock: listeners may read the breaker) --------
    def _deliver(self) -> None:
        while True:
            try:
                previous, new = self._pending.popleft()
            except IndexError:
                return
            self._notify(previous, new)

    def _notify(self, previous: str, new: str) -> None:
        event = {OPEN: "opened", HALF_OPEN: "half_opened", CLOSED: "closed"}[new]
        emit(
            "warning" if new == OPEN else "info",
            f"nilecare_clients.breaker_{event}",
            service=self.service,
            state=new,
            previous_state=previous,
        )
        if _state.observers.active:
            _hooks.dispatch(BreakerTransition(self.service, previous, new))
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

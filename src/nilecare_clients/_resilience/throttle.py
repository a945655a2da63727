"""Client-side adaptive throttling: shed the excess load of a degraded service, not all of it.

The rule of Google's SRE book ("Handling Overload"): over a trailing window, refuse a call
locally with probability ``max(0, (requests - K * accepts) / (requests + 1))``. While the
service accepts more than ``1 / K`` of what is sent, nothing is shed; as accepts fall, the
client sends about ``K`` times what the service still accepts, and nearly nothing when it
accepts nothing. Three deliberate differences from the book:

* ``requests`` counts calls that went out, not calls refused here. Counting local refusals
  (the book's choice) makes refusals feed themselves: once the service accepts less than
  ``1 / K``, the client converges to one request per window and, after the service recovers,
  needs about ``log2(requests in a window)`` windows to climb back. Counting only what was sent
  keeps ``sqrt(window * call rate)`` requests per window going out in an outage (about 3 % of
  the offered load at 100 calls/s) and recovers within a second or two of answers returning.
  Refused calls are thereby "neither success nor failure" (issue 22).
* One outcome per *call*, after its retries (as the circuits hear it), not per attempt: at 50 %
  injected 503s the retry budget lifts the calls' acceptance just above ``1 / K``, so chance
  does not shed calls that the baseline without resilience would have got through; retries are
  bounded by the retry budget, not here.
* Nothing is shed until ``min_requests`` calls are in the window, so one 503 in a quiet
  minute does not refuse the next call with probability 1/2.

Only answers that say "too much load" are not accepts (``_decisions.OVERLOAD_STATUSES``:
429, 502, 503, 504) and transport failures that say the service is unhealthy (connect
failures, timeouts, resets). A 500 is the service answering (a bug on one route), which the
route's circuit handles.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["Throttle"]

_BUCKETS = 10


class Throttle:
    """Requests and accepts of one service in ``_BUCKETS`` time buckets over ``window`` s."""

    __slots__ = (
        "_accepts",
        "_clock",
        "_current",
        "_lock",
        "_random",
        "_requests",
        "_width",
        "accepts",
        "k",
        "min_requests",
        "requests",
        "window",
    )

    def __init__(
        self,
        k: float,
        window: float,
        min_requests: int,
        clock: Callable[[], float],
        random: Callable[[], float],
    ) -> None:
        self.k = k
        self.window = window
        self.min_requests = min_requests
        self._clock = clock
        self._random = random
        self._width = window / _BUCKETS
        self._lock = threading.Lock()
        self._requests = [0] * _BUCKETS
        self._accepts = [0] * _BUCKETS
        #: Totals over the window, kept in step with the buckets (read without the lock).
        self.requests = 0
        self.accepts = 0
        self._current = int(clock() / self._width)

    def _advance(self, now: int) -> int:
        """Drop the buckets that left the window (lock held); returns the current slot."""
        stale = now - self._current
        if stale > 0:
            for step in range(1, min(stale, _BUCKETS) + 1):
                slot = (self._current + step) % _BUCKETS
                self.requests -= self._requests[slot]
                self.accepts -= self._accepts[slot]
                self._requests[slot] = 0
                self._accepts[slot] = 0
            self._current = now
        return now % _BUCKETS

    def rejection_probability(self) -> float:
        """``max(0, (requests - K * accepts) / (requests + 1))`` over the trailing window."""
        now = int(self._clock() / self._width)
        if now != self._current:
            with self._lock:
                self._advance(now)
        requests = self.requests
        if requests < self.min_requests:
            return 0.0
        excess = requests - self.k * self.accepts
        return excess / (requests + 1) if excess > 0 else 0.0

    def rejects(self) -> bool:
        """Whether the next call is refused locally (a random draw only when shedding)."""
        # rejection_probability's arithmetic, inline: asked before every first attempt.
        now = int(self._clock() / self._width)
        if now != self._current:
            with self._lock:
                self._advance(now)
        requests = self.requests
        if requests < self.min_requests:
            return False
        excess = requests - self.k * self.accepts
        return excess > 0 and self._random() < excess / (requests + 1)

    def record(self, accepted: bool) -> None:
        """One call went out and ended: accepted by the service, or refused / unanswered."""
        now = int(self._clock() / self._width)
        with self._lock:
            # Within the current bucket (nearly every call) there is nothing to drop.
            slot = now % _BUCKETS if now == self._current else self._advance(now)
            self._requests[slot] += 1
            self.requests += 1
            if accepted:
                self._accepts[slot] += 1
                self.accepts += 1

    def reset(self) -> None:
        with self._lock:
            self._requests = [0] * _BUCKETS
            self._accepts = [0] * _BUCKETS
            self.requests = self.accepts = 0

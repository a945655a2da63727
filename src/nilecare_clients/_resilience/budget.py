"""Retry budget: retries may add at most a fraction over first attempts (per service).

The semantics of Finagle's retry budgets and gRPC retry throttling: in a sliding window,
``retries <= ratio * first_attempts + min_per_second * window``. Under a total outage the
downstream load therefore stays close to the offered load instead of multiplying by the
attempt count, while low traffic can still retry thanks to the floor.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["RetryBudget"]

_BUCKETS = 10


class RetryBudget:
    """Counts first attempts and retries in ``_BUCKETS`` time buckets covering the window."""

    def __init__(
        self,
        ratio: float,
        min_per_second: float,
        window: float,
        clock: Callable[[], float],
    ) -> None:
        self.ratio = ratio
        self.min_per_second = min_per_second
        self.window = window
        self._clock = clock
        self._bucket_width = window / _BUCKETS
        self._lock = threading.Lock()
        self._requests = [0] * _BUCKETS
        self._retries = [0] * _BUCKETS
        self._current = self._bucket_index()

    def _bucket_index(self) -> int:
        return int(self._clock() / self._bucket_width)

    def _advance(self) -> int:
        """Zero the buckets that fell out of the window; returns the current slot."""
        now = self._bucket_index()
        stale = now - self._current
        if stale > 0:
            for step in range(1, min(stale, _BUCKETS) + 1):
                slot = (self._current + step) % _BUCKETS
                self._requests[slot] = 0
                self._retries[slot] = 0
            self._current = now
        return now % _BUCKETS

    def record_request(self, at: float | None = None) -> None:
        """A first attempt went out (at ``at`` on the clock, if the caller has just read it):
        it earns ``ratio`` of a retry."""
        now = int((self._clock() if at is None else at) / self._bucket_width)
        with self._lock:
            # Within the current bucket (nearly every call) there is nothing to zero.
            self._requests[now % _BUCKETS if now == self._current else self._advance()] += 1

    def try_spend(self) -> bool:
        """Take one retry from the budget; ``False`` when it is spent."""
        with self._lock:
            slot = self._advance()
            allowed = self.ratio * sum(self._requests) + self.min_per_second * self.window
            if sum(self._retries) + 1 > allowed:
                return False
            self._retries[slot] += 1
            return True

    def reset(self) -> None:
        with self._lock:
            self._requests = [0] * _BUCKETS
            self._retries = [0] * _BUCKETS

"""Bulkhead: at most K requests in flight to one service, shared by threads and tasks.

A slow service must not take every connection and worker of its caller. Excess calls wait up
to the pool timeout and then fail with ``BulkheadFullError`` (nothing was sent). The counter is
shared by sync and async clients, so it is guarded by a thread lock; async waiters poll with a
short, growing sleep, which only happens when the service is already saturated.
"""

from __future__ import annotations

import asyncio
import threading
import time

__all__ = ["Bulkhead"]


class Bulkhead:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._in_flight = 0
        #: Threads blocked in ``acquire`` (lock held), so ``release`` notifies only when needed.
        self._waiting = 0
        # The fast paths take the lock itself (a C call), not the condition's Python wrapper.
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def try_acquire(self) -> bool:
        with self._lock:
            if self._in_flight < self.limit:
                self._in_flight += 1
                return True
            return False

    def acquire(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a slot (threads)."""
        with self._cond:
            if self._in_flight < self.limit:  # fast path: a free slot needs no clock read
                self._in_flight += 1
                return True
            deadline = time.monotonic() + timeout
            self._waiting += 1
            try:
                while self._in_flight >= self.limit:
                    left = deadline - time.monotonic()
                    timed_out = left <= 0 or not self._cond.wait(left)
                    if timed_out and self._in_flight >= self.limit:
                        return False
            finally:
                self._waiting -= 1
            self._in_flight += 1
            return True

    async def acquire_async(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a slot (asyncio), without blocking the loop."""
        if self.try_acquire():
            return True
        deadline = time.monotonic() + timeout
        pause = 0.0005
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            await asyncio.sleep(min(pause, left))
            if self.try_acquire():
                return True
            pause = min(pause * 2, 0.01)

    def release(self) -> None:
        with self._lock:
            self._in_flight -= 1
            if self._waiting:  # no thread waiting (the usual case): nothing to wake
                self._cond.notify()

    def reset(self) -> None:
        with self._cond:
            self._in_flight = 0
            self._cond.notify_all()

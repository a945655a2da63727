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
        self._cond = threading.Condition(threading.Lock())

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def try_acquire(self) -> bool:
        with self._cond:
            if self._in_flight < self.limit:
                self._in_flight += 1
                return True
            return False

    def acquire(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a slot (threads)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._in_flight >= self.limit:
                left = deadline - time.monotonic()
                timed_out = left <= 0 or not self._cond.wait(left)
                if timed_out and self._in_flight >= self.limit:
                    return False
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
        with self._cond:
            self._in_flight -= 1
            self._cond.notify()

    def reset(self) -> None:
        with self._cond:
            self._in_flight = 0
            self._cond.notify_all()

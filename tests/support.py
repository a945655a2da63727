"""Test helpers importable from any test module (``tests`` is on pytest's pythonpath)."""

from __future__ import annotations

import inspect
from typing import Any

from nilecare_clients import RetryPolicy


class FakeClock:
    """A monotonic clock that only moves when something sleeps (or a test advances it)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


def retry_policy(clock: FakeClock, **overrides: Any) -> RetryPolicy:
    """A RetryPolicy on the fake clock with a fixed jitter of 0.5."""
    values: dict[str, Any] = {
        "sleep": clock.sleep,
        "async_sleep": clock.async_sleep,
        "clock": clock,
        "jitter": lambda: 0.5,
    }
    values.update(overrides)
    return RetryPolicy(**values)


async def call(value: Any) -> Any:
    """Await ``value`` if the client was async; sync clients already returned the result."""
    if inspect.isawaitable(value):
        return await value
    return value

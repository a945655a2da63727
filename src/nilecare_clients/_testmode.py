"""The process-wide test switch behind ``nilecare_clients.testing.set_testing``.

Read once per call by the retry loop, so a service team's test suite never sleeps through
backoff and never needs to patch a private function.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TestMode", "current", "set_mode"]


@dataclass(frozen=True)
class TestMode:
    attempts: int | None = None  # overrides RetryPolicy.max_attempts when set
    backoff: bool = True  # False: retries happen at once (no sleeping)


_OFF = TestMode()
_mode = _OFF


def current() -> TestMode:
    return _mode


def set_mode(mode: TestMode | None) -> TestMode:
    """Install ``mode`` (``None``: off); returns the previous one."""
    global _mode
    previous, _mode = _mode, (mode or _OFF)
    return previous

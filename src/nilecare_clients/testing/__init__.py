"""Test support for services that call Clinical and Facility through nilecare_clients.

``set_testing`` and ``reset_state`` need nothing beyond the core install. The fakes, stubs
and pytest plugin need the ``testing`` extra (``pip install "nilecare-clients[testing]"``)
and are imported lazily, so importing this package never pulls Starlette by itself.
"""

from __future__ import annotations

from nilecare_clients import _testmode
from nilecare_clients._cache import reset_caches
from nilecare_clients._resilience.registry import reset_state as _reset_resilience

__all__ = ["reset_state", "set_testing"]


class _TestingSwitch:
    """Returned by ``set_testing``: already active; as a context manager, restores on exit."""

    def __init__(self, previous: _testmode.TestMode) -> None:
        self._previous = previous

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        _testmode.set_mode(self._previous)


def set_testing(on: bool = True, *, attempts: int = 1, backoff: bool = False) -> _TestingSwitch:
    """Make every client retry ``attempts`` times in total, without sleeping (for test suites).

    ``set_testing()`` switches it on for the process; ``set_testing(False)`` switches it off;
    ``with set_testing(attempts=3):`` applies only inside the block.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    mode = _testmode.TestMode(attempts=attempts, backoff=backoff) if on else None
    return _TestingSwitch(_testmode.set_mode(mode))


def reset_state() -> None:
    """Forget all process-wide state: breakers, retry budgets, bulkheads, caches, test mode."""
    _reset_resilience()
    reset_caches()
    _testmode.set_mode(None)

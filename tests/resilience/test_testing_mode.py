"""The public test mode: users' suites make one attempt and never sleep, without patching."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from resilience_helpers import Handler, get, make_config

from nilecare_clients import ServiceUnavailableError
from nilecare_clients.testing import reset_state, set_testing
from support import FakeClock

NO_BREAKER = {"enabled": False}  # these tests fail many calls in a row on purpose


async def test_set_testing_makes_one_attempt_and_never_sleeps(
    make_client: Any, clock: FakeClock
) -> None:
    """set_testing() makes every call a single attempt with no backoff."""
    handler = Handler(default=503)
    client = make_client(make_config(clock, breaker=NO_BREAKER), handler)
    set_testing()
    with pytest.raises(ServiceUnavailableError):
        await get(client)
    assert handler.count == 1
    assert clock.sleeps == []


async def test_context_manager_restores_the_previous_mode(
    make_client: Any, clock: FakeClock
) -> None:
    """Inside ``with set_testing(attempts=3)`` retries happen at once; outside, backoff is back."""
    handler = Handler(default=503)
    client = make_client(make_config(clock, breaker=NO_BREAKER), handler)
    with set_testing(attempts=3):
        with pytest.raises(ServiceUnavailableError):
            await get(client)
        assert handler.count == 3
        assert all(seconds == 0 for seconds in clock.sleeps)
    with pytest.raises(ServiceUnavailableError):
        await get(client)
    assert handler.count == 6
    assert [s for s in clock.sleeps if s] == pytest.approx([0.05, 0.1])


async def test_nested_scopes_restore_in_order(make_client: Any, clock: FakeClock) -> None:
    """A nested test-mode block restores the outer block's mode, not the default."""
    handler = Handler(default=503)
    client = make_client(make_config(clock, breaker=NO_BREAKER), handler)
    with set_testing(attempts=2):
        with set_testing(attempts=1):
            with pytest.raises(ServiceUnavailableError):
                await get(client)
        assert handler.count == 1
        with pytest.raises(ServiceUnavailableError):
            await get(client)
        assert handler.count == 3


async def test_test_mode_ignores_retry_after_sleeps(make_client: Any, clock: FakeClock) -> None:
    """With backoff off, even a Retry-After answer is retried without sleeping."""
    handler = Handler(httpx.Response(503, headers={"Retry-After": "5"}), 200)
    client = make_client(make_config(clock, breaker=NO_BREAKER), handler)
    with set_testing(attempts=2):
        await get(client)
    assert handler.count == 2
    assert all(seconds == 0 for seconds in clock.sleeps)


async def test_switching_off_and_reset_state(make_client: Any, clock: FakeClock) -> None:
    """set_testing(False) and reset_state() both bring back the configured retries."""
    handler = Handler(default=503)
    client = make_client(make_config(clock, breaker=NO_BREAKER), handler)
    set_testing()
    set_testing(False)
    with pytest.raises(ServiceUnavailableError):
        await get(client)
    assert handler.count == 3
    set_testing()
    reset_state()
    with pytest.raises(ServiceUnavailableError):
        await get(make_client(make_config(clock, breaker=NO_BREAKER), handler))
    assert handler.count == 6


def test_attempts_must_be_positive() -> None:
    """set_testing(attempts=0) is refused."""
    with pytest.raises(ValueError, match="at least 1"):
        set_testing(attempts=0)

"""The retry budget: retries add at most a fraction over first attempts, plus a small floor."""

from __future__ import annotations

from typing import Any

import pytest
from resilience_helpers import Handler, get, make_config
from structlog.testing import capture_logs

from nilecare_clients import ServiceUnavailableError
from nilecare_clients._resilience.budget import RetryBudget
from support import FakeClock


def spend_all(budget: RetryBudget) -> int:
    spent = 0
    while budget.try_spend():
        spent += 1
        assert spent < 10_000
    return spent


def test_ratio_of_first_attempts() -> None:
    """With no floor, 100 first attempts earn exactly 10 retries at a 10 % ratio."""
    clock = FakeClock()
    budget = RetryBudget(ratio=0.1, min_per_second=0.0, window=10.0, clock=clock)
    for _ in range(100):
        budget.record_request()
    assert spend_all(budget) == 10


def test_floor_allows_retries_at_low_traffic() -> None:
    """With no traffic at all, the floor still allows min_per_second * window retries."""
    clock = FakeClock()
    budget = RetryBudget(ratio=0.1, min_per_second=1.0, window=10.0, clock=clock)
    assert spend_all(budget) == 10


def test_ratio_and_floor_add_up() -> None:
    """50 first attempts at 20 % plus a 0.5/s floor over 10 s allow 10 + 5 retries."""
    clock = FakeClock()
    budget = RetryBudget(ratio=0.2, min_per_second=0.5, window=10.0, clock=clock)
    for _ in range(50):
        budget.record_request()
    assert spend_all(budget) == 15


def test_window_slides_out_old_first_attempts() -> None:
    """First attempts older than the window stop earning retries."""
    clock = FakeClock()
    budget = RetryBudget(ratio=0.1, min_per_second=0.0, window=10.0, clock=clock)
    for _ in range(50):
        budget.record_request()
    clock.advance(5.0)
    for _ in range(50):
        budget.record_request()
    clock.advance(5.5)  # the first 50 are now older than 10 s
    assert spend_all(budget) == 5


def test_window_slides_out_old_retries() -> None:
    """Retries spent long ago no longer count against the budget."""
    clock = FakeClock()
    budget = RetryBudget(ratio=0.0, min_per_second=0.5, window=10.0, clock=clock)
    assert spend_all(budget) == 5
    clock.advance(4.0)
    assert spend_all(budget) == 0  # still inside the window
    clock.advance(7.0)
    assert spend_all(budget) == 5


def test_a_long_pause_forgets_everything() -> None:
    """After many windows of silence the budget is back to its floor only."""
    clock = FakeClock()
    budget = RetryBudget(ratio=1.0, min_per_second=0.1, window=10.0, clock=clock)
    for _ in range(100):
        budget.record_request()
    clock.advance(1000.0)
    assert spend_all(budget) == 1


def test_reset_forgets_everything() -> None:
    """reset() clears first attempts and retries."""
    clock = FakeClock()
    budget = RetryBudget(ratio=0.1, min_per_second=0.0, window=10.0, clock=clock)
    for _ in range(100):
        budget.record_request()
    budget.reset()
    assert spend_all(budget) == 0


@pytest.mark.parametrize("pace", [0.0, 0.01])
async def test_total_outage_load_stays_within_budget(
    make_client: Any, clock: FakeClock, pace: float
) -> None:
    """Under a total outage (breaker off) downstream requests stay <= 1.1x offered + floor."""
    handler = Handler(default=503)
    config = make_config(clock, breaker={"enabled": False})
    client = make_client(config, handler)
    offered = 1000
    started = clock.now
    for _ in range(offered):
        with pytest.raises(ServiceUnavailableError):
            await get(client)
        clock.advance(pace)
    elapsed = clock.now - started
    floor = config.retry.budget_min_per_second * (elapsed + config.retry.budget_window)
    assert handler.count <= 1.1 * offered + floor
    assert handler.count / offered <= 1.13


async def test_spent_budget_fails_with_the_last_error_and_logs(
    make_client: Any, clock: FakeClock
) -> None:
    """When the budget is spent the call raises its own last error and logs the refusal."""
    handler = Handler(default=503)
    retry = {"budget_ratio": 0.0, "budget_min_per_second": 0.2}  # 2 retries per 10 s
    client = make_client(make_config(clock, retry=retry, breaker={"enabled": False}), handler)
    with pytest.raises(ServiceUnavailableError):
        await get(client)  # spends both retries
    assert handler.count == 3
    with capture_logs() as logs, pytest.raises(ServiceUnavailableError) as info:
        await get(client)
    assert handler.count == 4
    assert info.value.status_code == 503
    assert [e["event"] for e in logs if "budget" in e["event"]] == [
        "nilecare_clients.retry_budget_exhausted"
    ]


async def test_budget_is_shared_by_clients_of_one_service(
    make_client: Any, clock: FakeClock
) -> None:
    """Two client instances of the same service draw on one process-wide budget."""
    handler = Handler(default=503)
    retry = {"budget_ratio": 0.0, "budget_min_per_second": 0.2}
    config = make_config(clock, retry=retry, breaker={"enabled": False})
    first, second = make_client(config, handler), make_client(config, handler)
    with pytest.raises(ServiceUnavailableError):
        await get(first)
    with pytest.raises(ServiceUnavailableError):
        await get(second)
    assert handler.count == 4

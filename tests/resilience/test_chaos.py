"""Chaos on a real loopback server: injected 503s, a total outage, recovery, and writes.

Faults are scripted from a seeded random generator, so a run is repeatable; the server counts
every request and connection it sees. Retry sleeps and the breaker's clock are fake (the tests
advance them), so nothing waits for a backoff or a reset timeout for real.
"""

from __future__ import annotations

import contextlib
import json
import random
from typing import Any

import pytest
from resilience_helpers import ROUTE, get, make_config, send
from structlog.testing import capture_logs

from nilecare_clients import (
    CircuitOpenError,
    OutcomeUnknownError,
    ServiceError,
    ThrottledError,
)
from nilecare_clients._resilience.registry import state_for
from scripted_server import Action, ScriptedServer, scripted_server
from support import FakeClock, call

OK = Action()
UNAVAILABLE = Action(status=503, body={"success": False, "error": {"code": "UNAVAILABLE"}})
CRASH = Action(status=500, body={"success": False, "error": {"code": "INTERNAL"}})
RESET = Action(reset=True)
SLOW = Action(status=201, delay=0.25)

# A service team that must ride out a flaky dependency: more attempts, a budget that pays for
# them, and a breaker that judges over 100 calls (a window of 20 trips by chance at 30 %).
RIDE_OUT = {
    "retry": {"max_attempts": 5, "budget_ratio": 0.5},
    "breaker": {"window_size": 100, "minimum_calls": 100, "consecutive_failures": 10},
}


def script_faults(
    server: ScriptedServer, seed: int, n: int, faults: list[tuple[float, Action]]
) -> list[Action]:
    """Script ``n`` answers: each fault with its probability, otherwise a success."""
    rng = random.Random(seed)
    actions = []
    for _ in range(n):
        roll, action = rng.random(), OK
        for probability, fault in faults:
            if roll < probability:
                action = fault
                break
            roll -= probability
        actions.append(action)
    server.script(*actions)
    return actions


async def offer(client: Any, clock: FakeClock, calls: int) -> int:
    """Make ``calls`` GETs 10 ms apart (fake time); returns how many succeeded."""
    ok = 0
    for _ in range(calls):
        clock.advance(0.01)
        try:
            await get(client)
            ok += 1
        except ServiceError:
            pass
    return ok


async def test_thirty_percent_503s_are_ridden_out(loopback: Any, clock: FakeClock) -> None:
    """With 30 % random 503s, 5 attempts and a budget that pays for them, >= 99 % succeed."""
    with scripted_server() as server:
        script_faults(server, seed=3, n=2000, faults=[(0.3, UNAVAILABLE)])
        client = loopback(make_config(clock, server.url, **RIDE_OUT))
        calls = 300
        succeeded = await offer(client, clock, calls)
        assert succeeded / calls >= 0.99
        assert client.breaker_state == "closed"
        # Retries cost about p + p^2 + ... = 0.43 extra requests per call, no more.
        assert server.count() / calls <= 1.5


async def test_thirty_percent_503s_with_defaults_shed_load(loopback: Any, clock: FakeClock) -> None:
    """At 30 % 503s the default 10 % budget holds load near 1.1x, trading away success rate."""
    with scripted_server() as server:
        script_faults(server, seed=3, n=2000, faults=[(0.3, UNAVAILABLE)])
        client = loopback(make_config(clock, server.url, breaker={"enabled": False}))
        calls = 300
        succeeded = await offer(client, clock, calls)
        floor = 1.0 * (clock.now - 1000.0 + 10.0)  # budget_min_per_second over the run
        assert server.count() <= 1.1 * calls + floor
        assert 0.7 <= succeeded / calls < 0.99


@pytest.mark.parametrize(
    ("rate", "low", "high"),
    # Pinned as ranges around what these seeds gave (30 %: 77.9 %). The old rules gave
    # 10-25 % at 30 % and 1 % at 50 % (issue 22): a chance trip of the all-or-nothing breaker.
    [(0.1, 0.97, 1.0), (0.3, 0.75, 0.9), (0.5, 0.5, 0.65)],
)
async def test_brownout_with_defaults_beats_no_resilience(
    loopback: Any, clock: FakeClock, rate: float, low: float, high: float
) -> None:
    """Library defaults through 10 / 30 / 50 % random 503s: at least what no resilience gets
    (the scripted share of successes), >= 97 % at 10 %, >= 75 % at 30 %; no circuit opens by
    chance and the throttle sheds at most a few calls."""
    with scripted_server() as server:
        actions = script_faults(server, seed=17, n=6000, faults=[(rate, UNAVAILABLE)])
        client = loopback(make_config(clock, server.url))
        calls = 1000
        refused = 0
        ok = 0
        for _ in range(calls):
            clock.advance(0.01)
            try:
                await get(client)
                ok += 1
            except (CircuitOpenError, ThrottledError):
                refused += 1
            except ServiceError:
                pass
        baseline = sum(a is OK for a in actions[:calls]) / calls
        assert max(low, baseline) <= ok / calls <= high
        assert client.breaker_state == "closed"
        assert client._core.breaker.route_state(ROUTE) == "closed"
        assert refused / calls <= (0.0 if rate < 0.5 else 0.05)


async def test_total_outage_stops_connecting_after_the_first_second(
    loopback: Any, clock: FakeClock
) -> None:
    """A total outage (every request a 503): after the first second the throttle and then the
    route's circuit keep downstream requests under 0.1 per offered call; then no connection."""
    with scripted_server() as server:
        server.default = UNAVAILABLE
        client = loopback(make_config(clock, server.url))
        started = clock.now
        offered_late = 0
        sent_at_one_second = None
        for _ in range(2000):  # 20 s at 100 calls/s
            clock.advance(0.01)
            if clock.now - started >= 1.0:
                if sent_at_one_second is None:
                    sent_at_one_second = server.count()
                offered_late += 1
            with pytest.raises(ServiceError):
                await get(client)
        assert sent_at_one_second is not None
        assert (server.count() - sent_at_one_second) / offered_late <= 0.1
        breaker = client._core.breaker
        assert breaker.route_state(ROUTE) == "open"
        assert client.breaker_state == "closed"  # one route answers: the service is there
        sent, connections = server.count(), server.connections
        for _ in range(100):
            clock.advance(0.05)  # 5 s more: still inside the 30 s reset timeout
            with pytest.raises(CircuitOpenError) as info:
                await get(client)
            assert info.value.route_open is True
        assert (server.count(), server.connections) == (sent, connections)


async def test_recovery_closes_through_half_open(loopback: Any, clock: FakeClock) -> None:
    """After the outage, one probe per reset timeout: a failed one reopens, a good one closes."""
    with scripted_server() as server:
        server.default = UNAVAILABLE
        config = make_config(
            clock, server.url, retry={"max_attempts": 1}, breaker={"throttle": False}
        )
        client = loopback(config)
        for _ in range(50):
            with pytest.raises(ServiceError):
                await get(client)
        assert client._core.breaker.route_state(ROUTE) == "open"
        with capture_logs() as logs:
            clock.advance(30.0)
            with pytest.raises(ServiceError):
                await get(client)  # the probe finds the service still down
            assert server.count() == 51
            with pytest.raises(CircuitOpenError):
                await get(client)
            server.default = OK  # the outage ends
            clock.advance(30.0)
            await get(client)  # the probe succeeds
            assert client._core.breaker.route_state(ROUTE) == "closed"
            assert await offer(client, clock, 20) == 20
        transitions = [
            (e["state"], e["route"])
            for e in logs
            if e["event"].startswith("nilecare_clients.breaker_")
        ]
        assert transitions == [
            ("half-open", ROUTE),
            ("open", ROUTE),
            ("half-open", ROUTE),
            ("closed", ROUTE),
        ]
        assert server.count() == 51 + 1 + 20


async def test_post_without_key_is_never_repeated_under_chaos(
    loopback: Any, clock: FakeClock
) -> None:
    """Under 500s, resets, slow answers and 503s a POST without key is repeated only after a 503."""
    with scripted_server() as server:
        faults = [(0.15, CRASH), (0.1, RESET), (0.05, SLOW), (0.15, UNAVAILABLE)]
        actions = script_faults(server, seed=11, n=1000, faults=faults)
        config = make_config(clock, server.url, read_timeout=0.1, breaker={"enabled": False})
        client = loopback(config)
        outcomes: dict[str, int] = {}
        for n in range(120):
            try:
                await call(
                    client._request(
                        "POST", "/api/v1/patients", json={"seq": n}, response_model=None
                    )
                )
                outcomes["ok"] = outcomes.get("ok", 0) + 1
            except OutcomeUnknownError:
                outcomes["unknown"] = outcomes.get("unknown", 0) + 1
            except ServiceError as exc:
                outcomes[type(exc).__name__] = outcomes.get(type(exc).__name__, 0) + 1
        seen: dict[int, list[Action]] = {}
        for request, action in zip(server.requests, actions, strict=False):
            seen.setdefault(json.loads(request.body)["seq"], []).append(action)
        assert len(seen) == 120
        for answers in seen.values():
            # Every answer but the last must have been a 503: nothing else may be repeated.
            assert all(a is UNAVAILABLE for a in answers[:-1])
        assert max(len(a) for a in seen.values()) > 1  # some 503s were retried
        assert outcomes["unknown"] > 0 and outcomes["ok"] > 0


async def test_keyed_post_retries_never_reuse_a_key_across_calls(
    loopback: Any, clock: FakeClock
) -> None:
    """Keyed, honoured POSTs are retried through chaos; each logical call keeps one key."""
    with scripted_server() as server:
        script_faults(server, seed=5, n=1000, faults=[(0.2, CRASH), (0.1, UNAVAILABLE)])
        config = make_config(
            clock, server.url, idempotency_keys_honoured=True, breaker={"enabled": False}
        )
        client = loopback(config)
        for n in range(60):
            with contextlib.suppress(ServiceError):
                await send(client, "POST", f"key-{n}")
        by_key: dict[str, set[bytes]] = {}
        for request in server.requests:
            by_key.setdefault(request.headers["idempotency-key"], set()).add(request.body)
        assert len(by_key) == 60
        assert all(len(bodies) == 1 for bodies in by_key.values())
        assert server.count() > 60


def test_shared_state_is_per_service_name() -> None:
    """The registry hands the same breaker to every config with one name."""
    clock = FakeClock()
    a = make_config(clock)
    b = make_config(clock, "http://other.test")
    assert state_for(a) is state_for(b)

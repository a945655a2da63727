"""Fault injection on the fakes: every fault type, scoping, determinism, and journal accounting."""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from nilecare_clients.testing.fakes import (
    FakeClinicalService,
    FakeFacilityService,
    make_facility,
    make_patient,
)


class Api:
    """Calls a sync or async httpx client the same way, so one test body covers both."""

    def __init__(self, client: httpx.Client | httpx.AsyncClient) -> None:
        self.client = client

    async def __call__(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = self.client.request(method, url, **kwargs)
        if inspect.isawaitable(response):
            return await response
        return response


@pytest.fixture
def fake() -> FakeClinicalService:
    return FakeClinicalService()


@pytest.fixture(params=["sync", "async"])
async def api(request: pytest.FixtureRequest, fake: FakeClinicalService) -> AsyncIterator[Api]:
    if request.param == "sync":
        with httpx.Client(transport=fake.transport(), base_url="http://fake") as client:
            yield Api(client)
    else:
        async with httpx.AsyncClient(transport=fake.transport(), base_url="http://fake") as aclient:
            yield Api(aclient)


async def test_fail_next_then_recover(api: Api, fake: FakeClinicalService) -> None:
    """fail_next(n) answers n canonical errors with Retry-After, then serves normally."""
    fake.faults.fail_next(2, status=503, retry_after=3)
    statuses = [(await api("GET", "/api/v1/patients")).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    first = fake.journal[0]
    assert (first.status, first.fault) == (503, "fail_next")
    assert fake.journal.count("GET", "/api/v1/patients") == 3
    assert fake.journal.count(fault="fail_next") == 2
    assert fake.faults.rules == []


async def test_fail_next_body_and_headers(api: Api, fake: FakeClinicalService) -> None:
    """A failed answer is the canonical error with SERVICE_UNAVAILABLE and the Retry-After header."""
    fake.faults.fail_next(status=503, retry_after="7")
    response = await api("GET", "/api/v1/patients", headers={"X-Request-ID": "req-1"})
    assert response.headers["retry-after"] == "7"
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert response.json()["metadata"]["requestId"] == "req-1"


async def test_fail_next_scoped_to_method_and_path(api: Api, fake: FakeClinicalService) -> None:
    """A fault scoped to POST on a path glob leaves other requests alone."""
    fake.faults.fail_next(5, status=500, method="POST", path="/api/v1/patients*")
    assert (await api("GET", "/api/v1/patients")).status_code == 200
    assert (await api("GET", "/api/v1/encounters")).status_code == 200
    assert (await api("POST", "/api/v1/patients", json=make_patient(seed=1))).status_code == 500
    assert fake.patients == []


async def test_health_is_spared_unless_included(api: Api, fake: FakeClinicalService) -> None:
    """Faults skip health routes by default, and hit them with include_health=True."""
    fake.faults.fail_next(1)
    assert (await api("GET", "/health")).status_code == 200
    assert (await api("GET", "/api/v1/stats")).status_code == 503
    fake.faults.fail_next(1, include_health=True)
    assert (await api("GET", "/health")).status_code == 503


async def test_error_rate_is_deterministic_with_seed() -> None:
    """error_rate with a seed fails the same requests on every run, at roughly the rate asked."""

    async def pattern() -> list[int]:
        fake = FakeClinicalService()
        fake.faults.error_rate(0.3, status=503, seed=42)
        transport = fake.transport()
        async with httpx.AsyncClient(transport=transport, base_url="http://fake") as client:
            return [(await client.get("/api/v1/patients")).status_code for _ in range(40)]

    first, second = await pattern(), await pattern()
    assert first == second
    assert 4 <= first.count(503) <= 20
    assert set(first) == {200, 503}


async def test_latency_delays_and_is_journaled(api: Api, fake: FakeClinicalService) -> None:
    """latency(seconds) delays the answer and marks the journal entry with the delay."""
    fake.faults.latency(0.05, n=1)
    started = time.perf_counter()
    response = await api("GET", "/api/v1/patients")
    assert time.perf_counter() - started >= 0.05
    assert response.status_code == 200
    entry = fake.journal.last
    assert (entry.fault, entry.delay) == ("latency", 0.05)
    quick = time.perf_counter()
    await api("GET", "/api/v1/patients")
    assert time.perf_counter() - quick < 0.05


async def test_latency_beyond_timeout_is_read_timeout(api: Api, fake: FakeClinicalService) -> None:
    """A delay longer than the client's read timeout raises httpx.ReadTimeout, and the attempt is recorded."""
    fake.faults.latency(0.5)
    with pytest.raises(httpx.ReadTimeout):
        await api("GET", "/api/v1/patients", timeout=0.05)
    assert len(fake.journal) == 1
    assert fake.journal.last.fault == "latency"


def test_latency_jitter_is_seeded() -> None:
    """A seeded latency jitter gives the same delays on every run."""

    def delays() -> list[float]:
        fake = FakeClinicalService()
        fake.faults.latency(0.0, jitter=0.002, seed=9)
        with httpx.Client(transport=fake.transport(), base_url="http://fake") as client:
            for _ in range(5):
                client.get("/health/ready")
                client.get("/api/v1/stats")
        return [e.delay for e in fake.journal]

    first = delays()
    assert first == delays()
    assert all(d == 0 for d in first[::2]) and len(set(first[1::2])) == 5


def test_realistic_latency_is_seeded_and_bounded() -> None:
    """realistic_latency() delays API calls by 5-40 ms, the same delays for the same seed, and spares health."""

    def delays() -> list[float]:
        fake = FakeClinicalService()
        fake.faults.realistic_latency(seed=3)
        with httpx.Client(transport=fake.transport(), base_url="http://fake") as client:
            client.get("/health")
            for _ in range(4):
                client.get("/api/v1/stats")
        return [e.delay for e in fake.journal]

    first = delays()
    assert first == delays()
    assert first[0] == 0
    assert all(0.005 <= d <= 0.04 for d in first[1:])


async def test_outage_and_recover(api: Api, fake: FakeClinicalService) -> None:
    """An outage answers 503 everywhere, readiness with its not-ready body, until recover()."""
    fake.faults.outage(retry_after=1)
    assert fake.faults.in_outage
    api_call = await api("GET", "/api/v1/patients")
    assert (api_call.status_code, api_call.json()["error"]["code"]) == (503, "SERVICE_UNAVAILABLE")
    assert (await api("GET", "/health")).status_code == 503
    ready = await api("GET", "/ready")
    assert (ready.status_code, ready.json()["status"]) == (503, "not ready")
    fake.faults.recover()
    assert (await api("GET", "/health")).status_code == 200
    assert fake.journal.count(fault="outage") == 3


async def test_reset_connection_in_process(api: Api, fake: FakeClinicalService) -> None:
    """reset_connection raises httpx.ReadError after the request was read, performs nothing, and is journaled."""
    fake.faults.reset_connection(1, method="POST")
    with pytest.raises(httpx.ReadError):
        await api("POST", "/api/v1/patients", json=make_patient(seed=1))
    assert fake.patients == []
    entry = fake.journal.last
    assert (entry.status, entry.fault) == (None, "reset_connection")
    assert entry.json()["firstName"] == make_patient(seed=1)["firstName"]
    assert (await api("POST", "/api/v1/patients", json=make_patient(seed=1))).status_code == 201


async def test_malformed_body(api: Api, fake: FakeClinicalService) -> None:
    """malformed_body answers 200 with a JSON content type that does not parse."""
    fake.faults.malformed_body()
    response = await api("GET", "/api/v1/patients")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        response.json()


async def test_html_body(api: Api, fake: FakeClinicalService) -> None:
    """html_body answers a proxy's HTML error page, 502 by default."""
    fake.faults.html_body(status=504)
    response = await api("GET", "/api/v1/patients")
    assert response.status_code == 504
    assert response.headers["content-type"].startswith("text/html")
    assert "<html>" in response.text


async def test_commit_then_fail_writes_then_answers_500(
    api: Api, fake: FakeClinicalService
) -> None:
    """commit_then_fail stores the patient and answers 500, so a blind retry meets a 409 duplicate (contract I11)."""
    fake.faults.commit_then_fail(1, method="POST")
    body = make_patient(seed=4)
    failed = await api("POST", "/api/v1/patients", json=body)
    assert (failed.status_code, failed.json()["error"]["code"]) == (500, "INTERNAL_ERROR")
    assert len(fake.patients) == 1
    retried = await api("POST", "/api/v1/patients", json=body)
    assert retried.status_code == 409
    assert [e.fault for e in fake.journal] == ["commit_then_fail", None]


async def test_commit_then_fail_retry_with_key_replays(api: Api, fake: FakeClinicalService) -> None:
    """After commit_then_fail, a retry with the same Idempotency-Key gets the original 201 (contract I26)."""
    fake.faults.commit_then_fail(1)
    body = make_patient(seed=4)
    headers = {"Idempotency-Key": "create-amna-1"}
    assert (await api("POST", "/api/v1/patients", json=body, headers=headers)).status_code == 500
    replay = await api("POST", "/api/v1/patients", json=body, headers=headers)
    assert replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["data"]["id"] == fake.patients[0]["id"]
    assert len(fake.patients) == 1


async def test_facility_rate_limit_is_plain_text() -> None:
    """A 429 from the Facility fake has a plain-text body, as the real rate limiter sends."""
    fake = FakeFacilityService()
    fake.faults.fail_next(status=429, retry_after=60)
    async with httpx.AsyncClient(transport=fake.transport(), base_url="http://fake") as client:
        response = await client.get("/api/v1/facilities")
    assert response.status_code == 429
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["retry-after"] == "60"


def test_rules_stack_in_order() -> None:
    """Rules fire in the order they were added; latency adds to whichever answers."""
    fake = FakeFacilityService()
    fake.faults.latency(0.01, n=1)
    fake.faults.fail_next(1, status=502)
    fake.faults.fail_next(1, status=504)
    with httpx.Client(transport=fake.transport(), base_url="http://fake") as client:
        statuses = [
            client.post("/api/v1/facilities", json=make_facility(seed=1)).status_code
            for _ in range(3)
        ]
    assert statuses == [502, 504, 201]
    assert [(e.fault, e.delay) for e in fake.journal] == [
        ("fail_next", 0.01),
        ("fail_next", 0.0),
        (None, 0.0),
    ]


def test_fault_arguments_are_checked() -> None:
    """Nonsense fault arguments raise ValueError at once rather than misbehaving later."""
    faults = FakeClinicalService().faults
    with pytest.raises(ValueError):
        faults.fail_next(0)
    with pytest.raises(ValueError):
        faults.error_rate(1.5)
    with pytest.raises(ValueError):
        faults.latency(-1)


def test_reset_clears_faults_state_and_journal() -> None:
    """reset() disarms faults, ends an outage, and forgets records and the journal."""
    fake = FakeClinicalService()
    fake.create_patient()
    fake.faults.fail_next(3)
    fake.faults.outage()
    with httpx.Client(transport=fake.transport(), base_url="http://fake") as client:
        client.get("/health")
        fake.reset()
        assert (len(fake.journal), fake.patients, fake.faults.rules) == (0, [], [])
        assert client.get("/api/v1/patients").status_code == 200

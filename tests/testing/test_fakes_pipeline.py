"""The request pipeline shared by both fakes: auth, correlation ids, idempotency and the journal."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from nilecare_clients.testing.fakes import (
    FakeClinicalService,
    FakeFacilityService,
    HeaderDict,
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


# -- authentication -----------------------------------------------------------------------


async def test_api_key_is_checked(api: Api, fake: FakeClinicalService) -> None:
    """With api_key set, a missing or wrong X-API-Key is 401 UNAUTHORIZED in the auth layer's form."""
    fake.api_key = "k-1"
    for headers in ({}, {"X-API-Key": "wrong"}):
        response = await api("GET", "/api/v1/patients", headers=headers)
        assert response.status_code == 401
        assert response.json() == {
            "success": False,
            "error": {"code": "UNAUTHORIZED", "message": "Invalid or missing API key"},
        }
    assert (await api("GET", "/api/v1/patients", headers={"x-api-key": "k-1"})).status_code == 200
    assert (await api("GET", "/health")).status_code == 200


async def test_bearer_token_is_checked(api: Api, fake: FakeClinicalService) -> None:
    """With bearer_token set, /api/v1 needs Authorization: Bearer <token>, with the contract's 401 codes."""
    fake.bearer_token = "t-1"
    cases = {
        "": "UNAUTHORIZED",
        "Basic dXNlcjpwYXNz": "INVALID_TOKEN_FORMAT",
        "Bearer ": "UNAUTHORIZED",
        "Bearer t-2": "INVALID_TOKEN",
    }
    for value, code in cases.items():
        headers = {"Authorization": value} if value else {}
        response = await api("GET", "/api/v1/stats", headers=headers)
        assert (response.status_code, response.json()["error"]["code"]) == (401, code)
        assert "metadata" not in response.json()
    assert (
        await api("GET", "/api/v1/stats", headers={"Authorization": "bearer t-1"})
    ).status_code == 200
    assert (await api("GET", "/ready")).status_code == 200
    assert fake.journal.count(status=401) == 4


def test_constructor_takes_credentials() -> None:
    """api_key and bearer_token given to the constructor apply to the Facility fake too."""
    fake = FakeFacilityService(api_key="k", bearer_token="t")
    with httpx.Client(transport=fake.transport(), base_url="http://fake") as client:
        assert client.get("/api/v1/facilities", headers={"X-API-Key": "k"}).status_code == 401
        ok = client.get(
            "/api/v1/facilities", headers={"X-API-Key": "k", "Authorization": "Bearer t"}
        )
        assert ok.status_code == 200


# -- correlation --------------------------------------------------------------------------


async def test_correlation_id_is_echoed(api: Api, fake: FakeClinicalService) -> None:
    """X-Correlation-ID comes back in X-Request-Id, X-Correlation-ID and metadata.requestId."""
    response = await api(
        "GET",
        "/api/v1/patients/not-a-uuid",
        headers={"X-Correlation-ID": "trace-7", "X-Request-ID": "hop-1"},
    )
    assert response.headers["x-request-id"] == "trace-7"
    assert response.headers["x-correlation-id"] == "trace-7"
    assert response.json()["metadata"]["requestId"] == "trace-7"
    assert fake.journal.last.correlation_id == "trace-7"


async def test_request_id_is_the_fallback(api: Api, fake: FakeClinicalService) -> None:
    """Without X-Correlation-ID, X-Request-ID is used; without either, a UUID is made up."""
    response = await api("GET", "/api/v1/patients", headers={"x-request-id": "hop-9"})
    assert response.headers["x-correlation-id"] == "hop-9"
    made_up = (await api("GET", "/api/v1/patients")).headers["x-request-id"]
    assert len(made_up) == 36
    assert fake.journal.last.correlation_id == made_up


# -- idempotency --------------------------------------------------------------------------


async def test_same_key_same_body_replays(api: Api, fake: FakeClinicalService) -> None:
    """The same Idempotency-Key with the same body replays the original status and body, with no second record."""
    body = make_patient(seed=1)
    headers = {"Idempotency-Key": "k-1"}
    first = await api("POST", "/api/v1/patients", json=body, headers=headers)
    reordered = dict(reversed(list(body.items())))
    second = await api("POST", "/api/v1/patients", json=reordered, headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert "idempotent-replayed" not in first.headers
    assert second.headers["idempotent-replayed"] == "true"
    assert len(fake.patients) == 1
    assert [e.replayed for e in fake.journal] == [False, True]
    assert fake.journal.last.idempotency_key == "k-1"


async def test_same_key_other_body_conflicts(api: Api, fake: FakeClinicalService) -> None:
    """The same Idempotency-Key with a different body is 409 CONFLICT."""
    headers = {"Idempotency-Key": "k-2"}
    await api("POST", "/api/v1/patients", json=make_patient(seed=1), headers=headers)
    response = await api("POST", "/api/v1/patients", json=make_patient(seed=2), headers=headers)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "CONFLICT"
    assert len(fake.patients) == 1


async def test_refusals_are_replayed_too(api: Api, fake: FakeClinicalService) -> None:
    """A 4xx answer is stored for its key and replayed; a 5xx is not, so the retry runs again."""
    headers = {"Idempotency-Key": "k-3"}
    bad = make_patient(seed=1, gender="robot")
    assert (await api("POST", "/api/v1/patients", json=bad, headers=headers)).status_code == 400
    again = await api("POST", "/api/v1/patients", json=bad, headers=headers)
    assert again.headers.get("idempotent-replayed") == "true"
    fake.faults.fail_next(1)
    good = make_patient(seed=2)
    assert (
        await api("POST", "/api/v1/patients", json=good, headers={"Idempotency-Key": "k-4"})
    ).status_code == 503
    assert (
        await api("POST", "/api/v1/patients", json=good, headers={"Idempotency-Key": "k-4"})
    ).status_code == 201


async def test_keys_can_be_ignored_like_the_real_services(
    api: Api, fake: FakeClinicalService
) -> None:
    """With honour_idempotency_keys=False a repeated create runs again and meets the duplicate check."""
    fake.honour_idempotency_keys = False
    body = make_patient(seed=1)
    headers = {"Idempotency-Key": "k-5"}
    assert (await api("POST", "/api/v1/patients", json=body, headers=headers)).status_code == 201
    assert (await api("POST", "/api/v1/patients", json=body, headers=headers)).status_code == 409


def test_keys_on_facility_writes() -> None:
    """Idempotency works the same on the Facility fake, and GETs ignore the header."""
    fake = FakeFacilityService()
    body = make_facility(seed=1)
    headers = {"Idempotency-Key": "f-1"}
    with httpx.Client(transport=fake.transport(), base_url="http://fake") as client:
        first = client.post("/api/v1/facilities", json=body, headers=headers)
        second = client.post("/api/v1/facilities", json=body, headers=headers)
        assert first.json() == second.json()
        assert (
            client.get("/api/v1/facilities", headers=headers).headers.get("idempotent-replayed")
            is None
        )
    assert len(fake.records("facilities")) == 1


# -- journal ------------------------------------------------------------------------------


async def test_journal_records_every_attempt(api: Api, fake: FakeClinicalService) -> None:
    """The journal keeps method, path, query, headers, ids and the answer of each request, faulted or not."""
    fake.faults.fail_next(1)
    await api(
        "GET",
        "/api/v1/patients",
        params={"search": "amna", "page": "2"},
        headers={"X-Retry-Attempt": "1", "X-Correlation-ID": "c-1"},
    )
    await api("GET", "/api/v1/patients", headers={"X-Retry-Attempt": "2"})
    await api("POST", "/api/v1/patients", json=make_patient(seed=1))
    assert len(fake.journal) == 3
    first = fake.journal[0]
    assert (first.method, first.path, first.status, first.fault) == (
        "GET",
        "/api/v1/patients",
        503,
        "fail_next",
    )
    assert first.query == {"search": "amna", "page": "2"}
    assert first.query_string == "search=amna&page=2"
    assert first.retry_attempt == 1
    assert first.headers["x-correlation-id"] == first.headers["X-CORRELATION-ID"] == "c-1"
    assert isinstance(first.headers, dict)
    assert fake.journal.count("GET") == 2
    assert fake.journal.count("post", "/api/v1/*") == 1
    assert fake.journal.count(faulted=False) == 2
    assert fake.journal.count(status=201) == 1
    assert [e.seq for e in fake.journal] == [0, 1, 2]
    assert fake.journal.filter(path="/api/v1/patients", faulted=True) == [first]


def test_journal_last_on_empty_raises() -> None:
    """journal.last on an untouched fake raises IndexError rather than returning junk."""
    with pytest.raises(IndexError):
        _ = FakeClinicalService().journal.last


def test_header_dict_ignores_case() -> None:
    """HeaderDict is a dict whose lookups ignore case and which joins repeated headers."""
    headers = HeaderDict([("Accept", "a"), ("accept", "b"), ("X-Thing", "1")])
    assert headers == {"accept": "a, b", "x-thing": "1"}
    assert headers["ACCEPT"] == "a, b"
    assert "x-THING" in headers
    assert headers.get("Missing", "none") == "none"

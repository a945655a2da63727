"""What the real services taught us, proven against the fakes (runs in ``make test``).

``make compat`` found these against the original services; the fakes reproduce each one
(``honour_idempotency_keys=False``, ``commit_then_fail``, a 403 or 501 answer) so the behaviour
stays tested without booting anything. Every test runs with the sync and the async client.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from nilecare_clients import (
    AsyncClinicalServiceClient,
    AsyncFacilityServiceClient,
    ClinicalServiceClient,
    FacilityServiceClient,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    ServerError,
    ServiceConfig,
)
from nilecare_clients.testing.fakes import FakeClinicalService, FakeFacilityService
from support import FakeClock, call, retry_policy

NEW_PATIENT = {
    "first_name": "Amna",
    "last_name": "Osman",
    "date_of_birth": "1987-03-14",
    "gender": "female",
    "phone_number": "+249912345678",
}


@pytest.fixture
def clients(client_kind: str) -> Iterator[list[Any]]:
    made: list[Any] = []
    yield made
    for client in made:
        if isinstance(client, (ClinicalServiceClient, FacilityServiceClient)):
            client.close()


def clinical(
    kind: str, fake: FakeClinicalService, clock: FakeClock, made: list[Any], **config: Any
) -> Any:
    cls = ClinicalServiceClient if kind == "sync" else AsyncClinicalServiceClient
    settings = ServiceConfig(
        name="clinical", base_url="http://clinical.test", retry=retry_policy(clock), **config
    )
    client = cls(config=settings, transport=fake.transport())
    made.append(client)
    return client


def facility(kind: str, fake: FakeFacilityService, clock: FakeClock, made: list[Any]) -> Any:
    cls = FacilityServiceClient if kind == "sync" else AsyncFacilityServiceClient
    settings = ServiceConfig(
        name="facility", base_url="http://facility.test", retry=retry_policy(clock)
    )
    client = cls(config=settings, transport=fake.transport())
    made.append(client)
    return client


@pytest.mark.parametrize("fault", ["commit_then_fail", "reset_connection"])
async def test_create_patient_key_ignored_and_ambiguous_failure_is_sent_once(
    client_kind: str, clients: list[Any], clock: FakeClock, fault: str
) -> None:
    """A key the service ignores, then 500 after commit or a reset: OutcomeUnknownError with
    the key, one POST on the wire, and the patient stored once."""
    fake = FakeClinicalService(honour_idempotency_keys=False)
    getattr(fake.faults, fault)(1, method="POST")
    client = clinical(client_kind, fake, clock, clients)
    with pytest.raises(OutcomeUnknownError) as info:
        await call(client.create_patient(NEW_PATIENT, idempotency_key="reconcile-me"))
    assert info.value.idempotency_key == "reconcile-me"
    assert "may have been applied" in str(info.value)
    assert fake.journal.count("POST", "/api/v1/patients") == 1
    if fault == "commit_then_fail":
        assert info.value.status_code == 500
        assert len(fake.patients) == 1
    assert clock.sleeps == []


async def test_create_patient_read_timeout_is_outcome_unknown(
    client_kind: str, clients: list[Any], clock: FakeClock
) -> None:
    """A read timeout on a create whose key is not honoured: OutcomeUnknownError, one POST."""
    fake = FakeClinicalService(honour_idempotency_keys=False)
    fake.faults.latency(0.3, method="POST")
    client = clinical(client_kind, fake, clock, clients, read_timeout=0.05)
    with pytest.raises(OutcomeUnknownError) as info:
        await call(client.create_patient(NEW_PATIENT))
    assert info.value.status_code is None and info.value.idempotency_key
    assert fake.journal.count("POST", "/api/v1/patients") == 1


async def test_a_blind_repeat_would_have_met_a_duplicate(
    client_kind: str, clients: list[Any], clock: FakeClock
) -> None:
    """Why the library does not retry: the caller's own repeat meets the duplicate (contract I11)."""
    fake = FakeClinicalService(honour_idempotency_keys=False)
    fake.faults.commit_then_fail(1, method="POST")
    client = clinical(client_kind, fake, clock, clients)
    with pytest.raises(OutcomeUnknownError):
        await call(client.create_patient(NEW_PATIENT))
    with pytest.raises(Exception) as again:
        await call(client.create_patient(NEW_PATIENT))
    assert not isinstance(again.value, OutcomeUnknownError)
    assert again.value.status_code in (400, 409)  # type: ignore[attr-defined]
    assert len(fake.patients) == 1


async def test_honoured_key_is_retried_and_replayed(
    client_kind: str, clients: list[Any], clock: FakeClock
) -> None:
    """When the service honours keys (config says so), the same failure is retried with the
    same key and the replay returns the patient stored by the first attempt."""
    fake = FakeClinicalService(honour_idempotency_keys=True)
    fake.faults.commit_then_fail(1, method="POST")
    client = clinical(client_kind, fake, clock, clients, idempotency_keys_honoured=True)
    patient = await call(client.create_patient(NEW_PATIENT))
    assert len(fake.patients) == 1 and patient.id == fake.patients[0]["id"]
    posts = [e for e in fake.journal if e.method == "POST"]
    assert len(posts) == 2
    assert len({e.headers["idempotency-key"] for e in posts}) == 1


async def test_delete_committed_then_500_is_not_reported_as_not_found(
    client_kind: str, clients: list[Any], clock: FakeClock
) -> None:
    """DELETE commits then answers 500; the retry meets 404: OutcomeUnknownError (it may have
    been our delete), never NotFoundError; two requests."""
    fake = FakeClinicalService()
    patient = fake.create_patient()
    fake.faults.commit_then_fail(1, method="DELETE")
    client = clinical(client_kind, fake, clock, clients)
    with pytest.raises(OutcomeUnknownError) as info:
        await call(client.delete_patient(patient["id"]))
    assert info.value.status_code == 404
    assert fake.journal.count("DELETE") == 2
    assert fake.patients == []
    with pytest.raises(NotFoundError) as gone:
        await call(client.delete_patient(patient["id"]))
    assert type(gone.value) is NotFoundError  # no earlier ambiguous attempt: a plain 404


async def test_plain_404_on_delete_stays_not_found(
    client_kind: str, clients: list[Any], clock: FakeClock
) -> None:
    """A delete of an unknown id, with no earlier failure, is NotFoundError after one request."""
    fake = FakeClinicalService()
    client = clinical(client_kind, fake, clock, clients)
    with pytest.raises(NotFoundError) as info:
        await call(client.delete_patient("00000000-0000-4000-8000-000000000000"))
    assert type(info.value) is NotFoundError
    assert fake.journal.count("DELETE") == 1


async def test_501_is_not_retried_and_does_not_open_the_breaker(
    client_kind: str, clients: list[Any], clock: FakeClock
) -> None:
    """Routes with no handler answer 501 (today's /encounters): ServerError after one request,
    and ten of them leave the breaker closed, so the patient routes keep working."""
    fake = FakeClinicalService()
    patient = fake.create_patient()
    fake.faults.fail_next(10, status=501, path="/api/v1/encounters*")
    client = clinical(client_kind, fake, clock, clients)
    for _ in range(10):
        with pytest.raises(ServerError) as info:
            await call(client.list_encounters())
        assert info.value.status_code == 501
    assert fake.journal.count("GET", "/api/v1/encounters") == 10
    assert client.breaker_state == "closed"
    assert (await call(client.get_patient(patient["id"]))).id == patient["id"]


async def test_501_on_a_write_is_not_outcome_unknown(
    client_kind: str, clients: list[Any], clock: FakeClock
) -> None:
    """A POST answered 501 was not processed: ServerError (not OutcomeUnknownError), once."""
    fake = FakeClinicalService(honour_idempotency_keys=False)
    fake.faults.fail_next(1, status=501, method="POST")
    client = clinical(client_kind, fake, clock, clients)
    with pytest.raises(ServerError) as info:
        await call(client.create_patient(NEW_PATIENT))
    assert type(info.value) is ServerError and info.value.status_code == 501
    assert fake.journal.count("POST") == 1 and fake.patients == []


async def test_facility_403_is_not_stale_served_nor_cached_nor_a_breaker_failure(
    client_kind: str, clients: list[Any], clock: FakeClock
) -> None:
    """A facility cached earlier, then 403 (contract I21) after its TTL: PermissionDeniedError, no stale
    serve, nothing remembered (the next lookup asks again), and the breaker stays closed."""
    fake = FakeFacilityService()
    record = fake.create_facility()
    facility_id = record["facilityId"]
    client = facility(client_kind, fake, clock, clients)
    assert (await call(client.get_facility(facility_id))).facility_id == facility_id
    clock.advance(2 * 3600)  # past the 1 h TTL, well within max_stale
    fake.faults.fail_next(8, status=403, path=f"/api/v1/facilities/{facility_id}")
    for _ in range(8):
        with pytest.raises(PermissionDeniedError):
            await call(client.get_facility(facility_id))
    stats = client.cache_stats()
    assert (stats.stale_serves, stats.negative_hits) == (0, 0)
    assert client.breaker_state == "closed"
    assert fake.journal.count("GET", f"/api/v1/facilities/{facility_id}") == 9
    fresh = await call(client.lookup_facility(facility_id))
    assert (fresh.value.facility_id, fresh.stale, fresh.from_cache) == (facility_id, False, False)
    assert fake.journal.count("GET", f"/api/v1/facilities/{facility_id}") == 10


async def test_facility_exists_raises_on_403(
    client_kind: str, clients: list[Any], clock: FakeClock
) -> None:
    """facility_exists is False only on 404: a 403 raises PermissionDeniedError, uncached."""
    fake = FakeFacilityService()
    record = fake.create_facility()
    fake.faults.fail_next(2, status=403)
    client = facility(client_kind, fake, clock, clients)
    for _ in range(2):
        with pytest.raises(PermissionDeniedError):
            await call(client.facility_exists(record["facilityId"]))
    assert client.cache_stats().size == 0
    assert await call(client.facility_exists(record["facilityId"])) is True

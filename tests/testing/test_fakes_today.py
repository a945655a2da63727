"""The today profile's own rules: faults, callers, stale bed copies, bad input (sync and async)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from nilecare_clients import (
    AsyncClinicalServiceClient,
    AsyncFacilityServiceClient,
    ClinicalServiceClient,
    ConfigurationError,
    ConflictError,
    FacilityServiceClient,
    OutcomeUnknownError,
    PermissionDeniedError,
    ServiceConfig,
)
from nilecare_clients.testing.fakes import FakeClinicalService, FakeFacilityService
from support import call

NEW_PATIENT = {
    "first_name": "Amna",
    "last_name": "Osman",
    "date_of_birth": "1987-03-14",
    "gender": "female",
    "phone_number": "+249912345678",
}


@pytest.fixture
def made() -> Iterator[list[Any]]:
    clients: list[Any] = []
    yield clients
    for client in clients:
        if isinstance(client, (ClinicalServiceClient, FacilityServiceClient)):
            client.close()


def client(kind: str, fake: Any, made: list[Any], token: str | None = None) -> Any:
    clinical = isinstance(fake, FakeClinicalService)
    name = "clinical" if clinical else "facility"
    sync_cls: type = ClinicalServiceClient if clinical else FacilityServiceClient
    async_cls: type = AsyncClinicalServiceClient if clinical else AsyncFacilityServiceClient
    cls = sync_cls if kind == "sync" else async_cls
    config = ServiceConfig(
        name=name,
        base_url=f"http://{name}.fake",
        token_provider=(lambda: token) if token else None,
    )
    made.append(cls(config=config, transport=fake.transport()))
    return made[-1]


def test_unknown_profile_is_a_configuration_error() -> None:
    """A misspelt profile fails at construction with a typed error."""
    with pytest.raises(ConfigurationError, match="profile"):
        FakeClinicalService(profile="tomorrow")  # type: ignore[arg-type]


@pytest.mark.parametrize("profile", ["contract", "today"])
async def test_event_bus_down_commits_then_answers_500(
    client_kind: str, made: list[Any], profile: Any
) -> None:
    """With the event bus down a create is stored, and the caller gets 500 (OutcomeUnknown)."""
    fake = FakeClinicalService(profile=profile)
    fake.faults.event_bus_down()
    with pytest.raises(OutcomeUnknownError):
        await call(client(client_kind, fake, made).create_patient(NEW_PATIENT))
    assert [p["firstName"] for p in fake.patients] == ["Amna"]
    assert fake.journal.entries[-1].fault == "event_bus_down"
    fake.faults.event_bus_up()
    other = {**NEW_PATIENT, "phone_number": "+249912345679"}
    created = await call(client(client_kind, fake, made).create_patient(other))
    assert created.first_name == "Amna" and len(fake.patients) == 2


async def test_today_role_and_permission_refusals(client_kind: str, made: list[Any]) -> None:
    """A registered nurse without patients:create gets the auth layer's 403."""
    fake = FakeClinicalService(profile="today", bearer_token="t-any")
    fake.add_caller("t-nurse", role="nurse", permissions=["patients:read"])
    nurse = client(client_kind, fake, made, token="t-nurse")
    with pytest.raises(PermissionDeniedError):
        await call(nurse.create_patient(NEW_PATIENT))
    assert fake.patients == []


async def test_today_release_right_after_assign_meets_the_stale_copy(
    client_kind: str, made: list[Any]
) -> None:
    """Today's release reads a 60 s old copy of the bed, so it is 'not occupied' (contract I19)."""
    fake = FakeFacilityService(profile="today")
    bed = fake.create_hospital(wards=1, beds_per_ward=1)["beds"][0]["bedId"]
    facility = client(client_kind, fake, made)
    patient = "11111111-1111-4111-8111-000000000004"
    await call(facility.get_bed(bed))
    assigned = await call(facility.assign_bed(bed, {"patient_id": patient}))
    assert assigned.patient_id == patient
    with pytest.raises(ConflictError):
        await call(facility.release_bed(bed, "done"))
    stale = await call(facility.get_bed(bed))
    assert stale.bed_status.value == "available"  # the copy, not the occupied row

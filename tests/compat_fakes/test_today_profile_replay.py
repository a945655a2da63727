"""The ``today`` fakes replay the rows ``make compat`` recorded against the real services.

Each case below sends, over the typed clients (sync and async), the call behind one row of
docs/compatibility.md and compares the statuses on the wire and the service's own error text
with the row's *real service today* cell, read from the committed table. A change to the
fakes (or a new table) that breaks fidelity fails here, without booting anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from nilecare_clients import (
    AsyncClinicalServiceClient,
    AsyncFacilityServiceClient,
    ClinicalServiceClient,
    FacilityServiceClient,
    ServiceConfig,
)
from nilecare_clients.testing.fakes import FakeClinicalService, FakeFacilityService
from support import call

DOC = Path(__file__).resolve().parents[2] / "docs" / "compatibility.md"
ORG = "550e8400-e29b-41d4-a716-446655440001"
P1 = "11111111-1111-4111-8111-000000000001"
OTHER_ORG_PATIENT = "22222222-2222-4222-8222-000000000001"
E1 = "33333333-3333-4333-8333-000000000001"
DOCTOR = "44444444-4444-4444-8444-000000000001"
NOPE = "00000000-0000-4000-8000-000000000000"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PRESCRIPTION = {
    "name": "Amoxicillin",
    "dosage": "500mg",
    "frequency": "three times daily",
    "route": "oral",
    "start_date": "2025-10-16T08:00:00Z",
    "patient_id": P1,
    "prescribed_by": DOCTOR,
}

# (service, method, label in the table, the call). The harness's Kafka producer is down, so
# the Clinical fake runs with faults.event_bus_down(), as the real service did.
CASES: list[tuple[str, str, str, Callable[[Any, dict[str, str]], Any]]] = [
    ("clinical", "get_patient", "", lambda c, i: c.get_patient(P1)),
    (
        "clinical",
        "get_patient",
        "other organisation",
        lambda c, i: c.get_patient(OTHER_ORG_PATIENT),
    ),
    ("clinical", "list_patients", "default sort", lambda c, i: c.list_patients()),
    ("clinical", "list_patients", "sort=email", lambda c, i: c.list_patients(sort="email")),
    ("clinical", "search_patients", "", lambda c, i: c.search_patients("Ahmed")),
    ("clinical", "get_all_stats", "", lambda c, i: c.get_all_stats()),
    ("clinical", "get_patients_count", "", lambda c, i: c.get_patients_count()),
    ("clinical", "get_patient_encounters", "", lambda c, i: c.get_patient_encounters(P1)),
    ("clinical", "get_encounter", "", lambda c, i: c.get_encounter(E1)),
    ("clinical", "list_encounters", "", lambda c, i: c.list_encounters()),
    (
        "clinical",
        "list_encounters",
        "patientId filter",
        lambda c, i: c.list_encounters(patient_id=P1),
    ),
    ("clinical", "get_diagnostic", "", lambda c, i: c.get_diagnostic(E1)),
    ("clinical", "list_diagnostics", "", lambda c, i: c.list_diagnostics()),
    ("clinical", "get_medication", "", lambda c, i: c.get_medication(E1)),
    ("clinical", "list_medications", "", lambda c, i: c.list_medications()),
    (
        "clinical",
        "list_medications",
        "patientId filter",
        lambda c, i: c.list_medications(patient_id=P1),
    ),
    ("clinical", "prescribe_medication", "", lambda c, i: c.prescribe_medication(PRESCRIPTION)),
    ("clinical", "update_medication", "", lambda c, i: c.update_medication(E1, PRESCRIPTION)),
    (
        "clinical",
        "discontinue_medication",
        "",
        lambda c, i: c.discontinue_medication(E1, {"reason": "course completed"}),
    ),
    ("clinical", "health_check", "", lambda c, i: c.health_check()),
    ("facility", "get_facility", "", lambda c, i: c.get_facility(i["facility"])),
    ("facility", "get_facility", "unknown id", lambda c, i: c.get_facility(NOPE)),
    ("facility", "get_capacity", "", lambda c, i: c.get_capacity(i["facility"])),
    ("facility", "get_departments", "", lambda c, i: c.get_departments(i["facility"])),
    (
        "facility",
        "update_facility",
        "",
        lambda c, i: c.update_facility(i["facility"], {"name": "Renamed"}),
    ),
    ("facility", "delete_facility", "", lambda c, i: c.delete_facility(i["facility"])),
    ("facility", "get_available_beds", "", lambda c, i: c.get_available_beds(i["facility"])),
    ("facility", "get_bed", "", lambda c, i: c.get_bed(i["bed"])),
    ("facility", "health_check", "", lambda c, i: c.health_check()),
]


def recorded(service: str, method: str, label: str) -> str:
    """The *real service today* text of one probe of a row of docs/compatibility.md."""
    section = DOC.read_text(encoding="utf-8").split(f"## {service.capitalize()}", 1)[1]
    for line in section.splitlines():
        if line.startswith(f"| `{method}` |"):
            cell = line.split(" | ")[2]
            for probe in cell.split("<br>"):
                if label and probe.startswith(f"{label}: "):
                    return probe.removeprefix(f"{label}: ")
                if not label and not re.match(r"^[^\"]+: \d", probe):
                    return probe
    raise AssertionError(f"no recorded row for {service}.{method} [{label}]")


def observed(statuses: list[int], body: bytes | None) -> str:
    """The same text for one call to the fake, built as ``make compat`` builds it."""
    parts: list[str] = []
    for status in statuses:
        if parts and parts[-1].split(" x")[0] == str(status):
            count = int(parts[-1].split(" x")[1]) + 1 if " x" in parts[-1] else 2
            parts[-1] = f"{status} x{count}"
        else:
            parts.append(str(status))
    text = ""
    if body:
        decoded = httpx.Response(200, content=body).json()
        error = decoded.get("error") if isinstance(decoded, dict) else None
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            text = error["message"]
        elif isinstance(error, str):
            text = error
        text = UUID.sub("{id}", text).replace('"', "'")
    return ", ".join(parts) + (f' "{text}"' if text else "")


def seeded_clinical() -> FakeClinicalService:
    fake = FakeClinicalService(profile="today", organization_id=ORG)
    fake.seed(
        patients=[
            {
                "id": P1,
                "firstName": "Ahmed",
                "lastName": "Hassan",
                "dateOfBirth": "1980-03-14",
                "gender": "male",
                "phoneNumber": "+249912000001",
                "email": "ahmed.hassan@example.sd",
            },
            {
                "id": OTHER_ORG_PATIENT,
                "organizationId": "99999999-9999-4999-8999-999999999999",
                "firstName": "Other",
                "lastName": "Tenant",
                "dateOfBirth": "1990-01-01",
                "gender": "other",
                "phoneNumber": "+249912999999",
            },
        ],
        encounters=[
            {
                "id": E1,
                "patientId": P1,
                "providerId": DOCTOR,
                "encounterType": "outpatient",
                "startDate": "2025-09-16T07:30:00Z",
                "chiefComplaint": "Headache and dizziness",
            }
        ],
    )
    fake.faults.event_bus_down()
    return fake


def seeded_facility() -> tuple[FakeFacilityService, dict[str, str]]:
    fake = FakeFacilityService(profile="today", organization_id=ORG)
    hospital = fake.create_hospital(wards=1, beds_per_ward=2)
    return fake, {
        "facility": hospital["facility"]["facilityId"],
        "bed": hospital["beds"][0]["bedId"],
    }


@pytest.fixture
def made() -> Iterator[list[Any]]:
    clients: list[Any] = []
    yield clients
    for client in clients:
        if isinstance(client, (ClinicalServiceClient, FacilityServiceClient)):
            client.close()


@pytest.mark.parametrize(
    ("service", "method", "label", "action"),
    CASES,
    ids=[f"{s}.{m}[{lbl}]" if lbl else f"{s}.{m}" for s, m, lbl, _ in CASES],
)
async def test_today_fake_reproduces_the_recorded_row(
    client_kind: str,
    made: list[Any],
    service: str,
    method: str,
    label: str,
    action: Callable[[Any, dict[str, str]], Any],
) -> None:
    """Statuses on the wire and the error text match the row make compat recorded."""
    ids: dict[str, str] = {}
    if service == "clinical":
        fake: Any = seeded_clinical()
        classes: tuple[type, type] = (ClinicalServiceClient, AsyncClinicalServiceClient)
    else:
        fake, ids = seeded_facility()
        classes = (FacilityServiceClient, AsyncFacilityServiceClient)
    sync_cls, async_cls = classes
    cls = sync_cls if client_kind == "sync" else async_cls
    client = cls(
        config=ServiceConfig(name=service, base_url=f"http://{service}.fake"),
        transport=fake.transport(),
    )
    made.append(client)
    mark = len(fake.journal)
    error: Any = None
    try:
        await call(action(client, ids))
    except Exception as exc:
        error = exc
    statuses = [entry.status for entry in list(fake.journal)[mark:]]
    body = getattr(error, "body", None)
    assert observed(statuses, body) == recorded(service, method, label)

"""Every Clinical typed method against the real Clinical service, sync and async.

Each test states what today's service does and what the library must make of it: the right
typed value, or the precise typed error, with the number of requests the retry policy allows.
"""

from __future__ import annotations

import random
from typing import Any

from compat._real import Compat
from nilecare_clients import (
    BadRequestError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    ServerError,
)
from nilecare_clients.models.clinical import EncounterRecord, Patient
from nilecare_clients.models.common import Page

ORG = "550e8400-e29b-41d4-a716-446655440001"
P1 = "11111111-1111-4111-8111-000000000001"
P5 = "11111111-1111-4111-8111-000000000005"
OTHER_ORG_PATIENT = "22222222-2222-4222-8222-000000000001"
E1 = "33333333-3333-4333-8333-000000000001"
E2 = "33333333-3333-4333-8333-000000000002"
DOCTOR = "44444444-4444-4444-8444-000000000001"
NOPE = "00000000-0000-4000-8000-000000000000"
CLINICIAN = "NILECARE_CLINICIAN_TOKEN"  # role doctor, every permission (run_compat.sh)

GET_RETRIED = 3  # the default RetryPolicy: a GET/PUT that gets 500 is sent three times
NO_EVENTS = (
    "Commit and publish atomically (outbox) or do not fail the request when the Kafka producer "
    "is down; honour `Idempotency-Key` (contract I26)"
)
STATS_DB = (
    "StatsController's `db` is undefined (never connected): query the PostgreSQL patient "
    "store with its column names"
)
NO_ENCOUNTER_CONTROLLER = "`EncounterController` was never committed: add it"
NO_DIAGNOSTIC_CONTROLLER = "`DiagnosticController` was never committed: add it"
DEFAULT_SORT = (
    "Default `sort=createdAt` becomes `ORDER BY p.createdat` (500): map sort keys to columns "
    "and use Joi's validated value"
)


def _phone() -> str:
    return "+2499" + "".join(random.choice("0123456789") for _ in range(8))


async def test_get_patient(compat: Compat) -> None:
    """A seeded patient comes back as a Patient; unknown and other-organisation ids raise
    NotFoundError, each in one request."""
    client = compat.clinical()
    kw: dict[str, Any] = {
        "route": "GET /api/v1/patients/{id}",
        "ref": "contract I1, I2",
        "upstream": "Works. Add `metadata` to success bodies (contract §1.4)",
    }
    patient = await compat.check(
        client, "get_patient", lambda c: c.get_patient(P1), returns=Patient, requests=1, **kw
    )
    assert (patient.id, patient.first_name, patient.organization_id) == (P1, "Ahmed", ORG)
    assert patient.address is not None and patient.address.city == "Khartoum"
    await compat.check(
        client,
        "get_patient",
        lambda c: c.get_patient(OTHER_ORG_PATIENT),
        raises=NotFoundError,
        requests=1,
        label="other organisation",
        **kw,
    )


async def test_patient_exists(compat: Compat) -> None:
    """True for a seeded patient, False only on a 404."""
    client = compat.clinical()
    kw: dict[str, Any] = {
        "route": "GET /api/v1/patients/{id}",
        "ref": "contract I21",
        "upstream": "Works",
    }
    found = await compat.check(
        client, "patient_exists", lambda c: c.patient_exists(P1), returns=bool, requests=1, **kw
    )
    missing = await compat.check(
        client,
        "patient_exists",
        lambda c: c.patient_exists(NOPE),
        returns=bool,
        requests=1,
        label="unknown id",
        **kw,
    )
    assert (found, missing) == (True, False)


async def test_list_patients(compat: Compat) -> None:
    """The default sort answers 500 (retried: a GET) and raises ServerError; sort=email works."""
    client = compat.clinical()
    kw: dict[str, Any] = {
        "route": "GET /api/v1/patients",
        "ref": "contract I13",
        "upstream": DEFAULT_SORT,
    }
    await compat.check(
        client,
        "list_patients",
        lambda c: c.list_patients(),
        raises=ServerError,
        requests=GET_RETRIED,
        label="default sort",
        **kw,
    )
    page = await compat.check(
        client,
        "list_patients",
        lambda c: c.list_patients(limit=100, sort="email", order="asc"),
        returns=Page,
        requests=1,
        label="sort=email",
        **kw,
    )
    assert page.total >= 5 and len(page.items) == min(page.total, 100)
    assert all(isinstance(p, Patient) and p.organization_id == ORG for p in page.items)
    emails = [p.email for p in page.items if p.email]
    assert emails == sorted(emails)
    assert {P1, P5} <= {p.id for p in page.items}


async def test_iter_patients(compat: Compat) -> None:
    """iter_patients sends no sort, so today it meets the same 500 and raises ServerError."""
    client = compat.clinical()

    async def first(c: object) -> object:
        iterator = c.iter_patients()  # type: ignore[attr-defined]
        if hasattr(iterator, "__anext__"):
            return await iterator.__anext__()
        return next(iterator)

    await compat.check(
        client,
        "iter_patients",
        first,
        raises=ServerError,
        requests=GET_RETRIED,
        route="GET /api/v1/patients",
        ref="contract I12, I13",
        upstream=DEFAULT_SORT,
    )


async def test_search_patients(compat: Compat) -> None:
    """?search= is refused with 400 by the strict query schema: BadRequestError, one request."""
    await compat.check(
        compat.clinical(),
        "search_patients",
        lambda c: c.search_patients("Ahmed"),
        raises=BadRequestError,
        requests=1,
        route="GET /api/v1/patients?search=",
        ref="contract I7, I13",
        upstream="Add `search` to the list query schema; fix the count query's bind parameters",
    )


async def test_stats(compat: Compat) -> None:
    """Every /stats route answers 500 (its database handle is undefined): ServerError, retried."""
    client = compat.clinical()
    for method, route, ref in (
        ("get_recent_patients", "/api/v1/stats/patients/recent", "contract I24, I27"),
        ("get_patients_count", "/api/v1/stats/patients/count", "contract I24"),
        ("get_encounters_count", "/api/v1/stats/encounters/count", "contract I24"),
        ("get_today_encounters", "/api/v1/stats/encounters/today", "contract I7, I24"),
        ("get_all_stats", "/api/v1/stats", "contract I7, I24"),
    ):
        await compat.check(
            client,
            method,
            lambda c, m=method: getattr(c, m)(),
            raises=ServerError,
            requests=GET_RETRIED,
            route=f"GET {route}",
            ref=ref,
            upstream=STATS_DB,
        )


async def test_get_patient_encounters(compat: Compat) -> None:
    """Raw snake_case rows are normalised into EncounterRecord, newest first (contract I16)."""
    records = await compat.check(
        compat.clinical(),
        "get_patient_encounters",
        lambda c: c.get_patient_encounters(P1),
        returns=list,
        requests=1,
        route="GET /api/v1/patients/{id}/encounters",
        ref="contract I16",
        upstream="Return camelCase Encounter objects (not storage rows) and a pagination block",
    )
    assert all(isinstance(r, EncounterRecord) for r in records)
    assert [r.id for r in records] == [E2, E1]
    assert {r.patient_id for r in records} == {P1}


async def test_create_patient_commits_then_answers_500(compat: Compat) -> None:
    """POST /patients commits, then answers 500: OutcomeUnknownError with the key, exactly one
    request; the row exists; a blind repeat would have got 400 "already exists"."""
    doctor = compat.clinical("NILECARE_DOCTOR_TOKEN")
    body = {
        "first_name": "Compat",
        "last_name": "Probe",
        "date_of_birth": "1990-05-05",
        "gender": "female",
        "phone_number": _phone(),
    }
    key = f"compat-{compat.kind}-{random.getrandbits(64):x}"
    error = await compat.check(
        doctor,
        "create_patient",
        lambda c: c.create_patient(body, idempotency_key=key),
        raises=OutcomeUnknownError,
        requests=1,
        route="POST /api/v1/patients",
        ref="contract I11, I26",
        upstream=NO_EVENTS + "; answer 409 for a duplicate phone (contract I11)",
    )
    assert error.idempotency_key == key and error.status_code == 500
    assert f"idempotency_key={key}" in str(error)

    # Reconcile as a caller would: the write was applied.
    admin = compat.clinical()
    page = await compat.check(
        admin,
        "list_patients",
        lambda c: c.list_patients(limit=100, sort="email"),
        returns=Page,
        requests=1,
        route="",
        ref="",
        upstream="",
        record=False,
    )
    created = [p for p in page.items if p.phone_number == body["phone_number"]]
    assert len(created) == 1

    # What the retry the library refused to make would have met.
    await compat.check(
        doctor,
        "create_patient",
        lambda c: c.create_patient(body, idempotency_key=key),
        raises=BadRequestError,
        requests=1,
        label="same body again (what a blind retry gets)",
        route="POST /api/v1/patients",
        ref="contract I11, I26",
        upstream=NO_EVENTS,
    )

    # DELETE also commits then answers 500; the retry (DELETE is idempotent) meets 404, which
    # must not be reported as "not found".
    deleted = await compat.check(
        admin,
        "delete_patient",
        lambda c: c.delete_patient(created[0].id),
        raises=OutcomeUnknownError,
        requests=2,
        route="DELETE /api/v1/patients/{id}",
        ref="contract I22, I26",
        upstream=NO_EVENTS,
    )
    assert deleted.status_code == 404
    assert [s for _, _, s in compat.wire(admin).entries[-2:]] == [500, 404]
    await compat.check(
        admin,
        "delete_patient",
        lambda c: c.delete_patient(created[0].id),
        raises=NotFoundError,
        requests=1,
        label="already deleted",
        route="DELETE /api/v1/patients/{id}",
        ref="contract I22",
        upstream=NO_EVENTS,
    )


async def test_create_patient_refusals(compat: Compat) -> None:
    """Refusals before any write are precise: 403 without the permission, and no OutcomeUnknown."""
    body = {
        "first_name": "No",
        "last_name": "Perm",
        "date_of_birth": "1990-05-05",
        "gender": "male",
        "phone_number": _phone(),
    }
    await compat.check(
        compat.clinical("NILECARE_NURSE_NOPERM_TOKEN"),
        "create_patient",
        lambda c: c.create_patient(body),
        raises=PermissionDeniedError,
        requests=1,
        label="caller without patients:create",
        route="POST /api/v1/patients",
        ref="contract I11, I26",
        upstream=NO_EVENTS,
    )


async def test_update_patient(compat: Compat) -> None:
    """PUT commits, then answers 500: retried (PUT is idempotent), ServerError; the change is
    applied."""
    client = compat.clinical("NILECARE_DOCTOR_TOKEN")
    await compat.check(
        client,
        "update_patient",
        lambda c: c.update_patient(P5, {"allergies": ["latex"]}),
        raises=ServerError,
        requests=GET_RETRIED,
        route="PUT /api/v1/patients/{id}",
        ref="contract I15, I26",
        upstream=NO_EVENTS,
    )
    patient = await compat.check(
        client,
        "get_patient",
        lambda c: c.get_patient(P5),
        returns=Patient,
        requests=1,
        route="",
        ref="",
        upstream="",
        record=False,
    )
    assert patient.allergies == ["latex"]


async def test_encounters(compat: Compat) -> None:
    """Every /encounters route answers 501 (no controller): ServerError after one request, for
    reads and writes alike (a 501 proves nothing was done, and is not retried)."""
    client = compat.clinical(CLINICIAN)
    encounter = {
        "patient_id": P1,
        "provider_id": DOCTOR,
        "encounter_type": "outpatient",
        "start_date": "2025-10-16T07:30:00Z",
        "chief_complaint": "Persistent cough",
    }
    for method, route, call in (
        ("get_encounter", "GET /api/v1/encounters/{id}", lambda c: c.get_encounter(E1)),
        ("list_encounters", "GET /api/v1/encounters", lambda c: c.list_encounters()),
        ("create_encounter", "POST /api/v1/encounters", lambda c: c.create_encounter(encounter)),
        (
            "update_encounter",
            "PUT /api/v1/encounters/{id}",
            lambda c: c.update_encounter(E1, encounter),
        ),
        (
            "complete_encounter",
            "PATCH /api/v1/encounters/{id}/complete",
            lambda c: c.complete_encounter(E1, {"treatment_plan": "rest"}),
        ),
    ):
        await compat.check(
            client,
            method,
            call,
            raises=ServerError,
            requests=1,
            route=route,
            ref="contract §2.3, I13",
            upstream=NO_ENCOUNTER_CONTROLLER,
        )
    await compat.check(
        client,
        "list_encounters",
        lambda c: c.list_encounters(patient_id=P1),
        raises=BadRequestError,
        requests=1,
        label="patientId filter",
        route="GET /api/v1/encounters",
        ref="contract §2.3, I13",
        upstream=NO_ENCOUNTER_CONTROLLER + "; allow the documented filters in the query schema",
    )
    assert client.breaker_state == "closed"  # 501 is not an outage


async def test_diagnostics(compat: Compat) -> None:
    """Every /diagnostics route answers 501 (no controller): ServerError after one request."""
    client = compat.clinical(CLINICIAN)
    order = {
        "patient_id": P1,
        "ordered_by": DOCTOR,
        "test_type": "laboratory",
        "order_date": "2025-10-16T07:30:00Z",
    }
    results = {"results": {"hb": 13.5}, "completed_date": "2025-10-16T09:00:00Z"}
    for method, route, call in (
        ("get_diagnostic", "GET /api/v1/diagnostics/{id}", lambda c: c.get_diagnostic(E1)),
        ("list_diagnostics", "GET /api/v1/diagnostics", lambda c: c.list_diagnostics()),
        ("order_diagnostic", "POST /api/v1/diagnostics", lambda c: c.order_diagnostic(order)),
        (
            "update_diagnostic",
            "PUT /api/v1/diagnostics/{id}",
            lambda c: c.update_diagnostic(E1, {"notes": "fasting"}),
        ),
        (
            "add_diagnostic_results",
            "PATCH /api/v1/diagnostics/{id}/results",
            lambda c: c.add_diagnostic_results(E1, results),
        ),
    ):
        await compat.check(
            client,
            method,
            call,
            raises=ServerError,
            requests=1,
            route=route,
            ref="contract §2.6, I13, I14",
            upstream=NO_DIAGNOSTIC_CONTROLLER,
        )
    assert client.breaker_state == "closed"


async def test_medications(compat: Compat) -> None:
    """Placeholder reads (200 null, an empty list); writes commit-then-500 like patients:
    POST/PATCH raise OutcomeUnknownError after one request, PUT is retried."""
    client = compat.clinical(CLINICIAN)
    await compat.check(
        client,
        "get_medication",
        lambda c: c.get_medication(E1),
        raises=NotFoundError,
        requests=1,
        route="GET /api/v1/medications/{id}",
        ref="contract I11",
        upstream="Placeholder handler answers 200 `data: null`: implement the lookup (404 if none)",
    )
    list_kw: dict[str, Any] = {
        "route": "GET /api/v1/medications",
        "ref": "contract I13",
        "upstream": "Placeholder handler always returns an empty list; the strict query schema "
        "rejects the documented `patientId`/`status` filters",
    }
    page = await compat.check(
        client,
        "list_medications",
        lambda c: c.list_medications(),
        returns=Page,
        requests=1,
        **list_kw,
    )
    assert page.items == [] and page.total == 0
    await compat.check(
        client,
        "list_medications",
        lambda c: c.list_medications(patient_id=P1),
        raises=BadRequestError,
        requests=1,
        label="patientId filter",
        **list_kw,
    )
    prescription = {
        "name": "Amoxicillin",
        "dosage": "500mg",
        "frequency": "three times daily",
        "route": "oral",
        "start_date": "2025-10-16T08:00:00Z",
        "patient_id": P1,
        "prescribed_by": DOCTOR,
    }
    error = await compat.check(
        client,
        "prescribe_medication",
        lambda c: c.prescribe_medication(prescription),
        raises=OutcomeUnknownError,
        requests=1,
        route="POST /api/v1/medications",
        ref="contract I14, I26",
        upstream=NO_EVENTS,
    )
    assert error.idempotency_key
    await compat.check(
        client,
        "update_medication",
        lambda c: c.update_medication(E1, prescription),
        raises=ServerError,
        requests=GET_RETRIED,
        route="PUT /api/v1/medications/{id}",
        ref="contract I26",
        upstream=NO_EVENTS,
    )
    await compat.check(
        client,
        "discontinue_medication",
        lambda c: c.discontinue_medication(E1, {"reason": "course completed"}),
        raises=OutcomeUnknownError,
        requests=1,
        route="PATCH /api/v1/medications/{id}/discontinue",
        ref="contract I22, I26",
        upstream=NO_EVENTS,
    )
    await compat.check(
        compat.clinical(),
        "prescribe_medication",
        lambda c: c.prescribe_medication(prescription),
        raises=PermissionDeniedError,
        requests=1,
        label="admin (role not allowed)",
        route="POST /api/v1/medications",
        ref="contract I14, I26",
        upstream=NO_EVENTS,
    )


async def test_health_check(compat: Compat) -> None:
    """GET /health answers 200: healthy, one request, never raises."""
    status = await compat.check(
        compat.clinical(),
        "health_check",
        lambda c: c.health_check(),
        returns=object,
        requests=1,
        route="GET /health",
        ref="contract I23",
        upstream="Works (`/ready` exists; the readme's `/health/ready` does not)",
    )
    assert status.ok and status.status_code == 200

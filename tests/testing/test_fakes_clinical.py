"""FakeClinicalService over both in-process mounts: records, lists, validation, CDS, stats."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from nilecare_clients.testing.fakes import (
    DEFAULT_ORGANIZATION_ID,
    FakeClinicalService,
    FakeServiceError,
    make_diagnostic,
    make_encounter,
    make_medication,
    make_patient,
)

NOW = datetime(2025, 10, 16, 12, 0, tzinfo=timezone.utc)
OTHER_ORG = "5a1f0c7e-2b64-4d3a-8f19-0e6c2d9b7a41"
MISSING = "00000000-0000-4000-8000-000000000000"


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
    return FakeClinicalService(clock=lambda: NOW)


@pytest.fixture(params=["sync", "async"])
async def api(request: pytest.FixtureRequest, fake: FakeClinicalService) -> AsyncIterator[Api]:
    if request.param == "sync":
        with httpx.Client(transport=fake.transport(), base_url="http://fake") as client:
            yield Api(client)
    else:
        async with httpx.AsyncClient(transport=fake.transport(), base_url="http://fake") as aclient:
            yield Api(aclient)


def fields(response: httpx.Response) -> dict[str, list[str]]:
    body = response.json()
    assert body["error"]["code"] == "VALIDATION_ERROR"
    return dict(body["error"]["details"]["fields"])


# -- patients -----------------------------------------------------------------------------


async def test_create_then_read_back_patient(api: Api) -> None:
    """A created patient comes back by id with server fields, nested objects and a midnight dateOfBirth."""
    body = make_patient(seed=3, first_name="Amna", last_name="Osman", date_of_birth="1990-04-02")
    created = await api("POST", "/api/v1/patients", json=body)
    assert created.status_code == 201
    assert set(created.json()) == {"success", "data"}
    patient = created.json()["data"]
    assert patient["organizationId"] == DEFAULT_ORGANIZATION_ID
    assert patient["dateOfBirth"] == "1990-04-02T00:00:00.000Z"
    assert patient["createdAt"] == "2025-10-16T12:00:00.000Z"
    read = await api("GET", f"/api/v1/patients/{patient['id']}")
    assert read.status_code == 200
    assert read.json() == {"success": True, "data": patient}
    assert read.json()["data"]["address"] == body["address"]


async def test_unset_nested_fields_read_back_as_null(api: Api) -> None:
    """A patient created without address or emergency contact still has both objects, with nulls."""
    body = make_patient(seed=4)
    del body["address"], body["emergencyContact"]
    patient = (await api("POST", "/api/v1/patients", json=body)).json()["data"]
    assert patient["address"] == dict.fromkeys(("street", "city", "state", "zipCode", "country"))
    assert patient["emergencyContact"]["name"] is None


async def test_list_pages_inside_data_with_named_collection(
    api: Api, fake: FakeClinicalService
) -> None:
    """Clinical lists put the collection and pagination inside data, newest first, default limit 10."""
    for _ in range(23):
        fake.create_patient()
    first = (await api("GET", "/api/v1/patients")).json()
    assert set(first) == {"success", "data"}
    assert first["data"]["pagination"] == {"page": 1, "limit": 10, "total": 23, "pages": 3}
    seen: list[str] = []
    for page in (1, 2, 3):
        data = (await api("GET", "/api/v1/patients", params={"page": page, "limit": 10})).json()[
            "data"
        ]
        seen += [p["id"] for p in data["patients"]]
    assert len(seen) == len(set(seen)) == 23
    assert seen[0] == fake.patients[-1]["id"]
    beyond = (await api("GET", "/api/v1/patients", params={"page": 9})).json()["data"]
    assert beyond["patients"] == []


async def test_sort_by_name_ascending(api: Api, fake: FakeClinicalService) -> None:
    """sort=name&order=asc orders patients by last then first name."""
    for last in ("Osman", "Babiker", "Elfadil"):
        fake.create_patient(last_name=last)
    data = (await api("GET", "/api/v1/patients", params={"sort": "name", "order": "asc"})).json()
    assert [p["lastName"] for p in data["data"]["patients"]] == ["Babiker", "Elfadil", "Osman"]


async def test_search_is_case_insensitive_substring(api: Api, fake: FakeClinicalService) -> None:
    """search matches a case-insensitive substring of firstName, lastName or email (contract I13)."""
    fake.create_patient(first_name="Amna", last_name="Osman", email="amna@example.sd")
    fake.create_patient(first_name="Mohamed", last_name="Elfadil", email="m.elfadil@example.sd")
    fake.create_patient(first_name="Hawa", last_name="Idris", email="hawa@clinic.sd")
    for term, expected in (("OSM", ["Amna"]), ("fadil", ["Mohamed"]), ("clinic.SD", ["Hawa"])):
        data = (await api("GET", "/api/v1/patients", params={"search": term})).json()["data"]
        assert [p["firstName"] for p in data["patients"]] == expected
        assert data["pagination"]["total"] == len(expected)


async def test_unknown_query_key_is_rejected(api: Api) -> None:
    """The strict list validator answers 400 for a query key it does not know."""
    response = await api("GET", "/api/v1/patients", params={"colour": "blue", "limit": 500})
    assert response.status_code == 400
    assert set(fields(response)) == {"colour", "limit"}


async def test_validation_lists_every_bad_field(api: Api) -> None:
    """One 400 lists every invalid field under details.fields, with canonical metadata."""
    body = make_patient(
        seed=1,
        first_name="A",
        phone_number="call me",
        gender="robot",
        email="nope",
        date_of_birth="2099-01-01",
    )
    response = await api("POST", "/api/v1/patients", json=body)
    assert response.status_code == 400
    assert set(fields(response)) == {"firstName", "phoneNumber", "gender", "email", "dateOfBirth"}
    error = response.json()
    assert error["error"]["statusCode"] == 400
    assert error["metadata"]["service"] == "clinical-service"
    assert error["metadata"]["version"] == "v1"


async def test_missing_address_part_and_unknown_key(api: Api) -> None:
    """An address missing a part, or an unknown body key, is a 400 naming the dotted field."""
    body = make_patient(seed=1)
    del body["address"]["city"]
    body["mrn"] = "X1"
    response = await api("POST", "/api/v1/patients", json=body)
    assert set(fields(response)) == {"address.city", "mrn"}


async def test_body_that_is_not_json_is_400(api: Api) -> None:
    """A body that is not JSON is a validation error, not a crash."""
    response = await api(
        "POST", "/api/v1/patients", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400


async def test_non_uuid_path_id_is_400(api: Api) -> None:
    """A path id that is not a UUID answers 400 before any lookup."""
    response = await api("GET", "/api/v1/patients/12345")
    assert response.status_code == 400
    assert fields(response) == {"id": ["must be a valid UUID"]}


async def test_unknown_patient_is_404(api: Api) -> None:
    """An unknown id answers 404 NOT_FOUND with the id in details."""
    response = await api("GET", f"/api/v1/patients/{MISSING}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"
    assert response.json()["error"]["details"] == {"id": MISSING}


async def test_unknown_route_is_canonical_404(api: Api) -> None:
    """A route the service does not have answers the canonical 404 form."""
    response = await api("GET", "/api/v1/patients/recent/extra/path")
    assert response.status_code == 404
    assert response.json()["success"] is False


async def test_duplicate_phone_is_409(api: Api, fake: FakeClinicalService) -> None:
    """A phone number already used in the organisation is 409 DUPLICATE_ENTRY, whatever its spacing (contract I11)."""
    fake.create_patient(phone_number="+249 912 345 678")
    response = await api(
        "POST", "/api/v1/patients", json=make_patient(seed=2, phone_number="+249912345678")
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "DUPLICATE_ENTRY"
    fake.organization_id = OTHER_ORG
    again = await api(
        "POST", "/api/v1/patients", json=make_patient(seed=2, phone_number="+249912345678")
    )
    assert again.status_code == 201


async def test_update_is_partial_and_keeps_nested_objects(
    api: Api, fake: FakeClinicalService
) -> None:
    """PUT changes only the given fields and stores address parts (contract I15)."""
    patient = fake.create_patient(first_name="Amna")
    response = await api(
        "PUT",
        f"/api/v1/patients/{patient['id']}",
        json={"lastName": "Elfadil", "address": {"city": "Omdurman"}},
    )
    assert response.status_code == 200
    updated = response.json()["data"]
    assert (updated["firstName"], updated["lastName"]) == ("Amna", "Elfadil")
    assert updated["address"]["city"] == "Omdurman"
    assert updated["address"]["street"] == patient["address"]["street"]


async def test_update_to_taken_phone_is_409(api: Api, fake: FakeClinicalService) -> None:
    """Changing a phone number to one another patient has is 409."""
    taken = fake.create_patient()
    other = fake.create_patient()
    response = await api(
        "PUT", f"/api/v1/patients/{other['id']}", json={"phoneNumber": taken["phoneNumber"]}
    )
    assert response.status_code == 409


async def test_delete_is_real(api: Api, fake: FakeClinicalService) -> None:
    """DELETE answers {success, message} and the patient is gone (contract I22)."""
    patient = fake.create_patient()
    response = await api("DELETE", f"/api/v1/patients/{patient['id']}")
    assert response.json() == {"success": True, "message": "Patient deleted successfully"}
    assert (await api("GET", f"/api/v1/patients/{patient['id']}")).status_code == 404
    assert (await api("DELETE", f"/api/v1/patients/{patient['id']}")).status_code == 404


async def test_other_organisation_is_invisible(api: Api, fake: FakeClinicalService) -> None:
    """Records of another organisation answer 404 and are left out of lists."""
    patient = fake.create_patient()
    fake.organization_id = OTHER_ORG
    assert (await api("GET", f"/api/v1/patients/{patient['id']}")).status_code == 404
    listed = (await api("GET", "/api/v1/patients")).json()["data"]
    assert listed["pagination"]["total"] == 0


# -- encounters ---------------------------------------------------------------------------


async def test_encounter_lifecycle(api: Api, fake: FakeClinicalService) -> None:
    """An encounter starts in-progress, is found by filters and completes with a diagnosis."""
    patient = fake.create_patient()
    body = make_encounter(seed=5, patient_id=patient["id"])
    created = await api("POST", "/api/v1/encounters", json=body)
    assert created.status_code == 201
    encounter = created.json()["data"]
    assert encounter["status"] == "in-progress"
    listed = (
        await api(
            "GET",
            "/api/v1/encounters",
            params={"patientId": patient["id"], "status": "in-progress"},
        )
    ).json()["data"]
    assert [e["id"] for e in listed["encounters"]] == [encounter["id"]]
    done = await api(
        "PATCH",
        f"/api/v1/encounters/{encounter['id']}/complete",
        json={"diagnosis": ["Malaria"], "treatmentPlan": "ACT for 3 days"},
    )
    assert done.json()["data"]["status"] == "completed"
    assert done.json()["data"]["diagnosis"] == ["Malaria"]
    assert done.json()["data"]["endDate"] == "2025-10-16T12:00:00.000Z"


async def test_encounter_validation(api: Api, fake: FakeClinicalService) -> None:
    """Vital signs out of range, an end before the start and an unknown patient are 400."""
    body = make_encounter(
        seed=5,
        patient_id=MISSING,
        start_date="2025-10-10T10:00:00Z",
        end_date="2025-10-09T10:00:00Z",
    )
    body["vitalSigns"]["heartRate"] = 400
    body["vitalSigns"]["bloodPressure"]["systolic"] = 10
    response = await api("POST", "/api/v1/encounters", json=body)
    assert set(fields(response)) == {
        "patientId",
        "endDate",
        "vitalSigns.heartRate",
        "vitalSigns.bloodPressure.systolic",
    }


async def test_encounter_put_needs_full_body(api: Api, fake: FakeClinicalService) -> None:
    """PUT /encounters/{id} wants the full EncounterCreate body again."""
    encounter = fake.create_encounter()
    partial = await api(
        "PUT", f"/api/v1/encounters/{encounter['id']}", json={"chiefComplaint": "Cough"}
    )
    assert partial.status_code == 400
    full = {k: encounter[k] for k in ("patientId", "providerId", "encounterType", "startDate")}
    replaced = await api(
        "PUT", f"/api/v1/encounters/{encounter['id']}", json={**full, "chiefComplaint": "Cough"}
    )
    assert replaced.json()["data"]["chiefComplaint"] == "Cough"


async def test_list_filter_validation(api: Api) -> None:
    """Filters are validated: a bad patientId or status is a 400."""
    response = await api("GET", "/api/v1/encounters", params={"patientId": "x", "status": "open"})
    assert set(fields(response)) == {"patientId", "status"}


async def test_patient_encounters_are_snake_case_rows(api: Api, fake: FakeClinicalService) -> None:
    """Patient encounters come back newest first as snake_case rows with no pagination block (contract I16)."""
    patient = fake.create_patient()
    fake.create_encounter(patient_id=patient["id"], start_date="2025-10-01T08:00:00Z")
    newest = fake.create_encounter(patient_id=patient["id"], start_date="2025-10-12T08:00:00Z")
    fake.create_encounter()
    data = (await api("GET", f"/api/v1/patients/{patient['id']}/encounters")).json()["data"]
    assert set(data) == {"patientId", "encounters"}
    assert data["encounters"][0]["id"] == newest["id"]
    assert len(data["encounters"]) == 2
    assert "chief_complaint" in data["encounters"][0]
    assert (await api("GET", f"/api/v1/patients/{MISSING}/encounters")).status_code == 404


# -- medications --------------------------------------------------------------------------


async def test_prescribe_answers_201_with_safety_assessment(
    api: Api, fake: FakeClinicalService
) -> None:
    """Prescribing answers data.medication and data.safetyAssessment, and can be read back (contract §2.5)."""
    patient = fake.create_patient(allergies=[])
    response = await api(
        "POST", "/api/v1/medications", json=make_medication(seed=1, patient_id=patient["id"])
    )
    assert response.status_code == 201
    body = response.json()
    assert "warnings" not in body
    medication = body["data"]["medication"]
    assert medication["status"] == "active"
    assert medication["prescribedBy"] == fake.user_id
    assert medication["safetyRiskLevel"] == "low"
    assert body["data"]["safetyAssessment"]["overallRisk"]["level"] == "low"
    read = (await api("GET", f"/api/v1/medications/{medication['id']}")).json()["data"]
    assert read == medication


async def test_allergy_needs_override(api: Api, fake: FakeClinicalService) -> None:
    """A medication the patient is allergic to is 400 requiresOverride until overrideReason is sent."""
    patient = fake.create_patient(allergies=["Amoxicillin"])
    body = make_medication(seed=1, patient_id=patient["id"], name="Amoxicillin")
    refused = await api("POST", "/api/v1/medications", json=body)
    assert refused.status_code == 400
    assert refused.json()["requiresOverride"] is True
    assert isinstance(refused.json()["error"], str)
    assert refused.json()["riskFactors"]["allergyAlerts"]
    allowed = await api(
        "POST", "/api/v1/medications", json={**body, "overrideReason": "No alternative"}
    )
    assert allowed.status_code == 201
    assert allowed.json()["warnings"]["level"] == "high"
    assert allowed.json()["data"]["medication"]["overrideReason"] == "No alternative"


async def test_flagged_medications(api: Api, fake: FakeClinicalService) -> None:
    """A contraindicated medication is 403 blocked; a medium one gets warnings."""
    patient = fake.create_patient(allergies=[])
    fake.flag_medication("Warfarin", "contraindicated")
    fake.flag_medication("Ciprofloxacin", "medium")
    blocked = await api(
        "POST",
        "/api/v1/medications",
        json=make_medication(seed=1, patient_id=patient["id"], name="warfarin"),
    )
    assert blocked.status_code == 403
    assert blocked.json()["blocked"] is True
    warned = await api(
        "POST",
        "/api/v1/medications",
        json=make_medication(seed=1, patient_id=patient["id"], name="Ciprofloxacin"),
    )
    assert warned.status_code == 201
    assert warned.json()["warnings"]["level"] == "medium"


async def test_medication_update_discontinue_and_filters(
    api: Api, fake: FakeClinicalService
) -> None:
    """PUT replaces a medication, discontinue answers {success, message} and status filters see it."""
    medication = fake.create_medication()
    body = make_medication(seed=9, patient_id=medication["patientId"], dosage="250 mg")
    updated = await api("PUT", f"/api/v1/medications/{medication['id']}", json=body)
    assert updated.json()["data"]["dosage"] == "250 mg"
    stopped = await api(
        "PATCH", f"/api/v1/medications/{medication['id']}/discontinue", json={"reason": "rash"}
    )
    assert stopped.json() == {"success": True, "message": "Medication discontinued successfully"}
    listed = (await api("GET", "/api/v1/medications", params={"status": "discontinued"})).json()[
        "data"
    ]
    assert [m["id"] for m in listed["medications"]] == [medication["id"]]
    assert (await api("GET", f"/api/v1/medications/{MISSING}")).status_code == 404


# -- diagnostics --------------------------------------------------------------------------


async def test_diagnostic_order_and_results(api: Api, fake: FakeClinicalService) -> None:
    """A diagnostic starts ordered and routine, and results complete it."""
    patient = fake.create_patient()
    body = make_diagnostic(seed=2, patient_id=patient["id"], test_type="parasitology")
    body.pop("priority")
    created = (await api("POST", "/api/v1/diagnostics", json=body)).json()["data"]
    assert (created["status"], created["priority"]) == ("ordered", "routine")
    missing = await api(
        "PATCH", f"/api/v1/diagnostics/{created['id']}/results", json={"results": {}}
    )
    assert set(fields(missing)) == {"completedDate"}
    done = await api(
        "PATCH",
        f"/api/v1/diagnostics/{created['id']}/results",
        json={"results": {"parasites": "not seen"}, "completedDate": "2025-10-16T11:00:00Z"},
    )
    assert done.json()["data"]["status"] == "completed"
    listed = (await api("GET", "/api/v1/diagnostics", params={"testType": "Parasitology"})).json()[
        "data"
    ]
    assert listed["pagination"]["total"] == 1


# -- stats and health ---------------------------------------------------------------------


async def test_stats_are_scoped_and_counted(api: Api, fake: FakeClinicalService) -> None:
    """Stats count the caller's patients and encounters, with today's by the fake's clock."""
    patient = fake.create_patient(first_name="Amna", last_name="Osman")
    fake.create_encounter(patient_id=patient["id"], start_date="2025-10-16T09:30:00Z")
    fake.create_encounter(patient_id=patient["id"], start_date="2025-10-16T07:00:00Z")
    fake.create_encounter(patient_id=patient["id"], start_date="2025-10-02T09:30:00Z")
    stats = (await api("GET", "/api/v1/stats")).json()["data"]
    assert stats["patients"] == {"total": 1}
    assert stats["encounters"] == {"total": 3, "today": 2}
    assert stats["organizationId"] == DEFAULT_ORGANIZATION_ID
    today = (await api("GET", "/api/v1/stats/encounters/today")).json()["data"]
    assert today["date"] == "2025-10-16"
    assert [e["scheduledAt"] for e in today["encounters"]] == [
        "2025-10-16T07:00:00.000Z",
        "2025-10-16T09:30:00.000Z",
    ]
    assert today["encounters"][0]["patientFirstName"] == "Amna"
    assert (await api("GET", "/api/v1/stats/patients/count")).json()["data"]["count"] == 1
    assert (await api("GET", "/api/v1/stats/encounters/count")).json()["data"]["count"] == 3


async def test_recent_patients_newest_first(api: Api, fake: FakeClinicalService) -> None:
    """Recent patients are summaries, newest first, limited by limit."""
    made = [fake.create_patient() for _ in range(4)]
    data = (await api("GET", "/api/v1/stats/patients/recent", params={"limit": 3})).json()["data"]
    assert [p["id"] for p in data["patients"]] == [p["id"] for p in reversed(made)][:3]
    assert data["count"] == 3
    assert set(data["patients"][0]) == {
        "id",
        "firstName",
        "lastName",
        "dateOfBirth",
        "gender",
        "phoneNumber",
        "email",
        "createdAt",
    }


async def test_health_routes(api: Api, fake: FakeClinicalService) -> None:
    """/health, /ready and /health/ready answer Clinical's shapes, and readiness can fail."""
    health = (await api("GET", "/health")).json()
    assert (health["success"], health["status"], health["service"]) == (
        True,
        "healthy",
        "clinical-service",
    )
    assert "uptime" in health
    for path in ("/ready", "/health/ready"):
        assert (await api("GET", path)).json()["status"] == "ready"
    fake.ready = False
    not_ready = await api("GET", "/ready")
    assert not_ready.status_code == 503
    assert not_ready.json()["status"] == "not ready"


# -- direct helpers -----------------------------------------------------------------------


def test_seed_pins_ids_and_reset_forgets() -> None:
    """seed() stores bodies with pinned ids; reset() forgets them and re-seeds ids."""
    fake = FakeClinicalService(seed=7)
    pinned = "11111111-2222-4333-8444-555555555555"
    made = fake.seed(patients=[{**make_patient(seed=1), "id": pinned}, make_patient(seed=2)])
    assert made["patients"][0]["id"] == pinned
    second_id = made["patients"][1]["id"]
    fake.seed(encounters=[make_encounter(seed=1, patient_id=pinned)])
    assert len(fake.encounters) == 1
    fake.reset()
    assert fake.patients == [] and fake.encounters == []
    again = fake.seed(patients=[make_patient(seed=1), make_patient(seed=2)])
    assert again["patients"][0]["id"] == second_id


def test_direct_helpers_validate() -> None:
    """Direct helpers raise FakeServiceError on invalid data instead of storing it."""
    fake = FakeClinicalService()
    with pytest.raises(FakeServiceError) as caught:
        fake.create_patient(gender="robot")
    assert caught.value.status == 400
    patient = fake.create_patient(allergies=["Paracetamol"])
    with pytest.raises(FakeServiceError) as refused:
        fake.create_medication(patient_id=patient["id"], name="Paracetamol")
    assert refused.value.status == 400


def test_ids_are_deterministic_per_seed() -> None:
    """Two fakes with the same seed assign the same ids, and Clinical ids differ from Facility's."""
    first = FakeClinicalService(seed=3).create_patient()
    second = FakeClinicalService(seed=3).create_patient()
    assert first["id"] == second["id"]
    assert first == second | {"createdAt": first["createdAt"], "updatedAt": first["updatedAt"]}

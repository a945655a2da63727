"""ClinicalServiceClient and its async twin against respx routes built from the contract (contract §2).

Every case runs for both twins (``client_kind``): the request (method, path, query, body,
idempotency header) and the typed value returned from Clinical's real success shapes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any

import pytest
import respx
from client_cases import Case, public_methods, run_case
from client_payloads import (
    CLINICAL_URL,
    DIAGNOSTIC_ID,
    ENCOUNTER_ID,
    MEDICATION_ID,
    ORG_ID,
    PATIENT_ID,
    PHONE,
    STAMP,
    USER_ID,
    clinical_message,
    clinical_ok,
    clinical_page,
    diagnostic_create,
    diagnostic_row,
    encounter_create,
    encounter_row,
    encounter_storage_row,
    encounter_summary_row,
    medication_create,
    medication_row,
    patient_create,
    patient_row,
    patient_summary_row,
    prescription_body,
)

from nilecare_clients.models import (
    ClinicalStats,
    Diagnostic,
    Encounter,
    EncounterRecord,
    EncounterSummary,
    EncounterType,
    Gender,
    Medication,
    Page,
    Patient,
    PatientSummary,
    PrescriptionResult,
)

HOST = CLINICAL_URL.removeprefix("http://")

ENCOUNTER_WIRE = {
    "patientId": PATIENT_ID,
    "providerId": USER_ID,
    "encounterType": "outpatient",
    "startDate": "2025-10-16T07:30:00Z",
    "chiefComplaint": "Persistent cough",
    "vitalSigns": {"temperature": 98.6, "bloodPressure": {"systolic": 120.0}},
}
MEDICATION_WIRE = {
    "name": "Amoxicillin",
    "dosage": "500 mg",
    "frequency": "three times daily",
    "route": "oral",
    "startDate": "2025-10-16T08:00:00Z",
    "patientId": PATIENT_ID,
    "prescribedBy": USER_ID,
}


def _patient(result: Any) -> None:
    assert isinstance(result, Patient)
    assert result.id == PATIENT_ID and result.first_name == "Amna"
    assert result.date_of_birth == date(1987, 3, 14)
    assert result.gender is Gender.FEMALE and result.organization_id == ORG_ID
    assert result.address is not None and result.address.zip_code == "11111"


def _echo_without_nested(result: Any) -> None:
    assert isinstance(result, Patient) and result.phone_number == "+249 999 000 111"
    assert result.address is None and result.emergency_contact is None  # contract I15


def _patient_page(total: int, page: int, has_next: bool) -> Callable[[Any], None]:
    def check(result: Any) -> None:
        assert isinstance(result, Page)
        assert [type(p) for p in result.items] == [Patient]
        assert (result.page, result.total, result.has_next) == (page, total, has_next)
        assert result.has_previous is (page > 1)

    return check


def _recent(result: Any) -> None:
    assert [type(p) for p in result] == [PatientSummary]
    assert result[0].id == PATIENT_ID and result[0].date_of_birth == date(1987, 3, 14)


def _storage_rows(result: Any) -> None:
    assert [type(e) for e in result] == [EncounterRecord]
    row = result[0]
    assert row.patient_id == PATIENT_ID and row.encounter_type is EncounterType.INPATIENT
    assert row.status == "in_progress"  # the storage value stays a plain string (contract I6)
    assert row.chief_complaint == "Fever"
    assert row.model_extra == {"admissionSource": "emergency"}  # unknown column kept (contract I16)


def _encounter(status: str = "in-progress") -> Callable[[Any], None]:
    def check(result: Any) -> None:
        assert isinstance(result, Encounter) and result.id == ENCOUNTER_ID
        assert result.status == status
        assert result.vital_signs is not None and result.vital_signs.temperature == 98.6

    return check


def _encounter_page(result: Any) -> None:
    assert isinstance(result, Page) and [e.id for e in result.items] == [ENCOUNTER_ID]


def _today(result: Any) -> None:
    assert [type(e) for e in result] == [EncounterSummary]
    assert result[0].encounter_type is EncounterType.OUTPATIENT
    assert result[0].scheduled_at == datetime(2025, 10, 16, 9, 0, tzinfo=timezone.utc)


def _equals(expected: Any) -> Callable[[Any], None]:
    def check(result: Any) -> None:
        assert result == expected
        assert type(result) is type(expected)

    return check


def _stats(result: Any) -> None:
    assert isinstance(result, ClinicalStats)
    assert (result.patients.total, result.encounters.total, result.encounters.today) == (42, 17, 3)


def _medication(result: Any) -> None:
    assert isinstance(result, Medication) and result.id == MEDICATION_ID
    assert result.route == "oral" and result.patient_id == PATIENT_ID


def _empty_medications(result: Any) -> None:
    assert isinstance(result, Page) and result.items == [] and result.total == 0
    assert result.has_next is False


def _prescription(result: Any) -> None:
    assert isinstance(result, PrescriptionResult)
    assert result.medication.id == "MED-1760601600000"  # contract I3: not a UUID
    assert result.medication.safety_risk_level == "medium"
    assert result.medication.cds_findings is not None
    assert result.medication.cds_findings.interactions == 1
    assert result.safety_assessment is not None
    assert result.safety_assessment["overallRisk"]["level"] == "medium"
    assert result.warnings is not None and result.warnings.level == "medium"  # outside data


def _diagnostic(status: str = "ordered") -> Callable[[Any], None]:
    def check(result: Any) -> None:
        assert isinstance(result, Diagnostic) and result.id == DIAGNOSTIC_ID
        assert result.status == status

    return check


def _diagnostic_page(result: Any) -> None:
    assert isinstance(result, Page) and [d.id for d in result.items] == [DIAGNOSTIC_ID]


def _none(result: Any) -> None:
    assert result is None


RECENT = clinical_ok(
    {"patients": [patient_summary_row()], "count": 1, "organizationId": ORG_ID, "timestamp": STAMP}
)
P = f"/api/v1/patients/{PATIENT_ID}"
E = f"/api/v1/encounters/{ENCOUNTER_ID}"
M = f"/api/v1/medications/{MEDICATION_ID}"
D = f"/api/v1/diagnostics/{DIAGNOSTIC_ID}"

CASES = [
    Case(
        "get_patient", "get_patient", (PATIENT_ID,), "GET", P, clinical_ok(patient_row()), _patient
    ),
    Case(
        "get_patient_wrapped_I2",
        "get_patient",
        (PATIENT_ID,),
        "GET",
        P,
        clinical_ok({"patient": patient_row()}),
        _patient,
    ),
    Case(
        "patient_exists",
        "patient_exists",
        (PATIENT_ID,),
        "GET",
        P,
        clinical_ok(patient_row()),
        _equals(True),
    ),
    Case(
        "list_patients_defaults",
        "list_patients",
        (),
        "GET",
        "/api/v1/patients",
        clinical_page("patients", [patient_row()], 1, 20, 1),
        _patient_page(1, 1, False),
        query={"page": "1", "limit": "20"},
    ),
    Case(
        "list_patients_filters",
        "list_patients",
        (2, 5, "amna"),
        "GET",
        "/api/v1/patients",
        clinical_page("patients", [patient_row()], 2, 5, 12),
        _patient_page(12, 2, True),
        kwargs={"sort": "name", "order": "asc"},
        query={"page": "2", "limit": "5", "search": "amna", "sort": "name", "order": "asc"},
    ),
    Case(
        "search_patients",
        "search_patients",
        ("amna",),
        "GET",
        "/api/v1/patients",
        clinical_page("patients", [patient_row()], 1, 20, 1),
        _patient_page(1, 1, False),
        query={"page": "1", "limit": "20", "search": "amna"},
    ),
    Case(
        "recent_default",
        "get_recent_patients",
        (),
        "GET",
        "/api/v1/stats/patients/recent",
        RECENT,
        _recent,
        query={"limit": "20"},
    ),
    Case(
        "create_patient",
        "create_patient",
        (patient_create(),),
        "POST",
        "/api/v1/patients",
        clinical_ok(patient_row()),
        _patient,
        status=201,
        body={
            "firstName": "Amna",
            "lastName": "Elhassan",
            "dateOfBirth": "1987-03-14",
            "gender": "female",
            "phoneNumber": PHONE,
            "email": "amna.elhassan@example.sd",
            "emergencyContact": {
                "name": "Osman Abdelrahim",
                "relationship": "brother",
                "phoneNumber": "+249 123 987 654",
            },
            "allergies": ["penicillin"],
        },
        keyed=True,
    ),
    Case(
        "update_patient_I15",
        "update_patient",
        (PATIENT_ID, {"phone_number": "+249 999 000 111"}),
        "PUT",
        P,
        clinical_ok(
            {
                k: v
                for k, v in patient_row(phoneNumber="+249 999 000 111").items()
                if k not in ("address", "emergencyContact")
            }
        ),
        _echo_without_nested,
        body={"phoneNumber": "+249 999 000 111"},
    ),
    Case(
        "delete_patient",
        "delete_patient",
        (PATIENT_ID,),
        "DELETE",
        P,
        clinical_message("Patient deleted successfully"),
        _none,
    ),
    Case(
        "patient_encounters_I16",
        "get_patient_encounters",
        (PATIENT_ID,),
        "GET",
        P + "/encounters",
        clinical_ok({"patientId": PATIENT_ID, "encounters": [encounter_storage_row()]}),
        _storage_rows,
        query={"page": "1", "limit": "20"},
    ),
    Case(
        "get_encounter",
        "get_encounter",
        (ENCOUNTER_ID,),
        "GET",
        E,
        clinical_ok(encounter_row()),
        _encounter(),
    ),
    Case(
        "list_encounters_defaults",
        "list_encounters",
        (),
        "GET",
        "/api/v1/encounters",
        clinical_page("encounters", [encounter_row()], 1, 20, 1),
        _encounter_page,
        query={"page": "1", "limit": "20"},
    ),
    Case(
        "list_encounters_filters_I13",
        "list_encounters",
        (),
        "GET",
        "/api/v1/encounters",
        clinical_page("encounters", [encounter_row()], 1, 20, 1),
        _encounter_page,
        kwargs={"patient_id": PATIENT_ID, "provider_id": USER_ID, "status": "completed"},
        query={
            "page": "1",
            "limit": "20",
            "patientId": PATIENT_ID,
            "providerId": USER_ID,
            "status": "completed",
        },
    ),
    Case(
        "create_encounter",
        "create_encounter",
        (encounter_create(),),
        "POST",
        "/api/v1/encounters",
        clinical_ok(encounter_row()),
        _encounter(),
        status=201,
        body=ENCOUNTER_WIRE,
        keyed=True,
    ),
    Case(
        "update_encounter_full_body",
        "update_encounter",
        (ENCOUNTER_ID, encounter_create()),
        "PUT",
        E,
        clinical_ok(encounter_row()),
        _encounter(),
        body=ENCOUNTER_WIRE,
    ),
    Case(
        "complete_encounter_no_body",
        "complete_encounter",
        (ENCOUNTER_ID,),
        "PATCH",
        E + "/complete",
        clinical_ok(encounter_row(status="completed")),
        _encounter("completed"),
        body={},
    ),
    Case(
        "complete_encounter_with_body",
        "complete_encounter",
        (ENCOUNTER_ID, {"diagnosis": ["J18.9"], "end_date": "2025-10-16T10:00:00+02:00"}),
        "PATCH",
        E + "/complete",
        clinical_ok(encounter_row(status="completed")),
        _encounter("completed"),
        body={"diagnosis": ["J18.9"], "endDate": "2025-10-16T08:00:00Z"},
    ),
    Case(
        "today_encounters",
        "get_today_encounters",
        (),
        "GET",
        "/api/v1/stats/encounters/today",
        clinical_ok(
            {
                "encounters": [encounter_summary_row()],
                "count": 1,
                "organizationId": ORG_ID,
                "date": "2025-10-16",
                "timestamp": STAMP,
            }
        ),
        _today,
    ),
    Case(
        "patients_count",
        "get_patients_count",
        (),
        "GET",
        "/api/v1/stats/patients/count",
        clinical_ok({"count": 42, "organizationId": ORG_ID, "timestamp": STAMP}),
        _equals(42),
    ),
    Case(
        "encounters_count",
        "get_encounters_count",
        (),
        "GET",
        "/api/v1/stats/encounters/count",
        clinical_ok({"count": "17", "organizationId": ORG_ID, "timestamp": STAMP}),
        _equals(17),
    ),
    Case(
        "all_stats",
        "get_all_stats",
        (),
        "GET",
        "/api/v1/stats",
        clinical_ok(
            {
                "patients": {"total": 42},
                "encounters": {"total": 17, "today": 3},
                "organizationId": ORG_ID,
                "timestamp": STAMP,
            }
        ),
        _stats,
    ),
    Case(
        "get_medication",
        "get_medication",
        (MEDICATION_ID,),
        "GET",
        M,
        clinical_ok(medication_row()),
        _medication,
    ),
    Case(
        "list_medications_placeholder",
        "list_medications",
        (),
        "GET",
        "/api/v1/medications",
        clinical_page("medications", [], 1, 20, 0),
        _empty_medications,
        kwargs={"patient_id": PATIENT_ID, "status": "active"},
        query={"page": "1", "limit": "20", "patientId": PATIENT_ID, "status": "active"},
    ),
    Case(
        "prescribe_201_warnings_outside_data",
        "prescribe_medication",
        (medication_create(),),
        "POST",
        "/api/v1/medications",
        prescription_body(),
        _prescription,
        status=201,
        body=MEDICATION_WIRE,
        keyed=True,
    ),
    Case(
        "prescribe_with_override_I14",
        "prescribe_medication",
        ({**medication_create(), "override_reason": "benefit outweighs risk"},),
        "POST",
        "/api/v1/medications",
        prescription_body("high"),
        lambda r: None,
        status=201,
        body={**MEDICATION_WIRE, "overrideReason": "benefit outweighs risk"},
        keyed=True,
    ),
    Case(
        "update_medication_placeholder_echo",
        "update_medication",
        (MEDICATION_ID, medication_create()),
        "PUT",
        M,
        clinical_ok({"id": MEDICATION_ID, **MEDICATION_WIRE}),
        _medication,
        body=MEDICATION_WIRE,
    ),
    Case(
        "discontinue_medication",
        "discontinue_medication",
        (MEDICATION_ID, {"reason": "rash"}),
        "PATCH",
        M + "/discontinue",
        clinical_message("Medication discontinued"),
        _none,
        body={"reason": "rash"},
    ),
    Case(
        "get_diagnostic",
        "get_diagnostic",
        (DIAGNOSTIC_ID,),
        "GET",
        D,
        clinical_ok(diagnostic_row()),
        _diagnostic(),
    ),
    Case(
        "list_diagnostics_filters_I13",
        "list_diagnostics",
        (),
        "GET",
        "/api/v1/diagnostics",
        clinical_page("diagnostics", [diagnostic_row()], 1, 20, 1),
        _diagnostic_page,
        kwargs={"patient_id": PATIENT_ID, "status": "ordered", "test_type": "blood"},
        query={
            "page": "1",
            "limit": "20",
            "patientId": PATIENT_ID,
            "status": "ordered",
            "testType": "blood",
        },
    ),
    Case(
        "order_diagnostic",
        "order_diagnostic",
        (diagnostic_create(),),
        "POST",
        "/api/v1/diagnostics",
        clinical_ok(diagnostic_row(priority="urgent")),
        _diagnostic(),
        status=201,
        body={
            "patientId": PATIENT_ID,
            "orderedBy": USER_ID,
            "testType": "blood",
            "testName": "CBC",
            "orderDate": "2025-10-16T08:00:00Z",
            "priority": "urgent",
        },
        keyed=True,
    ),
    Case(
        "update_diagnostic",
        "update_diagnostic",
        (DIAGNOSTIC_ID, {"status": "scheduled", "scheduled_date": "2025-10-17T09:00:00Z"}),
        "PUT",
        D,
        clinical_ok(diagnostic_row(status="scheduled")),
        _diagnostic("scheduled"),
        body={"status": "scheduled", "scheduledDate": "2025-10-17T09:00:00Z"},
    ),
    Case(
        "add_diagnostic_results",
        "add_diagnostic_results",
        (DIAGNOSTIC_ID, {"results": {"hb": 13.2}, "completed_date": "2025-10-16T12:00:00Z"}),
        "PATCH",
        D + "/results",
        clinical_ok(diagnostic_row(status="completed", results={"hb": 13.2})),
        _diagnostic("completed"),
        body={"results": {"hb": 13.2}, "completedDate": "2025-10-16T12:00:00Z"},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_each_method_sends_the_contract_request_and_returns_a_typed_value(
    clinical: Any, router: respx.MockRouter, case: Case
) -> None:
    """Each method sends one request with the contract's method, path, query and camelCase body, and parses Clinical's real success shape."""
    await run_case(clinical, router, HOST, case)


def test_every_public_method_has_a_case() -> None:
    """The table above covers every public Clinical method (iter_patients has its own tests)."""
    from nilecare_clients import ClinicalServiceClient

    assert public_methods(ClinicalServiceClient) - {c.method for c in CASES} == {"iter_patients"}

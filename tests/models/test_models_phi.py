"""PHI never reaches repr() or str(): PHI models print an allow-list of ids, enums and counts."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

import nilecare_clients.models as models
from nilecare_clients.models import (
    Bed,
    BedAssign,
    BedHistoryEntry,
    Diagnostic,
    Encounter,
    EncounterCreate,
    EncounterSummary,
    Medication,
    Page,
    Patient,
    PatientCreate,
    PatientEncounters,
    PatientSummary,
    PatientUpdate,
    PrescriptionResult,
    RecentPatients,
    TodayEncounters,
)
from nilecare_clients.models._base import PhiRedactedRepr

# Field names that identify a person or describe their care; none may be printed.
PHI_FIELD_NAMES = {
    "first_name",
    "last_name",
    "patient_first_name",
    "patient_last_name",
    "name",
    "phone_number",
    "email",
    "address",
    "street",
    "city",
    "state",
    "zip_code",
    "country",
    "emergency_contact",
    "date_of_birth",
    "chief_complaint",
    "diagnosis",
    "treatment_plan",
    "vital_signs",
    "notes",
    "results",
    "instructions",
    "medical_history",
    "allergies",
    "medications",
    "reason",
    "release_reason",
    "safety_assessment",
    "message",
    "test_type",
    "test_name",
    "dosage",
    "frequency",
    "side_effects",
    "override_reason",
    "start_date",
    "end_date",
    "assignment_date",
    "expected_discharge_date",
    "discharge_date",
}


def _printed(value: object) -> str:
    return repr(value) + "\n" + str(value)


def _assert_no_phi(text: str, phi_strings: tuple[str, ...]) -> None:
    for secret in phi_strings:
        assert secret not in text, f"{secret!r} leaked"


def test_patient_repr_and_str_show_ids_but_no_phi(
    patient_wire: dict[str, Any], phi_strings: tuple[str, ...]
) -> None:
    """A Patient prints its id and gender, never name, phone, email, address, DOB or contact."""
    patient = Patient.model_validate(patient_wire)
    text = _printed(patient)
    _assert_no_phi(text, phi_strings)
    assert patient_wire["id"] in repr(patient)
    assert "female" in repr(patient)
    assert "penicillin" not in text and "asthma" not in text
    assert repr(patient).startswith("Patient(")


def test_nested_address_and_emergency_contact_print_no_phi(
    patient_wire: dict[str, Any], phi_strings: tuple[str, ...]
) -> None:
    """Address and EmergencyContact printed on their own reveal nothing identifying."""
    patient = Patient.model_validate(patient_wire)
    _assert_no_phi(_printed(patient.address), phi_strings)
    _assert_no_phi(_printed(patient.emergency_contact), phi_strings)
    assert "Sudan" not in _printed(patient.address)
    assert "father" in repr(patient.emergency_contact)


def test_a_list_and_a_page_of_patients_print_no_phi(
    patient_wire: dict[str, Any], phi_strings: tuple[str, ...]
) -> None:
    """Containers print their items through the items' safe repr."""
    patients = [Patient.model_validate(patient_wire) for _ in range(2)]
    _assert_no_phi(_printed(patients), phi_strings)
    page = Page[Patient].from_parts([patient_wire], {"page": 1, "limit": 10, "total": 1})
    _assert_no_phi(_printed(page), phi_strings)


def test_unknown_fields_on_a_phi_model_are_not_printed(
    patient_wire: dict[str, Any],
) -> None:
    """A field a newer server adds is kept but never printed (the repr is an allow-list)."""
    patient = Patient.model_validate({**patient_wire, "nationalId": "SD-19870314-4471"})
    assert patient.model_extra == {"nationalId": "SD-19870314-4471"}
    assert "SD-19870314-4471" not in _printed(patient)
    assert "nationalId" not in _printed(patient)


def test_request_bodies_print_no_phi(
    patient_wire: dict[str, Any], phi_strings: tuple[str, ...]
) -> None:
    """PatientCreate and PatientUpdate (with nested objects) hide the same values."""
    create = PatientCreate.model_validate(
        {
            k: patient_wire[k]
            for k in ("firstName", "lastName", "gender", "phoneNumber", "email", "address")
        }
        | {"dateOfBirth": "1987-03-14", "emergencyContact": patient_wire["emergencyContact"]}
    )
    update = PatientUpdate.model_validate(
        {
            "firstName": patient_wire["firstName"],
            "address": {"street": patient_wire["address"]["street"]},
        }
    )
    _assert_no_phi(_printed(create), phi_strings)
    _assert_no_phi(_printed(update), phi_strings)
    _assert_no_phi(_printed(create.address), phi_strings)
    _assert_no_phi(_printed(create.emergency_contact), phi_strings)


def test_summaries_and_stats_containers_print_no_phi(
    patient_wire: dict[str, Any], phi_strings: tuple[str, ...]
) -> None:
    """Recent patients and today's encounters hide names and dates of birth."""
    summary = {
        k: patient_wire[k]
        for k in ("id", "firstName", "lastName", "dateOfBirth", "gender", "phoneNumber", "email")
    }
    _assert_no_phi(_printed(PatientSummary.model_validate(summary)), phi_strings)
    _assert_no_phi(
        _printed(RecentPatients.model_validate({"patients": [summary], "count": 1})), phi_strings
    )
    encounter = {
        "id": "e-1",
        "type": "outpatient",
        "patientFirstName": patient_wire["firstName"],
        "patientLastName": patient_wire["lastName"],
    }
    _assert_no_phi(_printed(EncounterSummary.model_validate(encounter)), phi_strings)
    _assert_no_phi(
        _printed(TodayEncounters.model_validate({"encounters": [encounter], "count": 1})),
        phi_strings,
    )


def test_clinical_records_hide_complaint_diagnosis_instructions_and_results(
    ids: dict[str, str],
) -> None:
    """Encounters, medications and diagnostics print ids and enums, not clinical content."""
    encounter_body = {
        "patientId": ids["patient"],
        "providerId": ids["user"],
        "encounterType": "outpatient",
        "startDate": "2025-10-16T08:00:00Z",
        "chiefComplaint": "Persistent cough and night sweats",
        "diagnosis": ["Suspected pulmonary tuberculosis"],
        "treatmentPlan": "Sputum smear, chest X-ray",
    }
    encounter = Encounter.model_validate({"id": "e-1", **encounter_body})
    create = EncounterCreate.model_validate(encounter_body)
    rows = PatientEncounters.model_validate(
        {"patientId": ids["patient"], "encounters": [{"id": "e-1", "chief_complaint": "cough"}]}
    )
    medication = Medication.model_validate(
        {
            "id": "MED-1760601600000",
            "name": "Isoniazid",
            "dosage": "300 mg",
            "frequency": "daily",
            "route": "oral",
            "startDate": "2025-10-16T08:00:00Z",
            "patientId": ids["patient"],
            "prescribedBy": ids["user"],
            "instructions": "Take on an empty stomach",
        }
    )
    result = PrescriptionResult.model_validate(
        {
            "medication": medication.model_dump(by_alias=True),
            "safetyAssessment": {"allergyAlerts": ["Isoniazid hypersensitivity"]},
            "warnings": {"level": "high", "message": "Isoniazid interaction"},
        }
    )
    diagnostic = Diagnostic.model_validate(
        {
            "id": "d-1",
            "patientId": ids["patient"],
            "orderedBy": ids["user"],
            "testType": "HIV viral load",
            "orderDate": "2025-10-16T08:00:00Z",
            "results": {"copies": 40},
            "notes": "Undetectable",
        }
    )
    secrets = (
        "cough",
        "tuberculosis",
        "Sputum",
        "Isoniazid",
        "300 mg",
        "empty stomach",
        "HIV",
        "copies",
        "Undetectable",
    )
    for model in (encounter, create, rows, medication, result, diagnostic):
        _assert_no_phi(_printed(model), secrets)
    assert ids["patient"] in repr(encounter)


def test_bed_related_models_hide_notes_and_reasons(
    bed_wire: dict[str, Any], ids: dict[str, str]
) -> None:
    """Bed notes, assign notes and history reasons stay out of repr (they are free text)."""
    bed = Bed.model_validate({**bed_wire, "notes": "Amna needs a wheelchair"})
    assign = BedAssign.model_validate({"patientId": ids["patient"], "notes": "Amna, post-op"})
    entry = BedHistoryEntry.model_validate(
        {
            "bed_id": ids["bed"],
            "patient_id": ids["patient"],
            "assignment_date": "2025-10-16T08:00:00Z",
            "reason": "Amna, post-op",
        }
    )
    for model in (bed, assign, entry):
        assert "Amna" not in _printed(model)
    assert "A-101" in repr(bed)


def _phi_models() -> list[type[BaseModel]]:
    return [
        value
        for value in vars(models).values()
        if isinstance(value, type)
        and issubclass(value, BaseModel)
        and issubclass(value, PhiRedactedRepr)
    ]


@pytest.mark.parametrize("model", _phi_models(), ids=lambda m: m.__name__)
def test_phi_allow_lists_name_real_fields_and_no_phi_field(model: type[BaseModel]) -> None:
    """Every PHI model's allow-list names declared fields only, none of them PHI."""
    allowed = set(model._repr_fields)  # type: ignore[attr-defined]
    assert allowed <= set(model.model_fields)
    assert not allowed & PHI_FIELD_NAMES


@pytest.mark.parametrize(
    "name",
    [
        "Address",
        "Diagnostic",
        "EmergencyContact",
        "Encounter",
        "EncounterSummary",
        "Medication",
        "Patient",
        "PatientCreate",
        "PatientSummary",
        "PatientUpdate",
    ],
)
def test_the_models_holding_phi_use_the_redacted_repr(name: str) -> None:
    """Each model the PHI rule names is a PhiRedactedRepr."""
    assert issubclass(getattr(models, name), PhiRedactedRepr)

"""Clinical models: reads are lenient and forward compatible, writes check the declared rules."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from nilecare_clients.models import (
    ClinicalStats,
    Diagnostic,
    DiagnosticResults,
    Encounter,
    EncounterCreate,
    EncounterRecord,
    EncounterStatus,
    EncounterSummary,
    EncounterType,
    Gender,
    Medication,
    MedicationCreate,
    Patient,
    PatientCreate,
    PatientEncounters,
    PatientUpdate,
    PrescriptionResult,
    RecentPatients,
    SafetyRiskLevel,
    StatsCount,
    TodayEncounters,
)


def _patient_create(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "firstName": "Amna",
        "lastName": "Elhassan",
        "dateOfBirth": "1987-03-14",
        "gender": "female",
        "phoneNumber": "+249 912 345 678",
    }
    body.update(overrides)
    return body


def _encounter_create(ids: dict[str, str], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "patientId": ids["patient"],
        "providerId": ids["user"],
        "encounterType": "outpatient",
        "startDate": "2025-10-16T08:00:00Z",
        "chiefComplaint": "Cough",
    }
    body.update(overrides)
    return body


# --- patients: reads ------------------------------------------------------------------------


def test_patient_reads_camel_case_into_snake_case_attributes(patient_wire: dict[str, Any]) -> None:
    """Wire camelCase fills snake_case attributes, nested objects included."""
    patient = Patient.model_validate(patient_wire)
    assert patient.first_name == "Amna"
    assert patient.phone_number == "+249 912 345 678"
    assert patient.gender is Gender.FEMALE
    assert patient.address is not None and patient.address.zip_code == "14411"
    assert patient.emergency_contact is not None
    assert patient.emergency_contact.relationship == "father"
    assert patient.created_at == datetime(2025, 10, 16, 8, tzinfo=timezone.utc)


def test_patient_date_of_birth_echo_at_midnight_reads_as_the_date(
    patient_wire: dict[str, Any],
) -> None:
    """The midnight date-time the service echoes for dateOfBirth reads as the calendar date."""
    assert Patient.model_validate(patient_wire).date_of_birth == date(1987, 3, 14)


def test_patient_round_trips_through_camel_case(patient_wire: dict[str, Any]) -> None:
    """Dumping by alias gives back the wire keys, and validating that dump is lossless."""
    patient = Patient.model_validate(patient_wire)
    dumped = patient.model_dump(by_alias=True, mode="json", exclude_none=True)
    assert set(dumped) == set(patient_wire)
    assert dumped["address"]["zipCode"] == "14411"
    assert Patient.model_validate(dumped) == patient


def test_patient_keeps_fields_a_newer_server_adds(patient_wire: dict[str, Any]) -> None:
    """Unknown fields are kept as extras (forward compatible) and dumped again."""
    patient = Patient.model_validate({**patient_wire, "bloodType": "O+", "mrn": "MRN-77"})
    assert patient.model_extra == {"bloodType": "O+", "mrn": "MRN-77"}
    assert patient.model_dump(by_alias=True)["bloodType"] == "O+"


@pytest.mark.parametrize("missing", ["id", "firstName", "lastName", "dateOfBirth", "gender"])
def test_patient_missing_a_required_field_raises(
    patient_wire: dict[str, Any], missing: str
) -> None:
    """A read without a required field raises pydantic's ValidationError."""
    with pytest.raises(ValidationError):
        Patient.model_validate({k: v for k, v in patient_wire.items() if k != missing})


def test_patient_echo_without_address_and_emergency_contact_is_valid(
    patient_wire: dict[str, Any],
) -> None:
    """The create/update echo leaves out address and emergencyContact, so both are optional (contract I15)."""
    echo = {k: v for k, v in patient_wire.items() if k not in ("address", "emergencyContact")}
    patient = Patient.model_validate(echo)
    assert patient.address is None and patient.emergency_contact is None


def test_patient_unknown_gender_on_read_stays_a_string(patient_wire: dict[str, Any]) -> None:
    """A gender value this library does not know is kept as the plain string (contract I6)."""
    patient = Patient.model_validate({**patient_wire, "gender": "prefer_not_to_say"})
    assert patient.gender == "prefer_not_to_say"
    assert not isinstance(patient.gender, Gender)


# --- patients: writes -----------------------------------------------------------------------


def test_patient_create_serialises_camel_case_without_nones() -> None:
    """to_wire() sends camelCase keys, leaves unset fields out and writes the date as ISO."""
    body = PatientCreate.model_validate(_patient_create(allergies=["penicillin"]))
    assert body.to_wire() == {
        "firstName": "Amna",
        "lastName": "Elhassan",
        "dateOfBirth": "1987-03-14",
        "gender": "female",
        "phoneNumber": "+249 912 345 678",
        "allergies": ["penicillin"],
    }


def test_patient_create_accepts_python_names_and_round_trips() -> None:
    """A body built with snake_case names validates again from its own wire form."""
    body = PatientCreate(
        first_name="Amna",
        last_name="Elhassan",
        date_of_birth=date(1987, 3, 14),
        gender=Gender.FEMALE,
        phone_number="(0912) 345-678",
        address={
            "street": "Street 15",
            "city": "Omdurman",
            "state": "Khartoum",
            "zip_code": "14411",
            "country": "Sudan",
        },
    )
    assert PatientCreate.model_validate(body.to_wire()) == body


@pytest.mark.parametrize(
    "phone", ["0912-abc-678", "++249912345678", "249+912", "+249\t912345678", ""]
)
def test_patient_create_refuses_a_malformed_phone_number(phone: str) -> None:
    """Only an optional leading + then digits, spaces, hyphens and parentheses are accepted."""
    with pytest.raises(ValidationError):
        PatientCreate.model_validate(_patient_create(phoneNumber=phone))


@pytest.mark.parametrize("name", ["A", "A" * 51])
def test_patient_create_refuses_names_outside_2_to_50_characters(name: str) -> None:
    """First and last names must be 2 to 50 characters long."""
    with pytest.raises(ValidationError):
        PatientCreate.model_validate(_patient_create(firstName=name))
    with pytest.raises(ValidationError):
        PatientCreate.model_validate(_patient_create(lastName=name))


def test_patient_create_accepts_names_at_the_length_limits() -> None:
    """Names of exactly 2 and 50 characters are accepted."""
    body = PatientCreate.model_validate(_patient_create(firstName="Al", lastName="B" * 50))
    assert body.first_name == "Al"


def test_patient_create_refuses_a_date_of_birth_in_the_future() -> None:
    """A date of birth after today (UTC) is refused."""
    tomorrow = datetime.now(timezone.utc).date() + timedelta(days=1)
    with pytest.raises(ValidationError, match="future"):
        PatientCreate.model_validate(_patient_create(dateOfBirth=tomorrow.isoformat()))


def test_patient_create_refuses_an_unknown_gender() -> None:
    """Writes accept only the enum values the route accepts."""
    with pytest.raises(ValidationError):
        PatientCreate.model_validate(_patient_create(gender="prefer_not_to_say"))


def test_patient_create_refuses_a_malformed_email() -> None:
    """The email must look like an address."""
    with pytest.raises(ValidationError):
        PatientCreate.model_validate(_patient_create(email="amna.example.sd"))


def test_patient_create_refuses_unknown_keys() -> None:
    """Request bodies forbid unknown keys, as Clinical's strict validator does."""
    with pytest.raises(ValidationError):
        PatientCreate.model_validate(_patient_create(bloodType="O+"))


def test_patient_create_requires_every_address_sub_field() -> None:
    """On create an address must carry all five sub-fields."""
    with pytest.raises(ValidationError):
        PatientCreate.model_validate(_patient_create(address={"city": "Omdurman"}))


def test_patient_update_accepts_a_partial_address() -> None:
    """On update every field, and every address sub-field, is optional."""
    body = PatientUpdate.model_validate({"address": {"city": "Omdurman"}})
    assert body.to_wire() == {"address": {"city": "Omdurman"}}


def test_patient_update_applies_the_create_rules_to_given_fields() -> None:
    """A field given on update obeys the same rule as on create."""
    with pytest.raises(ValidationError):
        PatientUpdate.model_validate({"phoneNumber": "not a phone"})


# --- encounters -----------------------------------------------------------------------------


def test_encounter_create_sends_date_times_in_utc(ids: dict[str, str]) -> None:
    """Aware date-times are converted to UTC and sent with a Z suffix."""
    khartoum = timezone(timedelta(hours=2))
    body = EncounterCreate.model_validate(
        _encounter_create(ids, startDate=datetime(2025, 10, 16, 10, 30, tzinfo=khartoum))
    )
    assert body.to_wire()["startDate"] == "2025-10-16T08:30:00Z"


def test_encounter_create_refuses_naive_date_times(ids: dict[str, str]) -> None:
    """A naive date-time is refused rather than guessed (it would shift by the UTC offset)."""
    with pytest.raises(ValidationError):
        EncounterCreate.model_validate(_encounter_create(ids, startDate=datetime(2025, 10, 16)))


def test_encounter_create_refuses_an_end_before_the_start(ids: dict[str, str]) -> None:
    """endDate must be on or after startDate."""
    with pytest.raises(ValidationError, match="endDate"):
        EncounterCreate.model_validate(_encounter_create(ids, endDate="2025-10-15T08:00:00Z"))


def test_encounter_create_refuses_a_patient_id_that_is_not_a_uuid(ids: dict[str, str]) -> None:
    """Ids the service checks as UUIDs are checked before sending (contract I3)."""
    with pytest.raises(ValidationError):
        EncounterCreate.model_validate(_encounter_create(ids, patientId="12345"))


def test_encounter_create_refuses_a_storage_only_type(ids: dict[str, str]) -> None:
    """Storage's ``urgent_care`` is not an accepted encounter type on write (contract I6)."""
    with pytest.raises(ValidationError):
        EncounterCreate.model_validate(_encounter_create(ids, encounterType="urgent_care"))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("temperature", 37.5),  # Celsius: the validator expects Fahrenheit (contract I28)
        ("temperature", 111),
        ("heartRate", 29),
        ("oxygenSaturation", 101),
        ("respiratoryRate", 51),
        ("weight", 0.5),
        ("height", 301),
    ],
)
def test_encounter_create_refuses_vital_signs_out_of_range(
    ids: dict[str, str], field: str, value: float
) -> None:
    """Vital signs outside the validator's ranges are refused."""
    with pytest.raises(ValidationError):
        EncounterCreate.model_validate(_encounter_create(ids, vitalSigns={field: value}))


def test_encounter_create_checks_blood_pressure_ranges(ids: dict[str, str]) -> None:
    """Systolic must be 50-300 and diastolic 30-200."""
    ok = EncounterCreate.model_validate(
        _encounter_create(ids, vitalSigns={"bloodPressure": {"systolic": 120, "diastolic": 80}})
    )
    assert ok.to_wire()["vitalSigns"] == {"bloodPressure": {"systolic": 120.0, "diastolic": 80.0}}
    with pytest.raises(ValidationError):
        EncounterCreate.model_validate(
            _encounter_create(ids, vitalSigns={"bloodPressure": {"systolic": 400}})
        )


def test_encounter_read_keeps_an_unknown_type_and_status(ids: dict[str, str]) -> None:
    """Storage values such as ``home_health`` or ``finished`` stay plain strings on read (contract I6)."""
    encounter = Encounter.model_validate(
        {
            "id": "e-1",
            **_encounter_create(ids, encounterType="home_health"),
            "status": "finished",
        }
    )
    assert encounter.encounter_type == "home_health"
    assert encounter.status == "finished"


def test_encounter_read_parses_known_values(ids: dict[str, str]) -> None:
    """Known API values become enum members on read."""
    encounter = Encounter.model_validate(
        {"id": "e-1", **_encounter_create(ids), "status": "in-progress"}
    )
    assert encounter.encounter_type is EncounterType.OUTPATIENT
    assert encounter.status is EncounterStatus.IN_PROGRESS


def test_encounter_read_requires_the_create_fields(ids: dict[str, str]) -> None:
    """An Encounter from the /encounters routes must carry its chief complaint."""
    body = {"id": "e-1", **_encounter_create(ids)}
    del body["chiefComplaint"]
    with pytest.raises(ValidationError):
        Encounter.model_validate(body)


def test_patient_encounters_normalise_raw_snake_case_rows(ids: dict[str, str]) -> None:
    """Raw storage rows are normalised to camelCase fields; unknown columns are kept (contract I16)."""
    payload = {
        "patientId": ids["patient"],
        "encounters": [
            {
                "id": "e-1",
                "patient_id": ids["patient"],
                "provider_id": ids["user"],
                "encounter_type": "inpatient",
                "start_date": "2025-10-16T08:00:00.000Z",
                "status": "in_progress",
                "admission_date": "2025-10-16T08:00:00.000Z",
            }
        ],
    }
    result = PatientEncounters.model_validate(payload)
    (row,) = result.encounters
    assert isinstance(row, EncounterRecord)
    assert row.patient_id == ids["patient"]
    assert row.encounter_type is EncounterType.INPATIENT
    assert row.start_date == datetime(2025, 10, 16, 8, tzinfo=timezone.utc)
    assert row.status == "in_progress"
    assert row.model_extra == {"admissionDate": "2025-10-16T08:00:00.000Z"}


def test_encounter_summary_reads_wire_type_as_encounter_type() -> None:
    """The stats summary's ``type`` fills ``encounter_type``, as on Encounter."""
    summary = EncounterSummary.model_validate({"id": "e-1", "type": "emergency"})
    assert summary.encounter_type is EncounterType.EMERGENCY


# --- medications and prescribing ------------------------------------------------------------


def _medication(ids: dict[str, str], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Amoxicillin",
        "dosage": "500 mg",
        "frequency": "3x daily",
        "route": "oral",
        "startDate": "2025-10-16T08:00:00Z",
        "patientId": ids["patient"],
        "prescribedBy": ids["user"],
    }
    body.update(overrides)
    return body


def test_medication_read_accepts_the_med_prefixed_id(ids: dict[str, str]) -> None:
    """Prescribe issues ``MED-<epoch ms>``; a medication id is any string (contract I3)."""
    medication = Medication.model_validate({"id": "MED-1760601600000", **_medication(ids)})
    assert medication.id == "MED-1760601600000"


def test_medication_create_checks_route_and_dates(ids: dict[str, str]) -> None:
    """The route must be an accepted value and endDate may not precede startDate."""
    with pytest.raises(ValidationError):
        MedicationCreate.model_validate(_medication(ids, route="rectal"))
    with pytest.raises(ValidationError):
        MedicationCreate.model_validate(_medication(ids, endDate="2025-10-01T00:00:00Z"))


def test_medication_create_sends_override_reason_only_when_given(ids: dict[str, str]) -> None:
    """overrideReason is part of the body only when the caller gives one (contract I14)."""
    assert "overrideReason" not in MedicationCreate.model_validate(_medication(ids)).to_wire()
    body = MedicationCreate.model_validate(_medication(ids, overrideReason="benefit outweighs"))
    assert body.to_wire()["overrideReason"] == "benefit outweighs"


def test_prescription_result_picks_up_the_top_level_warnings(ids: dict[str, str]) -> None:
    """from_body reads data.medication, the assessment as a dict, and the top-level warnings."""
    body = {
        "success": True,
        "data": {
            "medication": {
                "id": "MED-1760601600000",
                **_medication(ids),
                "safetyCheckPerformed": True,
                "safetyRiskLevel": "medium",
                "riskScore": 42.5,
                "cdsFindings": {"interactions": 1, "allergies": 0, "doseIssues": "0"},
            },
            "safetyAssessment": {"overallRisk": {"level": "medium", "score": 42.5}},
        },
        "warnings": {"level": "medium", "message": "Review", "details": {"interactions": 1}},
    }
    result = PrescriptionResult.from_body(body)
    assert result.medication.safety_risk_level is SafetyRiskLevel.MEDIUM
    assert result.medication.cds_findings is not None
    assert result.medication.cds_findings.dose_issues == 0
    assert result.safety_assessment == {"overallRisk": {"level": "medium", "score": 42.5}}
    assert result.warnings is not None and result.warnings.level is SafetyRiskLevel.MEDIUM


# --- diagnostics ----------------------------------------------------------------------------


def test_diagnostic_results_require_results_and_completed_date() -> None:
    """The results body needs both ``results`` and ``completedDate``."""
    with pytest.raises(ValidationError):
        DiagnosticResults.model_validate({"results": {"hb": 12.1}})
    body = DiagnosticResults.model_validate(
        {"results": {"hb": 12.1}, "completedDate": "2025-10-16T09:00:00Z"}
    )
    assert body.to_wire() == {"results": {"hb": 12.1}, "completedDate": "2025-10-16T09:00:00Z"}


def test_diagnostic_read_keeps_free_form_results(ids: dict[str, str]) -> None:
    """Results stay a free-form dict; priority parses to its enum."""
    diagnostic = Diagnostic.model_validate(
        {
            "id": "d-1",
            "patientId": ids["patient"],
            "orderedBy": ids["user"],
            "testType": "CBC",
            "orderDate": "2025-10-16T08:00:00Z",
            "results": {"wbc": {"value": 6.1, "unit": "10^9/L"}},
            "priority": "stat",
        }
    )
    assert diagnostic.results == {"wbc": {"value": 6.1, "unit": "10^9/L"}}
    assert diagnostic.priority == "stat"


# --- stats ----------------------------------------------------------------------------------


def test_stats_counts_sent_as_strings_are_numbers(ids: dict[str, str]) -> None:
    """Aggregates from the stats store may arrive as decimal strings; they read as ints."""
    stats = ClinicalStats.model_validate(
        {
            "patients": {"total": "120"},
            "encounters": {"total": "40", "today": "3"},
            "organizationId": ids["org"],
            "timestamp": "2025-10-16T08:00:00.000Z",
        }
    )
    assert (stats.patients.total, stats.encounters.total, stats.encounters.today) == (120, 40, 3)
    assert StatsCount.model_validate({"count": "7"}).count == 7


def test_recent_patients_and_today_encounters_parse(patient_wire: dict[str, Any]) -> None:
    """Recent patients and today's encounters parse their summaries, count and date."""
    recent = RecentPatients.model_validate(
        {"patients": [{k: patient_wire[k] for k in ("id", "firstName", "lastName")}], "count": 1}
    )
    assert recent.patients[0].first_name == "Amna"
    today = TodayEncounters.model_validate(
        {
            "encounters": [{"id": "e-1", "type": "outpatient", "scheduledAt": "2025-10-16T08:00Z"}],
            "count": 1,
            "date": "2025-10-16",
        }
    )
    assert today.date == date(2025, 10, 16)
    assert today.encounters[0].scheduled_at == datetime(2025, 10, 16, 8, tzinfo=timezone.utc)


def test_patient_null_arrays_read_as_empty_lists(patient_wire: dict[str, Any]) -> None:
    """A ``null`` array column (medical history, allergies) reads as an empty list."""
    patient = Patient.model_validate({**patient_wire, "allergies": None, "medicalHistory": None})
    assert (patient.allergies, patient.medical_history) == ([], [])

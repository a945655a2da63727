"""Clinical service models: patients, encounters, medications, diagnostics, stats (contract §2).

Reading rules. A response field is required when the contract requires it on create (plus
the resource id); server-stamped audit fields and nested objects are optional, because the
create/update echoes leave some out (contract I15) and the stats store drifts (contract I24). Enums
are open
on read (contract I6). Every id is a ``str`` (contract I3).

Writing rules. Request bodies refuse unknown keys (Clinical answers 400 to them) and check
the declared rules. Nested write objects come as ``XCreate`` (every sub-field required, as
on create) and ``XUpdate`` (every sub-field optional). ``None`` means "not sent", so an
update cannot clear a field.

PHI. Every model that holds a person's data prints only ids, enums and counts in
``repr()``/``str()`` (``PhiRedactedRepr``), and validation errors never echo input values.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timezone
from typing import Annotated, Any, ClassVar, Self

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from nilecare_clients.models._base import (
    Count,
    Email,
    LenientDate,
    NonEmptyStr,
    PhiRedactedRepr,
    PhoneNumber,
    RequestBody,
    ResponseModel,
    StorageRowModel,
    StrEnum,
    StrList,
    UtcDatetime,
    UUIDStr,
    open_enum,
)

__all__ = [
    "Address",
    "AddressCreate",
    "AddressUpdate",
    "BloodPressure",
    "BloodPressureInput",
    "CdsFindings",
    "ClinicalStats",
    "Diagnostic",
    "DiagnosticCreate",
    "DiagnosticPriority",
    "DiagnosticResults",
    "DiagnosticStatus",
    "DiagnosticUpdate",
    "EmergencyContact",
    "EmergencyContactCreate",
    "EmergencyContactUpdate",
    "Encounter",
    "EncounterComplete",
    "EncounterCreate",
    "EncounterRecord",
    "EncounterStatus",
    "EncounterSummary",
    "EncounterTotals",
    "EncounterType",
    "Gender",
    "Medication",
    "MedicationCreate",
    "MedicationDiscontinue",
    "MedicationRoute",
    "MedicationStatus",
    "Patient",
    "PatientCreate",
    "PatientEncounters",
    "PatientSummary",
    "PatientTotals",
    "PatientUpdate",
    "PrescriptionResult",
    "PrescriptionWarnings",
    "RecentPatients",
    "SafetyRiskLevel",
    "StatsCount",
    "TodayEncounters",
    "VitalSigns",
    "VitalSignsInput",
]


# --- enums: the values the routes accept on write ---------------------------------------------


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"
    OTHER = "other"
    UNKNOWN = "unknown"


class EncounterType(StrEnum):
    """The API's four types; storage also has ``urgent_care``, ``home_health`` (read as str,
    contract I6)."""

    OUTPATIENT = "outpatient"
    INPATIENT = "inpatient"
    EMERGENCY = "emergency"
    TELEHEALTH = "telehealth"


class EncounterStatus(StrEnum):
    """Hyphenated API values; storage's ``planned``/``in_progress``/``finished`` stay str
    (contract I6)."""

    SCHEDULED = "scheduled"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class MedicationRoute(StrEnum):
    ORAL = "oral"
    INTRAVENOUS = "intravenous"
    INTRAMUSCULAR = "intramuscular"
    SUBCUTANEOUS = "subcutaneous"
    TOPICAL = "topical"
    INHALATION = "inhalation"


class MedicationStatus(StrEnum):
    ACTIVE = "active"
    DISCONTINUED = "discontinued"
    COMPLETED = "completed"


class SafetyRiskLevel(StrEnum):
    """The CDS risk level stamped on a prescription (contract §2.5)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    UNKNOWN = "unknown"


class DiagnosticStatus(StrEnum):
    ORDERED = "ordered"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class DiagnosticPriority(StrEnum):
    ROUTINE = "routine"
    URGENT = "urgent"
    STAT = "stat"


_OpenGender = Annotated[Gender | str, open_enum(Gender)]
_OpenEncounterType = Annotated[EncounterType | str, open_enum(EncounterType)]
_OpenEncounterStatus = Annotated[EncounterStatus | str, open_enum(EncounterStatus)]
_OpenMedicationRoute = Annotated[MedicationRoute | str, open_enum(MedicationRoute)]
_OpenMedicationStatus = Annotated[MedicationStatus | str, open_enum(MedicationStatus)]
_OpenSafetyRiskLevel = Annotated[SafetyRiskLevel | str, open_enum(SafetyRiskLevel)]
_OpenDiagnosticStatus = Annotated[DiagnosticStatus | str, open_enum(DiagnosticStatus)]
_OpenDiagnosticPriority = Annotated[DiagnosticPriority | str, open_enum(DiagnosticPriority)]


# --- write-side value types -------------------------------------------------------------------

PersonName = Annotated[str, StringConstraints(min_length=2, max_length=50)]


def _not_in_future(value: date) -> date:
    # Compared with today's date in UTC, as the service compares it.
    if value > datetime.now(timezone.utc).date():
        raise ValueError("must not be in the future")
    return value


BirthDate = Annotated[date, AfterValidator(_not_in_future)]


def _check_end_not_before_start(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and end < start:
        raise ValueError("endDate must be on or after startDate")


# --- patients (contract §2.2)
# ----------------------------------------------------------------------------


class Address(PhiRedactedRepr, ResponseModel):
    """A patient's address as read; a sub-field never set comes back ``null``. All PHI."""

    _repr_fields: ClassVar[tuple[str, ...]] = ()

    street: str | None = None
    city: str | None = None
    state: str | None = None
    zip_code: str | None = None
    country: str | None = None


class AddressCreate(PhiRedactedRepr, RequestBody):
    """An address on patient create: all five sub-fields are required when one is given."""

    _repr_fields: ClassVar[tuple[str, ...]] = ()

    street: NonEmptyStr
    city: NonEmptyStr
    state: NonEmptyStr
    zip_code: NonEmptyStr
    country: NonEmptyStr


class AddressUpdate(PhiRedactedRepr, RequestBody):
    """An address on patient update: every sub-field optional."""

    _repr_fields: ClassVar[tuple[str, ...]] = ()

    street: NonEmptyStr | None = None
    city: NonEmptyStr | None = None
    state: NonEmptyStr | None = None
    zip_code: NonEmptyStr | None = None
    country: NonEmptyStr | None = None


class EmergencyContact(PhiRedactedRepr, ResponseModel):
    """A patient's emergency contact as read; only ``relationship`` is printed."""

    _repr_fields: ClassVar[tuple[str, ...]] = ("relationship",)

    name: str | None = None
    relationship: str | None = None
    phone_number: str | None = None


class EmergencyContactCreate(PhiRedactedRepr, RequestBody):
    """An emergency contact on create: all three sub-fields are required when one is given."""

    _repr_fields: ClassVar[tuple[str, ...]] = ("relationship",)

    name: NonEmptyStr
    relationship: NonEmptyStr
    phone_number: NonEmptyStr


class EmergencyContactUpdate(PhiRedactedRepr, RequestBody):
    """An emergency contact on update: every sub-field optional."""

    _repr_fields: ClassVar[tuple[str, ...]] = ("relationship",)

    name: NonEmptyStr | None = None
    relationship: NonEmptyStr | None = None
    phone_number: NonEmptyStr | None = None


class Patient(PhiRedactedRepr, ResponseModel):
    """A patient record. ``address`` and ``emergency_contact`` are optional because the
    create and update echoes leave them out; only a GET returns them (contract I15)."""

    _repr_fields: ClassVar[tuple[str, ...]] = ("id", "gender", "organization_id")

    id: str
    first_name: str
    last_name: str
    date_of_birth: LenientDate
    gender: _OpenGender
    phone_number: str
    email: str | None = None
    address: Address | None = None
    emergency_contact: EmergencyContact | None = None
    medical_history: StrList = Field(default_factory=list)
    allergies: StrList = Field(default_factory=list)
    medications: StrList = Field(default_factory=list)
    organization_id: str | None = None
    created_by: str | None = None
    updated_by: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class PatientCreate(PhiRedactedRepr, RequestBody):
    """The body of ``POST /patients``. The phone number must be unique in the organisation;
    the service answers a duplicate with 400, not 409 (contract I11)."""

    _repr_fields: ClassVar[tuple[str, ...]] = ("gender",)

    first_name: PersonName
    last_name: PersonName
    date_of_birth: BirthDate
    gender: Gender
    phone_number: PhoneNumber
    email: Email | None = None
    address: AddressCreate | None = None
    emergency_contact: EmergencyContactCreate | None = None
    medical_history: list[str] | None = None
    allergies: list[str] | None = None
    medications: list[str] | None = None


class PatientUpdate(PhiRedactedRepr, RequestBody):
    """The partial body of ``PUT /patients/{id}``, same rules as create.

    The real service silently ignores ``address`` and ``emergency_contact`` on update and
    its echo omits them (contract I15); they are sent when given, as the declared behaviour.
    """

    _repr_fields: ClassVar[tuple[str, ...]] = ("gender",)

    first_name: PersonName | None = None
    last_name: PersonName | None = None
    date_of_birth: BirthDate | None = None
    gender: Gender | None = None
    phone_number: PhoneNumber | None = None
    email: Email | None = None
    address: AddressUpdate | None = None
    emergency_contact: EmergencyContactUpdate | None = None
    medical_history: list[str] | None = None
    allergies: list[str] | None = None
    medications: list[str] | None = None


class PatientSummary(PhiRedactedRepr, StorageRowModel):
    """A patient as ``/stats/patients/recent`` lists it (from the stats store, contract I24)."""

    _repr_fields: ClassVar[tuple[str, ...]] = ("id", "gender")

    id: str
    first_name: str
    last_name: str
    date_of_birth: LenientDate | None = None
    gender: _OpenGender | None = None
    phone_number: str | None = None
    email: str | None = None
    created_at: datetime | None = None


# --- encounters (contract §2.3, declared)
# -----------------------------------------------------------


class BloodPressure(ResponseModel):
    systolic: float | None = None
    diastolic: float | None = None


class VitalSigns(ResponseModel):
    """Vital signs as read; not range-checked, so a stored outlier never breaks a read.
    ``temperature`` is in °F (contract I28)."""

    blood_pressure: BloodPressure | None = None
    heart_rate: float | None = None
    temperature: float | None = None
    respiratory_rate: float | None = None
    oxygen_saturation: float | None = None
    weight: float | None = None
    height: float | None = None


class BloodPressureInput(RequestBody):
    systolic: Annotated[float, Field(ge=50, le=300)] | None = None
    diastolic: Annotated[float, Field(ge=30, le=200)] | None = None


class VitalSignsInput(RequestBody):
    """Vital signs on write, with the validator's ranges. ``temperature`` is in **°F**
    (90-110), as the service's validator expects, although storage documents °C (contract I28)."""

    blood_pressure: BloodPressureInput | None = None
    heart_rate: Annotated[float, Field(ge=30, le=250)] | None = None
    temperature: Annotated[float, Field(ge=90, le=110)] | None = None
    respiratory_rate: Annotated[float, Field(ge=5, le=50)] | None = None
    oxygen_saturation: Annotated[float, Field(ge=70, le=100)] | None = None
    weight: Annotated[float, Field(ge=1, le=1000)] | None = None
    height: Annotated[float, Field(ge=30, le=300)] | None = None


_ENCOUNTER_REPR = ("id", "patient_id", "provider_id", "encounter_type", "status")


class EncounterRecord(PhiRedactedRepr, StorageRowModel):
    """An encounter as ``GET /patients/{id}/encounters`` returns it: a raw storage row with
    an unstable column set (contract I16). Keys are normalised to camelCase and only ``id`` is
    required; storage-only columns are kept as extras and storage status values such as
    ``in_progress`` stay plain strings (contract I6)."""

    _repr_fields: ClassVar[tuple[str, ...]] = _ENCOUNTER_REPR

    id: str
    patient_id: str | None = None
    provider_id: str | None = None
    encounter_type: _OpenEncounterType | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    chief_complaint: str | None = None
    diagnosis: StrList = Field(default_factory=list)
    treatment_plan: str | None = None
    vital_signs: VitalSigns | None = None
    status: _OpenEncounterStatus | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class Encounter(EncounterRecord):
    """An encounter from the ``/encounters`` routes: the create-required fields are present.

    ``status`` stays optional: the source sets no initial value (contract I6).
    """

    patient_id: str
    provider_id: str
    encounter_type: _OpenEncounterType
    start_date: datetime
    chief_complaint: str


class EncounterCreate(PhiRedactedRepr, RequestBody):
    """The body of ``POST /encounters``, and of ``PUT /encounters/{id}``, which needs the
    full body again. Date-times must be timezone-aware; they are sent in UTC."""

    _repr_fields: ClassVar[tuple[str, ...]] = ("patient_id", "provider_id", "encounter_type")

    patient_id: UUIDStr
    provider_id: UUIDStr
    encounter_type: EncounterType
    start_date: UtcDatetime
    end_date: UtcDatetime | None = None
    chief_complaint: NonEmptyStr
    diagnosis: list[str] | None = None
    treatment_plan: str | None = None
    vital_signs: VitalSignsInput | None = None

    @model_validator(mode="after")
    def _end_after_start(self) -> Self:
        _check_end_not_before_start(self.start_date, self.end_date)
        return self


class EncounterComplete(PhiRedactedRepr, RequestBody):
    """The optional body of ``PATCH /encounters/{id}/complete`` (not validated by the service)."""

    diagnosis: list[str] | None = None
    treatment_plan: str | None = None
    end_date: UtcDatetime | None = None


class EncounterSummary(PhiRedactedRepr, StorageRowModel):
    """An encounter as ``/stats/encounters/today`` lists it; wire ``type`` is
    ``encounter_type`` here, as on ``Encounter``."""

    _repr_fields: ClassVar[tuple[str, ...]] = ("id", "patient_id", "encounter_type", "status")

    id: str
    patient_id: str | None = None
    encounter_type: _OpenEncounterType | None = Field(default=None, alias="type")
    status: _OpenEncounterStatus | None = None
    scheduled_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    patient_first_name: str | None = None
    patient_last_name: str | None = None


class PatientEncounters(PhiRedactedRepr, ResponseModel):
    """``GET /patients/{id}/encounters``: newest first, unpaginated, raw rows (contract I16)."""

    _repr_fields: ClassVar[tuple[str, ...]] = ("patient_id", "encounters")

    patient_id: str
    encounters: list[EncounterRecord]


# --- medications (contract §2.4, §2.5)
# -------------------------------------------------------------------


class CdsFindings(ResponseModel):
    """Counts of CDS findings per group, on a prescription and in its warnings."""

    interactions: Count | None = None
    allergies: Count | None = None
    contraindications: Count | None = None
    dose_issues: Count | None = None


class Medication(PhiRedactedRepr, ResponseModel):
    """A medication. ``id`` is any string: prescribe issues ``MED-<epoch ms>`` (contract I3).

    The fields from ``organization_id`` on are set only on a prescribe response (contract §2.5).
    """

    _repr_fields: ClassVar[tuple[str, ...]] = (
        "id",
        "patient_id",
        "prescribed_by",
        "route",
        "status",
        "safety_risk_level",
    )

    id: str
    name: str
    dosage: str
    frequency: str
    route: _OpenMedicationRoute
    start_date: datetime
    end_date: datetime | None = None
    patient_id: str
    prescribed_by: str
    instructions: str | None = None
    side_effects: StrList = Field(default_factory=list)
    status: _OpenMedicationStatus | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    organization_id: str | None = None
    facility_id: str | None = None
    safety_check_performed: bool | None = None
    safety_risk_level: _OpenSafetyRiskLevel | None = None
    risk_score: float | None = None
    override_reason: str | None = None
    cds_findings: CdsFindings | None = None
    prescribed_at: datetime | None = None


class MedicationCreate(PhiRedactedRepr, RequestBody):
    """The body of ``POST /medications`` and of ``PUT /medications/{id}`` (full body).

    ``prescribed_by`` is required although the service replaces it with the caller's id.
    ``override_reason`` is the declared way past a high-risk refusal (contract I14); it is sent only
    when given, and the unpatched service's strict validator rejects it.
    """

    _repr_fields: ClassVar[tuple[str, ...]] = ("patient_id", "prescribed_by", "route")

    name: NonEmptyStr
    dosage: NonEmptyStr
    frequency: NonEmptyStr
    route: MedicationRoute
    start_date: UtcDatetime
    end_date: UtcDatetime | None = None
    patient_id: UUIDStr
    prescribed_by: UUIDStr
    instructions: str | None = None
    side_effects: list[str] | None = None
    override_reason: NonEmptyStr | None = None

    @model_validator(mode="after")
    def _end_after_start(self) -> Self:
        _check_end_not_before_start(self.start_date, self.end_date)
        return self


class MedicationDiscontinue(PhiRedactedRepr, RequestBody):
    """The optional body of ``PATCH /medications/{id}/discontinue``."""

    reason: str | None = None
    end_date: UtcDatetime | None = None


class PrescriptionWarnings(PhiRedactedRepr, ResponseModel):
    """The top-level ``warnings`` of a prescribe response whose risk is not ``low``."""

    _repr_fields: ClassVar[tuple[str, ...]] = ("level", "details")

    level: _OpenSafetyRiskLevel | None = None
    message: str | None = None
    details: CdsFindings | None = None


class PrescriptionResult(PhiRedactedRepr, ResponseModel):
    """The outcome of a successful prescribe (201, contract §2.5).

    ``safety_assessment`` is the CDS result kept as a dict (or ``None`` when CDS was not
    consulted). ``warnings`` sits *outside* ``data`` on the wire: build the result with
    ``from_body`` to pick it up.
    """

    _repr_fields: ClassVar[tuple[str, ...]] = ("medication", "warnings")

    medication: Medication
    safety_assessment: dict[str, Any] | None = None
    warnings: PrescriptionWarnings | None = None

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Self:
        """The result from a whole decoded 201 body: ``data`` plus the top-level ``warnings``."""
        data = body.get("data")
        payload: dict[str, Any] = dict(data) if isinstance(data, Mapping) else {}
        if body.get("warnings") is not None and "warnings" not in payload:
            payload["warnings"] = body["warnings"]
        return cls.model_validate(payload)


# --- diagnostics (contract §2.6, declared)
# ----------------------------------------------------------


class Diagnostic(PhiRedactedRepr, ResponseModel):
    """A diagnostic order and its results. ``facility`` is free text, not a facility id."""

    _repr_fields: ClassVar[tuple[str, ...]] = (
        "id",
        "patient_id",
        "ordered_by",
        "status",
        "priority",
    )

    id: str
    patient_id: str
    ordered_by: str
    test_type: str
    test_name: str | None = None
    order_date: datetime
    scheduled_date: datetime | None = None
    completed_date: datetime | None = None
    results: dict[str, Any] | None = None
    status: _OpenDiagnosticStatus | None = None
    priority: _OpenDiagnosticPriority | None = None
    notes: str | None = None
    facility: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class DiagnosticCreate(PhiRedactedRepr, RequestBody):
    """The body of ``POST /diagnostics``. The service does not validate it; the declared
    rules are checked here so a bad order fails before it is sent."""

    _repr_fields: ClassVar[tuple[str, ...]] = ("patient_id", "ordered_by", "priority")

    patient_id: UUIDStr
    ordered_by: UUIDStr
    test_type: NonEmptyStr
    test_name: str | None = None
    order_date: UtcDatetime
    scheduled_date: UtcDatetime | None = None
    priority: DiagnosticPriority | None = None
    notes: str | None = None
    facility: str | None = None


class DiagnosticUpdate(PhiRedactedRepr, RequestBody):
    """The partial body of ``PUT /diagnostics/{id}`` (not validated by the service)."""

    _repr_fields: ClassVar[tuple[str, ...]] = ("status", "priority")

    test_type: NonEmptyStr | None = None
    test_name: str | None = None
    scheduled_date: UtcDatetime | None = None
    status: DiagnosticStatus | None = None
    priority: DiagnosticPriority | None = None
    notes: str | None = None
    facility: str | None = None


class DiagnosticResults(PhiRedactedRepr, RequestBody):
    """The body of ``PATCH /diagnostics/{id}/results``: ``results`` is free form."""

    results: dict[str, Any]
    completed_date: UtcDatetime
    notes: str | None = None
    facility: str | None = None


# --- statistics (contract §2.7)
# --------------------------------------------------------------------------


class PatientTotals(ResponseModel):
    total: Count


class EncounterTotals(ResponseModel):
    total: Count
    today: Count


class ClinicalStats(ResponseModel):
    """``GET /stats``: organisation-wide counts (soft-deleted rows left out)."""

    patients: PatientTotals
    encounters: EncounterTotals
    organization_id: str | None = None
    timestamp: datetime | None = None


class StatsCount(ResponseModel):
    """``GET /stats/patients/count`` and ``GET /stats/encounters/count``."""

    count: Count
    organization_id: str | None = None
    timestamp: datetime | None = None


class RecentPatients(PhiRedactedRepr, ResponseModel):
    """``GET /stats/patients/recent``: newest first."""

    _repr_fields: ClassVar[tuple[str, ...]] = ("count", "patients")

    patients: list[PatientSummary]
    count: Count
    organization_id: str | None = None
    timestamp: datetime | None = None


class TodayEncounters(PhiRedactedRepr, ResponseModel):
    """``GET /stats/encounters/today``: "today" is the server's date, sent as ``date``."""

    _repr_fields: ClassVar[tuple[str, ...]] = ("date", "count", "encounters")

    encounters: list[EncounterSummary]
    count: Count
    organization_id: str | None = None
    date: LenientDate | None = None
    timestamp: datetime | None = None

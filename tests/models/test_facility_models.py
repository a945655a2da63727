"""Facility models: UUID identity, the contact/contactInfo pair, contract I16 rows, bed status rules."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from nilecare_clients.models import (
    Bed,
    BedAssign,
    BedHistoryEntry,
    BedRelease,
    BedStatus,
    BedStatusUpdate,
    BedType,
    BedUpdate,
    Department,
    DepartmentCreate,
    DepartmentUpdate,
    Facility,
    FacilityAnalytics,
    FacilityCapacity,
    FacilityCreate,
    FacilitySettings,
    FacilitySettingsUpdate,
    FacilityType,
    FacilityUpdate,
    TimeFormat,
    Ward,
    WardCreate,
    WardOccupancy,
    WardType,
)


def _facility_create(ids: dict[str, str], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "organizationId": ids["org"],
        "facilityCode": "KTH-001",
        "name": "Khartoum Teaching Hospital",
        "type": "hospital",
        "address": {
            "street": "Nile Street",
            "city": "Khartoum",
            "state": "Khartoum",
            "zipCode": "11111",
            "country": "Sudan",
        },
        "contact": {"phone": "+249 183 777 000", "email": "info@kth.example.sd"},
    }
    body.update(overrides)
    return body


# --- facilities -----------------------------------------------------------------------------


def test_facility_is_identified_by_facility_id_and_keeps_the_row_number(
    facility_wire: dict[str, Any],
) -> None:
    """The UUID ``facilityId`` is the identifier; the integer ``id`` becomes ``row_id`` (contract I3)."""
    facility = Facility.model_validate(facility_wire)
    assert facility.facility_id == facility_wire["facilityId"]
    assert facility.row_id == 7
    assert facility.facility_type is FacilityType.HOSPITAL
    assert facility.address is not None and facility.address.coordinates is not None
    assert facility.address.coordinates.latitude == 15.59
    assert facility.operating_hours is not None and facility.operating_hours.is_24_hours is True
    assert facility.operating_hours.monday is not None
    assert facility.operating_hours.monday.open_time == "08:00"


def test_facility_round_trips_through_camel_case(facility_wire: dict[str, Any]) -> None:
    """Dumping by alias restores the wire keys (``id``, ``type``, ``is24Hours`` included)."""
    facility = Facility.model_validate(facility_wire)
    dumped = facility.model_dump(by_alias=True, mode="json", exclude_none=True)
    assert dumped["id"] == 7 and dumped["type"] == "hospital"
    assert dumped["operatingHours"]["is24Hours"] is True
    assert Facility.model_validate(dumped) == facility


def test_facility_accepts_empty_declared_objects(facility_wire: dict[str, Any]) -> None:
    """``capacity`` and ``licensing`` stored as ``{}`` read as objects with every field None."""
    facility = Facility.model_validate(facility_wire)
    assert facility.capacity is not None and facility.capacity.total_beds is None
    assert facility.licensing is not None and facility.licensing.accreditations == []


def test_facility_keeps_unknown_fields_and_model_only_types(
    facility_wire: dict[str, Any],
) -> None:
    """A model-only type stays a string (contract I6) and unknown fields are kept (contract I4, I24)."""
    facility = Facility.model_validate(
        {**facility_wire, "type": "diagnostic_center", "contactInfo": {"phone": "1"}}
    )
    assert facility.facility_type == "diagnostic_center"
    assert facility.model_extra == {"contactInfo": {"phone": "1"}}


@pytest.mark.parametrize("missing", ["facilityId", "organizationId", "facilityCode", "name"])
def test_facility_missing_a_required_field_raises(
    facility_wire: dict[str, Any], missing: str
) -> None:
    """A facility without its identifier, tenant, code or name is a ValidationError."""
    with pytest.raises(ValidationError):
        Facility.model_validate({k: v for k, v in facility_wire.items() if k != missing})


def test_facility_create_sends_contact_and_an_identical_contact_info(ids: dict[str, str]) -> None:
    """The body carries ``contact`` and the same object as ``contactInfo`` (contract I5)."""
    wire = FacilityCreate.model_validate(_facility_create(ids)).to_wire()
    assert wire["contact"] == {"phone": "+249 183 777 000", "email": "info@kth.example.sd"}
    assert wire["contactInfo"] == wire["contact"]
    assert wire["type"] == "hospital"
    assert wire["organizationId"] == ids["org"] and wire["facilityCode"] == "KTH-001"


@pytest.mark.parametrize("missing", ["organizationId", "facilityCode", "contact", "address"])
def test_facility_create_requires_tenant_code_contact_and_address(
    ids: dict[str, str], missing: str
) -> None:
    """organization_id, facility_code and contact are required although the validator skips
    them (contract I5); the address is validated by the service."""
    body = _facility_create(ids)
    del body[missing]
    with pytest.raises(ValidationError):
        FacilityCreate.model_validate(body)


def test_facility_create_refuses_contact_info_given_directly(ids: dict[str, str]) -> None:
    """``contactInfo`` is derived from ``contact``; passing it yourself is an unknown key."""
    with pytest.raises(ValidationError):
        FacilityCreate.model_validate(_facility_create(ids, contactInfo={"phone": "1"}))


@pytest.mark.parametrize("facility_type", ["diagnostic_center", "urgent_care", "HOSPITAL"])
def test_facility_create_accepts_only_the_five_write_types(
    ids: dict[str, str], facility_type: str
) -> None:
    """Writes accept only the five types the route validates (contract I6)."""
    with pytest.raises(ValidationError):
        FacilityCreate.model_validate(_facility_create(ids, type=facility_type))


def test_facility_create_checks_contact_email_and_capacity(ids: dict[str, str]) -> None:
    """The contact email must look like an email, and declared bed counts may not be negative."""
    with pytest.raises(ValidationError):
        FacilityCreate.model_validate(
            _facility_create(ids, contact={"phone": "1", "email": "not-an-email"})
        )
    with pytest.raises(ValidationError):
        FacilityCreate.model_validate(_facility_create(ids, capacity={"icuBeds": -1}))


def test_facility_create_checks_licensing_dates_and_opening_times(ids: dict[str, str]) -> None:
    """A licence may not expire before it is issued; opening times are HH:MM."""
    with pytest.raises(ValidationError):
        FacilityCreate.model_validate(
            _facility_create(ids, licensing={"issueDate": "2025-01-01", "expiryDate": "2024-01-01"})
        )
    with pytest.raises(ValidationError):
        FacilityCreate.model_validate(
            _facility_create(ids, operatingHours={"monday": {"isOpen": True, "openTime": "8am"}})
        )


def test_facility_update_mirrors_contact_only_when_given() -> None:
    """An update without contact sends neither key; with contact it sends both."""
    assert FacilityUpdate(name="KTH").to_wire() == {"name": "KTH"}
    wire = FacilityUpdate.model_validate(
        {"contact": {"phone": "+249 183 777 001", "email": "new@kth.example.sd"}}
    ).to_wire()
    assert wire["contactInfo"] == wire["contact"]


def test_facility_update_takes_status_and_is_active() -> None:
    """Update accepts the facility status enum and is_active."""
    wire = FacilityUpdate.model_validate({"status": "maintenance", "isActive": False}).to_wire()
    assert wire == {"status": "maintenance", "isActive": False}


# --- contract I16 storage rows -----------------------------------------------------------------------


def test_facility_capacity_normalises_snake_case_and_string_counts(
    ids: dict[str, str],
) -> None:
    """Capacity rows in snake_case with decimal-string counts read as camelCase ints (contract I16)."""
    capacity = FacilityCapacity.model_validate(
        {
            "facilityId": ids["facility"],
            "facility_id": ids["facility"],
            "name": "KTH",
            "type": "hospital",
            "capacity": {"totalBeds": 200},
            "department_count": "5",
            "ward_count": "12",
            "total_beds": "180",
            "available_beds": "30",
            "occupied_beds": "150",
            "new_metric": "x",
        }
    )
    assert capacity.department_count == 5
    assert (capacity.total_beds, capacity.available_beds, capacity.occupied_beds) == (180, 30, 150)
    assert capacity.capacity is not None and capacity.capacity.total_beds == 200
    assert capacity.model_extra == {"newMetric": "x"}


def test_facility_analytics_keeps_the_echoed_period(ids: dict[str, str]) -> None:
    """Analytics are the stats plus the echoed period (``current`` by default) and timestamp."""
    analytics = FacilityAnalytics.model_validate(
        {"facility_id": ids["facility"], "ward_count": "2", "timestamp": "2025-10-16T08:00:00Z"}
    )
    assert (analytics.ward_count, analytics.period) == (2, "current")


def test_ward_occupancy_normalises_the_storage_row(ids: dict[str, str]) -> None:
    """The occupancy row's keys become fields and ``"12.50"`` becomes 12.5 (contract I16)."""
    occupancy = WardOccupancy.model_validate(
        {
            "ward_id": ids["ward"],
            "ward_name": "Ward A",
            "total_beds": "8",
            "occupied_beds": "1",
            "available_beds": "7",
            "occupancy_rate": "12.50",
            "last_updated": "2025-10-16T08:00:00.000Z",
        }
    )
    assert (occupancy.total_beds, occupancy.occupied_beds, occupancy.available_beds) == (8, 1, 7)
    assert occupancy.occupancy_rate == 12.5
    assert occupancy.last_updated == datetime(2025, 10, 16, 8, tzinfo=timezone.utc)


def test_ward_occupancy_missing_counts_raise(ids: dict[str, str]) -> None:
    """An occupancy row without its counts is a ValidationError."""
    with pytest.raises(ValidationError):
        WardOccupancy.model_validate({"ward_id": ids["ward"]})


def test_bed_history_normalises_the_storage_row(ids: dict[str, str]) -> None:
    """History rows read snake_case keys; an open entry has no discharge date (contract I16)."""
    entry = BedHistoryEntry.model_validate(
        {
            "id": 3,
            "bed_id": ids["bed"],
            "patient_id": ids["patient"],
            "assignment_date": "2025-10-16T08:00:00.000Z",
            "discharge_date": None,
            "duration": None,
            "reason": "post-op observation",
            "created_at": "2025-10-16T08:00:00.000Z",
        }
    )
    assert (entry.row_id, entry.bed_id, entry.patient_id) == (3, ids["bed"], ids["patient"])
    assert entry.discharge_date is None


# --- departments and wards ------------------------------------------------------------------


def test_department_and_ward_read_their_uuid_identifiers(ids: dict[str, str]) -> None:
    """Departments and wards expose their UUID ids and the row number separately (contract I3)."""
    department = Department.model_validate(
        {
            "id": 1,
            "departmentId": ids["department"],
            "facilityId": ids["facility"],
            "name": "Cardiology",
            "code": "CARD",
            "specialization": "cardiology",
            "staffCount": "14",
        }
    )
    assert (department.department_id, department.row_id, department.staff_count) == (
        ids["department"],
        1,
        14,
    )
    ward = Ward.model_validate(
        {
            "id": 2,
            "wardId": ids["ward"],
            "facilityId": ids["facility"],
            "departmentId": ids["department"],
            "name": "Ward A",
            "wardCode": "ICU-1",
            "wardType": "icu",
            "totalBeds": 8,
            "genderRestriction": "unisex",
        }
    )
    assert ward.ward_type is WardType.ICU
    assert ward.gender_restriction == "unisex"


def test_department_create_requires_a_uuid_facility_and_a_non_negative_floor(
    ids: dict[str, str],
) -> None:
    """facilityId must be a UUID and floor an integer of at least 0."""
    base = {"facilityId": ids["facility"], "name": "Cardiology", "code": "CARD"}
    base["specialization"] = "cardiology"
    assert DepartmentCreate.model_validate(base).to_wire()["facilityId"] == ids["facility"]
    with pytest.raises(ValidationError):
        DepartmentCreate.model_validate({**base, "facilityId": "KTH-001"})
    with pytest.raises(ValidationError):
        DepartmentCreate.model_validate({**base, "floor": -1})


def test_department_update_refuses_code_and_facility_changes() -> None:
    """code and facilityId cannot change on update, so sending them is refused."""
    with pytest.raises(ValidationError):
        DepartmentUpdate.model_validate({"code": "CARD2"})
    with pytest.raises(ValidationError):
        DepartmentUpdate.model_validate({"specialization": ""})


def test_department_operating_hours_are_keyed_by_weekday(ids: dict[str, str]) -> None:
    """Department opening hours accept weekday keys only."""
    base = {
        "facilityId": ids["facility"],
        "name": "Cardiology",
        "code": "CARD",
        "specialization": "cardiology",
    }
    wire = DepartmentCreate.model_validate(
        {**base, "operatingHours": {"monday": {"isOpen": True, "closeTime": "24:00"}}}
    ).to_wire()
    assert wire["operatingHours"] == {"monday": {"isOpen": True, "closeTime": "24:00"}}
    with pytest.raises(ValidationError):
        DepartmentCreate.model_validate({**base, "operatingHours": {"funday": {"isOpen": True}}})


def test_ward_create_requires_at_least_one_bed(ids: dict[str, str]) -> None:
    """totalBeds must be at least 1 and wardType an accepted value."""
    body = {
        "facilityId": ids["facility"],
        "departmentId": ids["department"],
        "name": "Ward A",
        "wardCode": "A",
        "wardType": "general",
        "totalBeds": 1,
    }
    assert WardCreate.model_validate(body).total_beds == 1
    with pytest.raises(ValidationError):
        WardCreate.model_validate({**body, "totalBeds": 0})
    with pytest.raises(ValidationError):
        WardCreate.model_validate({**body, "wardType": "bariatric"})


# --- beds -----------------------------------------------------------------------------------


def test_bed_reads_bed_status_and_patient_id(bed_wire: dict[str, Any], ids: dict[str, str]) -> None:
    """A bed reads ``bedStatus`` and ``patientId`` (contract I17) into domain-named attributes."""
    bed = Bed.model_validate({**bed_wire, "bedStatus": "occupied", "patientId": ids["patient"]})
    assert bed.bed_status is BedStatus.OCCUPIED
    assert bed.patient_id == ids["patient"]
    assert bed.bed_type is BedType.STANDARD
    assert bed.row_id == 42


def test_bed_dump_uses_the_wire_names(bed_wire: dict[str, Any]) -> None:
    """Dumping by alias writes ``bedStatus`` and ``id`` back as the service sends them."""
    dumped = Bed.model_validate(bed_wire).model_dump(by_alias=True, mode="json", exclude_none=True)
    assert dumped["bedStatus"] == "available" and dumped["id"] == 42
    assert set(dumped) == set(bed_wire)


def test_bed_accepts_the_legacy_status_and_current_patient_id(
    bed_wire: dict[str, Any], ids: dict[str, str]
) -> None:
    """When ``bedStatus``/``patientId`` are absent, the legacy names are read (contract I17)."""
    legacy = {k: v for k, v in bed_wire.items() if k != "bedStatus"}
    bed = Bed.model_validate({**legacy, "status": "cleaning", "currentPatientId": ids["patient"]})
    assert bed.bed_status is BedStatus.CLEANING
    assert bed.patient_id == ids["patient"]


def test_bed_without_bed_status_raises(bed_wire: dict[str, Any]) -> None:
    """A bed with no status at all is a ValidationError."""
    with pytest.raises(ValidationError):
        Bed.model_validate({k: v for k, v in bed_wire.items() if k != "bedStatus"})


def test_bed_status_update_sends_status_only() -> None:
    """The status route's body is ``{"status": ...}`` and nothing else (contract I17)."""
    assert BedStatusUpdate(status=BedStatus.CLEANING).to_wire() == {"status": "cleaning"}
    with pytest.raises(ValidationError):
        BedStatusUpdate.model_validate({"status": "available", "patientId": "x"})


@pytest.mark.parametrize("status", ["occupied", "blocked", "AVAILABLE"])
def test_bed_status_update_refuses_occupied_and_unknown_values(status: str) -> None:
    """``occupied`` must go through assign (contract I20); unknown values are refused on write (contract I6)."""
    with pytest.raises(ValidationError):
        BedStatusUpdate.model_validate({"status": status})


def test_bed_update_refuses_occupied_but_takes_other_statuses() -> None:
    """PUT /beds/{id} may not mark a bed occupied either (contract I20)."""
    with pytest.raises(ValidationError, match="assign"):
        BedUpdate.model_validate({"bedStatus": "occupied"})
    assert BedUpdate.model_validate({"bedStatus": "maintenance", "isActive": False}).to_wire() == {
        "bedStatus": "maintenance",
        "isActive": False,
    }


def test_bed_assign_checks_the_patient_id_and_discharge_date(ids: dict[str, str]) -> None:
    """Assign needs a UUID patient id; the expected discharge may not precede assignment."""
    wire = BedAssign.model_validate(
        {
            "patientId": ids["patient"],
            "assignmentDate": "2025-10-16T08:00:00+02:00",
            "expectedDischargeDate": "2025-10-20T08:00:00Z",
        }
    ).to_wire()
    assert wire == {
        "patientId": ids["patient"],
        "assignmentDate": "2025-10-16T06:00:00Z",
        "expectedDischargeDate": "2025-10-20T08:00:00Z",
    }
    with pytest.raises(ValidationError):
        BedAssign.model_validate({"patientId": "42"})
    with pytest.raises(ValidationError):
        BedAssign.model_validate(
            {
                "patientId": ids["patient"],
                "assignmentDate": "2025-10-16T08:00:00Z",
                "expectedDischargeDate": "2025-10-15T08:00:00Z",
            }
        )


def test_bed_release_body_is_optional_reason() -> None:
    """Release sends ``releaseReason`` when given and an empty body otherwise."""
    assert BedRelease().to_wire() == {}
    assert BedRelease(release_reason="discharged").to_wire() == {"releaseReason": "discharged"}


# --- settings -------------------------------------------------------------------------------


def test_facility_settings_fill_documented_defaults(ids: dict[str, str]) -> None:
    """Fields the server leaves out take the documented defaults."""
    settings = FacilitySettings.model_validate({"facilityId": ids["facility"]})
    assert settings.timezone == "Africa/Khartoum"
    assert settings.time_format is TimeFormat.H24
    assert settings.appointment_reminder_hours == [24, 2]
    assert settings.currency == "SDG"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("defaultAppointmentDuration", 4),
        ("defaultAppointmentDuration", 241),
        ("maxAdvanceBookingDays", 0),
        ("maxAdvanceBookingDays", 366),
        ("cancellationNoticePeriod", -1),
        ("bedCleaningDuration", 4),
        ("timeFormat", "24-hour"),
    ],
)
def test_facility_settings_update_checks_the_ranges(field: str, value: object) -> None:
    """Settings updates obey the ranges and the 12h/24h choice."""
    with pytest.raises(ValidationError):
        FacilitySettingsUpdate.model_validate({field: value})


def test_facility_settings_update_sends_only_given_fields() -> None:
    """A partial settings update sends only the fields given."""
    body = FacilitySettingsUpdate(default_appointment_duration=45, time_format=TimeFormat.H12)
    assert body.to_wire() == {"defaultAppointmentDuration": 45, "timeFormat": "12h"}


def test_licensing_dates_read_from_date_times(facility_wire: dict[str, Any]) -> None:
    """Licence dates echoed as midnight date-times read as calendar dates."""
    facility = Facility.model_validate(
        {**facility_wire, "licensing": {"issueDate": "2024-01-01T00:00:00.000Z"}}
    )
    assert facility.licensing is not None
    assert facility.licensing.issue_date == date(2024, 1, 1)

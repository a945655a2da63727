"""FacilityServiceClient and its async twin against respx routes built from the contract (contract §3).

Every case runs for both twins: the request sent and the typed value read from Facility's
real success shapes (integer ``id`` + UUID ``<entity>Id`` rows, top-level pagination, snake_case
storage rows with string counts, ``count`` next to the available beds).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest
import respx
from client_cases import Case, public_methods, run_case
from client_payloads import (
    BED_ID,
    DEPARTMENT_ID,
    FACILITY_ID,
    FACILITY_URL,
    ORG_ID,
    OTHER_FACILITY_ID,
    PATIENT_ID,
    SETTINGS_ID,
    WARD_ID,
    analytics_row,
    bed_history_row,
    bed_row,
    capacity_row,
    department_row,
    facility_create,
    facility_ok,
    facility_page,
    facility_row,
    occupancy_row,
    settings_row,
    ward_row,
)

from nilecare_clients import CacheResult
from nilecare_clients.models import (
    Bed,
    BedHistoryEntry,
    BedStatus,
    Department,
    Facility,
    FacilityAnalytics,
    FacilityCapacity,
    FacilitySettings,
    FacilityType,
    Page,
    TimeFormat,
    Ward,
    WardOccupancy,
)

HOST = FACILITY_URL.removeprefix("http://")
F = f"/api/v1/facilities/{FACILITY_ID}"
CONTACT = {"phone": "+249 183 000 000", "email": "info@kth.example.sd"}


def _facility(result: Any) -> None:
    assert isinstance(result, Facility)
    assert (result.row_id, result.facility_id, result.organization_id) == (1, FACILITY_ID, ORG_ID)
    assert result.facility_type is FacilityType.HOSPITAL and result.facility_code == "KTH-001"
    assert result.address is not None and result.address.zip_code == "11111"
    assert result.address.coordinates is not None and result.address.coordinates.latitude == 15.6
    assert result.operating_hours is not None and result.operating_hours.monday is not None
    assert result.operating_hours.monday.open_time == "08:00"
    assert result.capacity is not None and result.capacity.total_beds is None  # stored as {}


def _lookup(result: Any) -> None:
    assert isinstance(result, CacheResult)
    assert (result.stale, result.from_cache) == (False, False)
    _facility(result.value)


def _equals(expected: Any) -> Callable[[Any], None]:
    def check(result: Any) -> None:
        assert result == expected and type(result) is type(expected)

    return check


def _facility_page(page: int, total: int, has_next: bool) -> Callable[[Any], None]:
    def check(result: Any) -> None:
        assert isinstance(result, Page)
        assert [f.facility_id for f in result.items] == [FACILITY_ID, OTHER_FACILITY_ID]
        assert [f.row_id for f in result.items] == [1, 2]
        assert (result.page, result.total, result.has_next) == (page, total, has_next)

    return check


def _none(result: Any) -> None:
    assert result is None


def _settings(result: Any) -> None:
    assert isinstance(result, FacilitySettings)
    assert (result.row_id, result.settings_id, result.facility_id) == (2, SETTINGS_ID, FACILITY_ID)
    assert result.language == "en" and result.currency == "SDG"  # defaults for missing fields
    assert result.appointment_reminder_hours == [24, 2]


def _settings_12h(result: Any) -> None:
    assert isinstance(result, FacilitySettings) and result.time_format is TimeFormat.H12
    assert result.default_appointment_duration == 45


def _departments(result: Any) -> None:
    assert [type(d) for d in result] == [Department]
    assert (result[0].row_id, result[0].department_id) == (3, DEPARTMENT_ID)


def _department(result: Any) -> None:
    assert isinstance(result, Department) and result.department_id == DEPARTMENT_ID
    assert result.facility_id == FACILITY_ID and result.floor == 2


def _wards(result: Any) -> None:
    assert [type(w) for w in result] == [Ward]
    _ward(result[0])


def _ward(result: Any) -> None:
    assert isinstance(result, Ward) and (result.row_id, result.ward_id) == (5, WARD_ID)
    assert (result.total_beds, result.occupied_beds, result.available_beds) == (10, 3, 7)


def _beds(result: Any) -> None:
    assert [type(b) for b in result] == [Bed]
    _bed(BedStatus.AVAILABLE)(result[0])


def _bed(status: BedStatus, patient: str | None = None) -> Callable[[Any], None]:
    def check(result: Any) -> None:
        assert isinstance(result, Bed) and (result.row_id, result.bed_id) == (12, BED_ID)
        assert result.bed_status is status and result.patient_id == patient

    return check


def _occupancy(result: Any) -> None:
    assert isinstance(result, WardOccupancy) and result.ward_id == WARD_ID
    assert (result.total_beds, result.occupied_beds, result.available_beds) == (10, 3, 7)
    assert result.occupancy_rate == 30.0
    assert result.last_updated == datetime(2025, 10, 16, 8, 0, tzinfo=timezone.utc)


def _history(result: Any) -> None:
    assert [type(h) for h in result] == [BedHistoryEntry]
    entry = result[0]
    assert (entry.row_id, entry.bed_id, entry.patient_id) == (77, BED_ID, PATIENT_ID)
    assert entry.discharge_date is None and entry.reason == "post-op observation"


def _capacity(result: Any) -> None:
    assert isinstance(result, FacilityCapacity) and result.facility_id == FACILITY_ID
    assert (result.total_beds, result.available_beds, result.occupied_beds) == (118, 31, 87)
    assert (result.department_count, result.ward_count) == (4, 9)
    assert result.capacity is not None and result.capacity.total_beds == 120


def _analytics(period: str) -> Callable[[Any], None]:
    def check(result: Any) -> None:
        assert isinstance(result, FacilityAnalytics) and result.period == period
        assert (result.department_count, result.total_beds) == (4, 118)

    return check


FACILITY_WIRE = {
    "organizationId": ORG_ID,
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
    "contact": CONTACT,
    "contactInfo": CONTACT,  # contract I5: validated as contactInfo, stored as contact
    "capacity": {"totalBeds": 120, "icuBeds": 10},
}
TWO = [facility_row(), facility_row(OTHER_FACILITY_ID, row_id=2)]

CASES = [
    Case(
        "get_facility",
        "get_facility",
        (FACILITY_ID,),
        "GET",
        F,
        facility_ok(facility_row()),
        _facility,
    ),
    Case(
        "lookup_facility",
        "lookup_facility",
        (FACILITY_ID,),
        "GET",
        F,
        facility_ok(facility_row()),
        _lookup,
    ),
    Case(
        "facility_exists",
        "facility_exists",
        (FACILITY_ID,),
        "GET",
        F,
        facility_ok(facility_row()),
        _equals(True),
    ),
    Case(
        "list_facilities_defaults",
        "list_facilities",
        (),
        "GET",
        "/api/v1/facilities",
        facility_page(TWO, 1, 20, 2),
        _facility_page(1, 2, False),
        query={"page": "1", "limit": "20"},
    ),
    Case(
        "list_facilities_filters_I29",
        "list_facilities",
        (2, 10),
        "GET",
        "/api/v1/facilities",
        facility_page(TWO, 2, 10, 25),
        _facility_page(2, 25, True),
        kwargs={
            "facility_type": "clinic",
            "search": "kth",
            "organization_id": ORG_ID,
            "city": "Khartoum",
        },
        query={
            "page": "2",
            "limit": "10",
            "type": "clinic",
            "search": "kth",
            "organizationId": ORG_ID,
            "city": "Khartoum",
        },
    ),
    Case(
        "create_facility_I5",
        "create_facility",
        (facility_create(),),
        "POST",
        "/api/v1/facilities",
        facility_ok(facility_row(), "Facility created successfully"),
        _facility,
        status=201,
        body=FACILITY_WIRE,
        keyed=True,
    ),
    Case(
        "update_facility",
        "update_facility",
        (FACILITY_ID, {"name": "KTH", "is_active": False, "contact": CONTACT}),
        "PUT",
        F,
        facility_ok(facility_row(name="KTH"), "Facility updated successfully"),
        lambda r: None if r.name == "KTH" else pytest.fail("name not updated"),
        body={"name": "KTH", "isActive": False, "contact": CONTACT, "contactInfo": CONTACT},
    ),
    Case(
        "delete_facility",
        "delete_facility",
        (FACILITY_ID,),
        "DELETE",
        F,
        {"success": True, "message": "Facility deleted successfully"},
        _none,
    ),
    Case(
        "get_facility_settings",
        "get_facility_settings",
        (FACILITY_ID,),
        "GET",
        f"/api/v1/settings/facility/{FACILITY_ID}",
        facility_ok(settings_row()),
        _settings,
    ),
    Case(
        "update_facility_settings",
        "update_facility_settings",
        (FACILITY_ID, {"default_appointment_duration": 45, "time_format": "12h"}),
        "PUT",
        f"/api/v1/settings/facility/{FACILITY_ID}",
        facility_ok(
            settings_row(timeFormat="12h", defaultAppointmentDuration=45), "Settings updated"
        ),
        _settings_12h,
        body={"defaultAppointmentDuration": 45, "timeFormat": "12h"},
    ),
    Case(
        "get_departments",
        "get_departments",
        (FACILITY_ID,),
        "GET",
        F + "/departments",
        facility_ok([department_row()]),
        _departments,
    ),
    Case(
        "get_department",
        "get_department",
        (DEPARTMENT_ID,),
        "GET",
        f"/api/v1/departments/{DEPARTMENT_ID}",
        facility_ok(department_row()),
        _department,
    ),
    Case(
        "create_department",
        "create_department",
        (
            {
                "facility_id": FACILITY_ID,
                "name": "Cardiology",
                "code": "CARD",
                "specialization": "cardiology",
                "floor": 2,
            },
        ),
        "POST",
        "/api/v1/departments",
        facility_ok(department_row(), "Department created successfully"),
        _department,
        status=201,
        body={
            "facilityId": FACILITY_ID,
            "name": "Cardiology",
            "code": "CARD",
            "specialization": "cardiology",
            "floor": 2,
        },
        keyed=True,
    ),
    Case(
        "update_department",
        "update_department",
        (DEPARTMENT_ID, {"contact_phone": "+249 183 111 222"}),
        "PUT",
        f"/api/v1/departments/{DEPARTMENT_ID}",
        facility_ok(department_row(), "Department updated successfully"),
        _department,
        body={"contactPhone": "+249 183 111 222"},
    ),
    Case(
        "get_wards",
        "get_wards",
        (DEPARTMENT_ID,),
        "GET",
        f"/api/v1/departments/{DEPARTMENT_ID}/wards",
        facility_ok([ward_row()]),
        _wards,
    ),
    Case(
        "get_ward",
        "get_ward",
        (WARD_ID,),
        "GET",
        f"/api/v1/wards/{WARD_ID}",
        facility_ok(ward_row()),
        _ward,
    ),
    Case(
        "get_ward_beds",
        "get_ward_beds",
        (WARD_ID,),
        "GET",
        f"/api/v1/wards/{WARD_ID}/beds",
        facility_ok([bed_row()]),
        _beds,
    ),
    Case(
        "get_ward_occupancy_I16",
        "get_ward_occupancy",
        (WARD_ID,),
        "GET",
        f"/api/v1/wards/{WARD_ID}/occupancy",
        facility_ok(occupancy_row()),
        _occupancy,
    ),
    Case(
        "get_bed",
        "get_bed",
        (BED_ID,),
        "GET",
        f"/api/v1/beds/{BED_ID}",
        facility_ok(bed_row()),
        _bed(BedStatus.AVAILABLE),
    ),
    Case(
        "available_beds_minimal_I18",
        "get_available_beds",
        (FACILITY_ID,),
        "GET",
        "/api/v1/beds/available",
        facility_ok([bed_row()], count=1),
        _beds,
        query={"facilityId": FACILITY_ID},
    ),
    Case(
        "available_beds_filters_I18",
        "get_available_beds",
        (FACILITY_ID, "icu"),
        "GET",
        "/api/v1/beds/available",
        facility_ok([bed_row()], count=1),
        _beds,
        kwargs={"ward_id": WARD_ID, "has_oxygen": True, "has_ventilator": False},
        query={
            "facilityId": FACILITY_ID,
            "wardId": WARD_ID,
            "bedType": "icu",
            "hasOxygen": "true",
            "hasVentilator": "false",
        },
    ),
    Case(
        "update_bed_status_I17",
        "update_bed_status",
        (BED_ID, "cleaning"),
        "PUT",
        f"/api/v1/beds/{BED_ID}/status",
        facility_ok(bed_row(bedStatus="cleaning"), "Bed status updated"),
        _bed(BedStatus.CLEANING),
        body={"status": "cleaning"},
    ),
    Case(
        "update_bed_status_enum",
        "update_bed_status",
        (BED_ID, BedStatus.AVAILABLE),
        "PUT",
        f"/api/v1/beds/{BED_ID}/status",
        facility_ok(bed_row(), "Bed status updated"),
        _bed(BedStatus.AVAILABLE),
        body={"status": "available"},
    ),
    Case(
        "assign_bed_200_I11",
        "assign_bed",
        (BED_ID, {"patient_id": PATIENT_ID, "notes": "post-op"}),
        "POST",
        f"/api/v1/beds/{BED_ID}/assign",
        facility_ok(bed_row(bedStatus="occupied", patientId=PATIENT_ID), "Bed assigned"),
        _bed(BedStatus.OCCUPIED, PATIENT_ID),
        body={"patientId": PATIENT_ID, "notes": "post-op"},
    ),
    Case(
        "release_bed_no_reason",
        "release_bed",
        (BED_ID,),
        "POST",
        f"/api/v1/beds/{BED_ID}/release",
        facility_ok(bed_row(bedStatus="cleaning"), "Bed released"),
        _bed(BedStatus.CLEANING),
        body={},
    ),
    Case(
        "release_bed_reason",
        "release_bed",
        (BED_ID, "discharged"),
        "POST",
        f"/api/v1/beds/{BED_ID}/release",
        facility_ok(bed_row(bedStatus="cleaning"), "Bed released"),
        _bed(BedStatus.CLEANING),
        body={"releaseReason": "discharged"},
    ),
    Case(
        "bed_history_I16",
        "get_bed_history",
        (BED_ID,),
        "GET",
        f"/api/v1/beds/{BED_ID}/history",
        facility_ok([bed_history_row()]),
        _history,
    ),
    Case(
        "capacity_I16",
        "get_capacity",
        (FACILITY_ID,),
        "GET",
        F + "/capacity",
        facility_ok(capacity_row()),
        _capacity,
    ),
    Case(
        "analytics_default_period",
        "get_facility_analytics",
        (FACILITY_ID,),
        "GET",
        F + "/analytics",
        facility_ok(analytics_row()),
        _analytics("current"),
    ),
    Case(
        "analytics_period",
        "get_facility_analytics",
        (FACILITY_ID, "monthly"),
        "GET",
        F + "/analytics",
        facility_ok(analytics_row("monthly")),
        _analytics("monthly"),
        query={"period": "monthly"},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_each_method_sends_the_contract_request_and_returns_a_typed_value(
    facility: Any, router: respx.MockRouter, case: Case
) -> None:
    """Each method sends one request with the contract's method, path, query and camelCase body, and parses Facility's real success shape."""
    await run_case(facility, router, HOST, case)


def test_every_public_method_has_a_case() -> None:
    """The table covers every public Facility method; preload, invalidate, cache_stats and apply_event are proven in the caching tests."""
    from nilecare_clients import FacilityServiceClient

    covered = {c.method for c in CASES}
    assert public_methods(FacilityServiceClient) - covered == {
        "preload",
        "invalidate",
        "cache_stats",
        "apply_event",
    }

"""FakeFacilityService over both in-process mounts: hierarchy, beds, snake_case shapes, scoping."""

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
    FakeFacilityService,
    make_bed,
    make_department,
    make_facility,
    make_ward,
)

NOW = datetime(2025, 10, 16, 12, 0, tzinfo=timezone.utc)
OTHER_ORG = "5a1f0c7e-2b64-4d3a-8f19-0e6c2d9b7a41"
MISSING = "00000000-0000-4000-8000-000000000000"
PATIENT = "3f7c1a2b-9d4e-4b6a-8c2d-1e5f7a9b0c3d"


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
def fake() -> FakeFacilityService:
    return FakeFacilityService(clock=lambda: NOW)


@pytest.fixture(params=["sync", "async"])
async def api(request: pytest.FixtureRequest, fake: FakeFacilityService) -> AsyncIterator[Api]:
    if request.param == "sync":
        with httpx.Client(transport=fake.transport(), base_url="http://fake") as client:
            yield Api(client)
    else:
        async with httpx.AsyncClient(transport=fake.transport(), base_url="http://fake") as aclient:
            yield Api(aclient)


def fields(response: httpx.Response) -> dict[str, list[str]]:
    body = response.json()
    assert response.status_code == 400
    assert body["error"]["code"] == "VALIDATION_ERROR"
    return dict(body["error"]["details"]["fields"])


# -- facilities ---------------------------------------------------------------------------


async def test_create_then_read_back_facility(api: Api) -> None:
    """A created facility has an integer id, a UUID facilityId, and contact stored from contactInfo."""
    body = make_facility(seed=1, name="Khartoum Teaching Hospital", facility_code="KTH-001")
    del body["contact"]
    created = await api("POST", "/api/v1/facilities", json=body)
    assert created.status_code == 201
    assert created.json()["message"] == "Facility created successfully"
    facility = created.json()["data"]
    assert facility["id"] == 1
    assert facility["organizationId"] == DEFAULT_ORGANIZATION_ID
    assert facility["contact"] == body["contactInfo"]
    assert (facility["status"], facility["isActive"]) == ("active", True)
    read = await api("GET", f"/api/v1/facilities/{facility['facilityId']}")
    assert read.json() == {"success": True, "data": facility}
    assert (await api("GET", "/api/v1/facilities/1")).status_code == 400


async def test_facility_list_pages_at_top_level(api: Api, fake: FakeFacilityService) -> None:
    """Facility lists send data as an array with a top-level pagination block, default limit 50."""
    for _ in range(55):
        fake.create_facility()
    first = (await api("GET", "/api/v1/facilities")).json()
    assert set(first) == {"success", "data", "pagination"}
    assert first["pagination"] == {"page": 1, "limit": 50, "total": 55, "pages": 2}
    second = (await api("GET", "/api/v1/facilities", params={"page": 2})).json()
    ids = {f["facilityId"] for f in first["data"]} | {f["facilityId"] for f in second["data"]}
    assert len(ids) == 55
    names = [f["name"].lower() for f in first["data"]]
    assert names == sorted(names)


async def test_facility_search_and_filters(api: Api, fake: FakeFacilityService) -> None:
    """search matches name or facilityCode case-insensitively; type and city filter."""
    fake.create_facility(
        name="Omdurman Teaching Hospital",
        facility_code="OTH-001",
        type="hospital",
        address={**make_facility(seed=2)["address"], "city": "Omdurman"},
    )
    fake.create_facility(
        name="Bahri Family Clinic",
        facility_code="BFC-001",
        type="clinic",
        address={**make_facility(seed=2)["address"], "city": "Bahri"},
    )
    by_name = (await api("GET", "/api/v1/facilities", params={"search": "TEACHING"})).json()
    assert [f["facilityCode"] for f in by_name["data"]] == ["OTH-001"]
    by_code = (await api("GET", "/api/v1/facilities", params={"search": "bfc"})).json()
    assert [f["facilityCode"] for f in by_code["data"]] == ["BFC-001"]
    clinics = (await api("GET", "/api/v1/facilities", params={"type": "clinic"})).json()
    assert clinics["pagination"]["total"] == 1
    city = (await api("GET", "/api/v1/facilities", params={"city": "omdur"})).json()
    assert [f["facilityCode"] for f in city["data"]] == ["OTH-001"]
    assert (await api("GET", "/api/v1/facilities", params={"type": "spa"})).status_code == 400


async def test_facility_validation(api: Api) -> None:
    """Missing address parts, a bad email and a bad type are one 400 with dotted fields."""
    body = make_facility(seed=1, type="spa")
    del body["address"]["city"]
    body["contactInfo"]["email"] = "not-an-email"
    assert set(fields(await api("POST", "/api/v1/facilities", json=body))) == {
        "type",
        "address.city",
        "contactInfo.email",
    }


async def test_duplicate_facility_code_is_409(api: Api, fake: FakeFacilityService) -> None:
    """A facilityCode already used in the organisation is 409 DUPLICATE_ENTRY."""
    fake.create_facility(facility_code="KTH-001")
    response = await api(
        "POST", "/api/v1/facilities", json=make_facility(seed=3, facility_code="KTH-001")
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "DUPLICATE_ENTRY"


async def test_organisation_scoping(api: Api, fake: FakeFacilityService) -> None:
    """Another organisation's facility is 404 and unlisted, even when its organizationId is asked for (contract I29)."""
    theirs = fake.create_facility()
    fake.organization_id = OTHER_ORG
    mine = fake.create_facility()
    assert (await api("GET", f"/api/v1/facilities/{theirs['facilityId']}")).status_code == 404
    listed = (
        await api("GET", "/api/v1/facilities", params={"organizationId": DEFAULT_ORGANIZATION_ID})
    ).json()
    assert listed["data"] == []
    listed = (await api("GET", "/api/v1/facilities")).json()
    assert [f["facilityId"] for f in listed["data"]] == [mine["facilityId"]]


async def test_update_and_soft_delete(api: Api, fake: FakeFacilityService) -> None:
    """PUT updates with a message; DELETE is soft: later reads are 404 and lists skip it."""
    facility = fake.create_facility()
    path = f"/api/v1/facilities/{facility['facilityId']}"
    updated = await api(
        "PUT", path, json={"name": "Wad Madani General Hospital", "status": "maintenance"}
    )
    assert updated.json()["message"] == "Facility updated successfully"
    assert updated.json()["data"]["status"] == "maintenance"
    assert (await api("PUT", path, json={"status": "sleeping"})).status_code == 400
    deleted = await api("DELETE", path)
    assert deleted.json() == {"success": True, "message": "Facility deleted successfully"}
    assert (await api("GET", path)).status_code == 404
    assert (await api("GET", "/api/v1/facilities")).json()["data"] == []
    assert fake.records("facilities")[0]["isActive"] is False


# -- departments and wards ----------------------------------------------------------------


async def test_departments(api: Api, fake: FakeFacilityService) -> None:
    """Departments are created under a facility, sorted by name, and codes are unique per facility."""
    facility = fake.create_facility()
    fid = facility["facilityId"]
    for name, code in (("Paediatrics", "PAED"), ("Cardiology", "CARD")):
        created = await api(
            "POST",
            "/api/v1/departments",
            json=make_department(seed=1, facility_id=fid, name=name, code=code),
        )
        assert created.status_code == 201
        assert isinstance(created.json()["data"]["id"], int)
    duplicate = await api(
        "POST", "/api/v1/departments", json=make_department(seed=1, facility_id=fid, code="CARD")
    )
    assert duplicate.status_code == 409
    orphan = await api(
        "POST", "/api/v1/departments", json=make_department(seed=1, facility_id=MISSING)
    )
    assert orphan.status_code == 404
    of_facility = (await api("GET", f"/api/v1/facilities/{fid}/departments")).json()
    assert [d["name"] for d in of_facility["data"]] == ["Cardiology", "Paediatrics"]
    searched = (await api("GET", "/api/v1/departments", params={"search": "paed"})).json()
    assert [d["code"] for d in searched["data"]] == ["PAED"]
    dept = of_facility["data"][0]
    updated = await api(
        "PUT", f"/api/v1/departments/{dept['departmentId']}", json={"floor": 3, "code": "X"}
    )
    assert (updated.json()["data"]["floor"], updated.json()["data"]["code"]) == (3, "CARD")
    assert (
        await api("PUT", f"/api/v1/departments/{dept['departmentId']}", json={"specialization": ""})
    ).status_code == 400


async def test_wards_start_with_free_counters(api: Api, fake: FakeFacilityService) -> None:
    """A new ward is active with occupiedBeds 0 and availableBeds = totalBeds; wardCode is unique."""
    department = fake.create_department()
    body = make_ward(
        seed=1,
        facility_id=department["facilityId"],
        department_id=department["departmentId"],
        total_beds=12,
        ward_code="ICU-1",
    )
    ward = (await api("POST", "/api/v1/wards", json=body)).json()["data"]
    assert (ward["status"], ward["occupiedBeds"], ward["availableBeds"]) == ("active", 0, 12)
    assert (await api("POST", "/api/v1/wards", json=body)).status_code == 409
    bad = await api("POST", "/api/v1/wards", json={**body, "totalBeds": 0, "wardType": "spa"})
    assert set(fields(bad)) == {"totalBeds", "wardType"}
    listed = (await api("GET", f"/api/v1/departments/{department['departmentId']}/wards")).json()
    assert [w["wardId"] for w in listed["data"]] == [ward["wardId"]]


async def test_ward_filter_has_available_beds(api: Api, fake: FakeFacilityService) -> None:
    """hasAvailableBeds=true keeps wards whose live availableBeds is above zero."""
    ward = fake.create_ward(total_beds=1)
    bed = fake.create_bed(ward_id=ward["wardId"])
    fake.create_ward(facility_id=ward["facilityId"], department_id=ward["departmentId"])
    await api("POST", f"/api/v1/beds/{bed['bedId']}/assign", json={"patientId": PATIENT})
    free = (await api("GET", "/api/v1/wards", params={"hasAvailableBeds": "true"})).json()
    assert ward["wardId"] not in [w["wardId"] for w in free["data"]]
    assert free["pagination"]["total"] == 1
    assert (
        await api("GET", "/api/v1/wards", params={"hasAvailableBeds": "yes"})
    ).status_code == 400


async def test_ward_occupancy_is_snake_case(api: Api, fake: FakeFacilityService) -> None:
    """Ward occupancy uses snake_case keys and a two-decimal percentage string; unknown ward is 404 (contract I11, I16)."""
    hospital = fake.create_hospital(wards=1, beds_per_ward=4)
    ward = hospital["wards"][0]
    await api(
        "POST", f"/api/v1/beds/{hospital['beds'][0]['bedId']}/assign", json={"patientId": PATIENT}
    )
    data = (await api("GET", f"/api/v1/wards/{ward['wardId']}/occupancy")).json()["data"]
    assert data["ward_id"] == ward["wardId"]
    assert (data["total_beds"], data["occupied_beds"], data["available_beds"]) == (4, 1, 3)
    assert data["occupancy_rate"] == "25.00"
    assert (await api("GET", f"/api/v1/wards/{MISSING}/occupancy")).status_code == 404


# -- beds ---------------------------------------------------------------------------------


async def test_bed_create_rules(api: Api, fake: FakeFacilityService) -> None:
    """A bed starts available; an unknown ward is 404 and a repeated bedNumber in the ward is 409."""
    ward = fake.create_ward()
    body = make_bed(
        seed=1,
        facility_id=ward["facilityId"],
        department_id=ward["departmentId"],
        ward_id=ward["wardId"],
        bed_number="A-101",
    )
    created = await api("POST", "/api/v1/beds", json=body)
    assert created.status_code == 201
    assert created.json()["data"]["bedStatus"] == "available"
    assert (await api("POST", "/api/v1/beds", json=body)).status_code == 409
    assert (await api("POST", "/api/v1/beds", json={**body, "wardId": MISSING})).status_code == 404
    assert set(fields(await api("POST", "/api/v1/beds", json={**body, "bedType": "hammock"}))) == {
        "bedType"
    }


async def test_bed_lifecycle(api: Api, fake: FakeFacilityService) -> None:
    """Assign, a losing second assign, release to cleaning, then back to available (contract I19, I20)."""
    bed = fake.create_bed()
    path = f"/api/v1/beds/{bed['bedId']}"
    assigned = await api(
        "POST", f"{path}/assign", json={"patientId": PATIENT, "notes": "admitted from ER"}
    )
    assert assigned.status_code == 200
    assert (assigned.json()["data"]["bedStatus"], assigned.json()["data"]["patientId"]) == (
        "occupied",
        PATIENT,
    )
    again = await api("POST", f"{path}/assign", json={"patientId": PATIENT})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "CONFLICT"
    released = await api("POST", f"{path}/release", json={"releaseReason": "discharged"})
    assert released.json()["data"]["bedStatus"] == "cleaning"
    assert released.json()["data"]["patientId"] is None
    assert (await api("POST", f"{path}/release", json={})).status_code == 409
    assert (await api("POST", f"{path}/assign", json={"patientId": PATIENT})).status_code == 409
    ready = await api("PUT", f"{path}/status", json={"status": "available"})
    assert ready.json()["data"]["bedStatus"] == "available"
    assert (await api("POST", f"{path}/assign", json={"patientId": MISSING})).status_code == 200
    history = (await api("GET", f"{path}/history")).json()["data"]
    assert [h["patient_id"] for h in history] == [MISSING, PATIENT]
    assert history[0]["discharge_date"] is None
    assert history[1]["reason"] == "discharged"
    assert history[1]["discharge_date"] == "2025-10-16T12:00:00.000Z"


async def test_status_route_rules(api: Api, fake: FakeFacilityService) -> None:
    """The status route refuses occupied as a target and any change while occupied (contract I20)."""
    bed = fake.create_bed()
    path = f"/api/v1/beds/{bed['bedId']}"
    assert (await api("PUT", f"{path}/status", json={"status": "occupied"})).status_code == 409
    assert set(fields(await api("PUT", f"{path}/status", json={"status": "broken"}))) == {"status"}
    assert set(fields(await api("PUT", f"{path}/status", json={}))) == {"status"}
    await api("POST", f"{path}/assign", json={"patientId": PATIENT})
    blocked = await api("PUT", f"{path}/status", json={"status": "maintenance"})
    assert blocked.status_code == 409
    assert (
        await api("PUT", f"/api/v1/beds/{MISSING}/status", json={"status": "cleaning"})
    ).status_code == 404


async def test_ward_counters_follow_beds(api: Api, fake: FakeFacilityService) -> None:
    """Ward counters are recounted from the beds after create, assign and release."""
    hospital = fake.create_hospital(wards=1, beds_per_ward=3)
    ward_path = f"/api/v1/wards/{hospital['wards'][0]['wardId']}"
    assert hospital["wards"][0]["availableBeds"] == 3
    bed = hospital["beds"][0]["bedId"]
    await api("POST", f"/api/v1/beds/{bed}/assign", json={"patientId": PATIENT})
    ward = (await api("GET", ward_path)).json()["data"]
    assert (ward["occupiedBeds"], ward["availableBeds"]) == (1, 2)
    await api("POST", f"/api/v1/beds/{bed}/release", json={})
    ward = (await api("GET", ward_path)).json()["data"]
    assert (ward["occupiedBeds"], ward["availableBeds"]) == (0, 2)
    beds = (await api("GET", f"{ward_path}/beds")).json()["data"]
    assert [b["bedNumber"] for b in beds] == sorted(b["bedNumber"] for b in beds)


async def test_available_beds(api: Api, fake: FakeFacilityService) -> None:
    """/beds/available needs facilityId, answers {data, count}, and equipment flags filter only when given (contract I18)."""
    hospital = fake.create_hospital(wards=1, beds_per_ward=0)
    ward = hospital["wards"][0]
    common = {"ward_id": ward["wardId"]}
    with_oxygen = fake.create_bed(**common, has_oxygen=True)
    fake.create_bed(**common, has_oxygen=False)
    taken = fake.create_bed(**common, has_oxygen=True)
    await api("POST", f"/api/v1/beds/{taken['bedId']}/assign", json={"patientId": PATIENT})
    assert set(fields(await api("GET", "/api/v1/beds/available"))) == {"facilityId"}
    params = {"facilityId": ward["facilityId"]}
    everything = (await api("GET", "/api/v1/beds/available", params=params)).json()
    assert set(everything) == {"success", "data", "count"}
    assert everything["count"] == 2
    oxygen = (
        await api("GET", "/api/v1/beds/available", params={**params, "hasOxygen": "true"})
    ).json()
    assert [b["bedId"] for b in oxygen["data"]] == [with_oxygen["bedId"]]


async def test_bed_list_filters(api: Api, fake: FakeFacilityService) -> None:
    """GET /beds filters by ward, status and availability, sorted by bedNumber with top-level pagination."""
    hospital = fake.create_hospital(wards=2, beds_per_ward=3)
    first_ward = hospital["wards"][0]["wardId"]
    taken = hospital["beds"][0]["bedId"]
    await api("POST", f"/api/v1/beds/{taken}/assign", json={"patientId": PATIENT})
    by_ward = (await api("GET", "/api/v1/beds", params={"wardId": first_ward})).json()
    assert by_ward["pagination"]["total"] == 3
    occupied = (await api("GET", "/api/v1/beds", params={"bedStatus": "occupied"})).json()
    assert [b["bedId"] for b in occupied["data"]] == [taken]
    free = (await api("GET", "/api/v1/beds", params={"isAvailable": "true", "limit": 2})).json()
    assert free["pagination"] == {"page": 1, "limit": 2, "total": 5, "pages": 3}
    assert (await api("GET", "/api/v1/beds", params={"wardId": "ward-1"})).status_code == 400


async def test_bed_update_and_deactivate(api: Api, fake: FakeFacilityService) -> None:
    """PUT /beds/{id} updates fields; isActive false hides the bed (there is no bed DELETE)."""
    bed = fake.create_bed()
    path = f"/api/v1/beds/{bed['bedId']}"
    updated = await api("PUT", path, json={"notes": "new mattress", "hasMonitor": True})
    assert (updated.json()["data"]["notes"], updated.json()["data"]["hasMonitor"]) == (
        "new mattress",
        True,
    )
    await api("PUT", path, json={"isActive": False})
    assert (await api("GET", path)).status_code == 404


# -- capacity, analytics, settings, health ------------------------------------------------


async def test_capacity_and_analytics(api: Api, fake: FakeFacilityService) -> None:
    """Capacity and analytics send FacilityStats with counts as strings; period is echoed (contract I16)."""
    hospital = fake.create_hospital(wards=2, beds_per_ward=2)
    fid = hospital["facility"]["facilityId"]
    await api(
        "POST", f"/api/v1/beds/{hospital['beds'][0]['bedId']}/assign", json={"patientId": PATIENT}
    )
    capacity = (await api("GET", f"/api/v1/facilities/{fid}/capacity")).json()["data"]
    assert capacity["facilityId"] == capacity["facility_id"] == fid
    assert capacity["capacity"] == hospital["facility"]["capacity"]
    assert (capacity["department_count"], capacity["ward_count"]) == ("1", "2")
    assert (capacity["total_beds"], capacity["available_beds"], capacity["occupied_beds"]) == (
        "4",
        "3",
        "1",
    )
    analytics = (
        await api("GET", f"/api/v1/facilities/{fid}/analytics", params={"period": "weekly"})
    ).json()["data"]
    assert analytics["period"] == "weekly"
    default = (await api("GET", f"/api/v1/facilities/{fid}/analytics")).json()["data"]
    assert default["period"] == "current"
    assert (
        await api("GET", f"/api/v1/facilities/{fid}/analytics", params={"period": "hourly"})
    ).status_code == 400


async def test_settings_defaults_then_update(api: Api, fake: FakeFacilityService) -> None:
    """The first read creates default settings; PUT is partial and validated."""
    facility = fake.create_facility()
    path = f"/api/v1/settings/facility/{facility['facilityId']}"
    settings = (await api("GET", path)).json()["data"]
    assert (settings["timezone"], settings["currency"], settings["appointmentReminderHours"]) == (
        "Africa/Khartoum",
        "SDG",
        [24, 2],
    )
    updated = await api("PUT", path, json={"timeFormat": "12h", "allowWalkIns": False})
    assert updated.json()["message"] == "Facility settings updated successfully"
    assert (updated.json()["data"]["timeFormat"], updated.json()["data"]["allowWalkIns"]) == (
        "12h",
        False,
    )
    assert updated.json()["data"]["settingsId"] == settings["settingsId"]
    bad = await api("PUT", path, json={"timeFormat": "25h", "defaultAppointmentDuration": 1})
    assert set(fields(bad)) == {"timeFormat", "defaultAppointmentDuration"}


async def test_health_routes(api: Api, fake: FakeFacilityService) -> None:
    """/health, /health/ready and /ready answer Facility's shapes, and readiness can fail."""
    health = (await api("GET", "/health")).json()
    assert (health["status"], health["service"], health["version"]) == (
        "healthy",
        "facility-service",
        "1.0.0",
    )
    assert (await api("GET", "/health/ready")).json()["status"] == "ready"
    assert (await api("GET", "/ready")).json()["status"] == "ready"
    fake.ready = False
    not_ready = await api("GET", "/health/ready")
    assert (not_ready.status_code, not_ready.json()["status"]) == (503, "not_ready")


# -- direct helpers -----------------------------------------------------------------------


def test_seed_builds_a_hierarchy_with_pinned_ids() -> None:
    """seed() stores facilities, departments, wards and beds in order with pinned identifiers."""
    fake = FakeFacilityService()
    fid, did, wid = (
        "aaaaaaaa-0000-4000-8000-000000000001",
        "aaaaaaaa-0000-4000-8000-000000000002",
        "aaaaaaaa-0000-4000-8000-000000000003",
    )
    made = fake.seed(
        facilities=[{**make_facility(seed=1), "facilityId": fid}],
        departments=[{**make_department(seed=1, facility_id=fid), "departmentId": did}],
        wards=[{**make_ward(seed=1, facility_id=fid, department_id=did), "wardId": wid}],
        beds=[
            make_bed(
                seed=1, facility_id=fid, department_id=did, ward_id=wid, bed_status="maintenance"
            )
        ],
    )
    assert made["facilities"][0]["facilityId"] == fid
    assert made["wards"][0]["wardId"] == wid
    assert made["beds"][0]["bedStatus"] == "maintenance"
    fake.reset()
    assert fake.records("beds") == []


def test_create_hospital_helper() -> None:
    """create_hospital builds a facility, a department, wards and beds that reference each other."""
    fake = FakeFacilityService(seed=5)
    hospital = fake.create_hospital(wards=3, beds_per_ward=2, name="Wad Madani Teaching Hospital")
    assert hospital["facility"]["type"] == "hospital"
    assert hospital["facility"]["name"] == "Wad Madani Teaching Hospital"
    assert len(hospital["beds"]) == 6
    assert {b["wardId"] for b in hospital["beds"]} == {w["wardId"] for w in hospital["wards"]}
    assert all(b["facilityId"] == hospital["facility"]["facilityId"] for b in hospital["beds"])


def test_ids_differ_between_services() -> None:
    """The Clinical and Facility fakes with the same seed never hand out the same ids."""
    patient = FakeClinicalService(seed=0).create_patient()
    facility = FakeFacilityService(seed=0).create_facility()
    assert patient["id"] != facility["facilityId"]
    assert FakeFacilityService(seed=0).create_facility()["facilityId"] == facility["facilityId"]

"""Every Facility typed method against the real Facility service, sync and async.

Besides the value or error of each call, these tests watch the reference-data cache: a failed
call leaves no entry (``Compat.check`` asserts it), a 403 (contract I21) is never remembered nor served
stale, and 403s never open the breaker.
"""

from __future__ import annotations

import uuid
from typing import Any

from compat._real import Compat
from nilecare_clients import (
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
)
from nilecare_clients.models.common import Page
from nilecare_clients.models.facility import (
    Bed,
    BedStatus,
    Department,
    Facility,
    FacilitySettings,
    Ward,
    WardOccupancy,
)

ORG = "550e8400-e29b-41d4-a716-446655440001"
F1 = "550e8400-e29b-41d4-a716-446655440000"
F2 = "550e8400-e29b-41d4-a716-446655440100"
D_ICU = "550e8400-e29b-41d4-a716-446655440011"
W_ICU = "550e8400-e29b-41d4-a716-446655440021"
BED_STATUS = "66666666-6666-4666-8666-000000000004"  # status flips, as smoke.sh does
BED_ASSIGN = "66666666-6666-4666-8666-000000000001"  # assign / release cycle
P4 = "11111111-1111-4111-8111-000000000004"
NOPE = "00000000-0000-4000-8000-000000000000"

ACCESS_CHECK = (
    "`validateFacilityAccess` reads `user.facilityId`/`isSuperAdmin`/..., which the auth "
    "middleware never sets: pass them through (or scope by organisation)"
)
WORKS = "Works"


async def test_list_facilities(compat: Compat) -> None:
    """Both seeded facilities as Facility rows (UUID facility_id, integer row_id); the second
    identical call is answered from the cache."""
    client = compat.facility()
    kw: dict[str, Any] = {
        "route": "GET /api/v1/facilities",
        "ref": "contract I3, I4, I29",
        "upstream": WORKS,
    }
    page = await compat.check(
        client, "list_facilities", lambda c: c.list_facilities(), returns=Page, requests=1, **kw
    )
    by_id = {f.facility_id: f for f in page.items}
    assert {F1, F2} <= set(by_id)
    assert all(isinstance(f, Facility) and f.organization_id == ORG for f in page.items)
    assert by_id[F1].facility_code == "KTH-001" and isinstance(by_id[F1].row_id, int)
    await compat.check(
        client,
        "list_facilities",
        lambda c: c.list_facilities(),
        returns=Page,
        requests=0,
        label="same query again",
        **kw,
    )
    found = await compat.check(
        client,
        "list_facilities",
        lambda c: c.list_facilities(search="Omdurman"),
        returns=Page,
        requests=1,
        label="search=Omdurman",
        **kw,
    )
    assert [f.facility_id for f in found.items] == [F2]


async def test_facility_by_id_is_forbidden_and_never_cached(compat: Compat) -> None:
    """GET /facilities/{id} answers 403 to every caller (contract I21): PermissionDeniedError each time,
    one request each (never remembered), and six in a row leave the breaker closed."""
    client = compat.facility()
    kw: dict[str, Any] = {
        "route": "GET /api/v1/facilities/{id}",
        "ref": "contract I21",
        "upstream": ACCESS_CHECK,
    }
    for method in ("get_facility", "lookup_facility", "get_facility", "lookup_facility"):
        await compat.check(
            client,
            method,
            lambda c, m=method: getattr(c, m)(F1),
            raises=PermissionDeniedError,
            requests=1,
            **kw,
        )
    await compat.check(
        client,
        "facility_exists",
        lambda c: c.facility_exists(F1),
        raises=PermissionDeniedError,
        requests=1,
        **kw,
    )
    await compat.check(
        client,
        "preload",
        lambda c: c.preload([F1]),
        raises=PermissionDeniedError,
        requests=1,
        **kw,
    )
    stats = client.cache_stats()
    assert (stats.size, stats.stale_serves, stats.negative_hits) == (0, 0, 0)
    assert client.breaker_state == "closed"


async def test_unknown_facility_is_not_found(compat: Compat) -> None:
    """An unknown id answers 404: NotFoundError / False, remembered briefly (negative cache)."""
    client = compat.facility()
    kw: dict[str, Any] = {
        "route": "GET /api/v1/facilities/{id}",
        "ref": "contract I21",
        "upstream": ACCESS_CHECK,
    }
    await compat.check(
        client,
        "get_facility",
        lambda c: c.get_facility(NOPE),
        raises=NotFoundError,
        requests=1,
        label="unknown id",
        **kw,
    )
    exists = await compat.check(
        client,
        "facility_exists",
        lambda c: c.facility_exists(NOPE),
        returns=bool,
        requests=0,
        label="unknown id (404 remembered)",
        **kw,
    )
    assert exists is False
    await compat.check(
        client,
        "preload",
        lambda c: c.preload([NOPE]),
        returns=type(None),
        requests=0,
        label="unknown id",
        **kw,
    )


async def test_facility_subresources_are_forbidden(compat: Compat) -> None:
    """Departments, capacity and analytics of a facility answer 403 (contract I21), never cached."""
    client = compat.facility()
    for method, route, call in (
        (
            "get_departments",
            "GET /api/v1/facilities/{id}/departments",
            lambda c: c.get_departments(F1),
        ),
        ("get_capacity", "GET /api/v1/facilities/{id}/capacity", lambda c: c.get_capacity(F1)),
        (
            "get_facility_analytics",
            "GET /api/v1/facilities/{id}/analytics",
            lambda c: c.get_facility_analytics(F1, "monthly"),
        ),
    ):
        await compat.check(
            client,
            method,
            call,
            raises=PermissionDeniedError,
            requests=1,
            route=route,
            ref="contract I16, I21",
            upstream=ACCESS_CHECK,
        )
    assert client.cache_stats().size == 0 and client.breaker_state == "closed"


async def test_create_update_delete_facility(compat: Compat) -> None:
    """Create works (contact sent twice, contract I5); update and delete by id answer 403 (contract I21)."""
    client = compat.facility()
    body = {
        "organization_id": ORG,
        "facility_code": f"CMP-{uuid.uuid4().hex[:8]}",
        "name": "Compat Probe Clinic",
        "type": "clinic",
        "address": {
            "street": "1 Probe St",
            "city": "Khartoum",
            "state": "Khartoum",
            "zip_code": "11111",
            "country": "Sudan",
        },
        "contact": {"phone": "+249123456789", "email": "probe@example.sd"},
    }
    created = await compat.check(
        client,
        "create_facility",
        lambda c: c.create_facility(body),
        returns=Facility,
        requests=1,
        route="POST /api/v1/facilities",
        ref="contract I3, I5, I26",
        upstream="Works; validate `contact` (not `contactInfo`) and `organizationId`/"
        "`facilityCode`; honour `Idempotency-Key`",
    )
    assert created.facility_code == body["facility_code"] and created.organization_id == ORG
    await compat.check(
        client,
        "update_facility",
        lambda c: c.update_facility(created.facility_id, {"name": "Compat Probe Clinic 2"}),
        raises=PermissionDeniedError,
        requests=1,
        route="PUT /api/v1/facilities/{id}",
        ref="contract I21",
        upstream=ACCESS_CHECK,
    )
    await compat.check(
        client,
        "delete_facility",
        lambda c: c.delete_facility(created.facility_id),
        raises=PermissionDeniedError,
        requests=1,
        route="DELETE /api/v1/facilities/{id}",
        ref="contract I21, I22",
        upstream=ACCESS_CHECK,
    )


async def test_facility_settings(compat: Compat) -> None:
    """Settings are read (then cached) and updated; the update drops the cached copy."""
    client = compat.facility()
    kw: dict[str, Any] = {
        "route": "GET /api/v1/settings/facility/{id}",
        "ref": "contract §3.6",
        "upstream": WORKS,
    }
    settings = await compat.check(
        client,
        "get_facility_settings",
        lambda c: c.get_facility_settings(F1),
        returns=FacilitySettings,
        requests=1,
        **kw,
    )
    assert settings.facility_id == F1
    await compat.check(
        client,
        "get_facility_settings",
        lambda c: c.get_facility_settings(F1),
        returns=FacilitySettings,
        requests=0,
        label="again (cached)",
        **kw,
    )
    updated = await compat.check(
        client,
        "update_facility_settings",
        lambda c: c.update_facility_settings(F1, {"language": "en", "currency": "SDG"}),
        returns=FacilitySettings,
        requests=1,
        route="PUT /api/v1/settings/facility/{id}",
        ref="contract §3.6",
        upstream=WORKS,
    )
    assert (updated.facility_id, updated.language) == (F1, "en")
    await compat.check(
        client,
        "get_facility_settings",
        lambda c: c.get_facility_settings(F1),
        returns=FacilitySettings,
        requests=1,
        label="after the update",
        **kw,
    )


async def test_departments(compat: Compat) -> None:
    """A department by id (cached 10 min), created and updated; writes drop cached departments."""
    client = compat.facility()
    kw: dict[str, Any] = {
        "route": "GET /api/v1/departments/{id}",
        "ref": "contract I3",
        "upstream": WORKS,
    }
    department = await compat.check(
        client,
        "get_department",
        lambda c: c.get_department(D_ICU),
        returns=Department,
        requests=1,
        **kw,
    )
    assert (department.department_id, department.facility_id, department.code) == (
        D_ICU,
        F1,
        "ICU",
    )
    await compat.check(
        client,
        "get_department",
        lambda c: c.get_department(D_ICU),
        returns=Department,
        requests=0,
        label="again (cached)",
        **kw,
    )
    created = await compat.check(
        client,
        "create_department",
        lambda c: c.create_department(
            {
                "facility_id": F1,
                "name": "Compat Probe Unit",
                "code": f"CP{uuid.uuid4().hex[:6].upper()}",
                "specialization": "General Medicine",
            }
        ),
        returns=Department,
        requests=1,
        route="POST /api/v1/departments",
        ref="contract I3, I26",
        upstream="Works; honour `Idempotency-Key`",
    )
    assert created.facility_id == F1
    updated = await compat.check(
        client,
        "update_department",
        lambda c: c.update_department(D_ICU, {"floor": 2}),
        returns=Department,
        requests=1,
        route="PUT /api/v1/departments/{id}",
        ref="contract I3",
        upstream=WORKS,
    )
    assert (updated.department_id, updated.floor) == (D_ICU, 2)
    await compat.check(
        client,
        "get_department",
        lambda c: c.get_department(D_ICU),
        returns=Department,
        requests=1,
        label="after a department write",
        **kw,
    )


async def test_wards(compat: Compat) -> None:
    """Wards, a ward, its beds and its occupancy (snake_case row normalised, contract I16); never cached."""
    client = compat.facility()
    wards = await compat.check(
        client,
        "get_wards",
        lambda c: c.get_wards(D_ICU),
        returns=list,
        requests=1,
        route="GET /api/v1/departments/{id}/wards",
        ref="contract I3",
        upstream=WORKS,
    )
    assert W_ICU in {w.ward_id for w in wards} and all(isinstance(w, Ward) for w in wards)
    ward = await compat.check(
        client,
        "get_ward",
        lambda c: c.get_ward(W_ICU),
        returns=Ward,
        requests=1,
        route="GET /api/v1/wards/{id}",
        ref="contract I3",
        upstream=WORKS,
    )
    assert (ward.ward_id, ward.department_id, ward.total_beds) == (W_ICU, D_ICU, 4)
    beds = await compat.check(
        client,
        "get_ward_beds",
        lambda c: c.get_ward_beds(W_ICU),
        returns=list,
        requests=1,
        route="GET /api/v1/wards/{id}/beds",
        ref="contract I17, I18",
        upstream=WORKS,
    )
    assert len(beds) == 4 and {b.ward_id for b in beds} == {W_ICU}
    assert all(isinstance(b, Bed) for b in beds)
    occupancy = await compat.check(
        client,
        "get_ward_occupancy",
        lambda c: c.get_ward_occupancy(W_ICU),
        returns=WardOccupancy,
        requests=1,
        route="GET /api/v1/wards/{id}/occupancy",
        ref="contract I11, I16",
        upstream="Return camelCase keys and numbers (`occupancy_rate` is a string); 404 for an "
        "unknown ward",
    )
    assert occupancy.ward_id == W_ICU and occupancy.total_beds == 4
    assert isinstance(occupancy.occupancy_rate, float)
    assert compat.wire(client).entries and client.cache_stats().size == 0


async def test_beds(compat: Compat) -> None:
    """A bed by id, status flips (read back stale: contract I19), and /beds/available, which
    answers 400 (contract I18)."""
    client = compat.facility()
    bed = await compat.check(
        client,
        "get_bed",
        lambda c: c.get_bed(BED_STATUS),
        returns=Bed,
        requests=1,
        route="GET /api/v1/beds/{id}",
        ref="contract I3, I17, I19",
        upstream="Works, but the copy may be 60 s old: invalidate `bed:{id}` on bed writes",
    )
    assert (bed.bed_id, bed.ward_id, bed.bed_number) == (BED_STATUS, W_ICU, "ICU-04")
    kw: dict[str, Any] = {
        "route": "PUT /api/v1/beds/{id}/status",
        "ref": "contract I17, I20",
        "upstream": WORKS,
    }
    for target in (BedStatus.CLEANING, BedStatus.AVAILABLE):
        changed = await compat.check(
            client,
            "update_bed_status",
            lambda c, t=target: c.update_bed_status(BED_STATUS, t),
            returns=Bed,
            requests=1,
            label=f"-> {target.value}",
            **kw,
        )
        assert (changed.bed_id, changed.bed_status) == (BED_STATUS, target)
        if target is BedStatus.CLEANING:
            # The service reads beds by id through a 60 s copy that writes never drop
            # (contract I19): the bed read back still shows the status it had when copied.
            stale = await compat.check(
                client,
                "get_bed",
                lambda c: c.get_bed(BED_STATUS),
                returns=Bed,
                requests=1,
                label="right after a status write",
                route="GET /api/v1/beds/{id}",
                ref="contract I3, I17, I19",
                upstream="Works, but the copy may be 60 s old: invalidate `bed:{id}` on bed writes",
            )
            assert stale.bed_status == BedStatus.AVAILABLE != changed.bed_status
    await compat.check(
        client,
        "get_available_beds",
        lambda c: c.get_available_beds(F1),
        raises=BadRequestError,
        requests=1,
        route="GET /api/v1/beds/available",
        ref="contract I18",
        upstream="Declare `/beds/available` before `/beds/:id`; treat absent equipment flags "
        "as no filter",
    )


async def test_assign_and_release(compat: Compat) -> None:
    """assign_bed returns the occupied Bed; release_bed right after meets the service's stale
    by-id cache (contract I19) and raises ConflictError; history lists the assignment."""
    client = compat.facility()
    # Setup (not recorded): make sure the bed is available in the database.
    await compat.check(
        client,
        "update_bed_status",
        lambda c: c.update_bed_status(BED_ASSIGN, "available"),
        returns=Bed,
        requests=1,
        route="",
        ref="",
        upstream="",
        record=False,
    )
    assigned = await compat.check(
        client,
        "assign_bed",
        lambda c: c.assign_bed(BED_ASSIGN, {"patient_id": P4, "notes": "compat"}),
        returns=Bed,
        requests=1,
        route="POST /api/v1/beds/{id}/assign",
        ref="contract I11, I19",
        upstream="Works (200, not 201); no `Idempotency-Key`, so never retried by the library",
    )
    assert (assigned.bed_id, assigned.bed_status, assigned.patient_id) == (
        BED_ASSIGN,
        BedStatus.OCCUPIED,
        P4,
    )
    released = await compat.check(
        client,
        "release_bed",
        lambda c: c.release_bed(BED_ASSIGN, "compat run"),
        raises=ConflictError,
        requests=1,
        route="POST /api/v1/beds/{id}/release",
        ref="contract I19",
        upstream="Reads `bed:{id}` from Redis (60 s, never invalidated) and says "
        "'not occupied' for a bed assigned a moment ago: read the row, invalidate on writes",
    )
    assert released.status_code == 409
    history = await compat.check(
        client,
        "get_bed_history",
        lambda c: c.get_bed_history(BED_ASSIGN),
        returns=list,
        requests=1,
        route="GET /api/v1/beds/{id}/history",
        ref="contract I16",
        upstream="Return camelCase keys and numbers",
    )
    assert history and {h.bed_id for h in history} == {BED_ASSIGN}
    assert P4 in {h.patient_id for h in history}
    # Teardown (not recorded): the bed back to available (contract I20 leaves the patient attached).
    await compat.check(
        client,
        "update_bed_status",
        lambda c: c.update_bed_status(BED_ASSIGN, "available"),
        returns=Bed,
        requests=1,
        route="",
        ref="",
        upstream="",
        record=False,
    )


async def test_health_check(compat: Compat) -> None:
    """GET /health answers 200: healthy, one request."""
    status = await compat.check(
        compat.facility(),
        "health_check",
        lambda c: c.health_check(),
        returns=object,
        requests=1,
        route="GET /health",
        ref="contract I23",
        upstream=WORKS,
    )
    assert status.ok and status.status_code == 200

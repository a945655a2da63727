"""How both typed clients fail: statuses to exceptions, exists-checks, input refused before I/O.

Every test runs for the sync and the async twin (``client_kind``).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx
from client_payloads import (
    BED_ID,
    CLINICAL_URL,
    DEPARTMENT_ID,
    DIAGNOSTIC_ID,
    ENCOUNTER_ID,
    FACILITY_ID,
    FACILITY_URL,
    MEDICATION_ID,
    PATIENT_ID,
    WARD_ID,
    clinical_error,
    clinical_ok,
    facility_create,
    facility_error,
    facility_ok,
    facility_row,
    medication_create,
    patient_create,
    patient_row,
)

from nilecare_clients import (
    BadRequestError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    PrescriptionBlocked,
    PrescriptionOverrideRequired,
    ServerError,
    ServiceTimeoutError,
    ServiceUnavailableError,
    ServiceUnreachableError,
)
from support import call

CLINICAL_HOST = CLINICAL_URL.removeprefix("http://")
FACILITY_HOST = FACILITY_URL.removeprefix("http://")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get_patient", f"/api/v1/patients/{PATIENT_ID}"),
        ("get_encounter", f"/api/v1/encounters/{ENCOUNTER_ID}"),
        ("get_medication", f"/api/v1/medications/{MEDICATION_ID}"),
        ("get_diagnostic", f"/api/v1/diagnostics/{DIAGNOSTIC_ID}"),
    ],
)
async def test_clinical_404_and_data_null_raise_not_found(
    clinical: Any, router: respx.MockRouter, method: str, path: str
) -> None:
    """A Clinical 404, and a get-by-id answered 200 with data: null (contract I11), raise NotFoundError."""
    ident = path.rsplit("/", 1)[1]
    route = router.get(host=CLINICAL_HOST, path=path)
    route.respond(404, json=clinical_error(404, "NOT_FOUND", "Resource not found", id=ident))
    with pytest.raises(NotFoundError) as info:
        await call(getattr(clinical, method)(ident))
    assert info.value.status_code == 404 and info.value.error_code == "NOT_FOUND"
    route.respond(200, json=clinical_ok(None))
    with pytest.raises(NotFoundError):
        await call(getattr(clinical, method)(ident))
    assert route.call_count == 2  # a 404 is never retried


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get_facility", f"/api/v1/facilities/{FACILITY_ID}"),
        ("get_department", f"/api/v1/departments/{DEPARTMENT_ID}"),
        ("get_ward", f"/api/v1/wards/{WARD_ID}"),
        ("get_ward_occupancy", f"/api/v1/wards/{WARD_ID}/occupancy"),
        ("get_bed", f"/api/v1/beds/{BED_ID}"),
        ("get_facility_settings", f"/api/v1/settings/facility/{FACILITY_ID}"),
    ],
)
async def test_facility_404_and_data_null_raise_not_found(
    make_facility: Any, router: respx.MockRouter, method: str, path: str
) -> None:
    """A Facility 404 (numeric error.code, contract I10), and 200 with data: null (contract I11), raise NotFoundError."""
    facility = make_facility(cache=False)
    ident = path.split("/")[4] if "settings" not in path else FACILITY_ID
    route = router.get(host=FACILITY_HOST, path=path)
    route.respond(404, json=facility_error(404, "Not found"))
    with pytest.raises(NotFoundError) as info:
        await call(getattr(facility, method)(ident))
    assert info.value.error_code is None  # Facility's numeric code is not kept (contract I10)
    route.respond(200, json=facility_ok(None))
    with pytest.raises(NotFoundError):
        await call(getattr(facility, method)(ident))


async def test_facility_403_raises_permission_denied(
    facility: Any, router: respx.MockRouter
) -> None:
    """The facility access check's 403 (contract I21) raises PermissionDeniedError, never a value."""
    router.get(host=FACILITY_HOST, path=f"/api/v1/facilities/{FACILITY_ID}").respond(
        403, json={"success": False, "error": {"code": "FORBIDDEN", "message": "Access denied"}}
    )
    with pytest.raises(PermissionDeniedError):
        await call(facility.get_facility(FACILITY_ID))


# --- exists checks (contract I21) ------------------------------------------------------------------------

FAILURES = [
    pytest.param({"status_code": 500}, ServerError, id="500"),
    pytest.param({"status_code": 503}, ServiceUnavailableError, id="503"),
    pytest.param({"status_code": 403}, PermissionDeniedError, id="403"),
    pytest.param(
        {"side_effect": httpx.ReadTimeout("read timed out")}, ServiceTimeoutError, id="timeout"
    ),
    pytest.param(
        {"side_effect": httpx.ConnectError("refused")}, ServiceUnreachableError, id="unreachable"
    ),
]


def _respond(route: respx.Route, how: dict[str, Any], body: Any) -> None:
    if "side_effect" in how:
        route.side_effect = how["side_effect"]
    else:
        route.respond(how["status_code"], json=body)


async def test_patient_exists_is_true_or_false_only_for_found_or_404(
    clinical: Any, router: respx.MockRouter
) -> None:
    """patient_exists answers True for a found patient and False only for a 404."""
    route = router.get(host=CLINICAL_HOST, path=f"/api/v1/patients/{PATIENT_ID}")
    route.respond(200, json=clinical_ok(patient_row()))
    assert await call(clinical.patient_exists(PATIENT_ID)) is True
    route.respond(404, json=clinical_error(404, "NOT_FOUND", "Patient not found"))
    assert await call(clinical.patient_exists(PATIENT_ID)) is False
    route.respond(200, json=clinical_ok(None))  # contract I11: 200 with data null is "not found"
    assert await call(clinical.patient_exists(PATIENT_ID)) is False


@pytest.mark.parametrize(("how", "error"), FAILURES)
async def test_patient_exists_raises_on_any_other_failure(
    clinical: Any, router: respx.MockRouter, how: dict[str, Any], error: type[Exception]
) -> None:
    """patient_exists raises on 500, 503, 403, a timeout or an unreachable service: never False (contract I21)."""
    route = router.get(host=CLINICAL_HOST, path=f"/api/v1/patients/{PATIENT_ID}")
    _respond(route, how, clinical_error(how.get("status_code", 500), "INTERNAL_ERROR", "boom"))
    with pytest.raises(error):
        await call(clinical.patient_exists(PATIENT_ID))


async def test_facility_exists_is_true_or_false_only_for_found_or_404(
    make_facility: Any, router: respx.MockRouter
) -> None:
    """facility_exists answers True for a found facility and False only for a 404."""
    facility = make_facility(cache=False)
    route = router.get(host=FACILITY_HOST, path=f"/api/v1/facilities/{FACILITY_ID}")
    route.respond(200, json=facility_ok(facility_row()))
    assert await call(facility.facility_exists(FACILITY_ID)) is True
    route.respond(404, json=facility_error(404, "Facility not found"))
    assert await call(facility.facility_exists(FACILITY_ID)) is False


@pytest.mark.parametrize("cached", [True, False], ids=["cache", "no-cache"])
@pytest.mark.parametrize(("how", "error"), FAILURES)
async def test_facility_exists_raises_on_any_other_failure(
    make_facility: Any,
    router: respx.MockRouter,
    how: dict[str, Any],
    error: type[Exception],
    cached: bool,
) -> None:
    """facility_exists raises on 500, 503, 403, a timeout or an unreachable service, cache or not (contract I21)."""
    facility = make_facility(cache=cached)
    route = router.get(host=FACILITY_HOST, path=f"/api/v1/facilities/{FACILITY_ID}")
    _respond(route, how, facility_error(how.get("status_code", 500), "boom"))
    with pytest.raises(error):
        await call(facility.facility_exists(FACILITY_ID))


# --- input refused before any I/O ---------------------------------------------------------------

BAD_IDS = ["123", "../admin", "3f2b8c1e9d4a4e6b8f0a1c2d3e4f5a6b", f"{PATIENT_ID}\n", "", 42, None]

CLINICAL_ID_CALLS = [
    ("get_patient", lambda bad: ((bad,), {})),
    ("patient_exists", lambda bad: ((bad,), {})),
    ("update_patient", lambda bad: ((bad, {"first_name": "Amna"}), {})),
    ("delete_patient", lambda bad: ((bad,), {})),
    ("get_patient_encounters", lambda bad: ((bad,), {})),
    ("get_encounter", lambda bad: ((bad,), {})),
    ("update_encounter", lambda bad: ((bad, {}), {})),
    ("complete_encounter", lambda bad: ((bad,), {})),
    ("list_encounters", lambda bad: ((), {"patient_id": bad or "x"})),
    ("list_encounters", lambda bad: ((), {"provider_id": bad or "x"})),
    ("get_medication", lambda bad: ((bad,), {})),
    ("list_medications", lambda bad: ((), {"patient_id": bad or "x"})),
    ("update_medication", lambda bad: ((bad, medication_create()), {})),
    ("discontinue_medication", lambda bad: ((bad,), {})),
    ("get_diagnostic", lambda bad: ((bad,), {})),
    ("list_diagnostics", lambda bad: ((), {"patient_id": bad or "x"})),
    ("update_diagnostic", lambda bad: ((bad, {}), {})),
    ("add_diagnostic_results", lambda bad: ((bad, {}), {})),
]

FACILITY_ID_CALLS = [
    ("get_facility", lambda bad: ((bad,), {})),
    ("lookup_facility", lambda bad: ((bad,), {})),
    ("facility_exists", lambda bad: ((bad,), {})),
    ("list_facilities", lambda bad: ((), {"organization_id": bad or "x"})),
    ("update_facility", lambda bad: ((bad, {"name": "KTH"}), {})),
    ("delete_facility", lambda bad: ((bad,), {})),
    ("get_facility_settings", lambda bad: ((bad,), {})),
    ("update_facility_settings", lambda bad: ((bad, {}), {})),
    ("get_departments", lambda bad: ((bad,), {})),
    ("get_department", lambda bad: ((bad,), {})),
    ("update_department", lambda bad: ((bad, {}), {})),
    ("get_wards", lambda bad: ((bad,), {})),
    ("get_ward", lambda bad: ((bad,), {})),
    ("get_ward_beds", lambda bad: ((bad,), {})),
    ("get_ward_occupancy", lambda bad: ((bad,), {})),
    ("get_bed", lambda bad: ((bad,), {})),
    ("get_available_beds", lambda bad: ((bad,), {})),
    ("get_available_beds", lambda bad: ((FACILITY_ID,), {"ward_id": bad or "x"})),
    ("update_bed_status", lambda bad: ((bad, "cleaning"), {})),
    ("assign_bed", lambda bad: ((bad, {"patient_id": PATIENT_ID}), {})),
    ("assign_bed", lambda bad: ((BED_ID, {"patient_id": bad}), {})),
    ("release_bed", lambda bad: ((bad,), {})),
    ("get_bed_history", lambda bad: ((bad,), {})),
    ("get_capacity", lambda bad: ((bad,), {})),
    ("get_facility_analytics", lambda bad: ((bad,), {})),
    ("invalidate", lambda bad: ((bad or "x",), {})),
]


async def _refused(
    client: Any, router: respx.MockRouter, method: str, args: Any, kwargs: Any
) -> str:
    anything = router.route()
    with pytest.raises(InvalidRequestError) as info:
        await call(getattr(client, method)(*args, **kwargs))
    assert not anything.called
    return str(info.value)


@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
@pytest.mark.parametrize(
    ("method", "build"), CLINICAL_ID_CALLS, ids=[c[0] for c in CLINICAL_ID_CALLS]
)
async def test_clinical_refuses_non_uuid_ids_before_any_io(
    clinical: Any, router: respx.MockRouter, method: str, build: Any, bad: Any
) -> None:
    """A path or filter id that is not a UUID raises InvalidRequestError, sends nothing and is not echoed (contract I3)."""
    args, kwargs = build(bad)
    message = await _refused(clinical, router, method, args, kwargs)
    if isinstance(bad, str) and bad:
        assert bad.strip() not in message
    for name in kwargs:
        assert name in message  # the caller's own argument name, not the wire name


@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
@pytest.mark.parametrize(
    ("method", "build"), FACILITY_ID_CALLS, ids=[c[0] for c in FACILITY_ID_CALLS]
)
async def test_facility_refuses_non_uuid_ids_before_any_io(
    facility: Any, router: respx.MockRouter, method: str, build: Any, bad: Any
) -> None:
    """A path, filter or body id that is not a UUID raises InvalidRequestError and sends nothing (contract I3)."""
    args, kwargs = build(bad)
    message = await _refused(facility, router, method, args, kwargs)
    if isinstance(bad, str) and bad:
        assert bad.strip() not in message


@pytest.mark.parametrize(
    ("method", "args", "fields", "values"),
    [
        pytest.param(
            "create_patient",
            ({"first_name": "Amna", "phone_number": "+249 912 345 678"},),
            ("last_name", "date_of_birth", "gender"),
            ("Amna", "912"),
            id="patient-missing",
        ),
        pytest.param(
            "create_patient",
            ({**patient_create(), "phone_number": "call Amna on 0912"},),
            ("phone_number",),
            ("Amna", "0912"),
            id="patient-bad-phone",
        ),
        pytest.param(
            "create_patient",
            ({**patient_create(), "nationalId": "SD-1987-000123"},),
            ("nationalId",),
            ("SD-1987",),
            id="patient-unknown-key",
        ),
        pytest.param(
            "update_patient",
            (PATIENT_ID, {"date_of_birth": "2999-01-01"}),
            ("date_of_birth",),
            ("2999",),
            id="patient-future-birth",
        ),
        pytest.param(
            "create_encounter",
            ({"patient_id": PATIENT_ID, "chief_complaint": "Night sweats"},),
            ("provider_id", "encounter_type", "start_date"),
            ("Night sweats",),
            id="encounter-missing",
        ),
        pytest.param(
            "prescribe_medication",
            ({**medication_create(), "route": "rectal"},),
            ("route",),
            ("rectal",),
            id="medication-bad-route",
        ),
        pytest.param(
            "create_patient",
            ({**patient_create(), "address": {"street": "Street 15, Al-Amarat"}},),
            ("address.city", "address.zip_code", "address.country"),
            ("Al-Amarat",),
            id="patient-nested-address",
        ),
        pytest.param(
            "create_patient",
            ({**patient_create(), "emergencyContact": {"name": "Osman"}},),
            ("emergency_contact.relationship", "emergency_contact.phone_number"),
            ("Osman",),
            id="patient-nested-by-alias",
        ),
        pytest.param("create_patient", ("Amna Elhassan",), (), ("Amna",), id="not-a-mapping"),
    ],
)
async def test_clinical_bad_bodies_name_fields_not_values(
    clinical: Any,
    router: respx.MockRouter,
    method: str,
    args: tuple[Any, ...],
    fields: tuple[str, ...],
    values: tuple[str, ...],
) -> None:
    """A body that breaks the contract's rules raises InvalidRequestError naming the fields, never their values, before any I/O."""
    message = await _refused(clinical, router, method, args, {})
    for name in fields:
        assert name in message
    for value in values:
        assert value not in message


@pytest.mark.parametrize(
    ("method", "args", "fields"),
    [
        pytest.param(
            "create_facility",
            (
                {
                    k: v
                    for k, v in facility_create().items()
                    if k not in ("contact", "facility_code")
                },
            ),
            ("contact", "facility_code"),
            id="facility-missing-contact-and-code",
        ),
        pytest.param(
            "create_facility",
            ({**facility_create(), "type": "spa"},),
            ("facility_type",),
            id="facility-type",
        ),
        pytest.param(
            "create_department",
            ({"facility_id": FACILITY_ID, "name": "Cardiology"},),
            ("code", "specialization"),
            id="department-missing",
        ),
        pytest.param(
            "update_department",
            (DEPARTMENT_ID, {"code": "CARD2"}),
            ("code",),
            id="department-code-immutable",
        ),
        pytest.param(
            "update_facility_settings",
            (FACILITY_ID, {"default_appointment_duration": 1}),
            ("default_appointment_duration",),
            id="settings-range",
        ),
        pytest.param("assign_bed", (BED_ID, {"notes": "x"}), ("patient_id",), id="assign-missing"),
    ],
)
async def test_facility_bad_bodies_name_fields(
    facility: Any,
    router: respx.MockRouter,
    method: str,
    args: tuple[Any, ...],
    fields: tuple[str, ...],
) -> None:
    """A Facility body that breaks the contract's rules raises InvalidRequestError naming the fields before any I/O."""
    message = await _refused(facility, router, method, args, {})
    for name in fields:
        assert name in message


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        pytest.param((BED_ID, "occupied"), {}, id="occupied"),
        pytest.param((BED_ID, "available"), {"patient_id": PATIENT_ID}, id="patient_id"),
        pytest.param((BED_ID, "occupied"), {"patient_id": PATIENT_ID}, id="both"),
        pytest.param((BED_ID, "vacant"), {}, id="unknown-status"),
    ],
)
async def test_update_bed_status_refuses_occupied_and_a_patient(
    facility: Any, router: respx.MockRouter, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    """update_bed_status refuses `occupied` and a patient_id (contract I20), pointing to assign_bed, and sends nothing."""
    message = await _refused(facility, router, "update_bed_status", args, kwargs)
    if args[1] != "vacant":
        assert "assign_bed" in message
    assert PATIENT_ID not in message


# --- prescription refusals (contract I14) ----------------------------------------------------------------

ASSESSMENT = {"overallRisk": {"score": 91, "level": "high", "blocksAdministration": False}}


async def test_high_risk_prescription_raises_override_required(
    clinical: Any, router: respx.MockRouter
) -> None:
    """A 400 with requiresOverride raises PrescriptionOverrideRequired (a BadRequestError) carrying the assessment (contract I14)."""
    router.post(host=CLINICAL_HOST, path="/api/v1/medications").respond(
        400,
        json={
            "success": False,
            "error": "High-risk prescription: warfarin interaction requires override",
            "safetyAssessment": ASSESSMENT,
            "requiresOverride": True,
            "riskFactors": {
                "interactions": 1,
                "allergyAlerts": 0,
                "contraindications": 0,
                "doseIssues": 0,
            },
        },
    )
    with pytest.raises(PrescriptionOverrideRequired) as info:
        await call(clinical.prescribe_medication(medication_create()))
    err = info.value
    assert isinstance(err, BadRequestError) and err.status_code == 400
    assert err.safety_assessment == ASSESSMENT
    assert "warfarin" not in str(err) and "warfarin" not in repr(err)


async def test_contraindicated_prescription_raises_blocked(
    clinical: Any, router: respx.MockRouter
) -> None:
    """A 403 with blocked raises PrescriptionBlocked (a PermissionDeniedError) carrying the assessment (contract I14)."""
    blocked = {**ASSESSMENT, "overallRisk": {"level": "critical", "blocksAdministration": True}}
    router.post(host=CLINICAL_HOST, path="/api/v1/medications").respond(
        403,
        json={
            "success": False,
            "error": "Absolute contraindication: severe penicillin allergy",
            "safetyAssessment": blocked,
            "blocked": True,
        },
    )
    with pytest.raises(PrescriptionBlocked) as info:
        await call(clinical.prescribe_medication(medication_create()))
    err = info.value
    assert isinstance(err, PermissionDeniedError) and err.status_code == 403
    assert err.safety_assessment == blocked
    assert "penicillin" not in str(err)


@pytest.mark.parametrize(
    ("status", "expected"),
    [(400, BadRequestError), (403, PermissionDeniedError)],
)
async def test_other_prescription_refusals_keep_their_status_class(
    clinical: Any, router: respx.MockRouter, status: int, expected: type[Exception]
) -> None:
    """A 400 without requiresOverride or a 403 without blocked stays a plain status error."""
    router.post(host=CLINICAL_HOST, path="/api/v1/medications").respond(
        status,
        json=clinical_error(
            status, "PERMISSION_DENIED" if status == 403 else "INTERNAL_ERROR", "no"
        ),
    )
    with pytest.raises(expected) as info:
        await call(clinical.prescribe_medication(medication_create()))
    assert not isinstance(info.value, (PrescriptionOverrideRequired, PrescriptionBlocked))


@pytest.mark.parametrize("period", ["hourly", "MONTHLY", ""])
async def test_an_unknown_analytics_period_is_refused_before_any_io(
    facility: Any, router: respx.MockRouter, period: str
) -> None:
    """get_facility_analytics accepts only daily, weekly, monthly or yearly (contract §3.2) and sends nothing otherwise."""
    message = await _refused(facility, router, "get_facility_analytics", (FACILITY_ID, period), {})
    assert "daily" in message

"""Writes: Idempotency-Key on creates (contract I26), assign/release never repeated (contract I19), paging (contract I12).

Every test runs for the sync and the async twin (``client_kind``).
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import respx
from client_payloads import (
    BED_ID,
    CLINICAL_URL,
    FACILITY_URL,
    PATIENT_ID,
    clinical_error,
    clinical_ok,
    clinical_page,
    facility_error,
    patient_create,
    patient_row,
)

from nilecare_clients import (
    InvalidRequestError,
    OutcomeUnknownError,
    ServiceConfig,
)
from support import call

CLINICAL_HOST = CLINICAL_URL.removeprefix("http://")
FACILITY_HOST = FACILITY_URL.removeprefix("http://")
PATIENTS = "/api/v1/patients"


def _keys(route: respx.Route) -> list[str | None]:
    return [c.request.headers.get("idempotency-key") for c in route.calls]


async def test_create_patient_generates_a_new_key_per_call(
    clinical: Any, router: respx.MockRouter
) -> None:
    """create_patient sends a generated Idempotency-Key, a different one for each logical call."""
    route = router.post(host=CLINICAL_HOST, path=PATIENTS).respond(
        201, json=clinical_ok(patient_row())
    )
    await call(clinical.create_patient(patient_create()))
    await call(clinical.create_patient(patient_create()))
    first, second = _keys(route)
    assert first and second and first != second
    uuid.UUID(first)  # a UUID4 made by the library


@pytest.mark.parametrize("failure", [503, 500])
async def test_a_retried_create_reuses_its_key(
    make_clinical: Any, clinical_config: ServiceConfig, router: respx.MockRouter, failure: int
) -> None:
    """When the service honours keys, a create retried after a 503 or 500 sends the same key on every attempt."""
    config = clinical_config.model_copy(update={"idempotency_keys_honoured": True})
    clinical = make_clinical(config)
    route = router.post(host=CLINICAL_HOST, path=PATIENTS)
    route.side_effect = [
        httpx.Response(failure, json=clinical_error(failure, "INTERNAL_ERROR", "try later")),
        httpx.Response(201, json=clinical_ok(patient_row())),
    ]
    patient = await call(clinical.create_patient(patient_create()))
    assert patient.id == PATIENT_ID
    keys = _keys(route)
    assert len(keys) == 2 and keys[0] is not None and keys[0] == keys[1]


async def test_a_given_key_is_sent_as_is_and_reused(
    make_clinical: Any, clinical_config: ServiceConfig, router: respx.MockRouter
) -> None:
    """A caller's Idempotency-Key is sent unchanged, on every attempt."""
    clinical = make_clinical(clinical_config.model_copy(update={"idempotency_keys_honoured": True}))
    route = router.post(host=CLINICAL_HOST, path=PATIENTS)
    route.side_effect = [
        httpx.Response(503, json=clinical_error(503, "SERVICE_UNAVAILABLE", "busy")),
        httpx.Response(201, json=clinical_ok(patient_row())),
    ]
    await call(clinical.create_patient(patient_create(), idempotency_key="billing-invoice-42"))
    assert _keys(route) == ["billing-invoice-42", "billing-invoice-42"]


async def test_an_unhonoured_key_does_not_make_a_500_repeatable(
    clinical: Any, router: respx.MockRouter
) -> None:
    """Today's services ignore keys (contract I26): a create answered 500 is not repeated and raises OutcomeUnknownError carrying its key."""
    route = router.post(host=CLINICAL_HOST, path=PATIENTS).respond(
        500, json=clinical_error(500, "INTERNAL_ERROR", "boom")
    )
    with pytest.raises(OutcomeUnknownError) as info:
        await call(clinical.create_patient(patient_create(), idempotency_key="k-1"))
    assert route.call_count == 1
    assert info.value.idempotency_key == "k-1"


@pytest.mark.parametrize("key", ["", "x" * 256, 42])
async def test_a_bad_key_is_refused_before_any_io(
    clinical: Any, router: respx.MockRouter, key: Any
) -> None:
    """An empty, overlong or non-string idempotency key raises InvalidRequestError and sends nothing."""
    anything = router.route()
    with pytest.raises(InvalidRequestError):
        await call(clinical.create_patient(patient_create(), idempotency_key=key))
    assert not anything.called


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("assign_bed", (BED_ID, {"patient_id": PATIENT_ID})),
        ("release_bed", (BED_ID, "discharged")),
    ],
)
@pytest.mark.parametrize(
    "failure",
    [
        pytest.param({"status_code": 500}, id="500"),
        pytest.param({"status_code": 502}, id="502"),
        pytest.param({"side_effect": httpx.ReadTimeout("read timed out")}, id="read-timeout"),
        pytest.param({"side_effect": httpx.RemoteProtocolError("reset")}, id="reset"),
    ],
)
async def test_assign_and_release_are_never_repeated(
    facility: Any,
    router: respx.MockRouter,
    method: str,
    args: tuple[Any, ...],
    failure: dict[str, Any],
) -> None:
    """Assign and release carry no key and, when the outcome is unknown, are sent once and raise OutcomeUnknownError (contract I19)."""
    action = method.split("_")[0]
    route = router.post(host=FACILITY_HOST, path=f"/api/v1/beds/{BED_ID}/{action}")
    if "side_effect" in failure:
        route.side_effect = failure["side_effect"]
    else:
        route.respond(failure["status_code"], json=facility_error(failure["status_code"], "boom"))
    with pytest.raises(OutcomeUnknownError) as info:
        await call(getattr(facility, method)(*args))
    assert route.call_count == 1
    assert _keys(route) == [None]
    assert info.value.idempotency_key is None


# --- iterating over every patient (contract I12) ---------------------------------------------------------


async def _collect(iterator: Any) -> list[Any]:
    if hasattr(iterator, "__aiter__"):
        return [item async for item in iterator]
    return list(iterator)


def _ids(n: int, start: int = 0) -> list[str]:
    return [str(uuid.UUID(int=start + i + 1)) for i in range(n)]


async def test_iter_patients_walks_every_page_and_stops_at_the_last(
    clinical: Any, router: respx.MockRouter
) -> None:
    """iter_patients requests pages 1..N with page_size as limit and the search filter, then stops."""
    ids = _ids(5)
    pages = [ids[0:2], ids[2:4], ids[4:5]]

    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        rows = [patient_row(i) for i in pages[page - 1]]
        return httpx.Response(200, json=clinical_page("patients", rows, page, 2, 5))

    route = router.get(host=CLINICAL_HOST, path=PATIENTS).mock(side_effect=answer)
    patients = await _collect(clinical.iter_patients(search="elhassan", page_size=2))
    assert [p.id for p in patients] == ids
    assert [dict(c.request.url.params) for c in route.calls] == [
        {"page": str(n), "limit": "2", "search": "elhassan"} for n in (1, 2, 3)
    ]


async def test_iter_patients_stops_at_an_empty_page(
    clinical: Any, router: respx.MockRouter
) -> None:
    """A page with no items ends the iteration even if the totals promise more (contract I12)."""
    ids = _ids(2)

    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        rows = [patient_row(i) for i in ids] if page == 1 else []
        return httpx.Response(200, json=clinical_page("patients", rows, page, 2, 10))

    route = router.get(host=CLINICAL_HOST, path=PATIENTS).mock(side_effect=answer)
    patients = await _collect(clinical.iter_patients(page_size=2))
    assert [p.id for p in patients] == ids
    assert route.call_count == 2
    assert "search" not in route.calls[0].request.url.params


async def test_iter_patients_defaults_to_pages_of_100(
    clinical: Any, router: respx.MockRouter
) -> None:
    """With no arguments iter_patients asks for pages of 100 and stops after a single page."""
    route = router.get(host=CLINICAL_HOST, path=PATIENTS).respond(
        json=clinical_page("patients", [patient_row()], 1, 100, 1)
    )
    assert len(await _collect(clinical.iter_patients())) == 1
    assert dict(route.calls.last.request.url.params) == {"page": "1", "limit": "100"}


async def test_iter_patients_makes_no_request_until_iterated(
    clinical: Any, router: respx.MockRouter
) -> None:
    """iter_patients is lazy: creating the iterator sends nothing."""
    anything = router.route()
    clinical.iter_patients()
    assert not anything.called


@pytest.mark.parametrize("key", ["k\r\nX-Evil: 1", "k\r\n folded", "k\x00", " k", "", "k" * 256])
async def test_a_key_http_cannot_carry_is_refused_before_any_io(
    clinical: Any, router: respx.MockRouter, key: str
) -> None:
    """A key with a line break (even a folded one), a control character, an outer space, or
    no character at all is refused on every transport before anything is sent."""
    route = router.post(host=CLINICAL_HOST, path=PATIENTS)
    with pytest.raises(InvalidRequestError, match="idempotency_key"):
        await call(clinical.create_patient(patient_create(), idempotency_key=key))
    with pytest.raises(InvalidRequestError, match="idempotency_key"):
        await call(clinical._request("POST", PATIENTS, json={}, idempotency_key=key))
    assert route.call_count == 0


@pytest.mark.parametrize("name", ["X Odd", " X-Lead", "", "X-Ä", "X:Y"])
async def test_a_header_name_that_is_not_a_token_is_refused_before_any_io(
    clinical: Any, router: respx.MockRouter, name: str
) -> None:
    """Both sync wires send the same headers: a name that is not an HTTP token (which
    http.client would write and h11 would refuse) never reaches either."""
    route = router.post(host=CLINICAL_HOST, path=PATIENTS)
    with pytest.raises(InvalidRequestError, match="nothing was sent"):
        await call(clinical._request("POST", PATIENTS, json={}, headers={name: "1"}))
    assert route.call_count == 0

"""PHI stays out of what the typed clients print: model reprs and error messages.

Every test runs for the sync and the async twin (``client_kind``).
"""

from __future__ import annotations

from typing import Any

import pytest
import respx
from client_payloads import (
    CLINICAL_URL,
    DOB,
    EMAIL,
    FIRST_NAME,
    LAST_NAME,
    PATIENT_ID,
    PHONE,
    clinical_error,
    clinical_ok,
    clinical_page,
    patient_create,
    patient_row,
)

from nilecare_clients import BadRequestError, ConflictError, NotFoundError, ServiceError
from support import call

HOST = CLINICAL_URL.removeprefix("http://")
PHI = (FIRST_NAME, LAST_NAME, PHONE, "912 345", EMAIL, DOB, "1987", "Al-Amarat")


def _clean(text: str) -> None:
    for value in PHI:
        assert value not in text, value


async def test_a_returned_patient_prints_no_phi(clinical: Any, router: respx.MockRouter) -> None:
    """repr() and str() of a Patient (and of a page of them) show ids and enums, never names, phone, email, address or birth date."""
    router.get(host=HOST, path=f"/api/v1/patients/{PATIENT_ID}").respond(
        json=clinical_ok(patient_row())
    )
    router.get(host=HOST, path="/api/v1/patients").respond(
        json=clinical_page("patients", [patient_row()], 1, 20, 1)
    )
    patient = await call(clinical.get_patient(PATIENT_ID))
    assert patient.first_name == FIRST_NAME  # the data is there, only printing hides it
    _clean(repr(patient))
    _clean(str(patient))
    assert PATIENT_ID in repr(patient)
    page = await call(clinical.list_patients())
    _clean(repr(page))
    _clean(repr(page.items))


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [(400, "VALIDATION_ERROR", BadRequestError), (409, "DUPLICATE_ENTRY", ConflictError)],
)
async def test_an_error_echoing_the_phone_keeps_it_out_of_the_message(
    clinical: Any, router: respx.MockRouter, status: int, code: str, expected: type[ServiceError]
) -> None:
    """A create refused with the phone number in the error text and field messages names the field only (contract I11)."""
    router.post(host=HOST, path="/api/v1/patients").respond(
        status,
        json=clinical_error(
            status,
            code,
            f"Patient with phone number {PHONE} already exists ({FIRST_NAME} {LAST_NAME})",
            fields={"phoneNumber": [f"{PHONE} is already registered"]},
        ),
    )
    with pytest.raises(expected) as info:
        await call(clinical.create_patient(patient_create()))
    err = info.value
    _clean(str(err))
    _clean(repr(err))
    assert "phoneNumber" in str(err)
    assert err.field_errors == {"phoneNumber": [f"{PHONE} is already registered"]}  # opt-in


async def test_a_not_found_names_the_route_template_not_the_id(
    clinical: Any, router: respx.MockRouter
) -> None:
    """A 404 message names the route template, never the patient id in the path."""
    router.get(host=HOST, path=f"/api/v1/patients/{PATIENT_ID}").respond(
        404, json=clinical_error(404, "NOT_FOUND", f"Patient {PATIENT_ID} not found")
    )
    with pytest.raises(NotFoundError) as info:
        await call(clinical.get_patient(PATIENT_ID))
    assert "/api/v1/patients/{id}" in str(info.value)
    assert PATIENT_ID not in str(info.value)

"""The billing app's own tests: only the plugin's public fixtures and marker, no private imports."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from examples.billing_fastapi.app import app
from nilecare_clients.testing import make_facility, make_patient


@pytest.fixture
async def billing(nilecare_routes: Any) -> Any:
    """The app with its lifespan run, its clients routed to the fakes."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://billing") as client:
            yield client


def ids(fake_clinical: Any, fake_facility: Any) -> tuple[str, str]:
    patient = fake_clinical.seed(patients=[make_patient(first_name="Amna")])["patients"][0]
    facility = fake_facility.seed(facilities=[make_facility(seed=2)])["facilities"][0]
    return patient["id"], facility["facilityId"]


async def test_invoice_for_a_known_patient(
    billing: Any, fake_clinical: Any, fake_facility: Any
) -> None:
    """An invoice for a stored patient and facility is created with the facility's name."""
    patient_id, facility_id = ids(fake_clinical, fake_facility)
    response = await billing.post(
        "/invoices", json={"patient_id": patient_id, "facility_id": facility_id, "amount": "120.50"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["facility_data_stale"] is False
    assert fake_clinical.journal.count(method="GET") == 1


async def test_unknown_patient_is_422(billing: Any, fake_facility: Any) -> None:
    """A patient Clinical does not know is refused as unknown."""
    facility_id = fake_facility.seed(facilities=[make_facility()])["facilities"][0]["facilityId"]
    response = await billing.post(
        "/invoices",
        json={
            "patient_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
            "facility_id": facility_id,
            "amount": "1",
        },
    )
    assert response.status_code == 422


async def test_clinical_outage_is_503_not_unknown_patient(
    billing: Any, fake_clinical: Any, fake_facility: Any
) -> None:
    """When Clinical is down the invoice fails as unavailable, never as 'unknown patient'."""
    patient_id, facility_id = ids(fake_clinical, fake_facility)
    fake_clinical.faults.outage()
    response = await billing.post(
        "/invoices", json={"patient_id": patient_id, "facility_id": facility_id, "amount": "5"}
    )
    assert response.status_code == 503
    assert fake_clinical.journal.count(method="GET") == 3  # three attempts, all recorded


@pytest.mark.nilecare(clinical_faults=lambda faults: faults.fail_next(2, status=503))
async def test_transient_errors_are_retried(
    billing: Any, fake_clinical: Any, fake_facility: Any
) -> None:
    """Two 503s then success: the invoice is created after retries, within one request."""
    patient_id, facility_id = ids(fake_clinical, fake_facility)
    response = await billing.post(
        "/invoices", json={"patient_id": patient_id, "facility_id": facility_id, "amount": "5"}
    )
    assert response.status_code == 201


async def test_breaker_state_does_not_leak_between_tests(
    billing: Any, fake_clinical: Any, fake_facility: Any
) -> None:
    """A fresh test starts with closed breakers and an empty cache, whatever ran before."""
    patient_id, facility_id = ids(fake_clinical, fake_facility)
    response = await billing.post(
        "/invoices", json={"patient_id": patient_id, "facility_id": facility_id, "amount": "5"}
    )
    assert response.status_code == 201
    assert fake_facility.journal.count(method="GET") == 1

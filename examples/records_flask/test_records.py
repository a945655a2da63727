"""The Flask app's tests: routed fakes, seed data and faults through the public plugin only."""

from __future__ import annotations

from typing import Any

import pytest

from examples.records_flask.app import create_app
from nilecare_clients.testing import make_facility, make_patient


@pytest.fixture
def web(nilecare_routes: Any) -> Any:
    """The app's test client; its clients were built from the environment and routed to fakes."""
    return create_app().test_client()


def seeded(fake_clinical: Any, fake_facility: Any) -> tuple[str, str]:
    patient = fake_clinical.seed(patients=[make_patient()])["patients"][0]
    facility = fake_facility.seed(facilities=[make_facility(seed=4)])["facilities"][0]
    return patient["id"], facility["facilityId"]


def test_summary_combines_both_services(web: Any, fake_clinical: Any, fake_facility: Any) -> None:
    """The summary shows the patient id and the facility's name and city, read through the clients."""
    patient_id, facility_id = seeded(fake_clinical, fake_facility)
    response = web.get(f"/patients/{patient_id}/admission/{facility_id}")
    assert response.status_code == 200
    body = response.get_json()
    expected = make_facility(seed=4)
    assert body == {
        "patient_id": patient_id,
        "facility": expected["name"],
        "city": expected["address"]["city"],
    }


def test_facility_is_cached_between_requests(
    web: Any, fake_clinical: Any, fake_facility: Any
) -> None:
    """The second request reads the facility from the cache: Facility sees one GET."""
    patient_id, facility_id = seeded(fake_clinical, fake_facility)
    for _ in range(3):
        assert web.get(f"/patients/{patient_id}/admission/{facility_id}").status_code == 200
    assert fake_facility.journal.count(method="GET") == 1
    assert fake_clinical.journal.count(method="GET") == 3


def test_facility_outage_still_serves_cached_reference_data(
    web: Any, fake_clinical: Any, fake_facility: Any
) -> None:
    """With the facility cached, a Facility outage does not fail the request."""
    patient_id, facility_id = seeded(fake_clinical, fake_facility)
    assert web.get(f"/patients/{patient_id}/admission/{facility_id}").status_code == 200
    fake_facility.faults.outage()
    assert web.get(f"/patients/{patient_id}/admission/{facility_id}").status_code == 200


@pytest.mark.nilecare(clinical_faults=lambda faults: faults.outage())
def test_clinical_outage_is_503(web: Any, fake_clinical: Any, fake_facility: Any) -> None:
    """A Clinical outage answers 503, and the journal shows every attempt the client made."""
    patient_id, facility_id = seeded(fake_clinical, fake_facility)
    assert web.get(f"/patients/{patient_id}/admission/{facility_id}").status_code == 503
    assert fake_clinical.journal.count(method="GET") == 3

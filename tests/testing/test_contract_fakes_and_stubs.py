"""One contract suite, two backends: the stateful fakes and the respx stubs must both satisfy it.

Each test states a piece of the contract as the typed clients see it; the ``backend`` fixture
provides the same scenario from a fake (in-process) or from a stub (respx). A fake or a stub
that drifts from the contract's shapes fails here.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nilecare_clients import (
    ClinicalServiceClient,
    FacilityServiceClient,
    NotFoundError,
    ServiceConfig,
)
from nilecare_clients.models import Bed, Facility, Page, Patient
from nilecare_clients.testing import (
    CLINICAL_STUB_URL,
    FACILITY_STUB_URL,
    FakeClinicalService,
    FakeFacilityService,
    NileCareStub,
)

MISSING = "0e3f2a1b-9c8d-4e7f-8a6b-5c4d3e2f1a0b"


class Backend:
    """A scenario (one patient, one facility with available beds) and clients reaching it."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        source_clinical, source_facility = FakeClinicalService(seed=5), FakeFacilityService(seed=5)
        self.patient = source_clinical.create_patient(first_name="Amna", last_name="Osman")
        hospital = source_facility.create_hospital(wards=1, beds_per_ward=3)
        self.facility = hospital["facility"]
        self.beds = hospital["beds"]
        if kind == "fake":
            self.clinical = ClinicalServiceClient(
                config=ServiceConfig(name="clinical", base_url="http://clinical.fake"),
                transport=source_clinical.transport(),
            )
            self.facility_client = FacilityServiceClient(
                config=ServiceConfig(name="facility", base_url="http://facility.fake"),
                transport=source_facility.transport(),
            )
            self.stub: NileCareStub | None = None
        else:
            # The stubs answer with the very records the fake produced: same data, other path.
            self.stub = NileCareStub(assert_all_called=False)
            self.stub.clinical.get_patient(self.patient)
            self.stub.clinical.patient_not_found(MISSING)
            self.stub.clinical.list_patients([self.patient], limit=20)
            self.stub.facility.get_facility(self.facility)
            self.stub.facility.facility_not_found(MISSING)
            self.stub.facility.available_beds(self.facility["facilityId"], self.beds)
            self.clinical = ClinicalServiceClient(
                config=ServiceConfig(name="clinical", base_url=CLINICAL_STUB_URL)
            )
            self.facility_client = FacilityServiceClient(
                config=ServiceConfig(name="facility", base_url=FACILITY_STUB_URL)
            )


@pytest.fixture(params=["fake", "stub"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    chosen = Backend(str(request.param))
    if chosen.stub is not None:
        with chosen.stub:
            yield chosen
    else:
        yield chosen
    chosen.clinical.close()
    chosen.facility_client.close()


def test_get_patient_returns_the_typed_patient(backend: Backend) -> None:
    """GET /patients/{id} yields a Patient with camelCase fields read into snake_case."""
    patient = backend.clinical.get_patient(backend.patient["id"])
    assert isinstance(patient, Patient)
    assert (patient.id, patient.first_name, patient.last_name) == (
        backend.patient["id"],
        "Amna",
        "Osman",
    )
    assert patient.phone_number == backend.patient["phoneNumber"]


def test_missing_patient_is_not_found(backend: Backend) -> None:
    """An unknown patient raises NotFoundError, and patient_exists says False."""
    with pytest.raises(NotFoundError):
        backend.clinical.get_patient(MISSING)
    assert backend.clinical.patient_exists(MISSING) is False


def test_list_patients_is_a_page(backend: Backend) -> None:
    """GET /patients yields a Page with the pagination block read from inside data."""
    page = backend.clinical.list_patients(limit=20)
    assert isinstance(page, Page)
    assert [p.id for p in page.items] == [backend.patient["id"]]
    assert (page.page, page.total, page.has_next, page.has_previous) == (1, 1, False, False)


def test_get_facility_returns_the_typed_facility(backend: Backend) -> None:
    """GET /facilities/{id} yields a Facility keyed by its UUID facility_id, row id kept (contract I3)."""
    facility = backend.facility_client.get_facility(backend.facility["facilityId"])
    assert isinstance(facility, Facility)
    assert facility.facility_id == backend.facility["facilityId"]
    assert facility.row_id == backend.facility["id"]
    assert facility.name == backend.facility["name"]


def test_missing_facility_is_not_found(backend: Backend) -> None:
    """An unknown facility raises NotFoundError, and facility_exists says False."""
    assert backend.facility_client.facility_exists(MISSING) is False


def test_available_beds_are_typed_beds(backend: Backend) -> None:
    """GET /beds/available?facilityId= yields available Beds with their UUID bed ids."""
    beds = backend.facility_client.get_available_beds(backend.facility["facilityId"])
    assert all(isinstance(b, Bed) for b in beds)
    assert sorted(b.bed_id for b in beds) == sorted(b["bedId"] for b in backend.beds)
    assert {b.bed_status for b in beds} == {"available"}

"""The pytest plugin as a service team meets it: run real test files with ``pytester``.

Each test writes a small test module, runs pytest on it in a subprocess-free inner session,
and checks the outcome, so the fixtures, the marker and the isolation between tests are
proven exactly as an installed package provides them (through the ``pytest11`` entry point).
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
"""


def run(pytester: pytest.Pytester, source: str) -> pytest.RunResult:
    pytester.makeini(INI)
    pytester.makepyfile(test_service=source)
    return pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")


def test_fixtures_are_registered_through_the_entry_point(pytester: pytest.Pytester) -> None:
    """Every documented fixture is available in a suite that imports nothing from the plugin."""
    result = run(
        pytester,
        """
from nilecare_clients import ClinicalServiceClient, AsyncFacilityServiceClient

def test_sync(fake_clinical, clinical_client, facility_client, nilecare_stub):
    patient = fake_clinical.create_patient(first_name="Amna")
    assert clinical_client.get_patient(patient["id"]).first_name == "Amna"
    assert isinstance(clinical_client, ClinicalServiceClient)

async def test_async(fake_facility, async_facility_client, async_clinical_client):
    stored = fake_facility.create_facility()
    found = await async_facility_client.get_facility(stored["facilityId"])
    assert found.facility_id == stored["facilityId"]
    assert isinstance(async_facility_client, AsyncFacilityServiceClient)
""",
    )
    result.assert_outcomes(passed=2)


def test_marker_seeds_and_injects_faults(pytester: pytest.Pytester) -> None:
    """@pytest.mark.nilecare seeds records and arms faults; the journal shows every attempt."""
    result = run(
        pytester,
        """
import pytest
from nilecare_clients.testing import make_patient

@pytest.mark.nilecare(
    patients=[make_patient(first_name="Hawa", id="11111111-2222-4333-8444-555555555555")],
    clinical_faults=lambda faults: faults.fail_next(2, status=503),
)
def test_seeded_and_faulted(clinical_client, fake_clinical):
    patient = clinical_client.get_patient("11111111-2222-4333-8444-555555555555")
    assert patient.first_name == "Hawa"
    assert len(fake_clinical.journal) == 3
    assert [e.fault for e in fake_clinical.journal] == ["fail_next", "fail_next", None]

@pytest.mark.nilecare(attempts=1, clinical_faults=lambda faults: faults.outage())
def test_attempts_option(clinical_client, fake_clinical):
    from nilecare_clients import ServiceUnavailableError
    with pytest.raises(ServiceUnavailableError):
        clinical_client.get_patients_count()
    assert len(fake_clinical.journal) == 1
""",
    )
    result.assert_outcomes(passed=2)


def test_unknown_marker_option_is_a_usage_error(pytester: pytest.Pytester) -> None:
    """A misspelt marker option fails the test and names the known options."""
    result = run(
        pytester,
        """
import pytest

@pytest.mark.nilecare(patient=[{}])
def test_typo(fake_clinical):
    pass
""",
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unknown option(s)*patient*known*"])


def test_no_state_leaks_between_tests(pytester: pytest.Pytester) -> None:
    """An outage that opens the breaker, and a cached facility, do not survive into the next test."""
    result = run(
        pytester,
        """
import pytest
from nilecare_clients import CircuitOpenError, FacilityServiceClient, ServiceConfig, ServiceError

FACILITY_ID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"

def test_1_outage_opens_the_breaker(clinical_client, fake_clinical, facility_client, fake_facility):
    fake_facility.create_facility(facilityId=FACILITY_ID, name="Bahri Teaching Hospital")
    assert facility_client.get_facility(FACILITY_ID).name == "Bahri Teaching Hospital"
    fake_clinical.faults.reset_connection(100)  # gone: calls get no answer
    for _ in range(15):
        with pytest.raises(ServiceError):
            clinical_client.get_patients_count()
    with pytest.raises(CircuitOpenError):
        clinical_client.get_patients_count()

def test_2_next_test_starts_clean(clinical_client, fake_clinical, facility_client, fake_facility):
    assert clinical_client.breaker_state == "closed"
    assert clinical_client.get_patients_count() == 0
    assert facility_client.cache_stats().size == 0
    from nilecare_clients import NotFoundError
    with pytest.raises(NotFoundError):  # the facility cached by test_1 is gone with its fake
        facility_client.get_facility(FACILITY_ID)
""",
    )
    result.assert_outcomes(passed=2)


def test_routes_reach_clients_the_app_builds_itself(pytester: pytest.Pytester) -> None:
    """nilecare_routes sends clients built from the environment to the fakes, with the marker's token."""
    result = run(
        pytester,
        """
import pytest
from nilecare_clients import ClinicalServiceClient, ServiceConfig

def build_like_production():
    return ClinicalServiceClient(config=ServiceConfig.from_env("CLINICAL"))

@pytest.mark.nilecare(bearer_token="tok-123")
def test_routed(nilecare_routes, fake_clinical):
    patient = fake_clinical.create_patient()
    client = build_like_production()
    assert client.get_patient(patient["id"]).id == patient["id"]
    assert fake_clinical.journal.last.headers["authorization"] == "Bearer tok-123"

def test_fake_requires_its_token_when_asked(fake_clinical):
    import httpx
    fake_clinical.bearer_token = "right"
    with httpx.Client(transport=fake_clinical.transport(), base_url="http://f") as http:
        assert http.get("/api/v1/patients", headers={"Authorization": "Bearer wrong"}).status_code == 401
""",
    )
    result.assert_outcomes(passed=2)


def test_stub_fails_when_a_stubbed_route_is_not_called(pytester: pytest.Pytester) -> None:
    """nilecare_stub asserts every stubbed route was used (a stub for a call never made fails)."""
    result = run(
        pytester,
        """
from nilecare_clients import ClinicalServiceClient, ServiceConfig
from nilecare_clients.testing import CLINICAL_STUB_URL, make_patient

PATIENT = {**make_patient(), "id": "3f9a1c2e-8b7d-4e6f-9a0b-1c2d3e4f5a6b"}

def test_used(nilecare_stub):
    nilecare_stub.clinical.get_patient(PATIENT)
    client = ClinicalServiceClient(config=ServiceConfig(name="clinical", base_url=CLINICAL_STUB_URL))
    assert client.get_patient(PATIENT["id"]).first_name == PATIENT["firstName"]

def test_unused(nilecare_stub):
    nilecare_stub.clinical.get_patient(PATIENT)
""",
    )
    result.assert_outcomes(passed=2, errors=1)  # test_unused passes, then fails at teardown

"""The plugin as a guest in a team's test run: nothing changes unless a test asks (issue 16).

Each test runs a small team suite through ``pytester`` (the plugin comes from the ``pytest11``
entry point, exactly as installed), and checks the team's own settings win: its
``RetryPolicy``, its environment, production's ``idempotency_keys_honoured=False``; test mode
and the clock only when asked; and async fixtures in pytest-asyncio's strict mode.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

AUTO = "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
STRICT = "[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n"


def run(pytester: pytest.Pytester, source: str, ini: str = AUTO) -> pytest.RunResult:
    pytester.makeini(ini)
    pytester.makepyfile(test_team=source)
    return pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")


TEAM_CLIENTS = """
import time
import pytest
from nilecare_clients import (
    AsyncClinicalServiceClient, ClinicalServiceClient, RetryPolicy, ServiceConfig,
    ServiceUnavailableError,
)

KINDS = ["sync", "async", "aiohttp"]

def config(url, **retry):
    transport = "aiohttp" if KIND[0] == "aiohttp" else "httpx"
    return ServiceConfig(name="clinical", base_url=url, async_transport=transport,
                         retry=RetryPolicy(**retry))

KIND = ["sync"]

async def count_calls(kind, fake, **retry):
    # The team's own client, over a real loopback socket (fake.serve()), as in production.
    KIND[0] = kind
    fake.faults.outage()
    with fake.serve() as url:
        started = time.monotonic()
        with pytest.raises(ServiceUnavailableError):
            if kind == "sync":
                with ClinicalServiceClient(config=config(url, **retry)) as client:
                    client.get_patients_count()
            else:
                async with AsyncClinicalServiceClient(config=config(url, **retry)) as client:
                    await client.get_patients_count()
        return len(fake.journal), time.monotonic() - started
"""


def test_team_retry_policy_is_honoured_by_default(pytester: pytest.Pytester) -> None:
    """With the plugin loaded and nothing asked, a team's RetryPolicy(max_attempts=5) makes 5 attempts, sync and async."""
    result = run(
        pytester,
        TEAM_CLIENTS
        + """
@pytest.mark.parametrize("kind", KINDS)
async def test_five_attempts(kind, fake_clinical):
    attempts, _ = await count_calls(kind, fake_clinical, max_attempts=5, backoff_base=0.01,
                                    budget_min_per_second=100)
    assert attempts == 5
""",
    )
    result.assert_outcomes(passed=3)


def test_test_mode_is_opt_in_by_marker(pytester: pytest.Pytester) -> None:
    """``test_mode=True`` drops the backoff sleeps and keeps the policy's attempts; ``attempts=2`` also caps them."""
    result = run(
        pytester,
        TEAM_CLIENTS
        + """
SLOW = dict(max_attempts=4, backoff_base=5.0, backoff_cap=5.0, budget_min_per_second=100)

@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.nilecare(test_mode=True)
async def test_no_sleeping(kind, fake_clinical):
    attempts, elapsed = await count_calls(kind, fake_clinical, **SLOW)
    assert attempts == 4 and elapsed < 3

@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.nilecare(attempts=2)
async def test_fewer_attempts(kind, fake_clinical):
    attempts, elapsed = await count_calls(kind, fake_clinical, **SLOW)
    assert attempts == 2 and elapsed < 3

@pytest.mark.nilecare(attempts=0)
def test_bad_attempts(fake_clinical):
    pass
""",
    )
    result.assert_outcomes(passed=6, errors=1)
    result.stdout.fnmatch_lines(["*attempts must be an int >= 1*"])


def test_test_mode_by_ini_setting(pytester: pytest.Pytester) -> None:
    """``nilecare_test_mode = true`` turns test mode on for the suite; a marker turns it off again."""
    result = run(
        pytester,
        TEAM_CLIENTS
        + """
SLOW = dict(max_attempts=3, backoff_base=5.0, backoff_cap=5.0, budget_min_per_second=100)

async def test_suite_wide(fake_clinical):
    attempts, elapsed = await count_calls("async", fake_clinical, **SLOW)
    assert attempts == 3 and elapsed < 3

@pytest.mark.nilecare(test_mode=False)
def test_this_one_is_production():
    from nilecare_clients import _testmode
    assert _testmode.current() == _testmode.TestMode()
""",
        ini=AUTO + "nilecare_test_mode = true\n",
    )
    result.assert_outcomes(passed=2)


def test_routed_writes_keep_production_idempotency(pytester: pytest.Pytester) -> None:
    """A create that commits then answers 500 raises OutcomeUnknownError under nilecare_routes, unless the marker says keys are honoured."""
    result = run(
        pytester,
        """
import pytest
from nilecare_clients import (
    AsyncClinicalServiceClient, ClinicalServiceClient, OutcomeUnknownError, ServiceConfig,
)
from nilecare_clients.testing import make_patient

async def create(kind):
    config = ServiceConfig.from_env("CLINICAL")
    if kind == "sync":
        with ClinicalServiceClient(config=config) as client:
            return client.create_patient(make_patient())
    async with AsyncClinicalServiceClient(config=config) as client:
        return await client.create_patient(make_patient())

@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.nilecare(test_mode=True,
                      clinical_faults=lambda f: f.commit_then_fail(1, method="POST"))
async def test_production_default(kind, nilecare_routes, fake_clinical):
    with pytest.raises(OutcomeUnknownError):
        await create(kind)
    assert fake_clinical.journal.count(method="POST") == 1

@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.nilecare(test_mode=True, idempotency_keys_honoured=True,
                      clinical_faults=lambda f: f.commit_then_fail(1, method="POST"))
async def test_keys_honoured_when_asked(kind, nilecare_routes, fake_clinical):
    patient = await create(kind)
    assert fake_clinical.journal.count(method="POST") == 2
    assert len(fake_clinical.patients) == 1  # replayed, not created twice
    assert patient.id

@pytest.mark.nilecare(clinical_faults=lambda f: f.commit_then_fail(1, method="POST"))
def test_fixture_client_too(clinical_client, fake_clinical):
    with pytest.raises(OutcomeUnknownError):
        clinical_client.create_patient(make_patient())
""",
    )
    result.assert_outcomes(passed=5)


def test_routes_keep_a_url_the_environment_set(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """nilecare_routes sets NILECARE_<SVC>_URL only when missing; routing still reaches the fake."""
    monkeypatch.setenv("NILECARE_CLINICAL_URL", "http://clinical.staging.internal:7001")
    monkeypatch.delenv("NILECARE_FACILITY_URL", raising=False)
    result = run(
        pytester,
        """
import os
from nilecare_clients import ClinicalServiceClient, ServiceConfig

def test_kept(nilecare_routes, fake_clinical):
    assert os.environ["NILECARE_CLINICAL_URL"] == "http://clinical.staging.internal:7001"
    assert os.environ["NILECARE_FACILITY_URL"] == "http://facility.fake"
    assert "NILECARE_CLINICAL_IDEMPOTENCY_KEYS_HONOURED" not in os.environ
    patient = fake_clinical.create_patient()
    with ClinicalServiceClient(config=ServiceConfig.from_env("CLINICAL")) as client:
        assert client.get_patient(patient["id"]).id == patient["id"]
    assert len(fake_clinical.journal) == 1

def test_restored_after():
    assert "NILECARE_FACILITY_URL" not in os.environ
""",
    )
    result.assert_outcomes(passed=2)


def test_async_fixtures_work_in_strict_mode(pytester: pytest.Pytester) -> None:
    """In pytest-asyncio's strict mode, the async client fixtures work in a test marked asyncio."""
    result = run(
        pytester,
        """
import pytest
import pytest_asyncio

pytestmark = pytest.mark.asyncio   # the one line strict mode needs

@pytest_asyncio.fixture
async def patient_id(async_clinical_client, fake_clinical):
    return fake_clinical.create_patient(first_name="Amna")["id"]

async def test_clinical(async_clinical_client, patient_id):
    assert (await async_clinical_client.get_patient(patient_id)).first_name == "Amna"

async def test_facility(async_facility_client, fake_facility):
    stored = fake_facility.create_facility()
    assert await async_facility_client.facility_exists(stored["facilityId"])
""",
        ini=STRICT,
    )
    result.assert_outcomes(passed=2)


def test_clock_ages_the_facility_cache_without_sleeping(pytester: pytest.Pytester) -> None:
    """nilecare_clock.advance() expires a cached facility (then served stale while Facility is down), sync and async."""
    result = run(
        pytester,
        """
import pytest
from nilecare_clients import FacilityServiceClient, ServiceConfig, ServiceUnavailableError

async def lookup(client, facility_id):
    result = client.lookup_facility(facility_id)
    return await result if hasattr(result, "__await__") else result

@pytest.mark.nilecare(test_mode=True)
async def test_stale_after_ttl_sync(facility_client, fake_facility, nilecare_clock):
    await stale_after_ttl(facility_client, fake_facility, nilecare_clock)

@pytest.mark.nilecare(test_mode=True)
async def test_stale_after_ttl_async(async_facility_client, fake_facility, nilecare_clock):
    await stale_after_ttl(async_facility_client, fake_facility, nilecare_clock)

async def stale_after_ttl(client, fake_facility, nilecare_clock):
    stored = fake_facility.create_facility()
    first = await lookup(client, stored["facilityId"])
    assert first.from_cache is False
    fake_facility.faults.outage()
    assert (await lookup(client, stored["facilityId"])).from_cache is True   # still fresh
    nilecare_clock.advance(2 * 3600)                                          # past the TTL
    served = await lookup(client, stored["facilityId"])
    assert served.stale is True and served.age_s >= 7200
    nilecare_clock.advance(2 * 86400)                                         # past max_stale
    with pytest.raises(ServiceUnavailableError):
        await lookup(client, stored["facilityId"])

def test_next_test_starts_at_offset_zero(nilecare_clock):
    assert nilecare_clock.offset == 0
""",
    )
    result.assert_outcomes(passed=3)


def test_clock_lets_an_open_breaker_probe(pytester: pytest.Pytester) -> None:
    """After nilecare_clock.advance(reset_timeout), an open breaker lets a probe through, sync and async."""
    result = run(
        pytester,
        """
import pytest
from nilecare_clients import CircuitOpenError, ServiceError

async def count(client):
    result = client.get_patients_count()
    return await result if hasattr(result, "__await__") else result

@pytest.mark.nilecare(attempts=1, clinical_faults=lambda f: f.reset_connection(15))
async def test_probe_sync(clinical_client, fake_clinical, nilecare_clock):
    await probe(clinical_client, fake_clinical, nilecare_clock)

@pytest.mark.nilecare(attempts=1, clinical_faults=lambda f: f.reset_connection(15))
async def test_probe_async(async_clinical_client, fake_clinical, nilecare_clock):
    await probe(async_clinical_client, fake_clinical, nilecare_clock)

async def probe(client, fake_clinical, nilecare_clock):
    for _ in range(15):  # consecutive calls without an answer: the service is gone
        with pytest.raises(ServiceError):
            await count(client)
    with pytest.raises(CircuitOpenError):
        await count(client)
    fake_clinical.faults.recover()
    nilecare_clock.advance(31)          # BreakerPolicy.reset_timeout is 30 s
    assert await count(client) == 0
    assert client.breaker_state == "closed"

def test_bad_advance(nilecare_clock):
    from nilecare_clients import ConfigurationError
    for bad in (-1, float("nan"), "5"):
        with pytest.raises(ConfigurationError):
            nilecare_clock.advance(bad)
""",
    )
    result.assert_outcomes(passed=3)


def test_reset_clears_hooks_tracer_and_audit_caller(pytester: pytest.Pytester) -> None:
    """Hooks, the tracer and the audit caller set by one test are gone in the next."""
    result = run(
        pytester,
        """
from nilecare_clients import _hooks, _state
from nilecare_clients.observability import audit

class Tracer:
    def start(self, *a, **k): return None
    def end(self, *a, **k): return None

def test_1_leaves_state():
    _hooks.register(lambda event: None)
    _hooks.set_tracer(Tracer())
    audit.set_caller("pharmacy")

def test_2_is_clean():
    assert _state.observers.active is False and _state.observers.tracer is None
    assert _state.settings.audit_caller is None
""",
    )
    result.assert_outcomes(passed=2)


def test_missing_extra_fails_with_one_line(pytester: pytest.Pytester) -> None:
    """Without Starlette, respx or pytest-asyncio, a fixture names the extra in one line; plain tests pass."""
    pytester.makeconftest(
        """
import sys

class Block:
    # Stands in for an environment without the testing extra (a real one: tests/packaging).
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("starlette", "respx", "pytest_asyncio"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Block())
"""
    )
    pytester.makepyfile(
        test_team="""
def test_plain():
    assert 1 + 1 == 2

def test_fake(fake_clinical):
    pass

def test_stub(nilecare_stub):
    pass

def test_async_client(async_clinical_client):
    pass
"""
    )
    # Their own plugins are off too: installed, they would have imported the modules already.
    result = pytester.runpytest_subprocess(
        "-q", "-p", "no:cacheprovider", "-p", "no:asyncio", "-p", "no:respx"
    )
    result.assert_outcomes(passed=1, errors=3)
    for fixture, module in (
        ("fake_clinical", "starlette"),
        ("nilecare_stub", "respx"),
        ("async_clinical_client", "pytest_asyncio"),
    ):
        result.stdout.fnmatch_lines(
            [
                f"fixture '{fixture}' needs the 'testing' extra: "
                f"pip install \"nilecare-clients[testing]\" (missing module '{module}')"
            ]
        )
    assert "Traceback" not in result.stdout.str()
    assert "During handling" not in result.stdout.str()

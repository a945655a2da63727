"""pytest plugin, registered through the ``pytest11`` entry point (installed with the package).

Fixtures (see ``docs/testing.md``):

- ``fake_clinical`` / ``fake_facility``: fresh stateful fakes for the test.
- ``clinical_client`` / ``async_clinical_client`` / ``facility_client`` /
  ``async_facility_client``: the real typed clients wired to those fakes in-process, in test
  mode (no backoff sleeps).
- ``nilecare_routes``: routes every client the code under test builds for ``clinical`` and
  ``facility`` (constructor, ``from_env``, a lifespan) to the fakes, without sockets.
- ``nilecare_stub``: a respx router preloaded with contract-shaped answers; every stubbed
  route must be called.

Every test starts from a clean library state (breakers, retry budgets, bulkheads, caches,
test mode, routes), so an outage simulated in one test never opens a breaker in the next.

The ``nilecare`` marker configures the fakes of one test::

    @pytest.mark.nilecare(
        patients=[make_patient(first_name="Amna")],    # seeded into fake_clinical
        facilities=[make_facility(city="Omdurman")],  # seeded into fake_facility
        clinical_faults=lambda f: f.fail_next(2, status=503),
        facility_faults=lambda f: f.outage(),
        attempts=3,                                   # attempts per call in test mode
        bearer_token="t-1",                           # both fakes require this token
    )

Seed keywords go to the fake whose ``seed()`` accepts them (``patients``, ``encounters``,
``medications``, ``diagnostics`` for Clinical; ``facilities``, ``departments``, ``wards``,
``beds`` for Facility).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio

from nilecare_clients.testing import reset_state, route_to, set_testing

_CLINICAL_SEED = ("patients", "encounters", "medications", "diagnostics")
_FACILITY_SEED = ("facilities", "departments", "wards", "beds")
_OPTIONS = {
    *_CLINICAL_SEED,
    *_FACILITY_SEED,
    "clinical_faults",
    "facility_faults",
    "attempts",
    "bearer_token",
    "api_key",
    "profile",
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "nilecare(**options): seed data and faults for the nilecare_clients fakes "
        "(patients=, facilities=, clinical_faults=, facility_faults=, attempts=, ...)",
    )


def _options(request: pytest.FixtureRequest) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers("nilecare"))):
        if marker.args:
            raise pytest.UsageError("@pytest.mark.nilecare takes keyword arguments only")
        unknown = set(marker.kwargs) - _OPTIONS
        if unknown:
            raise pytest.UsageError(
                f"@pytest.mark.nilecare: unknown option(s) {sorted(unknown)}; "
                f"known: {sorted(_OPTIONS)}"
            )
        options.update(marker.kwargs)
    return options


@pytest.fixture(autouse=True)
def _nilecare_clean_state(request: pytest.FixtureRequest) -> Iterator[None]:
    reset_state()
    attempts = _options(request).get("attempts", 3)
    with set_testing(attempts=attempts, backoff=False):
        yield
    reset_state()


def _fake(kind: str, request: pytest.FixtureRequest) -> Any:
    from nilecare_clients.testing.fakes import FakeClinicalService, FakeFacilityService

    options = _options(request)
    cls = FakeClinicalService if kind == "clinical" else FakeFacilityService
    fake = cls(
        bearer_token=options.get("bearer_token"),
        api_key=options.get("api_key"),
        profile=options.get("profile", "contract"),
    )
    keys = _CLINICAL_SEED if kind == "clinical" else _FACILITY_SEED
    seed = {key: options[key] for key in keys if key in options}
    if seed:
        fake.seed(**seed)
    faults = options.get(f"{kind}_faults")
    if faults is not None:
        faults(fake.faults)
    return fake


@pytest.fixture
def fake_clinical(request: pytest.FixtureRequest) -> Any:
    """A fresh ``FakeClinicalService`` (seeded and faulted per ``@pytest.mark.nilecare``)."""
    return _fake("clinical", request)


@pytest.fixture
def fake_facility(request: pytest.FixtureRequest) -> Any:
    """A fresh ``FakeFacilityService`` (seeded and faulted per ``@pytest.mark.nilecare``)."""
    return _fake("facility", request)


def _config(name: str, request: pytest.FixtureRequest) -> Any:
    from pydantic import SecretStr

    from nilecare_clients import ServiceConfig

    options = _options(request)
    token = options.get("bearer_token")
    api_key = options.get("api_key")
    return ServiceConfig(
        name=name,
        base_url=f"http://{name}.fake",
        token_provider=(lambda: token) if token else None,
        api_key=SecretStr(api_key) if api_key else None,
        # The contract fakes honour Idempotency-Key; the today profile ignores it, as today.
        idempotency_keys_honoured=options.get("profile", "contract") == "contract",
    )


@pytest.fixture
def clinical_client(fake_clinical: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A ``ClinicalServiceClient`` talking to ``fake_clinical`` in-process."""
    from nilecare_clients import ClinicalServiceClient

    with ClinicalServiceClient(
        config=_config("clinical", request), transport=fake_clinical.transport()
    ) as client:
        yield client


@pytest_asyncio.fixture
async def async_clinical_client(
    fake_clinical: Any, request: pytest.FixtureRequest
) -> AsyncIterator[Any]:
    """An ``AsyncClinicalServiceClient`` talking to ``fake_clinical`` in-process."""
    from nilecare_clients import AsyncClinicalServiceClient

    async with AsyncClinicalServiceClient(
        config=_config("clinical", request), transport=fake_clinical.transport()
    ) as client:
        yield client


@pytest.fixture
def facility_client(fake_facility: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A ``FacilityServiceClient`` talking to ``fake_facility`` in-process."""
    from nilecare_clients import FacilityServiceClient

    with FacilityServiceClient(
        config=_config("facility", request), transport=fake_facility.transport()
    ) as client:
        yield client


@pytest_asyncio.fixture
async def async_facility_client(
    fake_facility: Any, request: pytest.FixtureRequest
) -> AsyncIterator[Any]:
    """An ``AsyncFacilityServiceClient`` talking to ``fake_facility`` in-process."""
    from nilecare_clients import AsyncFacilityServiceClient

    async with AsyncFacilityServiceClient(
        config=_config("facility", request), transport=fake_facility.transport()
    ) as client:
        yield client


@pytest.fixture
def nilecare_routes(
    fake_clinical: Any, fake_facility: Any, request: pytest.FixtureRequest
) -> Iterator[tuple[Any, Any]]:
    """Route every ``clinical`` and ``facility`` client the code under test builds to the fakes.

    Also sets ``NILECARE_<SERVICE>_URL`` (and ``_TOKEN`` when the marker names a bearer token)
    for the test when they are not set, so an app that calls ``ServiceConfig.from_env`` starts
    unchanged; no request leaves the process.
    """
    options = _options(request)
    with pytest.MonkeyPatch.context() as env:
        for service in ("CLINICAL", "FACILITY"):
            env.setenv(f"NILECARE_{service}_URL", f"http://{service.lower()}.fake")
            if options.get("bearer_token"):
                env.setenv(f"NILECARE_{service}_TOKEN", options["bearer_token"])
                env.delenv(f"NILECARE_{service}_TOKEN_FILE", raising=False)
            if options.get("api_key"):
                env.setenv(f"NILECARE_{service}_API_KEY", options["api_key"])
            # The fakes honour Idempotency-Key, so keyed writes may be retried as designed.
            env.setenv(f"NILECARE_{service}_IDEMPOTENCY_KEYS_HONOURED", "true")
        with route_to(clinical=fake_clinical, facility=fake_facility):
            yield fake_clinical, fake_facility


@pytest.fixture
def nilecare_stub() -> Iterator[Any]:
    """A ``NileCareStub``: respx routes for both services; unused routes fail the test."""
    from nilecare_clients.testing.stubs import NileCareStub

    with NileCareStub() as stub:
        yield stub

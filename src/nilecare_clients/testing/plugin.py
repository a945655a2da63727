"""pytest plugin, registered through the ``pytest11`` entry point (installed with the package).

A guest in every test run of every project that installs the library, so it imports nothing
optional at module level (only pytest and the core), changes no client's behaviour unless a
test asks, and a fixture whose extra is missing fails with one line naming the extra.

Fixtures (see ``docs/testing.md``; the first six need the ``testing`` extra):

- ``fake_clinical`` / ``fake_facility``: fresh stateful fakes for the test.
- ``clinical_client`` / ``async_clinical_client`` / ``facility_client`` /
  ``async_facility_client``: the real typed clients, production defaults, wired to those fakes
  in-process (async ones are pytest-asyncio fixtures: they work in strict mode).
- ``nilecare_routes``: routes every client the code under test builds for ``clinical`` and
  ``facility`` (constructor, ``from_env``, a lifespan) to the fakes, without sockets.
- ``nilecare_stub``: a respx router preloaded with contract-shaped answers; every stubbed
  route must be called.
- ``nilecare_clock``: a ``TestClock`` that ages caches and breaker timers without sleeping.

Every test starts from a clean library state (``reset_state()``: breakers, retry budgets,
bulkheads, caches, routes, hooks, tracer, audit caller, clock), so an outage simulated in one
test never opens a breaker in the next. Test mode (no backoff sleeps, optionally fewer
attempts) is off unless the ``nilecare`` marker or the ``nilecare_test_mode`` ini setting asks::

    @pytest.mark.nilecare(
        patients=[make_patient(first_name="Amna")],    # seeded into fake_clinical
        facilities=[make_facility(city="Omdurman")],  # seeded into fake_facility
        clinical_faults=lambda f: f.fail_next(2, status=503),
        facility_faults=lambda f: f.outage(),
        test_mode=True,                               # no backoff sleeps in this test
        attempts=2,                                   # and 2 attempts per call (implies test_mode)
        idempotency_keys_honoured=True,               # routed/fixture clients retry keyed writes
        bearer_token="t-1",                           # both fakes require this token
    )
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from nilecare_clients import _testmode
from nilecare_clients.testing import TestClock, reset_state, route_to

_CLINICAL_SEED = ("patients", "encounters", "medications", "diagnostics")
_FACILITY_SEED = ("facilities", "departments", "wards", "beds")
_OPTIONS = {
    *_CLINICAL_SEED,
    *_FACILITY_SEED,
    "clinical_faults",
    "facility_faults",
    "test_mode",
    "attempts",
    "idempotency_keys_honoured",
    "bearer_token",
    "api_key",
    "profile",
}
_INI_TEST_MODE = "nilecare_test_mode"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        _INI_TEST_MODE,
        "nilecare_clients: run every test in test mode (no retry backoff sleeps); default false",
        type="bool",
        default=False,
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "nilecare(**options): seed data, faults, test mode and clock options for the "
        "nilecare_clients fixtures (patients=, clinical_faults=, test_mode=, attempts=, ...)",
    )
    # The async client fixtures are pytest-asyncio fixtures (so they work in strict mode);
    # without pytest-asyncio, same-named fixtures say which extra to install.
    try:
        importlib.import_module("pytest_asyncio")
    except ImportError:
        module = "nilecare_clients.testing._plugin_no_asyncio"
    else:
        module = "nilecare_clients.testing._plugin_async"
    config.pluginmanager.register(importlib.import_module(module), "nilecare_clients.async")


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


def _test_mode(request: pytest.FixtureRequest) -> _testmode.TestMode | None:
    """The test mode this test asked for (marker, then ini), or ``None``: production behaviour."""
    options = _options(request)
    attempts = options.get("attempts")
    if attempts is not None and (
        isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1
    ):
        raise pytest.UsageError("@pytest.mark.nilecare: attempts must be an int >= 1")
    wanted = options.get("test_mode")
    if wanted is None:
        wanted = attempts is not None or bool(request.config.getini(_INI_TEST_MODE))
    if not wanted:
        return None
    return _testmode.TestMode(attempts=attempts, backoff=False)


@pytest.fixture(autouse=True)
def _nilecare_clean_state(request: pytest.FixtureRequest) -> Iterator[None]:
    """Clear what earlier tests left behind; switch test mode on only when this test asks."""
    reset_state()
    _testmode.set_mode(_test_mode(request))
    yield
    reset_state()


def require_extra(fixture: str, module: str, extra: str = "testing") -> ModuleType:
    """Import ``module`` for ``fixture``, or fail the test with one line naming the extra."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").split(".")[0]
        if not missing or missing == "nilecare_clients":
            raise  # our own bug, not a missing extra: keep the traceback
    # Failed outside the ``except`` block, so the report is this one line, with no chain.
    pytest.fail(
        f"fixture {fixture!r} needs the {extra!r} extra: "
        f'pip install "nilecare-clients[{extra}]" (missing module {missing!r})',
        pytrace=False,
    )


def _fake(kind: str, request: pytest.FixtureRequest) -> Any:
    fakes = require_extra(f"fake_{kind}", "nilecare_clients.testing.fakes")
    options = _options(request)
    cls = fakes.FakeClinicalService if kind == "clinical" else fakes.FakeFacilityService
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


def client_config(name: str, request: pytest.FixtureRequest) -> Any:
    """Production defaults, plus only what the marker asks (token, API key, honoured keys)."""
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
        # Default False, as in production: a write that may have committed is not replayed.
        idempotency_keys_honoured=bool(options.get("idempotency_keys_honoured", False)),
    )


@pytest.fixture
def clinical_client(fake_clinical: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A ``ClinicalServiceClient`` talking to ``fake_clinical`` in-process."""
    from nilecare_clients import ClinicalServiceClient

    with ClinicalServiceClient(
        config=client_config("clinical", request), transport=fake_clinical.transport()
    ) as client:
        yield client


@pytest.fixture
def facility_client(fake_facility: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A ``FacilityServiceClient`` talking to ``fake_facility`` in-process."""
    from nilecare_clients import FacilityServiceClient

    with FacilityServiceClient(
        config=client_config("facility", request), transport=fake_facility.transport()
    ) as client:
        yield client


@pytest.fixture
def nilecare_routes(
    fake_clinical: Any, fake_facility: Any, request: pytest.FixtureRequest
) -> Iterator[tuple[Any, Any]]:
    """Route every ``clinical`` and ``facility`` client the code under test builds to the fakes.

    Routing goes by service name, so the URL does not matter: ``NILECARE_<SERVICE>_URL`` is set
    only when the environment lacks it (an app calling ``ServiceConfig.from_env`` starts
    unchanged), never overwritten. ``_TOKEN`` / ``_API_KEY`` are set when the marker names
    them, and ``_IDEMPOTENCY_KEYS_HONOURED`` only with ``idempotency_keys_honoured=True``:
    otherwise routed clients keep production defaults. No request leaves the process.
    """
    options = _options(request)
    with pytest.MonkeyPatch.context() as env:
        for service in ("CLINICAL", "FACILITY"):
            if not os.environ.get(f"NILECARE_{service}_URL"):
                env.setenv(f"NILECARE_{service}_URL", f"http://{service.lower()}.fake")
            if options.get("bearer_token"):
                env.setenv(f"NILECARE_{service}_TOKEN", options["bearer_token"])
                env.delenv(f"NILECARE_{service}_TOKEN_FILE", raising=False)
            if options.get("api_key"):
                env.setenv(f"NILECARE_{service}_API_KEY", options["api_key"])
            if options.get("idempotency_keys_honoured"):
                env.setenv(f"NILECARE_{service}_IDEMPOTENCY_KEYS_HONOURED", "true")
        with route_to(clinical=fake_clinical, facility=fake_facility):
            yield fake_clinical, fake_facility


@pytest.fixture
def nilecare_stub() -> Iterator[Any]:
    """A ``NileCareStub``: respx routes for both services; unused routes fail the test."""
    stubs = require_extra("nilecare_stub", "nilecare_clients.testing.stubs")
    with stubs.NileCareStub() as stub:
        yield stub


@pytest.fixture
def nilecare_clock() -> TestClock:
    """The library's clock: ``nilecare_clock.advance(301)`` expires a 300 s cache entry at once."""
    return TestClock()

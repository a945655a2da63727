"""Arguments and bodies the services would refuse are refused here first, without echoing them.

Each test runs for the sync client and both async transports against a real loopback server,
which also proves that nothing was sent.
"""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from client_payloads import (
    FACILITY_ID,
    OTHER_FACILITY_ID,
    facility_ok,
    facility_row,
    patient_create,
)

import nilecare_clients
from nilecare_clients import (
    AsyncClinicalServiceClient,
    AsyncFacilityServiceClient,
    ClinicalServiceClient,
    FacilityServiceClient,
    InvalidRequestError,
    NileCareError,
    PrescriptionBlocked,
    PrescriptionBlockedError,
    PrescriptionOverrideRequired,
    PrescriptionOverrideRequiredError,
    ResponseValidationError,
    ServiceConfig,
)
from scripted_server import Action, ScriptedServer, scripted_server
from support import call

KINDS = ["sync", "async", "async-aiohttp"]
THIRD_FACILITY_ID = "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f"


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with scripted_server() as running:
        yield running


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def make(kind: str, server: ScriptedServer) -> AsyncIterator[Callable[[str], Any]]:
    """Build a Clinical or Facility client of this kind against the loopback server."""
    made: list[Any] = []

    def factory(service: str) -> Any:
        transport = "aiohttp" if kind == "async-aiohttp" else "httpx"
        config = ServiceConfig(name=service, base_url=server.url, async_transport=transport)
        classes = {
            ("clinical", True): ClinicalServiceClient,
            ("clinical", False): AsyncClinicalServiceClient,
            ("facility", True): FacilityServiceClient,
            ("facility", False): AsyncFacilityServiceClient,
        }
        client = classes[service, kind == "sync"](config=config)
        made.append(client)
        return client

    yield factory
    for client in made:
        await call(client.close() if kind == "sync" else client.aclose())


async def _refused(client: Any, method: str, *args: Any, **kwargs: Any) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as info:
        result = getattr(client, method)(*args, **kwargs)
        if hasattr(result, "__aiter__"):
            result = [item async for item in result]
        elif hasattr(result, "__next__"):
            result = list(result)
        await call(result)
    return info.value


@pytest.mark.parametrize(
    ("service", "method", "kwargs", "named"),
    [
        ("clinical", "list_patients", {"limit": 0}, "limit must be an integer between 1 and 100"),
        ("clinical", "list_patients", {"limit": -5}, "limit must be an integer between 1 and 100"),
        ("clinical", "list_patients", {"limit": 100_000}, "between 1 and 100"),
        ("clinical", "list_patients", {"page": 0}, "page must be an integer >= 1"),
        ("clinical", "list_patients", {"limit": True}, "limit must be an integer"),
        ("clinical", "search_patients", {"query": "amna", "limit": 101}, "limit must be"),
        ("clinical", "get_recent_patients", {"limit": 0}, "limit must be"),
        ("clinical", "get_recent_patients", {"limit": 500}, "between 1 and 100"),
        ("clinical", "iter_patients", {"page_size": 0}, "page_size must be an integer between"),
        ("clinical", "list_encounters", {"limit": 101}, "limit must be"),
        ("facility", "list_facilities", {"limit": 0}, "limit must be"),
        ("facility", "list_facilities", {"page": -1}, "page must be"),
    ],
)
async def test_out_of_range_paging_is_refused_not_clamped(
    make: Callable[[str], Any],
    server: ScriptedServer,
    service: str,
    method: str,
    kwargs: dict[str, Any],
    named: str,
) -> None:
    """limit/page/page_size outside the service's range raise InvalidRequestError naming the argument and the range; nothing is sent."""
    error = await _refused(make(service), method, **kwargs)
    assert named in str(error)
    assert server.count() == 0


async def test_docstrings_state_the_cap() -> None:
    """Every method taking limit or page_size says the service's cap in its docstring."""
    for cls in (ClinicalServiceClient, FacilityServiceClient):
        for name in ("list_patients", "iter_patients", "search_patients", "get_recent_patients"):
            if hasattr(cls, name):
                assert "1-100" in (getattr(cls, name).__doc__ or ""), name
    assert "1-100" in (FacilityServiceClient.list_facilities.__doc__ or "")


async def test_body_errors_name_each_field_and_rule_never_the_value(
    make: Callable[[str], Any], server: ScriptedServer
) -> None:
    """An invalid body names field and rule (`gender: one of ...`, `first_name: at least 2 characters`), not the value; details stay on `.errors`."""
    body = {**patient_create(), "first_name": "Q", "gender": "Zebra-Person", "nationalId": "SD-77"}
    error = await _refused(make("clinical"), "create_patient", body)
    message = str(error)
    assert "first_name: at least 2 characters" in message
    assert "gender: one of male, female, other" in message
    assert "nationalId: not a field of this body" in message
    for value in ("Zebra-Person", "SD-77", "'Q'"):
        assert value not in message
    fields = {e["field"]: e for e in error.errors}
    assert fields["first_name"]["type"] == "string_too_short"
    assert all("input" not in e for e in error.errors)
    assert "Zebra" not in repr(error.errors)
    assert error.__cause__ is None and error.__context__ is None
    assert server.count() == 0


@pytest.mark.parametrize(
    ("service", "method", "args", "kwargs", "named"),
    [
        ("clinical", "search_patients", ("Amina \udcff Osman",), {}, "search"),
        ("clinical", "list_patients", (), {"search": "\ud800"}, "search"),
        ("clinical", "get_patient", ("3f2b8c1e-9d4a-4e6b-8f0a-1c2d3e4f\ud800",), {}, "patient_id"),
        ("facility", "list_facilities", (), {"city": "Khartoum\udc80"}, "city"),
    ],
)
async def test_unencodable_input_is_refused_without_carrying_it(
    make: Callable[[str], Any],
    server: ScriptedServer,
    service: str,
    method: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    named: str,
) -> None:
    """A lone surrogate in a search term, filter or path id raises InvalidRequestError with no UnicodeEncodeError (and no input) in its chain."""
    error = await _refused(make(service), method, *args, **kwargs)
    assert named in str(error)
    assert error.__cause__ is None and error.__context__ is None
    assert server.count() == 0


async def test_unencodable_body_is_refused_without_carrying_it(
    make: Callable[[str], Any], server: ScriptedServer
) -> None:
    """A lone surrogate inside a body raises InvalidRequestError whose chain holds no serialiser error quoting it."""
    body = {**patient_create(), "first_name": "Am\udcffna"}
    error = await _refused(make("clinical"), "create_patient", body)
    assert "Am" not in str(error)
    assert error.__cause__ is None and error.__context__ is None
    assert server.count() == 0


async def test_preload_tries_every_id_and_raises_a_malformed_answer_last(
    make: Callable[[str], Any], server: ScriptedServer
) -> None:
    """Sync and async preload alike: a malformed answer does not stop the others; it is raised after they were cached."""
    server.script(
        Action(raw_body=b"<html>proxy error</html>"),
        Action(body=facility_ok(facility_row(OTHER_FACILITY_ID))),
        Action(body=facility_ok(facility_row(THIRD_FACILITY_ID))),
    )
    client = make("facility")
    with pytest.raises(ResponseValidationError):
        await call(client.preload([FACILITY_ID, OTHER_FACILITY_ID, THIRD_FACILITY_ID]))
    assert server.count() == 3
    assert client.cache_stats().size == 2


def test_prescription_errors_have_the_error_suffix_and_old_names_still_work() -> None:
    """The new names are the classes; the old names are the same classes, still exported."""
    assert PrescriptionBlocked is PrescriptionBlockedError
    assert PrescriptionOverrideRequired is PrescriptionOverrideRequiredError
    error = PrescriptionBlockedError(
        service="clinical", method="POST", path_template="/api/v1/medications", status_code=403
    )
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is PrescriptionBlockedError and copy.safety_assessment is None


def test_public_names_say_the_package() -> None:
    """Every public class and function of the package reports ``nilecare_clients`` as its module."""
    for name in nilecare_clients.__all__:
        value = getattr(nilecare_clients, name)
        module = getattr(value, "__module__", None)
        if module is not None and not isinstance(value, str):
            assert not module.startswith("nilecare_clients._"), name


def test_unknown_call_values_are_a_clear_error() -> None:
    """A value an endpoint does not declare is refused by name (a typo in a new method fails loudly)."""
    from nilecare_clients.clinical import LIST_PATIENTS

    with pytest.raises(InvalidRequestError, match="takes no serach"):
        LIST_PATIENTS.bind((), {"page": 1, "limit": 5, "serach": "x"})
    assert isinstance(InvalidRequestError("x"), NileCareError)
    assert asyncio.iscoroutinefunction(AsyncClinicalServiceClient.get_patient)

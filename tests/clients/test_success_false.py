"""``success: false`` is read on every transport: a 2xx that says it failed is never a value.

Each test runs over real loopback HTTP for the sync client and both async transports.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from client_payloads import PATIENT_ID, patient_create, patient_row

from nilecare_clients import (
    AsyncClinicalServiceClient,
    ClinicalServiceClient,
    ConflictError,
    NotFoundError,
    OutcomeUnknownError,
    ServerError,
    ServiceConfig,
)
from nilecare_clients._decisions import failed_envelope_status
from scripted_server import Action, scripted_server
from support import call

FAILED_DB = {"success": False, "data": None, "error": {"code": "DATABASE_ERROR"}}


@pytest.fixture(params=["sync", "httpx", "aiohttp"])
async def make(request: pytest.FixtureRequest) -> AsyncIterator[Callable[[str], Any]]:
    """Build a Clinical client for the sync twin or the async twin over either transport."""
    made: list[Any] = []

    def factory(url: str) -> Any:
        retry = {"backoff_base": 0, "max_attempts": 3}
        if request.param == "sync":
            client: Any = ClinicalServiceClient(
                config=ServiceConfig(name="clinical", base_url=url, retry=retry)
            )
        else:
            config = ServiceConfig(
                name="clinical", base_url=url, retry=retry, async_transport=request.param
            )
            client = AsyncClinicalServiceClient(config=config)
        made.append(client)
        return client

    yield factory
    for client in made:
        if isinstance(client, AsyncClinicalServiceClient):
            await client.aclose()
        else:
            client.close()


async def test_200_success_false_with_null_data_is_a_server_error(make: Any) -> None:
    """200 + ``success: false`` + DATABASE_ERROR is a ServerError (retried like a 500), never
    NotFoundError, and ``patient_exists`` raises instead of answering False."""
    with scripted_server() as server:
        server.default = Action(status=200, body=FAILED_DB)
        client = make(server.url)
        with pytest.raises(ServerError) as info:
            await call(client.get_patient(PATIENT_ID))
        assert not isinstance(info.value, NotFoundError)
        assert info.value.error_code == "DATABASE_ERROR"
        assert "success: false" in (info.value.detail or "")
        assert server.count() == 3  # a GET is retried as for a 500
        with pytest.raises(ServerError):
            await call(client.patient_exists(PATIENT_ID))


async def test_200_success_false_with_a_data_object_is_not_returned(make: Any) -> None:
    """A 2xx whose envelope says it failed raises even when ``data`` holds an object."""
    with scripted_server() as server:
        body = {"success": False, "data": patient_row(), "error": {"code": "CONFLICT"}}
        server.default = Action(status=200, body=body)
        client = make(server.url)
        with pytest.raises(ConflictError):
            await call(client.get_patient(PATIENT_ID))
        assert server.count() == 1  # a 409-class answer is final


async def test_only_not_found_code_means_not_found(make: Any) -> None:
    """200 + ``success: false`` + NOT_FOUND is "not found": patient_exists answers False."""
    with scripted_server() as server:
        body = {"success": False, "error": {"code": "NOT_FOUND", "message": "no such patient"}}
        server.default = Action(status=200, body=body)
        client = make(server.url)
        assert await call(client.patient_exists(PATIENT_ID)) is False


async def test_create_answered_success_false_is_outcome_unknown_and_sent_once(make: Any) -> None:
    """A create answered 200 + ``success: false`` (server-side error) may have been applied:
    OutcomeUnknownError, and the POST is never repeated."""
    with scripted_server() as server:
        server.default = Action(status=201, body=FAILED_DB)
        client = make(server.url)
        with pytest.raises(OutcomeUnknownError):
            await call(client.create_patient(patient_create()))
        assert server.count() == 1


async def test_success_false_nested_in_the_payload_is_ordinary_data(make: Any) -> None:
    """A ``success: false`` inside the resource is data, not the envelope's verdict."""
    with scripted_server() as server:
        body = {"success": True, "data": {**patient_row(), "lastVisit": {"success": False}}}
        server.default = Action(status=200, body=body)
        client = make(server.url)
        result = await call(client.get_patient(PATIENT_ID))
        assert result.id == PATIENT_ID


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"success":true,"data":{}}', None),
        (b'{"success": false}', 500),
        (b'{"success" : false, "error": {"code": "RATE_LIMIT_EXCEEDED"}}', 429),
        (b'{"success": false, "error": "Prescription blocked"}', 500),
        (b'{"success": false, "error": {"code": 404}}', 500),
        (b'{"data": {"success": false}}', None),
        (b'not json "success": false', None),
    ],
)
def test_failed_envelope_status(content: bytes, expected: int | None) -> None:
    """The status a 2xx answer means is read from the top-level envelope and its code only."""
    assert failed_envelope_status(content) == expected

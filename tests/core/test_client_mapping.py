"""BaseServiceClient / AsyncBaseServiceClient: request building, envelopes and error mapping.

respx stands in for the service (a mock is the point here); every test runs for both twins.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx
from pydantic import BaseModel, SecretStr

from nilecare_clients import (
    AuthenticationError,
    BadRequestError,
    BaseServiceClient,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    RateLimitedError,
    ResponseValidationError,
    ServerError,
    ServiceConfig,
    ServiceError,
    ServiceUnavailableError,
    correlation_scope,
)
from nilecare_clients.endpoints import Endpoint, Param, Safety
from nilecare_clients.testing import set_testing
from support import call

BASE = "http://clinical.test"
PATIENT_ID = "3f9a1c2e-8b7d-4e6f-9a0b-1c2d3e4f5a6b"


class Patient(BaseModel):
    id: str
    firstName: str


def envelope(data: Any, **extra: Any) -> dict[str, Any]:
    return {"success": True, "data": data, **extra}


async def get_patient(client: Any, patient_id: str = PATIENT_ID, **kwargs: Any) -> Any:
    return await call(
        client._request(
            "GET",
            "/api/v1/patients/{id}",
            path_params={"id": patient_id},
            response_model=Patient,
            **kwargs,
        )
    )


@respx.mock
async def test_unwraps_data_into_the_model(make_client: Any, config: ServiceConfig) -> None:
    """A canonical envelope's data is validated into the response model."""
    respx.get(f"{BASE}/api/v1/patients/{PATIENT_ID}").respond(
        json=envelope({"id": PATIENT_ID, "firstName": "Amna", "newServerField": 1})
    )
    patient = await get_patient(make_client(config))
    assert patient == Patient(id=PATIENT_ID, firstName="Amna")


@respx.mock
async def test_lenient_envelopes(make_client: Any, config: ServiceConfig) -> None:
    """`data.patient` (contract I2) and a named collection inside data are both unwrapped."""
    respx.get(f"{BASE}/api/v1/patients/{PATIENT_ID}").respond(
        json=envelope({"patient": {"id": PATIENT_ID, "firstName": "Amna"}})
    )
    respx.get(f"{BASE}/api/v1/patients").respond(
        json=envelope({"patients": [{"id": PATIENT_ID, "firstName": "Amna"}], "pagination": {}})
    )
    client = make_client(config)
    assert (await get_patient(client)).firstName == "Amna"
    listed = await call(
        client._request(
            "GET", "/api/v1/patients", response_model=list[Patient], envelope_key="patients"
        )
    )
    assert [p.id for p in listed] == [PATIENT_ID]


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (b"<html><body>Bad gateway at Amna's proxy</body></html>", {"content-type": "text/html"}),
        (b"not json Amna", {}),
        (b'{"success": true}', {}),
        (b'{"success": true, "data": {"id": 5, "firstName": "Amna"}}', {}),
        (b'{"success": true, "data": {"firstName": "Amna"}}', {}),
        (b"[1, 2, 3]", {}),
    ],
)
@respx.mock
async def test_bodies_that_do_not_fit_raise_response_validation_error(
    make_client: Any, config: ServiceConfig, content: bytes, headers: dict[str, str]
) -> None:
    """HTML, non-JSON, a missing envelope or a schema mismatch raise ResponseValidationError without body text."""
    respx.get(f"{BASE}/api/v1/patients/{PATIENT_ID}").respond(200, content=content, headers=headers)
    with correlation_scope("corr-42"), pytest.raises(ResponseValidationError) as info:
        await get_patient(make_client(config))
    err = info.value
    text = str(err) + repr(err)
    assert "Amna" not in text
    assert "clinical" in text and "GET" in text and "/api/v1/patients/{id}" in text
    assert "200" in text and "corr-42" in text
    assert err.body == content


@respx.mock
async def test_data_null_is_not_found_for_get_by_id(
    make_client: Any, config: ServiceConfig
) -> None:
    """200 with data: null means not found for a get-by-id (contract I11), and a validation error otherwise."""
    respx.get(f"{BASE}/api/v1/patients/{PATIENT_ID}").respond(json=envelope(None))
    client = make_client(config)
    with pytest.raises(NotFoundError):
        await get_patient(client, null_is_not_found=True)
    with pytest.raises(ResponseValidationError):
        await get_patient(client)


@pytest.mark.parametrize(
    ("status", "body", "cls", "code"),
    [
        (
            400,
            {
                "success": False,
                "error": {
                    "code": "VALIDATION_ERROR",
                    "message": "Validation failed",
                    "details": {"fields": {"phoneNumber": ["+249 912 345 678 is not valid"]}},
                },
            },
            BadRequestError,
            "VALIDATION_ERROR",
        ),
        (
            401,
            {"success": False, "error": {"code": "INVALID_TOKEN", "message": "x"}},
            AuthenticationError,
            "INVALID_TOKEN",
        ),
        (
            403,
            {"success": False, "error": {"message": "Forbidden", "code": 403}},
            PermissionDeniedError,
            None,
        ),
        (
            404,
            {"success": False, "error": {"code": "NOT_FOUND", "message": "Patient Amna"}},
            NotFoundError,
            "NOT_FOUND",
        ),
        (
            409,
            {"success": False, "error": {"code": "DUPLICATE_ENTRY", "message": "x"}},
            ConflictError,
            "DUPLICATE_ENTRY",
        ),
        (
            422,
            {"success": False, "error": {"code": "OPERATION_NOT_ALLOWED", "message": "x"}},
            BadRequestError,
            "OPERATION_NOT_ALLOWED",
        ),
        (
            429,
            {"success": False, "error": {"code": "RATE_LIMIT_EXCEEDED", "message": "x"}},
            RateLimitedError,
            "RATE_LIMIT_EXCEEDED",
        ),
        (
            500,
            {"success": False, "error": {"code": "INTERNAL_ERROR", "message": "x"}},
            ServerError,
            "INTERNAL_ERROR",
        ),
        (
            503,
            {"success": False, "error": {"code": "SERVICE_UNAVAILABLE", "message": "x"}},
            ServiceUnavailableError,
            "SERVICE_UNAVAILABLE",
        ),
    ],
)
@respx.mock
async def test_error_statuses_map_to_typed_errors(
    make_client: Any,
    config: ServiceConfig,
    status: int,
    body: dict[str, Any],
    cls: type[ServiceError],
    code: str | None,
) -> None:
    """Each status maps to its class; error.code is kept only when it is a string (contract I10)."""
    route = respx.get(f"{BASE}/api/v1/patients/{PATIENT_ID}").respond(status, json=body)
    with set_testing(attempts=1), correlation_scope("corr-7"), pytest.raises(cls) as info:
        await get_patient(make_client(config))
    err = info.value
    assert type(err) is cls
    assert (err.status_code, err.error_code, err.correlation_id) == (status, code, "corr-7")
    assert (err.service, err.method, err.path_template) == (
        "clinical",
        "GET",
        "/api/v1/patients/{id}",
    )
    assert "Amna" not in str(err) and "+249" not in repr(err)
    assert route.call_count == 1
    if status == 400:
        assert err.field_errors == {"phoneNumber": ["+249 912 345 678 is not valid"]}
        assert "phoneNumber" in str(err)


@respx.mock
async def test_request_headers(make_client: Any, config: ServiceConfig) -> None:
    """Every request carries both correlation headers (same value), the deadline, UA, API key and bearer token."""
    route = respx.get(f"{BASE}/api/v1/patients/{PATIENT_ID}").respond(
        json=envelope({"id": PATIENT_ID, "firstName": "A"})
    )
    cfg = config.model_copy(
        update={
            "api_key": SecretStr("key-123"),
            "token_provider": lambda: "tok-abc",
            "headers": {"X-Service-Name": "billing"},
        }
    )
    await get_patient(make_client(cfg))
    headers = route.calls.last.request.headers
    assert headers["x-correlation-id"] == headers["x-request-id"]
    assert len(headers["x-correlation-id"]) == 36
    assert headers["x-api-key"] == "key-123"
    assert headers["authorization"] == "Bearer tok-abc"
    assert headers["x-service-name"] == "billing"
    assert headers["user-agent"].startswith("nilecare-clients/")
    assert 0 < int(headers["x-request-deadline-ms"]) <= 10_000
    assert "x-retry-attempt" not in headers


@respx.mock
async def test_async_token_provider(
    client_kind: str, make_client: Any, config: ServiceConfig
) -> None:
    """An async token provider works on the async client and is refused clearly by the sync one."""
    route = respx.get(f"{BASE}/api/v1/patients/{PATIENT_ID}").respond(
        json=envelope({"id": PATIENT_ID, "firstName": "A"})
    )

    async def provider() -> str:
        return "async-token"

    client = make_client(config.model_copy(update={"token_provider": provider}))
    if client_kind == "async":
        await get_patient(client)
        assert route.calls.last.request.headers["authorization"] == "Bearer async-token"
    else:
        with pytest.raises(InvalidRequestError, match="async"):
            await get_patient(client)
        assert route.call_count == 0


@respx.mock
async def test_token_provider_is_called_per_request(
    make_client: Any, config: ServiceConfig
) -> None:
    """A rotating token is picked up on the next call, and a 401 asks the provider once more."""
    tokens = iter(["t1", "t2", "t3", "t4"])
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        if request.headers["authorization"] == "Bearer t2":
            return httpx.Response(401, json={"success": False, "error": {"code": "INVALID_TOKEN"}})
        return httpx.Response(200, json=envelope({"id": PATIENT_ID, "firstName": "A"}))

    respx.get(f"{BASE}/api/v1/patients/{PATIENT_ID}").mock(side_effect=handler)
    client = make_client(config.model_copy(update={"token_provider": lambda: next(tokens)}))
    await get_patient(client)
    await get_patient(client)
    assert seen == ["Bearer t1", "Bearer t2", "Bearer t3"]


@respx.mock
async def test_unsafe_ids_never_reach_the_network(make_client: Any, config: ServiceConfig) -> None:
    """Path-changing ids raise InvalidRequestError and make no request."""
    route = respx.route().respond(200)
    client = make_client(config)
    for bad in ("../admin", "a/b", "x?y", "x#y", "a\r\nb", "a\x00"):
        with pytest.raises(InvalidRequestError):
            await get_patient(client, bad)
    assert route.call_count == 0


@respx.mock
async def test_query_params_drop_none(make_client: Any, config: ServiceConfig) -> None:
    """None-valued query parameters are not sent; JSON bodies are sent compactly with a content type."""
    route = respx.post(f"{BASE}/api/v1/patients").respond(
        201, json=envelope({"id": PATIENT_ID, "firstName": "A"})
    )
    await call(
        make_client(config)._request(
            "POST",
            "/api/v1/patients",
            params={"limit": 5, "search": None},
            json={"firstName": "A"},
            response_model=Patient,
        )
    )
    request = route.calls.last.request
    assert request.url.params == httpx.QueryParams({"limit": "5"})
    assert request.headers["content-type"] == "application/json"
    assert request.content == b'{"firstName":"A"}'


@respx.mock
async def test_with_options_shares_the_pool(
    client_kind: str, make_client: Any, config: ServiceConfig
) -> None:
    """with_options returns a changed copy over the same httpx client; the original is unchanged."""
    route = respx.get(f"{BASE}/api/v1/patients/{PATIENT_ID}").respond(
        json=envelope({"id": PATIENT_ID, "firstName": "A"})
    )
    client = make_client(config)
    other = client.with_options(headers={"X-Tenant": "t-1"})
    assert other._http is client._http
    assert other.config.headers == {"X-Tenant": "t-1"} and client.config.headers == {}
    await get_patient(other)
    assert route.calls.last.request.headers["x-tenant"] == "t-1"
    await get_patient(client)
    assert "x-tenant" not in route.calls.last.request.headers
    # Closing the copy leaves the shared pool open for the original.
    if client_kind == "sync":
        other.close()
    else:
        await other.aclose()
    await get_patient(client)


@respx.mock
async def test_health_check(make_client: Any, config: ServiceConfig) -> None:
    """health_check is ok only on a 200 and reports status, latency and breaker state."""
    route = respx.get(f"{BASE}/health").respond(200, json={"status": "healthy"})
    client = make_client(config)
    status = await call(client.health_check())
    assert (status.ok, status.status_code, status.breaker_state) == (True, 200, "closed")
    assert status.latency_ms >= 0
    route.respond(503)
    status = await call(client.health_check())
    assert (status.ok, status.status_code) == (False, 503)
    route.side_effect = httpx.ConnectError("refused")
    status = await call(client.health_check())
    assert (status.ok, status.status_code, status.error) == (False, None, "ConnectError")


def test_injected_client_and_transport_are_exclusive(config: ServiceConfig) -> None:
    """Passing both an httpx client and a transport is refused."""
    from nilecare_clients import BaseServiceClient

    with httpx.Client() as http, pytest.raises(InvalidRequestError):
        BaseServiceClient(
            config=config,
            http_client=http,
            transport=httpx.MockTransport(lambda r: httpx.Response(200)),
        )


@respx.mock
async def test_idempotency_key_header_in_any_case_is_the_key(
    make_client: Any, config: ServiceConfig
) -> None:
    """A key passed as a lowercase header is recognised: a honoured keyed POST is retried with it."""
    route = respx.post(f"{BASE}/api/v1/patients").mock(
        side_effect=[
            httpx.Response(500),
            httpx.Response(201, json=envelope({"id": PATIENT_ID, "firstName": "A"})),
        ]
    )
    client = make_client(config.model_copy(update={"idempotency_keys_honoured": True}))
    await call(
        client._request(
            "POST",
            "/api/v1/patients",
            json={},
            headers={"idempotency-key": "k-77"},
            response_model=Patient,
        )
    )
    assert route.call_count == 2
    assert [c.request.headers["idempotency-key"] for c in route.calls] == ["k-77", "k-77"]


# -- declared endpoints: _run(ENDPOINT, *ids, **values) -----------------------------------
THING_ID = "0b6f1f2e-1c1d-4a51-9a59-0c8a4b7d2e11"


class _Teapot(ServiceError):
    """A refined error for the test endpoint."""


def _refine(error: ServiceError) -> ServiceError:
    if error.status_code != 418:
        return error
    return _Teapot(
        service=error.service,
        method=error.method,
        path_template=error.path_template,
        status_code=error.status_code,
    )


THINGS: Endpoint[list[str]] = Endpoint(
    "GET",
    "/api/v1/things/{id}/parts",
    Safety.READ,
    returns=list[Patient],
    ids=("thing_id",),
    query=(Param("only_active", "onlyActive"), Param("kind")),
    convert=lambda parts: [p.firstName for p in parts],
    refine=_refine,
)
MARK: Endpoint[None] = Endpoint("PATCH", "/api/v1/things/{id}/mark", Safety.ONCE, ids=("thing_id",))


def test_declaration_mistakes_fail_when_the_table_is_built() -> None:
    """A template whose placeholders and ids disagree, or a safety its method cannot have, is a ValueError at import."""
    with pytest.raises(ValueError, match="1 placeholders, 0 ids"):
        Endpoint("GET", "/api/v1/things/{id}", Safety.READ)
    with pytest.raises(ValueError, match="cannot be KEYED"):
        Endpoint("GET", "/api/v1/things", Safety.KEYED)
    with pytest.raises(ValueError, match="body_from needs the body model"):
        Endpoint("POST", "/api/v1/things", Safety.ONCE, body_from=("name",))
    assert repr(THINGS) == "Endpoint(GET /api/v1/things/{id}/parts)"
    assert THING_ID not in repr(THINGS.bind((THING_ID,), {}))


@respx.mock
async def test_a_declared_endpoint_sends_its_route_and_converts(
    make_client: Any, config: ServiceConfig
) -> None:
    """_run fills the template, sends only given filters (booleans as literals) and returns convert(answer)."""
    route = respx.get(f"{BASE}/api/v1/things/{THING_ID}/parts").respond(
        json=envelope([{"id": "p1", "firstName": "Amna"}])
    )
    client = make_client(config)
    run = client._run if isinstance(client, BaseServiceClient) else client._arun
    assert await call(run(THINGS, THING_ID, only_active=True, kind=None)) == ["Amna"]
    assert dict(route.calls.last.request.url.params) == {"onlyActive": "true"}


@respx.mock
async def test_refine_builds_the_specific_error(make_client: Any, config: ServiceConfig) -> None:
    """An endpoint's refine turns the generic error into its own class, the original kept as __cause__."""
    respx.get(f"{BASE}/api/v1/things/{THING_ID}/parts").respond(418)
    client = make_client(config)
    run = client._run if isinstance(client, BaseServiceClient) else client._arun
    with pytest.raises(_Teapot) as info:
        await call(run(THINGS, THING_ID))
    assert type(info.value.__cause__) is ServiceError


@respx.mock
async def test_the_retry_loop_retries_reads_and_never_repeats_a_once_write(
    make_client: Any, config: ServiceConfig
) -> None:
    """A read that got 503 is tried again and succeeds; a PATCH that got 500 is sent once and is OutcomeUnknownError."""
    read = respx.get(f"{BASE}/api/v1/things/{THING_ID}/parts").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json=envelope([]))]
    )
    write = respx.patch(f"{BASE}/api/v1/things/{THING_ID}/mark").respond(500)
    client = make_client(config)
    run = client._run if isinstance(client, BaseServiceClient) else client._arun
    with set_testing(attempts=3):
        assert await call(run(THINGS, THING_ID)) == []
        with pytest.raises(OutcomeUnknownError):
            await call(run(MARK, THING_ID))
    assert read.call_count == 2
    assert write.call_count == 1

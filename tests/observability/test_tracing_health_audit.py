"""OpenTelemetry spans and propagation, the dependencies health report, and audit events."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from structlog.testing import capture_logs

from nilecare_clients import (
    AsyncClinicalServiceClient,
    ClinicalServiceClient,
    FacilityServiceClient,
    NotFoundError,
    ServiceConfig,
    ServiceError,
)
from nilecare_clients.observability import (
    AUDIT_LOGGER_NAME,
    acting_user,
    dependencies_health,
    health_asgi_app,
    health_wsgi_app,
    set_caller,
)
from nilecare_clients.observability.otel import instrument, uninstrument
from nilecare_clients.testing import (
    FakeClinicalService,
    FakeFacilityService,
    make_patient,
    set_testing,
)
from support import call

MISSING = "0e3f2a1b-9c8d-4e7f-8a6b-5c4d3e2f1a0b"


def clinical(kind: str, fake: FakeClinicalService) -> Any:
    cls = ClinicalServiceClient if kind == "sync" else AsyncClinicalServiceClient
    config = ServiceConfig(
        name="clinical", base_url="https://clinical.internal:7001", idempotency_keys_honoured=True
    )
    return cls(config=config, transport=fake.transport())


@pytest.fixture
def spans() -> Iterator[tuple[InMemorySpanExporter, TracerProvider]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrument(provider)
    yield exporter, provider
    uninstrument()


async def test_calls_are_client_spans_with_w3c_propagation(client_kind: str, spans: Any) -> None:
    """Each call is a CLIENT span named by method and route template, child of the active span,
    and the request carries its traceparent; no query value or id is in the span's name."""
    exporter, provider = spans
    fake = FakeClinicalService()
    patient = fake.create_patient()
    client = clinical(client_kind, fake)
    parent_tracer = provider.get_tracer("billing")
    with parent_tracer.start_as_current_span("create-invoice") as parent:
        await call(client.get_patient(patient["id"]))
        await call(client.list_patients(search="Amna"))
    finished = {s.name: s for s in exporter.get_finished_spans()}
    span = finished["GET /api/v1/patients/{id}"]
    assert span.kind == trace.SpanKind.CLIENT
    assert span.parent is not None and span.parent.span_id == parent.get_span_context().span_id
    attrs = dict(span.attributes or {})
    assert attrs["http.request.method"] == "GET"
    assert attrs["http.response.status_code"] == 200
    assert attrs["server.address"] == "clinical.internal" and attrs["server.port"] == 7001
    assert attrs["nilecare.correlation_id"] == fake.journal[0].correlation_id
    traceparent = fake.journal[0].headers["traceparent"]
    assert traceparent.split("-")[1] == format(parent.get_span_context().trace_id, "032x")
    assert traceparent.split("-")[2] == format(span.context.span_id, "016x")
    list_span = finished["GET /api/v1/patients"]
    assert (
        "Amna" not in json.dumps(dict(list_span.attributes or {}))
        and patient["id"] not in span.name
    )


async def test_failed_call_span_has_error_status(client_kind: str, spans: Any) -> None:
    """A call that ends in an error marks its span as an error with the error type."""
    exporter, _ = spans
    with pytest.raises(NotFoundError):
        await call(clinical(client_kind, FakeClinicalService()).get_patient(MISSING))
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code == trace.StatusCode.ERROR
    assert dict(span.attributes or {})["error.type"] == "NotFoundError"


async def test_dependencies_health_report_and_handlers() -> None:
    """The report lists each service's breaker and cache; the ASGI and WSGI handlers serve it."""
    fake_clinical, fake_facility = FakeClinicalService(), FakeFacilityService()
    fake_clinical.faults.reset_connection(15)  # the service is gone: 15 calls, no answer
    client = clinical("sync", fake_clinical)
    with set_testing(attempts=1):
        for _ in range(15):
            with pytest.raises(ServiceError):
                client.get_patients_count()
    facilities = FacilityServiceClient(
        config=ServiceConfig(name="facility", base_url="http://facility.fake"),
        transport=fake_facility.transport(),
    )
    stored = fake_facility.create_facility()
    facilities.get_facility(stored["facilityId"])
    facilities.get_facility(stored["facilityId"])
    report = dependencies_health()
    assert report["status"] == "degraded"
    assert report["services"]["clinical"]["breaker_state"] == "open"
    assert report["services"]["clinical"]["failure_rate"] == 1.0
    assert 29 < report["services"]["clinical"]["seconds_until_probe"] <= 30
    assert report["services"]["facility"]["cache"] == {
        "size": 1,
        "max_entries": 10000,
        "hit_ratio": 0.5,
        "stale_serves": 0,
    }
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=health_asgi_app()), base_url="http://s"
    ) as http:
        response = await http.get("/")
        served = response.json()
        assert response.status_code == 200 and served["status"] == "degraded"
        # Everything but the countdown, which moves on the real clock between the two reads.
        for report_ in (served, report):
            report_["services"]["clinical"].pop("seconds_until_probe")
        assert served == report
    strict = httpx.WSGITransport(app=health_wsgi_app(fail_when_degraded=True))
    with httpx.Client(transport=strict, base_url="http://s") as http:
        assert http.get("/").status_code == 503


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.events: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.events.append(record.audit)  # type: ignore[attr-defined]


@pytest.fixture
def audit() -> Iterator[_Capture]:
    handler = _Capture()
    logger = logging.getLogger(AUDIT_LOGGER_NAME)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(logging.NOTSET)
    set_caller(None)


async def test_patient_access_is_audited_apart_from_debug_logs(
    client_kind: str, audit: _Capture
) -> None:
    """Reads and writes of patient data emit audit events with who/what/which/outcome; debug logs carry no ids."""
    fake = FakeClinicalService()
    stored = fake.create_patient()
    client = clinical(client_kind, fake)
    set_caller("billing")
    with acting_user("user-42"), capture_logs() as debug_logs:
        await call(client.get_patient(stored["id"]))
        created = await call(client.create_patient(make_patient(seed=9)))
        with pytest.raises(NotFoundError):
            await call(client.get_patient(MISSING))
    read, write, missing = audit.events
    assert read["caller"] == "billing" and read["user_id"] == "user-42"
    assert (read["operation"], read["resource_type"], read["resource_id"], read["outcome"]) == (
        "GET /api/v1/patients/{id}",
        "patient",
        stored["id"],
        "success",
    )
    assert read["correlation_id"] == fake.journal[0].correlation_id and read["at"].endswith("Z")
    assert (write["operation"], write["resource_id"]) == ("POST /api/v1/patients", created.id)
    assert (missing["resource_id"], missing["outcome"]) == (MISSING, "NotFoundError")
    for identifier in (stored["id"], created.id, MISSING):
        assert identifier not in repr(debug_logs)


def test_facility_calls_are_not_audited(audit: _Capture) -> None:
    """Reference data is not patient data: Facility calls emit no audit event."""
    fake = FakeFacilityService()
    stored = fake.create_facility()
    client = FacilityServiceClient(
        config=ServiceConfig(name="facility", base_url="http://f"), transport=fake.transport()
    )
    client.get_facility(stored["facilityId"])
    assert audit.events == []


async def test_span_records_how_often_the_request_was_resent(client_kind: str, spans: Any) -> None:
    """A call answered on its third attempt records http.request.resend_count = 2; a first-try
    success records none."""
    import httpx

    from nilecare_clients import AsyncBaseServiceClient, BaseServiceClient, RetryPolicy

    exporter, _ = spans
    answers = [503, 503, 200, 200]

    def handler(request: httpx.Request) -> httpx.Response:
        status = answers.pop(0)
        body = {"success": status == 200, "data": {"id": "p-1"}}
        return httpx.Response(status, json=body)

    config = ServiceConfig(
        name="clinical",
        base_url="http://clinical.test",
        retry=RetryPolicy(backoff_base=0, sleep=lambda _: None, async_sleep=_no_sleep),
    )
    if client_kind == "sync":
        client: Any = BaseServiceClient(config=config, transport=httpx.MockTransport(handler))
    else:
        client = AsyncBaseServiceClient(config=config, transport=httpx.MockTransport(handler))
    for _ in range(2):
        await call(client._request("GET", "/api/v1/patients/{id}", path_params={"id": "p-1"}))
    first, second = exporter.get_finished_spans()
    assert dict(first.attributes or {})["http.request.resend_count"] == 2
    assert "http.request.resend_count" not in dict(second.attributes or {})


async def _no_sleep(_: float) -> None:
    return None

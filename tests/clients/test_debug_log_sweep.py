"""Every logger at DEBUG, across representative calls: no patient id, name, token or key.

The root logger and every logger that exists are set to DEBUG and every record is kept
(httpx, httpcore, h11, aiohttp, asyncio, urllib3, the library's own logger or structlog), while
a Clinical client with an API key and a token provider makes, on a real loopback server:
a get by patient id (200, its answer naming the id in a header), a search by the patient's name (200), a 404 and a 500 whose bodies
echo the name and the id, a retried 500, a read timeout, and a call refused by the open
breaker. No record's message, arguments or exception text may hold the id, the name (the
search term), the token or the key. The sync client and both async transports are swept.

The access-audit logger (``nilecare_clients.audit``) is left out on purpose: its events carry
the patient id by design and never propagate to these handlers (``observability.audit``).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import structlog
from client_payloads import FIRST_NAME, LAST_NAME, PATIENT_ID, clinical_page, patient_row
from pydantic import SecretStr
from structlog.testing import capture_logs

from nilecare_clients import (
    AsyncClinicalServiceClient,
    CircuitOpenError,
    ClinicalServiceClient,
    NileCareError,
    NotFoundError,
    ServerError,
    ServiceConfig,
    ServiceTimeoutError,
)
from scripted_server import Action, scripted_server
from support import call

TOKEN = "eyJhbGciOi.sweep-secret.token"
API_KEY = "sk-live-sweep-1234567"
NAME = f"{FIRST_NAME} {LAST_NAME}"
FORBIDDEN = (PATIENT_ID, PATIENT_ID.split("-")[0], FIRST_NAME, LAST_NAME, TOKEN, API_KEY)
ECHO = {
    "success": False,
    "error": {"code": "X", "message": f"patient {NAME} ({PATIENT_ID}) failed"},
}


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def every_logger_at_debug() -> Iterator[_Keep]:
    """Root and every existing logger at DEBUG; one handler sees every record."""
    import aiohttp  # noqa: F401 - their loggers exist before the sweep starts
    import h11  # noqa: F401
    import httpcore  # noqa: F401
    import urllib3  # noqa: F401

    keep = _Keep()
    root = logging.getLogger()
    saved: list[tuple[logging.Logger, int]] = [(root, root.level)]
    extra: list[logging.Logger] = []
    root.setLevel(logging.DEBUG)
    root.addHandler(keep)
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger):
            saved.append((logger, logger.level))
            logger.setLevel(logging.DEBUG)
            if not logger.propagate:
                logger.addHandler(keep)
                extra.append(logger)
    try:
        yield keep
    finally:
        root.removeHandler(keep)
        for logger in extra:
            logger.removeHandler(keep)
        for logger, level in saved:
            logger.setLevel(level)


_PLAIN_RECORD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None)))


def _texts(record: logging.LogRecord) -> list[str]:
    texts = [record.getMessage(), repr(record.msg), repr(record.args)]
    if record.exc_info and record.exc_info[1] is not None:
        texts.append("".join(traceback.format_exception(record.exc_info[1])))
    texts.extend(repr(v) for k, v in vars(record).items() if k not in _PLAIN_RECORD)
    return texts


@pytest.fixture(params=["sync", "urllib3", "httpx", "aiohttp"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def make(kind: str) -> AsyncIterator[Callable[[str], Any]]:
    made: list[Any] = []

    def factory(url: str) -> Any:
        extra: dict[str, Any] = {
            "sync": {},
            "urllib3": {"sync_transport": "urllib3"},
        }.get(kind, {"async_transport": kind})
        config = ServiceConfig(
            name="clinical",
            base_url=url,
            api_key=SecretStr(API_KEY),
            token_provider=lambda: TOKEN,
            read_timeout=0.3,
            retry={"backoff_base": 0, "max_attempts": 2},
            breaker={"consecutive_failures": 1},
            **extra,
        )
        sync = kind in ("sync", "urllib3")
        cls = ClinicalServiceClient if sync else AsyncClinicalServiceClient
        client = cls(config=config)
        made.append(client)
        return client

    yield factory
    for client in made:
        if isinstance(client, AsyncClinicalServiceClient):
            await client.aclose()
        else:
            client.close()


@pytest.mark.parametrize("sink", ["logging", "structlog"])
async def test_no_phi_or_secret_in_any_debug_record(make: Any, kind: str, sink: str) -> None:
    """Seven representative calls, every record of every logger: none holds the patient's id
    or name, the token or the API key (the library's events through logging or structlog)."""
    if sink == "logging":
        structlog.reset_defaults()  # an earlier capture_logs leaves structlog "configured"
    page = clinical_page("patients", [patient_row()], 1, 20, 1)
    with scripted_server() as server, every_logger_at_debug() as keep:
        server.script(
            Action(
                body={"success": True, "data": patient_row()},
                headers={"Content-Location": f"/api/v1/patients/{PATIENT_ID}"},
            ),
            Action(body=page),
            Action(status=404, body=ECHO),
            Action(status=500, body=ECHO),
            Action(status=500, body=ECHO),
            Action(status=500, body=ECHO),
            Action(status=500, body=ECHO),
            Action(delay=0.6),
            Action(delay=0.6),
        )
        client = make(server.url)
        errors: list[NileCareError] = []
        structlog_events: list[Any] = []
        with capture_logs() if sink == "structlog" else _nothing() as events:
            assert (await call(client.get_patient(PATIENT_ID))).id == PATIENT_ID
            assert (await call(client.search_patients(NAME))).items
            for expected in (
                NotFoundError,
                ServerError,
                ServerError,
                ServiceTimeoutError,  # a call with no answer: the service is gone (below)
                CircuitOpenError,
            ):
                with pytest.raises(expected) as info:
                    if expected is ServerError and errors:
                        await call(client.search_patients(NAME))
                    else:
                        await call(client.get_patient(PATIENT_ID))
                errors.append(info.value)
            structlog_events = list(events)
        assert server.count() == 9
        assert server.requests[1].path.count(FIRST_NAME) == 1  # the name did go on the wire
    records = [r for r in keep.records if not r.name.startswith("nilecare_clients.audit")]
    names = {r.name.split(".")[0] for r in records}
    # The request line of the package in use shows the template (aiohttp logs none).
    line_logger = {"urllib3": "urllib3.connectionpool", "aiohttp": None}.get(kind, "httpx")
    assert "httpcore" in names or line_logger != "httpx"
    request_lines = [r.getMessage() for r in records if r.name == line_logger]
    assert line_logger is None or any("/api/v1/patients/{id}" in line for line in request_lines)
    if sink == "logging":
        assert "nilecare_clients" in names
    else:
        assert structlog_events
    texts = [t for r in records for t in _texts(r)] + [repr(structlog_events)]
    texts += [str(e) for e in errors] + [repr(e) for e in errors]
    leaks = [(secret, text) for text in texts for secret in FORBIDDEN if secret in text]
    assert not leaks, leaks[:3]


@contextmanager
def _nothing() -> Iterator[list[Any]]:
    yield []


def test_httpcore_trace_keeps_only_the_step_the_address_and_the_failure_class() -> None:
    """A trace record quoting a token in a failure, or headers in a return value, keeps the
    step's name, a connect's host and port, and the failure's class: nothing else."""
    from nilecare_clients._http import install_log_filter

    install_log_filter()
    with every_logger_at_debug() as keep:
        trace = logging.getLogger("httpcore.http11")
        trace.debug(
            "send_request_headers.failed exception=LocalProtocolError("
            f"\"Illegal header value b'Bearer {TOKEN}\\\\n'\")"
        )
        trace.debug(
            f"receive_response_headers.complete return_value=[(b'Location', b'{PATIENT_ID}')]"
        )
        logging.getLogger("httpcore.connection").debug(
            "connect_tcp.started host='127.0.0.1' port=8080 local_address=None timeout=5.0"
        )
    assert [r.getMessage() for r in keep.records] == [
        "send_request_headers.failed exception=LocalProtocolError",
        "receive_response_headers.complete",
        "connect_tcp.started host='127.0.0.1' port=8080",
    ]

"""PHI and secrets never reach a log line, an exception message or a repr."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, SecretStr
from structlog.testing import capture_logs

from nilecare_clients import NileCareError, ResponseValidationError, ServiceConfig, ServiceError
from nilecare_clients.testing import set_testing
from support import call

NAME = "Amna Osman"
PHONE = "+249912345678"
API_KEY = "sk-live-abcdef123"
TOKEN = "eyJhbGciOi.secret.token"


class Patient(BaseModel):
    id: str


@pytest.mark.parametrize("status", [200, 200_1, 400, 404, 500])
async def test_phi_and_secrets_stay_out_of_logs_errors_and_reprs(
    status: int, make_client: Any, config: ServiceConfig, caplog: pytest.LogCaptureFixture
) -> None:
    """A search by name and phone, answered with that patient (or an error echoing it), leaks neither."""
    body = {"success": status < 300, "data": {"id": "p1", "firstName": NAME, "phoneNumber": PHONE}}
    if status == 200_1:  # a success body that does not fit the model
        body = {"success": True, "data": {"firstName": NAME, "phoneNumber": PHONE}}
    elif status >= 400:
        body = {
            "success": False,
            "error": {
                "code": "VALIDATION_ERROR",
                "message": f"patient {NAME} with phone {PHONE} is invalid",
                "details": {"fields": {"phoneNumber": [f"{PHONE} is not valid"]}},
            },
        }

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status if status < 1000 else 200, json=body)

    cfg = config.model_copy(update={"api_key": SecretStr(API_KEY), "token_provider": lambda: TOKEN})
    client = make_client(cfg, handler)
    caplog.set_level(logging.DEBUG)
    error: Exception | None = None
    with capture_logs() as logs, set_testing(attempts=2):
        try:
            await call(
                client._request(
                    "GET",
                    "/api/v1/patients",
                    params={"search": NAME, "phone": PHONE},
                    response_model=Patient,
                    envelope_key=None,
                )
            )
        except NileCareError as exc:
            error = exc
    texts = [repr(logs), caplog.text, repr(cfg), str(cfg), repr(client)]
    if error is not None:
        texts += [str(error), repr(error), repr(error.args)]
    for text in texts:
        for secret in (NAME, "Amna", PHONE, "912345678", API_KEY, TOKEN):
            assert secret not in text
    assert logs, "the call must have logged something"
    if status >= 400:
        assert isinstance(error, ServiceError | ResponseValidationError)
        assert error.body and NAME.encode() in error.body


def test_httpx_request_log_loses_its_query(caplog: pytest.LogCaptureFixture) -> None:
    """httpx's own INFO request log keeps the path but drops the query (a search holds a name)."""
    from nilecare_clients._http import install_log_filter

    install_log_filter()  # the first client installs it; here no client is built

    caplog.set_level(logging.INFO, logger="httpx")
    transport = httpx.MockTransport(lambda r: httpx.Response(200))
    with httpx.Client(transport=transport) as client:
        client.get("http://clinical.test/api/v1/patients", params={"search": NAME})
    assert "/api/v1/patients" in caplog.text
    assert "Amna" not in caplog.text

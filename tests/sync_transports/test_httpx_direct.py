"""The httpx wire's direct path (``HttpxWire._send_direct``): a client built here sends to its
transport without ``Client.send``, and what ``send`` did that shows is kept."""

from __future__ import annotations

import gzip
import json
import logging

import httpx
import pytest
from pydantic import BaseModel

from nilecare_clients import BaseServiceClient, ServiceConfig
from scripted_server import Action, scripted_server


class Thing(BaseModel):
    id: str


def config_for(url: str) -> ServiceConfig:
    return ServiceConfig(name="clinical", base_url=url)


def get_thing(client: BaseServiceClient) -> Thing:
    result: Thing = client._request(
        "GET", "/api/v1/things/{id}", path_params={"id": "t1"}, response_model=Thing
    )
    return result


def test_only_a_client_built_here_goes_direct() -> None:
    with scripted_server() as server:
        built = BaseServiceClient(config=config_for(server.url))
        injected = BaseServiceClient(
            config=config_for(server.url), http_client=httpx.Client(base_url=server.url)
        )
        with_userinfo = BaseServiceClient(config=config_for(server.url.replace("//", "//user:pw@")))
        try:
            assert built._wire._direct is not None  # type: ignore[attr-defined]
            assert injected._wire._direct is None  # type: ignore[attr-defined]
            assert with_userinfo._wire._direct is None  # type: ignore[attr-defined]
            assert get_thing(built).id == get_thing(injected).id == "p-1"
        finally:
            for client in (built, injected, with_userinfo):
                client.close()


def test_a_compressed_body_is_decoded() -> None:
    body = gzip.compress(json.dumps({"success": True, "data": {"id": "z-1"}}).encode())
    with scripted_server() as server:
        server.script(
            Action(
                raw_body=body,
                headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
            )
        )
        with BaseServiceClient(config=config_for(server.url)) as client:
            assert get_thing(client).id == "z-1"


@pytest.mark.parametrize("injected", [False, True])
def test_a_cookie_set_by_the_service_is_sent_back_as_before(injected: bool) -> None:
    with scripted_server() as server:
        server.script(Action(headers={"Set-Cookie": "sid=abc; Path=/"}))
        http = httpx.Client(base_url=server.url) if injected else None
        with BaseServiceClient(config=config_for(server.url), http_client=http) as client:
            get_thing(client)
            get_thing(client)
        assert "cookie" not in server.requests[0].headers
        assert server.requests[1].headers["cookie"] == "sid=abc"


def test_httpx_request_line_is_still_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="httpx")
    with scripted_server() as server:
        with BaseServiceClient(config=config_for(server.url)) as client:
            get_thing(client)
    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert lines == [f'HTTP Request: GET {server.url}/api/v1/things/{{id}} "HTTP/1.1 200 X"']

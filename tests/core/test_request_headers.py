"""Fixed headers reach every request whether the http client was built here or injected."""

from __future__ import annotations

import asyncio

import httpx

from nilecare_clients import AsyncBaseServiceClient, BaseServiceClient, ServiceConfig

OK = {"success": True, "data": None}


def recorder() -> tuple[list[httpx.Request], httpx.MockTransport]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=OK)

    return seen, httpx.MockTransport(handler)


def config(**changes: object) -> ServiceConfig:
    values: dict[str, object] = {"name": "clinical", "base_url": "http://c.test"}
    values.update(changes)
    return ServiceConfig(**values)  # type: ignore[arg-type]


def test_built_client_sends_fixed_headers() -> None:
    """A client built here sends Accept, User-Agent, the API key and configured headers."""
    seen, transport = recorder()
    client = BaseServiceClient(
        config=config(api_key="k1", headers={"X-Tenant": "t1"}), transport=transport
    )
    client._request("GET", "/x")
    client._request("GET", "/x")
    for request in seen:
        assert request.headers["Accept"] == "application/json"
        assert request.headers["User-Agent"].startswith("nilecare-clients/")
        assert request.headers["X-API-Key"] == "k1"
        assert request.headers["X-Tenant"] == "t1"
        assert len(request.headers.get_list("Accept")) == 1


def test_with_options_copies_send_their_own_headers() -> None:
    """A with_options copy sharing the pool sends its own values, and drops a removed key."""
    seen, transport = recorder()
    client = BaseServiceClient(config=config(api_key="k1"), transport=transport)
    client.with_options(api_key=None, user_agent="other/2")._request("GET", "/x")
    client._request("GET", "/x")
    copy_request, original_request = seen
    assert "X-API-Key" not in copy_request.headers
    assert copy_request.headers["User-Agent"] == "other/2"
    assert original_request.headers["X-API-Key"] == "k1"
    assert original_request.headers["User-Agent"].startswith("nilecare-clients/")


def test_injected_client_gets_every_header_on_every_call() -> None:
    """An injected client's own defaults never replace ours, even when changed later."""
    seen, transport = recorder()
    http = httpx.Client(transport=transport, headers={"User-Agent": "theirs/1"})
    client = BaseServiceClient(config=config(), http_client=http)
    client._request("GET", "/x")
    http.headers["Accept"] = "text/plain"
    client._request("GET", "/x")
    for request in seen:
        assert request.headers["User-Agent"].startswith("nilecare-clients/")
        assert request.headers["Accept"] == "application/json"


def test_async_built_client_sends_fixed_headers() -> None:
    """The async twin's built client sends the same fixed headers."""
    seen, transport = recorder()

    class Echo(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            return transport.handle_request(request)

    async def main() -> None:
        client = AsyncBaseServiceClient(config=config(api_key="k1"), transport=Echo())
        await client._request("GET", "/x")
        await client.with_options(api_key=None)._request("GET", "/x")
        await client.aclose()

    asyncio.run(main())
    assert seen[0].headers["Accept"] == "application/json"
    assert seen[0].headers["X-API-Key"] == "k1"
    assert "X-API-Key" not in seen[1].headers

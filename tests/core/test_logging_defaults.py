"""Without structlog configured by the host app, the library stays quiet (stdlib logging)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import logging, sys, httpx
    from nilecare_clients import BaseServiceClient, ServiceConfig, ServerError
    from nilecare_clients.testing import set_testing

    def handler(request):
        return httpx.Response(200 if request.url.path == "/ok" else 500, json={"success": True, "data": None})

    client = BaseServiceClient(
        config=ServiceConfig(name="clinical", base_url="http://c.test"),
        transport=httpx.MockTransport(handler),
    )
    set_testing(attempts=1)
    client._request("GET", "/ok")
    if sys.argv[1] == "debug":
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format="%(name)s %(message)s")
        client._request("GET", "/ok")
    try:
        client._request("GET", "/fail")
    except ServerError:
        pass
    """
)


def run(mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, timeout=60, check=True
    )


def test_nothing_on_stdout_and_only_warnings_on_stderr() -> None:
    """An app that never configured logging sees no per-request lines, only the failure warning."""
    result = run("quiet")
    assert result.stdout == ""
    assert "nilecare_clients.request" in result.stderr and "status=500" in result.stderr
    assert "status=200" not in result.stderr


def test_stdlib_logging_gets_debug_events_when_enabled() -> None:
    """An app that enables DEBUG on stdlib logging receives the per-attempt events there."""
    result = run("debug")
    assert result.stdout == ""
    assert "nilecare_clients nilecare_clients.request" in result.stderr
    assert "status=200" in result.stderr and "route=/ok" in result.stderr

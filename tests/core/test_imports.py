"""One seam imports httpx; the core loads nothing optional; httpx's request log shows templates."""

from __future__ import annotations

import ast
import contextlib
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from nilecare_clients import BaseServiceClient, NileCareError, ServiceConfig
from nilecare_clients._http import HTTP_LOGGER_NAME, httpx
from nilecare_clients.testing import set_testing

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "nilecare_clients"
PATIENT_ID = "3f1c2a9e-8d7b-4c6a-9e5f-1a2b3c4d5e6f"


def _runtime_imports(tree: ast.Module) -> list[str]:
    """Module-level imports, skipping ``if TYPE_CHECKING:`` blocks (annotations only)."""
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for sub in ast.walk(node) if isinstance(node, (ast.If, ast.Try)) else [node]:
            if isinstance(sub, ast.Import):
                names += [alias.name for alias in sub.names]
            elif isinstance(sub, ast.ImportFrom) and sub.module and not sub.level:
                names.append(sub.module)
    return names


def test_only_the_seam_imports_httpx() -> None:
    """No module but ``_http`` imports httpx at run time (TYPE_CHECKING imports are allowed)."""
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path.name != "_http.py"
        and any(
            n == "httpx" or n.startswith("httpx.")
            for n in _runtime_imports(ast.parse(path.read_text()))
        )
    ]
    assert offenders == []


def test_log_filter_follows_the_http_package_in_use() -> None:
    """The filter sits on the logger named after the imported package, not a literal."""
    assert httpx.__name__.partition(".")[0] == HTTP_LOGGER_NAME


def test_core_import_loads_nothing_optional() -> None:
    """``import nilecare_clients`` loads no opt-in layer (audit, otel, prometheus, redis, structlog)."""
    probe = (
        "import sys, nilecare_clients; "
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('opentelemetry', 'prometheus_client', 'redis', 'structlog') "
        "or m.startswith('nilecare_clients.observability'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == []


def test_importing_the_package_configures_no_logging() -> None:
    """No filter, handler or propagation change on any logger after a fresh import."""
    probe = (
        "import logging, nilecare_clients; "
        "names = ['httpx', 'nilecare_clients', 'nilecare_clients.audit', '']; "
        "ls = [logging.getLogger(n) for n in names]; "
        "print(sum(len(l.filters) + len(l.handlers) + (not l.propagate) for l in ls))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "0"


@pytest.mark.parametrize("status", [200, 404, 500])
def test_httpx_request_line_shows_the_route_template(
    status: int, caplog: pytest.LogCaptureFixture
) -> None:
    """httpx's INFO line names the route template, never the patient id or the search term."""
    caplog.set_level(logging.INFO, logger=HTTP_LOGGER_NAME)
    transport = httpx.MockTransport(lambda r: httpx.Response(status, json={"success": True}))
    config = ServiceConfig(name="clinical", base_url="http://clinical.test")
    with set_testing(), BaseServiceClient(config=config, transport=transport) as client:
        with contextlib.suppress(NileCareError):  # the status decides; the log line matters
            client._request(
                "GET",
                "/api/v1/patients/{id}",
                path_params={"id": PATIENT_ID},
                params={"search": "Amina Osman"},
                response_model=None,
                envelope_key=None,
            )
    lines = [r.getMessage() for r in caplog.records if r.name == HTTP_LOGGER_NAME]
    assert lines and all("/api/v1/patients/{id}" in line for line in lines)
    assert not any(PATIENT_ID in line or "Amina" in line for line in lines)

"""One seam imports httpx; the core loads nothing optional nor opt-in, lazily, and configures no
logging; httpx's request log shows templates.

The import tests run a fresh interpreter each (this process has loaded everything long ago),
with the optional extras importable and with them made unimportable, as in an install without
them. They check what gets loaded, not how long it takes (``bench/imports.py`` times it).
"""

from __future__ import annotations

import ast
import contextlib
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import nilecare_clients
import nilecare_clients.models
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


# --- what a fresh import loads ----------------------------------------------------------------

#: Third-party packages of the extras (redis, otel, prometheus, aiohttp, testing).
EXTRAS = (
    "redis",
    "opentelemetry",
    "prometheus_client",
    "aiohttp",
    "httpx_aiohttp",
    "respx",
    "starlette",
    "uvicorn",
    "pytest",
    "pytest_asyncio",
)
#: Never imported by the core: the extras, and structlog (used only when the app configured it).
NOT_BY_THE_CORE = (*EXTRAS, "structlog")
#: Our own opt-in modules: loaded only by the application (or by a setting that needs them).
OPT_IN = (
    "nilecare_clients.observability",
    "nilecare_clients.testing",
    "nilecare_clients._redis_tier",
    "nilecare_clients._aiohttp",
    "nilecare_clients.cli",
    "nilecare_clients._demo",
)
_BLOCK_EXTRAS = f"""
import sys
class _NoExtras:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {EXTRAS!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, _NoExtras())
"""
_REPORT = """
import json, logging, sys
root = logging.getLogger()
loggers = [root] + [
    v for v in logging.Logger.manager.loggerDict.values() if isinstance(v, logging.Logger)
]
print(json.dumps({
    "modules": sorted(sys.modules),
    "configured": sorted(
        n.name for n in loggers
        if n.handlers or n.filters or not n.propagate or (n is not root and n.level)
    ),
    "root_level": root.level,
}))
"""
ALL_PUBLIC_NAMES = (
    "import nilecare_clients, nilecare_clients.models\n"
    "for name in nilecare_clients.__all__: getattr(nilecare_clients, name)\n"
    "for name in nilecare_clients.models.__all__: getattr(nilecare_clients.models, name)\n"
)


def fresh(statements: str, *, extras: bool = True) -> dict[str, Any]:
    """Run ``statements`` in a new interpreter: the modules it loaded and the loggers it touched."""
    code = ("" if extras else _BLOCK_EXTRAS) + statements + "\n" + _REPORT
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _loaded(report: dict[str, Any], prefixes: tuple[str, ...]) -> list[str]:
    return [m for m in report["modules"] if any(m == p or m.startswith(p + ".") for p in prefixes)]


@pytest.mark.parametrize("extras", [True, False], ids=["with-extras", "without-extras"])
def test_import_nilecare_clients_loads_only_the_package(extras: bool) -> None:
    """``import nilecare_clients`` loads no submodule but the version, nor httpx nor pydantic."""
    report = fresh("import nilecare_clients", extras=extras)
    assert _loaded(report, ("nilecare_clients",)) == [
        "nilecare_clients",
        "nilecare_clients._version",
    ]
    assert _loaded(report, ("httpx", "pydantic", *NOT_BY_THE_CORE)) == []


@pytest.mark.parametrize("extras", [True, False], ids=["with-extras", "without-extras"])
def test_every_public_name_loads_nothing_optional_nor_opt_in(extras: bool) -> None:
    """Using every public name of the package and of ``models`` loads no extra, no opt-in layer
    (audit, observability, testing, the Redis tier, the aiohttp transport) and no structlog."""
    report = fresh(ALL_PUBLIC_NAMES, extras=extras)
    assert _loaded(report, NOT_BY_THE_CORE) == []
    assert _loaded(report, OPT_IN) == []


def test_the_clinical_client_does_not_load_the_facility_side() -> None:
    """Naming the Clinical client loads its models, not the Facility client, models or cache."""
    report = fresh("from nilecare_clients import ClinicalServiceClient, ServiceConfig")
    facility_side = (
        "nilecare_clients.facility",
        "nilecare_clients.models.facility",
        "nilecare_clients._cache",
    )
    assert _loaded(report, facility_side) == []
    assert "nilecare_clients.clinical" in report["modules"]


@pytest.mark.parametrize(
    "statements",
    ["import nilecare_clients", ALL_PUBLIC_NAMES],
    ids=["import", "every-public-name"],
)
def test_importing_the_package_configures_no_logging(statements: str) -> None:
    """No handler, filter, level or propagation change on any logger, root included."""
    report = fresh(statements)
    assert report["configured"] == []
    assert report["root_level"] == logging.WARNING


def test_an_error_says_the_package_although_the_caller_named_only_the_client() -> None:
    """Public names loaded as a side effect (the errors a client raises) say ``nilecare_clients``."""
    report = fresh(
        "from nilecare_clients import ClinicalServiceClient\n"
        "from nilecare_clients._errors import NotFoundError\n"
        "assert NotFoundError.__module__ == 'nilecare_clients', NotFoundError.__module__\n"
    )
    assert "nilecare_clients._errors" in report["modules"]


# --- the lazy namespaces ------------------------------------------------------------------------


def _type_checking_imports(path: Path) -> dict[str, str]:
    """``{name: module}`` from the ``if TYPE_CHECKING:`` block: what type checkers see."""
    found: dict[str, str] = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for sub in node.body:
                assert isinstance(sub, ast.ImportFrom) and sub.module
                found.update((alias.name, sub.module) for alias in sub.names)
    return found


@pytest.mark.parametrize("namespace", [nilecare_clients, nilecare_clients.models], ids=str)
def test_type_checkers_and_the_lazy_table_see_the_same_names(namespace: Any) -> None:
    """Each name in ``__all__`` is imported for type checkers from the module it loads from."""
    init = Path(namespace.__file__)
    seen = _type_checking_imports(init)
    lazy = {name: f"{namespace.__name__}.{module}" for name, module in namespace._HOME.items()}
    assert seen == lazy
    assert set(namespace.__all__) - {"__version__"} == set(lazy)
    for name, module in lazy.items():
        assert getattr(namespace, name) is getattr(sys.modules[module], name), name


def test_unknown_names_fail_as_for_any_module() -> None:
    """A typo is an AttributeError (and ``from ... import`` an ImportError), never None."""
    with pytest.raises(AttributeError, match="has no attribute 'ServiceConfg'"):
        nilecare_clients.ServiceConfg  # type: ignore[attr-defined]  # noqa: B018
    with pytest.raises(ImportError):
        from nilecare_clients.models import Patients  # type: ignore[attr-defined]  # noqa: F401
    assert set(nilecare_clients.__all__) <= set(dir(nilecare_clients))
    assert set(nilecare_clients.models.__all__) <= set(dir(nilecare_clients.models))

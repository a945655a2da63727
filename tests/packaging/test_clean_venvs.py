"""The built wheel in clean virtual environments, as service teams install it (issue 16).

(a) core only + pytest: a team's plain suite runs green, as if we were absent;
(b) core + ``testing``: a team's suite keeps its own ``RetryPolicy(max_attempts=5)``, and our
    fixtures work in pytest-asyncio's default strict mode;
(c) core only: a fixture whose extra is missing fails with one line naming the extra.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow
Venv = tuple[Path, dict[str, str]]


def suite(tmp_path: Path, source: str) -> Path:
    """A team's project: one test module, no pytest configuration of its own."""
    (tmp_path / "test_team.py").write_text(textwrap.dedent(source))
    return tmp_path


def pytest_in(venv: Venv, sh: Any, project: Path, ok: bool = True) -> Any:
    python, env = venv
    return sh(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", env=env, cwd=project, ok=ok)


def test_core_only_runs_a_plain_suite_green(core_venv: Venv, sh: Any, tmp_path: Path) -> None:
    """(a) With only the core and pytest, a plain suite passes; the plugin loads nothing optional."""
    python, env = core_venv
    installed = sh(python, "-m", "pip", "list", "--format=freeze", env=env).stdout.lower()
    assert "starlette" not in installed and "pytest-asyncio" not in installed
    project = suite(
        tmp_path,
        """
        import sys
        from nilecare_clients import RetryPolicy

        def test_service_logic():
            assert RetryPolicy(max_attempts=5).max_attempts == 5

        def test_plugin_loaded_nothing_optional(pytestconfig):
            assert pytestconfig.pluginmanager.has_plugin("nilecare_clients")
            assert not {"starlette", "respx", "uvicorn", "pytest_asyncio"} & set(sys.modules)
        """,
    )
    result = pytest_in(core_venv, sh, project)
    assert "2 passed" in result.stdout
    assert "warning" not in result.stdout.lower()


def test_missing_extra_fails_with_one_line(core_venv: Venv, sh: Any, tmp_path: Path) -> None:
    """(c) In the core-only venv, a fixture from the testing extra fails with one line naming it."""
    project = suite(
        tmp_path,
        """
        def test_uses_a_fake(fake_clinical):
            pass

        def test_uses_an_async_client(async_clinical_client):
            pass

        def test_unaffected():
            pass
        """,
    )
    result = pytest_in(core_venv, sh, project, ok=False)
    out = result.stdout
    assert result.returncode == 1, out
    assert "1 passed, 2 errors" in out
    hint = "needs the 'testing' extra: pip install \"nilecare-clients[testing]\""
    assert f"fixture 'fake_clinical' {hint} (missing module 'starlette')" in out
    assert f"fixture 'async_clinical_client' {hint} (missing module 'pytest_asyncio')" in out
    assert "Traceback" not in out and "ModuleNotFoundError" not in out


def test_team_retry_policy_is_honoured(testing_venv: Venv, sh: Any, tmp_path: Path) -> None:
    """(b) With the testing extra, a team's RetryPolicy(max_attempts=5) makes 5 attempts against a 503 server; async fixtures work in strict mode."""
    project = suite(
        tmp_path,
        """
        import pytest
        import pytest_asyncio
        from nilecare_clients import (
            AsyncClinicalServiceClient, ClinicalServiceClient, RetryPolicy, ServiceConfig,
            ServiceUnavailableError,
        )

        POLICY = RetryPolicy(max_attempts=5, backoff_base=0.01, budget_min_per_second=100)

        def test_sync_five_attempts(fake_clinical):
            fake_clinical.faults.outage()          # every request answers 503
            with fake_clinical.serve() as url:      # a real loopback socket
                config = ServiceConfig(name="clinical", base_url=url, retry=POLICY)
                with ClinicalServiceClient(config=config) as client:
                    with pytest.raises(ServiceUnavailableError):
                        client.get_patients_count()
            assert len(fake_clinical.journal) == 5

        @pytest.mark.asyncio                        # strict mode: the one line it needs
        async def test_async_five_attempts(fake_clinical):
            fake_clinical.faults.outage()
            with fake_clinical.serve() as url:
                config = ServiceConfig(name="clinical", base_url=url, retry=POLICY)
                async with AsyncClinicalServiceClient(config=config) as client:
                    with pytest.raises(ServiceUnavailableError):
                        await client.get_patients_count()
            assert len(fake_clinical.journal) == 5

        @pytest_asyncio.fixture
        async def stored(fake_facility):
            return fake_facility.create_facility()

        @pytest.mark.asyncio
        async def test_fixtures_in_strict_mode(async_facility_client, stored, clinical_client):
            assert await async_facility_client.facility_exists(stored["facilityId"])
            assert clinical_client.get_patients_count() == 0
        """,
    )
    result = pytest_in(testing_venv, sh, project)
    assert "3 passed" in result.stdout

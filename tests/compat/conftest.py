"""The compatibility run: typed clients against the real services (``make compat`` only).

Skipped entirely unless ``NILECARE_COMPAT=1`` (``make test`` never collects these files).
``run_compat.sh`` sets it after ``harness/services.sh up`` has booted the services. At the end
of the session the rows collected by every test replace the generated part of
``docs/compatibility.md`` (below the ``GENERATED`` line; the text above it is written by hand).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

if os.environ.get("NILECARE_COMPAT") != "1":
    collect_ignore_glob = ["test_*.py"]

from compat._real import ENV_FILE, RECORDER, Compat, Recorder, typed_methods
from nilecare_clients import ClinicalServiceClient, FacilityServiceClient

DOC = Path(__file__).resolve().parents[2] / "docs" / "compatibility.md"
#: ``docs/compatibility.md`` is written by hand down to this line and by the run below it.
GENERATED = "<!-- Everything below is written by `make compat` (tests/compat): do not edit. -->"


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("NILECARE_COMPAT") == "1" and not ENV_FILE.exists():
        raise pytest.UsageError(
            f"NILECARE_COMPAT=1 but {ENV_FILE} is missing: run harness/services.sh up first"
        )


def _whole_run(config: pytest.Config) -> bool:
    """No ``-k``, ``-m``, file or node id narrowed the run: only then must every method be called."""
    narrowed = config.option.keyword or config.option.markexpr
    return not narrowed and all(Path(arg).is_dir() for arg in config.args)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("NILECARE_COMPAT") != "1" or not RECORDER.rows:
        return
    missing = {
        "clinical": sorted(set(typed_methods(ClinicalServiceClient)) - RECORDER.called("clinical")),
        "facility": sorted(set(typed_methods(FacilityServiceClient)) - RECORDER.called("facility")),
    }
    if _whole_run(session.config) and any(missing.values()):
        # Checked once every test has run, whatever their order: each typed method of both
        # services must have a row, called by the sync and by the async client.
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"compat: not called sync and async: {missing}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if os.environ.get("NILECARE_COMPAT_WRITE_DOC", "1") != "1":
        return
    source = os.environ.get("NILECARE_SOURCE", "")
    commit = "unknown"
    if source:
        done = subprocess.run(
            ["git", "-C", source, "rev-parse", "--short=9", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        )
        commit = done.stdout.strip() or "unknown"
    failed = session.testsfailed
    current = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    by_hand = current.split(GENERATED)[0] if GENERATED in current else ""
    results = RECORDER.render(upstream_commit=commit, failed=failed, missing=missing)
    DOC.write_text(f"{by_hand}{GENERATED}\n\n{results}\n", encoding="utf-8")


@pytest.fixture(params=["sync", "async"])
async def compat(request: pytest.FixtureRequest) -> AsyncIterator[Compat]:
    helper = Compat(str(request.param))
    yield helper
    await helper.aclose()


@pytest.fixture
def recorder() -> Recorder:
    return RECORDER

"""The compatibility run: typed clients against the real services (``make compat`` only).

Skipped entirely unless ``NILECARE_COMPAT=1`` (``make test`` never collects these files).
``run_compat.sh`` sets it after ``up.sh`` has booted the services. At the end of the session
the rows collected by every test are written to ``docs/compatibility.md``.
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


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("NILECARE_COMPAT") == "1" and not ENV_FILE.exists():
        raise pytest.UsageError(f"NILECARE_COMPAT=1 but {ENV_FILE} is missing: run up.sh first")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("NILECARE_COMPAT") != "1" or not RECORDER.rows:
        return
    if os.environ.get("NILECARE_COMPAT_WRITE_DOC", "1") != "1":
        return
    missing = {
        "clinical": sorted(set(typed_methods(ClinicalServiceClient)) - RECORDER.called("clinical")),
        "facility": sorted(set(typed_methods(FacilityServiceClient)) - RECORDER.called("facility")),
    }
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
    DOC.write_text(
        RECORDER.render(upstream_commit=commit, failed=failed, missing=missing) + "\n",
        encoding="utf-8",
    )


@pytest.fixture(params=["sync", "async"])
async def compat(request: pytest.FixtureRequest) -> AsyncIterator[Compat]:
    helper = Compat(str(request.param))
    yield helper
    await helper.aclose()


@pytest.fixture
def recorder() -> Recorder:
    return RECORDER

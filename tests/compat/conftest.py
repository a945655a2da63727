"""The compatibility cases: typed clients against the real services and the today fakes.

With ``NILECARE_COMPAT=1`` (``make compat``: ``run_compat.sh`` sets it after
``harness/services.sh up``) every case runs four times: sync and async, against the real
services and against the ``today`` fakes (``_fake.py``). At the end of the session the rows
replace the generated part of ``docs/compatibility.md`` (below the ``GENERATED`` line; the text
above it is written by hand), with a column saying whether the fake agrees; the run fails on a
difference not listed in ``known_differences.toml`` and on a listed one that no longer differs.

Without it (``make test``) every case runs against the today fakes only and each call is
compared with the committed table: no services needed, every recorded row replayed.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from compat._real import ENV_FILE, RECORDER, Compat, Recorder, typed_methods
from compat._shape import save as save_bodies
from compat._table import DOC, GENERATED, recorded_probes
from nilecare_clients import ClinicalServiceClient, FacilityServiceClient

REAL = os.environ.get("NILECARE_COMPAT") == "1"
#: (client kind, target) of each run of a case.
RUNS = [
    f"{kind}-{target}"
    for target in (("real", "fake") if REAL else ("fake",))
    for kind in ("sync", "async")
]


def pytest_configure(config: pytest.Config) -> None:
    if REAL and not ENV_FILE.exists():
        raise pytest.UsageError(
            f"NILECARE_COMPAT=1 but {ENV_FILE} is missing: run harness/services.sh up first"
        )


def _whole_run(config: pytest.Config) -> bool:
    """No ``-k``, ``-m``, file or node id narrowed the run: only then must every method be called."""
    narrowed = config.option.keyword or config.option.markexpr
    return not narrowed and all(Path(arg).is_dir() for arg in config.args)


def _fail(session: pytest.Session, message: str) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"compat: {message}", red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not RECORDER.rows:
        return
    target = "real" if REAL else "fake"
    missing = {
        "clinical": sorted(
            set(typed_methods(ClinicalServiceClient)) - RECORDER.called("clinical", target)
        ),
        "facility": sorted(
            set(typed_methods(FacilityServiceClient)) - RECORDER.called("facility", target)
        ),
    }
    whole = _whole_run(session.config)
    if whole and any(missing.values()):
        # Checked once every test has run, whatever their order: each typed method of both
        # services must have a row, called by the sync and by the async client.
        _fail(session, f"not called sync and async: {missing}")
    if not REAL:
        unreplayed = sorted(recorded_probes() - RECORDER.probes("fake"))
        if whole and unreplayed:
            _fail(session, f"recorded probes the today fakes did not replay: {unreplayed}")
        return
    unlisted, stale = RECORDER.disagreements()
    if whole and unlisted:
        _fail(session, f"the today fake differs, not in known_differences.toml: {unlisted}")
    if whole and stale:
        _fail(session, f"known_differences.toml lists probes that no longer differ: {stale}")
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
    save_bodies(RECORDER.bodies())


@pytest.fixture(params=RUNS)
async def compat(request: pytest.FixtureRequest) -> AsyncIterator[Compat]:
    kind, target = str(request.param).split("-")
    helper = Compat(kind, target, replay=not REAL)
    yield helper
    await helper.aclose()


@pytest.fixture
def recorder() -> Recorder:
    return RECORDER

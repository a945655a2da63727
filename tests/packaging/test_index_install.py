"""Build, publish to a real local index (pypiserver), install in a clean venv, and use it.

This is the path every NileCare service takes to get the library, so it is proven end to end:
nothing for our own package comes from anywhere but the local index.
"""

from __future__ import annotations

import textwrap
import zipfile
from pathlib import Path
from typing import Any

import pytest

from nilecare_clients import __version__

pytestmark = pytest.mark.slow
Venv = tuple[Path, dict[str, str]]


def run(
    sh: Any, *cmd: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None
) -> str:
    return str(sh(*cmd, env=env, cwd=cwd).stdout)


def test_wheel_contents(wheel: Path) -> None:
    """The wheel ships py.typed, the plugin entry point, the console script and truthful metadata."""
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        entry_points = zf.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
        metadata = zf.read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "nilecare_clients/py.typed" in names
    assert not [n for n in names if n.startswith("tests/") or "/tests/" in n or "conftest" in n]
    assert "[pytest11]" in entry_points and "nilecare_clients.testing.plugin" in entry_points
    assert (
        "[console_scripts]" in entry_points
        and "nilecare-clients = nilecare_clients.cli:main" in entry_points
    )
    assert f"Version: {__version__}" in metadata
    assert "Requires-Python: >=3.11" in metadata
    assert "License-Expression: LicenseRef-Proprietary" in metadata  # PEP 639
    assert "Classifier: Private :: Do Not Upload" in metadata  # public indexes refuse it
    core = [
        line
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    ]
    assert sorted(line.split()[1].split(">")[0].split("<")[0] for line in core) == [
        "cachetools",
        "httpx",
        "pydantic",
        "structlog",
    ]


def test_installed_from_the_index(testing_venv: Venv, sh: Any) -> None:
    """The clean venv imports the package at the project's version, and the CLI runs."""
    python, env = testing_venv
    out = run(
        sh, python, "-c", "import nilecare_clients; print(nilecare_clients.__version__)", env=env
    )
    assert out.strip() == __version__
    assert run(sh, python.parent / "nilecare-clients", "version", env=env).strip() == __version__
    shown = run(sh, python, "-m", "pip", "show", "nilecare-clients", env=env)
    assert f"Version: {__version__}" in shown


def test_installed_client_calls_a_fake(testing_venv: Venv, sh: Any, tmp_path: Path) -> None:
    """In the clean venv, the real client calls a fake served on loopback by the testing extra."""
    python, env = testing_venv
    script = tmp_path / "call_fake.py"
    script.write_text(
        textwrap.dedent(
            """
            from nilecare_clients import ClinicalServiceClient, ServiceConfig
            from nilecare_clients.testing import FakeClinicalService

            fake = FakeClinicalService()
            stored = fake.create_patient(first_name="Amna")
            with fake.serve() as url:
                config = ServiceConfig(name="clinical", base_url=url)
                with ClinicalServiceClient(config=config) as clinical:
                    patient = clinical.get_patient(stored["id"])
                    print(patient.first_name, clinical.patient_exists(stored["id"]))
            """
        )
    )
    assert run(sh, python, script, env=env).split() == ["Amna", "True"]

"""Build, publish to a real local index (pypiserver), install in a clean venv, and use it.

This is the path every NileCare service takes to get the library, so it is proven end to end:
nothing for our own package comes from anywhere but the local index.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from nilecare_clients import __version__
from scripted_server import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def run(*cmd: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [str(c) for c in cmd],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, (
        f"{cmd[:3]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--outdir", out, ROOT)
    run(sys.executable, "-m", "twine", "check", "--strict", *sorted(out.iterdir()))
    return out


@pytest.fixture(scope="module")
def index(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A pypiserver on 127.0.0.1 holding our dependencies, to which we upload our dists."""
    packages = tmp_path_factory.mktemp("packages")
    wheel = next(dist.glob("*.whl"))
    # The dependencies' wheels, fetched with this environment's pip configuration, so that the
    # clean venv below installs everything from the local index alone.
    run(sys.executable, "-m", "pip", "download", "--quiet", "--dest", packages, f"{wheel}[testing]")
    for own in packages.glob("nilecare_clients-*"):
        own.unlink()
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pypiserver",
            "run",
            "-p",
            str(port),
            "-i",
            "127.0.0.1",
            "-a",
            ".",
            "-P",
            ".",
            "--disable-fallback",
            "--log-stream",
            "none",
            str(packages),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/simple/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        run(
            sys.executable,
            "-m",
            "twine",
            "upload",
            "--non-interactive",
            "--repository-url",
            url + "/",
            "-u",
            "ci",
            "-p",
            "ci",
            *sorted(dist.iterdir()),
        )
        yield url
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture(scope="module")
def venv(index: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A clean virtual environment with nilecare-clients[testing] installed from the index."""
    home = tmp_path_factory.mktemp("venv")
    run(sys.executable, "-m", "venv", home / "env")
    env = {
        "PATH": f"{home / 'env' / 'bin'}:{os.environ.get('PATH', '')}",
        "HOME": str(home),
        "PIP_CONFIG_FILE": os.devnull,  # no site index, no find-links: only the local index
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_INPUT": "1",
    }
    python = home / "env" / "bin" / "python"
    run(
        python,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--index-url",
        f"{index}/simple/",
        "nilecare-clients[testing]",
        env=env,
    )
    return python, env


def test_wheel_contents(dist: Path) -> None:
    """The wheel ships py.typed, the pytest plugin entry point and the console script, and no tests."""
    wheel = next(dist.glob("*.whl"))
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
        "tenacity",
        "typing-extensions",
    ]


def test_installed_from_the_index(venv: tuple[Path, dict[str, str]], index: str) -> None:
    """The clean venv imports the package at the project's version, and the CLI runs."""
    python, env = venv
    out = run(
        python, "-c", "import nilecare_clients, sys; print(nilecare_clients.__version__)", env=env
    )
    assert out.strip() == __version__
    assert run(python.parent / "nilecare-clients", "version", env=env).strip() == __version__
    shown = run(python, "-m", "pip", "show", "nilecare-clients", env=env)
    assert f"Version: {__version__}" in shown


def test_installed_client_calls_a_fake(venv: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    """In the clean venv, the real client calls a fake served on loopback by the testing extra."""
    python, env = venv
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
    assert run(python, script, env=env).split() == ["Amna", "True"]


def test_installed_plugin_fixtures_are_discovered(
    venv: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """A tiny test suite in the clean venv gets the plugin's fixtures through the entry point."""
    python, env = venv
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n")
    (tmp_path / "test_team.py").write_text(
        textwrap.dedent(
            """
            def test_sync(fake_clinical, clinical_client):
                patient = fake_clinical.create_patient(first_name="Hawa")
                assert clinical_client.get_patient(patient["id"]).first_name == "Hawa"

            async def test_async(fake_facility, async_facility_client):
                stored = fake_facility.create_facility()
                assert await async_facility_client.facility_exists(stored["facilityId"])
            """
        )
    )
    out = run(
        python, "-m", "pytest", "-q", "-p", "no:cacheprovider", tmp_path, env=env, cwd=tmp_path
    )
    assert "2 passed" in out

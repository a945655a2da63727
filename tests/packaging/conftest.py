"""Session fixtures for the packaging tests: one build, one wheelhouse, one venv per scenario.

Building and installing dominate these tests' time, so each is done once per session and
shared; every venv installs with ``--no-index --find-links`` from the wheelhouse (or from the
local index), so nothing is resolved twice and the scenarios run offline once it exists.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from scripted_server import free_port

ROOT = Path(__file__).resolve().parents[2]


def run(
    *cmd: str | Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    ok: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd``; with ``ok`` (default) fail the test with its output unless it exits 0."""
    result = subprocess.run(
        [str(c) for c in cmd],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if ok:
        assert result.returncode == 0, (
            f"{[str(c) for c in cmd[:4]]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result


def clean_env(home: Path) -> dict[str, str]:
    """An environment with no pip configuration at all: installs see only what we pass."""
    return {
        "PATH": f"{home / 'env' / 'bin'}:{os.environ.get('PATH', '')}",
        "HOME": str(home),
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_INPUT": "1",
    }


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and wheel, built once, checked by twine."""
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--outdir", out, ROOT)
    run(sys.executable, "-m", "twine", "check", "--strict", *sorted(out.iterdir()))
    return out


@pytest.fixture(scope="session")
def wheel(dist: Path) -> Path:
    return next(dist.glob("*.whl"))


@pytest.fixture(scope="session")
def wheelhouse(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every wheel the scenarios install (ours excluded), fetched once with this pip's config."""
    house = tmp_path_factory.mktemp("wheelhouse")
    run(sys.executable, "-m", "pip", "download", "--quiet", "--dest", house, f"{wheel}[testing]")
    for own in house.glob("nilecare_clients-*"):
        own.unlink()
    return house


def make_venv(
    name: str, requirements: list[str], house: Path, factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, str]]:
    """A fresh venv with exactly ``requirements`` installed offline from ``house``."""
    home = factory.mktemp(name)
    run(sys.executable, "-m", "venv", home / "env")
    env = clean_env(home)
    python = home / "env" / "bin" / "python"
    run(
        python, "-m", "pip", "install", "--quiet", "--no-index", "--find-links", house,
        *requirements, env=env,
    )  # fmt: skip
    return python, env


@pytest.fixture(scope="session")
def core_venv(
    wheel: Path, wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, str]]:
    """The core package and pytest, nothing else: a service that only calls our clients."""
    return make_venv("core", [str(wheel), "pytest"], wheelhouse, tmp_path_factory)


@pytest.fixture(scope="session")
def sh() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``run`` for test modules (they cannot import this conftest by name)."""
    return run


@pytest.fixture(scope="session")
def index(dist: Path, wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A pypiserver on 127.0.0.1 holding our dependencies, to which we upload our dists."""
    packages = tmp_path_factory.mktemp("packages")
    for dependency in wheelhouse.iterdir():
        (packages / dependency.name).write_bytes(dependency.read_bytes())
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable, "-m", "pypiserver", "run", "-p", str(port), "-i", "127.0.0.1",
            "-a", ".", "-P", ".", "--disable-fallback", "--log-stream", "none", str(packages),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/simple/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        run(
            sys.executable, "-m", "twine", "upload", "--non-interactive",
            "--repository-url", url + "/", "-u", "ci", "-p", "ci", *sorted(dist.iterdir()),
        )  # fmt: skip
        yield url
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture(scope="session")
def testing_venv(
    index: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, str]]:
    """A clean venv with ``nilecare-clients[testing]`` installed from the local index alone,
    as every NileCare service gets it: a team using our fixtures."""
    home = tmp_path_factory.mktemp("venv")
    run(sys.executable, "-m", "venv", home / "env")
    env = clean_env(home)
    python = home / "env" / "bin" / "python"
    run(
        python, "-m", "pip", "install", "--quiet", "--index-url", f"{index}/simple/",
        "nilecare-clients[testing]", env=env,
    )  # fmt: skip
    return python, env

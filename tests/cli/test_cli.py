"""The nilecare-clients command: version, and check against real loopback servers."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from nilecare_clients import __version__
from nilecare_clients.cli import configured_services, main
from scripted_server import Action, free_port, scripted_server


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NILECARE_")}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "nilecare_clients", *args],
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """`version` prints the package version."""
    assert main(["version"]) == 0
    assert capsys.readouterr().out.strip() == __version__


def test_configured_services_come_from_url_variables() -> None:
    """Every NILECARE_<SERVICE>_URL names a service; empty values are ignored."""
    env = {
        "NILECARE_CLINICAL_URL": "http://x",
        "NILECARE_FACILITY_URL": "",
        "NILECARE_LAB_URL": "http://y",
    }
    assert configured_services(env) == ["CLINICAL", "LAB"]


def test_check_all_up_prints_table_and_exits_zero() -> None:
    """With every service healthy, check prints one row per service and exits 0."""
    with scripted_server() as clinical, scripted_server() as facility:
        result = run_cli(
            "check",
            env={"NILECARE_CLINICAL_URL": clinical.url, "NILECARE_FACILITY_URL": facility.url},
        )
        assert clinical.count("GET") == 1 and facility.requests[0].path == "/health"
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].split() == ["SERVICE", "URL", "STATUS", "HTTP", "LATENCY", "BREAKER"]
    assert [line.split()[0] for line in lines[1:]] == ["clinical", "facility"]
    assert all(" up " in line and "200" in line and "closed" in line for line in lines[1:])


def test_check_one_down_exits_non_zero_with_json() -> None:
    """A down service makes check exit 1; --json gives machine-readable rows."""
    with scripted_server() as clinical:
        clinical.default = Action(status=503, body={"status": "not ready"})
        result = run_cli(
            "check",
            "--json",
            env={
                "NILECARE_CLINICAL_URL": clinical.url,
                "NILECARE_FACILITY_URL": f"http://127.0.0.1:{free_port()}",
            },
        )
    assert result.returncode == 1
    rows = {row["service"]: row for row in json.loads(result.stdout)}
    assert rows["clinical"]["ok"] is False and rows["clinical"]["status_code"] == 503
    assert rows["facility"]["ok"] is False and rows["facility"]["error"] == "ConnectError"
    assert rows["facility"]["status_code"] is None


def test_check_without_configuration_exits_two() -> None:
    """With no service configured, check says what to set and exits 2."""
    result = run_cli("check", env={})
    assert result.returncode == 2
    assert "NILECARE_CLINICAL_URL" in result.stderr


def test_check_reports_bad_configuration_without_values() -> None:
    """A malformed variable marks that service down and names the variable, not its value."""
    with scripted_server() as clinical:
        result = run_cli(
            "check",
            env={"NILECARE_CLINICAL_URL": clinical.url, "NILECARE_CLINICAL_TIMEOUT": "soonish"},
        )
    assert result.returncode == 1
    assert "NILECARE_CLINICAL_TIMEOUT" in result.stdout and "soonish" not in result.stdout

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

# The real services' health bodies (contract §1.7).
CLINICAL_HEALTH = {"success": True, "service": "clinical-service", "status": "healthy"}
FACILITY_HEALTH = {"status": "healthy", "service": "facility-service", "version": "1.0.0"}


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
        clinical.default = Action(body=CLINICAL_HEALTH)
        facility.default = Action(body=FACILITY_HEALTH)
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


def test_check_against_the_real_fakes_on_loopback_reports_both_up() -> None:
    """The embedded fakes, served by uvicorn, answer as clinical-service and facility-service."""
    from nilecare_clients.testing import FakeClinicalService, FakeFacilityService

    with FakeClinicalService().serve() as clinical, FakeFacilityService().serve() as facility:
        result = run_cli(
            "check",
            "--json",
            env={"NILECARE_CLINICAL_URL": clinical, "NILECARE_FACILITY_URL": facility},
        )
    assert result.returncode == 0, result.stdout
    rows = {row["service"]: row for row in json.loads(result.stdout)}
    assert rows["clinical"]["answered_as"] == "clinical-service"
    assert rows["facility"]["answered_as"] == "facility-service"


def test_check_refuses_a_healthy_answer_from_another_service() -> None:
    """Facility answering at Clinical's URL is "wrong service", exit 1, even with a 200."""
    with scripted_server() as server:
        server.default = Action(body=FACILITY_HEALTH)
        result = run_cli("check", env={"NILECARE_CLINICAL_URL": server.url})
    assert result.returncode == 1
    row = result.stdout.strip().splitlines()[1]
    assert "DOWN (wrong service: answers as facility-service)" in row and " 200 " in row


@pytest.mark.parametrize(
    "body", [{"status": "healthy"}, {"ok": True}, "not json", {"service": "x\nDROP"}]
)
def test_check_refuses_a_healthy_answer_that_is_not_nilecare(body: object) -> None:
    """Any /health that answers 200 without naming a NileCare service is "wrong service"."""
    with scripted_server() as server:
        if isinstance(body, str):
            server.default = Action(raw_body=body.encode())
        else:
            server.default = Action(body=body)
        result = run_cli("check", "--json", env={"NILECARE_CLINICAL_URL": server.url})
    assert result.returncode == 1
    (row,) = json.loads(result.stdout)
    assert row["ok"] is False and row["status_code"] == 200
    assert row["error"] == "wrong service: not a NileCare health answer"


def test_check_says_why_a_url_is_wrong_in_one_line() -> None:
    """A URL ending in /api/v1 gives a one-line reason in STATUS: no pydantic text, no doc link."""
    result = run_cli("check", env={"NILECARE_CLINICAL_URL": "http://127.0.0.1:9/api/v1"})
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2, result.stdout
    assert "NILECARE_CLINICAL_URL is the service root: leave out /api/v1" in lines[1]
    assert "pydantic" not in result.stdout and "validation error" not in result.stdout


def test_check_names_a_missing_ca_bundle_variable() -> None:
    """NILECARE_<SVC>_VERIFY naming no file is a one-line DOWN reason naming the variable."""
    result = run_cli(
        "check",
        env={
            "NILECARE_CLINICAL_URL": "https://127.0.0.1:9",
            "NILECARE_CLINICAL_VERIFY": "/nowhere/ca-secret-path.pem",
        },
    )
    assert result.returncode == 1
    assert "NILECARE_CLINICAL_VERIFY" in result.stdout
    assert "ca-secret-path" not in result.stdout

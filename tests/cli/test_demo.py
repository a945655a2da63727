"""The demo runs end to end against both fakes on loopback and checks its own invariants."""

from __future__ import annotations

import pytest

from nilecare_clients.cli import main


def test_demo_runs_and_holds_its_invariants(capsys: pytest.CaptureFixture[str]) -> None:
    """A short billing run through all four phases exits 0 with zero duplicated writes."""
    assert main(["demo", "--invoices", "80", "--seed", "3", "--duration", "3"]) == 0
    out = capsys.readouterr().out
    for phase in ("healthy", "30% errors", "outage", "recovery"):
        assert phase in out
    assert "written twice for one create: 0" in out
    assert "clinical  -> open" in out and "clinical  -> closed" in out
    assert "all invariants held" in out


def test_demo_refuses_a_tiny_run(capsys: pytest.CaptureFixture[str]) -> None:
    """Fewer invoices than the phases need is a usage error, not a silent pass."""
    assert main(["demo", "--invoices", "5"]) == 2

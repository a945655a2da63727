"""Library events follow the host's structlog configuration, and cost little when filtered."""

from __future__ import annotations

import logging
from collections.abc import Iterator, MutableMapping
from typing import Any

import pytest
import structlog

from nilecare_clients import _log


@pytest.fixture
def events() -> Iterator[list[dict[str, Any]]]:
    was_configured = structlog.is_configured()
    previous = structlog.get_config()
    seen: list[dict[str, Any]] = []

    def keep(_: Any, method: str, event_dict: MutableMapping[str, Any]) -> Any:
        seen.append(dict(event_dict, level=method))
        raise structlog.DropEvent

    structlog.configure(
        processors=[keep], wrapper_class=structlog.make_filtering_bound_logger(logging.INFO)
    )
    yield seen
    structlog.reset_defaults()
    if was_configured:
        structlog.configure(**previous)


def test_debug_is_skipped_below_the_filtering_level(events: list[dict[str, Any]]) -> None:
    """Under a filtering logger at INFO, debug events are dropped and enabled() says so."""
    assert not _log.enabled("debug") and _log.enabled("info")
    _log.emit("debug", "nilecare_clients.request", status=200)
    _log.emit("info", "nilecare_clients.retry_scheduled", attempt=2, body="secret")
    assert [(e["event"], e["level"]) for e in events] == [
        ("nilecare_clients.retry_scheduled", "info")
    ]
    assert "body" not in events[0]  # the allow-list still applies


def test_a_later_configure_takes_effect(events: list[dict[str, Any]]) -> None:
    """Reconfiguring structlog after the library has logged is honoured at the next event."""
    _log.emit("info", "nilecare_clients.first")
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    assert _log.enabled("debug")
    _log.emit("debug", "nilecare_clients.request", status=200)
    assert [e["event"] for e in events] == ["nilecare_clients.first", "nilecare_clients.request"]


def test_other_wrapper_classes_receive_every_event(events: list[dict[str, Any]]) -> None:
    """A wrapper that is not structlog's filtering logger decides itself: nothing is skipped."""
    structlog.configure(wrapper_class=structlog.BoundLogger)
    assert _log.enabled("debug")
    _log.emit("debug", "nilecare_clients.request", status=200)
    assert [e["event"] for e in events] == ["nilecare_clients.request"]

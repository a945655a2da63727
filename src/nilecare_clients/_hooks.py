"""Observability hooks: frozen event dataclasses and the registry the core reports to.

The registry itself (the hooks, the ``active`` flag, the tracer) lives in ``_state.observers``
with the rest of the process-wide state; this module holds the event types and the functions
that change or read it.

Any metrics or tracing system plugs in by registering a callable that receives these events
(stamina's instrumentation style). The core checks one flag (``_state.observers.active``)
before building an event, so with nothing registered a call pays for two attribute reads.
Events carry route *templates*, never concrete paths: an id must never become a metric label
(cardinality, PHI).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from nilecare_clients._log import emit
from nilecare_clients._state import lock, observers

__all__ = [
    "BreakerTransition",
    "CacheEvent",
    "CallCompleted",
    "CallTracer",
    "Hook",
    "RequestAttempt",
    "RetryScheduled",
]


@dataclass(frozen=True, slots=True)
class RequestAttempt:
    """One attempt ended: an answer (``status_code``) or a transport failure (``None``)."""

    service: str
    method: str
    route: str
    attempt: int
    status_code: int | None
    outcome: str  # "success" or the error class name
    duration_s: float
    correlation_id: str

    @property
    def status_class(self) -> str:
        return f"{self.status_code // 100}xx" if self.status_code is not None else "none"


@dataclass(frozen=True, slots=True)
class CallCompleted:
    """A logical call ended, after all its attempts."""

    service: str
    method: str
    route: str
    attempts: int
    status_code: int | None
    outcome: str
    duration_s: float
    correlation_id: str


@dataclass(frozen=True, slots=True)
class RetryScheduled:
    service: str
    method: str
    route: str
    next_attempt: int
    delay_s: float
    error: str
    correlation_id: str


@dataclass(frozen=True, slots=True)
class BreakerTransition:
    """A circuit changed state: the service's (``route`` None) or one route template's."""

    service: str
    previous: str
    state: str
    route: str | None = None


@dataclass(frozen=True, slots=True)
class CacheEvent:
    """``event`` is one of hit, miss, stale, coalesced, negative_hit, eviction."""

    service: str
    kind: str  # "facility", "facilities", "departments", "department", "settings"
    event: str


Event = RequestAttempt | CallCompleted | RetryScheduled | BreakerTransition | CacheEvent
Hook = Callable[[Event], None]


class CallTracer(Protocol):
    """A tracing integration: starts a span per call and adds propagation headers."""

    def start(
        self, method: str, route: str, url: str, headers: dict[str, str], correlation_id: str
    ) -> Any: ...

    def end(
        self, span: Any, status_code: int | None, outcome: str, resend_count: int = 0
    ) -> None: ...


def register(hook: Hook) -> None:
    with lock:
        if hook not in observers.hooks:
            observers.hooks = (*observers.hooks, hook)
        observers.active = bool(observers.hooks)


def unregister(hook: Hook) -> None:
    with lock:
        observers.hooks = tuple(h for h in observers.hooks if h != hook)
        observers.active = bool(observers.hooks)


def set_tracer(new: CallTracer | None) -> None:
    observers.tracer = new


def clear() -> None:
    with lock:
        observers.hooks, observers.active, observers.tracer = (), False, None


def dispatch(event: Event) -> None:
    """Deliver ``event`` to every hook; a failing hook is logged, never breaks the call."""
    for hook in observers.hooks:
        try:
            hook(event)
        except Exception as exc:  # a metrics bug must not fail a patient lookup
            emit("warning", "nilecare_clients.hook_failed", error=type(exc).__name__)

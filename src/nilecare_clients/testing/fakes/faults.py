"""Fault injection for the fakes: what a flaky network, proxy or service does to a request.

Rules are checked in the order they were added, after the request was read in full and
recorded in the journal. Latency rules add a delay and let the request go on; the first other
rule that matches and fires decides the answer. Every rule can be limited to a method and a
path (exact or a glob such as ``/api/v1/patients*``) and, except ``outage``, leaves the health
routes alone unless ``include_health=True``. Random rules draw from their own
``random.Random(seed)``, so a seeded test fails the same requests on every run.

Fault names, as they appear in ``JournalEntry.fault``:

=================== =========================================================================
``outage``          every route answers ``status`` (503) until ``recover()``; readiness routes
                    send their not-ready body
``fail_next``       the next ``n`` matching requests answer ``status``, with ``Retry-After``
``error_rate``      each matching request fails with probability ``rate``
``latency``         the answer is delayed (a fixed time, or a seeded random range)
``reset_connection`` the connection is reset after the request was read; nothing is answered
``malformed_body``  200 with a JSON content type and a truncated, unparsable body
``html_body``       a proxy's HTML error page (502 by default), as from a gateway
``commit_then_fail`` the request is performed (and stored for its idempotency key), then the
                    client gets ``status`` (500): the outcome is unknown to the caller
                    (contract I11, I26)
``event_bus_down``  until ``event_bus_up()``, every write that publishes an event (Clinical's
                    patient, encounter, medication and diagnostic writes) is performed, then
                    answered 500 "The producer is disconnected", as Clinical does when its
                    Kafka producer is down (contract I26)
=================== =========================================================================
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

HEALTH_PATHS = frozenset({"/health", "/ready", "/health/ready", "/health/startup", "/metrics"})


@dataclass
class FaultRule:
    """One armed fault. ``remaining`` is None for a rule that never runs out."""

    name: str
    remaining: int | None = None
    status: int = 503
    retry_after: float | str | None = None
    method: str | None = None
    path: str | None = None
    include_health: bool = False
    rate: float = 1.0
    seconds: float = 0.0
    jitter: float = 0.0
    rng: random.Random = field(default_factory=random.Random, repr=False)
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.method is not None and self.method.upper() != method:
            return False
        if path in HEALTH_PATHS and not self.include_health:
            return False
        if self.path is not None:
            glob = any(ch in self.path for ch in "*?[")
            return fnmatchcase(path, self.path) if glob else path == self.path
        return True


@dataclass(frozen=True)
class FaultDecision:
    """What the fake does to one request: wait ``delay`` seconds, then apply ``rule`` if any."""

    delay: float = 0.0
    rule: FaultRule | None = None


class Faults:
    """The fault plan of one fake (``fake.faults``); thread-safe, cleared by ``fake.reset()``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._outage: FaultRule | None = None
        self._event_bus_down = False

    def __repr__(self) -> str:
        return (
            f"<Faults outage={self.in_outage} event_bus_down={self.event_bus_is_down} "
            f"rules={self.rules!r}>"
        )

    @property
    def rules(self) -> list[FaultRule]:
        """The armed rules that can still fire."""
        with self._lock:
            return [r for r in self._rules if r.remaining is None or r.remaining > 0]

    @property
    def in_outage(self) -> bool:
        with self._lock:
            return self._outage is not None

    def _add(self, rule: FaultRule) -> FaultRule:
        if rule.remaining is not None and rule.remaining < 1:
            raise ValueError("n must be at least 1")
        with self._lock:
            self._rules.append(rule)
        return rule

    def fail_next(
        self,
        n: int = 1,
        *,
        status: int = 503,
        retry_after: float | str | None = None,
        method: str | None = None,
        path: str | None = None,
        include_health: bool = False,
    ) -> FaultRule:
        """Answer the next ``n`` matching requests with ``status`` (and ``Retry-After``)."""
        return self._add(
            FaultRule(
                "fail_next",
                n,
                status=status,
                retry_after=retry_after,
                method=method,
                path=path,
                include_health=include_health,
            )
        )

    def error_rate(
        self,
        rate: float,
        *,
        status: int = 503,
        seed: int | None = None,
        retry_after: float | str | None = None,
        method: str | None = None,
        path: str | None = None,
        include_health: bool = False,
    ) -> FaultRule:
        """Fail each matching request with probability ``rate`` (0 to 1), seeded for replay."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        return self._add(
            FaultRule(
                "error_rate",
                status=status,
                rate=rate,
                rng=random.Random(seed),
                retry_after=retry_after,
                method=method,
                path=path,
                include_health=include_health,
            )
        )

    def latency(
        self,
        seconds: float,
        *,
        jitter: float = 0.0,
        seed: int | None = None,
        n: int | None = None,
        method: str | None = None,
        path: str | None = None,
        include_health: bool = False,
    ) -> FaultRule:
        """Delay matching answers by ``seconds`` plus a seeded uniform ``0..jitter``."""
        if seconds < 0 or jitter < 0:
            raise ValueError("seconds and jitter must not be negative")
        return self._add(
            FaultRule(
                "latency",
                n,
                seconds=seconds,
                jitter=jitter,
                rng=random.Random(seed),
                method=method,
                path=path,
                include_health=include_health,
            )
        )

    def realistic_latency(self, *, seed: int = 0) -> FaultRule:
        """A production-like 5-40 ms on every API call (seeded), for timing-sensitive demos."""
        return self.latency(0.005, jitter=0.035, seed=seed, path="/api/v1/*")

    def outage(self, *, status: int = 503, retry_after: float | str | None = None) -> None:
        """Answer every request, health routes included, with ``status`` until ``recover()``."""
        with self._lock:
            self._outage = FaultRule(
                "outage", status=status, retry_after=retry_after, include_health=True
            )

    def recover(self) -> None:
        """End an ``outage()``; other armed rules stay."""
        with self._lock:
            self._outage = None

    def reset_connection(
        self, n: int = 1, *, method: str | None = None, path: str | None = None
    ) -> FaultRule:
        """Reset the connection of the next ``n`` matching requests after reading them."""
        return self._add(FaultRule("reset_connection", n, method=method, path=path))

    def malformed_body(
        self, n: int = 1, *, status: int = 200, method: str | None = None, path: str | None = None
    ) -> FaultRule:
        """Answer the next ``n`` matching requests with a JSON content type but broken JSON."""
        return self._add(FaultRule("malformed_body", n, status=status, method=method, path=path))

    def html_body(
        self, n: int = 1, *, status: int = 502, method: str | None = None, path: str | None = None
    ) -> FaultRule:
        """Answer the next ``n`` matching requests with a proxy's ``text/html`` error page."""
        return self._add(FaultRule("html_body", n, status=status, method=method, path=path))

    def commit_then_fail(
        self, n: int = 1, *, status: int = 500, method: str | None = None, path: str | None = None
    ) -> FaultRule:
        """Perform the next ``n`` matching requests, then answer ``status`` instead."""
        return self._add(FaultRule("commit_then_fail", n, status=status, method=method, path=path))

    def event_bus_down(self) -> None:
        """Writes that publish an event commit, then answer 500 until ``event_bus_up()``.

        An environment fault, not part of any profile: today's Clinical answers this way only
        where its Kafka producer is disconnected (as in the compatibility harness).
        """
        with self._lock:
            self._event_bus_down = True

    def event_bus_up(self) -> None:
        """End ``event_bus_down()``."""
        with self._lock:
            self._event_bus_down = False

    @property
    def event_bus_is_down(self) -> bool:
        with self._lock:
            return self._event_bus_down

    def clear(self) -> None:
        """Disarm every rule, end an outage and bring the event bus back."""
        with self._lock:
            self._rules.clear()
            self._outage = None
            self._event_bus_down = False

    def _decide(self, method: str, path: str) -> FaultDecision:
        """Pick the fault for one request and use up one firing of each rule that applied."""
        with self._lock:
            if self._outage is not None:
                self._outage.fired += 1
                return FaultDecision(rule=self._outage)
            delay = 0.0
            chosen: FaultRule | None = None
            for rule in self._rules:
                if not rule.matches(method, path):
                    continue
                if rule.name == "latency":
                    delay += rule.seconds + (rule.rng.uniform(0, rule.jitter) if rule.jitter else 0)
                elif chosen is not None or (
                    rule.name == "error_rate" and rule.rng.random() >= rule.rate
                ):
                    continue
                else:
                    chosen = rule
                if rule.remaining is not None:
                    rule.remaining -= 1
                rule.fired += 1
            self._rules = [r for r in self._rules if r.remaining is None or r.remaining > 0]
            return FaultDecision(delay=delay, rule=chosen)

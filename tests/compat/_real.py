"""Helpers for the compatibility run against the real NileCare services (``make compat``).

Nothing here knows the library's internals: clients are built from ``ServiceConfig.from_env``
and a token provider that reads the tokens ``harness/services.sh up`` writes, exactly as a consumer would. The
only seam is the HTTP transport, wrapped so every request that reaches the wire is counted.
"""

from __future__ import annotations

import inspect
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from nilecare_clients import (
    AsyncClinicalServiceClient,
    AsyncFacilityServiceClient,
    ClinicalServiceClient,
    FacilityServiceClient,
    NotFoundError,
    OutcomeUnknownError,
    ServiceConfig,
)
from nilecare_clients.models.common import Page

STATE = Path(os.environ.get("NILECARE_STATE", "/var/tmp/nilecare-real"))
#: Written by ``harness/services.sh up``: URLs (``NILECARE_<SERVICE>_URL``) and bearer tokens,
#: among them a clinician (role doctor, every permission) so that write routes reach their
#: handlers instead of stopping at the auth layer.
ENV_FILE = STATE / "env.sh"

_EXPORT = re.compile(r"^export (\w+)=(\S*)", re.MULTILINE)


def read_env_file(path: Path) -> dict[str, str]:
    """The ``export NAME=value`` lines of a file written by ``services.sh up``."""
    return dict(_EXPORT.findall(path.read_text(encoding="utf-8")))


def service_environ() -> dict[str, str]:
    """What ``ServiceConfig.from_env`` reads, from the env file of ``services.sh up``."""
    return read_env_file(ENV_FILE)


class EnvFileToken:
    """A token provider: the named token, re-read from the env file when it changes."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._stamp: float | None = None
        self._token = ""

    def __call__(self) -> str:
        stamp = ENV_FILE.stat().st_mtime if ENV_FILE.exists() else 0.0
        if stamp != self._stamp:
            token = service_environ().get(self.name)
            if not token:
                raise RuntimeError(f"{self.name} is not in {ENV_FILE}")
            self._token, self._stamp = token, stamp
        return self._token

    def __repr__(self) -> str:
        return f"EnvFileToken({self.name!r})"


@dataclass
class WireLog:
    """Every request that reached the wire: ``(method, path, status)``; status None if none."""

    entries: list[tuple[str, str, int | None]] = field(default_factory=list)

    def since(self, mark: int) -> list[tuple[str, str, int | None]]:
        return self.entries[mark:]


class CountingTransport(httpx.BaseTransport):
    def __init__(self, log: WireLog) -> None:
        self._inner = httpx.HTTPTransport()
        self._log = log

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = self._inner.handle_request(request)
        except httpx.HTTPError:
            self._log.entries.append((request.method, request.url.path, None))
            raise
        self._log.entries.append((request.method, request.url.path, response.status_code))
        return response

    def close(self) -> None:
        self._inner.close()


class AsyncCountingTransport(httpx.AsyncBaseTransport):
    def __init__(self, log: WireLog) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._log = log

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await self._inner.handle_async_request(request)
        except httpx.HTTPError:
            self._log.entries.append((request.method, request.url.path, None))
            raise
        self._log.entries.append((request.method, request.url.path, response.status_code))
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


async def settle(value: Any) -> Any:
    """Await the async client's coroutine; the sync client already returned its result."""
    if inspect.isawaitable(value):
        return await value
    return value


def service_message(body: bytes | None) -> str:
    """The service's own error text (``error.message``, ``error`` as a string, or ``message``)."""
    try:
        decoded = json.loads(body or b"null")
    except ValueError:
        return ""
    if not isinstance(decoded, dict):
        return ""
    error = decoded.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        text = error["message"]
    elif isinstance(error, str):
        text = error
    else:
        text = decoded.get("message") if isinstance(decoded.get("message"), str) else ""
    # Ids in messages ("Bed 6666...: ...") are seed data, but keep the table short.
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "{id}", text)
    return text if len(text) <= 90 else text[:87] + "..."


@dataclass
class Probe:
    """One observed call: what went over the wire and what the library made of it."""

    label: str
    kind: str
    statuses: list[int | None]
    message: str
    outcome: str


@dataclass
class Row:
    service: str
    method: str
    route: str
    ref: str
    upstream: str
    probes: list[Probe] = field(default_factory=list)


def _statuses(statuses: list[int | None]) -> str:
    if not statuses:
        return "no request (answered from the cache)"
    parts: list[str] = []
    for status in statuses:
        text = "no answer" if status is None else str(status)
        if parts and parts[-1].split(" x")[0] == text:
            count = int(parts[-1].split(" x")[1]) + 1 if " x" in parts[-1] else 2
            parts[-1] = f"{text} x{count}"
        else:
            parts.append(text)
    return ", ".join(parts)


class Recorder:
    """Collects one row per typed method; ``render`` writes ``docs/compatibility.md``."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], Row] = {}

    def add(
        self, service: str, method: str, route: str, ref: str, upstream: str, probe: Probe
    ) -> None:
        row = self.rows.setdefault((service, method), Row(service, method, route, ref, upstream))
        row.probes.append(probe)

    def called(self, service: str) -> set[str]:
        return {
            m
            for (s, m), row in self.rows.items()
            if s == service and _kinds(row) >= {"sync", "async"}
        }

    def render(self, *, upstream_commit: str, failed: int, missing: Mapping[str, list[str]]) -> str:
        lines = [
            "## Results of the last run",
            "",
            "Every typed method of `ClinicalServiceClient` / `FacilityServiceClient` and of their",
            "async twins, called against the services that `tests/compat/harness/services.sh` boots.",
            "",
            f"- upstream `mohfadul/nilecare` commit: `{upstream_commit}`",
            "- clients configured only through `ServiceConfig.from_env` and a `token_provider`",
            "  (default retry policy: 3 attempts; `idempotency_keys_honoured=False`)",
            "- *Real service today*: the statuses that reached the wire for one call, in order,",
            "  and the service's own error text. *Library*: what the sync and the async client",
            "  returned or raised (they agree unless the cell says otherwise). Requests are counted",
            "  on the wire, so `500 x3` means the call was sent three times (a GET, retried).",
            "- *contract*: the rules and known inconsistencies of [contract.md](contract.md) involved.",
            "",
        ]
        if failed:
            lines += [f"**The run that wrote this file had {failed} failing test(s).**", ""]
        for service in ("clinical", "facility"):
            if missing.get(service):
                lines += [
                    f"**Not called on {service}:** "
                    + ", ".join(f"`{m}`" for m in missing[service]),
                    "",
                ]
        for service, title in (("clinical", "Clinical"), ("facility", "Facility")):
            lines += [
                f"### {title}",
                "",
                "| method | route | real service today | library (sync and async) | contract | upstream fix |",
                "|---|---|---|---|---|---|",
            ]
            rows = sorted(
                (r for r in self.rows.values() if r.service == service), key=lambda r: r.method
            )
            for row in rows:
                today, library = _cells(row)
                lines.append(
                    f"| `{row.method}` | `{row.route}` | {today} | {library} | {row.ref} | {row.upstream} |"
                )
            lines.append("")
        return "\n".join(lines)


def _kinds(row: Row) -> set[str]:
    return {p.kind for p in row.probes}


def _cells(row: Row) -> tuple[str, str]:
    today: list[str] = []
    library: list[str] = []
    labels = list(dict.fromkeys(p.label for p in row.probes))
    for label in labels:
        probes = [p for p in row.probes if p.label == label]
        first = probes[0]
        prefix = f"{label}: " if label else ""
        text = first.message.replace('"', "'")
        message = f' "{text}"' if text else ""
        today.append(f"{prefix}{_statuses(first.statuses)}{message}")
        outcomes = {p.kind: p.outcome for p in probes}
        if len(set(outcomes.values())) == 1:
            library.append(f"{prefix}{first.outcome}")
        else:
            library.append(prefix + " / ".join(f"{k}: {v}" for k, v in sorted(outcomes.items())))
    return "<br>".join(today).replace("|", "\\|"), "<br>".join(library).replace("|", "\\|")


RECORDER = Recorder()
#: Public typed methods that are plumbing, not endpoints: not expected in the table.
NOT_ENDPOINTS = frozenset({"close", "aclose", "with_options", "cache_stats", "invalidate"})


def typed_methods(cls: type) -> list[str]:
    return sorted(
        name
        for name in dir(cls)
        if not name.startswith("_") and callable(getattr(cls, name)) and name not in NOT_ENDPOINTS
    )


def _describe(value: Any) -> str:
    # Sizes are left out: they change from run to run (rows created by earlier runs).
    if isinstance(value, Page):
        inner = type(value.items[0]).__name__ if value.items else "…"
        return f"returns `Page[{inner}]`" + ("" if value.items else " (empty)")
    if isinstance(value, list):
        inner = type(value[0]).__name__ if value else "…"
        return f"returns `list[{inner}]`" + ("" if value else " (empty)")
    if value is None or isinstance(value, bool):
        return f"returns `{value}`"
    return f"returns `{type(value).__name__}`"


class Compat:
    """Builds clients the way a consumer does, calls them, checks and records the outcome."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.environ = service_environ()
        self._clients: list[Any] = []
        self._logs: dict[int, WireLog] = {}

    def _config(self, service: str, token: str) -> ServiceConfig:
        return ServiceConfig.from_env(
            service, environ=self.environ, token_provider=EnvFileToken(token)
        )

    def _make(self, service: str, token: str, sync_cls: type, async_cls: type) -> Any:
        log = WireLog()
        transport: Any
        if self.kind == "sync":
            transport, cls = CountingTransport(log), sync_cls
        else:
            transport, cls = AsyncCountingTransport(log), async_cls
        client = cls(config=self._config(service, token), transport=transport)
        self._clients.append(client)
        self._logs[id(client)] = log
        return client

    def clinical(self, token: str = "NILECARE_ADMIN_TOKEN") -> Any:
        return self._make("clinical", token, ClinicalServiceClient, AsyncClinicalServiceClient)

    def facility(self, token: str = "NILECARE_ADMIN_TOKEN") -> Any:
        return self._make("facility", token, FacilityServiceClient, AsyncFacilityServiceClient)

    def wire(self, client: Any) -> WireLog:
        return self._logs[id(client)]

    async def check(
        self,
        client: Any,
        method: str,
        call: Any,
        *,
        route: str,
        ref: str,
        upstream: str,
        requests: int,
        returns: type | None = None,
        raises: type[BaseException] | None = None,
        label: str = "",
        record: bool = True,
    ) -> Any:
        """Call ``call(client)``; assert the exact result type or exception class, and the
        number of requests on the wire; for Facility, that a failure left no cache entry."""
        assert (returns is None) != (raises is None)
        service = client.config.name
        log = self.wire(client)
        mark = len(log.entries)
        size_before = client.cache_stats().size if service == "facility" else 0
        stale_before = client.cache_stats().stale_serves if service == "facility" else 0
        result: Any = None
        error: BaseException | None = None
        try:
            result = await settle(call(client))
        except Exception as exc:
            error = exc
        sent = log.since(mark)
        statuses = [status for _, _, status in sent]
        if raises is not None:
            assert error is not None, f"{method}: expected {raises.__name__}, got {result!r}"
            assert type(error) is raises, f"{method}: expected {raises.__name__}, got {error!r}"
            outcome = f"raises `{type(error).__name__}`"
            if isinstance(error, OutcomeUnknownError) and error.idempotency_key:
                outcome += " (carries the Idempotency-Key)"
        else:
            if error is not None:
                raise error
            assert returns is not None
            assert isinstance(result, returns), f"{method}: expected {returns}, got {result!r}"
            outcome = _describe(result)
        assert len(sent) == requests, f"{method}: {len(sent)} requests on the wire: {sent}"
        if service == "facility":
            stats = client.cache_stats()
            assert stats.stale_serves == stale_before, f"{method}: served a stale value"
            if error is not None and not isinstance(error, NotFoundError):
                assert stats.size == size_before, f"{method}: a failed call left a cache entry"
        if record:
            RECORDER.add(
                service,
                method,
                route,
                ref,
                upstream,
                Probe(
                    label,
                    self.kind,
                    statuses,
                    service_message(getattr(error, "body", None)),
                    outcome,
                ),
            )
        return error if error is not None else result

    async def aclose(self) -> None:
        for client in self._clients:
            if isinstance(client, (ClinicalServiceClient, FacilityServiceClient)):
                client.close()
            else:
                await client.aclose()

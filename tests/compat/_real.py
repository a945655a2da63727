"""Helpers for the compatibility run: the real NileCare services and the today fakes.

Nothing here knows the library's internals: clients are built from ``ServiceConfig.from_env``
and a token provider (the tokens ``harness/services.sh up`` writes, or their names for the
fakes), exactly as a consumer would. The only seam is the HTTP transport, wrapped so every
request that reaches the wire is counted and the shape of every answer recorded.
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

from compat import _fake
from compat._shape import Shape, body_shape, differences
from compat._shape import load as recorded_bodies
from compat._table import (
    AGREES,
    ARROW,
    BODY,
    DIFFERS,
    Observation,
    known_differences,
    probe_id,
    recorded,
)
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
    #: The body shape of each answer in ``entries`` (None where there was no answer).
    shapes: list[Shape | None] = field(default_factory=list)

    def add(self, request: httpx.Request, response: httpx.Response | None, raw: bytes) -> None:
        status = None if response is None else response.status_code
        self.entries.append((request.method, request.url.path, status))
        shape = None
        if response is not None:
            copy = httpx.Response(status or 0, headers=response.headers, content=raw)
            copy.read()
            shape = body_shape(copy)
        self.shapes.append(shape)

    def since(self, mark: int) -> list[tuple[str, str, int | None]]:
        return self.entries[mark:]


class CountingTransport(httpx.BaseTransport):
    """Counts every request that reaches ``inner`` (the network, or a fake's transport)."""

    def __init__(self, log: WireLog, inner: httpx.BaseTransport | None = None) -> None:
        self._inner = inner or httpx.HTTPTransport()
        self._log = log

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = self._inner.handle_request(request)
            raw = _read_raw(response)
            if raw is None:
                raw = b"".join(response.iter_raw())
            response.close()
        except httpx.HTTPError:
            self._log.add(request, None, b"")
            raise
        self._log.add(request, response, raw)
        return _again(response, raw, request)

    def close(self) -> None:
        self._inner.close()


class AsyncCountingTransport(httpx.AsyncBaseTransport):
    def __init__(self, log: WireLog, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self._inner = inner or httpx.AsyncHTTPTransport()
        self._log = log

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await self._inner.handle_async_request(request)
            raw = _read_raw(response)
            if raw is None:
                raw = b"".join([chunk async for chunk in response.aiter_raw()])
            await response.aclose()
        except httpx.HTTPError:
            self._log.add(request, None, b"")
            raise
        self._log.add(request, response, raw)
        return _again(response, raw, request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def _read_raw(response: httpx.Response) -> bytes | None:
    """The body of an answer built already read (a fake's), else None: read it from the wire."""
    try:
        return response.content
    except httpx.ResponseNotRead:
        return None


def _again(response: httpx.Response, raw: bytes, request: httpx.Request) -> httpx.Response:
    """The answer again, its body (as received, still encoded) read once for its shape."""
    return httpx.Response(
        response.status_code,
        headers=response.headers,
        content=raw,
        extensions=response.extensions,
        request=request,
    )


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
    target: str = "real"
    #: The body shape of the last answer (None when nothing was answered).
    shape: Shape | None = None

    @property
    def observation(self) -> Observation:
        text = self.message.replace('"', "'")
        return Observation(_statuses(self.statuses) + (f' "{text}"' if text else ""), self.outcome)


@dataclass
class Row:
    service: str
    method: str
    route: str
    ref: str
    upstream: str
    probes: list[Probe] = field(default_factory=list)

    def on(self, target: str) -> list[Probe]:
        return [p for p in self.probes if p.target == target]


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


@dataclass
class Verdict:
    """How the today fake's probe compares with the real service's, over both client kinds."""

    probe: str
    agrees: bool
    fake: str  # the fake's observation, for the table, when it differs

    @property
    def listed(self) -> bool:
        return self.probe in known_differences()


def _outcomes(by_kind: Mapping[str, str]) -> str:
    if len(set(by_kind.values())) == 1:
        return next(iter(by_kind.values()))
    return " / ".join(f"{k}: {v}" for k, v in sorted(by_kind.items()))


def _first_shape(probes: list[Probe]) -> Shape | None:
    return next((p.shape for p in probes if p.shape is not None), None)


def compare(row: Row) -> dict[str, Verdict]:
    """Per label: does the fake's sequence of observations equal the real one, kind by kind,
    and do the bodies have the same shape?"""
    verdicts: dict[str, Verdict] = {}
    real, fake = row.on("real"), row.on("fake")
    for label in dict.fromkeys(p.label for p in real):
        seen: dict[str, tuple[list[Observation], list[Observation]]] = {}
        for kind in ("sync", "async"):
            seen[kind] = (
                [p.observation for p in real if p.label == label and p.kind == kind],
                [p.observation for p in fake if p.label == label and p.kind == kind],
            )
        real_shape = _first_shape([p for p in real if p.label == label])
        fake_shape = _first_shape([p for p in fake if p.label == label])
        body = differences(real_shape or {}, fake_shape or {})
        firsts = {k: f[0] for k, (_, f) in seen.items() if f}
        if not firsts:
            verdicts[label] = Verdict(
                probe_id(row.service, row.method, label),
                False,
                "not reached (the fake pass stopped earlier: see its failing test)",
            )
            continue
        if all(r == f for r, f in seen.values()):
            text = f"{BODY}{'; '.join(body)}" if body else ""
        else:
            wire = next(iter(firsts.values())).wire
            text = f"{wire}{ARROW}{_outcomes({k: o.outcome for k, o in firsts.items()})}"
        verdicts[label] = Verdict(probe_id(row.service, row.method, label), not text, text)
    return verdicts


class Recorder:
    """Collects one row per typed method; ``render`` writes ``docs/compatibility.md``."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], Row] = {}

    def add(
        self, service: str, method: str, route: str, ref: str, upstream: str, probe: Probe
    ) -> None:
        row = self.rows.setdefault((service, method), Row(service, method, route, ref, upstream))
        row.probes.append(probe)

    def called(self, service: str, target: str = "real") -> set[str]:
        return {
            m
            for (s, m), row in self.rows.items()
            if s == service and {p.kind for p in row.on(target)} >= {"sync", "async"}
        }

    def probes(self, target: str) -> set[str]:
        return {
            probe_id(row.service, row.method, p.label)
            for row in self.rows.values()
            for p in row.on(target)
        }

    def bodies(self) -> dict[str, dict[str, Shape]]:
        """The real and the fake body shape of every probe (``recorded_bodies.json``)."""
        found: dict[str, dict[str, Shape]] = {}
        for row in self.rows.values():
            for label in dict.fromkeys(p.label for p in row.on("real")):
                shapes = {
                    target: _first_shape([p for p in row.on(target) if p.label == label])
                    for target in ("real", "fake")
                }
                found[probe_id(row.service, row.method, label)] = {
                    target: shape for target, shape in shapes.items() if shape is not None
                }
        return found

    def verdicts(self) -> list[Verdict]:
        return [v for row in self.rows.values() for v in compare(row).values()]

    def disagreements(self) -> tuple[list[str], list[str]]:
        """(differences not in known_differences.toml, listed ones that no longer differ)."""
        verdicts = self.verdicts()
        unlisted = sorted(v.probe for v in verdicts if not v.agrees and not v.listed)
        seen = {v.probe for v in verdicts if not v.agrees}
        stale = sorted(set(known_differences()) - seen)
        return unlisted, stale

    def render(self, *, upstream_commit: str, failed: int, missing: Mapping[str, list[str]]) -> str:
        verdicts = self.verdicts()
        agreeing = sum(v.agrees for v in verdicts)
        unlisted, stale = self.disagreements()
        lines = [
            "## Results of the last run",
            "",
            "Every typed method of `ClinicalServiceClient` / `FacilityServiceClient` and of their",
            "async twins, called against the services that `tests/compat/harness/services.sh` boots,",
            'and the same calls against `FakeClinicalService(profile="today")` /',
            '`FakeFacilityService(profile="today")`, seeded as the harness seeds the services',
            "(`tests/compat/_fake.py`).",
            "",
            f"- upstream `mohfadul/nilecare` commit: `{upstream_commit}`",
            "- clients configured only through `ServiceConfig.from_env` and a `token_provider`",
            "  (default retry policy: 3 attempts; `idempotency_keys_honoured=False`)",
            "- *Real service today*: the statuses that reached the wire for one call, in order,",
            "  and the service's own error text. *Library*: what the sync and the async client",
            "  returned or raised (they agree unless the cell says otherwise). Requests are counted",
            "  on the wire, so `500 x3` means the call was sent three times (a GET, retried).",
            "- *today fake*: `agrees` when the fake saw the same statuses, error text and library",
            "  result, for both clients; otherwise what the fake saw. Every difference is listed,",
            "  with its reason, in `tests/compat/known_differences.toml` (below).",
            "- *contract*: the rules and known inconsistencies of [contract.md](contract.md) involved.",
            "",
            f"**The today fake reproduces {agreeing} of {len(verdicts)} probes exactly**"
            f" ({len(verdicts) - agreeing} known differences).",
            "",
        ]
        if failed:
            lines += [f"**The run that wrote this file had {failed} failing test(s).**", ""]
        if unlisted:
            lines += [
                "**Differences not in known_differences.toml:** "
                + ", ".join(f"`{p}`" for p in unlisted),
                "",
            ]
        if stale:
            lines += [
                "**Listed in known_differences.toml but no longer different:** "
                + ", ".join(f"`{p}`" for p in stale),
                "",
            ]
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
                "| method | route | real service today | library (sync and async) | today fake "
                "| contract | upstream fix |",
                "|---|---|---|---|---|---|---|",
            ]
            rows = sorted(
                (r for r in self.rows.values() if r.service == service and r.on("real")),
                key=lambda r: r.method,
            )
            for row in rows:
                today, library, fake = _cells(row)
                lines.append(
                    f"| `{row.method}` | `{row.route}` | {today} | {library} | {fake} "
                    f"| {row.ref} | {row.upstream} |"
                )
            lines.append("")
        lines += ["### Known differences of the today fake", ""]
        lines += [
            "From `tests/compat/known_differences.toml` (reviewed by hand); `make compat` fails on",
            "a difference missing there and on an entry that no longer differs.",
            "",
            "| probe | what differs | why |",
            "|---|---|---|",
        ]
        for entry in sorted(known_differences().values(), key=lambda d: d.probe):
            lines.append(f"| `{entry.probe}` | {entry.differs} | {entry.reason} |")
        lines.append("")
        return "\n".join(lines)


def _cells(row: Row) -> tuple[str, str, str]:
    today: list[str] = []
    library: list[str] = []
    fake: list[str] = []
    real = row.on("real")
    verdicts = compare(row)
    for label in dict.fromkeys(p.label for p in real):
        probes = [p for p in real if p.label == label]
        first = probes[0]
        prefix = f"{label}: " if label else ""
        today.append(f"{prefix}{first.observation.wire}")
        library.append(prefix + _outcomes({p.kind: p.outcome for p in probes}))
        verdict = verdicts[label]
        if verdict.agrees:
            fake.append(f"{prefix}{AGREES}")
        else:
            listed = "(listed)" if verdict.listed else "(NOT LISTED)"
            fake.append(f"{prefix}{DIFFERS}{verdict.fake} {listed}")

    def cell(entries: list[str]) -> str:
        return "<br>".join(entries).replace("|", "\\|")

    return cell(today), cell(library), cell(fake)


RECORDER = Recorder()
#: Public typed methods that are plumbing, not endpoints: not expected in the table.
NOT_ENDPOINTS = frozenset(
    {"close", "aclose", "with_options", "cache_stats", "invalidate", "apply_event"}
)


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


class StaticToken:
    """The fake pass's token provider: the token is the name of the ``env.sh`` variable."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"StaticToken({self.name!r})"


class Compat:
    """Builds clients the way a consumer does, calls them, checks and records the outcome.

    ``target="real"``: against the services ``services.sh up`` booted; each call is checked
    (result type or error class, requests on the wire, cache hygiene). ``target="fake"``:
    against the today fakes of ``_fake.py``; each call is recorded for the comparison with the
    real one and, with ``replay=True`` (``make test``), compared at once with the committed
    table (``_table.recorded``).
    """

    def __init__(self, kind: str, target: str = "real", *, replay: bool = False) -> None:
        self.kind = kind
        self.target = target
        self.replay = replay
        self.environ = service_environ() if target == "real" else dict(_fake.ENVIRON)
        self._clients: list[Any] = []
        self._logs: dict[int, WireLog] = {}
        self._fakes: dict[str, Any] = {}

    def _config(self, service: str, token: str) -> ServiceConfig:
        provider = EnvFileToken(token) if self.target == "real" else StaticToken(token)
        return ServiceConfig.from_env(service, environ=self.environ, token_provider=provider)

    def fake(self, service: str) -> Any:
        """The today fake standing for ``service`` in this test (one per test, seeded)."""
        if service not in self._fakes:
            self._fakes[service] = _fake.clinical() if service == "clinical" else _fake.facility()
        return self._fakes[service]

    def _make(self, service: str, token: str, sync_cls: type, async_cls: type) -> Any:
        log = WireLog()
        inner = self.fake(service).transport() if self.target == "fake" else None
        transport: Any
        if self.kind == "sync":
            transport, cls = CountingTransport(log, inner), sync_cls
        else:
            transport, cls = AsyncCountingTransport(log, inner), async_cls
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
        number of requests on the wire; for Facility, that a failure left no cache entry.
        In the fake pass: record, and compare with the table (``replay``) instead."""
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
        shapes = [shape for shape in log.shapes[mark:] if shape is not None]
        if error is not None:
            outcome = f"raises `{type(error).__name__}`"
            if isinstance(error, OutcomeUnknownError) and error.idempotency_key:
                outcome += " (carries the Idempotency-Key)"
        else:
            outcome = _describe(result)
        if self.target == "real":
            if raises is not None:
                assert error is not None, f"{method}: expected {raises.__name__}, got {result!r}"
                assert type(error) is raises, f"{method}: expected {raises.__name__}, got {error!r}"
            else:
                if error is not None:
                    raise error
                assert returns is not None
                assert isinstance(result, returns), f"{method}: expected {returns}, got {result!r}"
            assert len(sent) == requests, f"{method}: {len(sent)} requests on the wire: {sent}"
            if service == "facility":
                stats = client.cache_stats()
                assert stats.stale_serves == stale_before, f"{method}: served a stale value"
                if error is not None and not isinstance(error, NotFoundError):
                    assert stats.size == size_before, f"{method}: a failed call left a cache entry"
        if record:
            probe = Probe(
                label,
                self.kind,
                statuses,
                service_message(getattr(error, "body", None)),
                outcome,
                self.target,
                shapes[-1] if shapes else None,
            )
            RECORDER.add(service, method, route, ref, upstream, probe)
            if self.target == "fake" and self.replay:
                _replay(service, method, label, self.kind, probe.observation, probe.shape)
        return error if error is not None else result

    async def aclose(self) -> None:
        for client in self._clients:
            if isinstance(client, (ClinicalServiceClient, FacilityServiceClient)):
                client.close()
            else:
                await client.aclose()


def _replay(
    service: str,
    method: str,
    label: str,
    kind: str,
    seen: Observation,
    shape: Shape | None = None,
) -> None:
    """Fail unless the fake saw what the committed table says it should (``make test``)."""
    ident = probe_id(service, method, label)
    expected = recorded(service, method, label, kind)
    if expected is None:
        raise AssertionError(
            f"{ident} is not in docs/compatibility.md: run make compat against the real services"
        )
    real, fake = expected
    bodies = recorded_bodies().get(ident, {})
    body = differences(bodies["real"], shape or {}) if "real" in bodies else []
    listed = ident in known_differences()
    if listed:
        assert seen != real or body, (
            f"{ident} is listed in known_differences.toml but the today fake now reproduces the "
            f"real service ({real}): remove the entry"
        )
        assert seen == fake, f"{ident} ({kind}): the fake saw {seen}; the table recorded {fake}"
        if "fake" in bodies:
            drift = differences(bodies["fake"], shape or {})
            assert not drift, (
                f"{ident} ({kind}): the fake's answer (body or headers) changed: {drift}"
            )
    else:
        hint = (
            "Fix the fake, or list the difference with its reason in "
            "tests/compat/known_differences.toml"
        )
        assert seen == real, (
            f"{ident} ({kind}): the today fake saw {seen}; the real service {real} "
            f"(docs/compatibility.md). {hint}"
        )
        assert not body, (
            f"{ident} ({kind}): the today fake's answer (body or headers) differs from the real one "
            f"(tests/compat/recorded_bodies.json): {body}. {hint}"
        )

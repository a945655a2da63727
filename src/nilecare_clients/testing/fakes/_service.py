"""The machinery both fakes share: one ASGI pipeline in front of a Starlette router.

A request goes through, in order: read the whole body; open a journal entry; apply the
fault plan (delay, then maybe a faulted answer or a reset); check the API key and bearer
token on ``/api/v1``; replay or refuse by ``Idempotency-Key``; route to the handler. The
handler's answer is buffered so the pipeline can store it for its idempotency key, swap it
for a 500 (``commit_then_fail``) and add the correlation headers, whatever produced it.

State lives in plain dicts behind one ``threading.RLock``: handlers never await while they
hold it, so the same fake can serve an in-process transport, a uvicorn thread and the test
thread at once.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any, ClassVar, Literal, get_args
from urllib.parse import parse_qsl

import anyio
import anyio.lowlevel
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from nilecare_clients._errors import ConfigurationError
from nilecare_clients.testing.fakes._asgi import ABORT_EXTENSION, Message, Receive, Scope, Send
from nilecare_clients.testing.fakes._envelope import (
    DEFAULT_CODES,
    FakeServiceError,
    auth_error_body,
    dump,
    error_body,
    iso,
    utc_now,
)
from nilecare_clients.testing.fakes.faults import FaultRule, Faults
from nilecare_clients.testing.fakes.journal import HeaderDict, Journal
from nilecare_clients.testing.fakes.server import serve
from nilecare_clients.testing.fakes.transport import FakeTransport

#: The caller organisation and user every fake assumes unless told otherwise.
DEFAULT_ORGANIZATION_ID = "0b6f3a52-5d1e-4c8e-9a57-3c2f1d7e9b10"
DEFAULT_USER_ID = "7d2c9e41-8a3b-4f6d-b5e2-91c4a8f0d3e7"

_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})
_SCOPE_KEY = "nilecare.fake"

#: ``contract``: what the contract promises (the default). ``today``: what today's services
#: answer, route by route, as measured by ``make compat`` (docs/compatibility.md).
Profile = Literal["contract", "today"]
PROFILES: tuple[str, ...] = get_args(Profile)


@dataclass(frozen=True)
class Caller:
    """Who a bearer token stands for, as the Auth service would describe them.

    ``role=None`` passes every role check; ``"*"`` in ``permissions`` grants every permission.
    ``organization_id``/``user_id`` default to the fake's own. Register with
    ``fake.add_caller(token, ...)``; role and permission checks apply in the ``today`` profile.
    """

    role: str | None = None
    permissions: frozenset[str] = frozenset({"*"})
    organization_id: str | None = None
    user_id: str | None = None

    def __repr__(self) -> str:
        return f"Caller(role={self.role!r}, permissions={sorted(self.permissions)!r})"


_ANY_CALLER = Caller()
#: The caller of the request being handled, with the fake handling it.
_CURRENT_CALLER: ContextVar[tuple[object, Caller] | None] = ContextVar(
    "nilecare_fake_caller", default=None
)


class ConnectionResetFault(ConnectionResetError):
    """Raised out of the ASGI app when ``reset_connection`` fires under a server the fake
    cannot reach into (neither ``fake.transport()`` nor ``fake.serve()``)."""


@dataclass
class _Answer:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @classmethod
    def json(cls, status: int, body: Any, headers: list[tuple[str, str]] | None = None) -> _Answer:
        return cls(status, [("content-type", "application/json"), *(headers or [])], dump(body))


@dataclass
class _Idempotent:
    fingerprint: str
    answer: _Answer | None = None  # None while the first request is still running


class FakeService:
    """Base of ``FakeClinicalService`` and ``FakeFacilityService``: an ASGI app with state.

    Keyword arguments (all optional):

    - ``organization_id`` / ``user_id``: the caller, as the Auth service would describe it;
      records are created in that organisation and lists are limited to it (contract I21, I29).
      Assign ``fake.organization_id`` to act as another tenant.
    - ``api_key``: when set, ``/api/v1`` requests need ``X-API-Key`` equal to it (contract I8).
    - ``bearer_token``: when set, ``/api/v1`` requests need ``Authorization: Bearer <it>``.
    - ``honour_idempotency_keys``: replay by ``Idempotency-Key`` (contract I26); False acts like the
      real services, which ignore the header.
    - ``seed``: makes server-assigned ids and the built-in factories deterministic.
    - ``clock``: returns the current UTC ``datetime`` (timestamps, "today" in stats).
    - ``profile``: ``"contract"`` (default) answers as the contract promises; ``"today"``
      answers as today's service does (docs/compatibility.md), Idempotency-Key ignored.
    """

    service_name: ClassVar[str] = "fake-service"
    default_limit: ClassVar[int] = 10
    #: (method, path glob) of the writes that publish an event (``faults.event_bus_down()``).
    event_routes: ClassVar[tuple[tuple[str, str], ...]] = ()

    def __init__(
        self,
        *,
        organization_id: str = DEFAULT_ORGANIZATION_ID,
        user_id: str = DEFAULT_USER_ID,
        api_key: str | None = None,
        bearer_token: str | None = None,
        honour_idempotency_keys: bool | None = None,
        seed: int = 0,
        clock: Callable[[], datetime] | None = None,
        profile: Profile = "contract",
    ) -> None:
        if profile not in PROFILES:
            raise ConfigurationError(f"profile must be one of {PROFILES}, got {profile!r}")
        self.profile: Profile = profile
        self.organization_id = organization_id
        self.user_id = user_id
        self.api_key = api_key
        self.bearer_token = bearer_token
        self.callers: dict[str, Caller] = {}
        if honour_idempotency_keys is None:
            honour_idempotency_keys = profile == "contract"  # today's services ignore the key
        self.honour_idempotency_keys = honour_idempotency_keys
        self.ready = True
        self.journal = Journal()
        self.faults = Faults()
        self._seed = seed
        self._clock = clock or utc_now
        self._lock = threading.RLock()
        self._started = time.monotonic()
        self._idempotency: dict[str, _Idempotent] = {}
        self._app = Starlette(
            routes=self._routes(),
            exception_handlers={
                FakeServiceError: self._render_service_error,
                HTTPException: self._render_http_exception,
            },
        )
        self.reset()

    # -- public surface ------------------------------------------------------------------
    @property
    def organization_id(self) -> str:
        """The caller's organisation: the registered caller's for this request, else the fake's."""
        current = _CURRENT_CALLER.get()
        if current is not None and current[0] is self and current[1].organization_id:
            return current[1].organization_id
        return self._organization_id

    @organization_id.setter
    def organization_id(self, value: str) -> None:
        self._organization_id = value

    @property
    def user_id(self) -> str:
        current = _CURRENT_CALLER.get()
        if current is not None and current[0] is self and current[1].user_id:
            return current[1].user_id
        return self._user_id

    @user_id.setter
    def user_id(self, value: str) -> None:
        self._user_id = value

    def add_caller(
        self,
        token: str,
        *,
        role: str | None = None,
        permissions: Iterable[str] = ("*",),
        organization_id: str | None = None,
        user_id: str | None = None,
    ) -> Caller:
        """Accept ``Authorization: Bearer <token>`` as this caller (role, permissions, tenant).

        Requests with an unregistered token act as the fake's own caller, who passes every
        role and permission check.
        """
        if not token or not token.strip():
            raise ConfigurationError("a caller needs a non-empty token")
        caller = Caller(role, frozenset(permissions), organization_id, user_id)
        self.callers[token.strip()] = caller
        return caller

    def current_caller(self) -> Caller:
        """The caller of the request being handled (outside a request: the fake's own)."""
        current = _CURRENT_CALLER.get()
        if current is not None and current[0] is self:
            return current[1]
        return _ANY_CALLER

    def reset(self) -> None:
        """Forget all records, the journal, armed faults and idempotency keys; re-seed ids."""
        with self._lock:
            self._ids = random.Random(f"{self.service_name}:ids:{self._seed}")
            self._idempotency.clear()
            self._reset_state()
        self.journal.clear()
        self.faults.clear()
        self.ready = True

    def transport(self) -> FakeTransport:
        """An in-process transport for ``httpx.Client`` and ``httpx.AsyncClient`` (no sockets)."""
        return FakeTransport(self)

    def serve(self, *, host: str = "127.0.0.1", port: int = 0) -> AbstractContextManager[str]:
        """Serve on loopback with uvicorn in a thread: ``with fake.serve() as base_url: ...``."""
        return serve(self, host=host, port=port)

    def now(self) -> datetime:
        """The fake's current time (its ``clock``), used for timestamps and "today"."""
        return self._clock()

    # -- for subclasses ------------------------------------------------------------------
    def _routes(self) -> list[BaseRoute]:
        raise NotImplementedError

    def _reset_state(self) -> None:
        raise NotImplementedError

    def _not_ready_body(self, path: str) -> Any | None:
        """The body a readiness route sends when not ready, or None for other paths."""
        return None

    def _rate_limited(self) -> _Answer | None:
        """A service-specific 429 answer (Facility's is plain text), or None for the default."""
        return None

    def _new_id(self) -> str:
        with self._lock:
            return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    def _timestamp(self) -> str:
        return iso(self._clock())

    def _uptime(self) -> float:
        return round(time.monotonic() - self._started, 3)

    @staticmethod
    def _copy(record: Mapping[str, Any]) -> dict[str, Any]:
        return copy.deepcopy(dict(record))

    @staticmethod
    async def _json_body(request: Request) -> dict[str, Any]:
        raw = await request.body()
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except ValueError:
            raise FakeServiceError.validation({"body": ["must be valid JSON"]}) from None
        if not isinstance(body, dict):
            raise FakeServiceError.validation({"body": ["must be a JSON object"]})
        return body

    @staticmethod
    def _query(request: Request) -> dict[str, str]:
        return dict(request.query_params)

    # -- ASGI ----------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            raise RuntimeError(f"{type(self).__name__} serves HTTP only")
        body = await _read_body(receive)
        headers = HeaderDict(
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]
        )
        method = str(scope["method"]).upper()
        path = str(scope["path"])
        query_string = bytes(scope.get("query_string", b"")).decode("latin-1")
        request_id = (
            headers.get("x-correlation-id") or headers.get("x-request-id") or str(uuid.uuid4())
        )
        attempt = headers.get("x-retry-attempt")
        entry = self.journal._open(
            method=method,
            path=path,
            query=dict(parse_qsl(query_string, keep_blank_values=True)),
            query_string=query_string,
            headers=headers,
            body=body,
            correlation_id=request_id,
            idempotency_key=headers.get("idempotency-key"),
            retry_attempt=int(attempt) if attempt and attempt.strip().isdigit() else None,
        )
        outcome: dict[str, Any] = {}
        try:
            decision = self.faults._decide(method, path)
            outcome["delay"] = decision.delay
            if decision.delay:
                outcome["fault"] = "latency"
                await anyio.sleep(decision.delay)
            rule = decision.rule
            if rule is not None:
                outcome["fault"] = rule.name
            if rule is not None and rule.name == "reset_connection":
                await _abort(scope)
                return
            answer, replayed = await self._answer(
                scope, body, headers, method, path, request_id, rule
            )
            if rule is None and not replayed and self._event_lost(method, path, answer):
                outcome["fault"] = "event_bus_down"
                answer = self._error(
                    500, "INTERNAL_ERROR", "The producer is disconnected", request_id
                )
            answer.headers += self._echo_headers(request_id)
            if replayed:
                answer.headers.append(("idempotent-replayed", "true"))
            outcome["replayed"] = replayed
            outcome["status"] = answer.status
            await send(
                {
                    "type": "http.response.start",
                    "status": answer.status,
                    "headers": [
                        (k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers
                    ],
                }
            )
            await send({"type": "http.response.body", "body": answer.body})
        finally:
            self.journal._complete(entry, **outcome)

    async def _answer(
        self,
        scope: Scope,
        body: bytes,
        headers: HeaderDict,
        method: str,
        path: str,
        request_id: str,
        rule: FaultRule | None,
    ) -> tuple[_Answer, bool]:
        if rule is not None and rule.name != "commit_then_fail":
            return self._faulted(rule, path, request_id), False
        refusal = self._check_auth(path, headers)
        if refusal is not None:
            return refusal, False
        token = self._bearer(headers)
        caller = self.callers.get(token) if token else None
        marker = _CURRENT_CALLER.set((self, caller or _ANY_CALLER))
        try:
            return await self._answer_as_caller(
                scope, body, headers, method, path, request_id, rule
            )
        finally:
            _CURRENT_CALLER.reset(marker)

    async def _answer_as_caller(
        self,
        scope: Scope,
        body: bytes,
        headers: HeaderDict,
        method: str,
        path: str,
        request_id: str,
        rule: FaultRule | None,
    ) -> tuple[_Answer, bool]:
        key = headers.get("idempotency-key")
        if not (key and self.honour_idempotency_keys and method in _WRITE_METHODS):
            key = None
        fingerprint = _fingerprint(method, path, body)
        if key is not None:
            with self._lock:
                known = self._idempotency.get(key)
                if known is None:
                    self._idempotency[key] = _Idempotent(fingerprint)
            if known is not None:
                if known.fingerprint == fingerprint and known.answer is not None:
                    return copy.deepcopy(known.answer), True
                message = (
                    "Idempotency-Key was already used with a different request"
                    if known.fingerprint != fingerprint
                    else "A request with this Idempotency-Key is still in progress"
                )
                return self._error(409, "CONFLICT", message, request_id), False
        answer = await self._dispatch(scope, body, request_id)
        if key is not None:
            with self._lock:
                if answer.status < 500:
                    self._idempotency[key] = _Idempotent(fingerprint, copy.deepcopy(answer))
                else:
                    self._idempotency.pop(key, None)
        if rule is not None:  # commit_then_fail: the write happened, the caller never hears
            return self._error(
                rule.status,
                DEFAULT_CODES.get(rule.status, "INTERNAL_ERROR"),
                "Internal server error",
                request_id,
            ), False
        return answer, False

    async def _dispatch(self, scope: Scope, body: bytes, request_id: str) -> _Answer:
        inner = dict(scope)
        inner[_SCOPE_KEY] = {"request_id": request_id}
        delivered = False
        answer: _Answer | None = None

        async def receive() -> Message:
            nonlocal delivered
            if delivered:
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: Message) -> None:
            nonlocal answer
            if message["type"] == "http.response.start":
                answer = _Answer(
                    int(message["status"]),
                    [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message["headers"]],
                )
            elif message["type"] == "http.response.body" and answer is not None:
                answer.body += bytes(message.get("body", b""))

        try:
            await self._app(inner, receive, send)
        except Exception as exc:  # a bug in a handler: answer 500 and say what broke
            if answer is None:
                return self._error(
                    500,
                    "INTERNAL_ERROR",
                    "Internal server error",
                    request_id,
                    {"exception": repr(exc)},
                )
        if answer is None:
            return self._error(500, "INTERNAL_ERROR", "No response", request_id)
        return answer

    def _check_auth(self, path: str, headers: HeaderDict) -> _Answer | None:
        if not path.startswith("/api/v1"):
            return None
        if self.api_key is not None:
            sent = headers.get("x-api-key") or ""
            if not hmac.compare_digest(sent.encode(), self.api_key.encode()):
                return _Answer.json(
                    401, auth_error_body("UNAUTHORIZED", "Invalid or missing API key")
                )
        if self.bearer_token is None:
            return None
        authorization = (headers.get("authorization") or "").strip()
        if not authorization:
            return _Answer.json(401, auth_error_body("UNAUTHORIZED", "No token provided"))
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer":
            return _Answer.json(
                401, auth_error_body("INVALID_TOKEN_FORMAT", "Authorization must use Bearer")
            )
        if not token.strip():
            return _Answer.json(401, auth_error_body("UNAUTHORIZED", "No token provided"))
        if token.strip() in self.callers:
            return None
        if not hmac.compare_digest(token.strip().encode(), self.bearer_token.encode()):
            return _Answer.json(401, auth_error_body("INVALID_TOKEN", "Invalid or expired token"))
        return None

    @staticmethod
    def _bearer(headers: HeaderDict) -> str | None:
        scheme, _, token = (headers.get("authorization") or "").strip().partition(" ")
        if scheme.lower() != "bearer":
            return None
        return token.strip() or None

    def _event_lost(self, method: str, path: str, answer: _Answer) -> bool:
        """True when ``faults.event_bus_down()`` turns this committed write into a 500."""
        return (
            answer.status < 400
            and self.faults.event_bus_is_down
            and any(m == method and fnmatchcase(path, glob) for m, glob in self.event_routes)
        )

    def _echo_headers(self, request_id: str) -> list[tuple[str, str]]:
        """The correlation headers sent back (contract I9); profiles may send fewer."""
        return [("x-request-id", request_id), ("x-correlation-id", request_id)]

    def _faulted(self, rule: FaultRule, path: str, request_id: str) -> _Answer:
        if rule.name == "malformed_body":
            return _Answer(
                rule.status,
                [("content-type", "application/json")],
                b'{"success": true, "data": {"id": "',
            )
        if rule.name == "html_body":
            page = (
                f"<html><head><title>{rule.status} Bad Gateway</title></head><body>"
                f"<center><h1>{rule.status} Bad Gateway</h1></center><hr><center>nginx</center>"
                "</body></html>"
            ).encode()
            return _Answer(rule.status, [("content-type", "text/html")], page)
        extra = [] if rule.retry_after is None else [("retry-after", str(rule.retry_after))]
        if rule.name == "outage":
            not_ready = self._not_ready_body(path)
            if not_ready is not None:
                return _Answer.json(rule.status, not_ready, extra)
        if rule.status == 429:
            limited = self._rate_limited()
            if limited is not None:
                limited.headers += extra
                return limited
        code = DEFAULT_CODES.get(rule.status, "INTERNAL_ERROR")
        message = "Service temporarily unavailable" if rule.status == 503 else "Injected failure"
        answer = self._error(rule.status, code, message, request_id)
        answer.headers += extra
        return answer

    def _error(
        self, status: int, code: str, message: str, request_id: str, details: Any = None
    ) -> _Answer:
        return _Answer.json(status, self._error_body(status, code, message, details, request_id))

    def _error_body(
        self, status: int, code: str, message: str, details: Any, request_id: str
    ) -> Any:
        """The body of an error answer: the canonical form here; a profile may override."""
        return error_body(
            status,
            code,
            message,
            details=details,
            request_id=request_id,
            service=self.service_name,
            now=self._clock(),
        )

    def _error_response(self, request: Request, error: FakeServiceError) -> Response:
        request_id = request.scope.get(_SCOPE_KEY, {}).get("request_id", "")
        body = self._error_body(error.status, error.code, error.message, error.details, request_id)
        return JSONResponse(body, status_code=error.status)

    async def _render_service_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, FakeServiceError)
        return self._error_response(request, exc)

    async def _render_http_exception(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 405:
            error = FakeServiceError(405, "METHOD_NOT_ALLOWED", f"{request.method} not allowed")
        else:
            error = FakeServiceError(
                exc.status_code,
                DEFAULT_CODES.get(exc.status_code, "NOT_FOUND"),
                f"Route {request.method} {request.url.path} not found",
            )
        return self._error_response(request, error)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(bytes(message.get("body", b"")))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _abort(scope: Scope) -> None:
    abort = (scope.get("extensions") or {}).get(ABORT_EXTENSION)
    if abort is None:
        raise ConnectionResetFault("reset_connection fault: no way to reach the connection")
    abort()
    # Let the server see the connection as lost before we return without a response.
    for _ in range(3):
        await anyio.lowlevel.checkpoint()


def _fingerprint(method: str, path: str, body: bytes) -> str:
    """Same method, path and JSON body (key order ignored) means the same request."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True).encode() if body else b""
    except ValueError:
        canonical = body
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).hexdigest()

"""``Endpoint``: one route of a service, declared once as data; ``Bound``: one call of it.

A client is a table of ``Endpoint`` constants plus typed methods whose body is one line,
``self._run(ENDPOINT, *ids, **values)`` (``self._arun`` in the async twin). ``Endpoint.bind``
turns the call's values into a ``Bound`` with no I/O: ids checked as UUIDs, query values
range-checked, the body validated into its model, the idempotency key made once. The send
loop in ``_client.py`` only ever sees a ``Bound``, so what a route needs is written in one
place and read by both twins.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, get_args

from pydantic import BaseModel, ValidationError

from nilecare_clients._config import HEADER_VALUE
from nilecare_clients._correlation import new_correlation_id
from nilecare_clients._decisions import is_repeatable
from nilecare_clients._errors import InvalidRequestError, ServiceError
from nilecare_clients.models._base import is_uuid
from nilecare_clients.models.common import Page

__all__ = [
    "Bound",
    "CacheKind",
    "Endpoint",
    "Param",
    "Safety",
    "check_range",
    "check_uuid",
    "field_rules",
    "page_params",
    "uuid_param",
    "wire_body",
]

T = TypeVar("T")
B = TypeVar("B", bound=BaseModel)

_PLACEHOLDER = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)}")


class Safety(enum.Enum):
    """What a failed attempt of the route allows (``request_sent`` decides the rest)."""

    #: A read: repeated after any retryable failure.
    READ = "read"
    #: PUT / DELETE: the same request twice leaves the same state (contract I26).
    IDEMPOTENT = "idempotent"
    #: A POST that sends an ``Idempotency-Key``, made once per call and reused by every
    #: attempt; repeated after an ambiguous failure only where the service honours keys.
    KEYED = "keyed"
    #: A write the service cannot recognise twice (PATCH, bed assign/release: contract I19):
    #: never repeated once it may have been read; an ambiguous failure is OutcomeUnknownError.
    ONCE = "once"


_SAFETY_METHODS = {
    Safety.READ: {"GET", "HEAD", "OPTIONS"},
    Safety.IDEMPOTENT: {"PUT", "DELETE"},
    Safety.KEYED: {"POST"},
    Safety.ONCE: {"POST", "PATCH"},
}


@dataclass(frozen=True)
class CacheKind:
    """How a cached route's answers are kept: the key's first element and the TTL's name on
    the client's ``CachePolicy`` (e.g. ``facility_ttl``)."""

    prefix: str
    ttl: str


@dataclass(frozen=True)
class Param:
    """One query parameter: the method's argument name, its wire name, its check.

    ``check(name, value)`` returns the value to send or raises ``InvalidRequestError`` naming
    the argument. ``None`` is never sent (contract I13: filters only when the caller gives them).
    """

    name: str
    wire: str = ""
    check: Callable[[str, Any], Any] | None = None
    #: A required value is checked even when ``None`` (the check then refuses it).
    required: bool = False

    def __post_init__(self) -> None:
        if not self.wire:
            object.__setattr__(self, "wire", self.name)


def check_uuid(name: str, value: object) -> str:
    """Path ids are UUIDs (contract I3): anything else is refused before any I/O, without
    echoing it."""
    if not isinstance(value, str) or not is_uuid(value):
        raise InvalidRequestError(f"{name} must be a UUID string")
    return value


def check_range(name: str, value: object, low: int, high: int | None = None) -> int:
    """An integer argument inside the service's range; out of range is an error, never clamped."""
    bounds = f"between {low} and {high}" if high is not None else f">= {low}"
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequestError(f"{name} must be an integer {bounds}")
    if value < low or (high is not None and value > high):
        raise InvalidRequestError(f"{name} must be an integer {bounds}")
    return value


def uuid_param(name: str, wire: str, *, required: bool = False) -> Param:
    """A query value that is an id: checked as a UUID like a path id."""
    return Param(name, wire, check_uuid, required)


def page_params(cap: int) -> tuple[Param, Param]:
    """``page`` (>= 1) and ``limit`` (1 to the service's ``cap``, contract I12)."""
    return (
        Param("page", check=lambda name, v: check_range(name, v, 1)),
        Param("limit", check=lambda name, v: check_range(name, v, 1, cap)),
    )


def _text(name: str, value: object) -> object:
    """A string value must be encodable: a lone surrogate would fail deep inside the HTTP
    stack with an error that holds the whole input (contract §4.3: no PHI in errors)."""
    if isinstance(value, str) and not value.isascii():
        encodable = True
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            encodable = False
        if not encodable:  # raised outside the handler: no __context__ holding the input
            raise InvalidRequestError(f"{name} holds characters that cannot be encoded")
    return value


# -- request bodies -------------------------------------------------------------------------
def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation (``X | None``, ``list[X]``, ``dict[K, X]``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _python_path(model: type[BaseModel], loc: Sequence[int | str]) -> str:
    """An error location as the caller's Python field names (``address.zip_code``).

    pydantic reports a missing field by its wire alias (``lastName``) but a bad value by the
    key the caller used (``last_name``); naming every field one way keeps messages stable.
    Keys that are not fields (unknown keys, dict keys, list indexes) are kept as given.
    """
    parts: list[str] = []
    current: type[BaseModel] | None = model
    for segment in loc:
        name = str(segment)
        if isinstance(segment, str) and current is not None:
            fields = current.model_fields
            if segment not in fields:
                name = next((n for n, f in fields.items() if f.alias == segment), segment)
            if name in fields:
                current = _model_in(fields[name].annotation)
        parts.append(name)
    return ".".join(parts) or "body"


_RULES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "missing": lambda ctx: "required",
    "extra_forbidden": lambda ctx: "not a field of this body",
    "string_too_short": lambda ctx: f"at least {ctx['min_length']} characters",
    "string_too_long": lambda ctx: f"at most {ctx['max_length']} characters",
    "too_short": lambda ctx: f"at least {ctx['min_length']} items",
    "too_long": lambda ctx: f"at most {ctx['max_length']} items",
    "greater_than": lambda ctx: f"greater than {ctx['gt']}",
    "greater_than_equal": lambda ctx: f"at least {ctx['ge']}",
    "less_than": lambda ctx: f"less than {ctx['lt']}",
    "less_than_equal": lambda ctx: f"at most {ctx['le']}",
    "enum": lambda ctx: "one of " + _choices(ctx["expected"]),
    "literal_error": lambda ctx: "one of " + _choices(ctx["expected"]),
}


def _choices(expected: str) -> str:
    """pydantic's ``'a', 'b' or 'c'`` as ``a, b, c``."""
    return expected.replace("' or '", "', '").replace("'", "")


def _rule(error: Mapping[str, Any]) -> str:
    """The rule an input broke, in words that never contain the input."""
    ctx = error.get("ctx") or {}
    make = _RULES.get(error["type"])
    if make is not None:
        try:
            return make(ctx)
        except KeyError:
            pass
    message = str(error.get("msg", ""))
    for prefix, replacement in (("Value error, ", ""), ("Input should be ", "must be ")):
        if message.startswith(prefix):
            message = replacement + message[len(prefix) :]
    kind = str(error["type"])
    value = error.get("input")
    if isinstance(value, (str, int, float)) and len(str(value)) > 1 and str(value) in message:
        return kind  # the message would echo the value: say only what kind of error
    return message or kind


def field_rules(model: type[BaseModel], exc: ValidationError) -> list[dict[str, Any]]:
    """pydantic's errors without the input: ``field``, ``rule``, ``type`` and ``loc`` each."""
    out: list[dict[str, Any]] = []
    for error in exc.errors(include_url=False):
        out.append(
            {
                "field": _python_path(model, error["loc"]),
                "rule": _rule(error),
                "type": error["type"],
                "loc": tuple(error["loc"]),
            }
        )
    return out


def wire_body(model: type[B], body: B | Mapping[str, Any]) -> dict[str, Any]:
    """The wire form of a request body; a mapping is validated first.

    An invalid body raises ``InvalidRequestError`` naming each field and its rule, never the
    value (``gender: one of male, female, other``); ``errors`` holds the details.
    """
    if isinstance(body, model):
        return body.to_wire()  # type: ignore[attr-defined, no-any-return]
    if not isinstance(body, Mapping):
        raise InvalidRequestError(f"body must be a {model.__name__} or a mapping")
    rules: list[dict[str, Any]] = []
    try:
        return model.model_validate(body).to_wire()  # type: ignore[attr-defined, no-any-return]
    except ValidationError as exc:
        rules = field_rules(model, exc)
    # Raised outside the handler, so no __context__ carries pydantic's error (it holds inputs).
    said = "; ".join(sorted({f"{r['field']}: {r['rule']}" for r in rules})) or "body"
    raise InvalidRequestError(f"invalid {model.__name__}: {said}", errors=rules)


def _idempotency_key(given: object) -> str:
    if given is None:
        return new_correlation_id()
    if not isinstance(given, str) or len(given) > 255 or not HEADER_VALUE.fullmatch(given):
        raise InvalidRequestError(
            "idempotency_key must be 1-255 visible ASCII characters (inner spaces allowed)"
        )
    return given


def _page_parser(model: Any, collection_key: str | None) -> Callable[[bytes], Page[Any]]:
    """A raw-body parser for a list route in either service's pagination style (contract I12)."""
    page_type = Page[model]

    def parse(content: bytes) -> Page[Any]:
        body = json.loads(content)
        if not isinstance(body, dict):
            raise ValueError("body is not a JSON object")
        return page_type.from_envelope(body, collection_key)

    return parse


def _page_item(returns: Any) -> Any:
    """The item model of ``Page[X]``, or None when ``returns`` is not a page."""
    if isinstance(returns, type) and issubclass(returns, Page):
        args = returns.__pydantic_generic_metadata__["args"]
        return args[0] if args else None
    return None


# -- the declaration ------------------------------------------------------------------------
@dataclass(frozen=True)
class Endpoint(Generic[T]):
    """One route, declared once: everything a call of it needs besides the caller's values.

    ``route`` is the whole template as it appears in the service's logs; ``ids`` names the
    method argument behind each ``{placeholder}`` (in order) for error messages. ``returns``
    is the response model (``Page[X]`` for a list, whose items sit under ``key``); ``body``
    the request model, built from the ``body`` argument or, with ``body_from``, from those
    arguments. ``convert`` turns the validated answer into what the method returns; ``refine``
    a generic error into a more specific one; ``check`` sees every value first (rules across
    arguments; ``extra`` names arguments only it reads). ``cache`` and ``invalidates`` are
    read by clients with a cache (Facility).
    """

    method: str
    route: str
    safety: Safety
    returns: Any = None
    key: str | None = None
    ids: tuple[str, ...] = ()
    body: type[BaseModel] | None = None
    body_from: tuple[str, ...] = ()
    query: tuple[Param, ...] = ()
    null_is_not_found: bool = False
    parse: Callable[[bytes], Any] | None = None
    convert: Callable[[Any], T] | None = None
    refine: Callable[[ServiceError], ServiceError] | None = None
    check: Callable[[Mapping[str, Any]], None] | None = None
    extra: tuple[str, ...] = ()
    cache: CacheKind | None = None
    invalidates: tuple[enum.Enum, ...] = ()
    #: Derived: the names of the route's placeholders, in order.
    placeholders: tuple[str, ...] = field(init=False, default=())
    #: Derived: the keyword values a call may give.
    accepts: frozenset[str] = field(init=False, default=frozenset())
    #: Derived: a call is its ids alone (no query, body, check or key), as most reads are.
    ids_only: bool = field(init=False, default=False, repr=False, compare=False)
    #: Derived: the method alone makes every call of it repeatable (a read, PUT, DELETE).
    repeatable: bool = field(init=False, default=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = tuple(_PLACEHOLDER.findall(self.route))
        if len(names) != len(self.ids):
            raise ValueError(f"{self.route}: {len(names)} placeholders, {len(self.ids)} ids")
        if self.method not in _SAFETY_METHODS[self.safety]:
            raise ValueError(f"{self.method} {self.route} cannot be {self.safety.name}")
        if self.body_from and self.body is None:
            raise ValueError(f"{self.route}: body_from needs the body model")
        object.__setattr__(self, "placeholders", names)
        accepts = {p.name for p in self.query} | {*self.body_from, *self.extra}
        if self.body is not None and not self.body_from:
            accepts.add("body")
        if self.safety is Safety.KEYED:
            accepts.add("idempotency_key")
        object.__setattr__(self, "accepts", frozenset(accepts))
        object.__setattr__(self, "ids_only", not accepts and self.check is None)
        object.__setattr__(self, "repeatable", is_repeatable(self.method, False, False))
        item = _page_item(self.returns)
        if item is not None and self.parse is None:
            object.__setattr__(self, "parse", _page_parser(item, self.key))

    def __repr__(self) -> str:
        return f"Endpoint({self.method} {self.route})"

    def bind(self, ids: Sequence[object], values: Mapping[str, Any]) -> Bound[T]:
        """This call's request, checked before any I/O (pure but for a new idempotency key)."""
        if self.ids_only and not values and len(ids) == len(self.ids):
            # The usual get by id: nothing but the ids to check, the path filled in once.
            if not ids:
                return Bound(self, path=self.route)
            if len(ids) == 1:
                path_params = {self.placeholders[0]: check_uuid(self.ids[0], ids[0])}
            else:
                path_params = {
                    placeholder: check_uuid(name, value)
                    for placeholder, name, value in zip(
                        self.placeholders, self.ids, ids, strict=True
                    )
                }
            return Bound(self, path_params, path=self.route.format_map(path_params))
        if len(ids) != len(self.ids):
            raise InvalidRequestError(f"{self.method} {self.route} takes {len(self.ids)} id(s)")
        if values and values.keys() - self.accepts:  # (no values, the usual get: no set built)
            unknown = ", ".join(sorted(values.keys() - self.accepts))
            raise InvalidRequestError(f"{self.method} {self.route} takes no {unknown}")
        if self.check is not None:
            self.check(values)
        path_params = {
            placeholder: check_uuid(name, value)
            for placeholder, name, value in zip(self.placeholders, self.ids, ids, strict=True)
        }
        params: dict[str, Any] | None = None
        if self.query:
            params = {}
            for param in self.query:
                value = values.get(param.name)
                if value is None and not param.required:
                    continue
                if param.check is not None:
                    value = param.check(param.name, value)
                if isinstance(value, bool):
                    value = "true" if value else "false"
                elif isinstance(value, enum.Enum):
                    value = value.value
                params[param.wire] = _text(param.name, value)
        body: Any = None
        model = self.body
        if model is not None:
            if self.body_from:
                given: Any = {name: values.get(name) for name in self.body_from}
            else:
                given = values.get("body")
            body = wire_body(model, {} if given is None else given)
        key: str | None = None
        if self.safety is Safety.KEYED:
            key = _idempotency_key(values.get("idempotency_key"))
        # UUIDs are safe path segments as they are: the path is filled in here, once.
        path = self.route.format_map(path_params) if path_params else self.route
        return Bound(self, path_params or None, params or None, body, key, path=path)


@dataclass(slots=True)
class Bound(Generic[T]):
    """One call of an endpoint: its checked path ids, query, wire body and idempotency key.

    Built once per call and only read after that; not frozen, because a frozen dataclass's
    ``__init__`` (one ``object.__setattr__`` per field) is a measurable share of a call.
    """

    endpoint: Endpoint[T]
    path_params: Mapping[str, object] | None = None
    params: Mapping[str, Any] | None = None
    json: Any = None
    idempotency_key: str | None = None
    headers: Mapping[str, str] | None = None
    #: The route with its ids filled in, when ``bind`` checked them (else built from
    #: ``path_params`` by the core, which checks each segment).
    path: str | None = None

    def __repr__(self) -> str:
        return f"Bound({self.endpoint.method} {self.endpoint.route})"  # never the values (PHI)


def adhoc(
    method: str,
    route: str,
    *,
    path_params: Mapping[str, object] | None,
    params: Mapping[str, Any] | None,
    json: Any,
    headers: Mapping[str, str] | None,
    idempotency_key: str | None,
    response_model: Any,
    envelope_key: str | None,
    null_is_not_found: bool,
    parse: Callable[[bytes], Any] | None,
) -> Bound[Any]:
    """A call of an undeclared route (``_request``): ids are taken as given, not checked."""
    method = method.upper()
    endpoint: Endpoint[Any] = _adhoc_endpoint(
        method, route, response_model, envelope_key, null_is_not_found, parse, idempotency_key
    )
    if params:
        params = {k: _text(k, v) for k, v in params.items()}
    if idempotency_key is not None:
        idempotency_key = _idempotency_key(idempotency_key)
    return Bound(endpoint, path_params, params, json, idempotency_key, headers)


def _adhoc_endpoint(
    method: str,
    route: str,
    returns: Any,
    key: str | None,
    null_is_not_found: bool,
    parse: Callable[[bytes], Any] | None,
    idempotency_key: str | None,
) -> Endpoint[Any]:
    safety = next((s for s, methods in _SAFETY_METHODS.items() if method in methods), None)
    if safety is None:
        raise InvalidRequestError(f"unsupported HTTP method {method[:10]!r}")
    if safety is Safety.KEYED and idempotency_key is None:
        safety = Safety.ONCE
    names = tuple(_PLACEHOLDER.findall(route))
    return Endpoint(
        method,
        route,
        safety,
        returns=returns,
        key=key,
        ids=names,
        null_is_not_found=null_is_not_found,
        parse=parse,
    )

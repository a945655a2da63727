"""``Plan``: one typed method's call, declared as data, so sync and async methods share it.

A typed method builds a ``Plan`` with a pure function (validate ids, clamp limits, choose
query keys, make the idempotency key once) and hands it to ``_run`` (sync) or ``_arun``
(async). The twins therefore hold one line per endpoint; everything that could drift lives in
the plan builders, tested once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, get_args

from pydantic import BaseModel, ValidationError

from nilecare_clients._correlation import new_correlation_id
from nilecare_clients._errors import InvalidRequestError, ServiceError
from nilecare_clients.models._base import is_uuid
from nilecare_clients.models.common import Page

__all__ = [
    "Plan",
    "check_uuid",
    "clamp",
    "idempotency_key_for",
    "page_parser",
    "positive",
    "query",
    "wire_body",
    "write_plan",
]

T = TypeVar("T")
B = TypeVar("B", bound=BaseModel)


@dataclass(frozen=True)
class Plan(Generic[T]):
    method: str
    route: str
    path_params: Mapping[str, str] | None = None
    params: Mapping[str, Any] | None = None
    json: Any = None
    response_model: Any = None
    envelope_key: str | None = None
    #: Validates the raw body itself (lists whose pagination sits outside ``data``).
    parse: Callable[[bytes], Any] | None = None
    null_is_not_found: bool = False
    idempotency_key: str | None = None
    #: Turns the validated payload into what the method returns (pure).
    convert: Callable[[Any], T] | None = None
    #: Turns a generic error into a more specific one (e.g. prescription refusals, contract I14).
    refine_error: Callable[[ServiceError], ServiceError] | None = None

    def request_kwargs(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path_template": self.route,
            "path_params": self.path_params,
            "params": self.params,
            "json": self.json,
            "response_model": self.response_model,
            "envelope_key": self.envelope_key,
            "parse": self.parse,
            "null_is_not_found": self.null_is_not_found,
            "idempotency_key": self.idempotency_key,
        }


def check_uuid(name: str, value: object) -> str:
    """Path ids are UUIDs (contract I3): anything else is refused before any I/O, without echoing
    it."""
    if not isinstance(value, str) or not is_uuid(value):
        raise InvalidRequestError(f"{name} must be a UUID string")
    return value


def clamp(value: int, low: int, high: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequestError(f"{name} must be an integer")
    return max(low, min(high, value))


def positive(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidRequestError(f"{name} must be an integer >= 1")
    return value


def query(**values: Any) -> dict[str, Any]:
    """Query parameters with ``None`` left out and booleans as ``true``/``false`` literals."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return out


def page_parser(model: Any, collection_key: str | None) -> Callable[[bytes], Page[Any]]:
    """A raw-body parser for a list endpoint in either service's pagination style (contract I12)."""
    page_type = Page[model]

    def parse(content: bytes) -> Page[Any]:
        body = json.loads(content)
        if not isinstance(body, dict):
            raise ValueError("body is not a JSON object")
        return page_type.from_envelope(body, collection_key)

    return parse


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation (``X | None``, ``list[X]``, ``dict[K, X]``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _python_path(model: type[BaseModel], loc: tuple[int | str, ...]) -> str:
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


def wire_body(model: type[B], body: B | Mapping[str, Any]) -> dict[str, Any]:
    """The wire form of a request body; a dict is validated first (field names in the error)."""
    if isinstance(body, model):
        return body.to_wire()  # type: ignore[attr-defined, no-any-return]
    if isinstance(body, Mapping):
        try:
            return model.model_validate(body).to_wire()  # type: ignore[attr-defined, no-any-return]
        except ValidationError as exc:
            fields = sorted({_python_path(model, e["loc"]) for e in exc.errors()})
            raise InvalidRequestError(
                f"invalid {model.__name__}: {', '.join(fields) or 'body'}"
            ) from None
    raise InvalidRequestError(f"body must be a {model.__name__} or a mapping")


def idempotency_key_for(idempotency_key: str | None) -> str:
    if idempotency_key is None:
        return new_correlation_id()
    if not isinstance(idempotency_key, str) or not 1 <= len(idempotency_key) <= 255:
        raise InvalidRequestError("idempotency_key must be a non-empty string (<= 255 chars)")
    return idempotency_key


def write_plan(
    method: str,
    route: str,
    model: type[BaseModel],
    body: Any,
    response_model: type[T] | None,
    ident: str | None = None,
    idempotency_key: str | None = None,
) -> Plan[T]:
    """A write: the body validated into ``model`` and sent on the wire; POSTs get a key."""
    return Plan(
        method,
        route,
        path_params={"id": check_uuid("id", ident)} if ident is not None else None,
        json=wire_body(model, body) if body is not None else None,
        response_model=response_model,
        idempotency_key=idempotency_key_for(idempotency_key) if method == "POST" else None,
    )

"""Reading success bodies: the envelope ``{success, data, ...}`` into a typed value.

The fast path validates the raw bytes in one pass with a cached pydantic ``TypeAdapter``
for ``{"data": T}`` (or ``{"data": {key: T}}``). Only when that fails does the lenient reader
run, which accepts every variant production sends (contract I1, I2): ``data`` wrapped in a
single ``patient`` key, Clinical pagination inside ``data``, missing metadata. What still does
not fit raises ``ResponseValidationError`` naming locations and error types, never values.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError, create_model

__all__ = ["DataIsNull", "EnvelopeMismatch", "parse_data", "unwrap_lenient"]


class EnvelopeMismatch(Exception):
    """The body does not fit; ``reason`` and ``errors`` carry no body text (internal)."""

    def __init__(self, reason: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.errors = errors or []


class DataIsNull(EnvelopeMismatch):
    """``200`` with ``data: null``: a get-by-id means "not found" (contract I11)."""


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


@lru_cache(maxsize=256)
def _fast_adapter(model: Any, envelope_key: str | None) -> TypeAdapter[Any]:
    inner: Any = model
    if envelope_key is not None:
        fields: dict[str, Any] = {envelope_key: (model, ...)}
        inner = create_model(f"_Data_{envelope_key}", __base__=_Loose, **fields)
    return TypeAdapter(create_model("_Envelope", __base__=_Loose, data=(inner, ...)))


@lru_cache(maxsize=256)
def _adapter(model: Any) -> TypeAdapter[Any]:
    return TypeAdapter(model)


def _safe_errors(exc: ValidationError) -> list[dict[str, Any]]:
    # Locations and error types only: pydantic's "input" and "ctx" can hold PHI.
    return [{"loc": e["loc"], "type": e["type"]} for e in exc.errors(include_url=False)]


def unwrap_lenient(body: Any, envelope_key: str | None) -> Any:
    """The payload of a decoded success body, tolerant of each service's variants."""
    if not isinstance(body, dict):
        raise EnvelopeMismatch("body is not a JSON object")
    if "data" not in body:
        raise EnvelopeMismatch("no 'data' in the envelope")
    data = body["data"]
    if envelope_key is not None:
        if isinstance(data, dict) and envelope_key in data:
            return data[envelope_key]
        raise EnvelopeMismatch(f"no 'data.{envelope_key}' in the envelope")
    # contract I2: a data object whose only key is the resource name is unwrapped as well.
    if isinstance(data, dict) and len(data) == 1:
        (only_key,) = data
        if only_key in ("patient", "facility", "encounter", "medication", "diagnostic", "bed"):
            return data[only_key]
    return data


def parse_data(content: bytes, model: Any, envelope_key: str | None) -> Any:
    """Validate ``content`` into ``model``; raises ``EnvelopeMismatch`` when it does not fit."""
    adapter = _fast_adapter(model, envelope_key)
    try:
        envelope = adapter.validate_json(content)
    except ValidationError:
        pass  # not the canonical shape: try the lenient reader below
    else:
        data = envelope.data
        return data if envelope_key is None else getattr(data, envelope_key)
    try:
        body = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        raise EnvelopeMismatch("body is not JSON") from None
    payload = unwrap_lenient(body, envelope_key)
    if payload is None:
        raise DataIsNull("data is null")
    try:
        return _adapter(model).validate_python(payload)
    except ValidationError as exc:
        raise EnvelopeMismatch("body does not match the schema", _safe_errors(exc)) from None

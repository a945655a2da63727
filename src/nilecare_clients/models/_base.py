"""What every model shares: base configs, StrEnum, id types and normalisation.

Two bases, because reads and writes obey opposite rules:

- ``ResponseModel`` keeps unknown fields (``extra="allow"``), so a newer server never breaks
  an older client, and leaves enums *open*: an unknown value stays a plain ``str`` and is
  logged once (contract I6).
- ``RequestBody`` forbids unknown fields (``extra="forbid"``: Clinical answers 400 to any
  unknown key) and checks the write rules of the contract before anything is sent.

Both use snake_case attributes with camelCase wire aliases and hide input values from
``ValidationError`` messages, because those inputs are often PHI (a name, a phone number).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timezone
from enum import StrEnum
from typing import Annotated, Any, ClassVar, TypeVar
from uuid import UUID

import pydantic
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainValidator,
    StringConstraints,
    model_validator,
)
from pydantic.alias_generators import to_camel

from nilecare_clients import _state
from nilecare_clients._log import emit

__all__ = [
    "UUID_PATTERN",
    "Count",
    "Email",
    "LenientDate",
    "NonEmptyStr",
    "PhiRedactedRepr",
    "PhoneNumber",
    "RequestBody",
    "ResponseModel",
    "StorageRowModel",
    "StrEnum",
    "StrList",
    "UUIDStr",
    "UtcDatetime",
    "is_uuid",
    "normalize_keys",
    "open_enum",
    "reset_unknown_enum_log",
]


def _pydantic_at_least(major: int, minor: int) -> bool:
    parts = pydantic.VERSION.split(".")
    return (int(parts[0]), int(parts[1])) >= (major, minor)


# pydantic 2.11 split ``populate_by_name`` into two switches and discourages the old one;
# older 2.x releases only know ``populate_by_name``.
_BY_NAME_AND_ALIAS: ConfigDict = (
    ConfigDict(validate_by_name=True, validate_by_alias=True)
    if _pydantic_at_least(2, 11)
    else ConfigDict(populate_by_name=True)
)

_COMMON_CONFIG: ConfigDict = ConfigDict(
    alias_generator=to_camel,
    hide_input_in_errors=True,
    **_BY_NAME_AND_ALIAS,
)


class ResponseModel(BaseModel):
    """Base of everything read from a service: unknown fields are kept (forward compatible)."""

    model_config = ConfigDict(**_COMMON_CONFIG, extra="allow")


class RequestBody(BaseModel):
    """Base of every request body: unknown fields are refused, the write rules are checked."""

    model_config = ConfigDict(**_COMMON_CONFIG, extra="forbid")

    def to_wire(self) -> dict[str, Any]:
        """The JSON body to send: camelCase keys, ``None`` fields left out, JSON-ready values."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


# --- PHI-safe repr ------------------------------------------------------------------------


class PhiRedactedRepr:
    """Mixin: ``repr()``/``str()`` show only the fields named in ``_repr_fields``.

    Models that hold PHI list their safe fields (ids, enums, counts) here. It is an
    allow-list, so a field a newer server adds (kept as an extra) or a field someone adds to
    the model later is hidden until it is deliberately listed. Put the mixin *before* the
    pydantic base so its ``__repr_args__`` wins; pydantic's ``__str__``, rich and devtools
    output all go through ``__repr_args__``.
    """

    _repr_fields: ClassVar[tuple[str, ...]] = ()

    def __repr_args__(self) -> Iterable[tuple[str | None, Any]]:
        for name in self._repr_fields:
            yield name, getattr(self, name, None)


# --- ids ------------------------------------------------------------------------------------

UUID_PATTERN = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_UUID_RE = re.compile(UUID_PATTERN)


def is_uuid(value: str) -> bool:
    """Whether ``value`` is a hyphenated UUID string of any version, as path ids must be
    (contract I3)."""
    return isinstance(value, str) and _UUID_RE.fullmatch(value) is not None


def _uuid_to_str(value: Any) -> Any:
    return str(value) if isinstance(value, UUID) else value


def _require_uuid(value: str) -> str:
    if not is_uuid(value):
        raise ValueError("must be a hyphenated UUID string")
    return value


UUIDStr = Annotated[str, BeforeValidator(_uuid_to_str), AfterValidator(_require_uuid)]
"""A UUID kept as ``str`` (contract I3). Accepts ``uuid.UUID`` too. Used for ids a service
checks."""


# --- write-side value types -----------------------------------------------------------------

NonEmptyStr = Annotated[str, StringConstraints(min_length=1)]

# An optional leading "+", then digits, spaces, hyphens and parentheses (Clinical's rule).
PhoneNumber = Annotated[str, StringConstraints(min_length=1, pattern=r"^\+?[0-9 ()\-]+$")]

_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _require_email(value: str) -> str:
    # A shape check only: the services do the real validation, and email-validator is not a
    # dependency of this library.
    if _EMAIL_RE.fullmatch(value) is None:
        raise ValueError("must be an email address")
    return value


Email = Annotated[str, AfterValidator(_require_email)]


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""A timezone-aware datetime, converted to UTC (sent as ``...Z``). Naive values are refused:
in Khartoum (UTC+2) a naive time would silently shift by two hours."""


def _date_part(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str) and len(value) > 10 and value[10] in "T ":
        return value[:10]
    return value


LenientDate = Annotated[date, BeforeValidator(_date_part)]
"""A calendar date read from ``YYYY-MM-DD`` or from the midnight date-time the services echo
(``1990-05-01T00:00:00.000Z``): the date part as written, never shifted by a timezone."""


# --- open enums (contract I6)
# ------------------------------------------------------------------------

_E = TypeVar("_E", bound=StrEnum)

_MAX_REMEMBERED_UNKNOWN = 512


def _log_unknown_once(enum_name: str, value: str) -> None:
    """Logged through the library's allow-listed logger (``_state`` remembers what was)."""
    key = (enum_name, value[:64])
    with _state.lock:
        seen = _state.unknown_enum_values
        if key in seen or len(seen) >= _MAX_REMEMBERED_UNKNOWN:
            return
        seen.add(key)
    emit("warning", "nilecare_clients.unknown_enum_value", enum=enum_name, enum_value=key[1])


def open_enum(enum_cls: type[_E]) -> PlainValidator:
    """A validator for a *read* enum field: a known value becomes the member, an unknown one
    stays a plain ``str`` and is logged once per (enum, value) (contract I6).

    Use as ``Annotated[BedStatus | str, open_enum(BedStatus)]``. At most 512 distinct unknown
    values are remembered (and logged) per process, so a misbehaving server cannot grow it.
    """

    def validate(value: Any) -> _E | str:
        if isinstance(value, enum_cls):
            return value
        if not isinstance(value, str):
            raise ValueError(f"must be a string ({enum_cls.__name__})")
        try:
            return enum_cls(value)
        except ValueError:
            _log_unknown_once(enum_cls.__name__, value)
            return str(value)

    return PlainValidator(validate)


# --- storage rows in snake_case (contract I16)
# --------------------------------------------------------

_SNAKE_SEGMENT = re.compile(r"_+([0-9a-zA-Z])")


def _snake_to_camel(key: str) -> str:
    head = len(key) - len(key.lstrip("_"))
    return key[:head] + _SNAKE_SEGMENT.sub(lambda m: m.group(1).upper(), key[head:])


def normalize_keys(row: Mapping[str, Any]) -> dict[str, Any]:
    """``row`` with its top-level snake_case keys in camelCase (contract I16); values are untouched.

    Unknown keys are kept (renamed). When both spellings are present the camelCase one wins,
    because that is the field the handler meant to send. Nested objects are left as they are:
    they hold free-form data (``metadata``, ``results``) whose keys are not ours to rename.
    Numbers sent as decimal strings (``"12"``, ``"12.50"``) are converted by the typed fields.
    """
    out: dict[str, Any] = {}
    renamed: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(key, str) and "_" in key.strip("_"):
            renamed[_snake_to_camel(key)] = value
        else:
            out[key] = value
    for key, value in renamed.items():
        out.setdefault(key, value)
    return out


class StorageRowModel(ResponseModel):
    """A response that may arrive as a raw snake_case storage row (contract I16): keys are
    normalised
    to camelCase before validation, so both spellings fill the same fields."""

    @model_validator(mode="before")
    @classmethod
    def _normalize_storage_keys(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            return normalize_keys(data)
        return data


def _integral(value: Any) -> Any:
    # Counts arrive as decimal strings from SQL aggregates ("12", sometimes "12.00").
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            return value
        if number.is_integer():
            return int(number)
    return value


Count = Annotated[int, BeforeValidator(_integral)]
"""An integer that may arrive as a decimal string (SQL aggregates, contract I16)."""


def _empty_if_null(value: Any) -> Any:
    return [] if value is None else value


StrList = Annotated[list[str], BeforeValidator(_empty_if_null)]
"""A read-side string array where ``null`` (an unset JSON column) reads as ``[]``."""


def reset_unknown_enum_log() -> None:
    """Forget which unknown enum values were logged, so each is logged once again.

    For test isolation (``nilecare_clients.testing.reset_state`` may call it); production
    code never needs it.
    """
    with _state.lock:
        _state.unknown_enum_values.clear()

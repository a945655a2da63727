"""Request validation as the services' validators do it: every problem of a body in one 400.

``Checker`` collects ``{"<field>": ["msg", ...]}`` and raises one ``VALIDATION_ERROR`` at the
end, which is the ``details.fields`` shape the library maps onto ``InvalidRequestError``.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any

from nilecare_clients.testing.fakes._envelope import FakeServiceError, iso

_PHONE = re.compile(r"^\+?[0-9\s\-()]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)

MISSING = object()


def parse_datetime(value: str) -> datetime | None:
    """Parse ``YYYY-MM-DD`` or an ISO date-time (``Z`` or an offset; naive means UTC)."""
    match = _DATETIME.match(value.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0")[:6].ljust(6, "0")),
            tzinfo=timezone.utc,
        )
    except ValueError:
        return None
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        moment -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return moment


def is_uuid(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36


def require_path_uuid(value: str, name: str = "id") -> str:
    """Path ids that are not UUIDs get a 400 before any lookup (contract §1.1)."""
    if not is_uuid(value):
        raise FakeServiceError.validation({name: ["must be a valid UUID"]})
    return value.lower()


def normalise_phone(value: str) -> str:
    """Compare phone numbers by their digits, so ``+249 912 345 678`` equals ``+249912345678``."""
    return "".join(ch for ch in value if ch.isdigit())


class Checker:
    """Collects field errors of one request; ``done()`` raises them as a single 400."""

    def __init__(self, *, lenient_numbers: bool = False) -> None:
        self.fields: dict[str, list[str]] = {}
        # Clinical accepts numbers and dates sent as strings (contract §2.1).
        self._lenient_numbers = lenient_numbers

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(message)

    def done(self) -> None:
        if self.fields:
            raise FakeServiceError.validation(self.fields)

    def only(self, body: Mapping[str, Any], allowed: Collection[str], prefix: str = "") -> None:
        for key in body:
            if key not in allowed:
                self.add(prefix + key, "is not allowed")

    def _get(self, body: Mapping[str, Any], key: str, required: bool, name: str) -> Any:
        value = body.get(key, MISSING)
        if value is MISSING or value is None:
            if required:
                self.add(name, "is required")
            return MISSING
        return value

    def string(
        self,
        body: Mapping[str, Any],
        key: str,
        *,
        required: bool = False,
        min_len: int | None = None,
        max_len: int | None = None,
        name: str | None = None,
    ) -> str | None:
        name = name or key
        value = self._get(body, key, required, name)
        if value is MISSING:
            return None
        if not isinstance(value, str):
            self.add(name, "must be a string")
            return None
        if required and not value.strip():
            self.add(name, "must not be empty")
            return None
        if min_len is not None and len(value) < min_len:
            self.add(name, f"must be at least {min_len} characters")
        if max_len is not None and len(value) > max_len:
            self.add(name, f"must be at most {max_len} characters")
        return value

    def uuid(
        self, body: Mapping[str, Any], key: str, *, required: bool = False, name: str | None = None
    ) -> str | None:
        name = name or key
        value = self._get(body, key, required, name)
        if value is MISSING:
            return None
        if not is_uuid(value):
            self.add(name, "must be a valid UUID")
            return None
        return str(value).lower()

    def enum(
        self,
        body: Mapping[str, Any],
        key: str,
        values: Collection[str],
        *,
        required: bool = False,
        name: str | None = None,
    ) -> str | None:
        name = name or key
        value = self._get(body, key, required, name)
        if value is MISSING:
            return None
        if value not in values:
            self.add(name, "must be one of " + ", ".join(sorted(values)))
            return None
        return str(value)

    def email(
        self, body: Mapping[str, Any], key: str, *, required: bool = False, name: str | None = None
    ) -> str | None:
        value = self.string(body, key, required=required, name=name)
        if value is not None and not _EMAIL.match(value):
            self.add(name or key, "must be a valid email")
            return None
        return value

    def phone(
        self, body: Mapping[str, Any], key: str, *, required: bool = False, name: str | None = None
    ) -> str | None:
        value = self.string(body, key, required=required, name=name)
        if value is not None and (not _PHONE.match(value) or not normalise_phone(value)):
            self.add(name or key, "must be a phone number")
            return None
        return value

    def integer(
        self,
        body: Mapping[str, Any],
        key: str,
        *,
        required: bool = False,
        minimum: int | None = None,
        maximum: int | None = None,
        name: str | None = None,
    ) -> int | None:
        number = self.number(
            body, key, required=required, minimum=minimum, maximum=maximum, name=name
        )
        if number is not None and number != int(number):
            self.add(name or key, "must be an integer")
            return None
        return None if number is None else int(number)

    def number(
        self,
        body: Mapping[str, Any],
        key: str,
        *,
        required: bool = False,
        minimum: float | None = None,
        maximum: float | None = None,
        name: str | None = None,
    ) -> float | None:
        name = name or key
        value = self._get(body, key, required, name)
        if value is MISSING:
            return None
        if isinstance(value, str) and self._lenient_numbers:
            with contextlib.suppress(ValueError):
                value = float(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.add(name, "must be a number")
            return None
        if minimum is not None and value < minimum:
            self.add(name, f"must be at least {minimum}")
        elif maximum is not None and value > maximum:
            self.add(name, f"must be at most {maximum}")
        return value

    def boolean(
        self, body: Mapping[str, Any], key: str, *, required: bool = False, name: str | None = None
    ) -> bool | None:
        name = name or key
        value = self._get(body, key, required, name)
        if value is MISSING:
            return None
        if not isinstance(value, bool):
            self.add(name, "must be a boolean")
            return None
        return value

    def moment(
        self, body: Mapping[str, Any], key: str, *, required: bool = False, name: str | None = None
    ) -> datetime | None:
        name = name or key
        value = self._get(body, key, required, name)
        if value is MISSING:
            return None
        parsed = parse_datetime(value) if isinstance(value, str) else None
        if parsed is None:
            self.add(name, "must be an ISO-8601 date")
        return parsed

    def date_time(
        self, body: Mapping[str, Any], key: str, *, required: bool = False, name: str | None = None
    ) -> str | None:
        parsed = self.moment(body, key, required=required, name=name)
        return None if parsed is None else iso(parsed)

    def not_before(self, start: str | None, end: str | None, name: str, start_name: str) -> None:
        if start and end and end < start:
            self.add(name, f"must not be before {start_name}")

    def string_list(
        self, body: Mapping[str, Any], key: str, *, required: bool = False, name: str | None = None
    ) -> list[str] | None:
        name = name or key
        value = self._get(body, key, required, name)
        if value is MISSING:
            return None
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.add(name, "must be an array of strings")
            return None
        return list(value)

    def int_list(
        self, body: Mapping[str, Any], key: str, *, name: str | None = None
    ) -> list[int] | None:
        value = self._get(body, key, False, name or key)
        if value is MISSING:
            return None
        if not isinstance(value, list) or not all(
            isinstance(item, int) and not isinstance(item, bool) for item in value
        ):
            self.add(name or key, "must be an array of integers")
            return None
        return list(value)

    def mapping(
        self, body: Mapping[str, Any], key: str, *, required: bool = False, name: str | None = None
    ) -> dict[str, Any] | None:
        name = name or key
        value = self._get(body, key, required, name)
        if value is MISSING:
            return None
        if not isinstance(value, dict):
            self.add(name, "must be an object")
            return None
        return value


class QueryChecker(Checker):
    """Query strings: every value is text, so integers and booleans are parsed from it."""

    def query_int(
        self,
        query: Mapping[str, str],
        key: str,
        default: int,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int:
        raw = query.get(key)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            self.add(key, "must be an integer")
            return default
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            bounds = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
            self.add(key, f"must be {bounds}")
            return default
        return value

    def query_bool(self, query: Mapping[str, str], key: str) -> bool | None:
        raw = query.get(key)
        if raw is None:
            return None
        if raw not in ("true", "false"):
            self.add(key, "must be true or false")
            return None
        return raw == "true"

    def query_uuid(self, query: Mapping[str, str], key: str) -> str | None:
        return self.uuid(query, key)

    def query_enum(self, query: Mapping[str, str], key: str, values: Iterable[str]) -> str | None:
        return self.enum(query, key, frozenset(values))

    def page(self, query: Mapping[str, str], default_limit: int) -> tuple[int, int]:
        return (
            self.query_int(query, "page", 1, minimum=1),
            self.query_int(query, "limit", default_limit, minimum=1, maximum=100),
        )


def contains(needle: str | None, *haystack: object) -> bool:
    """Case-insensitive substring search over the given fields (contract I13)."""
    if not needle:
        return True
    lowered = needle.lower()
    return any(isinstance(item, str) and lowered in item.lower() for item in haystack)


def date_only(moment: datetime) -> date:
    return moment.astimezone(timezone.utc).date()

"""One page type for both services' pagination styles (contract §1.5, I12).

Clinical nests the block in ``data`` (``{"patients": [...], "pagination": {...}}``);
Facility sends ``data`` as an array with a top-level ``pagination``. Neither sends
``hasNext``/``hasPrevious``, so they are computed (``page < pages``, ``page > 1``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Generic, Self, TypeVar

from pydantic import model_validator

from nilecare_clients.models._base import Count, ResponseModel

__all__ = ["Page", "Pagination"]

T = TypeVar("T")


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return int(number) if number.is_integer() else None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _first(data: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        if key in data:
            return data[key]
    return None


class Pagination(ResponseModel):
    """The canonical pagination block; ``pages``, ``has_next`` and ``has_previous`` are
    computed from ``page``, ``limit`` and ``total`` when the server leaves them out
    (contract I12)."""

    page: Count
    limit: Count
    total: Count
    pages: Count
    has_next: bool
    has_previous: bool

    @model_validator(mode="before")
    @classmethod
    def _fill_computed(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        filled = dict(data)
        page = _as_int(filled.get("page"))
        limit = _as_int(filled.get("limit"))
        total = _as_int(filled.get("total"))
        if filled.get("pages") is None and total is not None and limit is not None:
            filled["pages"] = math.ceil(total / limit) if limit > 0 else 0
        pages = _as_int(filled.get("pages"))
        has_next = _first(filled, "hasNext", "has_next")
        if has_next is None and page is not None and pages is not None:
            filled["hasNext"] = page < pages
        if _first(filled, "hasPrevious", "has_previous") is None and page is not None:
            filled["hasPrevious"] = page > 1
        return filled


class Page(Pagination, Generic[T]):
    """One page of a list: ``items`` plus the pagination block (contract I12).

    Build it with ``Page[Patient].from_parts(items, pagination)`` or, from a whole decoded
    body, ``Page[Patient].from_envelope(body, "patients")``. Both are pure: no I/O, and the
    items are validated as ``T`` (pydantic ``ValidationError`` when they do not fit).
    """

    items: list[T]

    @classmethod
    def from_parts(cls, items: Sequence[Any], pagination: Mapping[str, Any] | None = None) -> Self:
        """A page from its items and a pagination block in either spelling.

        Without a block (an unpaginated list such as a facility's departments) the page is
        the whole list: page 1 of 1, ``limit`` and ``total`` equal to the number of items.
        """
        block: dict[str, Any] = dict(pagination) if pagination is not None else {}
        count = len(items)
        block.setdefault("page", 1)
        block.setdefault("limit", max(count, 1))
        block.setdefault("total", count)
        block["items"] = list(items)
        return cls.model_validate(block)

    @classmethod
    def from_envelope(cls, body: Mapping[str, Any], collection_key: str | None = None) -> Self:
        """A page from a decoded success body in either service's style (contract I1, I2, I12).

        ``collection_key`` names the list inside ``data`` for Clinical (``"patients"``,
        ``"encounters"``, ...); leave it ``None`` for Facility, whose ``data`` is the list.
        The block is taken from ``data.pagination`` first, then the top-level ``pagination``.
        Raises ``ValueError`` when the body has no list where one is expected.
        """
        data = body.get("data")
        pagination: Any = None
        if isinstance(data, Mapping):
            pagination = data.get("pagination")
            items = data.get(collection_key) if collection_key is not None else None
        else:
            items = data
        if pagination is None:
            pagination = body.get("pagination")
        if not isinstance(items, list):
            where = f"data.{collection_key}" if collection_key is not None else "data"
            raise ValueError(f"no list at {where!r} in the body")
        return cls.from_parts(items, pagination if isinstance(pagination, Mapping) else None)

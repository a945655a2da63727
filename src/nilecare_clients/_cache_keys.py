"""Facility cache keys and drops: plain data shared by the cache and its Redis tier.

A leaf module, so the opt-in Redis tier (``_redis_tier``, loaded only with
``CachePolicy.redis_url``) reads the same keys and drops as ``_cache`` without importing it:
``_cache`` loads the tier, never the other way round (no import cycle).
"""

from __future__ import annotations

import json
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

__all__ = ["SHARED_KINDS", "Drop", "key_kind", "shared_key"]

#: The kinds the shared tier stores (keyed by one id); lists stay in-process (search terms).
SHARED_KINDS = ("facility", "settings", "department", "departments")
#: The kinds that belong to one facility, dropped together when it is created or deleted.
_FACILITY_KINDS = ("facility", "settings", "departments")


def shared_key(key: Hashable) -> tuple[str, str] | None:
    """``(kind, id)`` when ``key`` may live in the shared tier, else None."""
    if isinstance(key, tuple) and len(key) == 2 and key[0] in SHARED_KINDS:
        ident = key[1]
        if isinstance(ident, str) and ident:
            return key[0], ident
    return None


@dataclass(frozen=True)
class Drop:
    """What to forget, as plain data so it can travel to every replica.

    ``keys`` are exact cache keys; ``facilities`` drops every key of those facilities (record,
    settings, departments); ``lists`` drops every facility list; ``everything`` drops all.
    """

    keys: tuple[Hashable, ...] = ()
    facilities: tuple[str, ...] = ()
    lists: bool = False
    everything: bool = False

    def matches(self, key: Hashable) -> bool:
        if self.everything or key in self.keys:
            return True
        if not isinstance(key, tuple) or not key:
            return False
        if self.lists and key[0] == "facilities":
            return True
        return len(key) == 2 and key[0] in _FACILITY_KINDS and key[1] in self.facilities

    def shared_keys(self) -> list[tuple[str, str]]:
        """The Redis-tier keys this drop names."""
        found = [shared_key(k) for k in self.keys]
        found += [(kind, f) for f in self.facilities for kind in _FACILITY_KINDS]
        return [k for k in dict.fromkeys(found) if k is not None]

    def for_fleet(self) -> Drop:
        """The same drop in a form that survives JSON (list keys become ``lists=True``)."""
        lists = self.lists or any(key_kind(k) == "facilities" for k in self.keys)
        return Drop(tuple(self.shared_keys()), self.facilities, lists, self.everything)

    def to_json(self, origin: str) -> str:
        return json.dumps(
            {
                "o": origin,
                "k": [list(k) for k in self.for_fleet().keys if isinstance(k, tuple)],
                "f": list(self.facilities),
                "l": self.for_fleet().lists,
                "a": self.everything,
            }
        )

    @classmethod
    def from_json(cls, raw: Any) -> tuple[str, Drop] | None:
        """``(origin, drop)`` from a message, or None when it is not a well-formed drop."""
        try:
            data = json.loads(raw)
            keys = tuple((str(k[0]), str(k[1])) for k in data["k"] if len(k) == 2)
            facilities = tuple(str(f) for f in data["f"])
            return str(data["o"]), cls(keys, facilities, bool(data["l"]), bool(data["a"]))
        except (ValueError, TypeError, KeyError, IndexError):
            return None


def key_kind(key: Hashable) -> str:
    """The kind of a cache key (``("facility", id)`` -> ``"facility"``): never the id itself."""
    return str(key[0]) if isinstance(key, tuple) and key else "other"

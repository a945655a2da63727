"""Every request a fake received, faulted ones included, so tests can count attempts.

The fake opens an entry when a request arrives (so the order is arrival order) and completes
it with the status it answered; ``len(fake.journal)`` therefore equals the attempts a client
made, including those answered by an injected fault or cut by a reset. The journal is shared
by the threads that may serve the fake (a transport's loop thread, a uvicorn thread and the
test itself), so every access takes a lock.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any


class HeaderDict(dict[str, str]):
    """A plain ``dict`` of request headers whose lookups ignore case (keys are stored lower)."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__()
        for name, value in items:
            key = name.lower()
            super().__setitem__(key, f"{self[key]}, {value}" if key in self else value)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


@dataclass(frozen=True)
class JournalEntry:
    """One request as the fake saw it, and how it answered.

    ``status`` is None while the request is in flight, and stays None when the fake cut the
    connection (``fault="reset_connection"``) or the client gave up first. ``fault`` names the
    injected fault that shaped the answer (``"latency"`` when a delay was the only one).
    """

    seq: int
    method: str
    path: str
    query: Mapping[str, str]
    query_string: str
    headers: HeaderDict
    body: bytes
    correlation_id: str
    idempotency_key: str | None
    retry_attempt: int | None
    status: int | None = None
    fault: str | None = None
    replayed: bool = False
    delay: float = 0.0

    def json(self) -> Any:
        """The request body parsed as JSON (None when there was no body)."""
        return json.loads(self.body) if self.body else None


def _path_matches(pattern: str, path: str) -> bool:
    if any(ch in pattern for ch in "*?["):
        return fnmatchcase(path, pattern)
    return path == pattern


class Journal:
    """The ordered, thread-safe record of requests; iterate it or query it with ``filter``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[JournalEntry] = []
        self._next_seq = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(self.entries)

    def __getitem__(self, index: int) -> JournalEntry:
        with self._lock:
            return self._entries[index]

    def __repr__(self) -> str:
        return f"<Journal {len(self)} requests>"

    @property
    def entries(self) -> list[JournalEntry]:
        """A snapshot copy, safe to keep while the fake goes on serving."""
        with self._lock:
            return list(self._entries)

    @property
    def last(self) -> JournalEntry:
        """The most recent request; raises ``IndexError`` when nothing was received."""
        with self._lock:
            if not self._entries:
                raise IndexError("the fake has received no requests")
            return self._entries[-1]

    def filter(
        self,
        method: str | None = None,
        path: str | None = None,
        *,
        status: int | None = None,
        fault: str | None = None,
        faulted: bool | None = None,
    ) -> list[JournalEntry]:
        """Entries matching every given criterion; ``path`` may be a glob (``/api/v1/beds/*``)."""
        return [
            entry
            for entry in self.entries
            if (method is None or entry.method == method.upper())
            and (path is None or _path_matches(path, entry.path))
            and (status is None or entry.status == status)
            and (fault is None or entry.fault == fault)
            and (faulted is None or (entry.fault is not None) == faulted)
        ]

    def count(
        self,
        method: str | None = None,
        path: str | None = None,
        *,
        status: int | None = None,
        fault: str | None = None,
        faulted: bool | None = None,
    ) -> int:
        """How many entries ``filter`` would return for the same criteria."""
        return len(self.filter(method, path, status=status, fault=fault, faulted=faulted))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    # -- used by the fake ---------------------------------------------------------------
    def _open(self, **fields: Any) -> JournalEntry:
        with self._lock:
            entry = JournalEntry(seq=self._next_seq, **fields)
            self._next_seq += 1
            self._entries.append(entry)
            return entry

    def _complete(self, entry: JournalEntry, **changes: Any) -> None:
        done = dataclasses.replace(entry, **changes)
        with self._lock:
            for index in range(len(self._entries) - 1, -1, -1):
                if self._entries[index].seq == entry.seq:
                    self._entries[index] = done
                    return

"""Per-call context that must follow a request across tasks and threads: correlation id, deadline.

Both live in ``ContextVar``s, never in globals or on a client instance (the TypeScript
prototype kept the correlation id in a process-global, so concurrent requests overwrote each
other's). ``asyncio`` tasks copy the context when created, so ``gather`` and ``create_task``
see the id; thread pools see it when the caller submits through ``contextvars.copy_context()``.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from nilecare_clients._state import correlation_ids as _spare_ids

__all__ = [
    "correlation_scope",
    "deadline_scope",
    "get_correlation_id",
    "get_deadline",
    "is_valid_correlation_id",
    "new_correlation_id",
]

_correlation_id: ContextVar[str | None] = ContextVar("nilecare_correlation_id", default=None)
# Absolute deadline on the time.monotonic() clock; None means "no caller-imposed deadline".
_deadline: ContextVar[float | None] = ContextVar("nilecare_deadline", default=None)

_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def new_correlation_id() -> str:
    """A fresh UUID4 string (random bits from the OS, formatted without the uuid module).

    Every call without a bound id needs one, so they are made 256 at a time from one
    ``os.urandom`` read: ``deque.popleft`` hands each out once, even across threads, and a
    forked child drops its parent's unused ids instead of repeating them (``_state``).
    """
    try:
        return _spare_ids.popleft()
    except IndexError:
        _spare_ids.extend(_uuid4_batch())
        return _spare_ids.popleft()


_BATCH = 256
# Version 4 (0100 in the high nibble of byte 6) and variant 10xx (byte 8), set on the whole
# batch at once by byte tables; the other bits stay random.
_VERSION = bytes((x & 0x0F) | 0x40 for x in range(256))
_VARIANT = bytes((x & 0x3F) | 0x80 for x in range(256))
_GROUPS = re.compile(r"(.{8})(.{4})(.{4})(.{4})(.{12})")


def _uuid4_batch() -> list[str]:
    # Bytes, groups and hyphens done in C over the batch (about a third of the per-id cost
    # of formatting each id in Python).
    raw = bytearray(os.urandom(16 * _BATCH))
    raw[6::16] = raw[6::16].translate(_VERSION)
    raw[8::16] = raw[8::16].translate(_VARIANT)
    return list(map("-".join, _GROUPS.findall(raw.hex())))


def is_valid_correlation_id(value: str) -> bool:
    """At most 128 characters of ``[A-Za-z0-9._:-]``: safe in a header and in a log line."""
    return _VALID_ID.fullmatch(value) is not None


def get_correlation_id() -> str | None:
    """The correlation id bound to the current context, or ``None``."""
    return _correlation_id.get()


@contextmanager
def correlation_scope(id: str | None = None) -> Iterator[str]:
    """Bind a correlation id for every call made inside the block (a new UUID4 when ``None``).

    Works in sync and async code alike: the binding is restored on exit, even when the block
    raises, and tasks started inside inherit it.
    """
    if id is not None and not is_valid_correlation_id(id):
        from nilecare_clients._errors import InvalidRequestError

        raise InvalidRequestError("correlation id must be 1-128 characters of [A-Za-z0-9._:-]")
    value = id if id is not None else new_correlation_id()
    token = _correlation_id.set(value)
    try:
        yield value
    finally:
        _correlation_id.reset(token)


def get_deadline() -> float | None:
    """The absolute ``time.monotonic()`` deadline bound to the current context, or ``None``."""
    return _deadline.get()


@contextmanager
def deadline_scope(seconds: float) -> Iterator[float]:
    """Bound every call made inside the block to finish within ``seconds`` from now.

    Nested scopes can only shorten the deadline, never extend the caller's. Yields the
    absolute deadline on the ``time.monotonic()`` clock.
    """
    if seconds != seconds or seconds < 0:  # NaN or negative
        from nilecare_clients._errors import InvalidRequestError

        raise InvalidRequestError("deadline_scope needs a non-negative number of seconds")
    deadline = time.monotonic() + seconds
    outer = _deadline.get()
    if outer is not None and outer < deadline:
        deadline = outer
    token = _deadline.set(deadline)
    try:
        yield deadline
    finally:
        _deadline.reset(token)

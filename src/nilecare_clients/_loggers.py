"""The library's standard-library loggers, a leaf both ``_log`` and the opt-in audit module use.

``_log`` loads ``observability.audit`` on the first audit event; the audit module reads its
logger from here rather than from ``_log``, so neither imports the other back (no cycle).
Getting a logger configures nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from nilecare_clients import _state

__all__ = ["AUDIT_LOGGER_NAME", "LOGGER_NAME", "FilterInstaller", "audit_logger", "stdlib_logger"]

LOGGER_NAME = "nilecare_clients"
stdlib_logger = logging.getLogger(LOGGER_NAME)

#: Access-audit events (``observability.audit``): the core asks this logger whether auditing
#: is on, and loads the audit module only when an event is to be written.
AUDIT_LOGGER_NAME = "nilecare_clients.audit"
audit_logger = logging.getLogger(AUDIT_LOGGER_NAME)


class FilterInstaller:
    """Puts filters on other packages' loggers once per process, when a client first needs
    them (never at import): idempotent and cheap after the first call. Its lock is re-made in
    a forked child, which a parent thread may have left holding it."""

    def __init__(self, filters: Callable[[], Iterable[tuple[str, logging.Filter]]]) -> None:
        self._filters = filters
        self._lock = threading.Lock()
        _state.lock_reinit_at_fork(self._lock)
        self._done = False

    def __call__(self) -> None:
        if self._done:
            return
        with self._lock:
            if not self._done:
                for name, log_filter in self._filters():
                    logging.getLogger(name).addFilter(log_filter)
                self._done = True

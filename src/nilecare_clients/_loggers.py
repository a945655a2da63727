"""The library's standard-library loggers, a leaf both ``_log`` and the opt-in audit module use.

``_log`` loads ``observability.audit`` on the first audit event; the audit module reads its
logger from here rather than from ``_log``, so neither imports the other back (no cycle).
Getting a logger configures nothing.
"""

from __future__ import annotations

import logging

__all__ = ["AUDIT_LOGGER_NAME", "LOGGER_NAME", "audit_logger", "stdlib_logger"]

LOGGER_NAME = "nilecare_clients"
stdlib_logger = logging.getLogger(LOGGER_NAME)

#: Access-audit events (``observability.audit``): the core asks this logger whether auditing
#: is on, and loads the audit module only when an event is to be written.
AUDIT_LOGGER_NAME = "nilecare_clients.audit"
audit_logger = logging.getLogger(AUDIT_LOGGER_NAME)

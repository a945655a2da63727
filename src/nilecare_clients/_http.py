"""The one module that imports the HTTP package (httpx), and the filter on its request log.

Rule: no other module of the package imports ``httpx`` at run time. They take the module
from here (``from nilecare_clients._http import httpx``), so that moving to httpx2, whose API
is httpx's, is a change of this one import. An ``import httpx`` under ``TYPE_CHECKING`` is
allowed (annotations only, nothing loaded); ``tests/core/test_imports.py`` enforces the rule.

httpx logs every request at INFO as ``HTTP Request: GET <url> "HTTP/1.1 200 OK"``. The URL
holds a patient id in its path and a patient's name in a search's query, and our rule is that
neither reaches a log. ``install_log_filter()`` (called by the first client, never at import:
a library does not configure logging on import) puts a filter on the logger of the package
actually in use (``httpx``, or ``httpx2`` once the import above names it) that rewrites the
URL of the library's own requests to the route *template* (``.../api/v1/patients/{id}``).
The client names the template of each request it builds with ``name_route()``; the filter
matches it by the identity of the URL object httpx logs, so a stale name never rewrites
another request. URLs it does not know (other code's requests on the same logger) lose their
query string.

Below it, httpcore logs a DEBUG trace of every step, with ``repr()`` of each step's values:
the response headers (a ``Location`` or ``Content-Location`` names a patient id) and the
message of a failure (h11's refusal of a header quotes the header, a token). A second filter,
on each of httpcore's loggers, keeps those records by allow-list: the step's name, the host
and port of a connect, and the class of a failure; nothing else.
"""

from __future__ import annotations

import logging
import re
from contextvars import ContextVar

import httpx as httpx  # the seam: re-exported on purpose

from nilecare_clients._loggers import FilterInstaller

__all__ = ["HTTP_LOGGER_NAME", "TRACE_LOGGER_NAMES", "httpx", "install_log_filter", "name_route"]

#: The logger the HTTP package logs its request lines on (its top-level package name).
HTTP_LOGGER_NAME = httpx.__name__.partition(".")[0]

# (URL object of the request being sent, base URL, route template), set per attempt.
_route: ContextVar[tuple[httpx.URL, str, str] | None] = ContextVar(
    "nilecare_http_route", default=None
)


def name_route(request: httpx.Request, base_url: str, route: str) -> None:
    """Tell the log filter that ``request`` is a library call to route template ``route``."""
    _route.set((request.url, base_url, route))


class _RouteTemplateInHttpLogs(logging.Filter):
    """Rewrites the URL arguments of the HTTP package's records (see the module docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and any(isinstance(a, httpx.URL) for a in args):
            named = _route.get()
            record.args = tuple(_safe_url(a, named) for a in args)
        return True


def _safe_url(arg: object, named: tuple[httpx.URL, str, str] | None) -> object:
    if not isinstance(arg, httpx.URL):
        return arg
    if named is not None and named[0] is arg:
        return named[1] + named[2]
    return arg.copy_with(query=None) if arg.query else arg


#: httpcore's loggers (a logger's filters see only the records made on it, not its children's).
TRACE_LOGGER_NAMES = tuple(
    f"httpcore.{part}" for part in ("connection", "http11", "http2", "proxy", "socks")
)
_STEP = re.compile(r"[A-Za-z0-9_.]+")
_CONNECT = re.compile(r" host='[A-Za-z0-9_.:-]{1,253}' port=\d{1,5}")
_FAILURE = re.compile(r" exception=([A-Za-z_][A-Za-z0-9_]{0,100})\(")


class _TraceAllowList(logging.Filter):
    """Rewrites httpcore's trace records to the allowed facts (see the module docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        step = _STEP.match(text)
        kept = step.group(0) if step else "trace"
        connect = _CONNECT.search(text)
        if connect is not None:
            kept += connect.group(0)
        failure = _FAILURE.search(text)
        if failure is not None:
            kept += f" exception={failure.group(1)}"
        record.msg, record.args = kept, ()
        return True


def _filters() -> list[tuple[str, logging.Filter]]:
    trace_filter = _TraceAllowList()  # one instance on every httpcore/h11 logger
    return [
        (HTTP_LOGGER_NAME, _RouteTemplateInHttpLogs()),
        *((name, trace_filter) for name in TRACE_LOGGER_NAMES),
    ]


#: Puts the filters on the HTTP package's loggers (the first client calls it).
install_log_filter = FilterInstaller(_filters)

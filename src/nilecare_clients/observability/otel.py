"""OpenTelemetry tracing (extra ``otel``: ``opentelemetry-api``).

``instrument()`` makes every call a CLIENT span named ``"{METHOD} {route template}"`` (a child
of the active span, if any) and injects the W3C ``traceparent``/``tracestate`` headers. Span
attributes follow the HTTP semantic conventions without query values or bodies; the
correlation id is recorded as ``nilecare.correlation_id``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from nilecare_clients import _hooks

try:
    from opentelemetry import propagate, trace
    from opentelemetry.trace import SpanKind, Status, StatusCode
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        'OpenTelemetry tracing needs the "otel" extra: pip install "nilecare-clients[otel]"'
    ) from exc

__all__ = ["instrument", "uninstrument"]


class _Tracer:
    def __init__(self, tracer_provider: Any = None) -> None:
        self._tracer = trace.get_tracer("nilecare_clients", tracer_provider=tracer_provider)

    def start(
        self, method: str, route: str, url: str, headers: dict[str, str], correlation_id: str
    ) -> Any:
        parts = urlsplit(url)
        span = self._tracer.start_span(
            f"{method} {route}",
            kind=SpanKind.CLIENT,
            attributes={
                "http.request.method": method,
                "url.template": route,
                "server.address": parts.hostname or "",
                "server.port": parts.port or (443 if parts.scheme == "https" else 80),
                "url.scheme": parts.scheme,
                "nilecare.correlation_id": correlation_id,
            },
        )
        propagate.inject(headers, context=trace.set_span_in_context(span))
        return span

    def end(self, span: Any, status_code: int | None, outcome: str, resend_count: int = 0) -> None:
        if resend_count:
            # One span per logical call: how many times its request was sent again (semconv).
            span.set_attribute("http.request.resend_count", resend_count)
        if status_code is not None:
            span.set_attribute("http.response.status_code", status_code)
        if outcome != "success":
            span.set_attribute("error.type", outcome)
            span.set_status(Status(StatusCode.ERROR))
        span.end()


def instrument(tracer_provider: Any = None) -> None:
    """Trace every call made by nilecare_clients (idempotent; the last provider wins)."""
    _hooks.set_tracer(_Tracer(tracer_provider))


def uninstrument() -> None:
    _hooks.set_tracer(None)

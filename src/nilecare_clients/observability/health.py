"""The state of every dependency this process calls, for a ``/health/dependencies`` endpoint.

``dependencies_health()`` is a plain dict (the service circuit's state, failure rate in the
window and time until the next probe; every route circuit that is not closed, by route
template; the throttle's current rejection probability; requests in flight; cache size and hit
ratio per service). ``health_asgi_app``
and ``health_wsgi_app`` serve it as JSON, mountable in FastAPI/Starlette or Flask/Django.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from nilecare_clients._cache import all_caches
from nilecare_clients._resilience.breaker import CLOSED, OPEN
from nilecare_clients._resilience.registry import all_states

__all__ = ["dependencies_health", "health_asgi_app", "health_wsgi_app"]


def dependencies_health() -> dict[str, Any]:
    """``{"status": "ok" | "degraded", "services": {name: {...}}}`` for every known service."""
    services: dict[str, dict[str, Any]] = {}
    for name, state in sorted(all_states().items()):
        breaker = state.breaker
        services[name] = {
            "breaker_state": breaker.state,
            "failure_rate": round(breaker.failure_rate(), 4),
            "seconds_until_probe": round(breaker.seconds_until_probe(), 3),
            # Route templates only (never a path): one broken route does not open the service.
            "open_routes": {
                route: {
                    "breaker_state": route_state,
                    "failure_rate": round(breaker.failure_rate(route), 4),
                    "seconds_until_probe": round(breaker.seconds_until_probe(route), 3),
                }
                for route, route_state in sorted(breaker.route_states().items())
                if route_state != CLOSED
            },
            "throttle_probability": round(breaker.rejection_probability(), 4),
            "in_flight": state.bulkhead.in_flight,
        }
    for name, cache in sorted(all_caches().items()):
        stats = cache.stats()
        lookups = stats.hits + stats.misses
        services.setdefault(name, {})["cache"] = {
            "size": stats.size,
            "max_entries": stats.max_entries,
            "hit_ratio": round(stats.hits / lookups, 4) if lookups else None,
            "stale_serves": stats.stale_serves,
        }
        tier = cache.tier_stats()
        if tier is not None:  # the shared Redis tier: its breaker state, never its URL
            services[name]["cache"]["shared_tier"] = {
                "state": tier.state,
                "listening": tier.connected,
                "hits": tier.hits,
                "errors": tier.errors,
            }
    degraded = any(
        s.get("breaker_state") == OPEN
        or any(r["breaker_state"] == OPEN for r in s.get("open_routes", {}).values())
        for s in services.values()
    )
    return {"status": "degraded" if degraded else "ok", "services": services}


def _answer(fail_when_degraded: bool) -> tuple[int, bytes]:
    report = dependencies_health()
    status = 503 if fail_when_degraded and report["status"] == "degraded" else 200
    return status, json.dumps(report).encode()


def health_asgi_app(
    *, fail_when_degraded: bool = False
) -> Callable[[MutableMapping[str, Any], Any, Any], Awaitable[None]]:
    """An ASGI app answering the report (``app.mount("/health/dependencies", ...)``).

    By default it answers 200 even when a breaker is open: a dependency being down is not a
    reason for an orchestrator to restart this service. ``fail_when_degraded=True`` answers 503.
    """

    async def app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        status, body = _answer(fail_when_degraded)
        headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def health_wsgi_app(*, fail_when_degraded: bool = False) -> Callable[..., Iterable[bytes]]:
    """The WSGI twin of ``health_asgi_app`` (e.g. Werkzeug's ``DispatcherMiddleware``)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        status, body = _answer(fail_when_degraded)
        reason = "OK" if status == 200 else "Service Unavailable"
        start_response(
            f"{status} {reason}",
            [("Content-Type", "application/json"), ("Cache-Control", "no-store")],
        )
        return [body]

    return app

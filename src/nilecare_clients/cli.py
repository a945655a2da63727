"""The ``nilecare-clients`` command: ``demo``, ``check`` and ``version``.

``check`` is for operators and deploy pipelines: it finds every ``NILECARE_<SERVICE>_URL`` in
the environment, probes each service's health route through the real client (so TLS, tokens
and timeouts are exactly what the service will use), prints a table, and exits non-zero when
any service is down or is not the service it was configured for: a NileCare health body names
its service (``"clinical-service"``, contract §1.7), and any other answer, however healthy, is
"wrong service". Every reason is one line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Mapping, Sequence

from nilecare_clients._client import BaseServiceClient, HealthStatus
from nilecare_clients._config import ServiceConfig
from nilecare_clients._errors import NileCareError
from nilecare_clients._version import __version__

__all__ = ["main"]

_URL_VAR = re.compile(r"NILECARE_([A-Z][A-Z0-9_]*)_URL")


def configured_services(environ: Mapping[str, str]) -> list[str]:
    """Service names (``CLINICAL``, ``FACILITY``, ...) that have a URL in the environment."""
    return sorted(m.group(1) for key in environ if (m := _URL_VAR.fullmatch(key)) and environ[key])


def _probe(service: str, environ: Mapping[str, str]) -> dict[str, object]:
    row: dict[str, object] = {
        "service": service.lower(),
        "url": None,
        "ok": False,
        "status_code": None,
        "latency_ms": None,
        "breaker_state": None,
        "answered_as": None,
        "error": None,
    }
    try:
        config = ServiceConfig.from_env(service, environ=environ)
        row["url"] = config.base_url + config.health_path
        with BaseServiceClient(config=config) as client:
            health: HealthStatus = client.health_check()
    except NileCareError as exc:
        row["error"] = _one_line(str(exc))
        return row
    row.update(
        service=health.service,
        ok=health.ok,
        status_code=health.status_code,
        latency_ms=health.latency_ms,
        breaker_state=health.breaker_state,
        answered_as=health.answered_as,
        error=health.error,
    )
    if health.ok and not _is_service(config.name, health.answered_as):
        row["ok"] = False
        row["error"] = (
            "wrong service: not a NileCare health answer"
            if health.answered_as is None
            else f"wrong service: answers as {health.answered_as}"
        )
    return row


def _is_service(name: str, answered_as: str | None) -> bool:
    """A NileCare health body names the service (``clinical-service`` for ``clinical``)."""
    return answered_as is not None and answered_as.lower() in (name, f"{name}-service")


def _one_line(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _table(rows: Sequence[Mapping[str, object]]) -> str:
    header = ("SERVICE", "URL", "STATUS", "HTTP", "LATENCY", "BREAKER")
    lines = [header]
    for row in rows:
        latency = row["latency_ms"]
        lines.append(
            (
                str(row["service"]),
                str(row["url"] or "-"),
                "up" if row["ok"] else f"DOWN ({_one_line(str(row['error'] or 'unhealthy'))})",
                str(row["status_code"] or "-"),
                f"{latency:.1f} ms" if isinstance(latency, float) else "-",
                str(row["breaker_state"] or "-"),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def check(as_json: bool, environ: Mapping[str, str]) -> int:
    services = configured_services(environ)
    if not services:
        print(
            "no services configured: set NILECARE_<SERVICE>_URL (e.g. NILECARE_CLINICAL_URL)",
            file=sys.stderr,
        )
        return 2
    rows = [_probe(service, environ) for service in services]
    print(json.dumps(rows, indent=2) if as_json else _table(rows))
    return 0 if all(row["ok"] for row in rows) else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nilecare-clients", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="a billing run against embedded fake services")
    demo.add_argument("--invoices", type=int, default=300, help="invoices to bill (default 300)")
    demo.add_argument("--seed", type=int, default=7, help="random seed for faults (default 7)")
    demo.add_argument(
        "--duration", type=float, default=None, help="stretch the run to about this many seconds"
    )
    probe = commands.add_parser("check", help="probe every configured service's health route")
    probe.add_argument("--json", action="store_true", help="machine-readable output")
    commands.add_parser("version", help="print the library version")
    args = parser.parse_args(argv)

    if args.command == "version":
        print(__version__)
        return 0
    if args.command == "check":
        return check(args.json, os.environ)
    from nilecare_clients._demo import run_demo  # the demo needs the `testing` extra

    return run_demo(invoices=args.invoices, seed=args.seed, duration=args.duration)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

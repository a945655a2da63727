"""Performance benchmark of nilecare-clients against raw httpx and a hand-written stack.

Not a test: it measures, prints a table and writes ``bench/results/latest.md`` and
``bench/results/latest.png``. One command runs everything (``make bench``), in about four
minutes on a two-core machine:

1. per-call time of ``get_patient`` vs raw ``httpx`` (+ ``json()``) vs a naive stack (httpx,
   tenacity, pybreaker, pydantic, one structlog line), sync, and the async twin with 1 and 16
   concurrent callers vs raw ``httpx.AsyncClient``;
2. a ``get_facility`` cache hit vs a dict lookup vs a network call;
3. fail-fast time while the breaker is open;
4. a cold-key stampede: 200 concurrent ``get_facility`` for one id, downstream requests;
5. RSS while 1,000,000 distinct facility ids go through the bounded cache (stub transport);
6. ``import nilecare_clients`` (and a client class) time vs ``import httpx``, with and without
   the optional extras (``bench/imports.py``).
7. sync transports, 1 and 16 threads sharing one client: ``get_patient`` on
   ``sync_transport="urllib3"`` and on the default vs raw httpx (GET + ``json()``) and raw
   urllib3 (GET + json + ``Patient`` validation).

Every variant runs in its own process (``bench/_worker.py``) and the rounds interleave the
variants, so a neighbour's load hits all of them alike; ratios are taken within a round, then
the median across rounds is reported. The server is nginx on loopback, pinned to the last core;
the client processes use core 0. The bench installs nothing itself: ``make bench-deps`` (a
prerequisite of ``make bench``) installs Debian's nginx where it can and matplotlib into the
venv, both bench tools rather than dependencies of the library.

Options: ``--rounds N`` (default 5), ``--quick`` (small counts, to check the bench itself),
``--fallback-server`` (skip nginx).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))


def require_matplotlib() -> None:
    """Fail before minutes of measuring, not at the chart at the end."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        sys.exit("bench: matplotlib is missing: run `make bench-deps` (or pip install matplotlib)")


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released): its connections are refused,
    which opens a service's circuit at once with ``consecutive_failures=1``. A 503 would not:
    it is an answer, judged by the route's window and the throttle (issue 22)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(HERE / "_worker.py"), json.dumps(spec)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"worker {spec['variant']} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()
    return (
        f"{cpu}, {os.cpu_count()} cores, Linux {platform.release()}, "
        f"Python {platform.python_version()}; load average at start {load[0]:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--fallback-server", action="store_true")
    args = parser.parse_args()
    require_matplotlib()
    from _report import render
    from _servers import cores, running_server
    from imports import measure as measure_imports

    quick = args.quick
    calls = 400 if quick else 4000
    started = time.monotonic()
    client_core, server_core = cores()
    load_at_start = machine()
    runs: dict[str, list[Any]] = {}

    with running_server(prefer_nginx=not args.fallback_server) as (server, note):
        base = f"http://127.0.0.1:{server.port}"
        down = f"http://127.0.0.1:{closed_port()}"  # refused: a service that is gone
        print(
            f"bench: server {server.name} on 127.0.0.1:{server.port} (core {server_core}); "
            f"clients on core {client_core}"
        )
        if note:
            print(f"bench: {note}")
        per_call: dict[str, dict[str, Any]] = {
            "raw_sync": {"variant": "per_call_sync", "kind": "raw", "calls": calls},
            "naive_sync": {"variant": "per_call_sync", "kind": "naive", "calls": calls},
            "lib_sync": {"variant": "per_call_sync", "kind": "lib", "calls": calls},
            "raw_async_1": {"variant": "per_call_async", "kind": "raw", "concurrency": 1},
            "lib_async_1": {"variant": "per_call_async", "kind": "lib", "concurrency": 1},
            "raw_async_16": {"variant": "per_call_async", "kind": "raw", "concurrency": 16},
            "lib_async_16": {"variant": "per_call_async", "kind": "lib", "concurrency": 16},
        }
        for kind in ("raw_httpx", "raw_urllib3", "lib_httpx", "lib_urllib3"):
            for threads in (1, 16):
                per_call[f"sync_{kind}_{threads}"] = {
                    "variant": "sync_throughput",
                    "kind": kind,
                    "threads": threads,
                    "calls": calls,
                }
        for name, spec in per_call.items():
            spec.setdefault("calls", calls // 2 if "16" in name else calls)
            spec.update(warmup=300, base_url=base, core=client_core)
        others: dict[str, dict[str, Any]] = {
            "cache_hit": {
                "variant": "cache_hit",
                "calls": 20_000 if quick else 200_000,
                "network_calls": 300 if quick else 2000,
            },
            "fail_fast": {"variant": "fail_fast", "calls": 2000 if quick else 20_000},
            "stampede": {"variant": "stampede", "callers": 200, "delay": 0.02},
        }
        for name, spec in others.items():
            spec.update(base_url=down if name == "fail_fast" else base, core=client_core)
        order = list(per_call) + list(others)
        for round_number in range(args.rounds):
            shift = round_number % len(order)  # rotate, so no variant always runs first
            for name in order[shift:] + order[:shift]:
                spec = per_call.get(name) or others[name]
                runs.setdefault(name, []).append(worker(spec))
            elapsed = time.monotonic() - started
            print(f"bench: round {round_number + 1}/{args.rounds} done ({elapsed:.0f} s)")

    ids = 50_000 if quick else 1_000_000
    print(f"bench: memory ({ids:,} distinct facility ids through the cache) ...", flush=True)
    memory = worker(
        {
            "variant": "rss",
            "ids": ids,
            "sample_every": ids // 20,
            "max_entries": 10_000,
            "core": client_core,
        }
    )
    print("bench: import time ...", flush=True)
    imports = measure_imports(3 if quick else 15, client_core)

    context = {
        "server": server.name + (f" ({note})" if note else ""),
        "machine": load_at_start,
        "cores": f"client on core {client_core}, server on core {server_core}",
        "versions": ", ".join(
            f"{name} {version(name)}"
            for name in (
                "nilecare-clients",
                "httpx",
                "urllib3",
                "pydantic",
                "structlog",
                "tenacity",
                "pybreaker",
            )
        ),
        "rounds": args.rounds,
        "calls": calls,
        "seconds": time.monotonic() - started,
        "quick": quick,
    }
    table = render(runs, memory, imports, context, RESULTS)
    print()
    print(table)
    print(
        f"\nbench: written {RESULTS / 'latest.md'} and {RESULTS / 'latest.png'} "
        f"in {time.monotonic() - started:.0f} s"
    )


if __name__ == "__main__":
    main()

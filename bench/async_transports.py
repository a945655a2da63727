"""Async transports benchmark: the Clinical client on httpx's transport and on aiohttp.

Not a test: it prints a table (and writes ``bench/results/async_transports.md``). Everything
runs in one process, one event loop, against one loopback server (nginx when available, see
``_servers.py``), pinned to its own core. Rows, each at 1 caller and 16 concurrent callers:

* ``AsyncClinicalServiceClient.get_patient``, default transport (``async_transport="httpx"``);
* the same with ``async_transport="aiohttp"``;
* raw ``httpx.AsyncClient`` on its default transport (``await client.get(url)``, body read);
* raw ``aiohttp.ClientSession`` doing what any caller needs: GET with the client's headers,
  JSON parse and ``Patient`` validation (the baseline of issue 21's goal);
* raw ``aiohttp.ClientSession`` (``async with session.get(url)``, body read, nothing else).

Variants are interleaved round by round, so drift on the machine touches all of them alike;
each figure is the median over the rounds.

Goals: the aiohttp client within 1.3x of raw aiohttp + JSON + validation per request, with 1
and with 16 callers (issue 21); at 16 callers >= 2.5x the default-transport client's
throughput (issue 10).

Run: ``.venv/bin/python bench/async_transports.py [--rounds 5] [--requests 2000] [--profile]``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import platform
import pstats
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import aiohttp
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _payloads import PATIENT_ID
from _servers import cores, running_server

from nilecare_clients import ServiceConfig
from nilecare_clients.clinical import AsyncClinicalServiceClient
from nilecare_clients.models.clinical import Patient
from nilecare_clients.testing import reset_state

RESULTS = Path(__file__).resolve().parent / "results" / "async_transports.md"
CALLERS = (1, 16)

Call = Callable[[], Awaitable[Any]]


@dataclass
class Variant:
    name: str
    call: Call


CLIENT_HTTPX = "client, async_transport=httpx (default)"
CLIENT_AIOHTTP = "client, async_transport=aiohttp"
RAW_AIOHTTP_VALIDATED = "raw aiohttp + the client's headers + json + Patient validation"


async def build_variants(base_url: str, stack: AsyncExitStack) -> list[Variant]:
    """Every contender, opened once (pools warm) and closed by ``stack``."""
    url = f"{base_url}/api/v1/patients/{PATIENT_ID}"
    config = ServiceConfig(name="clinical", base_url=base_url)
    on_httpx = await stack.enter_async_context(AsyncClinicalServiceClient(config=config))
    on_aiohttp = await stack.enter_async_context(
        AsyncClinicalServiceClient(config=config.model_copy(update={"async_transport": "aiohttp"}))
    )
    raw_httpx = await stack.enter_async_context(httpx.AsyncClient())
    raw_aiohttp = await stack.enter_async_context(aiohttp.ClientSession())
    # What the client sends on every call (see _ClientCore.prepare / build_request).
    headers = {
        "Accept": "application/json",
        "User-Agent": config.user_agent,
        "X-Correlation-ID": "0" * 36,
        "X-Request-ID": "0" * 36,
        "X-Request-Deadline-Ms": "10000",
    }

    async def httpx_get(client: httpx.AsyncClient) -> bytes:
        response = await client.get(url)
        response.raise_for_status()
        return response.content

    async def aiohttp_validated() -> Patient:
        async with raw_aiohttp.get(url, headers=headers) as response:
            response.raise_for_status()
            return Patient.model_validate(json.loads(await response.read())["data"])

    async def aiohttp_get() -> bytes:
        async with raw_aiohttp.get(url) as response:
            response.raise_for_status()
            return await response.read()

    return [
        Variant(CLIENT_HTTPX, lambda: on_httpx.get_patient(PATIENT_ID)),
        Variant(CLIENT_AIOHTTP, lambda: on_aiohttp.get_patient(PATIENT_ID)),
        Variant("raw httpx.AsyncClient (default transport)", lambda: httpx_get(raw_httpx)),
        Variant(RAW_AIOHTTP_VALIDATED, aiohttp_validated),
        Variant("raw aiohttp.ClientSession", aiohttp_get),
    ]


async def run_once(call: Call, callers: int, requests: int) -> float:
    """Seconds for ``requests`` calls made by ``callers`` concurrent tasks."""
    per_caller = requests // callers

    async def caller() -> None:
        for _ in range(per_caller):
            await call()

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(callers)))
    return time.perf_counter() - started


async def measure(
    variants: list[Variant], rounds: int, requests: int
) -> dict[tuple[str, int], list[float]]:
    """Per (variant, callers): seconds per request in each round."""
    for variant in variants:  # warm-up: connections open, code paths hot
        await run_once(variant.call, 16, 400)
    samples: dict[tuple[str, int], list[float]] = {}
    for _ in range(rounds):
        for callers in CALLERS:
            for variant in variants:
                elapsed = await run_once(variant.call, callers, requests)
                samples.setdefault((variant.name, callers), []).append(elapsed / requests)
    return samples


async def profile(variant: Variant, requests: int) -> str:
    """cProfile of one variant at 1 caller: where its time goes, by function (tottime)."""
    profiler = cProfile.Profile()
    profiler.enable()
    await run_once(variant.call, 1, requests)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    return out.getvalue()


def table(samples: dict[tuple[str, int], list[float]], variants: list[Variant]) -> list[str]:
    median = {key: statistics.median(values) for key, values in samples.items()}
    base = variants[0].name
    lines = [
        "| variant | 1 caller: µs per request | 16 callers: req/s | 16 callers: x default client |",
        "|---|---|---|---|",
    ]
    for variant in variants:
        one, sixteen = median[(variant.name, 1)], median[(variant.name, 16)]
        ratio = median[(base, 16)] / sixteen
        lines.append(f"| {variant.name} | {one * 1e6:.0f} | {1 / sixteen:,.0f} | {ratio:.2f}x |")
    return lines


def ratio(samples: dict[tuple[str, int], list[float]], a: str, b: str, callers: int) -> float:
    """Median over rounds of a/b taken within each round (a neighbour's load hits both)."""
    return statistics.median(
        x / y for x, y in zip(samples[(a, callers)], samples[(b, callers)], strict=True)
    )


def goals(samples: dict[tuple[str, int], list[float]]) -> list[str]:
    speedup = ratio(samples, CLIENT_HTTPX, CLIENT_AIOHTTP, 16)
    lines = [
        f"- Throughput at 16 callers, aiohttp client / default client: **{speedup:.2f}x** "
        f"(goal >= 2.5x) {'met' if speedup >= 2.5 else 'NOT met'}"
    ]
    median = {key: statistics.median(values) for key, values in samples.items()}
    for callers in CALLERS:
        cost = ratio(samples, CLIENT_AIOHTTP, RAW_AIOHTTP_VALIDATED, callers)
        gap = median[(CLIENT_AIOHTTP, callers)] - median[(RAW_AIOHTTP_VALIDATED, callers)]
        lines.append(
            f"- Cost per request at {callers} caller(s), aiohttp client / raw aiohttp + json + "
            f"validation: **{cost:.2f}x** (goal <= 1.3x) {'met' if cost <= 1.3 else 'NOT met'}; "
            f"{gap * 1e6:+.0f} µs per request for the client's own work"
        )
    return lines


async def main(rounds: int, requests: int, with_profile: bool) -> None:
    client_core, _ = cores()
    os.sched_setaffinity(0, {client_core})
    reset_state()
    started = time.monotonic()
    with running_server() as (server, note):
        base_url = f"http://127.0.0.1:{server.port}"
        async with AsyncExitStack() as stack:
            variants = await build_variants(base_url, stack)
            samples = await measure(variants, rounds, requests)
            profiles = ""
            if with_profile:
                for variant in variants[1], variants[3]:  # aiohttp client, raw validated
                    text = await profile(variant, requests)
                    profiles += f"\n### {variant.name}\n\n```\n{text}```\n"
    lines = [
        "# Async transports benchmark",
        "",
        *table(samples, variants),
        "",
        *goals(samples),
        "",
        f"Server: {server.name} on 127.0.0.1, answering a Clinical patient envelope from memory"
        f" (keep-alive){'; ' + note if note else ''}. Client and server pinned to different "
        f"cores ({os.cpu_count()} CPUs). Median of {rounds} rounds x {requests} GETs per "
        "variant and caller count, variants interleaved in one run (ratios taken within a "
        "round, then the median); 16 callers = 16 tasks in one event loop. The plain raw rows "
        "read the body but neither parse nor validate it; the client rows and the validated "
        "raw aiohttp row send the client's headers and validate the body into `Patient`. "
        "Library defaults otherwise (pool of 100, breaker, retry budget, "
        "bulkhead on).",
        f"Python {platform.python_version()}, httpx {version('httpx')}, "
        f"aiohttp {version('aiohttp')}. "
        f"Run time {time.monotonic() - started:.0f} s.",
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    if with_profile:
        print(profiles)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(report)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--profile", action="store_true", help="also print cProfile tables")
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.requests, args.profile))

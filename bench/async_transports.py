"""Async transports benchmark: the Clinical client on httpx's transport and on aiohttp.

Not a test: it prints a table (and writes ``bench/results/async_transports.md``). Everything
runs in one process, one event loop, against one loopback server (nginx when available, see
``_servers.py``), pinned to its own core. Rows, each at 1 caller and 16 concurrent callers:

* ``AsyncClinicalServiceClient.get_patient``, default transport (``async_transport="httpx"``);
* the same with ``async_transport="aiohttp"``;
* raw ``httpx.AsyncClient`` on its default transport (``await client.get(url)``, body read);
* raw ``httpx.AsyncClient`` over ``httpx_aiohttp.AiohttpTransport`` (same);
* the same, hand-rolled to do the client's work: its headers, and the body validated into
  ``Patient`` (what the gap between the client and the raw row is made of, minus the client);
* raw ``aiohttp.ClientSession`` (``async with session.get(url)``, body read).

The raw rows neither validate nor parse: the client's figure includes building the call,
its resilience bookkeeping and validating the patient into a pydantic model. Variants are
interleaved round by round, so drift on the machine touches all of them alike; each figure
is the median over the rounds.

Goals (issue 10): at 16 callers the aiohttp client reaches >= 2.5x the default-transport
client's throughput, and costs <= 1.10x raw httpx-over-aiohttp per request.

Run: ``.venv/bin/python bench/async_transports.py [--rounds 5] [--requests 2000] [--profile]``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
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
from httpx_aiohttp import AiohttpTransport

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
RAW_HTTPX_AIOHTTP = "raw httpx.AsyncClient over AiohttpTransport"
HAND_ROLLED = "  + the client's headers + Patient validation (hand-rolled)"


async def build_variants(base_url: str, stack: AsyncExitStack) -> list[Variant]:
    """Every contender, opened once (pools warm) and closed by ``stack``."""
    url = f"{base_url}/api/v1/patients/{PATIENT_ID}"
    config = ServiceConfig(name="clinical", base_url=base_url)
    on_httpx = await stack.enter_async_context(AsyncClinicalServiceClient(config=config))
    on_aiohttp = await stack.enter_async_context(
        AsyncClinicalServiceClient(config=config.model_copy(update={"async_transport": "aiohttp"}))
    )
    raw_httpx = await stack.enter_async_context(httpx.AsyncClient())
    raw_httpx_aiohttp = await stack.enter_async_context(
        httpx.AsyncClient(transport=AiohttpTransport())
    )
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

    async def hand_rolled() -> Patient:
        response = await raw_httpx_aiohttp.get(url, headers=headers)
        response.raise_for_status()
        return Patient.model_validate(response.json()["data"])

    async def aiohttp_get() -> bytes:
        async with raw_aiohttp.get(url) as response:
            response.raise_for_status()
            return await response.read()

    return [
        Variant(CLIENT_HTTPX, lambda: on_httpx.get_patient(PATIENT_ID)),
        Variant(CLIENT_AIOHTTP, lambda: on_aiohttp.get_patient(PATIENT_ID)),
        Variant("raw httpx.AsyncClient (default transport)", lambda: httpx_get(raw_httpx)),
        Variant(RAW_HTTPX_AIOHTTP, lambda: httpx_get(raw_httpx_aiohttp)),
        Variant(HAND_ROLLED, hand_rolled),
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
    for reference, label in (
        (RAW_HTTPX_AIOHTTP, "raw httpx-over-aiohttp (goal <= 1.10x)"),
        (HAND_ROLLED, "hand-rolled httpx-over-aiohttp with the same headers and validation"),
    ):
        cost = ratio(samples, CLIENT_AIOHTTP, reference, 16)
        one = ratio(samples, CLIENT_AIOHTTP, reference, 1)
        verdict = "" if reference == HAND_ROLLED else (" met" if cost <= 1.10 else " NOT met")
        lines.append(
            f"- Cost per request, aiohttp client / {label}: **{cost:.2f}x** at 16 callers"
            f"{verdict}; {one:.2f}x at 1 caller"
        )
    median = {key: statistics.median(values) for key, values in samples.items()}
    for callers in CALLERS:
        client, hand, raw = (
            median[(v, callers)] for v in (CLIENT_AIOHTTP, HAND_ROLLED, RAW_HTTPX_AIOHTTP)
        )
        lines.append(
            f"- Gap to raw httpx-over-aiohttp at {callers} caller(s): "
            f"{(client - raw) * 1e6:+.0f} µs per request = {(hand - raw) * 1e6:+.0f} µs for "
            "the headers and the validation any caller needs"
            f", {(client - hand) * 1e6:+.0f} µs for the client's own work"
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
                for variant in variants[1], variants[3]:
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
        "round, then the median); 16 callers = 16 tasks in one event loop. Raw rows read the "
        "body but neither parse nor validate it; the client "
        "rows and the hand-rolled row send the client's headers and validate the body into the "
        "`Patient` model. Library defaults otherwise (pool of 100, breaker, retry budget, "
        "bulkhead on).",
        f"Python {platform.python_version()}, httpx {version('httpx')}, "
        f"httpx-aiohttp {version('httpx-aiohttp')}, aiohttp {version('aiohttp')}. "
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

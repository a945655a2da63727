"""The core's own CPU per ``get_patient``, without a socket: ``python bench/core_overhead.py``.

The wire is replaced by a canned answer (same status, headers and body as the bench server),
so what is left is the library's per-call work (bind, prepare, breaker, bulkhead, envelope,
settle) plus the JSON parse and ``Patient`` validation; raw is ``json.loads`` and
``Patient.model_validate`` of the same body. Best of 15 runs of each, interleaved: on a shared
machine the minimum is the figure least disturbed by neighbours. The socket-level comparison
is ``make bench`` (row 7).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import urllib3
from _payloads import PATIENT_ID, patient_envelope
from _worker import configure_structlog

from nilecare_clients import ClinicalServiceClient, ServiceConfig
from nilecare_clients.models.clinical import Patient

BODY = patient_envelope()
HEADERS = urllib3.HTTPHeaderDict(
    {"Content-Type": "application/json", "Content-Length": str(len(BODY))}
)


class CannedWire:
    """Does what a wire does to the call (the attempt's headers, the bounded body read)."""

    is_closed = False

    def exchange(
        self, core: Any, call: Any, attempt: int, token: str | None, started: float
    ) -> tuple[int, Mapping[str, str], bytes]:
        core.prepare_attempt(call, attempt, token)
        return 200, HEADERS, core.read_body(call, 200, HEADERS, (BODY,), attempt, started)


def per_call_us(call: Callable[[], Any], n: int = 5000) -> float:
    for _ in range(n // 5):
        call()
    started = time.perf_counter()
    for _ in range(n):
        call()
    return (time.perf_counter() - started) / n * 1e6


def main() -> None:
    configure_structlog()
    config = ServiceConfig(name="clinical", base_url="http://127.0.0.1:9", sync_transport="urllib3")
    client = ClinicalServiceClient(config=config)
    client._wire = CannedWire()  # type: ignore[assignment]

    def raw() -> Patient:
        return Patient.model_validate(json.loads(BODY)["data"])

    def lib() -> Patient:
        return client.get_patient(PATIENT_ID)

    runs = [(per_call_us(raw), per_call_us(lib)) for _ in range(15)]
    best_raw, best_lib = min(r for r, _ in runs), min(lib_us for _, lib_us in runs)
    print(
        f"raw parse+validate {best_raw:.2f} us, get_patient without a socket {best_lib:.2f} us, "
        f"core's own work {best_lib - best_raw:.2f} us per call"
    )


if __name__ == "__main__":
    main()

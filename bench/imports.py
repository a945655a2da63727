"""Import time of ``nilecare_clients`` against ``httpx``, in fresh interpreters.

Not a test: it measures and prints rows in the format of ``bench/run.py``'s table (which runs
it as its row 6). Alone: ``make bench-import`` (about a minute). Goal (issue 21): ``import
nilecare_clients`` at most 2x ``import httpx``, with the optional extras installed and without
them. Also shown, without a goal: importing a client class, which is when httpx, pydantic, the
config and that service's models load (the package loads them on first use, PEP 562).

Each sample is one new interpreter timing one import statement (``time.perf_counter`` around
it, so interpreter start-up is left out). Rounds interleave every statement of both cases, in a
rotating order, so a neighbour's load hits all of them alike; ratios are taken within a round
(statement / ``import httpx`` of the same case and round), then the median across rounds.

"Without extras" makes the extras' packages unimportable through a meta-path blocker run
before the timed import: redis, aiohttp, httpx-aiohttp, prometheus_client, OpenTelemetry and
the testing extra's packages, and also httpx's own optional CLI packages (click, rich,
pygments), which ``import httpx`` loads when they are installed (our dev tools install them) and
a service's plain install does not have. Bytecode is compiled once, before the first round,
into a private cache (``PYTHONPYCACHEPREFIX``), as an installed wheel's would be: otherwise a
source checkout would pay compilation on every start that httpx's installed files do not.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from typing import Any

#: The extras' packages (ours and httpx's CLI), made unimportable in the "without" case.
EXTRAS = (
    "redis",
    "aiohttp",
    "httpx_aiohttp",
    "prometheus_client",
    "opentelemetry",
    "respx",
    "starlette",
    "uvicorn",
    "pytest",
    "pytest_asyncio",
    "click",
    "rich",
    "pygments",
)
STATEMENTS = {
    "httpx": "import httpx",
    "package": "import nilecare_clients",
    "clinical": "from nilecare_clients import ClinicalServiceClient, ServiceConfig",
    "both": (
        "from nilecare_clients import ClinicalServiceClient, FacilityServiceClient, ServiceConfig"
    ),
}
LABELS = {
    "httpx": "import httpx",
    "package": "import nilecare_clients",
    "clinical": "from nilecare_clients import ClinicalServiceClient, ServiceConfig",
    "both": "... ClinicalServiceClient, FacilityServiceClient, ServiceConfig",
}
CASES = {"with extras": False, "without extras": True}
GOAL = 2.0  # import nilecare_clients / import httpx
_BLOCKER = """
import sys
class _NoExtras:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(name, name=name)
sys.meta_path.insert(0, _NoExtras())
"""
_TIMED = """
import time
t = time.perf_counter()
{statement}
print(time.perf_counter() - t)
"""


def _code(statement: str, blocked: bool, core: int | None) -> str:
    pin = f"import os; os.sched_setaffinity(0, {{{core}}})\n" if core is not None else ""
    blocker = _BLOCKER.format(blocked=EXTRAS) if blocked else ""
    return pin + blocker + _TIMED.format(statement=statement)


def _sample(statement: str, blocked: bool, core: int | None, env: dict[str, str]) -> float:
    done = subprocess.run(
        [sys.executable, "-c", _code(statement, blocked, core)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{statement!r} failed:\n{done.stderr[-2000:]}")
    return float(done.stdout.strip().splitlines()[-1])


def measure(rounds: int, core: int | None = None) -> dict[str, Any]:
    """``{case: {statement: [seconds per round]}}`` and the per-round ratios to httpx."""
    with tempfile.TemporaryDirectory(prefix="nilecare-import-bench-") as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache
        order = [(case, name) for case in CASES for name in STATEMENTS]
        for case, name in order:  # compile once (not timed)
            _sample(STATEMENTS[name], CASES[case], core, env)
        times: dict[str, dict[str, list[float]]] = {c: {n: [] for n in STATEMENTS} for c in CASES}
        for round_number in range(rounds):
            shift = round_number % len(order)
            for case, name in order[shift:] + order[:shift]:
                times[case][name].append(_sample(STATEMENTS[name], CASES[case], core, env))
    ratios = {
        case: {
            name: [t / h for t, h in zip(times[case][name], times[case]["httpx"], strict=True)]
            for name in STATEMENTS
            if name != "httpx"
        }
        for case in CASES
    }
    return {"times": times, "ratios": ratios, "rounds": rounds}


def rows(result: dict[str, Any], number: int = 6) -> list[str]:
    """Table rows: median ms, min / max ms, ratio to ``import httpx`` (median, min-max), goal."""
    out = []
    for case in CASES:
        for name, label in LABELS.items():
            samples = result["times"][case][name]
            median = statistics.median(samples) * 1000
            spread = f"{min(samples) * 1000:.0f} / {max(samples) * 1000:.0f} ms"
            ratio, goal, met = "1.00 (baseline)", "", ""
            if name != "httpx":
                r = result["ratios"][case][name]
                ratio = f"{statistics.median(r):.2f}x ({min(r):.2f}-{max(r):.2f})"
            if name == "package":
                goal = f"≤ {GOAL:g}x"
                met = "yes" if statistics.median(result["ratios"][case][name]) <= GOAL else "**no**"
            out.append(
                f"| {number} | import time, {case} | {label} | {median:.0f} ms | {spread} "
                f"| {ratio} | {goal} | {met} |"
            )
    return out


def note(result: dict[str, Any]) -> str:
    return (
        f"Row 6: {result['rounds']} interleaved rounds of fresh interpreters (bytecode cached), "
        "each import statement timed inside the process; ratios to `import httpx` of the same "
        "case and round, median (min-max). Without extras: the extras' packages and httpx's "
        "optional CLI packages (click, rich, pygments) made unimportable (bench/imports.py)."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--core", type=int, default=None, help="pin every sample to this core")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    result = measure(args.rounds, args.core)
    print("| # | Measure | Variant | Median | Min / max | Ratio | Goal | Met |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows(result)))
    print()
    print(note(result))
    print(
        f"Python {sys.version.split()[0]}; load average {load:.2f} at start, "
        f"{os.getloadavg()[0]:.2f} at the end."
    )


if __name__ == "__main__":
    main()

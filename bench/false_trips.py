"""Expected time to a false trip of the default circuits (the table in docs/architecture.md).

A circuit "trips falsely" when chance alone pushes its window over the threshold while the
true failure rate of calls is below it. For a failure rate ``p`` and a call rate ``r``:

* route circuit (rate rule): a full window of ``window_size`` calls trips when at least
  ``failure_rate * window_size`` failed. Each call at which the window is over the threshold
  can start at most one trip, so trips per second are at most ``r * P(Bin(n, p) >= k)`` and the
  expected time to one is at least ``1 / (r * P)``. While a window fills (from
  ``minimum_calls`` calls on, at start and after every close) the chance of a trip is at most
  the sum of the same tail over each length.
* service circuit (transport failures in a row): at most ``r * (1 - g) * g**c`` runs of
  ``c = consecutive_failures`` start per second when a share ``g`` of calls gets no answer.

Exact binomial tails (``math.comb``), no sampling. Run: ``.venv/bin/python bench/false_trips.py``.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from nilecare_clients import BreakerPolicy

YEAR = 365 * 24 * 3600.0


def tail(n: int, p: float, k: int) -> float:
    """P(Bin(n, p) >= k)."""
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))


def human(seconds: float) -> str:
    if seconds == math.inf or seconds > 1000 * YEAR:
        return "> 1000 years"
    for unit, size in (("years", YEAR), ("days", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"


def main() -> None:
    policy = BreakerPolicy()
    n, rate, m = policy.window_size, policy.failure_rate, policy.minimum_calls
    c = policy.consecutive_failures
    rates = (10.0, 100.0, 1000.0)
    print(
        f"Defaults: route circuit {rate:g} of the last {n} calls (from {m} calls on); "
        f"service circuit also on {c} transport failures in a row."
    )
    print()
    print(
        "| failure rate of calls | P(trip) per filling window | "
        + " | ".join(f"expected time to a false trip at {r:g} calls/s" for r in rates)
        + " |"
    )
    print("|---|---|" + "---|" * len(rates))
    for p in (0.1, 0.3, 0.5, 0.6, 0.7, 0.8):
        per_call = tail(n, p, math.ceil(rate * n))
        filling = min(1.0, sum(tail(k, p, math.ceil(rate * k)) for k in range(m, n)))
        cells = [human(1 / (r * per_call)) if per_call > 0 else "never" for r in rates]
        print(f"| {p:.0%} | {filling:.2g} | " + " | ".join(cells) + " |")
    print()
    print(
        "| share of calls without an answer | "
        + " | ".join(f"expected time to {c} in a row at {r:g} calls/s" for r in rates)
        + " |"
    )
    print("|---|" + "---|" * len(rates))
    for g in (0.01, 0.1, 0.3, 0.5):
        per_call = (1 - g) * g**c
        print(f"| {g:.0%} | " + " | ".join(human(1 / (r * per_call)) for r in rates) + " |")


if __name__ == "__main__":
    main()

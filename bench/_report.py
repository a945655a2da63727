"""Turns the workers' raw results into the Markdown table and the PNG chart."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from imports import note as import_note
from imports import rows as import_rows

US = 1e6
PAIRS = {  # variant -> the raw httpx variant it is compared with, in the same round
    "naive_sync": "raw_sync",
    "lib_sync": "raw_sync",
    "lib_async_1": "raw_async_1",
    "lib_async_16": "raw_async_16",
}
LABELS = {
    "raw_sync": "raw httpx.Client.get + json()",
    "naive_sync": "naive stack (httpx + tenacity + pybreaker + pydantic + structlog)",
    "lib_sync": "ClinicalServiceClient.get_patient",
    "raw_async_1": "raw httpx.AsyncClient, 1 caller",
    "lib_async_1": "AsyncClinicalServiceClient.get_patient, 1 caller",
    "raw_async_16": "raw httpx.AsyncClient, 16 callers",
    "lib_async_16": "AsyncClinicalServiceClient.get_patient, 16 callers",
}


def _us(value: float) -> str:
    return f"{value * US:.1f} µs" if value * US < 100 else f"{value * US:.0f} µs"


def _spread(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def _mark(ok: bool) -> str:
    return "yes" if ok else "**no**"


#: Row 7: (variant, baseline of the same round, label, goal as a bound on variant/baseline
#: per-call time (None: no goal), what the goal says).
SYNC_TRANSPORT_ROWS: tuple[tuple[str, str, str, float | None, str], ...] = (
    ("sync_raw_httpx_1", "sync_raw_httpx_1", "raw httpx.Client GET + json(), 1 thread", None, ""),
    (
        "sync_raw_urllib3_1",
        "sync_raw_httpx_1",
        "raw urllib3 GET + json + Patient, 1 thread",
        None,
        "",
    ),
    (
        "sync_lib_urllib3_1",
        "sync_raw_httpx_1",
        "get_patient, urllib3, 1 thread, vs raw httpx",
        1 / 1.4,
        "≥ 1.4x raw httpx",
    ),
    (
        "sync_lib_urllib3_1",
        "sync_raw_urllib3_1",
        "get_patient, urllib3, 1 thread, vs raw urllib3",
        1.10,
        "≤ 1.10x raw urllib3",
    ),
    (
        "sync_lib_httpx_1",
        "sync_raw_httpx_1",
        "get_patient, default (httpx), 1 thread",
        1.05,
        "≤ 1.05x",
    ),
    ("sync_raw_httpx_16", "sync_raw_httpx_16", "raw httpx.Client, 16 threads", None, ""),
    ("sync_raw_urllib3_16", "sync_raw_httpx_16", "raw urllib3 + Patient, 16 threads", None, ""),
    (
        "sync_lib_urllib3_16",
        "sync_raw_httpx_16",
        "get_patient, urllib3, 16 threads, vs raw httpx",
        1 / 1.8,
        "≥ 1.8x raw httpx",
    ),
    (
        "sync_lib_urllib3_16",
        "sync_raw_urllib3_16",
        "get_patient, urllib3, 16 threads, vs raw urllib3",
        None,
        "",
    ),
    (
        "sync_lib_httpx_16",
        "sync_raw_httpx_16",
        "get_patient, default (httpx), 16 threads",
        None,
        "",
    ),
)


def sync_transport_rows(runs: dict[str, list[Any]]) -> list[str]:
    """Row 7: throughput = 1 / per-call time; ratios within each round, median across rounds."""
    rows = []
    for name, base, label, bound, goal in SYNC_TRANSPORT_ROWS:
        if name not in runs:
            continue
        median, low, high = _spread([r["per_call_s"] for r in runs[name]])
        per_round = [
            b["per_call_s"] / a["per_call_s"] for a, b in zip(runs[name], runs[base], strict=True)
        ]
        speed = statistics.median(per_round)
        ratio = (
            "1.00x (baseline)"
            if name == base
            else f"{speed:.2f}x throughput ({min(per_round):.2f}-{max(per_round):.2f})"
        )
        met = "" if bound is None else _mark(1 / speed <= bound)
        rows.append(
            f"| 7 | sync transports | {label} | {_us(median)} ({1 / median:,.0f}/s) "
            f"| {_us(low)} / {_us(high)} | {ratio} | {goal} | {met} |"
        )
    return rows


def figures(runs: dict[str, list[Any]], memory: dict[str, Any]) -> dict[str, Any]:
    """Every number the table and the chart show, computed once."""
    out: dict[str, Any] = {"per_call": {}, "ratios": {}}
    for name in LABELS:
        out["per_call"][name] = _spread([r["per_call_s"] for r in runs[name]])
    for name, base in PAIRS.items():
        ratios = [
            a["per_call_s"] / b["per_call_s"] for a, b in zip(runs[name], runs[base], strict=True)
        ]
        out["ratios"][name] = _spread(ratios)
    cache = runs["cache_hit"]
    out["cache"] = {k: _spread([r[k] for r in cache]) for k in cache[0]}
    fail = runs["fail_fast"]
    out["fail"] = {
        flavour: {
            "p50": _spread([r[flavour]["p50_s"] for r in fail]),
            "p99": _spread([r[flavour]["p99_s"] for r in fail]),
        }
        for flavour in fail[0]
    }
    out["stampede"] = {k: max(r[k] for r in runs["stampede"]) for k in runs["stampede"][0]}
    samples = memory["samples"]
    full_at = next(i for i, (n, _) in enumerate(samples) if n >= memory["max_entries"])
    out["rss"] = {
        "start_kib": samples[0][1],
        "full_ids": samples[full_at][0],
        "full_kib": samples[full_at][1],
        "end_kib": samples[-1][1],
        "peak_after_full_kib": max(kib for _, kib in samples[full_at:]),
        "samples": samples,
        "size": memory["size"],
        "evictions": memory["evictions"],
        "max_entries": memory["max_entries"],
        "seconds": memory["seconds"],
        "ids": samples[-1][0],
    }
    return out


def table(f: dict[str, Any], imports: dict[str, Any]) -> list[str]:
    rows = [
        "| # | Measure | Variant | Median | Min / max | Ratio | Goal | Met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, label in LABELS.items():
        median, low, high = f["per_call"][name]
        ratio, goal, met = "1.00 (baseline)", "", ""
        if name in PAIRS:
            r, rlow, rhigh = f["ratios"][name]
            ratio = f"{r:.3f} ({rlow:.3f}-{rhigh:.3f})"
            if name.startswith("lib"):
                goal, met = "≤ 1.05", _mark(r <= 1.05)
        section = "sync" if name.endswith("sync") else "async"
        rows.append(
            f"| 1 | per call, {section} | {label} | {_us(median)} | {_us(low)} / {_us(high)} "
            f"| {ratio} | {goal} | {met} |"
        )
    cache = f["cache"]
    hit = cache["hit_s"][0]
    for key, label, goal in (
        ("hit_s", "FacilityServiceClient.get_facility, cache hit", "≤ 5 µs"),
        ("async_hit_s", "AsyncFacilityServiceClient.get_facility, cache hit", "≤ 5 µs"),
        ("dict_s", "dict lookup", ""),
        ("network_s", "get_facility over the network (cache off)", ""),
    ):
        median, low, high = cache[key]
        met = _mark(median <= 5e-6) if goal else ""
        ratio = f"{median / hit:.3g}x the sync hit"
        rows.append(
            f"| 2 | cache hit | {label} | {_us(median)} | {_us(low)} / {_us(high)} | {ratio} "
            f"| {goal} | {met} |"
        )
    for flavour, label in (
        ("sync", "ClinicalServiceClient, breaker open"),
        ("async", "AsyncClinicalServiceClient, breaker open"),
        ("naive", "naive stack, pybreaker open"),
    ):
        p50, p99 = f["fail"][flavour]["p50"], f["fail"][flavour]["p99"]
        lib = flavour != "naive"
        rows.append(
            f"| 3 | fail-fast p50 / p99 | {label} | {_us(p50[0])} / {_us(p99[0])} "
            f"| p99 {_us(p99[1])} / {_us(p99[2])} | "
            f"{p99[0] / f['fail']['sync']['p99'][0]:.2f}x lib sync p99 "
            f"| {'p99 ≤ 50 µs' if lib else ''} | {_mark(p99[2] <= 50e-6) if lib else ''} |"
        )
    st = f["stampede"]
    for key, label, lib in (
        ("sync_requests", "get_facility from 200 threads", True),
        ("async_requests", "get_facility from 200 tasks", True),
        ("naive_dict_requests", "a dict in front of httpx, 200 threads", False),
    ):
        rows.append(
            f"| 4 | cold-key stampede: downstream requests | {label} | {st[key]} "
            f"| worst of all rounds | | {'1' if lib else ''} "
            f"| {_mark(st[key] == 1) if lib else ''} |"
        )
    rss = f["rss"]
    after_full = rss["end_kib"] - rss["full_kib"]
    flat = after_full <= max(2048, 0.02 * rss["full_kib"])
    rows.append(
        f"| 5 | RSS growth | {rss['ids']:,} distinct get_facility ids, cache of "
        f"{rss['max_entries']:,} | {after_full / 1024:+.1f} MiB after full "
        f"(at {rss['full_ids']:,} ids) | start {rss['start_kib'] / 1024:.1f} MiB, full "
        f"{rss['full_kib'] / 1024:.1f} MiB, end {rss['end_kib'] / 1024:.1f} MiB | "
        f"{rss['evictions']:,} evictions | flat once full | {_mark(flat)} |"
    )
    rows += import_rows(imports)
    return rows


def chart(f: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # headless
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(16, 9))
    fig.suptitle("nilecare-clients benchmark (medians; bars show min-max over rounds)")

    def bars(ax: Any, names: list[str], title: str) -> None:
        med = [f["per_call"][n][0] * US for n in names]
        low = [med[i] - f["per_call"][n][1] * US for i, n in enumerate(names)]
        high = [f["per_call"][n][2] * US - med[i] for i, n in enumerate(names)]
        colours = [
            "#888888" if n.startswith("raw") else "#d62728" if n.startswith("naive") else "#1f77b4"
            for n in names
        ]
        ax.bar(range(len(names)), med, yerr=[low, high], color=colours, capsize=4)
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels([n.replace("_", "\n") for n in names], fontsize=8)
        for i, n in enumerate(names):
            if n in f["ratios"]:
                ax.annotate(
                    f"x{f['ratios'][n][0]:.3f}",
                    (i, med[i]),
                    ha="center",
                    va="bottom",
                    fontsize=8,
                    xytext=(0, 6),
                    textcoords="offset points",
                )
        ax.set_ylabel("µs per call")
        ax.set_title(title)

    bars(axes[0][0], ["raw_sync", "naive_sync", "lib_sync"], "1. per call, sync (goal x1.05)")
    bars(
        axes[0][1],
        ["raw_async_1", "lib_async_1", "raw_async_16", "lib_async_16"],
        "1. per call, async, 1 and 16 callers",
    )
    ax = axes[0][2]
    keys = ["dict_s", "hit_s", "async_hit_s", "network_s"]
    values = [f["cache"][k][0] * US for k in keys]
    ax.bar(range(4), values, color=["#888888", "#1f77b4", "#1f77b4", "#ff7f0e"])
    ax.set_yscale("log")
    ax.axhline(5, color="green", linestyle="--", linewidth=1, label="goal 5 µs")
    ax.set_xticks(range(4))
    ax.set_xticklabels(["dict", "cache hit\nsync", "cache hit\nasync", "network"], fontsize=8)
    ax.set_ylabel("µs per call (log)")
    ax.set_title("2. get_facility cache hit")
    ax.legend(fontsize=8)
    ax = axes[1][0]
    flavours = ["sync", "async", "naive"]
    for offset, pct in ((-0.2, "p50"), (0.2, "p99")):
        ax.bar(
            [i + offset for i in range(3)],
            [f["fail"][fl][pct][0] * US for fl in flavours],
            width=0.4,
            label=pct,
        )
    ax.axhline(50, color="green", linestyle="--", linewidth=1, label="goal p99 50 µs")
    ax.set_xticks(range(3))
    ax.set_xticklabels(["lib sync", "lib async", "naive (pybreaker)"], fontsize=8)
    ax.set_ylabel("µs")
    ax.set_title("3. fail-fast with the breaker open")
    ax.legend(fontsize=8)
    ax = axes[1][1]
    st = f["stampede"]
    ax.bar(
        range(3),
        [st["sync_requests"], st["async_requests"], st["naive_dict_requests"]],
        color=["#1f77b4", "#1f77b4", "#d62728"],
    )
    ax.set_xticks(range(3))
    ax.set_xticklabels(["lib, 200 threads", "lib, 200 tasks", "dict + httpx"], fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("downstream requests (log)")
    ax.set_title("4. cold-key stampede (goal 1)")
    ax = axes[1][2]
    rss = f["rss"]
    ax.plot(
        [n / 1000 for n, _ in rss["samples"]],
        [k / 1024 for _, k in rss["samples"]],
        marker="o",
        markersize=3,
    )
    ax.axvline(rss["max_entries"] / 1000, color="grey", linestyle=":", label="cache full")
    ax.set_xlabel("distinct ids (thousands)")
    ax.set_ylabel("RSS (MiB)")
    ax.set_ylim(bottom=0)
    ax.set_title("5. RSS through the bounded cache")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def render(
    runs: dict[str, list[Any]],
    memory: dict[str, Any],
    imports: dict[str, Any],
    context: dict[str, Any],
    results: Path,
) -> str:
    f = figures(runs, memory)
    rows = table(f, imports) + sync_transport_rows(runs)
    notes = [
        "",
        f"Server: {context['server']}, on loopback; {context['cores']}.",
        f"Machine: {context['machine']}.",
        f"Versions: {context['versions']}.",
        f"Row 1: {context['rounds']} interleaved rounds, each variant in its own process per "
        f"round; {context['calls']} sequential calls per round after 300 warm-up calls (half "
        "as many with 16 callers). Per-call time is wall time / calls, so with 16 callers it "
        "is the inverse of throughput. Ratios are taken within each round (variant / raw "
        "httpx of the same round), then the median (min-max) across rounds is shown.",
        "Logging as a production service would: structlog configured with JSON lines at INFO "
        "and above, written to /dev/null; the library's per-attempt debug line is filtered, "
        "the naive stack's one INFO line per call is rendered.",
        "Row 2: mean of 200,000 consecutive hits (2,000 network calls) per round. Row 3: "
        "20,000 calls per round, each timed alone; the Min / max column shows p99 "
        "min / max over rounds, and Met uses the worst round. Row 4: the downstream answers "
        "after 20 ms (a slow Facility), counted by the transport. Row 5: httpx.MockTransport "
        f"stub, default cache size; {f['rss']['seconds']:.0f} s. Row 7: one client shared by "
        "1 or 16 threads; the ratio is throughput against the named baseline of the same round "
        "(goals: issue 21).",
        import_note(imports),
        f"Run time {context['seconds']:.0f} s."
        + (" QUICK RUN (small counts)." if context["quick"] else ""),
    ]
    text = "\n".join(rows + notes)
    results.mkdir(parents=True, exist_ok=True)
    (results / "latest.md").write_text(
        "# Performance benchmark (`make bench`)\n\n" + text + "\n\n![chart](latest.png)\n",
        encoding="utf-8",
    )
    chart(f, results / "latest.png")
    return text

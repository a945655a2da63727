"""The recorded table (docs/compatibility.md) and the reviewed known differences, as data.

A *probe* is one labelled call of one row: ``clinical.list_patients[default sort]``, or
``clinical.get_patient`` when it has no label. What a probe saw is an *observation*: the
statuses on the wire with the service's own error text (``500 x3 "Failed ..."``), and what
the library made of it per client kind (``raises `ServerError```).

``make test`` replays every probe against the ``today`` fakes and compares with the committed
table: the fake must see what the real service saw, unless the probe is listed in
``known_differences.toml``, where it must see what it saw in the last ``make compat`` run.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "compatibility.md"
KNOWN_DIFFERENCES = Path(__file__).resolve().parent / "known_differences.toml"
#: ``docs/compatibility.md`` is written by hand down to this line and by ``make compat`` below.
GENERATED = "<!-- Everything below is written by `make compat` (tests/compat): do not edit. -->"
AGREES = "agrees"
DIFFERS = "differs: "
#: A fake cell that differs only in the answer's shape: ``differs: body: `data.x` missing``.
BODY = "body: "
ARROW = " → "
#: How an unlabelled entry of a cell begins (a label never begins so).
_UNLABELLED = re.compile(
    r"^(\d|no request|no answer|returns |raises |async: |sync: |agrees|differs)"
)


def probe_id(service: str, method: str, label: str) -> str:
    return f"{service}.{method}" + (f"[{label}]" if label else "")


@dataclass(frozen=True)
class Observation:
    """What one probe saw: the wire (kind-independent in the table) and the library's result."""

    wire: str
    outcome: str

    def __str__(self) -> str:
        return f"{self.wire}{ARROW}{self.outcome}"


@dataclass(frozen=True)
class Difference:
    probe: str
    differs: str
    reason: str


@cache
def known_differences() -> dict[str, Difference]:
    """``known_differences.toml``: one ``[[difference]]`` per probe the fake cannot reproduce."""
    data = tomllib.loads(KNOWN_DIFFERENCES.read_text(encoding="utf-8"))
    entries = [Difference(**entry) for entry in data.get("difference", [])]
    by_id = {entry.probe: entry for entry in entries}
    if len(by_id) != len(entries):
        raise ValueError(f"{KNOWN_DIFFERENCES.name}: a probe is listed twice")
    return by_id


def _entry(cell: str, label: str) -> str | None:
    for entry in cell.split("<br>"):
        if label and entry.startswith(f"{label}: "):
            return entry.removeprefix(f"{label}: ")
        if not label and _UNLABELLED.match(entry):
            return entry
    return None


def _by_kind(text: str, kind: str) -> str:
    """One kind's outcome from ``raises X`` or ``async: raises X / sync: returns Y``."""
    if text.startswith("async: ") and " / sync: " in text:
        async_part, sync_part = text.removeprefix("async: ").split(" / sync: ", 1)
        return async_part if kind == "async" else sync_part
    return text


def _cells(line: str) -> list[str]:
    cells = re.split(r"(?<!\\) \| ", line.strip().strip("|").strip())
    return [cell.replace("\\|", "|") for cell in cells]


@cache
def _rows() -> dict[tuple[str, str], list[str]]:
    text = DOC.read_text(encoding="utf-8")
    generated = text.split(GENERATED, 1)[1] if GENERATED in text else ""
    rows: dict[tuple[str, str], list[str]] = {}
    service = ""
    for line in generated.splitlines():
        if line.startswith("### "):
            service = line.removeprefix("### ").strip().lower()
        elif line.startswith("| `") and service in ("clinical", "facility"):
            cells = _cells(line)
            rows[(service, cells[0].strip("`"))] = cells
    return rows


def recorded(
    service: str, method: str, label: str, kind: str
) -> tuple[Observation, Observation] | None:
    """(real service, today fake) as the committed table recorded them; None if not there."""
    cells = _rows().get((service, method))
    if cells is None or len(cells) < 5:
        return None
    wire, library, fake = _entry(cells[2], label), _entry(cells[3], label), _entry(cells[4], label)
    if wire is None or library is None or fake is None:
        return None
    real = Observation(wire, _by_kind(library, kind))
    if fake.startswith(AGREES) or fake.startswith(DIFFERS + BODY):
        return real, real
    fake_wire, _, fake_outcome = fake.removeprefix(DIFFERS).partition(ARROW)
    fake_outcome = re.sub(r" \((listed|NOT LISTED)\)$", "", fake_outcome)
    return real, Observation(fake_wire, _by_kind(fake_outcome, kind))


def recorded_probes() -> set[str]:
    """Every probe id in the committed table."""
    ids: set[str] = set()
    for (service, method), cells in _rows().items():
        for entry in cells[2].split("<br>"):
            label = "" if _UNLABELLED.match(entry) else _label_of(entry)
            ids.add(probe_id(service, method, label))
    return ids


def recorded_differences() -> set[str]:
    """The probe ids whose *today fake* cell says the fake differs."""
    ids: set[str] = set()
    for (service, method), cells in _rows().items():
        if len(cells) < 5:
            continue
        for entry in cells[4].split("<br>"):
            if _UNLABELLED.match(entry):
                label = ""
                rest = entry
            else:
                label = _label_of(entry)
                rest = entry.removeprefix(f"{label}: ")
            if rest.startswith(DIFFERS):
                ids.add(probe_id(service, method, label))
    return ids


def _label_of(entry: str) -> str:
    """The label of a labelled entry: the text before the first ``": "`` that starts a value."""
    for match in re.finditer(r": ", entry):
        if _UNLABELLED.match(entry[match.end() :]):
            return entry[: match.start()]
    raise ValueError(f"cannot read the label of {entry!r}")

"""The shape of an answer, so the today fakes are measured on envelopes, keys and headers too.

A shape maps each key path of the JSON body to the JSON types seen there (``data[].email``:
``string``); list items are merged. Two shapes agree when they have the same paths and, at each, a common type; ``null`` agrees with any
type, and an absent key with a ``null`` one (clients read both as "no value"). Values are
data, so they are not compared, except ``success`` and ``error.code``: envelope and error code.

``make compat`` writes the real and the fake shape of every probe to ``recorded_bodies.json``
so that ``make test`` can compare the fakes' bodies without the services.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

RECORDED_BODIES = Path(__file__).resolve().parent / "recorded_bodies.json"
Shape = dict[str, list[str]]
#: Paths whose value is part of the shape: the envelope's flag and the error code.
_VALUE_PATHS = frozenset({"success", "error.code"})


#: Answer headers a client reads (correlation, retry timing, rate limits, caching, media type),
#: compared by presence (``content-type`` by media type). The rest (``date``, ``etag``,
#: security headers ...) is the web framework's, not the service's behaviour.
_HEADERS = frozenset(
    {
        "content-type",
        "x-request-id",
        "x-correlation-id",
        "retry-after",
        "ratelimit-limit",
        "ratelimit-remaining",
        "ratelimit-reset",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "cache-control",
        "location",
        "idempotent-replayed",
    }
)


def body_shape(response: httpx.Response) -> Shape:
    """The shape of a response whose body has been read, with its ``header:`` entries."""
    found: dict[str, set[str]] = {}
    for name in _HEADERS & {key.lower() for key in response.headers}:
        value = response.headers[name].split(";")[0].strip() if name == "content-type" else ""
        found[f"header:{name}"] = {f"= {value}" if value else "present"}
    try:
        decoded = response.json()
    except (ValueError, UnicodeDecodeError):
        found[""] = {"not JSON" if response.content else "empty"}
    else:
        _walk(decoded, "", found)
    return {path: sorted(types) for path, types in sorted(found.items())}


def _walk(value: Any, path: str, found: dict[str, set[str]]) -> None:
    if isinstance(value, dict):
        found.setdefault(path or ".", set()).add("object")
        for name, item in value.items():
            _walk(item, f"{path}.{name}" if path else str(name), found)
    elif isinstance(value, list):
        found.setdefault(path, set()).add("array")
        for item in value:
            _walk(item, f"{path}[]", found)
    elif path in _VALUE_PATHS and value is not None:
        found.setdefault(path, set()).add(f"= {json.dumps(value)}")
    else:
        found.setdefault(path, set()).add(_type(value))


def _type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "string"


def differences(real: Shape, fake: Shape) -> list[str]:
    """What differs, path by path, in words short enough for a table cell; [] if they agree."""
    found: list[str] = []
    for path in sorted(set(real) | set(fake)):
        mine, theirs = set(real.get(path, [])), set(fake.get(path, []))
        if path not in fake:
            if mine != {"null"}:
                found.append(f"`{path}` missing")
        elif path not in real:
            if theirs != {"null"}:
                found.append(f"`{path}` extra")
        elif not ("null" in mine or "null" in theirs or mine & theirs):
            found.append(f"`{path}`: {'/'.join(sorted(theirs))}, not {'/'.join(sorted(mine))}")
    # A missing parent says it all: drop the paths under it.
    parents = [d.split("`")[1] for d in found if d.endswith(("missing", "extra"))]
    return [
        d
        for d in found
        if not any(
            d.split("`")[1].startswith((f"{p}.", f"{p}[]")) and d.split("`")[1] != p
            for p in parents
        )
    ]


def load() -> dict[str, dict[str, Shape]]:
    """``{probe id: {"real": shape, "fake": shape}}`` from the last ``make compat`` run."""
    if not RECORDED_BODIES.exists():
        return {}
    data: dict[str, dict[str, Shape]] = json.loads(RECORDED_BODIES.read_text(encoding="utf-8"))
    return data


def save(bodies: dict[str, dict[str, Shape]]) -> None:
    RECORDED_BODIES.write_text(
        json.dumps(bodies, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )

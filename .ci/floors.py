"""Print every declared dependency pinned at its floor (``name==minimum``), one per line.

``make test-floors`` installs with these as pip constraints, so the suite runs against the
oldest versions pyproject.toml claims to support: a floor that does not install or pass is a
lie in our metadata, and this is where it shows.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

# The extras whose floors we promise to services; `dev` is our own tooling (constraints/dev.txt).
EXTRAS = ("testing", "prometheus", "otel", "aiohttp")
FLOOR = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^]]*\])?\s*[^;]*?>=\s*([^,;\s]+)")


def floors(pyproject: Path) -> list[str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    specs = list(project["dependencies"])
    for extra in EXTRAS:
        specs += project["optional-dependencies"][extra]
    pins: dict[str, str] = {}
    for spec in specs:
        match = FLOOR.match(spec)
        if match is None:
            sys.exit(f"no '>=' floor in dependency {spec!r}: every dependency needs one")
        pins[match.group(1).lower()] = match.group(2)
    return [f"{name}=={version}" for name, version in sorted(pins.items())]


if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    print("\n".join(floors(root / "pyproject.toml")))

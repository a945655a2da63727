"""Print every declared dependency pinned at its floor (``name==minimum``), one per line.

``make test-floors`` installs with these as pip constraints, so the suite runs against the
oldest versions pyproject.toml claims to support: a floor that does not install or pass is a
lie in our metadata, and this is where it shows. Our own tools follow constraints/dev.txt,
except where constraints/floors-dev.txt names a release that fits the floors.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

# The extras whose floors we promise to services; `dev` is our own tooling (constraints/dev.txt).
EXTRAS = ("testing", "prometheus", "otel", "aiohttp", "urllib3")
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


def pins(path: Path) -> dict[str, str]:
    """``name -> line`` of a constraints file (comments and blank lines skipped)."""
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return {line.split("==")[0].lower(): line for line in lines if line}


def constraints(root: Path) -> list[str]:
    """Dependency floors, then our dev tools as pinned, with constraints/floors-dev.txt winning."""
    tools = pins(root / "constraints" / "dev.txt") | pins(root / "constraints" / "floors-dev.txt")
    own = floors(root / "pyproject.toml")
    named = {line.split("==")[0] for line in own}
    clash = named & tools.keys()
    if clash:
        sys.exit(f"constraints/*.txt pin a dependency of the package: {sorted(clash)}")
    return own + sorted(tools.values())


if __name__ == "__main__":
    print("\n".join(constraints(Path(__file__).resolve().parent.parent)))

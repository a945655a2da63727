"""Every citation of the HTTP contract resolves to an id that ``docs/contract.md`` defines.

Code, tests and docs cite the contract in one form: the word ``contract`` and then one id or a
list of ids (a rule section such as §2.3, or a known inconsistency such as I26). A citation
whose id is not defined, or an id written without ``contract`` in front, is how references
start to dangle, so both fail here with ``file:line``. ``docs/contract.md`` itself defines the
ids (in headings) and may mention them bare, but those mentions must resolve too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "docs" / "contract.md"
#: What is scanned, relative to the repository root.
SCANNED = ("src", "tests", "docs", "examples", "bench", "README.md", "CHANGELOG.md")
#: Text the project writes; data files (SQL seeds, JSON payloads, images) are not prose.
SUFFIXES = frozenset({".py", ".pyi", ".md", ".rst", ".txt", ".sh", ".toml", ".cfg", ".ini", ".cjs"})
SKIPPED_DIRS = frozenset({"__pycache__", ".venv", "node_modules", ".mypy_cache", ".ruff_cache"})
DOC_NAME = "docs/contract.md"
#: This file spells out bad references on purpose, to prove they are caught.
SELF = Path(__file__).resolve()

_ID = r"(?:§\d+(?:\.\d+)*|I\d+)"
_SEPARATOR = r"(?:\s*,\s*|\s*/\s*|\s+and\s+|\s+or\s+)"
#: ``contract I11``, ``contract §2.3``, ``contract I11, I26 and §1.4``.
CITATION = re.compile(rf"\bcontract\s+({_ID}(?:{_SEPARATOR}{_ID})*)")
ANY_ID = re.compile(rf"(?<![\w§.]){_ID}(?![\w])")
DEFINITION = re.compile(rf"^#{{1,6}}\s+({_ID})(?=[\s:.]|$)")


def defined_ids(contract: Path) -> set[str]:
    """The ids ``contract.md`` defines: each one starts a heading."""
    found: set[str] = set()
    for line in contract.read_text(encoding="utf-8").splitlines():
        match = DEFINITION.match(line)
        if match:
            found.add(match.group(1))
    return found


def scanned_files(root: Path, entries: Iterable[str] = SCANNED) -> Iterator[Path]:
    for entry in entries:
        path = root / entry
        if path.is_file() and path.resolve() != SELF:
            yield path
        elif path.is_dir():
            for candidate in sorted(path.rglob("*")):
                if (
                    candidate.is_file()
                    and candidate.resolve() != SELF
                    and candidate.suffix in SUFFIXES
                    and not SKIPPED_DIRS.intersection(candidate.relative_to(root).parts)
                ):
                    yield candidate


def problems(path: Path, root: Path, defined: set[str], *, is_contract: bool) -> list[str]:
    """``file:line: ...`` for each citation that does not resolve and each bare id."""
    found: list[str] = []
    name = path.relative_to(root).as_posix()
    text = path.read_text(encoding="utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        cited: list[tuple[int, int]] = []
        for citation in CITATION.finditer(line):
            cited.append(citation.span(1))
            for ident in re.findall(_ID, citation.group(1)):
                if ident not in defined:
                    found.append(
                        f"{name}:{number}: 'contract {ident}' is not defined in {DOC_NAME}"
                    )
        for bare in ANY_ID.finditer(line):
            if any(start <= bare.start() < end for start, end in cited):
                continue
            ident = bare.group(0)
            if is_contract:
                if ident not in defined:
                    found.append(f"{name}:{number}: '{ident}' is not defined in {DOC_NAME}")
            else:
                found.append(f"{name}:{number}: bare '{ident}': cite it as 'contract {ident}'")
    return found


def check(root: Path) -> list[str]:
    contract = root / "docs" / "contract.md"
    defined = defined_ids(contract)
    found: list[str] = []
    for path in scanned_files(root):
        found += problems(path, root, defined, is_contract=path == contract)
    return found


def test_the_contract_defines_every_section_and_inconsistency() -> None:
    defined = defined_ids(CONTRACT)
    sections = {"§1", "§2", "§3", "§4", "§5"}
    subsections = {f"§1.{n}" for n in range(1, 8)} | {f"§2.{n}" for n in range(1, 8)}
    subsections |= {f"§3.{n}" for n in range(1, 9)} | {f"§4.{n}" for n in range(1, 4)}
    inconsistencies = {f"I{n}" for n in range(1, 30)}
    assert sections | subsections | inconsistencies <= defined


def test_every_contract_reference_in_the_repository_resolves() -> None:
    found = check(ROOT)
    assert not found, "contract references that do not resolve:\n" + "\n".join(found)


def _tree(tmp_path: Path, source: str) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "contract.md").write_text(
        "## §1 Conventions\n### §1.4 Envelope\nsee I2\n## §5 Choices\n### I2: data\n",
        encoding="utf-8",
    )
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "mod.py").write_text(source, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    "source",
    [
        "# contract I2\n",
        "# contract §1.4\n",
        "# lists: contract §1.4, I2 and §5\n",
        "x = 'WI2 FI2x I2a 1.I2'  # not ids\n",
    ],
)
def test_citations_that_resolve_pass(tmp_path: Path, source: str) -> None:
    assert check(_tree(tmp_path, source)) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("# contract I3\n", "src/mod.py:1: 'contract I3' is not defined"),
        ("\n# contract I2, §1.9\n", "src/mod.py:2: 'contract §1.9' is not defined"),
        ("# see I2\n", "src/mod.py:1: bare 'I2': cite it as 'contract I2'"),
        ("# (§1.4)\n", "src/mod.py:1: bare '§1.4': cite it as 'contract §1.4'"),
        ("# contract I2 (I2)\n", "src/mod.py:1: bare 'I2'"),
    ],
)
def test_a_dangling_or_bare_reference_fails_with_file_and_line(
    tmp_path: Path, source: str, expected: str
) -> None:
    found = check(_tree(tmp_path, source))
    assert len(found) == 1
    assert found[0].startswith(expected)


def test_an_undefined_bare_id_inside_the_contract_fails(tmp_path: Path) -> None:
    root = _tree(tmp_path, "")
    contract = root / "docs" / "contract.md"
    contract.write_text(contract.read_text(encoding="utf-8") + "see I7\n", encoding="utf-8")
    assert check(root) == ["docs/contract.md:6: 'I7' is not defined in docs/contract.md"]

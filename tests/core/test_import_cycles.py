"""No import cycle among the package's modules (``testing/`` and its fakes included).

The graph is read from the source with ``ast``: an edge ``a -> b`` when ``a`` imports ``b``.
``import a.b`` and ``from a import b`` (``b`` a module) name ``a.b``; ``from a import name``
names ``a``. Importing a submodule also runs its parent package's ``__init__``, which is not
drawn: every package re-exports its submodules, and that direction is the normal one.
Imports under ``if TYPE_CHECKING:`` are annotations and never run: not counted.

Two graphs, two tests. Module-level imports are what runs at import time: a cycle there breaks
as soon as someone imports the "wrong" module first. With the imports deferred into functions
as well, a cycle is two modules that need each other: deferring one side hides the cycle from
the interpreter, not from the reader; the fix is to move what both need into a leaf module.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "nilecare_clients"


def _module_name(path: Path) -> str:
    parts = (PACKAGE.name, *path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_only(node: ast.If) -> bool:
    return ast.unparse(node.test) in {"TYPE_CHECKING", "typing.TYPE_CHECKING"}


def _imports(nodes: list[ast.stmt], deferred: bool) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements among ``nodes`` that run (at import time unless ``deferred``)."""
    for node in nodes:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if deferred:
                yield from _imports(node.body, deferred)
        elif isinstance(node, ast.If) and _type_checking_only(node):
            yield from _imports(node.orelse, deferred)
        else:  # if/else, try/except/finally, with, for, while, class bodies
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.ExceptHandler):
                    yield from _imports(child.body, deferred)
            for field in ("body", "orelse", "finalbody"):
                block = getattr(node, field, None)
                if isinstance(block, list):
                    yield from _imports(block, deferred)


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    base = node.module or ""
    if node.level:  # relative: from the package this module is in (or is)
        package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{base}".rstrip(".")
    for alias in node.names:
        yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base


def import_graph(*, deferred: bool) -> dict[str, set[str]]:
    """``{module: modules of this package it imports}``."""
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph[module] = {
            target
            for node in _imports(tree.body, deferred)
            for target in _targets(module, node)
            if target in MODULES and target != module
        }
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The shortest cycle through each module that is on one, as paths (each cycle once)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:  # Tarjan; the graph has ~80 nodes, recursion is fine
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    found: dict[frozenset[tuple[str, str]], list[str]] = {}
    for group in groups:
        for start in sorted(group):  # the shortest cycle through each member, once each
            cycle = _shortest_cycle(graph, group, start)
            found.setdefault(frozenset(itertools.pairwise(cycle)), cycle)
    return sorted(found.values())


def _shortest_cycle(graph: dict[str, set[str]], group: set[str], start: str) -> list[str]:
    paths = [[start]]  # breadth-first, inside the group (a cycle through start exists there)
    while True:
        path = paths.pop(0)
        following = sorted(graph[path[-1]] & group)
        if start in following:
            return [*path, start]
        paths += [[*path, n] for n in following if n not in path]


def _describe(found: list[list[str]]) -> str:
    short = [" -> ".join(m.removeprefix("nilecare_clients.") for m in c) for c in found]
    return "import cycles:\n  " + "\n  ".join(short)


def test_the_graph_sees_the_imports() -> None:
    """The walk finds real edges (a broken walk would pass the cycle tests vacuously)."""
    at_import = import_graph(deferred=False)
    assert "nilecare_clients._errors" in at_import["nilecare_clients._client"]
    assert "nilecare_clients._hooks" in at_import["nilecare_clients._cache"]  # from pkg import mod
    assert "nilecare_clients.testing.fakes.server" in at_import["nilecare_clients.testing.fakes"]
    assert "nilecare_clients._redis_tier" not in at_import["nilecare_clients._cache"]  # deferred
    assert "nilecare_clients._redis_tier" in import_graph(deferred=True)["nilecare_clients._cache"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}) == [["a", "b", "c", "a"]]


def test_no_import_cycle_at_import_time() -> None:
    """Module-level imports (what runs on import) form no cycle."""
    found = cycles(import_graph(deferred=False))
    assert not found, _describe(found)


def test_no_cycle_hidden_by_a_deferred_import() -> None:
    """Counting imports inside functions too: no two modules need each other."""
    found = cycles(import_graph(deferred=True))
    assert not found, _describe(found)

"""The async twins are the sync clients with ``async``/``await``: checked on the source, by AST.

Each async method is normalised (``async def`` -> ``def``, ``await x`` -> ``x``, ``async for``
-> ``for``, ``_arun`` -> ``_run``, ``AsyncIterator`` -> ``Iterator``, ``Async*`` -> ``*``...)
and must then equal its sync twin, docstring included, unless the pair is listed in
``INTENDED`` with the reason. A change made to one twin only fails here.
"""

from __future__ import annotations

import ast
import copy
import functools
import inspect
from pathlib import Path

import pytest

import nilecare_clients

SRC = Path(inspect.getfile(nilecare_clients)).parent
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

#: (module, sync class, async class): every pair of twins in the library.
PAIRS = [
    (SRC / "_client.py", "BaseServiceClient", "AsyncBaseServiceClient"),
    (SRC / "clinical.py", "ClinicalServiceClient", "AsyncClinicalServiceClient"),
    (SRC / "facility.py", "FacilityServiceClient", "AsyncFacilityServiceClient"),
    (EXAMPLES / "lab_client" / "lab.py", "LabServiceClient", "AsyncLabServiceClient"),
]

#: Names that differ only because one side is async (httpx's and our own conventions).
RENAMED = {
    "_arun": "_run",
    "_alookup": "_lookup",
    "_aread": "_read",
    "_ensure_usable": "_ensure_open",
    "aget_or_load": "get_or_load",
    "aclose": "close",
    "__aenter__": "__enter__",
    "__aexit__": "__exit__",
    "async_sleep": "sleep",
    "AsyncIterator": "Iterator",
}

#: (sync class, method) -> why the twins' bodies differ on purpose. Docstrings never may.
INTENDED = {
    ("ClinicalServiceClient", "iter_patients"): (
        "an async generator cannot `yield from`: it yields each patient"
    ),
    ("FacilityServiceClient", "preload"): (
        "async loads up to 8 facilities at once (a bounded gather); sync loads one by one"
    ),
    ("FacilityServiceClient", "_lookup"): (
        "a fresh answer reaches aget_or_load as a coroutine (an inner `async def`)"
    ),
    ("FacilityServiceClient", "apply_event"): (
        "async runs the Redis round trips in a worker thread, off the event loop"
    ),
    ("BaseServiceClient", "_run"): (
        "async hands back _send's coroutine for the typed method to await (one coroutine fewer)"
    ),
    ("BaseServiceClient", "__init__"): (
        "async binds a pool it built to the event loop of its first call; sync has no loop"
    ),
    ("BaseServiceClient", "_token"): (
        "sync refuses an async token provider; async awaits whatever the provider returns"
    ),
    ("BaseServiceClient", "_attempt"): (
        "async makes no coroutine for what needs no waiting (no token provider, a free slot), "
        "and bounds the whole exchange with one timer (sync checks the deadline between "
        "chunks in the core's reader: a blocking read cannot be interrupted)"
    ),
}


class _Syncify(ast.NodeTransformer):
    """Rewrite an async method as the sync method it should equal."""

    @staticmethod
    def _name(name: str) -> str:
        name = RENAMED.get(name, name)
        if name.startswith("Async") and name[5:6].isupper():
            name = name[5:]
        return name

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> ast.AST:
        self.generic_visit(node)
        fields = {f: getattr(node, f) for f in node._fields}
        fields["name"] = self._name(node.name)
        return ast.FunctionDef(**fields)

    def visit_Await(self, node: ast.Await) -> ast.AST:
        visited: ast.AST = self.visit(node.value)
        return visited

    def visit_AsyncFor(self, node: ast.AsyncFor) -> ast.AST:
        self.generic_visit(node)
        return ast.For(**{f: getattr(node, f) for f in node._fields})

    def visit_AsyncWith(self, node: ast.AsyncWith) -> ast.AST:
        self.generic_visit(node)
        return ast.With(**{f: getattr(node, f) for f in node._fields})

    def visit_Name(self, node: ast.Name) -> ast.AST:
        node.id = self._name(node.id)
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        node.attr = self._name(node.attr)
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, str):  # string annotations ("AsyncIterator[Patient]")
            for old, new in RENAMED.items():
                node.value = node.value.replace(old, new)
            node.value = node.value.replace("AsyncClient", "Client")
        return node


def _methods(path: Path, name: str) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    tree = ast.parse(path.read_text())
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name]
    return {n.name: n for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _without_docstring(node: ast.FunctionDef) -> str:
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    clone = ast.FunctionDef(**{f: getattr(node, f) for f in node._fields})
    clone.body = body
    return ast.dump(clone, include_attributes=False)


@functools.cache
def _pairs() -> list[tuple[str, str, ast.FunctionDef, ast.FunctionDef | ast.AsyncFunctionDef]]:
    out: list[tuple[str, str, ast.FunctionDef, ast.FunctionDef | ast.AsyncFunctionDef]] = []
    for module, sync_name, async_name in PAIRS:
        sync = _methods(module, sync_name)
        twin = _methods(module, async_name)
        twin_by_sync_name = {_Syncify._name(n): m for n, m in twin.items()}
        assert set(sync) == set(twin_by_sync_name), (sync_name, set(sync) ^ set(twin_by_sync_name))
        for name, method in sync.items():
            assert isinstance(method, ast.FunctionDef), (sync_name, name)
            out.append((sync_name, name, method, twin_by_sync_name[name]))
    return out


def test_every_method_has_a_twin() -> None:
    """Each twin class declares exactly the methods of its sync class (aclose for close)."""
    assert len(_pairs()) > 60


@pytest.mark.parametrize(("cls", "name"), [(p[0], p[1]) for p in _pairs()])
def test_twins_are_the_same_code(cls: str, name: str) -> None:
    """After async->sync normalisation a twin equals its sync method, unless INTENDED says why."""
    (sync, twin) = next((s, t) for c, n, s, t in _pairs() if (c, n) == (cls, name))
    normalised = _Syncify().visit(copy.deepcopy(twin))
    same = _without_docstring(sync) == _without_docstring(normalised)
    if (cls, name) in INTENDED:
        assert not same, f"{cls}.{name} no longer differs: remove it from INTENDED"
    else:
        assert same, f"{cls}.{name} and its async twin drifted apart"


@pytest.mark.parametrize(("cls", "name"), [(p[0], p[1]) for p in _pairs()])
def test_twins_carry_the_same_docstring(cls: str, name: str) -> None:
    """Every async method carries the docstring of its sync twin, word for word."""
    (sync, twin) = next((s, t) for c, n, s, t in _pairs() if (c, n) == (cls, name))
    assert ast.get_docstring(twin) == ast.get_docstring(sync), f"{cls}.{name}"


def test_public_methods_have_docstrings() -> None:
    """Every public method of a client (so of its twin too) says what it does."""
    missing = [
        f"{c}.{n}"
        for c, n, s, _ in _pairs()
        if not n.startswith("_") and n not in {"close"} and not ast.get_docstring(s)
    ]
    assert missing == []

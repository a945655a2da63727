"""The async clients are true twins of the sync ones: same names, same signatures, awaitable I/O."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from client_cases import public_methods

from nilecare_clients import (
    AsyncClinicalServiceClient,
    AsyncFacilityServiceClient,
    ClinicalServiceClient,
    FacilityServiceClient,
)

PAIRS = [
    pytest.param(ClinicalServiceClient, AsyncClinicalServiceClient, id="clinical"),
    pytest.param(FacilityServiceClient, AsyncFacilityServiceClient, id="facility"),
]
#: Methods that do no I/O and so stay plain methods on the async twin.
NO_IO = {"invalidate", "cache_stats"}
#: The base classes' names that differ on purpose (httpx's convention: ``aclose``).
RENAMED = {"close": "aclose", "__enter__": "__aenter__", "__exit__": "__aexit__"}


def _all_public(cls: type) -> set[str]:
    return {n for n in dir(cls) if not n.startswith("_")}


@pytest.mark.parametrize(("sync", "twin"), PAIRS)
def test_the_async_twin_has_every_public_name(sync: type, twin: type) -> None:
    """Every public attribute of a sync client exists on its async twin (close is aclose)."""
    expected = {RENAMED.get(n, n) for n in _all_public(sync)}
    assert expected <= _all_public(twin) | {"aclose"}
    assert _all_public(twin) - expected <= {"aclose"}
    assert public_methods(sync) == public_methods(twin)


def _params(method: Any) -> list[tuple[str, Any, Any, Any]]:
    return [
        (p.name, p.kind, p.default, p.annotation)
        for p in inspect.signature(method).parameters.values()
    ]


@pytest.mark.parametrize(("sync", "twin"), PAIRS)
def test_twins_have_identical_signatures(sync: type, twin: type) -> None:
    """Each method's parameters (names, kinds, defaults, annotations) and return type match its twin."""
    for name in sorted(public_methods(sync)):
        s, a = getattr(sync, name), getattr(twin, name)
        assert _params(s) == _params(a), name
        s_ret = inspect.signature(s).return_annotation
        a_ret = inspect.signature(a).return_annotation
        if inspect.isasyncgenfunction(a):
            assert a_ret == "Async" + s_ret, name  # Iterator[Patient] -> AsyncIterator[Patient]
        else:
            assert s_ret == a_ret, name


@pytest.mark.parametrize(("sync", "twin"), PAIRS)
def test_async_methods_are_awaitable_unless_they_do_no_io(sync: type, twin: type) -> None:
    """Async twins' methods are coroutine functions (iter_patients an async generator); invalidate and cache_stats stay plain."""
    for name in sorted(public_methods(sync)):
        s, a = getattr(sync, name), getattr(twin, name)
        assert not inspect.iscoroutinefunction(s) and not inspect.isasyncgenfunction(s), name
        if name in NO_IO:
            assert not inspect.iscoroutinefunction(a), name
        elif name == "iter_patients":
            assert inspect.isasyncgenfunction(a) and inspect.isgeneratorfunction(s)
        else:
            assert inspect.iscoroutinefunction(a), name
    for base_name in ("health_check", "aclose"):
        assert inspect.iscoroutinefunction(getattr(twin, base_name))


@pytest.mark.parametrize(("sync", "twin"), PAIRS)
def test_every_method_says_what_it_does(sync: type, twin: type) -> None:
    """Every public sync method has a docstring (the async twin may inherit the words)."""
    missing = sorted(n for n in public_methods(sync) if not inspect.getdoc(getattr(sync, n)))
    assert missing == []

"""The public surface: one sorted, exact __all__, and errors that pickle."""

from __future__ import annotations

import pickle
import types

import nilecare_clients
from nilecare_clients import NotFoundError, OutcomeUnknownError


def test_all_is_sorted_and_exact() -> None:
    """__all__ is sorted and lists every public name the package exposes, and only those."""
    exported = nilecare_clients.__all__
    assert exported == sorted(exported)
    public = {  # names load on first use (PEP 562): dir(), not vars(), is the surface
        name
        for name in dir(nilecare_clients)
        if not name.startswith("_")
        and not isinstance(getattr(nilecare_clients, name), types.ModuleType)
    }
    assert public | {"__version__"} == set(exported)


def test_errors_pickle_round_trip() -> None:
    """Errors survive pickling (multiprocessing, task queues) with their fields."""
    err = OutcomeUnknownError(
        idempotency_key="k-1",
        service="clinical",
        method="POST",
        path_template="/api/v1/patients",
        status_code=500,
        correlation_id="c-1",
    )
    clone = pickle.loads(pickle.dumps(err))
    assert type(clone) is OutcomeUnknownError
    assert (clone.idempotency_key, clone.status_code, str(clone)) == ("k-1", 500, str(err))
    assert "may have been applied" in str(clone) and "k-1" in str(clone)
    nf = pickle.loads(
        pickle.dumps(NotFoundError(service="s", method="GET", path_template="/x", status_code=404))
    )
    assert isinstance(nf, NotFoundError) and nf.status_code == 404


def test_error_tree_is_drawn_in_the_docstring() -> None:
    """Every exported exception class appears in the errors module's drawn tree."""
    from nilecare_clients import _errors

    for name in nilecare_clients.__all__:
        obj = getattr(nilecare_clients, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert name in (_errors.__doc__ or ""), name

"""The public surface of ``nilecare_clients.models``: one sorted, exact ``__all__``."""

from __future__ import annotations

import types

import nilecare_clients.models as models
from nilecare_clients.models import clinical, common, facility


def test_all_is_sorted_and_exact() -> None:
    """``__all__`` is sorted and lists every public name the package exposes, and only those."""
    exported = models.__all__
    assert exported == sorted(exported)
    public = {  # names load on first use (PEP 562): dir(), not vars(), is the surface
        name
        for name in dir(models)
        if not name.startswith("_") and not isinstance(getattr(models, name), types.ModuleType)
    }
    assert public == set(exported)


def test_every_submodule_name_is_re_exported() -> None:
    """Each submodule's ``__all__`` is re-exported, as the very same object."""
    for module in (clinical, common, facility):
        for name in module.__all__:
            assert getattr(models, name) is getattr(module, name), name

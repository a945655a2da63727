"""Stand-ins for the async client fixtures when pytest-asyncio is not installed: a test that
asks for one fails with one line naming the extra, instead of an import error at start-up."""

from __future__ import annotations

from typing import NoReturn

import pytest


def _missing(fixture: str) -> NoReturn:
    pytest.fail(
        f"fixture {fixture!r} needs the 'testing' extra: "
        "pip install \"nilecare-clients[testing]\" (missing module 'pytest_asyncio')",
        pytrace=False,
    )


@pytest.fixture
def async_clinical_client() -> NoReturn:
    """Needs pytest-asyncio (the ``testing`` extra)."""
    _missing("async_clinical_client")


@pytest.fixture
def async_facility_client() -> NoReturn:
    """Needs pytest-asyncio (the ``testing`` extra)."""
    _missing("async_facility_client")

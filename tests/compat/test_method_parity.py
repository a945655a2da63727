"""Both twins of each client offer the same typed methods, so the compat rows cover both.

That every method was also *called* against the real services, by the sync and the async
client, is checked in ``conftest.pytest_sessionfinish``, after all tests whatever their order.
"""

from __future__ import annotations

import pytest

from compat._real import typed_methods
from nilecare_clients import (
    AsyncClinicalServiceClient,
    AsyncFacilityServiceClient,
    ClinicalServiceClient,
    FacilityServiceClient,
)


@pytest.mark.parametrize(
    ("sync_cls", "async_cls"),
    [
        (ClinicalServiceClient, AsyncClinicalServiceClient),
        (FacilityServiceClient, AsyncFacilityServiceClient),
    ],
)
def test_sync_and_async_twins_offer_the_same_methods(sync_cls: type, async_cls: type) -> None:
    assert typed_methods(sync_cls) == typed_methods(async_cls)

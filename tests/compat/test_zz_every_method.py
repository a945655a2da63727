"""Runs last (file order): every typed method was called against the real services, twice."""

from __future__ import annotations

import pytest

from compat._real import RECORDER, typed_methods
from nilecare_clients import (
    AsyncClinicalServiceClient,
    AsyncFacilityServiceClient,
    ClinicalServiceClient,
    FacilityServiceClient,
)


@pytest.mark.parametrize(
    ("service", "sync_cls", "async_cls"),
    [
        ("clinical", ClinicalServiceClient, AsyncClinicalServiceClient),
        ("facility", FacilityServiceClient, AsyncFacilityServiceClient),
    ],
)
def test_every_typed_method_was_called_sync_and_async(
    service: str, sync_cls: type, async_cls: type
) -> None:
    """Each public endpoint method of both twins has a row, called by the sync and async client."""
    assert typed_methods(sync_cls) == typed_methods(async_cls)
    missing = sorted(set(typed_methods(sync_cls)) - RECORDER.called(service))
    assert missing == [], f"not called against the real {service} service: {missing}"

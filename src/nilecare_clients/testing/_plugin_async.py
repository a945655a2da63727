"""The plugin's async client fixtures, registered by ``plugin.pytest_configure`` only when
pytest-asyncio is installed: as pytest-asyncio fixtures they work in strict and auto mode."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from nilecare_clients.testing.plugin import client_config


@pytest_asyncio.fixture
async def async_clinical_client(
    fake_clinical: Any, request: pytest.FixtureRequest
) -> AsyncIterator[Any]:
    """An ``AsyncClinicalServiceClient`` talking to ``fake_clinical`` in-process."""
    from nilecare_clients import AsyncClinicalServiceClient

    async with AsyncClinicalServiceClient(
        config=client_config("clinical", request), transport=fake_clinical.transport()
    ) as client:
        yield client


@pytest_asyncio.fixture
async def async_facility_client(
    fake_facility: Any, request: pytest.FixtureRequest
) -> AsyncIterator[Any]:
    """An ``AsyncFacilityServiceClient`` talking to ``fake_facility`` in-process."""
    from nilecare_clients import AsyncFacilityServiceClient

    async with AsyncFacilityServiceClient(
        config=client_config("facility", request), transport=fake_facility.transport()
    ) as client:
        yield client

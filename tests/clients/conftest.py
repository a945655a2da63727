"""Fixtures for the typed clients: configs on the fake clock, a respx router, client factories.

``make_clinical`` / ``make_facility`` build the sync or the async twin per ``client_kind`` (from
the root conftest), so a test written once with ``support.call`` proves both. Async clients
are closed in the test's own event loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import respx
from client_payloads import CLINICAL_URL, FACILITY_URL

from nilecare_clients import (
    AsyncClinicalServiceClient,
    AsyncFacilityServiceClient,
    ClinicalServiceClient,
    FacilityServiceClient,
    ServiceConfig,
)
from support import FakeClock, retry_policy


@pytest.fixture
def clinical_config(clock: FakeClock) -> ServiceConfig:
    return ServiceConfig(name="clinical", base_url=CLINICAL_URL, retry=retry_policy(clock))


@pytest.fixture
def facility_config(clock: FakeClock) -> ServiceConfig:
    return ServiceConfig(name="facility", base_url=FACILITY_URL, retry=retry_policy(clock))


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    """A respx router; a request that matches no route fails the test."""
    with respx.mock(assert_all_called=False) as mock:
        yield mock


async def _close(made: list[Any]) -> None:
    for client in made:
        if isinstance(client, (AsyncClinicalServiceClient, AsyncFacilityServiceClient)):
            await client.aclose()
        else:
            client.close()


@pytest.fixture
async def make_clinical(
    client_kind: str, clinical_config: ServiceConfig
) -> AsyncIterator[Callable[..., Any]]:
    """Build the sync or async Clinical client (per ``client_kind``)."""
    made: list[Any] = []

    def factory(config: ServiceConfig | None = None, **kwargs: Any) -> Any:
        cls = ClinicalServiceClient if client_kind == "sync" else AsyncClinicalServiceClient
        client = cls(config=config or clinical_config, **kwargs)
        made.append(client)
        return client

    yield factory
    await _close(made)


@pytest.fixture
async def make_facility(
    client_kind: str, facility_config: ServiceConfig
) -> AsyncIterator[Callable[..., Any]]:
    """Build the sync or async Facility client (per ``client_kind``); kwargs reach the client."""
    made: list[Any] = []

    def factory(
        config: ServiceConfig | None = None, *, kind: str | None = None, **kwargs: Any
    ) -> Any:
        sync = (kind or client_kind) == "sync"
        cls = FacilityServiceClient if sync else AsyncFacilityServiceClient
        client = cls(config=config or facility_config, **kwargs)
        made.append(client)
        return client

    yield factory
    await _close(made)


@pytest.fixture
def clinical(make_clinical: Callable[..., Any]) -> Any:
    return make_clinical()


@pytest.fixture
def facility(make_facility: Callable[..., Any]) -> Any:
    return make_facility()

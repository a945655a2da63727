"""Per-route isolation against the real Clinical service (issue 17 item 9), sync and async.

Today ``GET /api/v1/patients`` without a sort answers 500 every time (contract I13), so a job
paging patients with ``iter_patients`` fails on every call. That must open the circuit of that
route template only: ``get_patient``, whose route works, keeps answering in the same process,
the service circuit stays closed, and the breaker event, the health report and the metrics name
the route. Library defaults throughout (a route opens at 90 % of its last 100 calls, from 50).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from compat._real import Compat
from nilecare_clients import CircuitOpenError, ServerError
from nilecare_clients.models.clinical import Patient
from nilecare_clients.observability import (
    BreakerTransition,
    dependencies_health,
    register_hook,
    unregister_hook,
)
from nilecare_clients.observability.prometheus import PrometheusMetrics
from nilecare_clients.testing import reset_state

P1 = "11111111-1111-4111-8111-000000000001"
LIST_ROUTE = "/api/v1/patients"
MINIMUM_CALLS = 50  # BreakerPolicy().minimum_calls


@pytest.fixture(autouse=True)
def fresh_circuits() -> Iterator[None]:
    """This test opens a route circuit on purpose: no other compat test may inherit it."""
    reset_state()
    yield
    reset_state()


async def first_page(client: Any) -> object:
    iterator = client.iter_patients()
    if hasattr(iterator, "__anext__"):
        return await iterator.__anext__()
    return next(iterator)


async def result_of(value: Any) -> Any:
    return await value if hasattr(value, "__await__") else value


async def test_a_broken_route_leaves_get_patient_working(compat: Compat) -> None:
    """iter_patients answering 500 opens only its route's circuit; get_patient keeps working."""
    client = compat.clinical()
    heard: list[Any] = []
    registry = CollectorRegistry()
    metrics = PrometheusMetrics(registry).install()
    register_hook(heard.append)
    try:
        failures = 0
        for _ in range(MINIMUM_CALLS):
            with pytest.raises(ServerError) as info:
                await first_page(client)
            assert not isinstance(info.value, CircuitOpenError)
            failures += 1
        sent = len(compat.wire(client).entries)
        with pytest.raises(CircuitOpenError) as refused:
            await first_page(client)
        assert refused.value.route_open is True
        assert refused.value.path_template == LIST_ROUTE
        assert len(compat.wire(client).entries) == sent  # refused without I/O
        patient = await result_of(client.get_patient(P1))
        assert isinstance(patient, Patient) and patient.id == P1
        assert client.breaker_state == "closed"
    finally:
        unregister_hook(heard.append)
        metrics.uninstall()
    assert failures == MINIMUM_CALLS
    assert [e for e in heard if isinstance(e, BreakerTransition)] == [
        BreakerTransition("clinical", "closed", "open", LIST_ROUTE)
    ]
    report = dependencies_health()["services"]["clinical"]
    assert report["breaker_state"] == "closed"
    assert list(report["open_routes"]) == [LIST_ROUTE]
    labels = {"service": "clinical", "route": LIST_ROUTE}
    assert registry.get_sample_value("nilecare_client_route_breaker_state", labels) == 2
    assert registry.get_sample_value("nilecare_client_breaker_state", {"service": "clinical"}) == 0

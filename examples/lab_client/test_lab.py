"""The Laboratory example against a respx mock of its routes, sync and async alike."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import respx

from examples.lab_client.lab import AsyncLabServiceClient, LabOrder, LabServiceClient
from nilecare_clients import InvalidRequestError, OutcomeUnknownError, ServiceConfig
from nilecare_clients.testing import set_testing

BASE = "http://lab.test"
ORDER_ID = "0b6f1f2e-1c1d-4a51-9a59-0c8a4b7d2e11"
PATIENT_ID = "3f2b8c1e-9d4a-4e6b-8f0a-1c2d3e4f5a6b"
ROW = {"id": ORDER_ID, "patientId": PATIENT_ID, "testCode": "CBC", "status": "ordered"}


@pytest.fixture(params=["sync", "async"])
async def lab(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    config = ServiceConfig(name="lab", base_url=BASE)
    if request.param == "sync":
        client: Any = LabServiceClient(config=config)
        yield client
        client.close()
    else:
        client = AsyncLabServiceClient(config=config)
        yield client
        await client.aclose()


async def run(value: Any) -> Any:
    return await value if hasattr(value, "__await__") else value


@respx.mock
async def test_get_and_list_orders(lab: Any) -> None:
    """A get unwraps the envelope into the model; a list sends page, limit and only the filters given."""
    respx.get(f"{BASE}/api/v1/lab-orders/{ORDER_ID}").respond(json={"success": True, "data": ROW})
    listed = respx.get(f"{BASE}/api/v1/lab-orders").respond(
        json={
            "success": True,
            "data": {"orders": [ROW], "pagination": {"page": 1, "limit": 5, "total": 1}},
        }
    )
    order = await run(lab.get_order(ORDER_ID))
    assert order == LabOrder.model_validate(ROW)
    page = await run(lab.list_orders(limit=5, patient_id=PATIENT_ID))
    assert [o.test_code for o in page.items] == ["CBC"]
    assert dict(listed.calls.last.request.url.params) == {
        "page": "1",
        "limit": "5",
        "patientId": PATIENT_ID,
    }


@respx.mock
async def test_order_is_keyed_and_cancel_is_never_repeated(lab: Any) -> None:
    """A create carries one Idempotency-Key; a PATCH that got a 500 is OutcomeUnknownError, sent once."""
    created = respx.post(f"{BASE}/api/v1/lab-orders").respond(
        201, json={"success": True, "data": ROW}
    )
    cancel = respx.patch(f"{BASE}/api/v1/lab-orders/{ORDER_ID}/cancel").respond(500)
    await run(lab.order_test({"patient_id": PATIENT_ID, "test_code": "CBC"}))
    request = created.calls.last.request
    assert request.headers["Idempotency-Key"]
    assert json.loads(request.content) == {"patientId": PATIENT_ID, "testCode": "CBC"}
    with set_testing(), pytest.raises(OutcomeUnknownError):
        await run(lab.cancel_order(ORDER_ID, "patient left"))
    assert cancel.call_count == 1
    assert json.loads(cancel.calls.last.request.content) == {"reason": "patient left"}


async def test_bad_input_is_refused_before_io(lab: Any) -> None:
    """A non-UUID id, a limit over the cap and a body breaking a rule fail before any request."""
    with respx.mock(assert_all_called=False) as mock:
        anything = mock.route()
        with pytest.raises(InvalidRequestError, match="order_id must be a UUID"):
            await run(lab.get_order("../admin"))
        with pytest.raises(InvalidRequestError, match="limit must be an integer between 1 and 50"):
            await run(lab.list_orders(limit=51))
        with pytest.raises(InvalidRequestError, match="test_code: at least 2 characters"):
            await run(lab.order_test({"patient_id": PATIENT_ID, "test_code": "X"}))
        assert not anything.called

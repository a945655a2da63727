"""A client for a third NileCare service (Laboratory) made of a route table plus signatures.

Everything a route needs is declared once in the table; the sync and the async client are
nothing but typed signatures over it, so they cannot drift apart. Retries, the breaker, the
deadline, correlation ids, PHI-free errors and the twin rules all come from the base clients.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from nilecare_clients import AsyncBaseServiceClient, BaseServiceClient
from nilecare_clients.endpoints import Endpoint, Param, Safety, page_params, uuid_param
from nilecare_clients.models import RequestBody, ResponseModel, UUIDStr
from nilecare_clients.models.common import Page


class LabOrder(ResponseModel):
    """A laboratory order as the service returns it."""

    id: str
    patient_id: str
    test_code: str
    status: str


class LabOrderCreate(RequestBody):
    """The body of ``POST /api/v1/lab-orders``."""

    patient_id: UUIDStr
    test_code: str = Field(min_length=2, max_length=20)


class LabOrderCancel(RequestBody):
    """The body of ``PATCH /api/v1/lab-orders/{id}/cancel``."""

    reason: str = Field(min_length=3)


# -- the Laboratory routes, each declared once ------------------------------------------------
GET_ORDER: Endpoint[LabOrder] = Endpoint(
    "GET",
    "/api/v1/lab-orders/{id}",
    Safety.READ,
    returns=LabOrder,
    ids=("order_id",),
    null_is_not_found=True,
)
LIST_ORDERS: Endpoint[Page[LabOrder]] = Endpoint(
    "GET",
    "/api/v1/lab-orders",
    Safety.READ,
    returns=Page[LabOrder],
    key="orders",
    query=(*page_params(50), uuid_param("patient_id", "patientId"), Param("status")),
)
ORDER_TEST: Endpoint[LabOrder] = Endpoint(
    "POST", "/api/v1/lab-orders", Safety.KEYED, returns=LabOrder, body=LabOrderCreate
)
CANCEL_ORDER: Endpoint[LabOrder] = Endpoint(
    "PATCH",
    "/api/v1/lab-orders/{id}/cancel",
    Safety.ONCE,
    returns=LabOrder,
    ids=("order_id",),
    body_from=("reason",),
    body=LabOrderCancel,
)


class LabServiceClient(BaseServiceClient):
    """Synchronous client of the Laboratory service."""

    _audited = True  # lab orders are patient data: every call is access-audited

    def get_order(self, order_id: str) -> LabOrder:
        """The order, or ``NotFoundError``."""
        return self._run(GET_ORDER, order_id)

    def list_orders(
        self,
        page: int = 1,
        limit: int = 20,
        *,
        patient_id: str | None = None,
        status: str | None = None,
    ) -> Page[LabOrder]:
        """A page of orders; ``limit`` 1-50 (the service's cap)."""
        return self._run(LIST_ORDERS, page=page, limit=limit, patient_id=patient_id, status=status)

    def order_test(
        self, body: LabOrderCreate | Mapping[str, Any], idempotency_key: str | None = None
    ) -> LabOrder:
        """Order a test; sends an ``Idempotency-Key`` made once for every attempt."""
        return self._run(ORDER_TEST, body=body, idempotency_key=idempotency_key)

    def cancel_order(self, order_id: str, reason: str) -> LabOrder:
        """Cancel an order; never repeated after an ambiguous failure (PATCH)."""
        return self._run(CANCEL_ORDER, order_id, reason=reason)


class AsyncLabServiceClient(AsyncBaseServiceClient):
    """The asyncio twin of ``LabServiceClient``."""

    _audited = True  # lab orders are patient data: every call is access-audited

    async def get_order(self, order_id: str) -> LabOrder:
        """The order, or ``NotFoundError``."""
        return await self._arun(GET_ORDER, order_id)

    async def list_orders(
        self,
        page: int = 1,
        limit: int = 20,
        *,
        patient_id: str | None = None,
        status: str | None = None,
    ) -> Page[LabOrder]:
        """A page of orders; ``limit`` 1-50 (the service's cap)."""
        return await self._arun(
            LIST_ORDERS, page=page, limit=limit, patient_id=patient_id, status=status
        )

    async def order_test(
        self, body: LabOrderCreate | Mapping[str, Any], idempotency_key: str | None = None
    ) -> LabOrder:
        """Order a test; sends an ``Idempotency-Key`` made once for every attempt."""
        return await self._arun(ORDER_TEST, body=body, idempotency_key=idempotency_key)

    async def cancel_order(self, order_id: str, reason: str) -> LabOrder:
        """Cancel an order; never repeated after an ambiguous failure (PATCH)."""
        return await self._arun(CANCEL_ORDER, order_id, reason=reason)

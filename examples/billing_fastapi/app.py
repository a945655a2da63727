"""A billing service as a NileCare team writes it: FastAPI, clients built in the lifespan.

The app knows nothing about tests: it reads ``NILECARE_CLINICAL_*`` and ``NILECARE_FACILITY_*``
from the environment, like production. Its tests route those clients to the fakes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel

from nilecare_clients import (
    AsyncClinicalServiceClient,
    AsyncFacilityServiceClient,
    CorrelationIdMiddleware,
    NotFoundError,
    ServiceConfig,
    ServiceUnavailableError,
)


class InvoiceRequest(BaseModel):
    patient_id: str
    facility_id: str
    amount: Decimal


class Invoice(BaseModel):
    patient_id: str
    facility_id: str
    facility_name: str
    amount: Decimal
    facility_data_stale: bool


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with (
        AsyncClinicalServiceClient(config=ServiceConfig.from_env("CLINICAL")) as clinical,
        AsyncFacilityServiceClient(config=ServiceConfig.from_env("FACILITY")) as facility,
    ):
        app.state.clinical = clinical
        app.state.facility = facility
        yield


app = FastAPI(lifespan=lifespan)
app.add_middleware(CorrelationIdMiddleware)


@app.post("/invoices", status_code=201)
async def create_invoice(body: InvoiceRequest, request: Request) -> Invoice:
    clinical: AsyncClinicalServiceClient = request.app.state.clinical
    facility: AsyncFacilityServiceClient = request.app.state.facility
    try:
        if not await clinical.patient_exists(body.patient_id):
            raise HTTPException(422, "unknown patient")
        site = await facility.lookup_facility(body.facility_id)
    except NotFoundError:
        raise HTTPException(422, "unknown facility") from None
    except ServiceUnavailableError:
        # Clinical or Facility is down: say so, never "the patient does not exist".
        raise HTTPException(503, "a dependency is unavailable, retry later") from None
    return Invoice(
        patient_id=body.patient_id,
        facility_id=body.facility_id,
        facility_name=site.value.name,
        amount=body.amount,
        facility_data_stale=site.stale,
    )

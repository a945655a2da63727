"""Stateful fakes of the Clinical and Facility services, in the spirit of moto for boto3.

Each fake is an ASGI app (Starlette) holding its records in memory. Mount it in-process with
``fake.transport()`` (sync and async httpx, no sockets) or on loopback with
``with fake.serve() as base_url:`` (a real uvicorn server). ``fake.faults`` injects outages,
errors, latency, resets and broken bodies; ``fake.journal`` records every attempt.

    fake = FakeClinicalService()
    patient = fake.create_patient(first_name="Amna", last_name="Osman")
    with httpx.Client(transport=fake.transport(), base_url="http://clinical") as http:
        http.get(f"/api/v1/patients/{patient['id']}")
"""

from nilecare_clients.testing.fakes._envelope import FakeServiceError
from nilecare_clients.testing.fakes._service import (
    DEFAULT_ORGANIZATION_ID,
    DEFAULT_USER_ID,
    ConnectionResetFault,
    FakeService,
)
from nilecare_clients.testing.fakes.clinical import FakeClinicalService
from nilecare_clients.testing.fakes.facility import FakeFacilityService
from nilecare_clients.testing.fakes.factories import (
    Factories,
    make_bed,
    make_department,
    make_diagnostic,
    make_encounter,
    make_facility,
    make_medication,
    make_patient,
    make_ward,
)
from nilecare_clients.testing.fakes.faults import FaultRule, Faults
from nilecare_clients.testing.fakes.journal import HeaderDict, Journal, JournalEntry
from nilecare_clients.testing.fakes.server import serve
from nilecare_clients.testing.fakes.transport import FakeTransport

__all__ = [
    "DEFAULT_ORGANIZATION_ID",
    "DEFAULT_USER_ID",
    "ConnectionResetFault",
    "Factories",
    "FakeClinicalService",
    "FakeFacilityService",
    "FakeService",
    "FakeServiceError",
    "FakeTransport",
    "FaultRule",
    "Faults",
    "HeaderDict",
    "Journal",
    "JournalEntry",
    "make_bed",
    "make_department",
    "make_diagnostic",
    "make_encounter",
    "make_facility",
    "make_medication",
    "make_patient",
    "make_ward",
    "serve",
]

"""Wire payloads shaped as the services send them (contract §2, §3), with realistic PHI."""

from __future__ import annotations

from typing import Any

import pytest

PATIENT_ID = "3f2b8c1e-9d4a-4e6b-8f0a-1c2d3e4f5a6b"
ORG_ID = "0b7e4a52-61c3-4d8e-9a1f-2b3c4d5e6f70"
USER_ID = "7c9d1e2f-3a4b-4c5d-8e6f-708192a3b4c5"
FACILITY_ID = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
DEPARTMENT_ID = "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e"
WARD_ID = "c3d4e5f6-a7b8-4c9d-8e1f-2a3b4c5d6e7f"
BED_ID = "d4e5f6a7-b8c9-4d0e-9f2a-3b4c5d6e7f80"

# Identifying values that must never reach repr()/str() or an error message.
FIRST_NAME = "Amna"
LAST_NAME = "Elhassan"
PHONE = "+249 912 345 678"
EMAIL = "amna.elhassan@example.sd"
STREET = "Street 15, Al-Amarat"
CITY = "Omdurman"
DOB = "1987-03-14"
CONTACT_NAME = "Osman Abdelrahim"
CONTACT_PHONE = "+249 123 987 654"
CHIEF_COMPLAINT = "Persistent cough and night sweats"
DIAGNOSIS = "Suspected pulmonary tuberculosis"
PHI_STRINGS = (
    FIRST_NAME,
    LAST_NAME,
    PHONE,
    EMAIL,
    STREET,
    CITY,
    "1987",
    CONTACT_NAME,
    CONTACT_PHONE,
)


@pytest.fixture
def patient_wire() -> dict[str, Any]:
    """A Patient as ``GET /patients/{id}`` sends it."""
    return {
        "id": PATIENT_ID,
        "firstName": FIRST_NAME,
        "lastName": LAST_NAME,
        "dateOfBirth": f"{DOB}T00:00:00.000Z",
        "gender": "female",
        "phoneNumber": PHONE,
        "email": EMAIL,
        "address": {
            "street": STREET,
            "city": CITY,
            "state": "Khartoum",
            "zipCode": "14411",
            "country": "Sudan",
        },
        "emergencyContact": {
            "name": CONTACT_NAME,
            "relationship": "father",
            "phoneNumber": CONTACT_PHONE,
        },
        "medicalHistory": ["asthma"],
        "allergies": ["penicillin"],
        "medications": [],
        "organizationId": ORG_ID,
        "createdBy": USER_ID,
        "createdAt": "2025-10-16T08:00:00.000Z",
        "updatedAt": "2025-10-16T08:00:00.000Z",
    }


@pytest.fixture
def facility_wire() -> dict[str, Any]:
    """A Facility as the service model serialises it (contract §3.7)."""
    return {
        "id": 7,
        "facilityId": FACILITY_ID,
        "organizationId": ORG_ID,
        "facilityCode": "KTH-001",
        "name": "Khartoum Teaching Hospital",
        "type": "hospital",
        "address": {
            "street": "Nile Street",
            "city": "Khartoum",
            "state": "Khartoum",
            "zipCode": "11111",
            "country": "Sudan",
            "coordinates": {"latitude": 15.59, "longitude": 32.53},
        },
        "contact": {"phone": "+249 183 777 000", "email": "info@kth.example.sd"},
        "capacity": {},
        "licensing": {},
        "operatingHours": {"monday": {"isOpen": True, "openTime": "08:00"}, "is24Hours": True},
        "services": ["emergency", "surgery"],
        "status": "active",
        "isActive": True,
        "createdBy": USER_ID,
        "createdAt": "2025-10-16T08:00:00.000Z",
        "updatedAt": "2025-10-16T08:00:00.000Z",
    }


@pytest.fixture
def bed_wire() -> dict[str, Any]:
    """A Bed as ``GET /beds/{id}`` sends it."""
    return {
        "id": 42,
        "bedId": BED_ID,
        "facilityId": FACILITY_ID,
        "departmentId": DEPARTMENT_ID,
        "wardId": WARD_ID,
        "bedNumber": "A-101",
        "bedType": "standard",
        "bedStatus": "available",
        "hasOxygen": True,
        "hasMonitor": False,
        "hasVentilator": False,
        "isolationCapable": False,
        "isActive": True,
        "createdBy": USER_ID,
        "createdAt": "2025-10-16T08:00:00.000Z",
        "updatedAt": "2025-10-16T08:00:00.000Z",
    }


@pytest.fixture
def phi_strings() -> tuple[str, ...]:
    """The identifying values in ``patient_wire`` that must never be printed."""
    return PHI_STRINGS


@pytest.fixture
def ids() -> dict[str, str]:
    """Valid UUIDs for the entities the payloads reference."""
    return {
        "patient": PATIENT_ID,
        "org": ORG_ID,
        "user": USER_ID,
        "facility": FACILITY_ID,
        "department": DEPARTMENT_ID,
        "ward": WARD_ID,
        "bed": BED_ID,
    }

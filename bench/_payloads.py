"""The bodies the benchmark server answers with: Clinical's and Facility's success envelopes.

Built from the testing factories (deterministic seeds) plus the fields only a stored record
has, so the client validates what production would send.
"""

from __future__ import annotations

import json

from nilecare_clients.testing.fakes.factories import make_facility, make_patient

PATIENT_ID = "6f1c2a4e-8b3d-4c5e-9f60-7a8b9c0d1e2f"
FACILITY_ID = "0b7e3c1a-2d4f-4a6b-8c9d-1e2f3a4b5c6d"
ORG_ID = "9a8b7c6d-5e4f-4321-8fed-cba987654321"
STAMP = "2025-03-14T09:26:53.589Z"


def patient_envelope() -> bytes:
    patient = make_patient(seed=7)
    patient.update(
        id=PATIENT_ID,
        organizationId=ORG_ID,
        createdBy="b3c4d5e6-f7a8-4b9c-8d0e-1f2a3b4c5d6e",
        updatedBy="b3c4d5e6-f7a8-4b9c-8d0e-1f2a3b4c5d6e",
        createdAt=STAMP,
        updatedAt=STAMP,
    )
    return json.dumps({"success": True, "data": patient}, separators=(",", ":")).encode()


def facility_envelope(facility_id: str = FACILITY_ID) -> bytes:
    facility = make_facility(seed=7)
    facility.update(
        id=1,
        facilityId=facility_id,
        organizationId=ORG_ID,
        createdAt=STAMP,
        updatedAt=STAMP,
    )
    return json.dumps({"success": True, "data": facility}, separators=(",", ":")).encode()

"""Wire payloads shaped as Clinical and Facility really send them (contract §1.4, §2, §3).

Success shapes copy each service (contract I1): Clinical sends ``{success, data}`` with no metadata and
nests pagination inside ``data``; Facility sends ``data`` arrays with a top-level
``pagination``, rows with an integer ``id`` next to the UUID ``<entity>Id`` (contract I3), and
snake_case storage rows with counts as strings for capacity, analytics, occupancy and bed
history (contract I16). Error shapes follow each service's real error form.
"""

from __future__ import annotations

import math
from typing import Any

CLINICAL_URL = "http://clinical.test"
FACILITY_URL = "http://facility.test"

ORG_ID = "0b7e4a52-61c3-4d8e-9a1f-2b3c4d5e6f70"
USER_ID = "7c9d1e2f-3a4b-4c5d-8e6f-708192a3b4c5"
PATIENT_ID = "3f2b8c1e-9d4a-4e6b-8f0a-1c2d3e4f5a6b"
ENCOUNTER_ID = "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d"
MEDICATION_ID = "6b7c8d9e-0f1a-4b2c-9d3e-4f5a6b7c8d9e"
DIAGNOSTIC_ID = "7c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f"
FACILITY_ID = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
OTHER_FACILITY_ID = "a9b8c7d6-e5f4-4a3b-8c2d-1e0f9a8b7c6d"
DEPARTMENT_ID = "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e"
OTHER_DEPARTMENT_ID = "b9c8d7e6-f5a4-4b3c-9d2e-1f0a9b8c7d6e"
WARD_ID = "c3d4e5f6-a7b8-4c9d-8e1f-2a3b4c5d6e7f"
BED_ID = "d4e5f6a7-b8c9-4d0e-9f2a-3b4c5d6e7f80"
SETTINGS_ID = "e5f6a7b8-c9d0-4e1f-8a3b-4c5d6e7f8091"

# Identifying values that must never reach repr()/str() or an error message.
FIRST_NAME = "Amna"
LAST_NAME = "Elhassan"
PHONE = "+249 912 345 678"
EMAIL = "amna.elhassan@example.sd"
DOB = "1987-03-14"

STAMP = "2025-10-16T08:00:00.000Z"


# --- envelopes -------------------------------------------------------------------------------


def clinical_ok(data: Any) -> dict[str, Any]:
    """Clinical's success body: ``{success, data}`` and no metadata (contract I1)."""
    return {"success": True, "data": data}


def clinical_page(key: str, rows: list[dict[str, Any]], page: int, limit: int, total: int) -> Any:
    """A Clinical list: the collection and its pagination block *inside* ``data`` (contract §1.5)."""
    pages = math.ceil(total / limit) if limit else 0
    pagination = {"page": page, "limit": limit, "total": total, "pages": pages}
    return clinical_ok({key: rows, "pagination": pagination})


def clinical_message(message: str) -> dict[str, Any]:
    """Clinical delete / discontinue: ``{success, message}`` with no data (contract I22)."""
    return {"success": True, "message": message}


def clinical_error(status: int, code: str, message: str, **details: Any) -> dict[str, Any]:
    """Clinical's canonical error form, with ``metadata.service`` (contract §1.4)."""
    error: dict[str, Any] = {"code": code, "message": message, "statusCode": status}
    if details:
        error["details"] = details
    return {
        "success": False,
        "error": error,
        "metadata": {
            "timestamp": STAMP,
            "requestId": "2f1c9a7e-0000-4000-8000-000000000001",
            "version": "v1",
            "service": "clinical-service",
        },
    }


def facility_ok(data: Any, message: str | None = None, **extra: Any) -> dict[str, Any]:
    """Facility's success body: ``{success, data, message?}`` plus extras such as ``count``."""
    body: dict[str, Any] = {"success": True, "data": data, **extra}
    if message is not None:
        body["message"] = message
    return body


def facility_page(rows: list[dict[str, Any]], page: int, limit: int, total: int) -> Any:
    """A Facility list: ``data`` is the array, ``pagination`` sits at the top level (contract §1.5)."""
    pages = math.ceil(total / limit) if limit else 0
    return facility_ok(
        rows, pagination={"page": page, "limit": limit, "total": total, "pages": pages}
    )


def facility_error(status: int, message: str) -> dict[str, Any]:
    """Facility's error form: ``error.code`` is the HTTP status as a number (contract I10)."""
    return {"success": False, "error": {"message": message, "code": status}}


# --- Clinical rows ---------------------------------------------------------------------------


def patient_row(patient_id: str = PATIENT_ID, **overrides: Any) -> dict[str, Any]:
    """A Patient as ``GET /patients/{id}`` sends it (both nested objects present, contract §2.2)."""
    row: dict[str, Any] = {
        "id": patient_id,
        "firstName": FIRST_NAME,
        "lastName": LAST_NAME,
        "dateOfBirth": f"{DOB}T00:00:00.000Z",
        "gender": "female",
        "phoneNumber": PHONE,
        "email": EMAIL,
        "address": {
            "street": "Street 15, Al-Amarat",
            "city": "Khartoum",
            "state": "Khartoum",
            "zipCode": "11111",
            "country": "Sudan",
        },
        "emergencyContact": {"name": None, "relationship": None, "phoneNumber": None},
        "medicalHistory": ["asthma"],
        "allergies": ["penicillin"],
        "medications": [],
        "organizationId": ORG_ID,
        "createdBy": USER_ID,
        "createdAt": STAMP,
        "updatedAt": STAMP,
    }
    row.update(overrides)
    return row


def patient_summary_row(patient_id: str = PATIENT_ID) -> dict[str, Any]:
    """A PatientSummary from ``/stats/patients/recent`` (contract §2.7)."""
    return {
        "id": patient_id,
        "firstName": FIRST_NAME,
        "lastName": LAST_NAME,
        "dateOfBirth": f"{DOB}T00:00:00.000Z",
        "gender": "female",
        "phoneNumber": PHONE,
        "email": EMAIL,
        "createdAt": STAMP,
    }


def encounter_row(encounter_id: str = ENCOUNTER_ID, **overrides: Any) -> dict[str, Any]:
    """An Encounter from the ``/encounters`` routes (contract §2.3)."""
    row: dict[str, Any] = {
        "id": encounter_id,
        "patientId": PATIENT_ID,
        "providerId": USER_ID,
        "encounterType": "outpatient",
        "startDate": "2025-10-16T07:30:00.000Z",
        "chiefComplaint": "Persistent cough",
        "diagnosis": [],
        "vitalSigns": {"bloodPressure": {"systolic": 120, "diastolic": 80}, "temperature": 98.6},
        "status": "in-progress",
        "createdAt": STAMP,
        "updatedAt": STAMP,
    }
    row.update(overrides)
    return row


def encounter_storage_row(encounter_id: str = ENCOUNTER_ID) -> dict[str, Any]:
    """A raw snake_case storage row from ``GET /patients/{id}/encounters`` (contract I16)."""
    return {
        "id": encounter_id,
        "patient_id": PATIENT_ID,
        "provider_id": USER_ID,
        "encounter_type": "inpatient",
        "start_date": "2025-10-15T10:00:00.000Z",
        "chief_complaint": "Fever",
        "status": "in_progress",
        "admission_source": "emergency",
        "created_at": STAMP,
    }


def encounter_summary_row(encounter_id: str = ENCOUNTER_ID) -> dict[str, Any]:
    """An EncounterSummary from ``/stats/encounters/today`` (contract §2.7)."""
    return {
        "id": encounter_id,
        "patientId": PATIENT_ID,
        "type": "outpatient",
        "status": "scheduled",
        "scheduledAt": "2025-10-16T09:00:00.000Z",
        "startedAt": None,
        "endedAt": None,
        "patientFirstName": FIRST_NAME,
        "patientLastName": LAST_NAME,
    }


def medication_row(medication_id: str = MEDICATION_ID, **overrides: Any) -> dict[str, Any]:
    """A Medication (contract §2.4)."""
    row: dict[str, Any] = {
        "id": medication_id,
        "name": "Amoxicillin",
        "dosage": "500 mg",
        "frequency": "three times daily",
        "route": "oral",
        "startDate": "2025-10-16T08:00:00.000Z",
        "patientId": PATIENT_ID,
        "prescribedBy": USER_ID,
        "status": "active",
        "createdAt": STAMP,
        "updatedAt": STAMP,
    }
    row.update(overrides)
    return row


def prescription_body(risk: str = "medium") -> dict[str, Any]:
    """A prescribe 201: medication plus safety fields, with ``warnings`` outside ``data`` (contract §2.5)."""
    medication = medication_row(
        "MED-1760601600000",
        organizationId=ORG_ID,
        safetyCheckPerformed=True,
        safetyRiskLevel=risk,
        riskScore=42,
        overrideReason=None,
        cdsFindings={"interactions": 1, "allergies": 0, "contraindications": 0, "doseIssues": 0},
        prescribedAt=STAMP,
    )
    assessment = {
        "overallRisk": {"score": 42, "level": risk, "factors": [], "blocksAdministration": False},
        "interactions": [{"drug": "warfarin"}],
        "allergyAlerts": [],
        "contraindications": [],
        "doseValidation": {},
        "guidelines": [],
    }
    return {
        "success": True,
        "data": {"medication": medication, "safetyAssessment": assessment},
        "warnings": {
            "level": risk,
            "message": "Review interactions before administering",
            "details": {"interactions": 1, "allergies": 0, "contraindications": 0, "doseIssues": 0},
        },
    }


def diagnostic_row(diagnostic_id: str = DIAGNOSTIC_ID, **overrides: Any) -> dict[str, Any]:
    """A Diagnostic (contract §2.6)."""
    row: dict[str, Any] = {
        "id": diagnostic_id,
        "patientId": PATIENT_ID,
        "orderedBy": USER_ID,
        "testType": "blood",
        "testName": "CBC",
        "orderDate": "2025-10-16T08:00:00.000Z",
        "status": "ordered",
        "priority": "routine",
        "createdAt": STAMP,
        "updatedAt": STAMP,
    }
    row.update(overrides)
    return row


# --- Clinical request bodies (snake_case Python names) -----------------------------------------


def patient_create() -> dict[str, Any]:
    return {
        "first_name": FIRST_NAME,
        "last_name": LAST_NAME,
        "date_of_birth": DOB,
        "gender": "female",
        "phone_number": PHONE,
        "email": EMAIL,
        "emergency_contact": {
            "name": "Osman Abdelrahim",
            "relationship": "brother",
            "phone_number": "+249 123 987 654",
        },
        "allergies": ["penicillin"],
    }


def encounter_create() -> dict[str, Any]:
    return {
        "patient_id": PATIENT_ID,
        "provider_id": USER_ID,
        "encounter_type": "outpatient",
        "start_date": "2025-10-16T07:30:00Z",
        "chief_complaint": "Persistent cough",
        "vital_signs": {"temperature": 98.6, "blood_pressure": {"systolic": 120}},
    }


def medication_create() -> dict[str, Any]:
    return {
        "name": "Amoxicillin",
        "dosage": "500 mg",
        "frequency": "three times daily",
        "route": "oral",
        "start_date": "2025-10-16T08:00:00Z",
        "patient_id": PATIENT_ID,
        "prescribed_by": USER_ID,
    }


def diagnostic_create() -> dict[str, Any]:
    return {
        "patient_id": PATIENT_ID,
        "ordered_by": USER_ID,
        "test_type": "blood",
        "test_name": "CBC",
        "order_date": "2025-10-16T08:00:00Z",
        "priority": "urgent",
    }


# --- Facility rows ---------------------------------------------------------------------------


def facility_row(
    facility_id: str = FACILITY_ID, row_id: int = 1, **overrides: Any
) -> dict[str, Any]:
    """A Facility as the service model serialises it (contract §3.7): integer ``id`` + UUID ``facilityId``."""
    row: dict[str, Any] = {
        "id": row_id,
        "facilityId": facility_id,
        "organizationId": ORG_ID,
        "facilityCode": f"KTH-{row_id:03d}",
        "name": "Khartoum Teaching Hospital",
        "type": "hospital",
        "address": {
            "street": "Nile Street",
            "city": "Khartoum",
            "state": "Khartoum",
            "zipCode": "11111",
            "country": "Sudan",
            "coordinates": {"latitude": 15.6, "longitude": 32.5},
        },
        "contact": {"phone": "+249 183 000 000", "email": "info@kth.example.sd"},
        "capacity": {},
        "licensing": {},
        "operatingHours": {"monday": {"isOpen": True, "openTime": "08:00", "closeTime": "20:00"}},
        "services": ["emergency", "surgery"],
        "status": "active",
        "isActive": True,
        "createdBy": USER_ID,
        "createdAt": STAMP,
        "updatedAt": STAMP,
    }
    row.update(overrides)
    return row


def department_row(
    department_id: str = DEPARTMENT_ID, facility_id: str = FACILITY_ID, row_id: int = 3
) -> dict[str, Any]:
    return {
        "id": row_id,
        "departmentId": department_id,
        "facilityId": facility_id,
        "name": "Cardiology",
        "code": "CARD",
        "specialization": "cardiology",
        "floor": 2,
        "isActive": True,
        "createdBy": USER_ID,
        "createdAt": STAMP,
        "updatedAt": STAMP,
    }


def ward_row(ward_id: str = WARD_ID, row_id: int = 5, occupied: int = 3) -> dict[str, Any]:
    return {
        "id": row_id,
        "wardId": ward_id,
        "facilityId": FACILITY_ID,
        "departmentId": DEPARTMENT_ID,
        "name": "Cardiac ICU",
        "wardCode": "ICU-1",
        "wardType": "icu",
        "totalBeds": 10,
        "occupiedBeds": occupied,
        "availableBeds": 10 - occupied,
        "status": "active",
        "isActive": True,
        "createdBy": USER_ID,
        "createdAt": STAMP,
        "updatedAt": STAMP,
    }


def bed_row(bed_id: str = BED_ID, row_id: int = 12, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": row_id,
        "bedId": bed_id,
        "facilityId": FACILITY_ID,
        "departmentId": DEPARTMENT_ID,
        "wardId": WARD_ID,
        "bedNumber": "A-101",
        "bedType": "icu",
        "bedStatus": "available",
        "hasOxygen": True,
        "hasMonitor": True,
        "hasVentilator": False,
        "isolationCapable": False,
        "isActive": True,
        "createdBy": USER_ID,
        "createdAt": STAMP,
        "updatedAt": STAMP,
    }
    row.update(overrides)
    return row


def capacity_row() -> dict[str, Any]:
    """FacilityCapacity: camelCase head plus snake_case FacilityStats with string counts (contract I16)."""
    return {
        "facilityId": FACILITY_ID,
        "name": "Khartoum Teaching Hospital",
        "capacity": {"totalBeds": 120, "icuBeds": 10},
        "facility_id": FACILITY_ID,
        "type": "hospital",
        "department_count": "4",
        "ward_count": "9",
        "total_beds": "118",
        "available_beds": "31",
        "occupied_beds": "87",
    }


def analytics_row(period: str = "current") -> dict[str, Any]:
    return {
        "facility_id": FACILITY_ID,
        "name": "Khartoum Teaching Hospital",
        "type": "hospital",
        "department_count": "4",
        "ward_count": "9",
        "total_beds": "118",
        "available_beds": "31",
        "occupied_beds": "87",
        "period": period,
        "timestamp": STAMP,
    }


def occupancy_row() -> dict[str, Any]:
    return {
        "ward_id": WARD_ID,
        "ward_name": "Cardiac ICU",
        "total_beds": "10",
        "occupied_beds": "3",
        "available_beds": "7",
        "occupancy_rate": "30.00",
        "last_updated": STAMP,
    }


def bed_history_row() -> dict[str, Any]:
    return {
        "id": 77,
        "bed_id": BED_ID,
        "patient_id": PATIENT_ID,
        "assignment_date": "2025-10-10T10:00:00.000Z",
        "discharge_date": None,
        "duration": None,
        "reason": "post-op observation",
        "created_at": "2025-10-10T10:00:00.000Z",
    }


def settings_row(facility_id: str = FACILITY_ID, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": 2,
        "settingsId": SETTINGS_ID,
        "facilityId": facility_id,
        "timezone": "Africa/Khartoum",
        "timeFormat": "24h",
        "defaultAppointmentDuration": 30,
        "appointmentReminderHours": [24, 2],
        "customSettings": {},
        "createdBy": USER_ID,
        "createdAt": STAMP,
        "updatedAt": STAMP,
    }
    row.update(overrides)
    return row


# --- Facility request bodies -----------------------------------------------------------------


def facility_create() -> dict[str, Any]:
    return {
        "organization_id": ORG_ID,
        "facility_code": "KTH-001",
        "name": "Khartoum Teaching Hospital",
        "type": "hospital",
        "address": {
            "street": "Nile Street",
            "city": "Khartoum",
            "state": "Khartoum",
            "zip_code": "11111",
            "country": "Sudan",
        },
        "contact": {"phone": "+249 183 000 000", "email": "info@kth.example.sd"},
        "capacity": {"total_beds": 120, "icu_beds": 10},
    }

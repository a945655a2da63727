"""The ``today`` fakes, seeded and authorised as ``harness/services.sh up`` sets up the real ones.

``make compat`` runs every case twice: against the real services and against these fakes
(``target="fake"``); ``make test`` runs only the fake pass and compares it with the committed
table. The rows below copy ``harness/seed_*.sql`` (and the rows Facility's own schema file
inserts); the callers copy the tokens ``services.sh`` mints. The Kafka producer is down in
the harness, so the Clinical fake runs with ``faults.event_bus_down()``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from nilecare_clients.testing.fakes import FakeClinicalService, FakeFacilityService

TENANT = "550e8400-e29b-41d4-a716-446655440001"
OTHER_TENANT = "99999999-9999-4999-8999-999999999999"
ADMIN_USER = "550e8400-e29b-41d4-a716-446655440002"
DOCTOR_USER = "44444444-4444-4444-8444-000000000001"
NURSE_USER = "44444444-4444-4444-8444-000000000009"

#: The names of ``env.sh``'s tokens; in the fake pass each token is its own name.
CALLERS: dict[str, dict[str, Any]] = {
    "NILECARE_ADMIN_TOKEN": {"role": "admin", "permissions": ["*"], "user_id": ADMIN_USER},
    "NILECARE_CLINICIAN_TOKEN": {"role": "doctor", "permissions": ["*"], "user_id": DOCTOR_USER},
    "NILECARE_DOCTOR_TOKEN": {
        "role": "doctor",
        "permissions": ["patients:read", "patients:create", "patients:update"],
        "user_id": DOCTOR_USER,
    },
    "NILECARE_NURSE_NOPERM_TOKEN": {
        "role": "nurse",
        "permissions": ["patients:read"],
        "user_id": NURSE_USER,
    },
    "NILECARE_OTHER_ORG_TOKEN": {"role": "admin", "permissions": ["*"], "org": OTHER_TENANT},
}

#: What ``ServiceConfig.from_env`` reads in the fake pass (the transport is the fake's own).
ENVIRON = {
    "NILECARE_CLINICAL_URL": "http://clinical.today-fake",
    "NILECARE_FACILITY_URL": "http://facility.today-fake",
}


def _ago(days: float) -> str:
    return (datetime.now(timezone.utc) - timedelta(days=days)).isoformat().replace("+00:00", "Z")


def _patient(
    ident: str, first: str, last: str, born: str, gender: str, phone: str, **more: Any
) -> Any:
    return {
        "id": ident,
        "firstName": first,
        "lastName": last,
        "dateOfBirth": born,
        "gender": gender,
        "phoneNumber": phone,
        **more,
    }


def clinical() -> FakeClinicalService:
    """The Clinical fake with ``seed_clinical.sql``'s patients and encounters."""
    fake = FakeClinicalService(profile="today", organization_id=TENANT, user_id=ADMIN_USER)
    _authorise(fake)
    p = "11111111-1111-4111-8111-00000000000"
    fake.seed(
        patients=[
            _patient(
                f"{p}1",
                "Ahmed",
                "Hassan",
                "1980-03-14",
                "male",
                "+249912000001",
                email="ahmed.hassan@example.sd",
                address={
                    "street": "12 Nile St",
                    "city": "Khartoum",
                    "state": "Khartoum",
                    "zipCode": "11111",
                    "country": "Sudan",
                },
                emergencyContact={
                    "name": "Fatima Hassan",
                    "relationship": "spouse",
                    "phoneNumber": "+249912100001",
                },
                medicalHistory=["hypertension"],
                allergies=["penicillin"],
                medications=["amlodipine 5mg"],
                createdAt=_ago(5),
            ),
            _patient(
                f"{p}2",
                "Fatima",
                "Ali",
                "1992-07-01",
                "female",
                "+249912000002",
                email="fatima.ali@example.sd",
                address={
                    "street": "3 Blue Nile Rd",
                    "city": "Omdurman",
                    "state": "Khartoum",
                    "zipCode": "11112",
                    "country": "Sudan",
                },
                emergencyContact={
                    "name": "Omar Ali",
                    "relationship": "brother",
                    "phoneNumber": "+249912100002",
                },
                createdAt=_ago(4),
            ),
            _patient(
                f"{p}3",
                "Mohamed",
                "Osman",
                "1975-11-20",
                "male",
                "+249912000003",
                medicalHistory=["type 2 diabetes"],
                medications=["metformin 500mg"],
                createdAt=_ago(3),
            ),
            _patient(
                f"{p}4",
                "Amna",
                "Ibrahim",
                "2001-01-09",
                "female",
                "+249912000004",
                email="amna.ibrahim@example.sd",
                createdAt=_ago(2),
            ),
            _patient(
                f"{p}5",
                "Khalid",
                "Yousif",
                "1968-05-30",
                "male",
                "+249912000005",
                email="khalid.yousif@example.sd",
                allergies=["aspirin", "sulfa"],
                medicalHistory=["asthma"],
                medications=["salbutamol inhaler"],
                createdAt=_ago(1),
            ),
            _patient(
                "22222222-2222-4222-8222-000000000001",
                "Other",
                "Tenant",
                "1990-01-01",
                "other",
                "+249912999999",
                organizationId=OTHER_TENANT,
            ),
        ],
        encounters=[
            {
                "id": "33333333-3333-4333-8333-000000000001",
                "patientId": f"{p}1",
                "providerId": DOCTOR_USER,
                "encounterType": "outpatient",
                "startDate": _ago(30),
                "endDate": _ago(30 - 40 / 1440),
                "chiefComplaint": "Headache and dizziness",
                "diagnosis": ["Essential hypertension"],  # values are not compared
                "treatmentPlan": "Start amlodipine 5mg daily",
                "vitalSigns": {
                    "bloodPressure": {"systolic": 160, "diastolic": 100},
                    "heartRate": 82,
                    "temperature": 98.4,  # the fake validates Fahrenheit; the seed row says 36.9
                },
                "status": "completed",
            },
            {
                "id": "33333333-3333-4333-8333-000000000002",
                "patientId": f"{p}1",
                "providerId": DOCTOR_USER,
                "encounterType": "outpatient",
                "startDate": _ago(2),
                "chiefComplaint": "Blood pressure follow-up",
                "vitalSigns": {
                    "bloodPressure": {"systolic": 138, "diastolic": 88},
                    "heartRate": 76,
                },
                "status": "in-progress",
            },
            {
                "id": "33333333-3333-4333-8333-000000000003",
                "patientId": f"{p}3",
                "providerId": "44444444-4444-4444-8444-000000000002",
                "encounterType": "emergency",
                "startDate": _ago(10),
                "endDate": _ago(9),
                "chiefComplaint": "Hyperglycaemia",
                "diagnosis": ["E11.65 Type 2 diabetes with hyperglycemia"],
                "treatmentPlan": "Insulin sliding scale; discharge on metformin",
                "status": "completed",
            },
        ],
    )
    fake.faults.event_bus_down()
    return fake


def facility() -> FakeFacilityService:
    """The Facility fake with the rows of Facility's schema file and ``seed_facility.sql``."""
    fake = FakeFacilityService(profile="today", organization_id=TENANT, user_id=ADMIN_USER)
    _authorise(fake)
    u = "550e8400-e29b-41d4-a716-4466554400"
    f1, f2 = f"{u}00", "550e8400-e29b-41d4-a716-446655440100"
    address = {
        "street": "University Avenue",
        "city": "Khartoum",
        "state": "Khartoum",
        "zipCode": "11111",
        "country": "Sudan",
    }
    fake.seed(
        facilities=[
            {
                "facilityId": f1,
                "organizationId": TENANT,
                "facilityCode": "KTH-001",
                "name": "Khartoum Teaching Hospital",
                "type": "hospital",
                "address": address,
                "contact": {
                    "phone": "+249123456789",
                    "email": "info@kth.sd",
                    "website": "https://kth.sd",
                },
                "capacity": {
                    "totalBeds": 200,
                    "icuBeds": 20,
                    "emergencyBeds": 30,
                    "operatingRooms": 8,
                },
                "services": ["Emergency", "Surgery", "Internal Medicine", "Pediatrics"],
            },
            {
                "facilityId": f2,
                "organizationId": TENANT,
                "facilityCode": "OMD-CL-01",
                "name": "Omdurman Family Clinic",
                "type": "clinic",
                "address": {
                    **address,
                    "street": "Al Arbaeen St",
                    "city": "Omdurman",
                    "zipCode": "11112",
                },
                "contact": {"phone": "+249155000100", "email": "info@omdclinic.sd"},
                "capacity": {"totalBeds": 12, "icuBeds": 0, "emergencyBeds": 2},
                "services": ["Primary Care", "Pediatrics"],
            },
        ],
        departments=[
            {
                "departmentId": f"{u}10",
                "facilityId": f1,
                "name": "Internal Medicine",
                "code": "INTMED",
                "specialization": "General Internal Medicine",
                "floor": 3,
            },
            {
                "departmentId": f"{u}11",
                "facilityId": f1,
                "name": "Intensive Care",
                "code": "ICU",
                "specialization": "Critical Care",
                "floor": 2,
            },
            {
                "departmentId": f"{u}12",
                "facilityId": f1,
                "name": "Pediatrics",
                "code": "PEDS",
                "specialization": "Pediatrics",
                "floor": 1,
            },
            {
                "departmentId": "550e8400-e29b-41d4-a716-446655440110",
                "facilityId": f2,
                "name": "General Practice",
                "code": "GP",
                "specialization": "Family Medicine",
                "floor": 0,
            },
        ],
        wards=[
            _ward(f"{u}20", f1, f"{u}10", "Medical Ward A", "MED-A", "medical", 3, 20),
            _ward(f"{u}21", f1, f"{u}11", "ICU Ward 1", "ICU-1", "icu", 2, 4),
            _ward(f"{u}22", f1, f"{u}12", "Children Ward", "PED-1", "pediatric", 1, 2),
            _ward(
                "550e8400-e29b-41d4-a716-446655440120",
                f2,
                "550e8400-e29b-41d4-a716-446655440110",
                "Observation Room",
                "OBS-1",
                "general",
                0,
                2,
            ),
        ],
        beds=[
            _bed(None, f"{u}20", "A-101", "standard", "available", True, False, False),
            _bed(None, f"{u}20", "A-102", "standard", "available", True, True, False),
            _bed(1, f"{u}21", "ICU-01", "icu", "available", True, True, True),
            _bed(2, f"{u}21", "ICU-02", "icu", "occupied", True, True, True),
            _bed(3, f"{u}21", "ICU-03", "icu", "maintenance", True, True, False),
            _bed(4, f"{u}21", "ICU-04", "icu", "available", True, True, False),
            _bed(5, f"{u}22", "P-01", "pediatric", "available", True, False, False),
            _bed(6, f"{u}22", "P-02", "pediatric", "cleaning", False, False, False),
            _bed(
                7,
                "550e8400-e29b-41d4-a716-446655440120",
                "O-1",
                "observation",
                "available",
                False,
                True,
                False,
            ),
            _bed(
                8,
                "550e8400-e29b-41d4-a716-446655440120",
                "O-2",
                "observation",
                "available",
                False,
                False,
                False,
            ),
        ],
    )
    return fake


_WARD_PARENTS: dict[str, tuple[str, str]] = {}


def _ward(
    ident: str,
    facility_id: str,
    department_id: str,
    name: str,
    code: str,
    kind: str,
    floor: int,
    beds: int,
) -> dict[str, Any]:
    _WARD_PARENTS[ident] = (facility_id, department_id)
    return {
        "wardId": ident,
        "facilityId": facility_id,
        "departmentId": department_id,
        "name": name,
        "wardCode": code,
        "wardType": kind,
        "floor": floor,
        "totalBeds": beds,
    }


def _bed(
    number: int | None,
    ward_id: str,
    bed_number: str,
    kind: str,
    status: str,
    oxygen: bool,
    monitor: bool,
    ventilator: bool,
) -> dict[str, Any]:
    facility_id, department_id = _WARD_PARENTS[ward_id]
    bed: dict[str, Any] = {
        "facilityId": facility_id,
        "departmentId": department_id,
        "wardId": ward_id,
        "bedNumber": bed_number,
        "bedType": kind,
        "bedStatus": status,
        "hasOxygen": oxygen,
        "hasMonitor": monitor,
        "hasVentilator": ventilator,
    }
    if number is not None:
        bed["bedId"] = f"66666666-6666-4666-8666-00000000000{number}"
    if status == "occupied":
        bed["patientId"] = "11111111-1111-4111-8111-000000000003"
    return bed


def _authorise(fake: FakeClinicalService | FakeFacilityService) -> None:
    for token, caller in CALLERS.items():
        fake.add_caller(
            token,
            role=caller["role"],
            permissions=caller["permissions"],
            organization_id=caller.get("org", TENANT),
            user_id=caller.get("user_id"),
        )

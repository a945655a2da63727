"""Realistic, valid request bodies for the fakes and for tests of code that calls the services.

Each ``make_*`` returns a wire-shaped create body (camelCase keys) that the matching fake
accepts as is. Overrides replace keys and may be given in camelCase or snake_case
(``first_name="Amna"`` sets ``firstName``). With a ``seed`` the output is the same on every
run; a ``Factories(seed)`` instance draws a deterministic *sequence* and keeps codes unique.
Dates are anchored to a fixed day (``Factories.today``), not the wall clock, so they never
drift between runs.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from nilecare_clients.testing.fakes._service import DEFAULT_ORGANIZATION_ID

FEMALE_NAMES = (
    "Amna",
    "Fatima",
    "Hawa",
    "Sara",
    "Nafisa",
    "Asma",
    "Samia",
    "Zainab",
    "Hiba",
    "Mawada",
    "Rania",
    "Eman",
    "Tasneem",
    "Khadija",
)
MALE_NAMES = (
    "Mohamed",
    "Ahmed",
    "Osman",
    "Khalid",
    "Omer",
    "Mustafa",
    "Hassan",
    "Ibrahim",
    "Abdelrahman",
    "Yasir",
    "Tarig",
    "Elfatih",
    "Hamza",
    "Musa",
)
FAMILY_NAMES = (
    "Osman",
    "Elfadil",
    "Abdelrahman",
    "Mohamed",
    "Ahmed",
    "Hassan",
    "Ibrahim",
    "Elsheikh",
    "Babiker",
    "Elamin",
    "Mustafa",
    "Yousif",
    "Abdalla",
    "Idris",
    "Suliman",
    "Elhassan",
    "Nour Eldin",
    "Bashir",
)
#: (city, state, streets, latitude, longitude)
CITIES = (
    ("Khartoum", "Khartoum", ("Nile Street", "Al Qasr Avenue", "Africa Road"), 15.5007, 32.5599),
    ("Omdurman", "Khartoum", ("Al Arbaeen Street", "Al Mawrada Street"), 15.6445, 32.4777),
    ("Bahri", "Khartoum", ("Al Mutamid Street", "Shambat Road"), 15.6412, 32.5310),
    ("Port Sudan", "Red Sea", ("Al Souq Street", "Corniche Road"), 19.6158, 37.2164),
    ("Wad Madani", "Gezira", ("Al Nil Street", "Hospital Road"), 14.4012, 33.5199),
)
#: (name suffix, facility type, code letters)
FACILITY_KINDS = (
    ("Teaching Hospital", "hospital", "TH"),
    ("General Hospital", "hospital", "GH"),
    ("Children's Hospital", "hospital", "CH"),
    ("Family Clinic", "clinic", "FC"),
    ("Diagnostic Laboratory", "lab", "DL"),
    ("Community Pharmacy", "pharmacy", "CP"),
    ("Rehabilitation Centre", "rehabilitation", "RC"),
)
#: (name, code, specialization)
DEPARTMENTS = (
    ("Cardiology", "CARD", "cardiology"),
    ("Internal Medicine", "MED", "internal medicine"),
    ("Paediatrics", "PAED", "paediatrics"),
    ("Obstetrics and Gynaecology", "OBGYN", "obstetrics"),
    ("Emergency", "EMER", "emergency medicine"),
    ("General Surgery", "SURG", "surgery"),
    ("Nephrology", "NEPH", "nephrology"),
)
#: (name, code, wardType, genderRestriction)
WARDS = (
    ("Intensive Care Unit", "ICU", "icu", "mixed"),
    ("Male Medical Ward", "MMW", "medical", "male"),
    ("Female Medical Ward", "FMW", "medical", "female"),
    ("Female Surgical Ward", "FSW", "surgical", "female"),
    ("Maternity Ward", "MAT", "maternity", "female"),
    ("Children's Ward", "PED", "pediatric", "mixed"),
    ("Emergency Observation", "EMG", "emergency", "mixed"),
    ("Isolation Ward", "ISO", "isolation", "mixed"),
)
BED_TYPES_BY_WARD = {
    "icu": "icu",
    "maternity": "maternity",
    "pediatric": "pediatric",
    "isolation": "isolation",
    "emergency": "observation",
}
#: (name, dosage, frequency, route)
MEDICATIONS = (
    ("Artemether-Lumefantrine", "80/480 mg", "twice daily for 3 days", "oral"),
    ("Amoxicillin", "500 mg", "three times daily", "oral"),
    ("Paracetamol", "1 g", "every 6 hours as needed", "oral"),
    ("Metformin", "500 mg", "twice daily with meals", "oral"),
    ("Amlodipine", "5 mg", "once daily", "oral"),
    ("Ceftriaxone", "1 g", "once daily", "intravenous"),
    ("Insulin glargine", "10 units", "once daily at night", "subcutaneous"),
    ("Salbutamol", "100 mcg, 2 puffs", "every 4 hours as needed", "inhalation"),
)
#: (testType, testName)
DIAGNOSTICS = (
    ("haematology", "Complete Blood Count"),
    ("parasitology", "Malaria Blood Film"),
    ("imaging", "Chest X-Ray"),
    ("chemistry", "HbA1c"),
    ("chemistry", "Renal Function Test"),
    ("imaging", "Abdominal Ultrasound"),
)
COMPLAINTS = (
    "Fever and chills for three days",
    "Cough and shortness of breath",
    "Abdominal pain",
    "Headache and dizziness",
    "Follow-up of hypertension",
    "Antenatal check-up",
    "Joint pain",
    "Burning on urination",
)
HISTORY = (
    "Hypertension",
    "Type 2 diabetes",
    "Malaria (2023)",
    "Asthma",
    "Sickle cell trait",
    "Appendectomy (2019)",
)
ALLERGIES = ("Penicillin", "Sulfa drugs", "Peanuts")
RELATIONSHIPS = ("brother", "sister", "mother", "father", "spouse", "son", "daughter")

ANCHOR_DAY = date(2025, 10, 16)


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _apply(body: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    for key, value in overrides.items():
        body[_camel(key)] = value
    return body


class Factories:
    """A seeded source of create bodies; successive calls give a deterministic sequence."""

    def __init__(self, seed: int | str | None = None, *, today: date = ANCHOR_DAY) -> None:
        self.today = today
        self._rng = random.Random(seed)
        self._codes: dict[str, int] = {}

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _serial(self, prefix: str) -> int:
        self._codes[prefix] = self._codes.get(prefix, 0) + 1
        return self._codes[prefix]

    def _unique(self, code: str) -> str:
        seen = self._serial(code)
        return code if seen == 1 else f"{code}-{seen}"

    def _moment(self, days_back: int, hour: int = 8) -> str:
        day = self.today - timedelta(days=days_back)
        moment = datetime.combine(
            day, time(hour, self._rng.choice((0, 15, 30, 45))), tzinfo=timezone.utc
        )
        return moment.strftime("%Y-%m-%dT%H:%M:00.000Z")

    def phone(self) -> str:
        """A Sudanese mobile number such as ``+249 912 345 678``."""
        prefix = self._rng.choice(("91", "92", "90", "99", "96", "12"))
        digits = f"{prefix}{self._rng.randrange(10_000_000):07d}"
        return f"+249 {digits[:3]} {digits[3:6]} {digits[6:]}"

    def person(self, gender: str | None = None) -> tuple[str, str, str]:
        gender = gender or self._rng.choice(("female", "male"))
        first = self._rng.choice(FEMALE_NAMES if gender == "female" else MALE_NAMES)
        return first, self._rng.choice(FAMILY_NAMES), gender

    def address(self, city: str | None = None) -> dict[str, Any]:
        row = next((c for c in CITIES if c[0] == city), None) or self._rng.choice(CITIES)
        name, state, streets, _, _ = row
        return {
            "street": f"{self._rng.randrange(1, 250)} {self._rng.choice(streets)}",
            "city": name,
            "state": state,
            "zipCode": f"{self._rng.randrange(11111, 99999)}",
            "country": "Sudan",
        }

    def patient(self, **overrides: Any) -> dict[str, Any]:
        """A PatientCreate body (contract §2.2)."""
        first, last, gender = self.person()
        birth = self.today - timedelta(days=self._rng.randrange(365 * 2, 365 * 85))
        kin_first, _, _ = self.person()
        body: dict[str, Any] = {
            "firstName": first,
            "lastName": last,
            "dateOfBirth": birth.isoformat(),
            "gender": gender,
            "phoneNumber": self.phone(),
            "email": f"{first.lower()}.{last.lower().replace(' ', '')}"
            f"{self._rng.randrange(10, 99)}@example.sd",
            "address": self.address(),
            "emergencyContact": {
                "name": f"{kin_first} {last}",
                "relationship": self._rng.choice(RELATIONSHIPS),
                "phoneNumber": self.phone(),
            },
            "medicalHistory": self._rng.sample(HISTORY, self._rng.randrange(0, 3)),
            "allergies": self._rng.sample(ALLERGIES, self._rng.choice((0, 0, 0, 1))),
            "medications": [],
        }
        return _apply(body, overrides)

    def vital_signs(self) -> dict[str, Any]:
        rng = self._rng
        return {
            "bloodPressure": {
                "systolic": rng.randrange(105, 150),
                "diastolic": rng.randrange(65, 95),
            },
            "heartRate": rng.randrange(58, 105),
            "temperature": round(rng.uniform(97.2, 101.5), 1),
            "respiratoryRate": rng.randrange(12, 22),
            "oxygenSaturation": rng.randrange(93, 100),
            "weight": round(rng.uniform(45, 95), 1),
            "height": rng.randrange(150, 192),
        }

    def encounter(self, **overrides: Any) -> dict[str, Any]:
        """An EncounterCreate body (contract §2.3); pass ``patient_id`` of a stored patient."""
        body: dict[str, Any] = {
            "patientId": self._uuid(),
            "providerId": self._uuid(),
            "encounterType": self._rng.choice(
                ("outpatient", "outpatient", "inpatient", "emergency", "telehealth")
            ),
            "startDate": self._moment(self._rng.randrange(0, 30)),
            "chiefComplaint": self._rng.choice(COMPLAINTS),
            "diagnosis": [],
            "vitalSigns": self.vital_signs(),
        }
        return _apply(body, overrides)

    def medication(self, **overrides: Any) -> dict[str, Any]:
        """A MedicationCreate body (contract §2.4)."""
        name, dosage, frequency, route = self._rng.choice(MEDICATIONS)
        body: dict[str, Any] = {
            "name": name,
            "dosage": dosage,
            "frequency": frequency,
            "route": route,
            "startDate": self._moment(self._rng.randrange(0, 10)),
            "patientId": self._uuid(),
            "prescribedBy": self._uuid(),
            "instructions": "Take as directed",
        }
        return _apply(body, overrides)

    def diagnostic(self, **overrides: Any) -> dict[str, Any]:
        """A DiagnosticCreate body (contract §2.6)."""
        test_type, test_name = self._rng.choice(DIAGNOSTICS)
        body: dict[str, Any] = {
            "patientId": self._uuid(),
            "orderedBy": self._uuid(),
            "testType": test_type,
            "testName": test_name,
            "orderDate": self._moment(self._rng.randrange(0, 10)),
            "priority": self._rng.choice(("routine", "routine", "urgent", "stat")),
        }
        return _apply(body, overrides)

    def facility(self, **overrides: Any) -> dict[str, Any]:
        """A Facility create body (contract §3.2) with both ``contact`` and ``contactInfo``
        (contract I5).

        ``organizationId`` is the fakes' default caller organisation, as the typed client's
        ``FacilityCreate`` requires it (contract I5); override it to file the facility elsewhere.
        """
        city, state, streets, lat, lon = self._rng.choice(CITIES)
        wanted = overrides.get("type")
        kinds = [k for k in FACILITY_KINDS if k[1] == wanted] or list(FACILITY_KINDS)
        suffix, kind, letters = self._rng.choice(kinds)
        initials = "".join(word[0] for word in city.split())
        prefix = f"{initials}{letters}"
        number = self._serial(prefix)
        contact = {"phone": self.phone(), "email": f"info@{initials.lower()}{letters.lower()}.sd"}
        total = self._rng.randrange(20, 400) if kind == "hospital" else 0
        body: dict[str, Any] = {
            "organizationId": DEFAULT_ORGANIZATION_ID,
            "name": f"{city} {suffix}",
            "type": kind,
            "facilityCode": f"{prefix}-{number:03d}",
            "address": {
                "street": f"{self._rng.randrange(1, 250)} {self._rng.choice(streets)}",
                "city": city,
                "state": state,
                "zipCode": f"{self._rng.randrange(11111, 99999)}",
                "country": "Sudan",
                "coordinates": {"latitude": lat, "longitude": lon},
            },
            "contactInfo": dict(contact),
            "contact": dict(contact),
            "services": self._rng.sample(
                (
                    "emergency",
                    "outpatient",
                    "laboratory",
                    "radiology",
                    "pharmacy",
                    "maternity",
                    "surgery",
                ),
                3,
            ),
            "capacity": {"totalBeds": total, "icuBeds": total // 10, "emergencyBeds": total // 8},
            "operatingHours": {"is24Hours": kind == "hospital"},
        }
        return _apply(body, overrides)

    def department(self, **overrides: Any) -> dict[str, Any]:
        """A Department create body (contract §3.3); pass ``facility_id`` of a stored facility."""
        name, code, specialization = self._rng.choice(DEPARTMENTS)
        body: dict[str, Any] = {
            "facilityId": self._uuid(),
            "name": name,
            "code": self._unique(code),
            "specialization": specialization,
            "floor": self._rng.randrange(0, 5),
            "building": self._rng.choice(("Main Building", "North Wing", "South Wing")),
            "contactPhone": self.phone(),
            "contactEmail": f"{code.lower()}@hospital.example.sd",
        }
        return _apply(body, overrides)

    def ward(self, **overrides: Any) -> dict[str, Any]:
        """A Ward create body (contract §3.4); pass ``facility_id`` and ``department_id``."""
        name, code, ward_type, gender = self._rng.choice(WARDS)
        number = self._serial(code)
        body: dict[str, Any] = {
            "facilityId": self._uuid(),
            "departmentId": self._uuid(),
            "name": name if number == 1 else f"{name} {number}",
            "wardCode": f"{code}-{number}",
            "wardType": ward_type,
            "totalBeds": self._rng.randrange(4, 24),
            "floor": self._rng.randrange(0, 5),
            "nurseStationPhone": self.phone(),
            "genderRestriction": gender,
        }
        return _apply(body, overrides)

    def bed(self, **overrides: Any) -> dict[str, Any]:
        """A Bed create body (contract §3.5); pass ``facility_id``, ``department_id`` and
        ``ward_id``."""
        ward_type = str(overrides.pop("ward_type", overrides.pop("wardType", "general")))
        bay = self._rng.choice("ABCD")
        bed_number = self._unique(f"{bay}-{self._rng.randrange(100, 400)}")
        body: dict[str, Any] = {
            "facilityId": self._uuid(),
            "departmentId": self._uuid(),
            "wardId": self._uuid(),
            "bedNumber": bed_number,
            "bedType": BED_TYPES_BY_WARD.get(ward_type, "standard"),
            "location": f"Room {bed_number.split('-')[1]}",
            "hasOxygen": ward_type in ("icu", "emergency") or self._rng.random() < 0.4,
            "hasMonitor": ward_type == "icu" or self._rng.random() < 0.2,
            "hasVentilator": ward_type == "icu" and self._rng.random() < 0.5,
            "isolationCapable": ward_type == "isolation",
        }
        return _apply(body, overrides)


def make_patient(*, seed: int | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid PatientCreate body (Sudanese names, ``+249`` phone); deterministic with ``seed``."""
    return Factories(seed).patient(**overrides)


def make_encounter(*, seed: int | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid EncounterCreate body; give ``patient_id`` of a stored patient."""
    return Factories(seed).encounter(**overrides)


def make_medication(*, seed: int | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid MedicationCreate body; give ``patient_id`` of a stored patient."""
    return Factories(seed).medication(**overrides)


def make_diagnostic(*, seed: int | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid DiagnosticCreate body; give ``patient_id`` of a stored patient."""
    return Factories(seed).diagnostic(**overrides)


def make_facility(*, seed: int | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid Facility create body (Khartoum, Omdurman, ... with ``KTH-001`` style codes)."""
    return Factories(seed).facility(**overrides)


def make_department(*, seed: int | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid Department create body; give ``facility_id``."""
    return Factories(seed).department(**overrides)


def make_ward(*, seed: int | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid Ward create body; give ``facility_id`` and ``department_id``."""
    return Factories(seed).ward(**overrides)


def make_bed(*, seed: int | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid Bed create body; give ``facility_id``, ``department_id`` and ``ward_id``."""
    return Factories(seed).bed(**overrides)

"""``FakeClinicalService``: an in-memory Clinical service (contract §2) served over ASGI.

Choices where the real service is broken or vague (contract §5), as the fakes must make them:

- success bodies are ``{success, data}`` with no metadata; lists carry the named collection
  and ``data.pagination`` ``{page, limit, total, pages}`` (contract I1, I2, I12); the default limit
  is 10;
- the documented filters work (``search`` over firstName, lastName and email, case-insensitive;
  ``patientId``/``providerId``/``status``/``testType``) and any other query key is a 400
  (contract I13);
- a duplicate phone number in the organisation is 409 ``DUPLICATE_ENTRY`` (contract I11);
- ``address`` and ``emergencyContact`` are stored on update and returned on every read
(contract I15);
- patient encounters come back as snake_case rows without a pagination block (contract I16);
- medications get UUID ids so they can be read back (contract I3); an unknown id is 404
(contract I11);
- new encounters are ``in-progress``, diagnostics ``ordered`` with priority ``routine``
(contract I6);
- deletes are real: a later read is 404 (contract I22);
- encounters, medications and diagnostics must name a patient of the caller's organisation.

With ``profile="today"`` the fake answers as today's Clinical service does instead (contract §5,
docs/compatibility.md): role and permission checks with the auth layer's texts, the strict
query schema (``search``, ``patientId``, ``status`` refused), a 500 for every patient list
not sorted by ``email``, 400 for a duplicate phone, 501 placeholders for every encounter and
diagnostic route, placeholder medication handlers (``data: null``, an empty list, nothing
stored), 500 on every ``/stats`` route, errors coded ``INTERNAL_ERROR`` unless 401/403/404, and
``Idempotency-Key`` ignored. The commit-then-500 of its writes depends on the environment (the
Kafka producer), so it is the fault ``faults.event_bus_down()``, in either profile.

The CDS safety check is simulated: a medication named in the patient's allergies, or flagged
with ``flag_medication(name, "high")``, needs ``overrideReason`` (else 400 with
``requiresOverride``); ``"contraindicated"`` is always refused with 403 ``blocked`` (contract §2.5).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, time, timezone
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from nilecare_clients.testing.fakes._envelope import FakeServiceError, iso, page_block
from nilecare_clients.testing.fakes._service import FakeService
from nilecare_clients.testing.fakes._today import (
    CLINICAL_PAGINATION,
    Endpoint,
    joi_id_param,
    joi_query,
    not_implemented,
    refusal,
    validation_text,
)
from nilecare_clients.testing.fakes._validation import (
    Checker,
    QueryChecker,
    contains,
    normalise_phone,
    require_path_uuid,
)
from nilecare_clients.testing.fakes.factories import Factories

Record = dict[str, Any]

GENDERS = frozenset({"male", "female", "other", "unknown"})
ENCOUNTER_TYPES = frozenset({"outpatient", "inpatient", "emergency", "telehealth"})
ENCOUNTER_STATUSES = frozenset({"scheduled", "in-progress", "completed", "cancelled"})
ROUTES_OF_ADMINISTRATION = frozenset(
    {"oral", "intravenous", "intramuscular", "subcutaneous", "topical", "inhalation"}
)
MEDICATION_STATUSES = frozenset({"active", "discontinued", "completed"})
DIAGNOSTIC_STATUSES = frozenset({"ordered", "scheduled", "in-progress", "completed", "cancelled"})
PRIORITIES = frozenset({"routine", "urgent", "stat"})
SORTS = frozenset({"createdAt", "updatedAt", "name", "email"})

ADDRESS_KEYS = ("street", "city", "state", "zipCode", "country")
CONTACT_KEYS = ("name", "relationship", "phoneNumber")
PATIENT_KEYS = frozenset(
    {
        "firstName",
        "lastName",
        "dateOfBirth",
        "gender",
        "phoneNumber",
        "email",
        "address",
        "emergencyContact",
        "medicalHistory",
        "allergies",
        "medications",
    }
)
ENCOUNTER_KEYS = frozenset(
    {
        "patientId",
        "providerId",
        "encounterType",
        "startDate",
        "endDate",
        "chiefComplaint",
        "diagnosis",
        "treatmentPlan",
        "vitalSigns",
    }
)
MEDICATION_KEYS = frozenset(
    {
        "name",
        "dosage",
        "frequency",
        "route",
        "startDate",
        "endDate",
        "patientId",
        "prescribedBy",
        "instructions",
        "sideEffects",
        "overrideReason",
    }
)
#: (field, minimum, maximum) of VitalSigns (°F for temperature, contract I28).
VITAL_RANGES = (
    ("heartRate", 30, 250),
    ("temperature", 90, 110),
    ("respiratoryRate", 5, 50),
    ("oxygenSaturation", 70, 100),
    ("weight", 1, 1000),
    ("height", 30, 300),
)
#: Keys a ``seed(...)`` item may carry to pin server-set fields.
SERVER_KEYS = frozenset(
    {"id", "organizationId", "createdBy", "updatedBy", "createdAt", "updatedAt", "status"}
)

Risk = Literal["medium", "high", "contraindicated"]
_RISK_SCORES = {"low": 10, "medium": 45, "high": 80, "contraindicated": 100}


def _snake(key: str) -> str:
    return "".join("_" + ch.lower() if ch.isupper() else ch for ch in key)


class FakeClinicalService(FakeService):
    """A stateful Clinical service; see the module docstring for the contract choices."""

    service_name = "clinical-service"
    default_limit = 10
    event_routes = tuple(
        (method, f"/api/v1/{path}")
        for resource in ("patients", "encounters", "medications", "diagnostics")
        for method, path in (
            ("POST", resource),
            ("PUT", f"{resource}/*"),
            ("DELETE", f"{resource}/*"),
            ("PATCH", f"{resource}/*/*"),
        )
    )

    # -- state -----------------------------------------------------------------------------
    def _reset_state(self) -> None:
        self.factories = Factories(f"{self.service_name}:factories:{self._seed}")
        self._patients: dict[str, Record] = {}
        self._encounters: dict[str, Record] = {}
        self._medications: dict[str, Record] = {}
        self._diagnostics: dict[str, Record] = {}
        self._owner: dict[str, str] = {}
        self._order: dict[str, int] = {}
        self._risks: dict[str, Risk] = {}

    def _remember(self, ident: str, organization_id: str | None = None) -> None:
        self._order[ident] = len(self._order)
        if organization_id is not None:
            self._owner[ident] = organization_id

    def _mine(self, table: dict[str, Record], ident: str, what: str) -> Record:
        record = table.get(ident)
        owner = record.get("organizationId") if record is not None else None
        owner = owner or self._owner.get(ident)
        if record is None or owner != self.organization_id:
            raise FakeServiceError.not_found(what, ident)
        return record

    def _visible(self, table: dict[str, Record]) -> list[Record]:
        return [
            r
            for i, r in table.items()
            if (r.get("organizationId") or self._owner.get(i)) == self.organization_id
        ]

    # -- direct helpers (no HTTP) ------------------------------------------------------------
    @property
    def patients(self) -> list[Record]:
        """Copies of every stored patient, all organisations, in creation order."""
        with self._lock:
            return [self._copy(p) for p in self._patients.values()]

    @property
    def encounters(self) -> list[Record]:
        with self._lock:
            return [self._copy(e) for e in self._encounters.values()]

    @property
    def medications(self) -> list[Record]:
        with self._lock:
            return [self._copy(m) for m in self._medications.values()]

    @property
    def diagnostics(self) -> list[Record]:
        with self._lock:
            return [self._copy(d) for d in self._diagnostics.values()]

    def create_patient(self, **overrides: Any) -> Record:
        """Store a factory patient (overrides applied) and return the record as GET shows it."""
        return self._seed_one(self._insert_patient, self.factories.patient(**overrides))

    def create_encounter(self, **overrides: Any) -> Record:
        """Store an encounter; a patient is created for it unless ``patient_id`` is given."""
        overrides = self._with_patient(overrides)
        return self._seed_one(self._insert_encounter, self.factories.encounter(**overrides))

    def create_medication(self, **overrides: Any) -> Record:
        """Prescribe (the safety check applies) and return the stored medication."""
        overrides = self._with_patient(overrides)
        return self._seed_one(self._insert_medication, self.factories.medication(**overrides))

    def create_diagnostic(self, **overrides: Any) -> Record:
        """Order a diagnostic; a patient is created for it unless ``patient_id`` is given."""
        overrides = self._with_patient(overrides)
        return self._seed_one(self._insert_diagnostic, self.factories.diagnostic(**overrides))

    def seed(
        self,
        *,
        patients: Iterable[Mapping[str, Any]] = (),
        encounters: Iterable[Mapping[str, Any]] = (),
        medications: Iterable[Mapping[str, Any]] = (),
        diagnostics: Iterable[Mapping[str, Any]] = (),
    ) -> dict[str, list[Record]]:
        """Store create bodies (e.g. from the factories) in order and return the records.

        An item may pin server-set fields (``id``, ``createdAt``, ``status``, ...) to build
        fixtures with known ids; everything else is validated as a POST would be.
        """
        return {
            "patients": [self._seed_one(self._insert_patient, p) for p in patients],
            "encounters": [self._seed_one(self._insert_encounter, e) for e in encounters],
            "medications": [self._seed_one(self._insert_medication, m) for m in medications],
            "diagnostics": [self._seed_one(self._insert_diagnostic, d) for d in diagnostics],
        }

    def flag_medication(self, name: str, risk: Risk) -> None:
        """Make the simulated CDS rate prescriptions of ``name`` (case-insensitive) as ``risk``."""
        with self._lock:
            self._risks[name.strip().lower()] = risk

    def _with_patient(self, overrides: dict[str, Any]) -> dict[str, Any]:
        if "patient_id" not in overrides and "patientId" not in overrides:
            overrides = {**overrides, "patientId": self.create_patient()["id"]}
        return overrides

    def _seed_one(
        self, insert: Callable[[Record, Record], Record], item: Mapping[str, Any]
    ) -> Record:
        body = dict(item)
        fixed = {key: body.pop(key) for key in list(body) if key in SERVER_KEYS}
        with self._lock:
            return self._copy(insert(body, fixed))

    # -- validation and storage ------------------------------------------------------------
    def _clean_patient(self, body: Mapping[str, Any], *, partial: bool) -> Record:
        check = Checker(lenient_numbers=True)
        check.only(body, PATIENT_KEYS)
        required = not partial
        clean: Record = {}
        for key in ("firstName", "lastName"):
            clean[key] = check.string(body, key, required=required, min_len=2, max_len=50)
        born = check.moment(body, "dateOfBirth", required=required)
        if born is not None:
            if born > self.now():
                check.add("dateOfBirth", "must not be in the future")
            clean["dateOfBirth"] = iso(datetime.combine(born.date(), time(), timezone.utc))
        clean["gender"] = check.enum(body, "gender", GENDERS, required=required)
        clean["phoneNumber"] = check.phone(body, "phoneNumber", required=required)
        clean["email"] = check.email(body, "email")
        for key, parts in (("address", ADDRESS_KEYS), ("emergencyContact", CONTACT_KEYS)):
            nested = check.mapping(body, key)
            if nested is not None:
                check.only(nested, parts, prefix=f"{key}.")
                clean[key] = {
                    part: check.string(nested, part, required=required, name=f"{key}.{part}")
                    for part in parts
                    if required or part in nested
                }
        for key in ("medicalHistory", "allergies", "medications"):
            clean[key] = check.string_list(body, key)
        check.done()
        return {k: v for k, v in clean.items() if v is not None}

    def _check_phone_free(self, phone: str, except_id: str | None = None) -> None:
        wanted = normalise_phone(phone)
        for ident, patient in self._patients.items():
            if (
                ident != except_id
                and patient["organizationId"] == self.organization_id
                and normalise_phone(patient["phoneNumber"]) == wanted
            ):
                raise FakeServiceError.duplicate(
                    "A patient with this phone number already exists", "phoneNumber"
                )

    def _insert_patient(self, body: Record, fixed: Record) -> Record:
        clean = self._clean_patient(body, partial=False)
        self._check_phone_free(clean["phoneNumber"])
        now = self._timestamp()
        ident = fixed.pop("id", None) or self._new_id()
        address = clean.get("address", {})
        contact = clean.get("emergencyContact", {})
        record: Record = {
            "id": ident,
            "firstName": clean["firstName"],
            "lastName": clean["lastName"],
            "dateOfBirth": clean["dateOfBirth"],
            "gender": clean["gender"],
            "phoneNumber": clean["phoneNumber"],
            "email": clean.get("email"),
            "address": {k: address.get(k) for k in ADDRESS_KEYS},
            "emergencyContact": {k: contact.get(k) for k in CONTACT_KEYS},
            "medicalHistory": clean.get("medicalHistory", []),
            "allergies": clean.get("allergies", []),
            "medications": clean.get("medications", []),
            "organizationId": self.organization_id,
            "createdBy": self.user_id,
            "updatedBy": self.user_id,
            "createdAt": now,
            "updatedAt": now,
        }
        record.update(fixed)
        self._patients[ident] = record
        self._remember(ident)
        return record

    def _update_patient(self, ident: str, body: Record) -> Record:
        record = self._mine(self._patients, ident, "Patient")
        clean = self._clean_patient(body, partial=True)
        if "phoneNumber" in clean:
            self._check_phone_free(clean["phoneNumber"], except_id=ident)
        for key, value in clean.items():
            if isinstance(value, dict):
                record[key].update(value)
            else:
                record[key] = value
        record["updatedBy"] = self.user_id
        record["updatedAt"] = self._timestamp()
        return record

    def _check_patient_ref(self, check: Checker, patient_id: str | None) -> None:
        if patient_id is None:
            return
        patient = self._patients.get(patient_id)
        if patient is None or patient["organizationId"] != self.organization_id:
            check.add("patientId", "no such patient in this organisation")

    def _clean_vitals(self, check: Checker, body: Mapping[str, Any]) -> Record | None:
        vitals = check.mapping(body, "vitalSigns")
        if vitals is None:
            return None
        check.only(vitals, {"bloodPressure", *(name for name, _, _ in VITAL_RANGES)}, "vitalSigns.")
        clean: Record = {}
        pressure = check.mapping(vitals, "bloodPressure", name="vitalSigns.bloodPressure")
        if pressure is not None:
            check.only(pressure, ("systolic", "diastolic"), "vitalSigns.bloodPressure.")
            clean["bloodPressure"] = {
                part: check.number(
                    pressure,
                    part,
                    minimum=low,
                    maximum=high,
                    name=f"vitalSigns.bloodPressure.{part}",
                )
                for part, low, high in (("systolic", 50, 300), ("diastolic", 30, 200))
                if part in pressure
            }
        for name, low, high in VITAL_RANGES:
            if name in vitals:
                clean[name] = check.number(
                    vitals, name, minimum=low, maximum=high, name=f"vitalSigns.{name}"
                )
        return clean

    def _clean_encounter(self, body: Mapping[str, Any]) -> Record:
        check = Checker(lenient_numbers=True)
        check.only(body, ENCOUNTER_KEYS)
        clean: Record = {
            "patientId": check.uuid(body, "patientId", required=True),
            "providerId": check.uuid(body, "providerId", required=True),
            "encounterType": check.enum(body, "encounterType", ENCOUNTER_TYPES, required=True),
            "startDate": check.date_time(body, "startDate", required=True),
            "endDate": check.date_time(body, "endDate"),
            "chiefComplaint": check.string(body, "chiefComplaint", required=True),
            "diagnosis": check.string_list(body, "diagnosis"),
            "treatmentPlan": check.string(body, "treatmentPlan"),
            "vitalSigns": self._clean_vitals(check, body),
        }
        check.not_before(clean["startDate"], clean["endDate"], "endDate", "startDate")
        self._check_patient_ref(check, clean["patientId"])
        check.done()
        return clean

    def _insert_encounter(self, body: Record, fixed: Record) -> Record:
        clean = self._clean_encounter(body)
        now = self._timestamp()
        ident = fixed.pop("id", None) or self._new_id()
        fixed.pop("organizationId", None)
        record: Record = {
            "id": ident,
            **clean,
            "status": "in-progress",
            "createdAt": now,
            "updatedAt": now,
        }
        record["diagnosis"] = record["diagnosis"] or []
        record.update(fixed)
        self._encounters[ident] = record
        self._remember(ident, self.organization_id)
        return record

    def _clean_medication(self, body: Mapping[str, Any]) -> Record:
        check = Checker(lenient_numbers=True)
        check.only(body, MEDICATION_KEYS)
        clean: Record = {
            "name": check.string(body, "name", required=True),
            "dosage": check.string(body, "dosage", required=True),
            "frequency": check.string(body, "frequency", required=True),
            "route": check.enum(body, "route", ROUTES_OF_ADMINISTRATION, required=True),
            "startDate": check.date_time(body, "startDate", required=True),
            "endDate": check.date_time(body, "endDate"),
            "patientId": check.uuid(body, "patientId", required=True),
            "prescribedBy": check.uuid(body, "prescribedBy", required=True),
            "instructions": check.string(body, "instructions"),
            "sideEffects": check.string_list(body, "sideEffects"),
            "overrideReason": check.string(body, "overrideReason"),
        }
        check.not_before(clean["startDate"], clean["endDate"], "endDate", "startDate")
        self._check_patient_ref(check, clean["patientId"])
        check.done()
        return clean

    def _assess(self, clean: Record) -> tuple[str, Record]:
        """The simulated CDS: returns (risk, safetyAssessment)."""
        name = clean["name"].lower()
        patient = self._patients[clean["patientId"]]
        allergies = [
            {"allergen": a, "medication": clean["name"], "severity": "severe"}
            for a in patient["allergies"]
            if a.lower() in name or name in a.lower()
        ]
        flagged = self._risks.get(name.strip())
        interactions = (
            [
                {
                    "medication": clean["name"],
                    "severity": "major" if flagged == "high" else "moderate",
                    "description": "Interaction flagged by the fake CDS",
                }
            ]
            if flagged in ("medium", "high")
            else []
        )
        contraindications = (
            [{"medication": clean["name"], "reason": "Absolute contraindication (fake CDS)"}]
            if flagged == "contraindicated"
            else []
        )
        risk = flagged or ("high" if allergies else "low")
        level = "high" if risk == "contraindicated" else risk
        factors = [
            f"{len(x)} {label}"
            for x, label in (
                (interactions, "interactions"),
                (allergies, "allergy alerts"),
                (contraindications, "contraindications"),
            )
            if x
        ]
        assessment: Record = {
            "overallRisk": {
                "score": _RISK_SCORES[risk],
                "level": level,
                "factors": factors,
                "blocksAdministration": risk == "contraindicated",
            },
            "interactions": interactions,
            "allergyAlerts": allergies,
            "contraindications": contraindications,
            "doseValidation": [],
            "guidelines": [],
        }
        return risk, assessment

    def _prescribe(self, body: Record, fixed: Record) -> tuple[int, Record]:
        """Validate, run the safety check and store: (status, response body) as in contract §2.5."""
        clean = self._clean_medication(body)
        risk, assessment = self._assess(clean)
        factors = {
            "interactions": assessment["interactions"],
            "allergyAlerts": assessment["allergyAlerts"],
            "contraindications": assessment["contraindications"],
            "doseIssues": assessment["doseValidation"],
        }
        if risk == "contraindicated":
            return 403, {
                "success": False,
                "error": "Prescription blocked: absolute contraindication",
                "safetyAssessment": assessment,
                "blocked": True,
            }
        if risk == "high" and not clean["overrideReason"]:
            return 400, {
                "success": False,
                "error": "High-risk prescription requires an override reason",
                "safetyAssessment": assessment,
                "requiresOverride": True,
                "riskFactors": factors,
            }
        findings = {key: len(value) for key, value in factors.items()}
        findings["allergies"] = findings.pop("allergyAlerts")
        now = self._timestamp()
        ident = fixed.pop("id", None) or self._new_id()
        record: Record = {
            "id": ident,
            **{k: v for k, v in clean.items() if k != "overrideReason"},
            "prescribedBy": self.user_id,
            "sideEffects": clean["sideEffects"] or [],
            "status": "active",
            "organizationId": self.organization_id,
            "safetyCheckPerformed": True,
            "safetyRiskLevel": assessment["overallRisk"]["level"],
            "riskScore": assessment["overallRisk"]["score"],
            "overrideReason": clean["overrideReason"],
            "cdsFindings": findings,
            "prescribedAt": now,
            "createdAt": now,
            "updatedAt": now,
        }
        record.update(fixed)
        self._medications[ident] = record
        self._remember(ident)
        answer: Record = {
            "success": True,
            "data": {"medication": self._copy(record), "safetyAssessment": assessment},
        }
        if risk != "low":
            answer["warnings"] = {
                "level": risk,
                "message": f"{risk.capitalize()} risk prescription: review the safety assessment",
                "details": findings,
            }
        return 201, answer

    def _insert_medication(self, body: Record, fixed: Record) -> Record:
        status, answer = self._prescribe(body, fixed)
        if status != 201:
            raise FakeServiceError(status, "PRESCRIPTION_INVALID", answer["error"], answer)
        medication: Record = self._medications[answer["data"]["medication"]["id"]]
        return medication

    def _clean_diagnostic(self, body: Mapping[str, Any], *, partial: bool) -> Record:
        check = Checker(lenient_numbers=True)
        required = not partial
        clean: Record = {
            "patientId": check.uuid(body, "patientId", required=required),
            "orderedBy": check.uuid(body, "orderedBy", required=required),
            "testType": check.string(body, "testType", required=required),
            "testName": check.string(body, "testName"),
            "orderDate": check.date_time(body, "orderDate", required=required),
            "scheduledDate": check.date_time(body, "scheduledDate"),
            "completedDate": check.date_time(body, "completedDate"),
            "results": check.mapping(body, "results"),
            "priority": check.enum(body, "priority", PRIORITIES),
            "notes": check.string(body, "notes"),
            "facility": check.string(body, "facility"),
        }
        if partial:
            clean["status"] = check.enum(body, "status", DIAGNOSTIC_STATUSES)
        self._check_patient_ref(check, clean["patientId"])
        check.done()
        return clean

    def _insert_diagnostic(self, body: Record, fixed: Record) -> Record:
        clean = self._clean_diagnostic(body, partial=False)
        now = self._timestamp()
        ident = fixed.pop("id", None) or self._new_id()
        fixed.pop("organizationId", None)
        record: Record = {
            "id": ident,
            **clean,
            "status": "ordered",
            "priority": clean["priority"] or "routine",
            "createdAt": now,
            "updatedAt": now,
        }
        record.update(fixed)
        self._diagnostics[ident] = record
        self._remember(ident, self.organization_id)
        return record

    # -- HTTP plumbing ----------------------------------------------------------------------
    @staticmethod
    def _ok(data: Any, status: int = 200) -> Response:
        return JSONResponse({"success": True, "data": data}, status_code=status)

    def _list(
        self,
        request: Request,
        key: str,
        table: dict[str, Record],
        filters: Mapping[str, Callable[[Record, str], bool]],
        validators: Mapping[str, Callable[[QueryChecker, Mapping[str, str]], object]],
    ) -> Response:
        query = self._query(request)
        check = QueryChecker()
        allowed = {"page", "limit", "sort", "order", *filters}
        for name in query:
            if name not in allowed:
                check.add(name, "is not allowed")
        page, limit = check.page(query, self.default_limit)
        sort = check.query_enum(query, "sort", SORTS) or "createdAt"
        descending = (check.query_enum(query, "order", ("asc", "desc")) or "desc") == "desc"
        for validate in validators.values():
            validate(check, query)
        check.done()
        with self._lock:
            rows = [
                r
                for r in self._visible(table)
                if all(keep(r, query[name]) for name, keep in filters.items() if query.get(name))
            ]
            rows.sort(
                key=lambda r: (self._sort_key(r, sort), self._order[r["id"]]), reverse=descending
            )
            window = [self._copy(r) for r in rows[(page - 1) * limit : page * limit]]
        return self._ok({key: window, "pagination": page_block(page, limit, len(rows))})

    @staticmethod
    def _sort_key(record: Record, sort: str) -> tuple[str, ...]:
        if sort == "name" and "lastName" in record:
            return (record["lastName"].lower(), record["firstName"].lower())
        if sort == "email" and "email" in record:
            return ((record["email"] or "").lower(),)
        return (str(record.get(sort) or record["createdAt"]),)

    def _routes(self) -> list[BaseRoute]:
        return self._today_routes() if self.profile == "today" else self._contract_routes()

    def _contract_routes(self) -> list[BaseRoute]:
        api = "/api/v1"
        return [
            Route("/health", self._health, methods=["GET"]),
            Route("/ready", self._ready, methods=["GET"]),
            Route("/health/ready", self._ready, methods=["GET"]),
            Route(f"{api}/patients", self._list_patients, methods=["GET"]),
            Route(f"{api}/patients", self._create_patient, methods=["POST"]),
            Route(f"{api}/patients/{{id}}", self._get_patient, methods=["GET"]),
            Route(f"{api}/patients/{{id}}", self._put_patient, methods=["PUT"]),
            Route(f"{api}/patients/{{id}}", self._delete_patient, methods=["DELETE"]),
            Route(f"{api}/patients/{{id}}/encounters", self._patient_encounters, methods=["GET"]),
            Route(f"{api}/encounters", self._list_encounters, methods=["GET"]),
            Route(f"{api}/encounters", self._create_encounter, methods=["POST"]),
            Route(f"{api}/encounters/{{id}}", self._get_encounter, methods=["GET"]),
            Route(f"{api}/encounters/{{id}}", self._put_encounter, methods=["PUT"]),
            Route(f"{api}/encounters/{{id}}/complete", self._complete_encounter, methods=["PATCH"]),
            Route(f"{api}/medications", self._list_medications, methods=["GET"]),
            Route(f"{api}/medications", self._create_medication, methods=["POST"]),
            Route(f"{api}/medications/{{id}}", self._get_medication, methods=["GET"]),
            Route(f"{api}/medications/{{id}}", self._put_medication, methods=["PUT"]),
            Route(
                f"{api}/medications/{{id}}/discontinue",
                self._discontinue_medication,
                methods=["PATCH"],
            ),
            Route(f"{api}/diagnostics", self._list_diagnostics, methods=["GET"]),
            Route(f"{api}/diagnostics", self._create_diagnostic, methods=["POST"]),
            Route(f"{api}/diagnostics/{{id}}", self._get_diagnostic, methods=["GET"]),
            Route(f"{api}/diagnostics/{{id}}", self._put_diagnostic, methods=["PUT"]),
            Route(f"{api}/diagnostics/{{id}}/results", self._diagnostic_results, methods=["PATCH"]),
            Route(f"{api}/stats", self._stats, methods=["GET"]),
            Route(f"{api}/stats/patients/count", self._patient_count, methods=["GET"]),
            Route(f"{api}/stats/patients/recent", self._recent_patients, methods=["GET"]),
            Route(f"{api}/stats/encounters/count", self._encounter_count, methods=["GET"]),
            Route(f"{api}/stats/encounters/today", self._encounters_today, methods=["GET"]),
        ]

    # -- health -----------------------------------------------------------------------------
    def _not_ready_body(self, path: str) -> Any | None:
        if path not in ("/ready", "/health/ready"):
            return None
        return {
            "success": False,
            "service": self.service_name,
            "status": "not ready",
            "error": "Database connection unavailable",
        }

    async def _health(self, request: Request) -> Response:
        return JSONResponse(
            {
                "success": True,
                "service": self.service_name,
                "status": "healthy",
                "timestamp": self._timestamp(),
                "uptime": self._uptime(),
            }
        )

    async def _ready(self, request: Request) -> Response:
        if not self.ready:
            return JSONResponse(self._not_ready_body("/ready"), status_code=503)
        return JSONResponse(
            {
                "success": True,
                "service": self.service_name,
                "status": "ready",
                "timestamp": self._timestamp(),
            }
        )

    # -- patients ---------------------------------------------------------------------------
    async def _list_patients(self, request: Request) -> Response:
        return self._list(
            request,
            "patients",
            self._patients,
            {"search": lambda r, q: contains(q, r["firstName"], r["lastName"], r["email"])},
            {},
        )

    async def _create_patient(self, request: Request) -> Response:
        body = await self._json_body(request)
        with self._lock:
            return self._ok(self._copy(self._insert_patient(body, {})), 201)

    async def _get_patient(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["id"])
        with self._lock:
            return self._ok(self._copy(self._mine(self._patients, ident, "Patient")))

    async def _put_patient(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["id"])
        body = await self._json_body(request)
        with self._lock:
            return self._ok(self._copy(self._update_patient(ident, body)))

    async def _delete_patient(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["id"])
        with self._lock:
            self._mine(self._patients, ident, "Patient")
            del self._patients[ident]
        return JSONResponse({"success": True, "message": "Patient deleted successfully"})

    async def _patient_encounters(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["id"])
        check = QueryChecker()
        page, limit = check.page(self._query(request), self.default_limit)
        check.done()
        with self._lock:
            self._mine(self._patients, ident, "Patient")
            rows = [e for e in self._encounters.values() if e["patientId"] == ident]
            rows.sort(key=lambda e: (e["startDate"], self._order[e["id"]]), reverse=True)
            window = rows[(page - 1) * limit : page * limit]
            raw = [
                {
                    **{_snake(k): v for k, v in self._copy(e).items()},
                    "organization_id": self._owner.get(e["id"]),
                    # the storage row's audit columns (the encounter record keeps none)
                    "created_by": e.get("providerId"),
                    "updated_by": None,
                }
                for e in window
            ]
        return self._ok({"patientId": ident, "encounters": raw})

    # -- encounters -------------------------------------------------------------------------
    async def _list_encounters(self, request: Request) -> Response:
        return self._list(
            request,
            "encounters",
            self._encounters,
            {
                "patientId": lambda r, q: r["patientId"] == q.lower(),
                "providerId": lambda r, q: r["providerId"] == q.lower(),
                "status": lambda r, q: r["status"] == q,
            },
            {
                "patientId": lambda c, q: c.query_uuid(q, "patientId"),
                "providerId": lambda c, q: c.query_uuid(q, "providerId"),
                "status": lambda c, q: c.query_enum(q, "status", ENCOUNTER_STATUSES),
            },
        )

    async def _create_encounter(self, request: Request) -> Response:
        body = await self._json_body(request)
        with self._lock:
            return self._ok(self._copy(self._insert_encounter(body, {})), 201)

    async def _get_encounter(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["id"])
        with self._lock:
            return self._ok(self._copy(self._mine(self._encounters, ident, "Encounter")))

    async def _put_encounter(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["id"])
        body = await self._json_body(request)
        with self._lock:
            record = self._mine(self._encounters, ident, "Encounter")
            clean = self._clean_encounter(body)
            record.update(clean, diagnosis=clean["diagnosis"] or [], updatedAt=self._timestamp())
            return self._ok(self._copy(record))

    async def _complete_encounter(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["id"])
        body = await self._json_body(request)
        with self._lock:
            record = self._mine(self._encounters, ident, "Encounter")
            # The service validates none of these (contract §2.3); the fake keeps well-typed ones.
            if isinstance(body.get("diagnosis"), list):
                record["diagnosis"] = body["diagnosis"]
            if isinstance(body.get("treatmentPlan"), str):
                record["treatmentPlan"] = body["treatmentPlan"]
            end = Checker().date_time(body, "endDate")
            record.update(
                status="completed", endDate=end or self._timestamp(), updatedAt=self._timestamp()
            )
            return self._ok(self._copy(record))

    # -- medications ------------------------------------------------------------------------
    async def _list_medications(self, request: Request) -> Response:
        return self._list(
            request,
            "medications",
            self._medications,
            {
                "patientId": lambda r, q: r["patientId"] == q.lower(),
                "status": lambda r, q: r["status"] == q,
            },
            {
                "patientId": lambda c, q: c.query_uuid(q, "patientId"),
                "status": lambda c, q: c.query_enum(q, "status", MEDICATION_STATUSES),
            },
        )

    async def _create_medication(self, request: Request) -> Response:
        body = await self._json_body(request)
        with self._lock:
            status, answer = self._prescribe(body, {})
        return JSONResponse(answer, status_code=status)

    async def _get_medication(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["id"])
        with self._lock:
            return self._ok(self._copy(self._mine(self._medications, ident, "Medication")))

    async def _put_medication(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["id"])
        body = await self._json_body(request)
        with self._lock:
            record = self._mine(self._medications, ident, "Medication")
            clean = self._clean_medication(body)
            clean.pop("prescribedBy")
            record.update(
                clean, sideEffects=clean["sideEffects"] or [], updatedAt=self._timestamp()
            )
            return self._ok(self._copy(record))

    async def _discontinue_medication(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["id"])
        body = await self._json_body(request)
        with self._lock:
            record = self._mine(self._medications, ident, "Medication")
            end = Checker().date_time(body, "endDate")
            record.update(
                status="discontinued", endDate=end or self._timestamp(), updatedAt=self._timestamp()
            )
        return JSONResponse({"success": True, "message": "Medication discontinued successfully"})

    # -- diagnostics ------------------------------------------------------------------------
    async def _list_diagnostics(self, request: Request) -> Response:
        return self._list(
            request,
            "diagnostics",
            self._diagnostics,
            {
                "patientId": lambda r, q: r["patientId"] == q.lower(),
                "status": lambda r, q: r["status"] == q,
                "testType": lambda r, q: r["testType"].lower() == q.lower(),
            },
            {
                "patientId": lambda c, q: c.query_uuid(q, "patientId"),
                "status": lambda c, q: c.query_enum(q, "status", DIAGNOSTIC_STATUSES),
            },
        )

    async def _create_diagnostic(self, request: Request) -> Response:
        body = await self._json_body(request)
        with self._lock:
            return self._ok(self._copy(self._insert_diagnostic(body, {})), 201)

    async def _get_diagnostic(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["id"])
        with self._lock:
            return self._ok(self._copy(self._mine(self._diagnostics, ident, "Diagnostic")))

    async def _put_diagnostic(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["id"])
        body = await self._json_body(request)
        with self._lock:
            record = self._mine(self._diagnostics, ident, "Diagnostic")
            clean = self._clean_diagnostic(body, partial=True)
            record.update(
                {k: v for k, v in clean.items() if v is not None}, updatedAt=self._timestamp()
            )
            return self._ok(self._copy(record))

    async def _diagnostic_results(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["id"])
        body = await self._json_body(request)
        with self._lock:
            record = self._mine(self._diagnostics, ident, "Diagnostic")
            check = Checker()
            results = check.mapping(body, "results", required=True)
            completed = check.date_time(body, "completedDate", required=True)
            notes = check.string(body, "notes")
            facility = check.string(body, "facility")
            check.done()
            record.update(
                results=results,
                completedDate=completed,
                status="completed",
                updatedAt=self._timestamp(),
            )
            record.update({k: v for k, v in (("notes", notes), ("facility", facility)) if v})
            return self._ok(self._copy(record))

    # -- stats ------------------------------------------------------------------------------
    def _stamp(self, data: Record) -> Response:
        return self._ok(
            {**data, "organizationId": self.organization_id, "timestamp": self._timestamp()}
        )

    def _today(self) -> list[Record]:
        today = self.now().astimezone(timezone.utc).date().isoformat()
        rows = [e for e in self._visible(self._encounters) if e["startDate"][:10] == today]
        return sorted(rows, key=lambda e: (e["startDate"], self._order[e["id"]]))

    async def _stats(self, request: Request) -> Response:
        with self._lock:
            data = {
                "patients": {"total": len(self._visible(self._patients))},
                "encounters": {
                    "total": len(self._visible(self._encounters)),
                    "today": len(self._today()),
                },
            }
        return self._stamp(data)

    async def _patient_count(self, request: Request) -> Response:
        with self._lock:
            return self._stamp({"count": len(self._visible(self._patients))})

    async def _encounter_count(self, request: Request) -> Response:
        with self._lock:
            return self._stamp({"count": len(self._visible(self._encounters))})

    async def _recent_patients(self, request: Request) -> Response:
        check = QueryChecker()
        limit = check.query_int(self._query(request), "limit", 20, minimum=1)
        check.done()
        with self._lock:
            rows = sorted(
                self._visible(self._patients),
                key=lambda p: (p["createdAt"], self._order[p["id"]]),
                reverse=True,
            )
            summary = [
                {
                    k: p[k]
                    for k in (
                        "id",
                        "firstName",
                        "lastName",
                        "dateOfBirth",
                        "gender",
                        "phoneNumber",
                        "email",
                        "createdAt",
                    )
                }
                for p in rows[:limit]
            ]
        return self._stamp({"patients": summary, "count": len(summary)})

    async def _encounters_today(self, request: Request) -> Response:
        with self._lock:
            rows = []
            for e in self._today():
                patient = self._patients.get(e["patientId"], {})
                rows.append(
                    {
                        "id": e["id"],
                        "patientId": e["patientId"],
                        "type": e["encounterType"],
                        "status": e["status"],
                        "scheduledAt": e["startDate"],
                        "startedAt": e["startDate"],
                        "endedAt": e["endDate"],
                        "patientFirstName": patient.get("firstName"),
                        "patientLastName": patient.get("lastName"),
                    }
                )
        return self._stamp(
            {
                "encounters": rows,
                "count": len(rows),
                "date": self.now().astimezone(timezone.utc).date().isoformat(),
            }
        )

    # -- the today profile --------------------------------------------------------------------
    def _error_body(
        self, status: int, code: str, message: str, details: Any, request_id: str
    ) -> Any:
        if self.profile == "today":
            # Today's error handler: fixed codes for 401/403/404, INTERNAL_ERROR for the rest
            # (validation 400s included), Joi's text, no details.
            text = validation_text(details) if code == "VALIDATION_ERROR" else None
            if text:
                message = f"Body: {text}"
            code = _TODAY_CODES.get(status, "INTERNAL_ERROR")
            details = None
        return super()._error_body(status, code, message, details, request_id)

    def _echo_headers(self, request_id: str) -> list[tuple[str, str]]:
        if self.profile == "today":
            return [("x-request-id", request_id)]  # Clinical echoes X-Request-Id only
        return super()._echo_headers(request_id)

    def _guard(
        self, endpoint: Endpoint, roles: tuple[str, ...], permission: str | None = None
    ) -> Endpoint:
        """``endpoint`` behind today's role and permission checks (routes/*.ts)."""

        async def guarded(request: Request) -> Response:
            refused = refusal(self.current_caller(), roles, permission)
            return refused if refused is not None else await endpoint(request)

        return guarded

    def _placeholder(self, controller: str, handler: str, *, query: bool = False) -> Endpoint:
        """A route whose controller was never committed upstream: 501 after the schema."""

        async def endpoint(request: Request) -> Response:
            if query:
                joi_query(self._query(request), CLINICAL_PAGINATION)
            if "id" in request.path_params:
                joi_id_param(request.path_params["id"])
            return not_implemented(controller, handler)

        return endpoint

    def _today_routes(self) -> list[BaseRoute]:
        api = "/api/v1"
        staff = ("doctor", "nurse", "admin")
        clinicians = ("doctor", "nurse")
        lab = ("doctor", "nurse", "technician", "admin")
        lab_writers = ("doctor", "nurse", "technician")
        meds = ("doctor", "nurse", "pharmacist", "admin")
        g = self._guard
        enc, dia = "EncounterController", "DiagnosticController"
        routes: list[tuple[str, str, Endpoint]] = [
            ("GET", "/patients", g(self._today_list_patients, staff)),
            ("POST", "/patients", g(self._today_create_patient, staff, "patients:create")),
            ("GET", "/patients/{id}", g(self._today_by_id(self._get_patient), staff)),
            (
                "PUT",
                "/patients/{id}",
                g(self._today_by_id(self._put_patient), staff, "patients:update"),
            ),
            (
                "DELETE",
                "/patients/{id}",
                g(self._today_by_id(self._delete_patient), ("admin",), "patients:delete"),
            ),
            (
                "GET",
                "/patients/{id}/encounters",
                g(self._today_by_id(self._patient_encounters), staff),
            ),
            (
                "GET",
                "/encounters",
                g(self._placeholder(enc, "getAllEncounters", query=True), staff),
            ),
            (
                "POST",
                "/encounters",
                g(self._placeholder(enc, "createEncounter"), staff, "encounters:create"),
            ),
            ("GET", "/encounters/{id}", g(self._placeholder(enc, "getEncounterById"), staff)),
            (
                "PUT",
                "/encounters/{id}",
                g(self._placeholder(enc, "updateEncounter"), staff, "encounters:update"),
            ),
            (
                "PATCH",
                "/encounters/{id}/complete",
                g(
                    self._placeholder(enc, "completeEncounter"),
                    clinicians,
                    "encounters:complete",
                ),
            ),
            ("GET", "/medications", g(self._today_list_medications, meds)),
            (
                "POST",
                "/medications",
                g(self._today_prescribe, clinicians, "medications:prescribe"),
            ),
            ("GET", "/medications/{id}", g(self._today_get_medication, meds)),
            (
                "PUT",
                "/medications/{id}",
                g(self._today_update_medication, clinicians, "medications:update"),
            ),
            (
                "PATCH",
                "/medications/{id}/discontinue",
                g(self._today_discontinue, clinicians, "medications:discontinue"),
            ),
            (
                "GET",
                "/diagnostics",
                g(self._placeholder(dia, "getAllDiagnostics", query=True), lab),
            ),
            (
                "POST",
                "/diagnostics",
                g(self._placeholder(dia, "orderDiagnostic"), clinicians, "diagnostics:order"),
            ),
            ("GET", "/diagnostics/{id}", g(self._placeholder(dia, "getDiagnosticById"), lab)),
            (
                "PUT",
                "/diagnostics/{id}",
                g(self._placeholder(dia, "updateDiagnostic"), lab_writers, "diagnostics:update"),
            ),
            (
                "PATCH",
                "/diagnostics/{id}/results",
                g(self._placeholder(dia, "addResults"), lab_writers, "diagnostics:add-results"),
            ),
        ]
        for path in (
            "/stats",
            "/stats/patients/count",
            "/stats/patients/recent",
            "/stats/encounters/count",
            "/stats/encounters/today",
        ):
            routes.append(("GET", path, g(self._today_stats, staff)))
        return [
            Route("/health", self._health, methods=["GET"]),
            Route("/ready", self._ready, methods=["GET"]),
            *(Route(api + path, endpoint, methods=[method]) for method, path, endpoint in routes),
        ]

    def _today_by_id(self, endpoint: Endpoint) -> Endpoint:
        async def checked(request: Request) -> Response:
            joi_id_param(request.path_params["id"])
            return await endpoint(request)

        return checked

    async def _today_list_patients(self, request: Request) -> Response:
        joi_query(self._query(request), CLINICAL_PAGINATION)
        # The service reads the raw query and writes ``ORDER BY p.${sort}``: only ``email``
        # names a real column (``createdAt`` becomes ``p.createdat``), contract I12, I13.
        if request.query_params.get("sort") != "email":
            raise FakeServiceError(500, "INTERNAL_ERROR", "Failed to retrieve patients")
        return await self._list_patients(request)

    async def _today_create_patient(self, request: Request) -> Response:
        try:
            return await self._create_patient(request)
        except FakeServiceError as error:
            if error.code != "DUPLICATE_ENTRY":
                raise
            raise FakeServiceError(
                400, "INTERNAL_ERROR", "Patient with this phone number already exists"
            ) from None

    async def _today_list_medications(self, request: Request) -> Response:
        query = self._query(request)
        joi_query(query, CLINICAL_PAGINATION)
        page, limit = int(float(query.get("page", "1"))), int(float(query.get("limit", "10")))
        pagination = {"page": page, "limit": limit, "total": 0, "pages": 0}
        return self._ok({"medications": [], "pagination": pagination})

    async def _today_get_medication(self, request: Request) -> Response:
        joi_id_param(request.path_params["id"])
        return self._ok(None)

    async def _today_prescribe(self, request: Request) -> Response:
        body = await self._json_body(request)
        check = Checker(lenient_numbers=True)
        check.only(body, MEDICATION_KEYS - {"overrideReason"})  # contract I14
        for key in ("name", "dosage", "frequency"):
            check.string(body, key, required=True)
        check.enum(body, "route", ROUTES_OF_ADMINISTRATION, required=True)
        check.date_time(body, "startDate", required=True)
        check.uuid(body, "patientId", required=True)
        check.uuid(body, "prescribedBy", required=True)
        check.done()
        # Nothing is stored (MedicationService was never written) and the CDS service is
        # not consulted: the id is ``MED-<epoch ms>`` and the assessment null (contract §2.5).
        moment = self.now()
        medication = {
            "id": f"MED-{int(moment.timestamp() * 1000)}",
            **body,
            "organizationId": self.organization_id,
            "prescribedBy": self.user_id,
            "safetyCheckPerformed": False,
            "safetyRiskLevel": "unknown",
            "riskScore": 0,
            "overrideReason": None,
            "cdsFindings": None,
            "prescribedAt": iso(moment),
        }
        return self._ok({"medication": medication, "safetyAssessment": None}, 201)

    async def _today_update_medication(self, request: Request) -> Response:
        ident = joi_id_param(request.path_params["id"])
        body = await self._json_body(request)
        return self._ok({"id": ident, **body})

    async def _today_discontinue(self, request: Request) -> Response:
        joi_id_param(request.path_params["id"])
        await self._json_body(request)
        return JSONResponse({"success": True, "message": "Medication discontinued successfully"})

    async def _today_stats(self, request: Request) -> Response:
        # StatsController's database handle is never assigned (contract I24).
        raise FakeServiceError(
            500, "INTERNAL_ERROR", "Cannot read properties of undefined (reading 'query')"
        )


_TODAY_CODES = {401: "AUTHENTICATION_REQUIRED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}

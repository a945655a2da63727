"""``FakeFacilityService``: an in-memory Facility service (contract §3) served over ASGI.

Choices where the real service is broken or vague (contract §5), as the fakes must make them:

- success bodies are ``{success, data, message?}``; lists send ``data`` as an array and a
  top-level ``pagination`` ``{page, limit, total, pages}`` (contract I1, I12); the default limit is
  50;
- rows carry an integer ``id`` and a UUID ``<entity>Id``; routes take the UUID (contract I3);
- organisation scoping replaces the broken facility access check (contract I21, I29): lists show
only
  the caller's organisation (an explicit ``organizationId`` can only narrow), and records of
  other organisations answer 404;
- duplicate codes are 409 ``DUPLICATE_ENTRY`` (facilityCode per organisation, department code
  and wardCode per facility, bedNumber per ward); an unknown parent (facility, department,
  ward) in a create body is 404, as is occupancy of an unknown ward (contract I11);
- ``/beds/available`` works as declared: equipment flags filter only when given (contract I18);
- bed rules (contract I19, I20): assign only from ``available`` else 409 ``CONFLICT``; release only
from
  ``occupied``; the status route refuses ``occupied`` (use assign) and refuses any change
  while the bed is occupied (release first);
- capacity, analytics, ward occupancy and bed history use the snake_case shapes of contract §3.7,
with
  FacilityStats counts as decimal strings (contract I16); ``facilityCode`` is required on create
  (contract I5)
  and ``contact`` is stored from ``contact`` or ``contactInfo``.

With ``profile="today"`` the fake answers as today's Facility service does instead
(contract §5; docs/compatibility.md): every facility route by id (read, update, delete, departments,
capacity, analytics) answers 403 "You do not have access to this facility" for a known id
(contract I21) and 404 for an unknown one; ``/beds/available`` is shadowed by ``/beds/{id}``
and answers 400 (contract I18); bed reads by id go through a 60 s ``bed:{id}`` copy that no
write invalidates, so a bed assigned a moment ago is "not occupied" to ``release``
(contract I19); the status route takes any status, occupied beds included (contract I20); errors are
``{success: false, error: {message, code: <status>}}``; no correlation header is echoed, every
answer carries the ``RateLimit-*`` headers of a 1000-per-15-minutes limit (the 429 past it is
not modelled) and ``Idempotency-Key`` is ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from nilecare_clients.testing.fakes._envelope import FakeServiceError, page_block
from nilecare_clients.testing.fakes._service import FakeService, _Answer
from nilecare_clients.testing.fakes._today import Endpoint, validation_text
from nilecare_clients.testing.fakes._validation import (
    Checker,
    QueryChecker,
    contains,
    is_uuid,
    require_path_uuid,
)
from nilecare_clients.testing.fakes.factories import Factories

Record = dict[str, Any]

FACILITY_TYPES = frozenset({"hospital", "clinic", "lab", "pharmacy", "rehabilitation"})
FACILITY_STATUSES = frozenset({"active", "inactive", "maintenance", "closed"})
WARD_TYPES = frozenset(
    {
        "general",
        "icu",
        "emergency",
        "maternity",
        "pediatric",
        "surgical",
        "medical",
        "psychiatric",
        "isolation",
    }
)
WARD_STATUSES = frozenset({"active", "full", "maintenance", "closed"})
BED_TYPES = frozenset(
    {"standard", "icu", "pediatric", "maternity", "isolation", "observation", "recovery"}
)
BED_STATUSES = frozenset(
    {"available", "occupied", "reserved", "maintenance", "cleaning", "out_of_service"}
)
GENDER_RESTRICTIONS = frozenset({"male", "female", "mixed"})
PERIODS = frozenset({"daily", "weekly", "monthly", "yearly"})
EQUIPMENT = ("hasOxygen", "hasMonitor", "hasVentilator", "isolationCapable")
ADDRESS_KEYS = ("street", "city", "state", "zipCode", "country")
SETTINGS_DEFAULTS: Record = {
    "timezone": "Africa/Khartoum",
    "dateFormat": "YYYY-MM-DD",
    "timeFormat": "24h",
    "language": "en",
    "currency": "SDG",
    "defaultAppointmentDuration": 30,
    "allowWalkIns": True,
    "maxAdvanceBookingDays": 90,
    "cancellationNoticePeriod": 24,
    "emailNotificationsEnabled": True,
    "smsNotificationsEnabled": True,
    "appointmentReminderHours": [24, 2],
    "automaticBedRelease": False,
    "bedCleaningDuration": 30,
    "requireInsurance": False,
    "requireReferral": False,
    "allowOnlineBooking": True,
    "customSettings": {},
}
#: Keys a ``seed(...)`` item may carry to pin server-set fields.
SERVER_KEYS = frozenset(
    {"id", "createdBy", "updatedBy", "createdAt", "updatedAt", "status", "bedStatus", "isActive"}
)
#: Today's Facility rate limit (express-rate-limit in its entry point): requests per window.
_RATE_LIMIT = 1000
_RATE_WINDOW = timedelta(minutes=15)
_IDENTITY = {
    "facilities": "facilityId",
    "departments": "departmentId",
    "wards": "wardId",
    "beds": "bedId",
}


class FakeFacilityService(FakeService):
    """A stateful Facility service; see the module docstring for the contract choices."""

    service_name = "facility-service"
    default_limit = 50

    # -- state -----------------------------------------------------------------------------
    def _reset_state(self) -> None:
        self.factories = Factories(f"{self.service_name}:factories:{self._seed}")
        self._tables: dict[str, dict[str, Record]] = {
            "facilities": {},
            "departments": {},
            "wards": {},
            "beds": {},
            "settings": {},
        }
        self._rows: dict[str, int] = {}
        self._history: list[Record] = []
        self._bed_cache: dict[str, tuple[Record, datetime]] = {}  # the today profile's Redis
        self._rate_window: tuple[datetime, int] | None = None  # the today profile's rate limit

    def _row_id(self, table: str) -> int:
        self._rows[table] = self._rows.get(table, 0) + 1
        return self._rows[table]

    def _stamps(self) -> Record:
        now = self._timestamp()
        return {
            "createdBy": self.user_id,
            "updatedBy": self.user_id,
            "createdAt": now,
            "updatedAt": now,
        }

    def _touch(self, record: Record) -> None:
        record["updatedBy"] = self.user_id
        record["updatedAt"] = self._timestamp()

    def _org_of(self, record: Record) -> str | None:
        facility = self._tables["facilities"].get(record.get("facilityId", ""))
        if "organizationId" in record:
            return str(record["organizationId"])
        return None if facility is None else str(facility["organizationId"])

    def _find(self, table: str, ident: str, what: str) -> Record:
        """An active record of the caller's organisation, else 404."""
        record = self._tables[table].get(ident)
        if record is None or not record["isActive"] or self._org_of(record) != self.organization_id:
            raise FakeServiceError.not_found(what, ident)
        return record

    def _active(self, table: str) -> list[Record]:
        return [
            r
            for r in self._tables[table].values()
            if r["isActive"] and self._org_of(r) == self.organization_id
        ]

    # -- direct helpers (no HTTP) ------------------------------------------------------------
    def records(self, table: str) -> list[Record]:
        """Copies of every stored row of ``facilities``, ``departments``, ``wards`` or ``beds``
        (soft-deleted and other organisations' rows included)."""
        with self._lock:
            return [self._copy(r) for r in self._tables[table].values()]

    @property
    def bed_history(self) -> list[Record]:
        with self._lock:
            return [self._copy(h) for h in self._history]

    def create_facility(self, **overrides: Any) -> Record:
        """Store a factory facility (overrides applied) and return it as GET shows it.

        It belongs to the fake's current caller organisation unless ``organization_id`` is given.
        """
        if "organization_id" not in overrides and "organizationId" not in overrides:
            overrides = {**overrides, "organizationId": self.organization_id}
        return self._seed_one(
            "facilities", self._insert_facility, self.factories.facility(**overrides)
        )

    def create_department(self, **overrides: Any) -> Record:
        """Store a department; a facility is created for it unless ``facility_id`` is given."""
        overrides = self._with_parents(overrides, department=False, ward=False)
        return self._seed_one(
            "departments", self._insert_department, self.factories.department(**overrides)
        )

    def create_ward(self, **overrides: Any) -> Record:
        """Store a ward; missing parents are created (a department needs its facility)."""
        overrides = self._with_parents(overrides, department=True, ward=False)
        return self._seed_one("wards", self._insert_ward, self.factories.ward(**overrides))

    def create_bed(self, **overrides: Any) -> Record:
        """Store an available bed; missing parents (ward, department, facility) are created."""
        overrides = self._with_parents(overrides, department=True, ward=True)
        return self._seed_one("beds", self._insert_bed, self.factories.bed(**overrides))

    def create_hospital(
        self, *, wards: int = 2, beds_per_ward: int = 4, **overrides: Any
    ) -> dict[str, Any]:
        """A hospital with one department, ``wards`` wards and ``beds_per_ward`` beds each.

        Returns ``{"facility", "department", "wards", "beds"}`` as stored.
        """
        facility = self.create_facility(type="hospital", **overrides)
        department = self.create_department(facility_id=facility["facilityId"])
        made_wards = [
            self.create_ward(
                facility_id=facility["facilityId"],
                department_id=department["departmentId"],
                total_beds=max(beds_per_ward, 1),
            )
            for _ in range(wards)
        ]
        beds = [
            self.create_bed(
                facility_id=w["facilityId"],
                department_id=w["departmentId"],
                ward_id=w["wardId"],
                ward_type=w["wardType"],
            )
            for w in made_wards
            for _ in range(beds_per_ward)
        ]
        with self._lock:
            made_wards = [self._copy(self._tables["wards"][w["wardId"]]) for w in made_wards]
        return {"facility": facility, "department": department, "wards": made_wards, "beds": beds}

    def seed(
        self,
        *,
        facilities: Iterable[Mapping[str, Any]] = (),
        departments: Iterable[Mapping[str, Any]] = (),
        wards: Iterable[Mapping[str, Any]] = (),
        beds: Iterable[Mapping[str, Any]] = (),
    ) -> dict[str, list[Record]]:
        """Store create bodies in order (facilities first) and return the stored records.

        An item may pin its own ``<entity>Id`` and server-set fields (``id``, ``createdAt``,
        ``bedStatus``, ...); everything else is validated as a POST would be.
        """
        return {
            "facilities": [
                self._seed_one("facilities", self._insert_facility, f) for f in facilities
            ],
            "departments": [
                self._seed_one("departments", self._insert_department, d) for d in departments
            ],
            "wards": [self._seed_one("wards", self._insert_ward, w) for w in wards],
            "beds": [self._seed_one("beds", self._insert_bed, b) for b in beds],
        }

    def _with_parents(
        self, overrides: dict[str, Any], *, department: bool, ward: bool
    ) -> dict[str, Any]:
        def given(camel: str, snake: str) -> str | None:
            value = overrides.get(camel, overrides.get(snake))
            return None if value is None else str(value)

        if ward and given("wardId", "ward_id") is None:
            parent = self.create_ward(
                **{
                    k: v
                    for k, v in overrides.items()
                    if k in ("facility_id", "facilityId", "department_id", "departmentId")
                }
            )
            return {
                **overrides,
                "facilityId": parent["facilityId"],
                "departmentId": parent["departmentId"],
                "wardId": parent["wardId"],
                "wardType": overrides.get("ward_type", parent["wardType"]),
            }
        if ward:
            with self._lock:
                parent = self._find("wards", str(given("wardId", "ward_id")), "Ward")
            return {
                "facilityId": parent["facilityId"],
                "departmentId": parent["departmentId"],
                "wardType": parent["wardType"],
                **overrides,
            }
        if department and given("departmentId", "department_id") is None:
            parent = self.create_department(
                **{k: v for k, v in overrides.items() if k in ("facility_id", "facilityId")}
            )
            return {
                **overrides,
                "facilityId": parent["facilityId"],
                "departmentId": parent["departmentId"],
            }
        if department:
            with self._lock:
                parent = self._find(
                    "departments", str(given("departmentId", "department_id")), "Department"
                )
            return {"facilityId": parent["facilityId"], **overrides}
        if given("facilityId", "facility_id") is None:
            return {**overrides, "facilityId": self.create_facility()["facilityId"]}
        return overrides

    def _seed_one(
        self, table: str, insert: Callable[[Record, Record], Record], item: Mapping[str, Any]
    ) -> Record:
        body = dict(item)
        fixed = {key: body.pop(key) for key in list(body) if key in SERVER_KEYS}
        identity = _IDENTITY[table]
        if body.get(identity) is not None:
            fixed[identity] = body.pop(identity)
        with self._lock:
            return self._copy(insert(body, fixed))

    # -- validation and storage ------------------------------------------------------------
    def _clean_facility(self, body: Mapping[str, Any], *, partial: bool) -> Record:
        check = Checker()
        required = not partial
        clean: Record = {
            "name": check.string(body, "name", required=required),
            "type": check.enum(body, "type", FACILITY_TYPES, required=required),
            "facilityCode": check.string(body, "facilityCode", required=required),
            "organizationId": check.uuid(body, "organizationId"),
            "services": check.string_list(body, "services"),
            "licensing": check.mapping(body, "licensing"),
            "operatingHours": check.mapping(body, "operatingHours"),
            "metadata": check.mapping(body, "metadata"),
        }
        address = check.mapping(body, "address", required=required)
        if address is not None:
            for part in ADDRESS_KEYS:
                check.string(address, part, required=required, name=f"address.{part}")
            clean["address"] = dict(address)
        info = check.mapping(body, "contactInfo", required=required and "contact" not in body)
        contact = check.mapping(body, "contact")
        given = info if info is not None else contact
        if given is not None:
            label = "contactInfo" if info is not None else "contact"
            check.string(given, "phone", required=required, name=f"{label}.phone")
            check.email(given, "email", required=required, name=f"{label}.email")
            clean["contact"] = dict(contact if contact is not None else given)
        capacity = check.mapping(body, "capacity")
        if capacity is not None:
            for part in (
                "totalBeds",
                "icuBeds",
                "emergencyBeds",
                "availableBeds",
                "operatingRooms",
            ):
                check.integer(capacity, part, minimum=0, name=f"capacity.{part}")
            clean["capacity"] = dict(capacity)
        if partial:
            clean["status"] = check.enum(body, "status", FACILITY_STATUSES)
            clean["isActive"] = check.boolean(body, "isActive")
        check.done()
        return {k: v for k, v in clean.items() if v is not None}

    def _check_code_free(
        self,
        table: str,
        field: str,
        value: str,
        scope_field: str,
        scope_value: str,
        except_id: str | None,
        label: str,
    ) -> None:
        identity = _IDENTITY[table]
        for record in self._tables[table].values():
            if (
                record["isActive"]
                and record[identity] != except_id
                and record.get(scope_field) == scope_value
                and record[field] == value
            ):
                raise FakeServiceError.duplicate(f"{label} '{value}' already exists", field)

    def _insert_facility(self, body: Record, fixed: Record) -> Record:
        clean = self._clean_facility(body, partial=False)
        organization = clean.pop("organizationId", None) or self.organization_id
        self._check_code_free(
            "facilities",
            "facilityCode",
            clean["facilityCode"],
            "organizationId",
            organization,
            None,
            "Facility code",
        )
        ident = fixed.pop("facilityId", None) or self._new_id()
        record: Record = {
            "id": self._row_id("facilities"),
            "facilityId": ident,
            "organizationId": organization,
            "facilityCode": clean["facilityCode"],
            "name": clean["name"],
            "type": clean["type"],
            "address": clean["address"],
            "contact": clean["contact"],
            "capacity": clean.get("capacity", {}),
            "licensing": clean.get("licensing", {}),
            "operatingHours": clean.get("operatingHours", {}),
            "services": clean.get("services", []),
            "status": "active",
            "isActive": True,
            "metadata": clean.get("metadata"),
            **self._stamps(),
        }
        record.update(fixed)
        self._tables["facilities"][ident] = record
        return record

    def _clean_department(self, body: Mapping[str, Any], *, partial: bool) -> Record:
        check = Checker()
        required = not partial
        clean: Record = {
            "name": check.string(body, "name", required=required),
            "specialization": check.string(body, "specialization", required=required),
            "floor": check.integer(body, "floor", minimum=0),
            "building": check.string(body, "building"),
            "contactPhone": check.string(body, "contactPhone"),
            "contactEmail": check.email(body, "contactEmail"),
            "description": check.string(body, "description"),
            "headOfDepartment": check.uuid(body, "headOfDepartment"),
            "operatingHours": check.mapping(body, "operatingHours"),
        }
        if "specialization" in body and not str(body["specialization"] or "").strip():
            check.add("specialization", "must not be empty")
        if partial:
            clean["isActive"] = check.boolean(body, "isActive")
        else:
            clean["facilityId"] = check.uuid(body, "facilityId", required=True)
            clean["code"] = check.string(body, "code", required=True)
        check.done()
        return {k: v for k, v in clean.items() if v is not None}

    def _insert_department(self, body: Record, fixed: Record) -> Record:
        clean = self._clean_department(body, partial=False)
        self._find("facilities", clean["facilityId"], "Facility")
        self._check_code_free(
            "departments",
            "code",
            clean["code"],
            "facilityId",
            clean["facilityId"],
            None,
            "Department code",
        )
        ident = fixed.pop("departmentId", None) or self._new_id()
        record: Record = {
            "id": self._row_id("departments"),
            "departmentId": ident,
            "facilityId": clean["facilityId"],
            "name": clean["name"],
            "code": clean["code"],
            "description": clean.get("description"),
            "headOfDepartment": clean.get("headOfDepartment"),
            "specialization": clean["specialization"],
            "floor": clean.get("floor"),
            "building": clean.get("building"),
            "contactPhone": clean.get("contactPhone"),
            "contactEmail": clean.get("contactEmail"),
            "isActive": True,
            "operatingHours": clean.get("operatingHours"),
            "staffCount": 0,
            "metadata": None,
            **self._stamps(),
        }
        record.update(fixed)
        self._tables["departments"][ident] = record
        return record

    def _clean_ward(self, body: Mapping[str, Any], *, partial: bool) -> Record:
        check = Checker()
        required = not partial
        clean: Record = {
            "name": check.string(body, "name", required=required),
            "wardType": check.enum(body, "wardType", WARD_TYPES, required=required),
            "totalBeds": check.integer(body, "totalBeds", required=required, minimum=1),
            "floor": check.integer(body, "floor", minimum=0),
            "nurseStationPhone": check.string(body, "nurseStationPhone"),
            "genderRestriction": check.enum(body, "genderRestriction", GENDER_RESTRICTIONS),
            "specialtyType": check.string(body, "specialtyType"),
        }
        if partial:
            clean["status"] = check.enum(body, "status", WARD_STATUSES)
            clean["isActive"] = check.boolean(body, "isActive")
        else:
            clean["facilityId"] = check.uuid(body, "facilityId", required=True)
            clean["departmentId"] = check.uuid(body, "departmentId", required=True)
            clean["wardCode"] = check.string(body, "wardCode", required=True)
        check.done()
        return {k: v for k, v in clean.items() if v is not None}

    def _insert_ward(self, body: Record, fixed: Record) -> Record:
        clean = self._clean_ward(body, partial=False)
        department = self._find("departments", clean["departmentId"], "Department")
        if department["facilityId"] != clean["facilityId"]:
            raise FakeServiceError.validation(
                {"departmentId": ["does not belong to the given facility"]}
            )
        self._check_code_free(
            "wards",
            "wardCode",
            clean["wardCode"],
            "facilityId",
            clean["facilityId"],
            None,
            "Ward code",
        )
        ident = fixed.pop("wardId", None) or self._new_id()
        record: Record = {
            "id": self._row_id("wards"),
            "wardId": ident,
            "facilityId": clean["facilityId"],
            "departmentId": clean["departmentId"],
            "name": clean["name"],
            "wardCode": clean["wardCode"],
            "wardType": clean["wardType"],
            "floor": clean.get("floor"),
            "totalBeds": clean["totalBeds"],
            "occupiedBeds": 0,
            "availableBeds": clean["totalBeds"],
            "nurseStationPhone": clean.get("nurseStationPhone"),
            "status": "active",
            "isActive": True,
            "specialtyType": clean.get("specialtyType"),
            "genderRestriction": clean.get("genderRestriction"),
            "metadata": None,
            **self._stamps(),
        }
        record.update(fixed)
        self._tables["wards"][ident] = record
        return record

    def _recount(self, ward_id: str) -> None:
        """Ward counters are live: recounted from its active beds after every bed write."""
        ward = self._tables["wards"].get(ward_id)
        if ward is None:
            return
        beds = [
            b for b in self._tables["beds"].values() if b["wardId"] == ward_id and b["isActive"]
        ]
        ward["occupiedBeds"] = sum(b["bedStatus"] == "occupied" for b in beds)
        ward["availableBeds"] = (
            sum(b["bedStatus"] == "available" for b in beds) if beds else ward["totalBeds"]
        )

    def _clean_bed(self, body: Mapping[str, Any], *, partial: bool) -> Record:
        check = Checker()
        required = not partial
        clean: Record = {
            "bedNumber": check.string(body, "bedNumber", required=required),
            "bedType": check.enum(body, "bedType", BED_TYPES, required=required),
            "location": check.string(body, "location"),
            **{flag: check.boolean(body, flag) for flag in EQUIPMENT},
        }
        if partial:
            clean["bedStatus"] = check.enum(body, "bedStatus", BED_STATUSES)
            clean["isActive"] = check.boolean(body, "isActive")
            clean["notes"] = check.string(body, "notes")
            clean["lastMaintenanceDate"] = check.date_time(body, "lastMaintenanceDate")
        else:
            for key in ("facilityId", "departmentId", "wardId"):
                clean[key] = check.uuid(body, key, required=True)
        check.done()
        return {k: v for k, v in clean.items() if v is not None}

    def _insert_bed(self, body: Record, fixed: Record) -> Record:
        clean = self._clean_bed(body, partial=False)
        ward = self._find("wards", clean["wardId"], "Ward")
        if (ward["facilityId"], ward["departmentId"]) != (
            clean["facilityId"],
            clean["departmentId"],
        ):
            raise FakeServiceError.validation(
                {"wardId": ["does not belong to the given facility and department"]}
            )
        self._check_code_free(
            "beds", "bedNumber", clean["bedNumber"], "wardId", ward["wardId"], None, "Bed number"
        )
        ident = fixed.pop("bedId", None) or self._new_id()
        record: Record = {
            "id": self._row_id("beds"),
            "bedId": ident,
            "facilityId": clean["facilityId"],
            "departmentId": clean["departmentId"],
            "wardId": clean["wardId"],
            "bedNumber": clean["bedNumber"],
            "bedType": clean["bedType"],
            "bedStatus": "available",
            "patientId": None,
            "assignmentDate": None,
            "expectedDischargeDate": None,
            "location": clean.get("location"),
            **{flag: bool(clean.get(flag, False)) for flag in EQUIPMENT},
            "isActive": True,
            "notes": None,
            "lastMaintenanceDate": None,
            "metadata": None,
            **self._stamps(),
        }
        record.update(fixed)
        self._tables["beds"][ident] = record
        self._recount(ward["wardId"])
        return record

    def _stats(self, facility: Record) -> Record:
        fid = facility["facilityId"]
        departments = [d for d in self._active("departments") if d["facilityId"] == fid]
        wards = [w for w in self._active("wards") if w["facilityId"] == fid]
        return {
            "facility_id": fid,
            "name": facility["name"],
            "type": facility["type"],
            "department_count": str(len(departments)),
            "ward_count": str(len(wards)),
            "total_beds": str(sum(w["totalBeds"] for w in wards)),
            "available_beds": str(sum(w["availableBeds"] for w in wards)),
            "occupied_beds": str(sum(w["occupiedBeds"] for w in wards)),
        }

    # -- HTTP plumbing ----------------------------------------------------------------------
    @staticmethod
    def _ok(data: Any, message: str | None = None, status: int = 200) -> Response:
        body: Record = {"success": True, "data": data}
        if message is not None:
            body["message"] = message
        return JSONResponse(body, status_code=status)

    def _page(
        self,
        request: Request,
        check: QueryChecker,
        rows: list[Record],
        sort: Callable[[Record], Any],
        reverse: bool = False,
    ) -> Response:
        page, limit = check.page(self._query(request), self.default_limit)
        check.done()
        rows = sorted(rows, key=sort, reverse=reverse)
        window = [self._copy(r) for r in rows[(page - 1) * limit : page * limit]]
        return JSONResponse(
            {"success": True, "data": window, "pagination": page_block(page, limit, len(rows))}
        )

    def _rate_limited(self) -> _Answer | None:
        return _Answer(
            429,
            [("content-type", "text/plain; charset=utf-8")],
            b"Too many requests from this IP, please try again later.",
        )

    def _routes(self) -> list[BaseRoute]:
        routes = self._contract_routes()
        return self._today_routes(routes) if self.profile == "today" else routes

    def _contract_routes(self) -> list[BaseRoute]:
        api = "/api/v1"
        return [
            Route("/health", self._health, methods=["GET"]),
            Route("/ready", self._ready, methods=["GET"]),
            Route("/health/ready", self._ready, methods=["GET"]),
            Route("/health/startup", self._startup, methods=["GET"]),
            Route(f"{api}/facilities", self._list_facilities, methods=["GET"]),
            Route(f"{api}/facilities", self._create_facility, methods=["POST"]),
            Route(f"{api}/facilities/{{id}}", self._get_facility, methods=["GET"]),
            Route(f"{api}/facilities/{{id}}", self._put_facility, methods=["PUT"]),
            Route(f"{api}/facilities/{{id}}", self._delete_facility, methods=["DELETE"]),
            Route(
                f"{api}/facilities/{{id}}/departments", self._facility_departments, methods=["GET"]
            ),
            Route(f"{api}/facilities/{{id}}/capacity", self._capacity, methods=["GET"]),
            Route(f"{api}/facilities/{{id}}/analytics", self._analytics, methods=["GET"]),
            Route(f"{api}/departments", self._list_departments, methods=["GET"]),
            Route(f"{api}/departments", self._create_department, methods=["POST"]),
            Route(f"{api}/departments/{{id}}", self._get_department, methods=["GET"]),
            Route(f"{api}/departments/{{id}}", self._put_department, methods=["PUT"]),
            Route(f"{api}/departments/{{id}}", self._delete_department, methods=["DELETE"]),
            Route(f"{api}/departments/{{id}}/wards", self._department_wards, methods=["GET"]),
            Route(f"{api}/wards", self._list_wards, methods=["GET"]),
            Route(f"{api}/wards", self._create_ward, methods=["POST"]),
            Route(f"{api}/wards/{{id}}", self._get_ward, methods=["GET"]),
            Route(f"{api}/wards/{{id}}", self._put_ward, methods=["PUT"]),
            Route(f"{api}/wards/{{id}}", self._delete_ward, methods=["DELETE"]),
            Route(f"{api}/wards/{{id}}/beds", self._ward_beds, methods=["GET"]),
            Route(f"{api}/wards/{{id}}/occupancy", self._ward_occupancy, methods=["GET"]),
            Route(f"{api}/beds", self._list_beds, methods=["GET"]),
            Route(f"{api}/beds", self._create_bed, methods=["POST"]),
            # Declared before /beds/{id}, as the contract intends (contract I18).
            Route(f"{api}/beds/available", self._available_beds, methods=["GET"]),
            Route(f"{api}/beds/{{id}}", self._get_bed, methods=["GET"]),
            Route(f"{api}/beds/{{id}}", self._put_bed, methods=["PUT"]),
            Route(f"{api}/beds/{{id}}/status", self._bed_status, methods=["PUT"]),
            Route(f"{api}/beds/{{id}}/assign", self._assign_bed, methods=["POST"]),
            Route(f"{api}/beds/{{id}}/release", self._release_bed, methods=["POST"]),
            Route(f"{api}/beds/{{id}}/history", self._bed_history, methods=["GET"]),
            Route(f"{api}/settings/facility/{{facilityId}}", self._get_settings, methods=["GET"]),
            Route(f"{api}/settings/facility/{{facilityId}}", self._put_settings, methods=["PUT"]),
        ]

    # -- health -----------------------------------------------------------------------------
    def _not_ready_body(self, path: str) -> Any | None:
        if path not in ("/ready", "/health/ready"):
            return None
        return {"status": "not_ready", "error": "Database connection unavailable"}

    async def _health(self, request: Request) -> Response:
        return JSONResponse(
            {
                "status": "healthy",
                "service": self.service_name,
                "timestamp": self._timestamp(),
                "version": "1.0.0",
            }
        )

    async def _ready(self, request: Request) -> Response:
        if not self.ready:
            return JSONResponse(self._not_ready_body("/ready"), status_code=503)
        return JSONResponse({"status": "ready", "timestamp": self._timestamp()})

    async def _startup(self, request: Request) -> Response:
        return JSONResponse({"status": "started", "timestamp": self._timestamp()})

    # -- facilities -------------------------------------------------------------------------
    async def _list_facilities(self, request: Request) -> Response:
        query = self._query(request)
        check = QueryChecker()
        kind = check.query_enum(query, "type", FACILITY_TYPES)
        if "search" in query and not query["search"].strip():
            check.add("search", "must not be empty")
        organization = check.query_uuid(query, "organizationId")
        sort_by = query.get("sortBy", "name")
        descending = check.query_enum(query, "sortOrder", ("asc", "desc")) == "desc"
        with self._lock:
            rows = [
                f
                for f in self._active("facilities")
                if (kind is None or f["type"] == kind)
                and (organization is None or f["organizationId"] == organization)
                and (not query.get("status") or f["status"] == query["status"])
                and contains(query.get("search"), f["name"], f["facilityCode"])
                and contains(query.get("city"), f["address"].get("city"))
                and contains(query.get("state"), f["address"].get("state"))
            ]
            return self._page(
                request,
                check,
                rows,
                lambda f: (str(f.get(sort_by) or "").lower(), f["id"]),
                descending,
            )

    async def _create_facility(self, request: Request) -> Response:
        body = await self._json_body(request)
        with self._lock:
            record = self._insert_facility(body, {})
            return self._ok(self._copy(record), "Facility created successfully", 201)

    async def _get_facility(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["id"])
        with self._lock:
            return self._ok(self._copy(self._find("facilities", ident, "Facility")))

    async def _put_facility(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["id"])
        body = await self._json_body(request)
        with self._lock:
            record = self._find("facilities", ident, "Facility")
            clean = self._clean_facility(body, partial=True)
            clean.pop("organizationId", None)
            if "facilityCode" in clean:
                self._check_code_free(
                    "facilities",
                    "facilityCode",
                    clean["facilityCode"],
                    "organizationId",
                    record["organizationId"],
                    ident,
                    "Facility code",
                )
            for key in ("address", "contact", "capacity"):
                if key in clean:
                    clean[key] = {**record[key], **clean[key]}
            record.update(clean)
            self._touch(record)
            return self._ok(self._copy(record), "Facility updated successfully")

    async def _delete_facility(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["id"])
        with self._lock:
            record = self._find("facilities", ident, "Facility")
            record["isActive"] = False
            self._touch(record)
        return JSONResponse({"success": True, "message": "Facility deleted successfully"})

    async def _facility_departments(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["id"])
        with self._lock:
            self._find("facilities", ident, "Facility")
            rows = [d for d in self._active("departments") if d["facilityId"] == ident]
            return self._ok([self._copy(d) for d in sorted(rows, key=lambda d: d["name"])])

    async def _capacity(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["id"])
        with self._lock:
            facility = self._find("facilities", ident, "Facility")
            data = {
                "facilityId": ident,
                "name": facility["name"],
                "capacity": self._copy(facility["capacity"]),
                **self._stats(facility),
            }
        return self._ok(data)

    async def _analytics(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["id"])
        check = QueryChecker()
        period = check.query_enum(self._query(request), "period", PERIODS)
        check.done()
        with self._lock:
            facility = self._find("facilities", ident, "Facility")
            data = {
                **self._stats(facility),
                "period": period or "current",
                "timestamp": self._timestamp(),
            }
        return self._ok(data)

    # -- departments ------------------------------------------------------------------------
    async def _list_departments(self, request: Request) -> Response:
        query = self._query(request)
        check = QueryChecker()
        facility = check.query_uuid(query, "facilityId")
        with self._lock:
            rows = [
                d
                for d in self._active("departments")
                if (facility is None or d["facilityId"] == facility)
                and contains(query.get("specialization"), d["specialization"])
                and contains(query.get("search"), d["name"], d["code"])
            ]
            return self._page(request, check, rows, lambda d: (d["name"], d["id"]))

    async def _create_department(self, request: Request) -> Response:
        body = await self._json_body(request)
        with self._lock:
            record = self._insert_department(body, {})
            return self._ok(self._copy(record), "Department created successfully", 201)

    async def _get_department(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["id"])
        with self._lock:
            return self._ok(self._copy(self._find("departments", ident, "Department")))

    async def _put_department(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["id"])
        body = await self._json_body(request)
        with self._lock:
            record = self._find("departments", ident, "Department")
            record.update(self._clean_department(body, partial=True))
            self._touch(record)
            return self._ok(self._copy(record), "Department updated successfully")

    async def _delete_department(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["id"])
        with self._lock:
            record = self._find("departments", ident, "Department")
            record["isActive"] = False
            self._touch(record)
        return JSONResponse({"success": True, "message": "Department deleted successfully"})

    async def _department_wards(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["id"])
        with self._lock:
            self._find("departments", ident, "Department")
            rows = [w for w in self._active("wards") if w["departmentId"] == ident]
            return self._ok([self._copy(w) for w in sorted(rows, key=lambda w: w["name"])])

    # -- wards ------------------------------------------------------------------------------
    async def _list_wards(self, request: Request) -> Response:
        query = self._query(request)
        check = QueryChecker()
        facility = check.query_uuid(query, "facilityId")
        department = check.query_uuid(query, "departmentId")
        has_free = check.query_bool(query, "hasAvailableBeds")
        with self._lock:
            rows = [
                w
                for w in self._active("wards")
                if (facility is None or w["facilityId"] == facility)
                and (department is None or w["departmentId"] == department)
                and (not query.get("wardType") or w["wardType"] == query["wardType"])
                and (not query.get("status") or w["status"] == query["status"])
                and (has_free is None or (w["availableBeds"] > 0) == has_free)
            ]
            return self._page(request, check, rows, lambda w: (w["name"], w["id"]))

    async def _create_ward(self, request: Request) -> Response:
        body = await self._json_body(request)
        with self._lock:
            record = self._insert_ward(body, {})
            return self._ok(self._copy(record), "Ward created successfully", 201)

    async def _get_ward(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["id"])
        with self._lock:
            return self._ok(self._copy(self._find("wards", ident, "Ward")))

    async def _put_ward(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["id"])
        body = await self._json_body(request)
        with self._lock:
            record = self._find("wards", ident, "Ward")
            record.update(self._clean_ward(body, partial=True))
            self._recount(ident)
            self._touch(record)
            return self._ok(self._copy(record), "Ward updated successfully")

    async def _delete_ward(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["id"])
        with self._lock:
            record = self._find("wards", ident, "Ward")
            record["isActive"] = False
            self._touch(record)
        return JSONResponse({"success": True, "message": "Ward deleted successfully"})

    async def _ward_beds(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["id"])
        with self._lock:
            self._find("wards", ident, "Ward")
            rows = [b for b in self._active("beds") if b["wardId"] == ident]
            return self._ok([self._copy(b) for b in sorted(rows, key=lambda b: b["bedNumber"])])

    async def _ward_occupancy(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["id"])
        with self._lock:
            ward = self._find("wards", ident, "Ward")
            total, occupied = ward["totalBeds"], ward["occupiedBeds"]
            data = {
                "ward_id": ident,
                "ward_name": ward["name"],
                "total_beds": total,
                "occupied_beds": occupied,
                "available_beds": ward["availableBeds"],
                "occupancy_rate": f"{(occupied / total * 100) if total else 0:.2f}",
                "last_updated": ward["updatedAt"],
            }
        return self._ok(data)

    # -- beds -------------------------------------------------------------------------------
    def _bed_filters(
        self, query: Mapping[str, str], check: QueryChecker, keys: Iterable[str]
    ) -> Callable[[Record], bool]:
        ids = {key: check.query_uuid(query, key) for key in keys}
        flags = {flag: check.query_bool(query, flag) for flag in EQUIPMENT}
        bed_type = query.get("bedType")

        def keep(bed: Record) -> bool:
            return (
                all(value is None or bed[key] == value for key, value in ids.items())
                and (not bed_type or bed["bedType"] == bed_type)
                and all(value is None or bed[flag] == value for flag, value in flags.items())
            )

        return keep

    async def _list_beds(self, request: Request) -> Response:
        query = self._query(request)
        check = QueryChecker()
        keep = self._bed_filters(query, check, ("facilityId", "departmentId", "wardId"))
        status = check.query_enum(query, "bedStatus", BED_STATUSES)
        available = check.query_bool(query, "isAvailable")
        with self._lock:
            rows = [
                b
                for b in self._active("beds")
                if keep(b)
                and (status is None or b["bedStatus"] == status)
                and (available is None or (b["bedStatus"] == "available") == available)
            ]
            return self._page(request, check, rows, lambda b: (b["bedNumber"], b["id"]))

    async def _create_bed(self, request: Request) -> Response:
        body = await self._json_body(request)
        with self._lock:
            record = self._insert_bed(body, {})
            return self._ok(self._copy(record), "Bed created successfully", 201)

    async def _available_beds(self, request: Request) -> Response:
        query = self._query(request)
        check = QueryChecker()
        if not is_uuid(query.get("facilityId")):
            check.add("facilityId", "is required and must be a valid UUID")
        keep = self._bed_filters(query, check, ("facilityId", "wardId"))
        check.done()
        with self._lock:
            rows = sorted(
                (b for b in self._active("beds") if b["bedStatus"] == "available" and keep(b)),
                key=lambda b: (b["bedNumber"], b["id"]),
            )[:50]
            data = [self._copy(b) for b in rows]
        return JSONResponse({"success": True, "data": data, "count": len(data)})

    async def _get_bed(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["id"])
        with self._lock:
            return self._ok(self._copy(self._find("beds", ident, "Bed")))

    async def _put_bed(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["id"])
        body = await self._json_body(request)
        with self._lock:
            record = self._find("beds", ident, "Bed")
            clean = self._clean_bed(body, partial=True)
            if "bedNumber" in clean:
                self._check_code_free(
                    "beds",
                    "bedNumber",
                    clean["bedNumber"],
                    "wardId",
                    record["wardId"],
                    ident,
                    "Bed number",
                )
            record.update(clean)
            self._touch(record)
            self._recount(record["wardId"])
            return self._ok(self._copy(record), "Bed updated successfully")

    async def _bed_status(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["id"])
        body = await self._json_body(request)
        check = Checker()
        status = check.enum(body, "status", BED_STATUSES, required=True)
        check.done()
        with self._lock:
            record = self._find("beds", ident, "Bed")
            if status == "occupied":
                raise FakeServiceError.conflict("Use POST /beds/{id}/assign to occupy a bed")
            if record["bedStatus"] == "occupied":
                raise FakeServiceError.conflict("Bed is occupied: release it first")
            record["bedStatus"] = status
            self._touch(record)
            self._recount(record["wardId"])
            return self._ok(self._copy(record), "Bed status updated successfully")

    async def _assign_bed(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["id"])
        body = await self._json_body(request)
        check = Checker()
        patient = check.uuid(body, "patientId", required=True)
        assigned = check.date_time(body, "assignmentDate")
        discharge = check.date_time(body, "expectedDischargeDate")
        notes = check.string(body, "notes")
        check.done()
        with self._lock:
            record = self._find("beds", ident, "Bed")
            if record["bedStatus"] != "available":
                raise FakeServiceError.conflict(
                    f"Bed is not available (status: {record['bedStatus']})"
                )
            now = self._timestamp()
            record.update(
                bedStatus="occupied",
                patientId=patient,
                assignmentDate=assigned or now,
                expectedDischargeDate=discharge,
            )
            self._touch(record)
            self._history.append(
                {
                    "id": len(self._history) + 1,
                    "bed_id": ident,
                    "patient_id": patient,
                    "assignment_date": assigned or now,
                    "discharge_date": None,
                    "duration": None,
                    "reason": notes,
                    "created_at": now,
                }
            )
            self._recount(record["wardId"])
            return self._ok(self._copy(record), "Bed assigned successfully")

    async def _release_bed(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["id"])
        body = await self._json_body(request)
        check = Checker()
        reason = check.string(body, "releaseReason")
        check.done()
        with self._lock:
            record = self._find("beds", ident, "Bed")
            if record["bedStatus"] != "occupied":
                raise FakeServiceError.conflict(
                    f"Bed is not occupied (status: {record['bedStatus']})"
                )
            for entry in reversed(self._history):
                if entry["bed_id"] == ident and entry["discharge_date"] is None:
                    entry["discharge_date"] = self._timestamp()
                    entry["reason"] = reason if reason is not None else entry["reason"]
                    break
            record.update(
                bedStatus="cleaning",
                patientId=None,
                assignmentDate=None,
                expectedDischargeDate=None,
            )
            self._touch(record)
            self._recount(record["wardId"])
            return self._ok(self._copy(record), "Bed released successfully")

    async def _bed_history(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["id"])
        with self._lock:
            self._find("beds", ident, "Bed")
            rows = [self._copy(h) for h in self._history if h["bed_id"] == ident]
        rows.sort(key=lambda h: (h["assignment_date"], h["id"]), reverse=True)
        return self._ok(rows)

    # -- settings ---------------------------------------------------------------------------
    def _settings(self, facility_id: str) -> Record:
        table = self._tables["settings"]
        if facility_id not in table:
            table[facility_id] = {
                "id": self._row_id("settings"),
                "settingsId": self._new_id(),
                "facilityId": facility_id,
                **self._copy(SETTINGS_DEFAULTS),
                **self._stamps(),
            }
        return table[facility_id]

    async def _get_settings(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["facilityId"], "facilityId")
        with self._lock:
            return self._ok(self._copy(self._settings(ident)))

    async def _put_settings(self, request: Request) -> Response:
        ident = require_path_uuid(request.path_params["facilityId"], "facilityId")
        body = await self._json_body(request)
        check = Checker()
        clean: Record = {
            "timeFormat": check.enum(body, "timeFormat", ("12h", "24h")),
            "defaultAppointmentDuration": check.integer(
                body, "defaultAppointmentDuration", minimum=5, maximum=240
            ),
            "maxAdvanceBookingDays": check.integer(
                body, "maxAdvanceBookingDays", minimum=1, maximum=365
            ),
            "cancellationNoticePeriod": check.integer(body, "cancellationNoticePeriod", minimum=0),
            "bedCleaningDuration": check.integer(body, "bedCleaningDuration", minimum=5),
            "appointmentReminderHours": check.int_list(body, "appointmentReminderHours"),
            "customSettings": check.mapping(body, "customSettings"),
        }
        for key, default in SETTINGS_DEFAULTS.items():
            if key in clean:
                continue
            if isinstance(default, bool):
                clean[key] = check.boolean(body, key)
            elif isinstance(default, str):
                clean[key] = check.string(body, key)
        check.done()
        with self._lock:
            record = self._settings(ident)
            record.update({k: v for k, v in clean.items() if v is not None})
            self._touch(record)
            return self._ok(self._copy(record), "Facility settings updated successfully")

    # -- the today profile --------------------------------------------------------------------
    def _error_body(
        self, status: int, code: str, message: str, details: Any, request_id: str
    ) -> Any:
        if self.profile != "today":
            return super()._error_body(status, code, message, details, request_id)
        text = validation_text(details) if code == "VALIDATION_ERROR" else None
        if text:
            message = "Validation failed: " + text.replace('"', "").replace(" must", ": must")
        return {"success": False, "error": {"message": message, "code": status}}

    def _echo_headers(self, request_id: str) -> list[tuple[str, str]]:
        if self.profile != "today":
            return super()._echo_headers(request_id)
        return self._rate_limit_headers()

    def _rate_limit_headers(self) -> list[tuple[str, str]]:
        """Today's Facility counts requests in 15-minute windows (express-rate-limit, 1000 per
        window) and says so in the standard ``RateLimit-*`` headers; it echoes no correlation id.
        """
        now = self.now()
        with self._lock:
            start, used = self._rate_window or (now, 0)
            if now - start >= _RATE_WINDOW:
                start, used = now, 0
            used += 1
            self._rate_window = (start, used)
        reset = max(0, int((start + _RATE_WINDOW - now).total_seconds()))
        return [
            ("ratelimit-limit", str(_RATE_LIMIT)),
            ("ratelimit-remaining", str(max(0, _RATE_LIMIT - used))),
            ("ratelimit-reset", str(reset)),
        ]

    def _today_routes(self, contract: list[BaseRoute]) -> list[BaseRoute]:
        api = "/api/v1"
        replaced: dict[tuple[str, str], Endpoint] = {
            ("GET", f"{api}/facilities/{{id}}"): self._no_facility_access,
            ("PUT", f"{api}/facilities/{{id}}"): self._no_facility_access,
            ("DELETE", f"{api}/facilities/{{id}}"): self._no_facility_access,
            ("GET", f"{api}/facilities/{{id}}/departments"): self._no_facility_access,
            ("GET", f"{api}/facilities/{{id}}/capacity"): self._no_facility_access,
            ("GET", f"{api}/facilities/{{id}}/analytics"): self._no_facility_access,
            ("GET", f"{api}/beds/{{id}}"): self._today_get_bed,
            ("PUT", f"{api}/beds/{{id}}/status"): self._today_bed_status,
            ("POST", f"{api}/beds/{{id}}/assign"): self._today_assign_bed,
            ("POST", f"{api}/beds/{{id}}/release"): self._today_release_bed,
            ("GET", f"{api}/beds/{{id}}/history"): self._today_bed_history,
        }
        routes: list[BaseRoute] = []
        for route in contract:
            assert isinstance(route, Route)
            if route.path == f"{api}/beds/available":
                continue  # declared after /beds/:id upstream, so never reached (contract I18)
            method = next(iter(sorted((route.methods or set()) - {"HEAD"})), "GET")
            endpoint = replaced.get((method, route.path))
            routes.append(
                route if endpoint is None else Route(route.path, endpoint, methods=[method])
            )
        return routes

    @staticmethod
    def _today_id(request: Request) -> str:
        ident = str(request.path_params["id"])
        if not is_uuid(ident):
            raise FakeServiceError(400, "VALIDATION_ERROR", "Validation failed: id: Invalid value")
        return ident.lower()

    async def _no_facility_access(self, request: Request) -> Response:
        """``validateFacilityAccess`` reads caller fields nobody sets: 403 (contract I21)."""
        ident = self._today_id(request)
        with self._lock:
            record = self._tables["facilities"].get(ident)
            known = record is not None and record["isActive"]
        if not known:
            raise FakeServiceError(404, "NOT_FOUND", f"Facility {ident} not found")
        raise FakeServiceError(403, "PERMISSION_DENIED", "You do not have access to this facility")

    def _cached_bed(self, ident: str) -> Record:
        """``getBedById``: the ``bed:{id}`` copy if under 60 s old, else the row (then cached).
        Writes never invalidate it (contract I19). Call with the lock held."""
        now = self.now()
        cached = self._bed_cache.get(ident)
        if cached is not None and cached[1] > now:
            return self._copy(cached[0])
        record = self._tables["beds"].get(ident)
        if record is None or not record["isActive"] or self._org_of(record) != self.organization_id:
            raise FakeServiceError(404, "NOT_FOUND", f"Bed {ident} not found")
        self._bed_cache[ident] = (self._copy(record), now + timedelta(seconds=60))
        return self._copy(record)

    async def _today_get_bed(self, request: Request) -> Response:
        ident = self._today_id(request)
        with self._lock:
            return self._ok(self._cached_bed(ident))

    async def _today_bed_status(self, request: Request) -> Response:
        ident = self._today_id(request)
        body = await self._json_body(request)
        check = Checker()
        status = check.enum(body, "status", BED_STATUSES, required=True)
        check.done()
        with self._lock:
            self._cached_bed(ident)
            record = self._tables["beds"][ident]
            record["bedStatus"] = status  # any status; an occupant stays attached (contract I20)
            self._touch(record)
            self._recount(record["wardId"])
            return self._ok(self._copy(record), "Bed status updated successfully")

    async def _today_assign_bed(self, request: Request) -> Response:
        ident = self._today_id(request)
        with self._lock:
            seen = self._cached_bed(ident)["bedStatus"]
        if seen != "available":
            raise FakeServiceError(409, "CONFLICT", f"Bed {ident}: Bed is {seen}")
        try:
            return await self._assign_bed(request)
        except FakeServiceError as error:
            if error.status != 409:
                raise
            raise FakeServiceError(
                409, "CONFLICT", f"Bed {ident}: Bed could not be assigned"
            ) from None

    async def _today_release_bed(self, request: Request) -> Response:
        ident = self._today_id(request)
        with self._lock:
            seen = self._cached_bed(ident)["bedStatus"]
        if seen != "occupied":
            raise FakeServiceError(409, "CONFLICT", f"Bed {ident}: Bed is not occupied")
        try:
            return await self._release_bed(request)
        except FakeServiceError as error:
            if error.status != 409:
                raise
            raise FakeServiceError(404, "NOT_FOUND", f"Bed {ident} not found") from None

    async def _today_bed_history(self, request: Request) -> Response:
        ident = self._today_id(request)
        with self._lock:
            self._cached_bed(ident)
        return await self._bed_history(request)

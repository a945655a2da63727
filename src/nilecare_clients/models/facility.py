"""Facility service models: facilities, departments, wards, beds, settings (contract §3).

Identity (contract I3): every entity is identified by its UUID ``<entity>_id`` (wire ``facilityId``,
``departmentId``, ...), which is what the routes take. The integer wire ``id`` is a storage
row number, kept as the optional ``row_id``; it is typed ``int | str`` because one storage
schema keys rows by UUID instead.

Reading rules. The shape is the service model of contract §3.7 (contract I4); unknown fields are
kept and enums
are open (contract I6). Scalars required on create are required on read; nested objects may be
missing or ``{}`` (storage drift, contract I24), so they and all their sub-fields are optional. The
analytics, capacity, occupancy and bed-history payloads are snake_case storage rows with
counts as decimal strings; they are normalised first (contract I16).

Writing rules. Bodies refuse unknown keys and check the validated fields. Nested write
objects are ``XInput`` and are the same on create and update; on update a nested object is
sent whole (the service stores it as one JSON value).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    AliasChoices,
    BeforeValidator,
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    StringConstraints,
    field_validator,
    model_serializer,
    model_validator,
)

from nilecare_clients.models._base import (
    Count,
    Email,
    LenientDate,
    NonEmptyStr,
    PhiRedactedRepr,
    RequestBody,
    ResponseModel,
    StorageRowModel,
    StrEnum,
    StrList,
    UtcDatetime,
    UUIDStr,
    _empty_if_null,
    open_enum,
)

__all__ = [
    "AnalyticsPeriod",
    "Bed",
    "BedAssign",
    "BedCreate",
    "BedHistoryEntry",
    "BedRelease",
    "BedStatus",
    "BedStatusUpdate",
    "BedType",
    "BedUpdate",
    "Coordinates",
    "CoordinatesInput",
    "DayHours",
    "DayHoursInput",
    "DeclaredCapacity",
    "DeclaredCapacityInput",
    "Department",
    "DepartmentCreate",
    "DepartmentUpdate",
    "Facility",
    "FacilityAddress",
    "FacilityAddressInput",
    "FacilityAnalytics",
    "FacilityCapacity",
    "FacilityContact",
    "FacilityContactInput",
    "FacilityCreate",
    "FacilitySettings",
    "FacilitySettingsUpdate",
    "FacilityStats",
    "FacilityStatus",
    "FacilityType",
    "FacilityUpdate",
    "GenderRestriction",
    "Licensing",
    "LicensingInput",
    "OperatingHours",
    "OperatingHoursInput",
    "TimeFormat",
    "Ward",
    "WardCreate",
    "WardOccupancy",
    "WardStatus",
    "WardType",
    "WardUpdate",
    "Weekday",
]


# --- enums: the values the routes accept on write (contract §3.8)
# ------------------------------------


class FacilityType(StrEnum):
    """The five types accepted on write. The model also knows ``diagnostic_center``,
    ``urgent_care`` and ``specialty_clinic``; those are read as plain strings (contract I6)."""

    HOSPITAL = "hospital"
    CLINIC = "clinic"
    LAB = "lab"
    PHARMACY = "pharmacy"
    REHABILITATION = "rehabilitation"


class FacilityStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    MAINTENANCE = "maintenance"
    CLOSED = "closed"


class WardType(StrEnum):
    GENERAL = "general"
    ICU = "icu"
    EMERGENCY = "emergency"
    MATERNITY = "maternity"
    PEDIATRIC = "pediatric"
    SURGICAL = "surgical"
    MEDICAL = "medical"
    PSYCHIATRIC = "psychiatric"
    ISOLATION = "isolation"


class WardStatus(StrEnum):
    """Never changed automatically: a full ward stays ``active``."""

    ACTIVE = "active"
    FULL = "full"
    MAINTENANCE = "maintenance"
    CLOSED = "closed"


class BedType(StrEnum):
    """Route values; the migration's ``bariatric`` is read as a plain string (contract I6)."""

    STANDARD = "standard"
    ICU = "icu"
    PEDIATRIC = "pediatric"
    MATERNITY = "maternity"
    ISOLATION = "isolation"
    OBSERVATION = "observation"
    RECOVERY = "recovery"


class BedStatus(StrEnum):
    """Lifecycle: available -> occupied (assign) -> cleaning (release) -> available (status).
    The migration's ``blocked`` is read as a plain string (contract I6)."""

    AVAILABLE = "available"
    OCCUPIED = "occupied"
    RESERVED = "reserved"
    MAINTENANCE = "maintenance"
    CLEANING = "cleaning"
    OUT_OF_SERVICE = "out_of_service"


class GenderRestriction(StrEnum):
    MALE = "male"
    FEMALE = "female"
    MIXED = "mixed"


class AnalyticsPeriod(StrEnum):
    """Echoed back by ``/analytics``; it does not change the figures."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    YEARLY = "yearly"


class TimeFormat(StrEnum):
    H12 = "12h"
    H24 = "24h"


class Weekday(StrEnum):
    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"


_OpenFacilityType = Annotated[FacilityType | str, open_enum(FacilityType)]
_OpenFacilityStatus = Annotated[FacilityStatus | str, open_enum(FacilityStatus)]
_OpenWardType = Annotated[WardType | str, open_enum(WardType)]
_OpenWardStatus = Annotated[WardStatus | str, open_enum(WardStatus)]
_OpenBedType = Annotated[BedType | str, open_enum(BedType)]
_OpenBedStatus = Annotated[BedStatus | str, open_enum(BedStatus)]
_OpenGenderRestriction = Annotated[GenderRestriction | str, open_enum(GenderRestriction)]
_OpenTimeFormat = Annotated[TimeFormat | str, open_enum(TimeFormat)]

# "HH:MM" on a 24-hour clock; "24:00" closes a day that runs to midnight.
HourMinute = Annotated[
    str, StringConstraints(pattern=r"^(?:(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")
]
NonNegativeInt = Annotated[int, Field(ge=0)]


# --- shared nested objects (read) -----------------------------------------------------------


class Coordinates(ResponseModel):
    latitude: float | None = None
    longitude: float | None = None


class FacilityAddress(ResponseModel):
    street: str | None = None
    city: str | None = None
    state: str | None = None
    zip_code: str | None = None
    country: str | None = None
    coordinates: Coordinates | None = None


class FacilityContact(ResponseModel):
    """A facility's contact details (business data, not PHI)."""

    phone: str | None = None
    email: str | None = None
    fax: str | None = None
    website: str | None = None
    emergency_contact: str | dict[str, Any] | None = None


class DeclaredCapacity(ResponseModel):
    """The capacity declared on the facility record, stored as given and possibly ``{}``.
    Live figures come from ``/facilities/{id}/capacity`` (``FacilityCapacity``)."""

    total_beds: Count | None = None
    available_beds: Count | None = None
    icu_beds: Count | None = None
    emergency_beds: Count | None = None
    operating_rooms: Count | None = None


class Licensing(ResponseModel):
    license_number: str | None = None
    issuing_authority: str | None = None
    issue_date: LenientDate | None = None
    expiry_date: LenientDate | None = None
    accreditations: Annotated[list[Any], BeforeValidator(_empty_if_null)] = Field(
        default_factory=list
    )


class DayHours(ResponseModel):
    """One day's opening hours; times are ``"HH:MM"`` strings as sent."""

    is_open: bool | None = None
    open_time: str | None = None
    close_time: str | None = None


class OperatingHours(ResponseModel):
    monday: DayHours | None = None
    tuesday: DayHours | None = None
    wednesday: DayHours | None = None
    thursday: DayHours | None = None
    friday: DayHours | None = None
    saturday: DayHours | None = None
    sunday: DayHours | None = None
    is_24_hours: bool | None = None


# --- shared nested objects (write) ----------------------------------------------------------


class CoordinatesInput(RequestBody):
    latitude: Annotated[float, Field(ge=-90, le=90)]
    longitude: Annotated[float, Field(ge=-180, le=180)]


class FacilityAddressInput(RequestBody):
    """All five address fields are required by the facility validator."""

    street: NonEmptyStr
    city: NonEmptyStr
    state: NonEmptyStr
    zip_code: NonEmptyStr
    country: NonEmptyStr
    coordinates: CoordinatesInput | None = None


class FacilityContactInput(RequestBody):
    """``phone`` and ``email`` are required (validated as ``contactInfo.*``, contract I5)."""

    phone: NonEmptyStr
    email: Email
    fax: str | None = None
    website: str | None = None
    emergency_contact: str | None = None


class DeclaredCapacityInput(RequestBody):
    total_beds: NonNegativeInt | None = None
    available_beds: NonNegativeInt | None = None
    icu_beds: NonNegativeInt | None = None
    emergency_beds: NonNegativeInt | None = None
    operating_rooms: NonNegativeInt | None = None


class LicensingInput(RequestBody):
    license_number: NonEmptyStr | None = None
    issuing_authority: NonEmptyStr | None = None
    issue_date: date | None = None
    expiry_date: date | None = None
    accreditations: list[str] | None = None

    @model_validator(mode="after")
    def _expiry_after_issue(self) -> Self:
        if self.issue_date and self.expiry_date and self.expiry_date < self.issue_date:
            raise ValueError("expiryDate must be on or after issueDate")
        return self


class DayHoursInput(RequestBody):
    is_open: bool
    open_time: HourMinute | None = None
    close_time: HourMinute | None = None


class OperatingHoursInput(RequestBody):
    monday: DayHoursInput | None = None
    tuesday: DayHoursInput | None = None
    wednesday: DayHoursInput | None = None
    thursday: DayHoursInput | None = None
    friday: DayHoursInput | None = None
    saturday: DayHoursInput | None = None
    sunday: DayHoursInput | None = None
    is_24_hours: bool | None = None


# --- facilities (contract §3.2)
# ----------------------------------------------------------------------


class Facility(ResponseModel):
    """A facility (the service model, contract I4). Wire ``type`` is ``facility_type`` here."""

    row_id: int | str | None = Field(default=None, alias="id")
    facility_id: str
    organization_id: str
    facility_code: str
    name: str
    facility_type: _OpenFacilityType = Field(alias="type")
    address: FacilityAddress | None = None
    contact: FacilityContact | None = None
    capacity: DeclaredCapacity | None = None
    licensing: Licensing | None = None
    operating_hours: OperatingHours | None = None
    services: StrList = Field(default_factory=list)
    status: _OpenFacilityStatus | None = None
    is_active: bool | None = None
    metadata: dict[str, Any] | None = None
    created_by: str | None = None
    updated_by: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class _SendsContactTwice(RequestBody):
    """Facility bodies validate ``contactInfo`` but store ``contact`` (contract I5): send both,
    equal."""

    contact: FacilityContactInput | None = None

    @model_validator(mode="before")
    @classmethod
    def _accept_contact_info(cls, data: Any) -> Any:
        # Our own wire form (and the fakes' factories) carry both keys: read it back.
        if not isinstance(data, Mapping):
            return data
        info_key = next((k for k in ("contactInfo", "contact_info") if k in data), None)
        if info_key is None:
            return data
        values = dict(data)
        info = values.pop(info_key)
        if values.get("contact") is None:
            values["contact"] = info
        elif values["contact"] != info:
            raise ValueError(
                "contact and contactInfo must be equal (they are sent as one, contract I5)"
            )
        return values

    @model_serializer(mode="wrap")
    def _mirror_contact(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if "contact" in data:
            data["contactInfo" if info.by_alias else "contact_info"] = data["contact"]
        return data


class FacilityCreate(_SendsContactTwice):
    """The body of ``POST /facilities``.

    ``organization_id``, ``facility_code`` and ``contact`` are required although the
    validator does not check them: the database needs the first two and the record stores
    ``contact`` (contract I5). ``to_wire()`` sends ``contact`` and an identical ``contactInfo``.
    """

    organization_id: UUIDStr
    facility_code: NonEmptyStr
    name: NonEmptyStr
    facility_type: FacilityType = Field(alias="type")
    address: FacilityAddressInput
    contact: FacilityContactInput
    services: list[str] | None = None
    capacity: DeclaredCapacityInput | None = None
    licensing: LicensingInput | None = None
    operating_hours: OperatingHoursInput | None = None


class FacilityUpdate(_SendsContactTwice):
    """The partial body of ``PUT /facilities/{id}``; ``contact`` is mirrored as on create."""

    name: NonEmptyStr | None = None
    facility_type: FacilityType | None = Field(default=None, alias="type")
    address: FacilityAddressInput | None = None
    contact: FacilityContactInput | None = None
    services: list[str] | None = None
    capacity: DeclaredCapacityInput | None = None
    licensing: LicensingInput | None = None
    operating_hours: OperatingHoursInput | None = None
    status: FacilityStatus | None = None
    is_active: bool | None = None


class FacilityStats(StorageRowModel):
    """``/facilities/{id}/analytics`` figures: a snake_case row with counts as decimal
    strings, normalised and converted to ints (contract I16). A count is ``None`` when the server
    sends ``null`` (an SQL sum over no rows)."""

    facility_id: str
    name: str | None = None
    facility_type: _OpenFacilityType | None = Field(default=None, alias="type")
    department_count: Count | None = None
    ward_count: Count | None = None
    total_beds: Count | None = None
    available_beds: Count | None = None
    occupied_beds: Count | None = None


class FacilityAnalytics(FacilityStats):
    """``GET /facilities/{id}/analytics``: the stats plus the echoed ``period``
    (``"current"`` when none was asked for) and the server's ``timestamp``."""

    period: str = "current"
    timestamp: datetime | None = None


class FacilityCapacity(FacilityStats):
    """``GET /facilities/{id}/capacity``: live counts plus the declared ``capacity`` (contract I16).
    Close to live (the server may be up to 60 s behind); the library never caches it."""

    capacity: DeclaredCapacity | None = None


# --- departments (contract §3.3)
# ---------------------------------------------------------------------


class Department(ResponseModel):
    row_id: int | str | None = Field(default=None, alias="id")
    department_id: str
    facility_id: str
    name: str
    code: str
    specialization: str
    description: str | None = None
    head_of_department: str | None = None
    floor: int | None = None
    building: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    is_active: bool | None = None
    operating_hours: dict[str, DayHours] | None = None
    staff_count: Count | None = None
    metadata: dict[str, Any] | None = None
    created_by: str | None = None
    updated_by: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class DepartmentCreate(RequestBody):
    """The body of ``POST /departments``; ``code`` must be unique within the facility."""

    facility_id: UUIDStr
    name: NonEmptyStr
    code: NonEmptyStr
    specialization: NonEmptyStr
    floor: NonNegativeInt | None = None
    building: str | None = None
    contact_phone: str | None = None
    contact_email: Email | None = None
    description: str | None = None
    head_of_department: UUIDStr | None = None
    operating_hours: dict[Weekday, DayHoursInput] | None = None


class DepartmentUpdate(RequestBody):
    """The partial body of ``PUT /departments/{id}``; ``code`` and ``facility_id`` cannot
    change, so they are not fields (sending them is refused)."""

    name: NonEmptyStr | None = None
    specialization: NonEmptyStr | None = None
    floor: NonNegativeInt | None = None
    building: str | None = None
    contact_phone: str | None = None
    contact_email: Email | None = None
    is_active: bool | None = None
    description: str | None = None
    head_of_department: UUIDStr | None = None
    operating_hours: dict[Weekday, DayHoursInput] | None = None


# --- wards (contract §3.4)
# ---------------------------------------------------------------------------


class Ward(ResponseModel):
    """A ward. ``occupied_beds``/``available_beds`` are live counters, so wards are never
    cached by the library."""

    row_id: int | str | None = Field(default=None, alias="id")
    ward_id: str
    facility_id: str
    department_id: str
    name: str
    ward_code: str
    ward_type: _OpenWardType
    total_beds: Count
    occupied_beds: Count | None = None
    available_beds: Count | None = None
    floor: int | None = None
    nurse_station_phone: str | None = None
    status: _OpenWardStatus | None = None
    is_active: bool | None = None
    specialty_type: str | None = None
    gender_restriction: _OpenGenderRestriction | None = None
    metadata: dict[str, Any] | None = None
    created_by: str | None = None
    updated_by: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class WardCreate(RequestBody):
    """The body of ``POST /wards``; the ward starts ``active`` with every bed available."""

    facility_id: UUIDStr
    department_id: UUIDStr
    name: NonEmptyStr
    ward_code: NonEmptyStr
    ward_type: WardType
    total_beds: Annotated[int, Field(ge=1)]
    floor: NonNegativeInt | None = None
    nurse_station_phone: str | None = None
    gender_restriction: GenderRestriction | None = None
    specialty_type: str | None = None


class WardUpdate(RequestBody):
    name: NonEmptyStr | None = None
    ward_type: WardType | None = None
    total_beds: Annotated[int, Field(ge=1)] | None = None
    floor: NonNegativeInt | None = None
    nurse_station_phone: str | None = None
    status: WardStatus | None = None
    is_active: bool | None = None
    gender_restriction: GenderRestriction | None = None
    specialty_type: str | None = None


class WardOccupancy(StorageRowModel):
    """``GET /wards/{id}/occupancy``: a snake_case row (contract I16). ``occupancy_rate`` is a
    percentage (0-100) of occupied over total beds; ``last_updated`` is the server's time."""

    ward_id: str
    ward_name: str | None = None
    total_beds: Count
    occupied_beds: Count
    available_beds: Count
    occupancy_rate: float | None = None
    last_updated: datetime | None = None


# --- beds (contract §3.5)
# ----------------------------------------------------------------------------


def _refuse_occupied(value: BedStatus | None) -> BedStatus | None:
    if value == BedStatus.OCCUPIED:
        raise ValueError("a bed becomes occupied only through assign_bed (POST /beds/{id}/assign)")
    return value


class Bed(PhiRedactedRepr, ResponseModel):
    """A bed. Live data: never cached; assignment decisions rest on assign alone (contract I19).

    ``bed_status`` and ``patient_id`` read the wire ``bedStatus`` and ``patientId`` (contract I17);
    the
    legacy ``status`` and ``currentPatientId`` are accepted when those are absent. ``repr()``
    leaves out ``notes`` and the assignment dates, which belong to a patient's stay.
    """

    _repr_fields: ClassVar[tuple[str, ...]] = (
        "bed_id",
        "ward_id",
        "bed_number",
        "bed_type",
        "bed_status",
        "patient_id",
        "is_active",
    )

    row_id: int | str | None = Field(default=None, alias="id")
    bed_id: str
    facility_id: str
    department_id: str
    ward_id: str
    bed_number: str
    bed_type: _OpenBedType
    bed_status: _OpenBedStatus = Field(validation_alias=AliasChoices("bedStatus", "status"))
    patient_id: str | None = Field(
        default=None, validation_alias=AliasChoices("patientId", "currentPatientId")
    )
    assignment_date: datetime | None = None
    expected_discharge_date: datetime | None = None
    location: str | None = None
    has_oxygen: bool | None = None
    has_monitor: bool | None = None
    has_ventilator: bool | None = None
    isolation_capable: bool | None = None
    is_active: bool | None = None
    notes: str | None = None
    last_maintenance_date: datetime | None = None
    metadata: dict[str, Any] | None = None
    created_by: str | None = None
    updated_by: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class BedCreate(RequestBody):
    """The body of ``POST /beds``; the bed starts ``available``. Equipment flags are sent
    only when given."""

    facility_id: UUIDStr
    department_id: UUIDStr
    ward_id: UUIDStr
    bed_number: NonEmptyStr
    bed_type: BedType
    location: str | None = None
    has_oxygen: bool | None = None
    has_monitor: bool | None = None
    has_ventilator: bool | None = None
    isolation_capable: bool | None = None


class BedUpdate(PhiRedactedRepr, RequestBody):
    """The partial body of ``PUT /beds/{id}`` (also the way to retire a bed: there is no
    delete, send ``is_active=False``). ``bed_status`` may not be ``occupied`` (contract I20)."""

    _repr_fields: ClassVar[tuple[str, ...]] = ("bed_number", "bed_type", "bed_status", "is_active")

    bed_number: NonEmptyStr | None = None
    bed_type: BedType | None = None
    bed_status: BedStatus | None = None
    location: str | None = None
    has_oxygen: bool | None = None
    has_monitor: bool | None = None
    has_ventilator: bool | None = None
    isolation_capable: bool | None = None
    is_active: bool | None = None
    notes: str | None = None
    last_maintenance_date: UtcDatetime | None = None

    @field_validator("bed_status")
    @classmethod
    def _not_occupied(cls, value: BedStatus | None) -> BedStatus | None:
        return _refuse_occupied(value)


class BedStatusUpdate(RequestBody):
    """The body of ``PUT /beds/{id}/status``: ``status`` only (contract I17). ``occupied`` is
    refused
    here because it would leave a bed occupied with no patient; use assign (contract I20)."""

    status: BedStatus

    @field_validator("status")
    @classmethod
    def _not_occupied(cls, value: BedStatus) -> BedStatus:
        _refuse_occupied(value)
        return value


class BedAssign(PhiRedactedRepr, RequestBody):
    """The body of ``POST /beds/{id}/assign``. Never retried automatically (contract I19)."""

    _repr_fields: ClassVar[tuple[str, ...]] = ("patient_id",)

    patient_id: UUIDStr
    assignment_date: UtcDatetime | None = None
    expected_discharge_date: UtcDatetime | None = None
    notes: str | None = None

    @model_validator(mode="after")
    def _discharge_after_assignment(self) -> Self:
        start, end = self.assignment_date, self.expected_discharge_date
        if start is not None and end is not None and end < start:
            raise ValueError("expectedDischargeDate must be on or after assignmentDate")
        return self


class BedRelease(PhiRedactedRepr, RequestBody):
    """The body of ``POST /beds/{id}/release``; the bed goes to ``cleaning``."""

    release_reason: str | None = None


class BedHistoryEntry(PhiRedactedRepr, StorageRowModel):
    """One assignment of a bed, newest first: a snake_case row (contract I16). ``discharge_date`` is
    ``None`` while the bed is occupied; ``reason`` holds the assign notes, then the release
    reason, so it is kept out of ``repr()``."""

    _repr_fields: ClassVar[tuple[str, ...]] = ("row_id", "bed_id", "patient_id")

    row_id: int | str | None = Field(default=None, alias="id")
    bed_id: str
    patient_id: str
    assignment_date: datetime
    discharge_date: datetime | None = None
    duration: Count | None = None
    reason: str | None = None
    created_at: datetime | None = None


# --- settings (contract §3.6)
# ------------------------------------------------------------------------


class FacilitySettings(ResponseModel):
    """A facility's reference settings. A field the server leaves out takes the documented
    default, which is what the first read creates."""

    row_id: int | str | None = Field(default=None, alias="id")
    settings_id: str | None = None
    facility_id: str
    timezone: str = "Africa/Khartoum"
    date_format: str = "YYYY-MM-DD"
    time_format: _OpenTimeFormat = TimeFormat.H24
    language: str = "en"
    currency: str = "SDG"
    default_appointment_duration: int = 30
    allow_walk_ins: bool = True
    max_advance_booking_days: int = 90
    cancellation_notice_period: int = 24
    email_notifications_enabled: bool = True
    sms_notifications_enabled: bool = True
    appointment_reminder_hours: list[int] = Field(default_factory=lambda: [24, 2])
    automatic_bed_release: bool = False
    bed_cleaning_duration: int = 30
    require_insurance: bool = False
    require_referral: bool = False
    allow_online_booking: bool = True
    custom_settings: dict[str, Any] = Field(default_factory=dict)
    created_by: str | None = None
    updated_by: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class FacilitySettingsUpdate(RequestBody):
    """The partial body of ``PUT /settings/facility/{facilityId}``, with the update rules."""

    timezone: NonEmptyStr | None = None
    date_format: NonEmptyStr | None = None
    time_format: TimeFormat | None = None
    language: NonEmptyStr | None = None
    currency: NonEmptyStr | None = None
    default_appointment_duration: Annotated[int, Field(ge=5, le=240)] | None = None
    allow_walk_ins: bool | None = None
    max_advance_booking_days: Annotated[int, Field(ge=1, le=365)] | None = None
    cancellation_notice_period: NonNegativeInt | None = None
    email_notifications_enabled: bool | None = None
    sms_notifications_enabled: bool | None = None
    appointment_reminder_hours: list[int] | None = None
    automatic_bed_release: bool | None = None
    bed_cleaning_duration: Annotated[int, Field(ge=5)] | None = None
    require_insurance: bool | None = None
    require_referral: bool | None = None
    allow_online_booking: bool | None = None
    custom_settings: dict[str, Any] | None = None

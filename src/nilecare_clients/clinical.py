"""``ClinicalServiceClient`` and ``AsyncClinicalServiceClient``: patients, encounters,
medications, diagnostics and statistics (contract §2).

Every route is declared once in the table below; each method of both twins is its signature,
its docstring and one line over its declaration. Nothing here is cached: patient records and
clinical data are live PHI (contract §4.3). Create calls send an ``Idempotency-Key`` made once
per call and reused by every attempt.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from nilecare_clients._client import AsyncBaseServiceClient, BaseServiceClient
from nilecare_clients._endpoint import (
    Endpoint,
    Param,
    Safety,
    check_range,
    page_params,
    uuid_param,
)
from nilecare_clients._errors import (
    InvalidRequestError,
    NotFoundError,
    PrescriptionBlockedError,
    PrescriptionOverrideRequiredError,
    ServiceError,
)
from nilecare_clients.models.clinical import (
    ClinicalStats,
    Diagnostic,
    DiagnosticCreate,
    DiagnosticResults,
    DiagnosticUpdate,
    Encounter,
    EncounterComplete,
    EncounterCreate,
    EncounterRecord,
    EncounterSummary,
    Medication,
    MedicationCreate,
    MedicationDiscontinue,
    Patient,
    PatientCreate,
    PatientEncounters,
    PatientSummary,
    PatientUpdate,
    PrescriptionResult,
    RecentPatients,
    StatsCount,
    TodayEncounters,
)
from nilecare_clients.models.common import Page

__all__ = ["AsyncClinicalServiceClient", "ClinicalServiceClient"]

#: The Clinical service's largest page (contract I12); a larger ``limit`` is refused.
MAX_LIMIT = 100
_PAGE = page_params(MAX_LIMIT)


def _prescription_error(error: ServiceError) -> ServiceError:
    """Prescription refusals carry ``requiresOverride`` / ``blocked`` at the top level
    (contract I14)."""
    try:
        body = json.loads(error.body or b"null")
    except ValueError:
        return error
    if not isinstance(body, dict):
        return error
    if error.status_code == 400 and body.get("requiresOverride") is True:
        return PrescriptionOverrideRequiredError.refining(error, body.get("safetyAssessment"))
    if error.status_code == 403 and body.get("blocked") is True:
        return PrescriptionBlockedError.refining(error, body.get("safetyAssessment"))
    return error


def _prescription(content: bytes) -> PrescriptionResult:
    decoded = json.loads(content)
    if not isinstance(decoded, dict):
        raise ValueError("body is not a JSON object")
    return PrescriptionResult.from_body(decoded)


def _get(route: str, returns: Any, id_name: str) -> Endpoint[Any]:
    """A get-by-id: ``data: null`` means not found (contract I11)."""
    return Endpoint(
        "GET", route, Safety.READ, returns=returns, ids=(id_name,), null_is_not_found=True
    )


# -- the routes (contract §2), each declared once -------------------------------------------
GET_PATIENT: Endpoint[Patient] = _get("/api/v1/patients/{id}", Patient, "patient_id")
LIST_PATIENTS: Endpoint[Page[Patient]] = Endpoint(
    "GET",
    "/api/v1/patients",
    Safety.READ,
    returns=Page[Patient],
    key="patients",
    # contract I13: filters and sort/order only when given; page and limit always (contract I12).
    query=(*_PAGE, Param("search"), Param("sort"), Param("order")),
)
CREATE_PATIENT: Endpoint[Patient] = Endpoint(
    "POST", "/api/v1/patients", Safety.KEYED, returns=Patient, body=PatientCreate
)
UPDATE_PATIENT: Endpoint[Patient] = Endpoint(
    "PUT",
    "/api/v1/patients/{id}",
    Safety.IDEMPOTENT,
    returns=Patient,
    ids=("patient_id",),
    body=PatientUpdate,
)
DELETE_PATIENT: Endpoint[None] = Endpoint(
    "DELETE", "/api/v1/patients/{id}", Safety.IDEMPOTENT, ids=("patient_id",)
)
PATIENT_ENCOUNTERS: Endpoint[list[EncounterRecord]] = Endpoint(
    "GET",
    "/api/v1/patients/{id}/encounters",
    Safety.READ,
    returns=PatientEncounters,
    ids=("patient_id",),
    query=_PAGE,
    convert=lambda result: list(result.encounters),
)
RECENT_PATIENTS: Endpoint[list[PatientSummary]] = Endpoint(
    "GET",
    "/api/v1/stats/patients/recent",
    Safety.READ,
    returns=RecentPatients,
    # contract I27: no upper bound upstream, so ours (100) keeps an answer bounded.
    query=(_PAGE[1],),
    convert=lambda result: list(result.patients),
)
PATIENTS_COUNT: Endpoint[int] = Endpoint(
    "GET",
    "/api/v1/stats/patients/count",
    Safety.READ,
    returns=StatsCount,
    convert=lambda result: int(result.count),
)
ENCOUNTERS_COUNT: Endpoint[int] = Endpoint(
    "GET",
    "/api/v1/stats/encounters/count",
    Safety.READ,
    returns=StatsCount,
    convert=lambda result: int(result.count),
)
ALL_STATS: Endpoint[ClinicalStats] = Endpoint(
    "GET", "/api/v1/stats", Safety.READ, returns=ClinicalStats
)
TODAY_ENCOUNTERS: Endpoint[list[EncounterSummary]] = Endpoint(
    "GET",
    "/api/v1/stats/encounters/today",
    Safety.READ,
    returns=TodayEncounters,
    convert=lambda result: list(result.encounters),
)
GET_ENCOUNTER: Endpoint[Encounter] = _get("/api/v1/encounters/{id}", Encounter, "encounter_id")
LIST_ENCOUNTERS: Endpoint[Page[Encounter]] = Endpoint(
    "GET",
    "/api/v1/encounters",
    Safety.READ,
    returns=Page[Encounter],
    key="encounters",
    query=(
        *_PAGE,
        uuid_param("patient_id", "patientId"),
        uuid_param("provider_id", "providerId"),
        Param("status"),
    ),
)
CREATE_ENCOUNTER: Endpoint[Encounter] = Endpoint(
    "POST", "/api/v1/encounters", Safety.KEYED, returns=Encounter, body=EncounterCreate
)
UPDATE_ENCOUNTER: Endpoint[Encounter] = Endpoint(
    "PUT",
    "/api/v1/encounters/{id}",
    Safety.IDEMPOTENT,
    returns=Encounter,
    ids=("encounter_id",),
    body=EncounterCreate,
)
COMPLETE_ENCOUNTER: Endpoint[Encounter] = Endpoint(
    "PATCH",
    "/api/v1/encounters/{id}/complete",
    Safety.ONCE,
    returns=Encounter,
    ids=("encounter_id",),
    body=EncounterComplete,
)
GET_MEDICATION: Endpoint[Medication] = _get("/api/v1/medications/{id}", Medication, "medication_id")
LIST_MEDICATIONS: Endpoint[Page[Medication]] = Endpoint(
    "GET",
    "/api/v1/medications",
    Safety.READ,
    returns=Page[Medication],
    key="medications",
    query=(*_PAGE, uuid_param("patient_id", "patientId"), Param("status")),
)
PRESCRIBE: Endpoint[PrescriptionResult] = Endpoint(
    "POST",
    "/api/v1/medications",
    Safety.KEYED,
    body=MedicationCreate,
    parse=_prescription,
    refine=_prescription_error,
)
UPDATE_MEDICATION: Endpoint[Medication] = Endpoint(
    "PUT",
    "/api/v1/medications/{id}",
    Safety.IDEMPOTENT,
    returns=Medication,
    ids=("medication_id",),
    body=MedicationCreate,
)
DISCONTINUE_MEDICATION: Endpoint[None] = Endpoint(
    "PATCH",
    "/api/v1/medications/{id}/discontinue",
    Safety.ONCE,
    ids=("medication_id",),
    body=MedicationDiscontinue,
)
GET_DIAGNOSTIC: Endpoint[Diagnostic] = _get("/api/v1/diagnostics/{id}", Diagnostic, "diagnostic_id")
LIST_DIAGNOSTICS: Endpoint[Page[Diagnostic]] = Endpoint(
    "GET",
    "/api/v1/diagnostics",
    Safety.READ,
    returns=Page[Diagnostic],
    key="diagnostics",
    query=(
        *_PAGE,
        uuid_param("patient_id", "patientId"),
        Param("status"),
        Param("test_type", "testType"),
    ),
)
ORDER_DIAGNOSTIC: Endpoint[Diagnostic] = Endpoint(
    "POST", "/api/v1/diagnostics", Safety.KEYED, returns=Diagnostic, body=DiagnosticCreate
)
UPDATE_DIAGNOSTIC: Endpoint[Diagnostic] = Endpoint(
    "PUT",
    "/api/v1/diagnostics/{id}",
    Safety.IDEMPOTENT,
    returns=Diagnostic,
    ids=("diagnostic_id",),
    body=DiagnosticUpdate,
)
ADD_DIAGNOSTIC_RESULTS: Endpoint[Diagnostic] = Endpoint(
    "PATCH",
    "/api/v1/diagnostics/{id}/results",
    Safety.ONCE,
    returns=Diagnostic,
    ids=("diagnostic_id",),
    body=DiagnosticResults,
)


def _search_term(query: object) -> str:
    if not isinstance(query, str) or not query.strip():
        raise InvalidRequestError("query must be a non-empty string")
    return query


class ClinicalServiceClient(BaseServiceClient):
    """Synchronous client of the Clinical service (contract §2). Nothing is cached.

    Every call is access-audited on the ``nilecare_clients.audit`` logger (patient data).
    """

    _audited = True

    # -- patients -------------------------------------------------------------------------
    def get_patient(self, patient_id: str) -> Patient:
        """The patient, or ``NotFoundError`` (also for another organisation's patient)."""
        return self._run(GET_PATIENT, patient_id)

    def patient_exists(self, patient_id: str) -> bool:
        """True if found, False only on a 404: any other failure raises, never False."""
        try:
            self._run(GET_PATIENT, patient_id)
        except NotFoundError:
            return False
        return True

    def list_patients(
        self,
        page: int = 1,
        limit: int = 20,
        search: str | None = None,
        *,
        sort: str | None = None,
        order: str | None = None,
    ) -> Page[Patient]:
        """One page of patients; ``search`` matches first/last name or email (contract I13).

        ``page`` >= 1 and ``limit`` 1-100 (the service's cap), else ``InvalidRequestError``.
        """
        return self._run(
            LIST_PATIENTS, page=page, limit=limit, search=search, sort=sort, order=order
        )

    def iter_patients(self, search: str | None = None, page_size: int = 100) -> Iterator[Patient]:
        """Every patient, page by page; stops at the last page or an empty one (contract I12).

        ``page_size`` 1-100 (the service's cap), else ``InvalidRequestError``.
        """
        check_range("page_size", page_size, 1, MAX_LIMIT)
        page = 1
        while True:
            result = self.list_patients(page=page, limit=page_size, search=search)
            yield from result.items
            if not result.items or not result.has_next:
                return
            page += 1

    def search_patients(self, query: str, page: int = 1, limit: int = 20) -> Page[Patient]:
        """Patients whose name or email contains ``query`` (``GET /patients?search=``,
        contract I7); ``limit`` 1-100."""
        return self._run(LIST_PATIENTS, page=page, limit=limit, search=_search_term(query))

    def get_recent_patients(self, limit: int = 20) -> list[PatientSummary]:
        """The newest patients (``/stats/patients/recent``); ``limit`` 1-100 (contract I27)."""
        return self._run(RECENT_PATIENTS, limit=limit)

    def create_patient(
        self, body: PatientCreate | Mapping[str, Any], idempotency_key: str | None = None
    ) -> Patient:
        """Create a patient; sends ``Idempotency-Key`` (generated when not given, contract I26)."""
        return self._run(CREATE_PATIENT, body=body, idempotency_key=idempotency_key)

    def update_patient(self, patient_id: str, body: PatientUpdate | Mapping[str, Any]) -> Patient:
        """Partial update; the echo may omit address and emergency contact (contract I15)."""
        return self._run(UPDATE_PATIENT, patient_id, body=body)

    def delete_patient(self, patient_id: str) -> None:
        """Delete a patient (a hard delete upstream, contract I22); a later get raises
        NotFoundError."""
        return self._run(DELETE_PATIENT, patient_id)

    def get_patient_encounters(
        self, patient_id: str, page: int = 1, limit: int = 20
    ) -> list[EncounterRecord]:
        """The patient's encounters, newest first (raw storage rows, normalised: contract I16)."""
        return self._run(PATIENT_ENCOUNTERS, patient_id, page=page, limit=limit)

    # -- encounters -----------------------------------------------------------------------
    def get_encounter(self, encounter_id: str) -> Encounter:
        """The encounter, or ``NotFoundError`` (also for ``data: null``, contract I11)."""
        return self._run(GET_ENCOUNTER, encounter_id)

    def list_encounters(
        self,
        page: int = 1,
        limit: int = 20,
        *,
        patient_id: str | None = None,
        provider_id: str | None = None,
        status: str | None = None,
    ) -> Page[Encounter]:
        """A page of encounters; each filter is sent only when given (contract I13)."""
        return self._run(
            LIST_ENCOUNTERS,
            page=page,
            limit=limit,
            patient_id=patient_id,
            provider_id=provider_id,
            status=status,
        )

    def create_encounter(
        self, body: EncounterCreate | Mapping[str, Any], idempotency_key: str | None = None
    ) -> Encounter:
        """Create an encounter; sends ``Idempotency-Key`` (generated when not given,
        contract I26)."""
        return self._run(CREATE_ENCOUNTER, body=body, idempotency_key=idempotency_key)

    def update_encounter(
        self, encounter_id: str, body: EncounterCreate | Mapping[str, Any]
    ) -> Encounter:
        """Replace an encounter: the service needs the full body again (contract §2.3)."""
        return self._run(UPDATE_ENCOUNTER, encounter_id, body=body)

    def complete_encounter(
        self, encounter_id: str, body: EncounterComplete | Mapping[str, Any] | None = None
    ) -> Encounter:
        """Mark an encounter completed; not repeated after an ambiguous failure (PATCH)."""
        return self._run(COMPLETE_ENCOUNTER, encounter_id, body=body)

    def get_today_encounters(self) -> list[EncounterSummary]:
        """Encounters scheduled for the server's today (``/stats/encounters/today``)."""
        return self._run(TODAY_ENCOUNTERS)

    # -- statistics -----------------------------------------------------------------------
    def get_patients_count(self) -> int:
        """The organisation's patient count (soft-deleted rows left out). Not cached."""
        return self._run(PATIENTS_COUNT)

    def get_encounters_count(self) -> int:
        """The organisation's encounter count (soft-deleted rows left out). Not cached."""
        return self._run(ENCOUNTERS_COUNT)

    def get_all_stats(self) -> ClinicalStats:
        """Patient and encounter totals for the caller's organisation (``GET /stats``,
        contract I7)."""
        return self._run(ALL_STATS)

    # -- medications ----------------------------------------------------------------------
    def get_medication(self, medication_id: str) -> Medication:
        """A medication; ``data: null`` from the placeholder handler raises NotFoundError
        (contract I11)."""
        return self._run(GET_MEDICATION, medication_id)

    def list_medications(
        self,
        page: int = 1,
        limit: int = 20,
        *,
        patient_id: str | None = None,
        status: str | None = None,
    ) -> Page[Medication]:
        """A page of medications (the unpatched service always answers an empty page)."""
        return self._run(
            LIST_MEDICATIONS, page=page, limit=limit, patient_id=patient_id, status=status
        )

    def prescribe_medication(
        self, body: MedicationCreate | Mapping[str, Any], idempotency_key: str | None = None
    ) -> PrescriptionResult:
        """Prescribe; a refusal raises PrescriptionOverrideRequiredError or
        PrescriptionBlockedError (contract I14)."""
        return self._run(PRESCRIBE, body=body, idempotency_key=idempotency_key)

    def update_medication(
        self, medication_id: str, body: MedicationCreate | Mapping[str, Any]
    ) -> Medication:
        """Replace a medication: the service needs the full body again (contract §2.4)."""
        return self._run(UPDATE_MEDICATION, medication_id, body=body)

    def discontinue_medication(
        self, medication_id: str, body: MedicationDiscontinue | Mapping[str, Any] | None = None
    ) -> None:
        """Discontinue a medication; not repeated after an ambiguous failure (PATCH)."""
        return self._run(DISCONTINUE_MEDICATION, medication_id, body=body)

    # -- diagnostics ----------------------------------------------------------------------
    def get_diagnostic(self, diagnostic_id: str) -> Diagnostic:
        """The diagnostic order and its results, or ``NotFoundError``."""
        return self._run(GET_DIAGNOSTIC, diagnostic_id)

    def list_diagnostics(
        self,
        page: int = 1,
        limit: int = 20,
        *,
        patient_id: str | None = None,
        status: str | None = None,
        test_type: str | None = None,
    ) -> Page[Diagnostic]:
        """A page of diagnostics; each filter is sent only when given (contract I13)."""
        return self._run(
            LIST_DIAGNOSTICS,
            page=page,
            limit=limit,
            patient_id=patient_id,
            status=status,
            test_type=test_type,
        )

    def order_diagnostic(
        self, body: DiagnosticCreate | Mapping[str, Any], idempotency_key: str | None = None
    ) -> Diagnostic:
        """Order a diagnostic; sends ``Idempotency-Key`` (generated when not given,
        contract I26)."""
        return self._run(ORDER_DIAGNOSTIC, body=body, idempotency_key=idempotency_key)

    def update_diagnostic(
        self, diagnostic_id: str, body: DiagnosticUpdate | Mapping[str, Any]
    ) -> Diagnostic:
        """Partial update of a diagnostic order."""
        return self._run(UPDATE_DIAGNOSTIC, diagnostic_id, body=body)

    def add_diagnostic_results(
        self, diagnostic_id: str, body: DiagnosticResults | Mapping[str, Any]
    ) -> Diagnostic:
        """Record results (``completed_date`` required); not repeated after an ambiguous failure."""
        return self._run(ADD_DIAGNOSTIC_RESULTS, diagnostic_id, body=body)


class AsyncClinicalServiceClient(AsyncBaseServiceClient):
    """The asyncio twin of ``ClinicalServiceClient``: same methods, same behaviour.

    Every call is access-audited on the ``nilecare_clients.audit`` logger (patient data).
    """

    _audited = True

    # -- patients -------------------------------------------------------------------------
    async def get_patient(self, patient_id: str) -> Patient:
        """The patient, or ``NotFoundError`` (also for another organisation's patient)."""
        return await self._arun(GET_PATIENT, patient_id)

    async def patient_exists(self, patient_id: str) -> bool:
        """True if found, False only on a 404: any other failure raises, never False."""
        try:
            await self._arun(GET_PATIENT, patient_id)
        except NotFoundError:
            return False
        return True

    async def list_patients(
        self,
        page: int = 1,
        limit: int = 20,
        search: str | None = None,
        *,
        sort: str | None = None,
        order: str | None = None,
    ) -> Page[Patient]:
        """One page of patients; ``search`` matches first/last name or email (contract I13).

        ``page`` >= 1 and ``limit`` 1-100 (the service's cap), else ``InvalidRequestError``.
        """
        return await self._arun(
            LIST_PATIENTS, page=page, limit=limit, search=search, sort=sort, order=order
        )

    async def iter_patients(
        self, search: str | None = None, page_size: int = 100
    ) -> AsyncIterator[Patient]:
        """Every patient, page by page; stops at the last page or an empty one (contract I12).

        ``page_size`` 1-100 (the service's cap), else ``InvalidRequestError``.
        """
        check_range("page_size", page_size, 1, MAX_LIMIT)
        page = 1
        while True:
            result = await self.list_patients(page=page, limit=page_size, search=search)
            for patient in result.items:
                yield patient
            if not result.items or not result.has_next:
                return
            page += 1

    async def search_patients(self, query: str, page: int = 1, limit: int = 20) -> Page[Patient]:
        """Patients whose name or email contains ``query`` (``GET /patients?search=``,
        contract I7); ``limit`` 1-100."""
        return await self._arun(LIST_PATIENTS, page=page, limit=limit, search=_search_term(query))

    async def get_recent_patients(self, limit: int = 20) -> list[PatientSummary]:
        """The newest patients (``/stats/patients/recent``); ``limit`` 1-100 (contract I27)."""
        return await self._arun(RECENT_PATIENTS, limit=limit)

    async def create_patient(
        self, body: PatientCreate | Mapping[str, Any], idempotency_key: str | None = None
    ) -> Patient:
        """Create a patient; sends ``Idempotency-Key`` (generated when not given, contract I26)."""
        return await self._arun(CREATE_PATIENT, body=body, idempotency_key=idempotency_key)

    async def update_patient(
        self, patient_id: str, body: PatientUpdate | Mapping[str, Any]
    ) -> Patient:
        """Partial update; the echo may omit address and emergency contact (contract I15)."""
        return await self._arun(UPDATE_PATIENT, patient_id, body=body)

    async def delete_patient(self, patient_id: str) -> None:
        """Delete a patient (a hard delete upstream, contract I22); a later get raises
        NotFoundError."""
        return await self._arun(DELETE_PATIENT, patient_id)

    async def get_patient_encounters(
        self, patient_id: str, page: int = 1, limit: int = 20
    ) -> list[EncounterRecord]:
        """The patient's encounters, newest first (raw storage rows, normalised: contract I16)."""
        return await self._arun(PATIENT_ENCOUNTERS, patient_id, page=page, limit=limit)

    # -- encounters -----------------------------------------------------------------------
    async def get_encounter(self, encounter_id: str) -> Encounter:
        """The encounter, or ``NotFoundError`` (also for ``data: null``, contract I11)."""
        return await self._arun(GET_ENCOUNTER, encounter_id)

    async def list_encounters(
        self,
        page: int = 1,
        limit: int = 20,
        *,
        patient_id: str | None = None,
        provider_id: str | None = None,
        status: str | None = None,
    ) -> Page[Encounter]:
        """A page of encounters; each filter is sent only when given (contract I13)."""
        return await self._arun(
            LIST_ENCOUNTERS,
            page=page,
            limit=limit,
            patient_id=patient_id,
            provider_id=provider_id,
            status=status,
        )

    async def create_encounter(
        self, body: EncounterCreate | Mapping[str, Any], idempotency_key: str | None = None
    ) -> Encounter:
        """Create an encounter; sends ``Idempotency-Key`` (generated when not given,
        contract I26)."""
        return await self._arun(CREATE_ENCOUNTER, body=body, idempotency_key=idempotency_key)

    async def update_encounter(
        self, encounter_id: str, body: EncounterCreate | Mapping[str, Any]
    ) -> Encounter:
        """Replace an encounter: the service needs the full body again (contract §2.3)."""
        return await self._arun(UPDATE_ENCOUNTER, encounter_id, body=body)

    async def complete_encounter(
        self, encounter_id: str, body: EncounterComplete | Mapping[str, Any] | None = None
    ) -> Encounter:
        """Mark an encounter completed; not repeated after an ambiguous failure (PATCH)."""
        return await self._arun(COMPLETE_ENCOUNTER, encounter_id, body=body)

    async def get_today_encounters(self) -> list[EncounterSummary]:
        """Encounters scheduled for the server's today (``/stats/encounters/today``)."""
        return await self._arun(TODAY_ENCOUNTERS)

    # -- statistics -----------------------------------------------------------------------
    async def get_patients_count(self) -> int:
        """The organisation's patient count (soft-deleted rows left out). Not cached."""
        return await self._arun(PATIENTS_COUNT)

    async def get_encounters_count(self) -> int:
        """The organisation's encounter count (soft-deleted rows left out). Not cached."""
        return await self._arun(ENCOUNTERS_COUNT)

    async def get_all_stats(self) -> ClinicalStats:
        """Patient and encounter totals for the caller's organisation (``GET /stats``,
        contract I7)."""
        return await self._arun(ALL_STATS)

    # -- medications ----------------------------------------------------------------------
    async def get_medication(self, medication_id: str) -> Medication:
        """A medication; ``data: null`` from the placeholder handler raises NotFoundError
        (contract I11)."""
        return await self._arun(GET_MEDICATION, medication_id)

    async def list_medications(
        self,
        page: int = 1,
        limit: int = 20,
        *,
        patient_id: str | None = None,
        status: str | None = None,
    ) -> Page[Medication]:
        """A page of medications (the unpatched service always answers an empty page)."""
        return await self._arun(
            LIST_MEDICATIONS, page=page, limit=limit, patient_id=patient_id, status=status
        )

    async def prescribe_medication(
        self, body: MedicationCreate | Mapping[str, Any], idempotency_key: str | None = None
    ) -> PrescriptionResult:
        """Prescribe; a refusal raises PrescriptionOverrideRequiredError or
        PrescriptionBlockedError (contract I14)."""
        return await self._arun(PRESCRIBE, body=body, idempotency_key=idempotency_key)

    async def update_medication(
        self, medication_id: str, body: MedicationCreate | Mapping[str, Any]
    ) -> Medication:
        """Replace a medication: the service needs the full body again (contract §2.4)."""
        return await self._arun(UPDATE_MEDICATION, medication_id, body=body)

    async def discontinue_medication(
        self, medication_id: str, body: MedicationDiscontinue | Mapping[str, Any] | None = None
    ) -> None:
        """Discontinue a medication; not repeated after an ambiguous failure (PATCH)."""
        return await self._arun(DISCONTINUE_MEDICATION, medication_id, body=body)

    # -- diagnostics ----------------------------------------------------------------------
    async def get_diagnostic(self, diagnostic_id: str) -> Diagnostic:
        """The diagnostic order and its results, or ``NotFoundError``."""
        return await self._arun(GET_DIAGNOSTIC, diagnostic_id)

    async def list_diagnostics(
        self,
        page: int = 1,
        limit: int = 20,
        *,
        patient_id: str | None = None,
        status: str | None = None,
        test_type: str | None = None,
    ) -> Page[Diagnostic]:
        """A page of diagnostics; each filter is sent only when given (contract I13)."""
        return await self._arun(
            LIST_DIAGNOSTICS,
            page=page,
            limit=limit,
            patient_id=patient_id,
            status=status,
            test_type=test_type,
        )

    async def order_diagnostic(
        self, body: DiagnosticCreate | Mapping[str, Any], idempotency_key: str | None = None
    ) -> Diagnostic:
        """Order a diagnostic; sends ``Idempotency-Key`` (generated when not given,
        contract I26)."""
        return await self._arun(ORDER_DIAGNOSTIC, body=body, idempotency_key=idempotency_key)

    async def update_diagnostic(
        self, diagnostic_id: str, body: DiagnosticUpdate | Mapping[str, Any]
    ) -> Diagnostic:
        """Partial update of a diagnostic order."""
        return await self._arun(UPDATE_DIAGNOSTIC, diagnostic_id, body=body)

    async def add_diagnostic_results(
        self, diagnostic_id: str, body: DiagnosticResults | Mapping[str, Any]
    ) -> Diagnostic:
        """Record results (``completed_date`` required); not repeated after an ambiguous failure."""
        return await self._arun(ADD_DIAGNOSTIC_RESULTS, diagnostic_id, body=body)

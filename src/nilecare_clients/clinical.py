"""``ClinicalServiceClient`` and ``AsyncClinicalServiceClient``: patients, encounters,
medications, diagnostics and statistics (contract §2).

Each method is one line over a plan built by a pure function below, shared by both twins.
Nothing here is cached: patient records and clinical data are live PHI (contract §4.3).
Create calls send an ``Idempotency-Key`` made once per call and reused by every attempt.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, TypeVar

from nilecare_clients._client import AsyncBaseServiceClient, BaseServiceClient
from nilecare_clients._errors import (
    InvalidRequestError,
    NotFoundError,
    PrescriptionBlocked,
    PrescriptionOverrideRequired,
    ServiceError,
)
from nilecare_clients._plan import (
    Plan,
    check_uuid,
    clamp,
    idempotency_key_for,
    page_parser,
    positive,
    query,
    wire_body,
    write_plan,
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

T = TypeVar("T")

_P = "/api/v1/patients"
_E = "/api/v1/encounters"
_M = "/api/v1/medications"
_D = "/api/v1/diagnostics"
_S = "/api/v1/stats"


def _list_query(page: int, limit: int, **filters: Any) -> dict[str, Any]:
    # contract I13: filters and sort/order only when the caller gives them; limit always sent
    # (contract I12).
    return query(page=positive(page, "page"), limit=clamp(limit, 1, 100, "limit"), **filters)


def _get(route: str, model: type[T], ident: str, name: str) -> Plan[T]:
    return Plan(
        "GET",
        route,
        path_params={"id": check_uuid(name, ident)},
        response_model=model,
        null_is_not_found=True,
    )


def _prescription_error(error: ServiceError) -> ServiceError:
    """Prescription refusals carry ``requiresOverride`` / ``blocked`` at the top level
    (contract I14)."""
    try:
        body = json.loads(error.body or b"null")
    except ValueError:
        return error
    if not isinstance(body, dict):
        return error
    cls: type[ServiceError] | None = None
    if error.status_code == 400 and body.get("requiresOverride") is True:
        cls = PrescriptionOverrideRequired
    elif error.status_code == 403 and body.get("blocked") is True:
        cls = PrescriptionBlocked
    if cls is None:
        return error
    refined = copy.copy(error)
    refined.__class__ = cls
    refined.safety_assessment = body.get("safetyAssessment")  # type: ignore[attr-defined]
    return refined


class _Plans:
    """Pure plan builders: every rule of a method lives here, once."""

    @staticmethod
    def get_patient(patient_id: str) -> Plan[Patient]:
        return _get(_P + "/{id}", Patient, patient_id, "patient_id")

    @staticmethod
    def list_patients(
        page: int, limit: int, search: str | None, sort: str | None, order: str | None
    ) -> Plan[Page[Patient]]:
        return Plan(
            "GET",
            _P,
            params=_list_query(page, limit, search=search, sort=sort, order=order),
            parse=page_parser(Patient, "patients"),
        )

    @staticmethod
    def create_patient(
        body: PatientCreate | Mapping[str, Any], idempotency_key: str | None
    ) -> Plan[Patient]:
        return Plan(
            "POST",
            _P,
            json=wire_body(PatientCreate, body),
            response_model=Patient,
            idempotency_key=idempotency_key_for(idempotency_key),
        )

    @staticmethod
    def update_patient(patient_id: str, body: PatientUpdate | Mapping[str, Any]) -> Plan[Patient]:
        return Plan(
            "PUT",
            _P + "/{id}",
            path_params={"id": check_uuid("patient_id", patient_id)},
            json=wire_body(PatientUpdate, body),
            response_model=Patient,
        )

    @staticmethod
    def delete_patient(patient_id: str) -> Plan[None]:
        return Plan(
            "DELETE", _P + "/{id}", path_params={"id": check_uuid("patient_id", patient_id)}
        )

    @staticmethod
    def get_patient_encounters(
        patient_id: str, page: int, limit: int
    ) -> Plan[list[EncounterRecord]]:
        return Plan(
            "GET",
            _P + "/{id}/encounters",
            path_params={"id": check_uuid("patient_id", patient_id)},
            params=_list_query(page, limit),
            response_model=PatientEncounters,
            convert=lambda result: list(result.encounters),
        )

    @staticmethod
    def recent_patients(limit: int) -> Plan[list[PatientSummary]]:
        return Plan(
            "GET",
            _S + "/patients/recent",
            # contract I27: no upper bound upstream
            params={"limit": clamp(limit, 1, 100, "limit")},
            response_model=RecentPatients,
            convert=lambda result: list(result.patients),
        )

    @staticmethod
    def count(route: str) -> Plan[int]:
        return Plan(
            "GET", route, response_model=StatsCount, convert=lambda result: int(result.count)
        )

    @staticmethod
    def list_of(
        route: str, model: Any, key: str, page: int, limit: int, **filters: Any
    ) -> Plan[Any]:
        for wire, name in (("patientId", "patient_id"), ("providerId", "provider_id")):
            if filters.get(wire) is not None:
                check_uuid(name, filters[wire])
        return Plan(
            "GET", route, params=_list_query(page, limit, **filters), parse=page_parser(model, key)
        )

    @staticmethod
    def prescribe(
        body: MedicationCreate | Mapping[str, Any], idempotency_key: str | None
    ) -> Plan[PrescriptionResult]:
        def parse(content: bytes) -> PrescriptionResult:
            decoded = json.loads(content)
            if not isinstance(decoded, dict):
                raise ValueError("body is not a JSON object")
            return PrescriptionResult.from_body(decoded)

        return Plan(
            "POST",
            _M,
            json=wire_body(MedicationCreate, body),
            parse=parse,
            idempotency_key=idempotency_key_for(idempotency_key),
            refine_error=_prescription_error,
        )


class ClinicalServiceClient(BaseServiceClient):
    """Synchronous client of the Clinical service (contract §2). Nothing is cached.

    Every call is access-audited on the ``nilecare_clients.audit`` logger (patient data).
    """

    _audited = True

    # -- patients -------------------------------------------------------------------------
    def get_patient(self, patient_id: str) -> Patient:
        """The patient, or ``NotFoundError`` (also for another organisation's patient)."""
        return self._run(_Plans.get_patient(patient_id))

    def patient_exists(self, patient_id: str) -> bool:
        """True if found, False only on a 404: any other failure raises, never False."""
        try:
            self._run(_Plans.get_patient(patient_id))
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
        """One page of patients; ``search`` matches first/last name or email (contract I13)."""
        return self._run(_Plans.list_patients(page, limit, search, sort, order))

    def iter_patients(self, search: str | None = None, page_size: int = 100) -> Iterator[Patient]:
        """Every patient, page by page; stops at the last page or an empty one (contract I12)."""
        page = 1
        while True:
            result = self.list_patients(page=page, limit=page_size, search=search)
            yield from result.items
            if not result.items or not result.has_next:
                return
            page += 1

    def search_patients(self, query: str, page: int = 1, limit: int = 20) -> Page[Patient]:
        """Patients whose name or email contains ``query`` (``GET /patients?search=``,
        contract I7)."""
        if not isinstance(query, str) or not query.strip():
            raise InvalidRequestError("query must be a non-empty string")
        return self._run(_Plans.list_patients(page, limit, query, None, None))

    def get_recent_patients(self, limit: int = 20) -> list[PatientSummary]:
        """The newest patients (``/stats/patients/recent``); ``limit`` clamped to 1-100
        (contract I27)."""
        return self._run(_Plans.recent_patients(limit))

    def create_patient(
        self, body: PatientCreate | Mapping[str, Any], idempotency_key: str | None = None
    ) -> Patient:
        """Create a patient; sends ``Idempotency-Key`` (generated when not given, contract I26)."""
        return self._run(_Plans.create_patient(body, idempotency_key))

    def update_patient(self, patient_id: str, body: PatientUpdate | Mapping[str, Any]) -> Patient:
        """Partial update; the echo may omit address and emergency contact (contract I15)."""
        return self._run(_Plans.update_patient(patient_id, body))

    def delete_patient(self, patient_id: str) -> None:
        """Delete a patient (a hard delete upstream, contract I22); a later get raises
        NotFoundError."""
        self._run(_Plans.delete_patient(patient_id))

    def get_patient_encounters(
        self, patient_id: str, page: int = 1, limit: int = 20
    ) -> list[EncounterRecord]:
        """The patient's encounters, newest first (raw storage rows, normalised: contract I16)."""
        return self._run(_Plans.get_patient_encounters(patient_id, page, limit))

    # -- encounters -----------------------------------------------------------------------
    def get_encounter(self, encounter_id: str) -> Encounter:
        """The encounter, or ``NotFoundError`` (also for ``data: null``, contract I11)."""
        return self._run(_get(_E + "/{id}", Encounter, encounter_id, "encounter_id"))

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
            _Plans.list_of(
                _E,
                Encounter,
                "encounters",
                page,
                limit,
                patientId=patient_id,
                providerId=provider_id,
                status=status,
            )
        )

    def create_encounter(
        self, body: EncounterCreate | Mapping[str, Any], idempotency_key: str | None = None
    ) -> Encounter:
        """Create an encounter; sends ``Idempotency-Key`` (generated when not given,
        contract I26)."""
        return self._run(
            write_plan("POST", _E, EncounterCreate, body, Encounter, None, idempotency_key)
        )

    def update_encounter(
        self, encounter_id: str, body: EncounterCreate | Mapping[str, Any]
    ) -> Encounter:
        """Replace an encounter: the service needs the full body again (contract §2.3)."""
        return self._run(
            write_plan("PUT", _E + "/{id}", EncounterCreate, body, Encounter, encounter_id)
        )

    def complete_encounter(
        self, encounter_id: str, body: EncounterComplete | Mapping[str, Any] | None = None
    ) -> Encounter:
        """Mark an encounter completed; not repeated after an ambiguous failure (PATCH)."""
        return self._run(
            write_plan(
                "PATCH",
                _E + "/{id}/complete",
                EncounterComplete,
                body or {},
                Encounter,
                encounter_id,
            )
        )

    def get_today_encounters(self) -> list[EncounterSummary]:
        """Encounters scheduled for the server's today (``/stats/encounters/today``)."""
        return self._run(
            Plan(
                "GET",
                _S + "/encounters/today",
                response_model=TodayEncounters,
                convert=lambda result: list(result.encounters),
            )
        )

    # -- statistics -----------------------------------------------------------------------
    def get_patients_count(self) -> int:
        """The organisation's patient count (soft-deleted rows left out). Not cached."""
        return self._run(_Plans.count(_S + "/patients/count"))

    def get_encounters_count(self) -> int:
        """The organisation's encounter count (soft-deleted rows left out). Not cached."""
        return self._run(_Plans.count(_S + "/encounters/count"))

    def get_all_stats(self) -> ClinicalStats:
        """Patient and encounter totals for the caller's organisation (``GET /stats``,
        contract I7)."""
        return self._run(Plan("GET", _S, response_model=ClinicalStats))

    # -- medications ----------------------------------------------------------------------
    def get_medication(self, medication_id: str) -> Medication:
        """A medication; ``data: null`` from the placeholder handler raises NotFoundError
        (contract I11)."""
        return self._run(_get(_M + "/{id}", Medication, medication_id, "medication_id"))

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
            _Plans.list_of(
                _M, Medication, "medications", page, limit, patientId=patient_id, status=status
            )
        )

    def prescribe_medication(
        self, body: MedicationCreate | Mapping[str, Any], idempotency_key: str | None = None
    ) -> PrescriptionResult:
        """Prescribe; a refusal raises PrescriptionOverrideRequired or PrescriptionBlocked
        (contract I14)."""
        return self._run(_Plans.prescribe(body, idempotency_key))

    def update_medication(
        self, medication_id: str, body: MedicationCreate | Mapping[str, Any]
    ) -> Medication:
        """Replace a medication: the service needs the full body again (contract §2.4)."""
        return self._run(
            write_plan("PUT", _M + "/{id}", MedicationCreate, body, Medication, medication_id)
        )

    def discontinue_medication(
        self, medication_id: str, body: MedicationDiscontinue | Mapping[str, Any] | None = None
    ) -> None:
        """Discontinue a medication; not repeated after an ambiguous failure (PATCH)."""
        self._run(
            write_plan(
                "PATCH",
                _M + "/{id}/discontinue",
                MedicationDiscontinue,
                body or {},
                None,
                medication_id,
            )
        )

    # -- diagnostics ----------------------------------------------------------------------
    def get_diagnostic(self, diagnostic_id: str) -> Diagnostic:
        """The diagnostic order and its results, or ``NotFoundError``."""
        return self._run(_get(_D + "/{id}", Diagnostic, diagnostic_id, "diagnostic_id"))

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
            _Plans.list_of(
                _D,
                Diagnostic,
                "diagnostics",
                page,
                limit,
                patientId=patient_id,
                status=status,
                testType=test_type,
            )
        )

    def order_diagnostic(
        self, body: DiagnosticCreate | Mapping[str, Any], idempotency_key: str | None = None
    ) -> Diagnostic:
        """Order a diagnostic; sends ``Idempotency-Key`` (generated when not given,
        contract I26)."""
        return self._run(
            write_plan("POST", _D, DiagnosticCreate, body, Diagnostic, None, idempotency_key)
        )

    def update_diagnostic(
        self, diagnostic_id: str, body: DiagnosticUpdate | Mapping[str, Any]
    ) -> Diagnostic:
        """Partial update of a diagnostic order."""
        return self._run(
            write_plan("PUT", _D + "/{id}", DiagnosticUpdate, body, Diagnostic, diagnostic_id)
        )

    def add_diagnostic_results(
        self, diagnostic_id: str, body: DiagnosticResults | Mapping[str, Any]
    ) -> Diagnostic:
        """Record results (``completed_date`` required); not repeated after an ambiguous failure."""
        return self._run(
            write_plan(
                "PATCH", _D + "/{id}/results", DiagnosticResults, body, Diagnostic, diagnostic_id
            )
        )


class AsyncClinicalServiceClient(AsyncBaseServiceClient):
    """The asyncio twin of ``ClinicalServiceClient``: same methods, same behaviour."""

    _audited = True

    # -- patients -------------------------------------------------------------------------
    async def get_patient(self, patient_id: str) -> Patient:
        return await self._arun(_Plans.get_patient(patient_id))

    async def patient_exists(self, patient_id: str) -> bool:
        try:
            await self._arun(_Plans.get_patient(patient_id))
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
        return await self._arun(_Plans.list_patients(page, limit, search, sort, order))

    async def iter_patients(
        self, search: str | None = None, page_size: int = 100
    ) -> AsyncIterator[Patient]:
        page = 1
        while True:
            result = await self.list_patients(page=page, limit=page_size, search=search)
            for patient in result.items:
                yield patient
            if not result.items or not result.has_next:
                return
            page += 1

    async def search_patients(self, query: str, page: int = 1, limit: int = 20) -> Page[Patient]:
        if not isinstance(query, str) or not query.strip():
            raise InvalidRequestError("query must be a non-empty string")
        return await self._arun(_Plans.list_patients(page, limit, query, None, None))

    async def get_recent_patients(self, limit: int = 20) -> list[PatientSummary]:
        return await self._arun(_Plans.recent_patients(limit))

    async def create_patient(
        self, body: PatientCreate | Mapping[str, Any], idempotency_key: str | None = None
    ) -> Patient:
        return await self._arun(_Plans.create_patient(body, idempotency_key))

    async def update_patient(
        self, patient_id: str, body: PatientUpdate | Mapping[str, Any]
    ) -> Patient:
        return await self._arun(_Plans.update_patient(patient_id, body))

    async def delete_patient(self, patient_id: str) -> None:
        await self._arun(_Plans.delete_patient(patient_id))

    async def get_patient_encounters(
        self, patient_id: str, page: int = 1, limit: int = 20
    ) -> list[EncounterRecord]:
        return await self._arun(_Plans.get_patient_encounters(patient_id, page, limit))

    # -- encounters -----------------------------------------------------------------------
    async def get_encounter(self, encounter_id: str) -> Encounter:
        return await self._arun(_get(_E + "/{id}", Encounter, encounter_id, "encounter_id"))

    async def list_encounters(
        self,
        page: int = 1,
        limit: int = 20,
        *,
        patient_id: str | None = None,
        provider_id: str | None = None,
        status: str | None = None,
    ) -> Page[Encounter]:
        return await self._arun(
            _Plans.list_of(
                _E,
                Encounter,
                "encounters",
                page,
                limit,
                patientId=patient_id,
                providerId=provider_id,
                status=status,
            )
        )

    async def create_encounter(
        self, body: EncounterCreate | Mapping[str, Any], idempotency_key: str | None = None
    ) -> Encounter:
        return await self._arun(
            write_plan("POST", _E, EncounterCreate, body, Encounter, None, idempotency_key)
        )

    async def update_encounter(
        self, encounter_id: str, body: EncounterCreate | Mapping[str, Any]
    ) -> Encounter:
        return await self._arun(
            write_plan("PUT", _E + "/{id}", EncounterCreate, body, Encounter, encounter_id)
        )

    async def complete_encounter(
        self, encounter_id: str, body: EncounterComplete | Mapping[str, Any] | None = None
    ) -> Encounter:
        return await self._arun(
            write_plan(
                "PATCH",
                _E + "/{id}/complete",
                EncounterComplete,
                body or {},
                Encounter,
                encounter_id,
            )
        )

    async def get_today_encounters(self) -> list[EncounterSummary]:
        return await self._arun(
            Plan(
                "GET",
                _S + "/encounters/today",
                response_model=TodayEncounters,
                convert=lambda result: list(result.encounters),
            )
        )

    # -- statistics -----------------------------------------------------------------------
    async def get_patients_count(self) -> int:
        return await self._arun(_Plans.count(_S + "/patients/count"))

    async def get_encounters_count(self) -> int:
        return await self._arun(_Plans.count(_S + "/encounters/count"))

    async def get_all_stats(self) -> ClinicalStats:
        return await self._arun(Plan("GET", _S, response_model=ClinicalStats))

    # -- medications ----------------------------------------------------------------------
    async def get_medication(self, medication_id: str) -> Medication:
        return await self._arun(_get(_M + "/{id}", Medication, medication_id, "medication_id"))

    async def list_medications(
        self,
        page: int = 1,
        limit: int = 20,
        *,
        patient_id: str | None = None,
        status: str | None = None,
    ) -> Page[Medication]:
        return await self._arun(
            _Plans.list_of(
                _M, Medication, "medications", page, limit, patientId=patient_id, status=status
            )
        )

    async def prescribe_medication(
        self, body: MedicationCreate | Mapping[str, Any], idempotency_key: str | None = None
    ) -> PrescriptionResult:
        return await self._arun(_Plans.prescribe(body, idempotency_key))

    async def update_medication(
        self, medication_id: str, body: MedicationCreate | Mapping[str, Any]
    ) -> Medication:
        return await self._arun(
            write_plan("PUT", _M + "/{id}", MedicationCreate, body, Medication, medication_id)
        )

    async def discontinue_medication(
        self, medication_id: str, body: MedicationDiscontinue | Mapping[str, Any] | None = None
    ) -> None:
        await self._arun(
            write_plan(
                "PATCH",
                _M + "/{id}/discontinue",
                MedicationDiscontinue,
                body or {},
                None,
                medication_id,
            )
        )

    # -- diagnostics ----------------------------------------------------------------------
    async def get_diagnostic(self, diagnostic_id: str) -> Diagnostic:
        return await self._arun(_get(_D + "/{id}", Diagnostic, diagnostic_id, "diagnostic_id"))

    async def list_diagnostics(
        self,
        page: int = 1,
        limit: int = 20,
        *,
        patient_id: str | None = None,
        status: str | None = None,
        test_type: str | None = None,
    ) -> Page[Diagnostic]:
        return await self._arun(
            _Plans.list_of(
                _D,
                Diagnostic,
                "diagnostics",
                page,
                limit,
                patientId=patient_id,
                status=status,
                testType=test_type,
            )
        )

    async def order_diagnostic(
        self, body: DiagnosticCreate | Mapping[str, Any], idempotency_key: str | None = None
    ) -> Diagnostic:
        return await self._arun(
            write_plan("POST", _D, DiagnosticCreate, body, Diagnostic, None, idempotency_key)
        )

    async def update_diagnostic(
        self, diagnostic_id: str, body: DiagnosticUpdate | Mapping[str, Any]
    ) -> Diagnostic:
        return await self._arun(
            write_plan("PUT", _D + "/{id}", DiagnosticUpdate, body, Diagnostic, diagnostic_id)
        )

    async def add_diagnostic_results(
        self, diagnostic_id: str, body: DiagnosticResults | Mapping[str, Any]
    ) -> Diagnostic:
        return await self._arun(
            write_plan(
                "PATCH", _D + "/{id}/results", DiagnosticResults, body, Diagnostic, diagnostic_id
            )
        )

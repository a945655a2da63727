"""Quick stubs: a respx router preloaded with contract-shaped answers, for when a fake is too much.

``NileCareStub`` mocks both services at fixed base URLs. ``stub.clinical.get_patient(patient)``
registers ``GET /api/v1/patients/{id}`` answering with Clinical's real success shape;
``stub.facility.get_facility(facility)`` likewise for Facility. By default every stubbed
route must be called before the stub closes (``assert_all_called``), so a test that stubs a
call the code never makes fails loudly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import respx
from pydantic import BaseModel

from nilecare_clients._http import httpx

__all__ = ["CLINICAL_STUB_URL", "FACILITY_STUB_URL", "NileCareStub"]

CLINICAL_STUB_URL = "http://clinical.stub"
FACILITY_STUB_URL = "http://facility.stub"


def _wire(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(value, list):
        return [_wire(v) for v in value]
    return value


def _error(status: int, code: str, message: str) -> dict[str, Any]:
    return {"success": False, "error": {"code": code, "message": message, "statusCode": status}}


class _ServiceStub:
    def __init__(self, router: respx.MockRouter, base_url: str) -> None:
        self._router = router
        self.base_url = base_url

    def route(
        self,
        method: str,
        path: str,
        *,
        status: int = 200,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> respx.Route:
        """Any route: ``json`` is sent as the whole body (build the envelope yourself)."""
        return self._router.route(method=method, url=self.base_url + path).mock(
            return_value=httpx.Response(status, json=json, headers=headers)
        )

    def error(self, method: str, path: str, status: int, code: str = "ERROR") -> respx.Route:
        """An error answer in the canonical error form."""
        return self.route(method, path, status=status, json=_error(status, code, "stubbed error"))

    def _data(
        self, method: str, path: str, data: Any, status: int = 200, **extra: Any
    ) -> respx.Route:
        return self.route(
            method, path, status=status, json={"success": True, "data": _wire(data), **extra}
        )


class _ClinicalStub(_ServiceStub):
    def get_patient(self, patient: Any) -> respx.Route:
        """``GET /patients/{id}`` answers this patient (a model or a wire-shaped dict)."""
        wire = _wire(patient)
        return self._data("GET", f"/api/v1/patients/{wire['id']}", wire)

    def patient_not_found(self, patient_id: str) -> respx.Route:
        return self.error("GET", f"/api/v1/patients/{patient_id}", 404, "NOT_FOUND")

    def list_patients(self, patients: list[Any], *, page: int = 1, limit: int = 20) -> respx.Route:
        """``GET /patients`` answers one page (Clinical puts pagination inside ``data``)."""
        items = _wire(patients)
        total = len(items)
        pagination = {
            "page": page,
            "limit": limit,
            "total": total,
            "pages": max(1, -(-total // limit)),
        }
        return self._data("GET", "/api/v1/patients", {"patients": items, "pagination": pagination})

    def create_patient(self, patient: Any) -> respx.Route:
        return self._data("POST", "/api/v1/patients", _wire(patient), status=201)


class _FacilityStub(_ServiceStub):
    def get_facility(self, facility: Any) -> respx.Route:
        """``GET /facilities/{id}`` answers this facility (keyed by its UUID ``facilityId``)."""
        wire = _wire(facility)
        return self._data("GET", f"/api/v1/facilities/{wire['facilityId']}", wire)

    def facility_not_found(self, facility_id: str) -> respx.Route:
        return self.error("GET", f"/api/v1/facilities/{facility_id}", 404, "NOT_FOUND")

    def available_beds(self, facility_id: str, beds: list[Any]) -> respx.Route:
        items = _wire(beds)
        return self._router.get(
            self.base_url + "/api/v1/beds/available", params={"facilityId": facility_id}
        ).mock(
            return_value=httpx.Response(
                200, json={"success": True, "data": items, "count": len(items)}
            )
        )


class NileCareStub:
    """Both services stubbed with respx: a context manager, or the ``nilecare_stub`` fixture."""

    def __init__(
        self,
        *,
        clinical_url: str = CLINICAL_STUB_URL,
        facility_url: str = FACILITY_STUB_URL,
        assert_all_called: bool = True,
    ) -> None:
        self.router = respx.MockRouter(assert_all_called=assert_all_called, assert_all_mocked=True)
        self.clinical = _ClinicalStub(self.router, clinical_url)
        self.facility = _FacilityStub(self.router, facility_url)

    def __enter__(self) -> NileCareStub:
        self.router.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.router.__exit__(*exc)

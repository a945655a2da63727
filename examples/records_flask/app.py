"""A records service as a NileCare team writes it with Flask: sync clients built in create_app.

Nothing here knows about tests; the clients come from ``ServiceConfig.from_env`` as in
production, and the tests route them to the fakes.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify

from nilecare_clients import (
    ClinicalServiceClient,
    FacilityServiceClient,
    NotFoundError,
    ServiceConfig,
    ServiceUnavailableError,
    WSGICorrelationIdMiddleware,
)


def create_app() -> Flask:
    app = Flask(__name__)
    clinical = ClinicalServiceClient(config=ServiceConfig.from_env("CLINICAL"))
    facility = FacilityServiceClient(config=ServiceConfig.from_env("FACILITY"))
    app.wsgi_app = WSGICorrelationIdMiddleware(app.wsgi_app)  # type: ignore[method-assign]

    @app.get("/patients/<patient_id>/admission/<facility_id>")
    def admission_summary(patient_id: str, facility_id: str) -> Any:
        try:
            patient = clinical.get_patient(patient_id)
            site = facility.get_facility(facility_id)
        except NotFoundError:
            return jsonify(error="not found"), 404
        except ServiceUnavailableError:
            return jsonify(error="a dependency is unavailable"), 503
        return jsonify(
            patient_id=patient.id,
            facility=site.name,
            city=site.address.city if site.address else None,
        )

    return app

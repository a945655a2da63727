"""A pharmacy service's core, written as a new team would write it against the contract.

``medication_list`` asks Clinical for a patient's active medications with the documented
``patient_id`` filter. Against the ``contract`` fake that works; against the ``today`` fake
(and today's Clinical) the strict query schema refuses the filter with 400, so the pharmacy
reports "needs an upstream fix" instead of an empty list that would look like "no drugs".
"""

from __future__ import annotations

from dataclasses import dataclass

from nilecare_clients import BadRequestError, ClinicalServiceClient


@dataclass(frozen=True)
class MedicationList:
    """What the pharmacy shows: medication names, or why Clinical could not say."""

    names: tuple[str, ...] = ()
    unavailable_reason: str | None = None


def medication_list(clinical: ClinicalServiceClient, patient_id: str) -> MedicationList:
    """The patient's medications, or a reason when Clinical refuses the documented filter."""
    try:
        page = clinical.list_medications(patient_id=patient_id)
    except BadRequestError:
        # Today's Clinical rejects ?patientId= (contract I13): never show "no medications".
        return MedicationList(unavailable_reason="Clinical cannot filter medications by patient")
    return MedicationList(names=tuple(m.name for m in page.items))

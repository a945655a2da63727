"""One pharmacy test, run against both fake profiles: the difference is the upstream gap."""

from __future__ import annotations

from typing import Any

import pytest

from examples.pharmacy.app import medication_list
from nilecare_clients.testing import make_patient


@pytest.mark.parametrize(
    "profile",
    [
        pytest.param("contract", marks=pytest.mark.nilecare(profile="contract")),
        pytest.param("today", marks=pytest.mark.nilecare(profile="today")),
    ],
)
def test_medication_list_under_both_profiles(
    profile: str, fake_clinical: Any, clinical_client: Any
) -> None:
    """The contract fake lists the prescribed drug; today's Clinical refuses the filter."""
    patient = fake_clinical.seed(patients=[make_patient(first_name="Amna")])["patients"][0]
    if profile == "contract":
        fake_clinical.create_medication(patient_id=patient["id"], name="Amoxicillin")
    shown = medication_list(clinical_client, patient["id"])
    if profile == "contract":
        assert shown.names == ("Amoxicillin",) and shown.unavailable_reason is None
    else:
        assert shown.names == () and shown.unavailable_reason is not None
        assert fake_clinical.journal.count(method="GET") == 1  # a 400 is not retried

"""Factories: valid, realistic, deterministic request bodies the fakes accept."""

from __future__ import annotations

import re

import httpx

from nilecare_clients.testing.fakes import (
    Factories,
    FakeClinicalService,
    FakeFacilityService,
    make_bed,
    make_department,
    make_diagnostic,
    make_encounter,
    make_facility,
    make_medication,
    make_patient,
    make_ward,
)

PHONE = re.compile(r"^\+249 \d{3} \d{3} \d{3}$")


def test_same_seed_same_body() -> None:
    """Every make_* gives the same body for the same seed and another for a different seed."""
    for make in (
        make_patient,
        make_encounter,
        make_medication,
        make_diagnostic,
        make_facility,
        make_department,
        make_ward,
        make_bed,
    ):
        assert make(seed=11) == make(seed=11)
        assert make(seed=11) != make(seed=12)


def test_overrides_accept_snake_and_camel_case() -> None:
    """Overrides replace keys, given in snake_case or camelCase."""
    patient = make_patient(seed=1, first_name="Amna", lastName="Osman")
    assert (patient["firstName"], patient["lastName"]) == ("Amna", "Osman")
    assert "first_name" not in patient


def test_bodies_look_sudanese() -> None:
    """Patients have +249 phone numbers and Sudanese cities; facilities have KTH-001 style codes."""
    factories = Factories(seed=4)
    cities = {"Khartoum", "Omdurman", "Bahri", "Port Sudan", "Wad Madani"}
    for _ in range(20):
        patient = factories.patient()
        assert PHONE.match(patient["phoneNumber"])
        assert patient["address"]["city"] in cities and patient["address"]["country"] == "Sudan"
        facility = factories.facility()
        assert re.match(r"^[A-Z]{3,5}-\d{3}$", facility["facilityCode"])
        assert facility["contact"] == facility["contactInfo"]


def test_a_factories_sequence_keeps_codes_unique() -> None:
    """One Factories instance never repeats a facility, department, ward or bed code."""
    factories = Factories(seed=2)
    for kind, key in (
        ("facility", "facilityCode"),
        ("department", "code"),
        ("ward", "wardCode"),
        ("bed", "bedNumber"),
    ):
        codes = [getattr(factories, kind)()[key] for _ in range(30)]
        assert len(set(codes)) == 30, kind


def test_every_clinical_body_is_accepted() -> None:
    """Factory bodies for patients, encounters, medications and diagnostics are accepted as they are."""
    fake = FakeClinicalService()
    with httpx.Client(transport=fake.transport(), base_url="http://fake") as client:
        for seed in range(15):
            patient = client.post("/api/v1/patients", json=make_patient(seed=seed, allergies=[]))
            assert patient.status_code == 201, patient.json()
            pid = patient.json()["data"]["id"]
            for path, make in (
                ("encounters", make_encounter),
                ("medications", make_medication),
                ("diagnostics", make_diagnostic),
            ):
                response = client.post(f"/api/v1/{path}", json=make(seed=seed, patient_id=pid))
                assert response.status_code == 201, response.json()


def test_every_facility_body_is_accepted() -> None:
    """Factory bodies for a facility, department, ward and bed are accepted when linked."""
    fake = FakeFacilityService()
    with httpx.Client(transport=fake.transport(), base_url="http://fake") as client:
        for seed in range(15):
            facility = client.post(
                "/api/v1/facilities", json=make_facility(seed=seed, facility_code=f"KTH-{seed:03d}")
            )
            assert facility.status_code == 201, facility.json()
            fid = facility.json()["data"]["facilityId"]
            department = client.post(
                "/api/v1/departments", json=make_department(seed=seed, facility_id=fid)
            )
            assert department.status_code == 201, department.json()
            did = department.json()["data"]["departmentId"]
            ward = client.post(
                "/api/v1/wards", json=make_ward(seed=seed, facility_id=fid, department_id=did)
            )
            assert ward.status_code == 201, ward.json()
            bed = make_bed(
                seed=seed, facility_id=fid, department_id=did, ward_id=ward.json()["data"]["wardId"]
            )
            assert client.post("/api/v1/beds", json=bed).status_code == 201


def test_fake_factories_are_seeded_by_the_fake() -> None:
    """Two fakes with the same seed build identical records through their direct helpers."""
    first, second = FakeFacilityService(seed=8), FakeFacilityService(seed=8)
    strip = ("createdAt", "updatedAt")
    a = {k: v for k, v in first.create_bed().items() if k not in strip}
    b = {k: v for k, v in second.create_bed().items() if k not in strip}
    assert a == b

"""Shared model machinery: ids, key normalisation, open enums, hidden inputs."""

from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError
from structlog.testing import capture_logs

from nilecare_clients.models import (
    Bed,
    BedStatus,
    Gender,
    PatientCreate,
    StrEnum,
    is_uuid,
    normalize_keys,
)
from nilecare_clients.models._base import UUIDStr


@pytest.mark.parametrize(
    "value",
    [
        "3f2b8c1e-9d4a-4e6b-8f0a-1c2d3e4f5a6b",
        "3F2B8C1E-9D4A-4E6B-8F0A-1C2D3E4F5A6B",
        "6ba7b810-9dad-11d1-80b4-00c04fd430c8",  # version 1
        "00000000-0000-0000-0000-000000000000",
    ],
)
def test_is_uuid_accepts_hyphenated_uuids_of_any_version(value: str) -> None:
    """Any hyphenated UUID, upper or lower case, counts as a path id."""
    assert is_uuid(value)


@pytest.mark.parametrize(
    "value",
    [
        "MED-1700000000000",
        "3f2b8c1e9d4a4e6b8f0a1c2d3e4f5a6b",
        "3f2b8c1e-9d4a-4e6b-8f0a-1c2d3e4f5a6b\n",
        " 3f2b8c1e-9d4a-4e6b-8f0a-1c2d3e4f5a6b",
        "42",
        "",
    ],
)
def test_is_uuid_refuses_everything_else(value: str) -> None:
    """Unhyphenated, padded, numeric and MED-style ids are not path UUIDs (contract I3)."""
    assert not is_uuid(value)


def test_uuid_str_accepts_uuid_objects_and_keeps_a_string() -> None:
    """A ``uuid.UUID`` given for a UUID field is stored as its string (every id is a str)."""
    from pydantic import TypeAdapter

    value = uuid.uuid4()
    assert TypeAdapter(UUIDStr).validate_python(value) == str(value)


def test_normalize_keys_renames_snake_case_and_keeps_unknown_keys() -> None:
    """Top-level snake_case keys become camelCase; unknown keys survive; values are untouched."""
    row = {"ward_id": "w", "occupancy_rate": "12.50", "some_new_column": 1, "name": "x"}
    assert normalize_keys(row) == {
        "wardId": "w",
        "occupancyRate": "12.50",
        "someNewColumn": 1,
        "name": "x",
    }


def test_normalize_keys_prefers_the_camel_case_spelling() -> None:
    """When a row carries both spellings, the camelCase value wins."""
    assert normalize_keys({"facility_id": "old", "facilityId": "new"}) == {"facilityId": "new"}


def test_normalize_keys_leaves_nested_objects_alone() -> None:
    """Nested free-form objects keep their keys: they are data, not columns."""
    row = {"custom_settings": {"night_shift": True}}
    assert normalize_keys(row) == {"customSettings": {"night_shift": True}}


def test_str_enum_members_are_strings_that_print_as_their_value() -> None:
    """The StrEnum compat base behaves like ``enum.StrEnum`` (Python 3.10 included)."""
    assert issubclass(BedStatus, StrEnum)
    assert isinstance(BedStatus.OUT_OF_SERVICE, str)
    assert str(BedStatus.OUT_OF_SERVICE) == "out_of_service"
    assert f"{Gender.FEMALE}" == "female"


def test_unknown_enum_value_on_read_is_kept_and_logged_once(bed_wire: dict[str, object]) -> None:
    """An unknown read value stays a plain str and is logged once per (enum, value) (contract I6)."""
    value = f"blocked-{uuid.uuid4().hex[:8]}"
    with capture_logs() as logs:
        first = Bed.model_validate({**bed_wire, "bedStatus": value})
        second = Bed.model_validate({**bed_wire, "bedStatus": value})
    assert first.bed_status == value
    assert type(first.bed_status) is str
    assert second.bed_status == value
    assert logs == [
        {
            "event": "nilecare_clients.unknown_enum_value",
            "log_level": "warning",
            "enum": "BedStatus",
            "enum_value": value,
        }
    ]


def test_known_enum_value_on_read_becomes_the_member(bed_wire: dict[str, object]) -> None:
    """A known read value is parsed to the enum member and nothing is logged."""
    with capture_logs() as logs:
        bed = Bed.model_validate(bed_wire)
    assert bed.bed_status is BedStatus.AVAILABLE
    assert logs == []


def test_non_string_enum_value_on_read_is_refused(bed_wire: dict[str, object]) -> None:
    """An open enum still requires a string: a number is a ValidationError."""
    with pytest.raises(ValidationError):
        Bed.model_validate({**bed_wire, "bedStatus": 3})


def test_validation_errors_never_echo_the_input() -> None:
    """A write-rule failure names the field, never the value, because values are often PHI."""
    with pytest.raises(ValidationError) as caught:
        PatientCreate.model_validate(
            {
                "firstName": "Amna",
                "lastName": "Elhassan",
                "dateOfBirth": "1987-03-14",
                "gender": "female",
                "phoneNumber": "call Amna on 0912345678!",
            }
        )
    text = str(caught.value)
    assert "phoneNumber" in text
    assert "0912345678" not in text
    assert "Amna" not in text


def test_reset_unknown_enum_log_lets_a_value_be_logged_again(bed_wire: dict[str, object]) -> None:
    """After reset_unknown_enum_log() an unknown value already seen is logged once more."""
    from nilecare_clients.models._base import reset_unknown_enum_log

    value = f"bariatric-{uuid.uuid4().hex[:8]}"
    with capture_logs() as logs:
        Bed.model_validate({**bed_wire, "bedType": value})
        reset_unknown_enum_log()
        Bed.model_validate({**bed_wire, "bedType": value})
    assert [entry["enum_value"] for entry in logs] == [value, value]

"""The recorded table, the known-differences file and the replay stay consistent.

The replay itself is ``tests/compat``: without ``NILECARE_COMPAT=1`` its cases run against the
``today`` fakes and compare every call with docs/compatibility.md (see tests/compat/conftest.py).
These tests check what that relies on: the table can be read back, every difference it shows
is listed with a reason (and nothing else is), and a drifting fake would fail the replay.
"""

from __future__ import annotations

import httpx
import pytest

from compat._real import _replay
from compat._shape import Shape, body_shape, differences
from compat._table import (
    Observation,
    known_differences,
    recorded,
    recorded_differences,
    recorded_probes,
)


def test_the_table_records_every_row_with_its_fake_column() -> None:
    probes = recorded_probes()
    assert len(probes) >= 57
    assert "clinical.list_patients[default sort]" in probes
    assert recorded("clinical", "list_patients", "default sort", "sync") is not None
    assert recorded("facility", "release_bed", "", "async") is not None


def test_known_differences_are_exactly_the_differences_the_table_shows() -> None:
    listed = known_differences()
    assert set(listed) == recorded_differences()
    assert set(listed) <= recorded_probes()
    for entry in listed.values():
        assert entry.differs.strip() and entry.reason.strip(), entry.probe


def test_a_recorded_cell_reads_back_as_the_observation_it_shows() -> None:
    found = recorded("clinical", "list_medications", "patientId filter", "sync")
    assert found is not None
    real, _ = found
    assert real == Observation(
        "400 \"Query: 'patientId' is not allowed\"", "raises `BadRequestError`"
    )


def test_a_fake_that_drifts_fails_the_replay() -> None:
    drifted = Observation("200", "returns `Page[Medication]`")
    with pytest.raises(AssertionError, match=r"known_differences\.toml"):
        _replay("clinical", "list_medications", "patientId filter", "sync", drifted)


def test_a_probe_missing_from_the_table_fails_the_replay() -> None:
    with pytest.raises(AssertionError, match="run make compat"):
        _replay("clinical", "no_such_method", "", "sync", Observation("200", "returns `None`"))


def _shape_of(body: object, headers: dict[str, str] | None = None) -> Shape:
    return body_shape(httpx.Response(200, json=body, headers=headers))


def test_shapes_compare_keys_types_envelope_and_headers_not_values() -> None:
    real = _shape_of(
        {"success": True, "data": [{"id": "a", "email": None, "beds": 4}]},
        {"ratelimit-limit": "1000", "etag": "x"},
    )
    same = _shape_of(
        {"success": True, "data": [{"id": "b", "email": "x@y.sd", "beds": 7}]},
        {"ratelimit-limit": "999"},
    )
    assert differences(real, same) == []
    assert differences(real, _shape_of({"success": True, "data": [{"id": "a"}]})) == [
        "`data[].beds` missing",
        "`header:ratelimit-limit` missing",
    ]
    assert differences(real, _shape_of({"success": False, "data": []}, real_headers())) == [
        "`data[]` missing",
        "`success`: = false, not = true",
    ]
    assert differences(
        real,
        _shape_of({"success": True, "data": [{"id": 1, "beds": "4"}]}, real_headers()),
    ) == ["`data[].beds`: string, not number", "`data[].id`: number, not string"]


def real_headers() -> dict[str, str]:
    return {"ratelimit-limit": "1000"}

"""Page[T] from both services' pagination styles (contract §1.5, I12)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from nilecare_clients.models import Bed, Page, Pagination, Patient


def test_clinical_style_page_computes_has_next_and_has_previous(
    patient_wire: dict[str, Any],
) -> None:
    """Clinical's ``data: {patients, pagination}`` without hasNext gives page < pages."""
    body = {
        "success": True,
        "data": {
            "patients": [patient_wire],
            "pagination": {"page": 1, "limit": 1, "total": 3, "pages": 3},
        },
    }
    page = Page[Patient].from_envelope(body, "patients")
    assert isinstance(page.items[0], Patient)
    assert (page.page, page.limit, page.total, page.pages) == (1, 1, 3, 3)
    assert page.has_next is True
    assert page.has_previous is False


def test_facility_style_page_reads_the_top_level_block(bed_wire: dict[str, Any]) -> None:
    """Facility's ``data: [...]`` with a top-level ``pagination`` builds the same Page."""
    body = {
        "success": True,
        "data": [bed_wire, bed_wire],
        "pagination": {"page": 2, "limit": 2, "total": 4, "pages": 2},
    }
    page = Page[Bed].from_envelope(body)
    assert [type(item) for item in page.items] == [Bed, Bed]
    assert page.has_next is False
    assert page.has_previous is True


def test_from_parts_computes_pages_when_missing_and_accepts_decimal_strings() -> None:
    """``pages`` is ceil(total/limit) when not sent, and counts sent as strings are ints."""
    page = Page[int].from_parts([1, 2], {"page": "1", "limit": "2", "total": "5"})
    assert (page.page, page.limit, page.total, page.pages) == (1, 2, 5, 3)
    assert page.has_next is True


def test_a_has_next_sent_by_the_server_is_honoured() -> None:
    """When the canonical block carries hasNext/hasPrevious, they are used as sent."""
    block = {"page": 1, "limit": 10, "total": 10, "pages": 1, "hasNext": True, "hasPrevious": False}
    assert Page[int].from_parts([], block).has_next is True


def test_an_unpaginated_list_is_one_complete_page() -> None:
    """Without a pagination block the list is page 1 of 1 with nothing before or after."""
    page = Page[str].from_parts(["a", "b", "c"])
    assert (page.page, page.limit, page.total, page.pages) == (1, 3, 3, 1)
    assert (page.has_next, page.has_previous) == (False, False)


def test_an_empty_unpaginated_list_has_no_pages() -> None:
    """An empty unpaginated list has zero pages and no next page."""
    page = Page[str].from_parts([])
    assert (page.total, page.pages, page.has_next) == (0, 0, False)


def test_items_are_validated_as_the_page_type(patient_wire: dict[str, Any]) -> None:
    """An item that does not fit T raises pydantic's ValidationError."""
    broken = {k: v for k, v in patient_wire.items() if k != "lastName"}
    with pytest.raises(ValidationError):
        Page[Patient].from_parts([broken], {"page": 1, "limit": 10, "total": 1})


def test_from_envelope_without_the_collection_raises_value_error() -> None:
    """A body with no list where one is expected is refused with ValueError."""
    with pytest.raises(ValueError, match=r"data\.patients"):
        Page[Patient].from_envelope({"success": True, "data": {"items": []}}, "patients")


def test_pagination_block_on_its_own_fills_the_computed_fields() -> None:
    """Pagination validated alone computes pages, has_next and has_previous."""
    block = Pagination.model_validate({"page": 3, "limit": 10, "total": 25})
    assert (block.pages, block.has_next, block.has_previous) == (3, False, True)

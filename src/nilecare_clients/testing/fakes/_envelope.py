"""Wire bodies the fakes send, and the one exception their handlers raise.

Success bodies copy each service's real shape (Clinical: ``{success, data}`` with no metadata;
Facility: ``{success, data, message?}`` plus a top-level ``pagination`` on lists). Errors use
the canonical form with ``metadata`` (contract I1), so the library is tested against what the
platform promises rather than against each service's accidental error shapes.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

#: The code a bare HTTP status maps to when a handler or a fault gives none (contract §1.6).
DEFAULT_CODES: dict[int, str] = {
    400: "VALIDATION_ERROR",
    401: "AUTHENTICATION_REQUIRED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    422: "OPERATION_NOT_ALLOWED",
    429: "RATE_LIMIT_EXCEEDED",
    500: "INTERNAL_ERROR",
    502: "EXTERNAL_SERVICE_ERROR",
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",
}


class FakeServiceError(Exception):
    """A refusal by a fake, rendered as the canonical error body with this status and code.

    Handlers raise it over HTTP; the direct seeding helpers (``fake.create_patient(...)``)
    let it propagate, so a test that seeds invalid data fails loudly with the same message.
    """

    def __init__(
        self, status: int, code: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    @classmethod
    def validation(cls, fields: dict[str, list[str]]) -> FakeServiceError:
        return cls(400, "VALIDATION_ERROR", "Validation failed", {"fields": fields})

    @classmethod
    def not_found(cls, what: str, ident: str) -> FakeServiceError:
        return cls(404, "NOT_FOUND", f"{what} not found", {"id": ident})

    @classmethod
    def duplicate(cls, message: str, field: str) -> FakeServiceError:
        return cls(409, "DUPLICATE_ENTRY", message, {"fields": {field: ["already exists"]}})

    @classmethod
    def conflict(cls, message: str) -> FakeServiceError:
        return cls(409, "CONFLICT", message)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    """ISO-8601 in UTC with milliseconds and ``Z``, the services' date-time format."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def metadata(request_id: str, service: str, now: datetime) -> dict[str, Any]:
    return {"timestamp": iso(now), "requestId": request_id, "version": "v1", "service": service}


def error_body(
    status: int,
    code: str,
    message: str,
    *,
    details: Any = None,
    request_id: str,
    service: str,
    now: datetime,
) -> dict[str, Any]:
    """The canonical error form (contract §1.4)."""
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    error["statusCode"] = status
    return {"success": False, "error": error, "metadata": metadata(request_id, service, now)}


def auth_error_body(code: str, message: str) -> dict[str, Any]:
    """The auth layer's own form: no metadata, no details (contract §1.2)."""
    return {"success": False, "error": {"code": code, "message": message}}


def dump(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def page_block(page: int, limit: int, total: int) -> dict[str, int]:
    """``{page, limit, total, pages}``: both services omit ``hasNext``/``hasPrevious``
    (contract §1.5)."""
    return {"page": page, "limit": limit, "total": total, "pages": -(-total // limit)}

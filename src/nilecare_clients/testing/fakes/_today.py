"""Pieces of the ``today`` profile both fakes share: what today's services do before a handler.

Today's services run, in order: authentication, a role check, a permission check, a strict
Joi schema (unknown query keys refused, first error only), then the handler. Their refusals
have fixed texts, reproduced here because ``make compat`` compares them with the real ones
(docs/compatibility.md).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from nilecare_clients.testing.fakes._envelope import FakeServiceError
from nilecare_clients.testing.fakes._service import Caller
from nilecare_clients.testing.fakes._validation import is_uuid

Endpoint = Callable[[Request], Awaitable[Response]]
#: One query parameter's rule: the error text for a value, or None when it is valid.
QueryRule = Callable[[str], "str | None"]


def _integer(name: str, minimum: int, maximum: int | None = None) -> QueryRule:
    def rule(value: str) -> str | None:
        try:
            number = float(value)
        except ValueError:
            return f'"{name}" must be a number'
        if not number.is_integer():
            return f'"{name}" must be an integer'
        if number < minimum:
            return f'"{name}" must be greater than or equal to {minimum}'
        if maximum is not None and number > maximum:
            return f'"{name}" must be less than or equal to {maximum}'
        return None

    return rule


def _one_of(name: str, values: Sequence[str]) -> QueryRule:
    def rule(value: str) -> str | None:
        return None if value in values else f'"{name}" must be one of [{", ".join(values)}]'

    return rule


#: Clinical's ``schemas.pagination``: the only query keys its list routes accept (contract I13).
CLINICAL_PAGINATION: dict[str, QueryRule] = {
    "page": _integer("page", 1),
    "limit": _integer("limit", 1, 100),
    "sort": _one_of("sort", ("createdAt", "updatedAt", "name", "email")),
    "order": _one_of("order", ("asc", "desc")),
}


def joi_query(query: Mapping[str, str], schema: Mapping[str, QueryRule]) -> None:
    """Refuse a query as Clinical's Joi schema does: known keys first, then unknown ones,
    stopping at the first error: 400 ``Query: "search" is not allowed``."""
    problem: str | None = None
    for name, rule in schema.items():
        if name in query:
            problem = rule(query[name])
            if problem:
                break
    if not problem:
        problem = next((f'"{name}" is not allowed' for name in query if name not in schema), None)
    if problem:
        raise FakeServiceError(400, "INTERNAL_ERROR", f"Query: {problem}")


def joi_id_param(ident: str) -> str:
    """Clinical's ``schemas.id``: the path id must be a UUID."""
    if not is_uuid(ident):
        raise FakeServiceError(400, "INTERNAL_ERROR", 'Params: "id" must be a valid GUID')
    return ident.lower()


def refusal(caller: Caller, roles: Sequence[str] | None, permission: str | None) -> Response | None:
    """The auth layer's 403 for a caller outside ``roles`` or without ``permission``."""
    if roles is not None and caller.role is not None and caller.role not in roles:
        return JSONResponse(
            {
                "success": False,
                "error": {
                    "code": "FORBIDDEN",
                    "message": f"Access denied. Required role(s): {', '.join(roles)}",
                },
            },
            status_code=403,
        )
    if permission is not None and not ({"*", permission} & caller.permissions):
        return JSONResponse(
            {
                "success": False,
                "error": {
                    "code": "INSUFFICIENT_PERMISSIONS",
                    "message": f"This action requires the permission: {permission}",
                },
            },
            status_code=403,
        )
    return None


def not_implemented(controller: str, handler: str) -> Response:
    """A placeholder handler: the controller was never committed upstream (answers 501)."""
    return JSONResponse(
        {
            "success": False,
            "error": {
                "code": "NOT_IMPLEMENTED",
                "message": f"{controller}.{handler} is missing from the upstream repository",
            },
        },
        status_code=501,
    )


def validation_text(details: Any) -> str | None:
    """``"field" message, ...`` from a contract validation error's ``details.fields``."""
    fields = details.get("fields") if isinstance(details, dict) else None
    if not isinstance(fields, dict) or not fields:
        return None
    return ", ".join(
        f'"{name}" {messages[0] if isinstance(messages, list) and messages else messages}'
        for name, messages in fields.items()
    )

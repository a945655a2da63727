"""Declare the routes of another NileCare service: ``Endpoint`` and its parts.

A client for any NileCare service is a table of ``Endpoint`` constants plus a
``BaseServiceClient`` subclass (and its ``AsyncBaseServiceClient`` twin) whose methods are one
line each: ``return self._run(ENDPOINT, *ids, **values)`` (``await self._arun(...)``). Every
rule of the library (retries that never repeat an unsafe write, breaker, deadline, error
mapping, PHI-free messages) applies unchanged. See ``examples/lab_client``.
"""

from nilecare_clients._endpoint import (
    CacheKind,
    Endpoint,
    Param,
    Safety,
    check_range,
    check_uuid,
    page_params,
    uuid_param,
)

__all__ = [
    "CacheKind",
    "Endpoint",
    "Param",
    "Safety",
    "check_range",
    "check_uuid",
    "page_params",
    "uuid_param",
]

"""A method case (call -> expected request -> typed value), run the same way for every client."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import respx

from support import call

NO_BODY = object()


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    args: tuple[Any, ...]
    http: str
    path: str
    response: Any
    check: Callable[[Any], None]
    kwargs: dict[str, Any] = field(default_factory=dict)
    status: int = 200
    query: dict[str, str] = field(default_factory=dict)
    body: Any = NO_BODY
    #: Whether the request must carry an Idempotency-Key (create calls, contract I26).
    keyed: bool = False


async def run_case(client: Any, router: respx.MockRouter, host: str, case: Case) -> None:
    """Call the method once and check the one request it sent and the value it returned."""
    route = router.route(method=case.http, host=host, path=case.path).respond(
        case.status, json=case.response
    )
    result = await call(getattr(client, case.method)(*case.args, **case.kwargs))
    assert route.call_count == 1
    request = route.calls.last.request
    assert dict(request.url.params) == case.query
    if case.body is NO_BODY:
        assert request.content == b""
    else:
        assert request.headers["content-type"] == "application/json"
        assert json.loads(request.content) == case.body
    assert ("idempotency-key" in request.headers) is case.keyed
    case.check(result)


def public_methods(cls: type) -> set[str]:
    """The public methods a client class declares (its own and its cache mixin's)."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if klass.__module__.startswith("nilecare_clients.") and klass.__module__.endswith(
            ("clinical", "facility")
        ):
            names.update(n for n, v in vars(klass).items() if not n.startswith("_") and callable(v))
    return names

"""The ASGI vocabulary the fake pipeline, its transport and its server share.

It lives apart so that ``_service`` can import ``transport`` and ``server`` while they
import nothing of ``_service``: the fakes' import graph has no cycle.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: The ASGI scope extension through which a server lets the fake reset the connection.
ABORT_EXTENSION = "nilecare.abort_connection"

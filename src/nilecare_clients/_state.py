"""Every piece of process-wide mutable state of the library, its one ``reset()``, and fork safety.

Nothing else in the package keeps a module-level mutable global: the modules that use a piece
of state import it from here (the containers never change identity, so ``from ... import``
binds them for good). Keeping it in one place gives one complete ``reset()`` for test suites
(``nilecare_clients.testing.reset_state()`` calls it) and one answer to ``fork()``.

What lives here:

- ``services``: service name -> breaker, retry budget and bulkhead (``_resilience.registry``);
- ``caches``: service name -> the shared Facility cache (``_cache``);
- ``observers``: hooks, the flag the core reads before building an event, the tracer
  (``_hooks``; ``observability.otel`` installs the tracer);
- ``settings``: the test mode (``_testmode``), the audit caller name, the structlog binding;
- ``routes``: ``testing.route_to`` targets (``_testmode``);
- ``unknown_enum_values``: open-enum values already logged once (``models._base``);
- ``correlation_ids``: pre-drawn UUID4s (``_correlation``);
- ``lock``: the one lock guarding these registries (never held across I/O).

Fork safety: a pre-fork server (gunicorn ``--preload``, ``multiprocessing``) forks a process
whose other threads are gone. Whatever they held is reset in the child
(``os.register_at_fork``): the lock is re-initialised, every bulkhead count, breaker and retry
budget is reset in place (clients built before the fork hold these objects), single-flight
loads are forgotten (their leaders live in the parent), each Redis cache tier gets new
connections, a new origin and a new listener, and spare correlation ids are dropped (so the
child never repeats the parent's). Locks inside those objects are re-initialised with
CPython's ``_at_fork_reinit``, as the standard library's ``logging`` and
``concurrent.futures`` do for theirs; module locks elsewhere register through ``on_fork``.

HTTP pools hold sockets the parent still uses, so a child must never send on them. The hook
only bumps ``process.generation`` (no I/O, nothing built in the child that may never call);
each client compares it on its next call and rebuilds its transport from its config
(``_client._ClientBase._rebuild_transport``). The parent's transport is handed to
``abandon``: never closed in the child (closing takes the transport's own locks, which a
parent thread may hold, and an async close needs the parent's event loop), its sockets' file
descriptors released without a byte sent, and the object kept so that no finaliser of it runs
in the child. An injected ``http_client`` or transport is the caller's to rebuild.
"""

from __future__ import annotations

import contextlib
import gc
import os
import socket
import threading
import types
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nilecare_clients._cache import FacilityCache
    from nilecare_clients._resilience.registry import ServiceState

__all__ = [
    "Observers",
    "Settings",
    "abandon",
    "caches",
    "correlation_ids",
    "lock",
    "lock_reinit_at_fork",
    "observers",
    "on_fork",
    "process",
    "reset",
    "routes",
    "services",
    "settings",
    "unknown_enum_values",
]

#: Guards the registries below (creation of a service's state or cache, hook registration).
lock = threading.RLock()

#: service name -> ``_resilience.registry.ServiceState``.
services: dict[str, ServiceState] = {}
#: service name -> ``_cache.FacilityCache``.
caches: dict[str, FacilityCache] = {}
#: service name -> an in-process transport (``testing.route_to``).
routes: dict[str, Any] = {}
#: ``(enum name, value)`` pairs already logged (bounded by ``models._base``).
unknown_enum_values: set[tuple[str, str]] = set()
#: Correlation ids drawn ahead (``_correlation.new_correlation_id``).
correlation_ids: deque[str] = deque()


@dataclass(slots=True)
class Observers:
    """What the core reports to. ``active`` is read on every call before building an event."""

    hooks: tuple[Callable[[Any], None], ...] = ()
    active: bool = False
    tracer: Any = None  # an ``_hooks.CallTracer``


@dataclass(slots=True)
class Settings:
    """Process-wide switches that are not registries."""

    test_mode: Any = None  # a ``_testmode.TestMode``; None is off
    audit_caller: str | None = None
    audit_isolated: bool = False  # ``observability.audit`` turned off the audit propagation
    structlog_binding: Any = None  # ``_log``: the logger assembled for one structlog config


@dataclass(slots=True)
class Process:
    """Which process generation this is: bumped in every forked child, never reset."""

    generation: int = 0


observers = Observers()
settings = Settings()
process = Process()

# Objects that must act in a forked child (an HTTP client built here, an aiohttp transport),
# with what to do. Weak: a client that is gone needs nothing.
_fork_actions: weakref.WeakKeyDictionary[Any, Callable[[Any], None]] = weakref.WeakKeyDictionary()


def on_fork(obj: Any, action: Callable[[Any], None]) -> None:
    """Run ``action(obj)`` in a forked child, as long as ``obj`` is alive."""
    with lock:
        _fork_actions[obj] = action


def lock_reinit_at_fork(module_lock: Any) -> None:
    """Re-initialise a module's own lock in a forked child (a parent thread may hold it)."""
    on_fork(module_lock, lambda held: held._at_fork_reinit())


def reset() -> None:
    """Forget all process-wide state: breakers, budgets, bulkheads, caches, hooks, tracer,
    test mode, routes, the audit caller, remembered enum values, spare correlation ids.

    Clients built before keep the breaker and bulkhead objects they hold; the next client of
    a service starts fresh.
    """
    with lock:
        services.clear()
        caches.clear()
        routes.clear()
        unknown_enum_values.clear()
        correlation_ids.clear()
        observers.hooks, observers.active, observers.tracer = (), False, None
        settings.test_mode = None
        settings.audit_caller = None
        settings.structlog_binding = None


def _reinit_locks(obj: Any, depth: int = 1) -> None:
    """Re-initialise the locks an object (and the objects it owns, one level down) holds.

    A lock held at fork time by a thread that does not exist in the child would never be
    released there.
    """
    try:
        members = list(vars(obj).values())
    except TypeError:  # __slots__ only
        members = [getattr(obj, n, None) for n in getattr(type(obj), "__slots__", ())]
    for member in members:
        reinit = getattr(member, "_at_fork_reinit", None)
        if callable(reinit):
            reinit()
        elif depth > 0 and type(member).__module__.startswith("nilecare_clients"):
            _reinit_locks(member, depth - 1)


# The parent's transports, kept (unused) in a child: see the module docstring.
_abandoned: list[Any] = []
# What ``abandon`` walks into: the HTTP stack's objects and plain containers, never modules,
# functions, classes or event loops (which would lead to everything else in the process).
_WALKED_MODULES = (
    "builtins",
    "collections",
    "ssl",
    "socket",
    "asyncio",
    "selectors",
    "nilecare_clients",
    "httpx",
    "httpcore",
    "h11",
    "anyio",
    "aiohttp",
    "urllib3",
    "queue",  # urllib3 keeps its idle connections in a queue.LifoQueue
    "http",  # http.client's connection under each urllib3 one
    "redis",
)
_NOT_WALKED = (
    type,
    types.ModuleType,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.FrameType,
    types.CodeType,
    types.CellType,
    str,
    bytes,
    bytearray,
)


def abandon(transport: Any, limit: int = 20_000) -> None:
    """Retire a transport inherited from the parent process (call only in a forked child).

    Closes the file descriptor of every socket reachable from it (``socket.close`` sends
    nothing: the parent's connection stays open, only the child's reference goes) and keeps
    the object, so that no finaliser (an "unclosed session" report, a close that would
    write) ever runs for it here. Walks at most ``limit`` objects.
    """
    import asyncio

    _abandoned.append(transport)
    seen: set[int] = set()
    stack: list[Any] = [transport]
    while stack and len(seen) < limit:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, socket.socket):
            with contextlib.suppress(OSError):
                obj.close()
            continue
        if isinstance(obj, (*_NOT_WALKED, asyncio.AbstractEventLoop)):
            continue
        if not type(obj).__module__.startswith(_WALKED_MODULES):
            continue
        stack.extend(gc.get_referents(obj))


def _after_fork_in_child() -> None:
    lock._at_fork_reinit()  # type: ignore[attr-defined]
    process.generation += 1
    correlation_ids.clear()
    for state in list(services.values()):
        for part in (state.bulkhead, state.breaker, state.budget):
            _reinit_locks(part)
            part.reset()
    for cache in list(caches.values()):
        _reinit_locks(cache)
        cache.after_fork()
    for obj, action in list(_fork_actions.items()):
        action(obj)


os.register_at_fork(after_in_child=_after_fork_in_child)

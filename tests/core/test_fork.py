"""A process forked while a call is in flight starts with fresh state and can call (sync)."""

from __future__ import annotations

import os
import threading
import time

import pytest

from nilecare_clients import BaseServiceClient, ServiceConfig, _state
from scripted_server import Action, scripted_server

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")


def _wait_child(pid: int, timeout: float = 20.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return -1


def test_child_forked_during_an_in_flight_call_can_call() -> None:
    """With max_in_flight=1 and a call in flight (lock held too), the child's call succeeds."""
    with scripted_server() as server:
        server.script(Action(delay=2.0))
        config = ServiceConfig(
            name="clinical", base_url=server.url, max_in_flight=1, pool_timeout=0.5
        )
        with BaseServiceClient(config=config) as client:
            slow = threading.Thread(
                target=client._request,
                args=("GET", "/api/v1/patients"),
                kwargs={"response_model": None, "envelope_key": None},
            )
            slow.start()
            while server.count() < 1:
                time.sleep(0.01)
            assert client._core.bulkhead.in_flight == 1

            def hold_lock() -> None:
                with _state.lock:
                    time.sleep(1)

            holder = threading.Thread(target=hold_lock)
            holder.start()  # a registry lock held by another thread at fork time
            time.sleep(0.05)
            pid = os.fork()
            if pid == 0:  # the child: report by exit code only, never return into pytest
                code = 3
                try:
                    client._request(
                        "GET", "/api/v1/patients", response_model=None, envelope_key=None
                    )
                    with _state.lock:
                        code = 0
                except BaseException:
                    code = 1
                finally:
                    os._exit(code)
            assert _wait_child(pid) == 0
            slow.join()
            holder.join()

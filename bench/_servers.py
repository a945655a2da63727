"""The loopback server the benchmark calls: nginx when it can be had, else a small fallback.

nginx answers from memory (``return 200 '<envelope>'``), keeps connections alive for the whole
run and logs nothing, so the server's cost is small and steady. The bench never installs it
(``make bench-deps`` does, where it can); without it, ``python bench/_servers.py`` (an asyncio
server written for this bench) stands in, and the report says so. Either server is pinned to
the last core; clients use core 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from _payloads import facility_envelope, patient_envelope

FAIL_BODY = b'{"success":false,"error":{"code":"UNAVAILABLE","message":"down","statusCode":503}}'


def cores() -> tuple[int, int]:
    """(client core, server core): different cores when the machine has two or more."""
    available = sorted(os.sched_getaffinity(0))
    return available[0], available[-1]


@dataclass
class Server:
    name: str  # what the report states, e.g. "nginx/1.22.1"
    port: int  # answers the patient and facility envelopes
    fail_port: int  # answers 503 to everything (to open the breaker)
    process: subprocess.Popen[bytes]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def find_nginx() -> tuple[str | None, str]:
    """The nginx binary, or None and why. Installing it is ``make bench-deps``'s job, not ours."""
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )
    return found, "" if found else "nginx not found (`make bench-deps` installs Debian's package)"


def _nginx_conf(workdir: Path, port: int, fail_port: int) -> str:
    patient = patient_envelope().decode()
    facility = facility_envelope().decode()
    for body in (patient, facility):
        # Inside nginx's single-quoted string: no quote, no variable, no escape.
        assert not set(body) & {"'", "$", "\\"}
    temp = "\n".join(
        f"  {kind}_temp_path {workdir}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""
daemon off;
master_process on;
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 120s;
  server_tokens off;
{temp}
  default_type application/json;
  server {{
    listen 127.0.0.1:{port} backlog=1024;
    location /api/v1/patients/ {{ return 200 '{patient}'; }}
    location /api/v1/facilities/ {{ return 200 '{facility}'; }}
    location /health {{ return 200 '{{"status":"ok"}}'; }}
  }}
  server {{
    listen 127.0.0.1:{fail_port};
    location / {{ return 503 '{FAIL_BODY.decode()}'; }}
  }}
}}
"""


def _wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"server not listening on {port}")


def _pin_to(core: int) -> None:
    os.sched_setaffinity(0, {core})


@contextlib.contextmanager
def running_server(prefer_nginx: bool = True) -> Iterator[tuple[Server, str]]:
    """Start nginx (or the fallback) on loopback, pinned to the server core; stop it after."""
    _, server_core = cores()
    port, fail_port = _free_port(), _free_port()
    note = ""
    nginx, why = find_nginx() if prefer_nginx else (None, "fallback requested")
    with tempfile.TemporaryDirectory(prefix="nilecare-bench-") as tmp:
        workdir = Path(tmp)
        if nginx is not None:
            conf = workdir / "nginx.conf"
            conf.write_text(_nginx_conf(workdir, port, fail_port))
            version = subprocess.run([nginx, "-v"], capture_output=True, text=True).stderr
            name = version.strip().split(":", 1)[-1].strip() or "nginx"
            command = [nginx, "-p", str(workdir), "-c", str(conf), "-e", str(workdir / "error.log")]
        else:
            name = "fallback asyncio server (bench/_servers.py)"
            note = f"nginx not used: {why}"
            command = [sys.executable, __file__, str(port), str(fail_port)]
        process = subprocess.Popen(
            command,
            preexec_fn=lambda: _pin_to(server_core),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            _wait_listening(port, process)
            _wait_listening(fail_port, process)
            yield Server(name, port, fail_port, process), note
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGQUIT if nginx else signal.SIGTERM)
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


# -- the fallback server -------------------------------------------------------------------
def _response(status: str, body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
    )
    return head.encode() + body


class _Http(asyncio.Protocol):
    """Enough HTTP/1.1 for GETs with keep-alive: one canned answer per path prefix."""

    def __init__(self, answers: list[tuple[bytes, bytes]]) -> None:
        self.answers = answers
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            path = head.split(b" ", 2)[1]
            for prefix, answer in self.answers:
                if path.startswith(prefix):
                    self.transport.write(answer)  # type: ignore[attr-defined]
                    break


async def _serve(port: int, fail_port: int) -> None:
    loop = asyncio.get_running_loop()
    ok = [
        (b"/api/v1/patients/", _response("200 OK", patient_envelope())),
        (b"/api/v1/facilities/", _response("200 OK", facility_envelope())),
        (b"/", _response("200 OK", b'{"status":"ok"}')),
    ]
    down = [(b"/", _response("503 Service Unavailable", FAIL_BODY))]
    await loop.create_server(lambda: _Http(ok), "127.0.0.1", port, backlog=1024)
    await loop.create_server(lambda: _Http(down), "127.0.0.1", fail_port, backlog=1024)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(_serve(int(sys.argv[1]), int(sys.argv[2])))

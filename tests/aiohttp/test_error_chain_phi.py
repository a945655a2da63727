"""A malformed answer never puts the request's URL (a patient search's name) on the error chain.

aiohttp's and urllib3's own exceptions quote the full URL with its query; the default
transport's do not.
A raw loopback server answers with a broken ``Content-Length``; every transport must raise the
same kind of library error, and nothing on its ``__cause__``/``__context__`` chain may hold the
search term.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from nilecare_clients import (
    AsyncClinicalServiceClient,
    ClinicalServiceClient,
    ServiceConfig,
    ServiceUnavailableError,
)
from support import call

NAME = "Amina Osman"


@pytest.fixture
def broken_server() -> Iterator[str]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n{}")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(timeout=2)
    listener.close()


def _chain(error: BaseException) -> list[str]:
    seen: list[str] = []
    current: BaseException | None = error
    while current is not None:
        seen.append(f"{type(current).__name__}: {current!s} {current.args!r}")
        current = current.__cause__ or current.__context__
    return seen


@pytest.mark.parametrize("kind", ["sync", "urllib3", "httpx", "aiohttp"])
async def test_malformed_answer_keeps_the_search_term_off_the_chain(
    broken_server: str, kind: str
) -> None:
    """ServiceUnavailableError on every transport, and no link of its chain names the patient."""
    sync = kind in ("sync", "urllib3")
    extra: dict[str, Any] = {"sync_transport": "urllib3"} if kind == "urllib3" else {}
    if not sync:
        extra["async_transport"] = kind
    config = ServiceConfig(
        name="clinical", base_url=broken_server, retry={"max_attempts": 1}, **extra
    )
    client: Any = (
        ClinicalServiceClient(config=config) if sync else AsyncClinicalServiceClient(config=config)
    )
    try:
        with pytest.raises(ServiceUnavailableError) as info:
            await call(client.search_patients(NAME))
    finally:
        await call(client.close() if sync else client.aclose())
    links = _chain(info.value)
    assert len(links) >= 2  # the transport's own error is still there to debug with
    for link in links:
        assert "Amina" not in link and "Osman" not in link, link

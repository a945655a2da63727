"""Mounting the fakes: the in-process transport (sync and async) and a real uvicorn on loopback."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
import warnings

import httpx
import pytest

import nilecare_clients.testing.fakes as fakes
from nilecare_clients.testing.fakes import (
    ConnectionResetFault,
    FakeClinicalService,
    FakeFacilityService,
    FakeTransport,
    make_patient,
)


def _transport_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "nilecare-fake-transport"]


def test_public_surface_is_sorted_and_exact() -> None:
    """fakes.__all__ is sorted (constants, classes, functions) and every name in it exists."""

    def isort_style(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert fakes.__all__ == sorted(fakes.__all__, key=isort_style)
    public = {n for n in vars(fakes) if n.isidentifier() and not n.startswith("_")}
    modules = {"clinical", "facility", "factories", "faults", "journal", "server", "transport"}
    assert set(fakes.__all__) == public - modules
    for name in fakes.__all__:
        assert getattr(fakes, name) is not None


# -- in-process ---------------------------------------------------------------------------


def test_one_transport_serves_sync_and_async_clients() -> None:
    """The same transport object works for httpx.Client and httpx.AsyncClient over one state."""
    fake = FakeClinicalService()
    transport = fake.transport()
    assert isinstance(transport, httpx.BaseTransport)
    assert isinstance(transport, httpx.AsyncBaseTransport)

    async def read(patient_id: str) -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://fake") as aclient:
            return await aclient.get(f"/api/v1/patients/{patient_id}")

    with httpx.Client(transport=transport, base_url="http://fake") as client:
        created = client.post("/api/v1/patients", json=make_patient(seed=1)).json()["data"]
        assert asyncio.run(read(created["id"])).json()["data"] == created


def test_sync_transport_stops_its_thread_on_close() -> None:
    """The sync path's loop thread starts on first use and is gone after client.close()."""
    before = len(_transport_threads())
    fake = FakeFacilityService()
    client = httpx.Client(transport=fake.transport(), base_url="http://fake")
    assert len(_transport_threads()) == before
    client.get("/health")
    assert len(_transport_threads()) == before + 1
    client.close()
    assert len(_transport_threads()) == before


def test_no_unawaited_coroutine_warnings() -> None:
    """Using and closing the transport leaves no 'coroutine was never awaited' warnings."""
    fake = FakeClinicalService()
    fake.faults.latency(0.2, n=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with httpx.Client(transport=fake.transport(), base_url="http://fake") as client:
            with pytest.raises(httpx.ReadTimeout):
                client.get("/api/v1/patients", timeout=0.02)
            client.get("/api/v1/patients")
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)] == []


def test_concurrent_threads_share_one_fake() -> None:
    """Many threads through one client keep every request and record, with a consistent journal."""
    fake = FakeClinicalService()
    with httpx.Client(transport=fake.transport(), base_url="http://fake") as client:

        def work(worker: int) -> None:
            for n in range(10):
                body = make_patient(
                    seed=worker * 100 + n, phone_number=f"+249 91{worker} 000 {n:03d}"
                )
                assert client.post("/api/v1/patients", json=body).status_code == 201

        threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(fake.patients) == len(fake.journal) == 80
    assert sorted(e.seq for e in fake.journal) == list(range(80))
    assert len({p["id"] for p in fake.patients}) == 80


async def test_reset_under_a_foreign_asgi_server_raises() -> None:
    """Under a server that offers no abort hook, reset_connection raises ConnectionResetFault from the app."""
    fake = FakeClinicalService()
    fake.faults.reset_connection()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=fake), base_url="http://fake"
    ) as client:
        with pytest.raises(ConnectionResetFault):
            await client.get("/api/v1/patients")
    assert fake.journal.last.fault == "reset_connection"


async def test_fake_transport_wraps_any_asgi_app() -> None:
    """FakeTransport mounts any ASGI app, answering RemoteProtocolError when the app sends nothing."""

    async def silent(scope: object, receive: object, send: object) -> None:
        return None

    async with httpx.AsyncClient(transport=FakeTransport(silent), base_url="http://fake") as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/")


# -- loopback -----------------------------------------------------------------------------


def test_serve_on_loopback_and_stop() -> None:
    """serve() yields a 127.0.0.1 base URL that answers, shares state, and stops accepting on exit."""
    fake = FakeClinicalService()
    patient = fake.create_patient()
    with fake.serve() as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=base_url) as client:
            response = client.get(
                f"/api/v1/patients/{patient['id']}", headers={"X-Correlation-ID": "c-9"}
            )
            assert response.json()["data"] == patient
            assert response.headers["x-correlation-id"] == "c-9"
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base_url}/health", timeout=1)
    assert fake.journal.last.correlation_id == "c-9"


def test_real_reset_on_loopback_sync() -> None:
    """reset_connection on loopback makes httpx see a reset after the body was sent; the next call works."""
    fake = FakeClinicalService()
    fake.faults.reset_connection(1, method="POST")
    body = make_patient(seed=3)
    with fake.serve() as base_url, httpx.Client(base_url=base_url) as client:
        with pytest.raises(httpx.ReadError) as caught:
            client.post("/api/v1/patients", json=body)
        assert "reset" in str(caught.value).lower()
        assert client.post("/api/v1/patients", json=body).status_code == 201
    assert [(e.status, e.fault) for e in fake.journal] == [(None, "reset_connection"), (201, None)]
    assert fake.journal[0].json() == body
    assert len(fake.patients) == 1


async def test_real_reset_on_loopback_async() -> None:
    """The async client also sees a connection reset from a loopback fake."""
    fake = FakeFacilityService()
    fake.faults.reset_connection(1)
    with fake.serve() as base_url:
        async with httpx.AsyncClient(base_url=base_url) as client:
            with pytest.raises(httpx.ReadError):
                await client.get("/api/v1/facilities")
            assert (await client.get("/api/v1/facilities")).status_code == 200


def test_latency_on_loopback_times_out_for_real() -> None:
    """A latency fault on loopback trips httpx's own read timeout."""
    fake = FakeClinicalService()
    fake.faults.latency(0.3, n=1)
    with fake.serve() as base_url, httpx.Client(base_url=base_url, timeout=0.05) as client:
        with pytest.raises(httpx.ReadTimeout):
            client.get("/api/v1/stats")
        assert client.get("/api/v1/stats", timeout=2).status_code == 200


def test_serve_and_transport_together() -> None:
    """One fake can be served on loopback and in-process at once, over the same records."""
    fake = FakeFacilityService()
    with (
        fake.serve() as base_url,
        httpx.Client(base_url=base_url) as remote,
        httpx.Client(transport=fake.transport(), base_url="http://fake") as local,
    ):
        facility = fake.create_facility()
        assert remote.get(f"/api/v1/facilities/{facility['facilityId']}").status_code == 200
        assert local.get(f"/api/v1/facilities/{facility['facilityId']}").status_code == 200
    assert fake.journal.count("GET", "/api/v1/facilities/*") == 2


def test_serve_shuts_down_quickly_with_open_connections() -> None:
    """Leaving serve() with a keep-alive connection still open returns promptly."""
    fake = FakeClinicalService()
    client = httpx.Client()
    try:
        started = time.perf_counter()
        with fake.serve() as base_url:
            client.get(f"{base_url}/health")
        assert time.perf_counter() - started < 3
    finally:
        client.close()

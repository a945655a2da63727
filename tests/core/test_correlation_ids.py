"""Generated correlation ids are UUID4 strings, unique across threads and forked processes."""

from __future__ import annotations

import os
import threading
import uuid

import pytest

from nilecare_clients._correlation import new_correlation_id


def test_ids_are_uuid4_strings() -> None:
    """Each id parses as a version 4, RFC 4122 UUID and prints back unchanged."""
    for value in (new_correlation_id() for _ in range(1000)):
        parsed = uuid.UUID(value)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        assert str(parsed) == value


def test_ids_are_unique_across_threads() -> None:
    """Threads drawing from the shared batch never receive the same id."""
    seen: list[list[str]] = [[] for _ in range(8)]

    def draw(out: list[str]) -> None:
        out.extend(new_correlation_id() for _ in range(2000))

    threads = [threading.Thread(target=draw, args=(out,)) for out in seen]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [value for out in seen for value in out]
    assert len(set(every)) == len(every) == 16000


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_does_not_repeat_its_parents_ids() -> None:
    """A child process starts from fresh randomness, not the parent's unused batch."""
    new_correlation_id()  # the parent now holds a batch of unused ids
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.write(write, new_correlation_id().encode())
        os._exit(0)
    os.close(write)
    child_id = os.read(read, 100).decode()
    os.close(read)
    os.waitpid(pid, 0)
    parent_ids = {new_correlation_id() for _ in range(300)}
    assert child_id not in parent_ids

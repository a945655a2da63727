"""The core and resilience loopback tests, run as they are over both async transports.

The test bodies are imported from their own modules (listed once, in
``tests/shared_loopback.py``), not copied, so the two transports are
held to the very same behaviour and cannot drift: the real socket exchange, refused
connections, read timeouts, resets before and after the body, retries and idempotency of
writes, the breaker under outage and recovery, the deadline on a slow server, and the
bulkhead. ``conftest.py`` here makes ``make_client``/``loopback`` build async clients on the
transport under test. Tests that inject an ``httpx.MockTransport`` are not repeated: an
injected transport wins over ``async_transport``, so they would prove nothing new.
"""

from __future__ import annotations

from shared_loopback import *  # noqa: F403 - the list lives in tests/shared_loopback.py

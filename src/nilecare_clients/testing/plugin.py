"""pytest plugin, registered through the ``pytest11`` entry point (installed with the package).

Every test starts from a clean library state (breakers, retry budgets, bulkheads, caches,
test mode) so an outage simulated in one test never opens a breaker in the next.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nilecare_clients.testing import reset_state


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "nilecare(**options): configure the nilecare_clients fakes for this test"
    )


@pytest.fixture(autouse=True)
def _nilecare_clean_state() -> Iterator[None]:
    reset_state()
    yield
    reset_state()

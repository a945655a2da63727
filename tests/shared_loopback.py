"""The loopback tests every transport must pass as they are: imported, never copied.

``tests/sync_transports/test_shared_loopback.py`` (both sync transports) and
``tests/aiohttp/test_shared_loopback.py`` (both async transports) take them all with one star
import, so the two sets cannot drift; each directory's ``conftest.py`` decides which clients
``make_client``/``loopback`` build.
"""

from __future__ import annotations

from core.test_loopback import (  # noqa: F401
    test_connection_refused,
    test_health_check_never_raises_when_unreachable,
    test_read_timeout,
    test_real_round_trip,
    test_reset_after_request,
)
from resilience.test_bulkhead import (  # noqa: F401
    test_bulkhead_wait_is_bounded_by_the_deadline,
    test_excess_calls_wait_then_fail_with_bulkhead_full,
    test_waiting_calls_go_through_as_slots_free,
)
from resilience.test_chaos import (  # noqa: F401
    test_keyed_post_retries_never_reuse_a_key_across_calls,
    test_post_without_key_is_never_repeated_under_chaos,
    test_recovery_closes_through_half_open,
    test_thirty_percent_503s_are_ridden_out,
    test_thirty_percent_503s_with_defaults_shed_load,
    test_total_outage_stops_connecting_after_the_first_second,
)
from resilience.test_deadline import test_deadline_scope_bounds_a_call_to_a_slow_server  # noqa: F401
from resilience.test_writes_loopback import (  # noqa: F401
    test_503_then_500_stops_at_the_500,
    test_keyed_post_honoured_is_retried_with_the_same_key,
    test_keyed_post_not_honoured_is_sent_once_and_carries_the_key,
    test_post_without_key_503_three_times_is_not_outcome_unknown,
    test_post_without_key_refused_connection_is_retried,
    test_post_without_key_refused_with_429_or_503_is_retried,
    test_post_without_key_that_may_have_been_applied_is_sent_once,
)

"""Process-wide resilience state, one set per service name, shared by every client.

A breaker per client instance (the prototype's design) lets each new instance hammer a service
that another instance already knows is down. Here every client of ``"clinical"`` in the
process, sync or async, shares one breaker, one retry budget and one bulkhead. The first client
of a name fixes the policies; a later client (or ``with_options`` copy) that disagrees on one
of them (``_config.SHARED_FIELDS``) raises ``ConfigurationError`` naming the field, so that
``client.config`` never reports a value that is not in force. ``reset_state()`` forgets
everything (tests).
"""

from __future__ import annotations

from dataclasses import dataclass

from nilecare_clients._config import ServiceConfig, shared_mismatch, shared_settings
from nilecare_clients._errors import ConfigurationError
from nilecare_clients._resilience.breaker import ServiceBreaker
from nilecare_clients._resilience.budget import RetryBudget
from nilecare_clients._resilience.bulkhead import Bulkhead
from nilecare_clients._state import lock as _lock
from nilecare_clients._state import services as _states

__all__ = ["ServiceState", "all_states", "reset_state", "state_for"]


@dataclass(frozen=True)
class ServiceState:
    breaker: ServiceBreaker
    budget: RetryBudget
    bulkhead: Bulkhead


_settings: dict[str, dict[str, object]] = {}  # what each service's state was built from


def _check_agrees(config: ServiceConfig) -> None:
    field = shared_mismatch(_settings.get(config.name, {}), config)
    if field is not None:
        raise ConfigurationError(
            f"{config.name}: {field} differs from the value this process's shared breaker, "
            "retry budget and bulkhead were built with; it is per service, not per client: "
            "use the same value in every client of this name (with_options cannot change it)"
        )


def state_for(config: ServiceConfig) -> ServiceState:
    """The shared state of ``config.name``, created on first use."""
    state = _states.get(config.name)
    if state is not None:
        _check_agrees(config)
        return state
    with _lock:
        state = _states.get(config.name)
        if state is not None:
            _check_agrees(config)
        else:
            retry = config.retry
            state = ServiceState(
                breaker=ServiceBreaker(config.name, config.breaker, retry.clock),
                budget=RetryBudget(
                    retry.budget_ratio,
                    retry.budget_min_per_second,
                    retry.budget_window,
                    retry.clock,
                ),
                bulkhead=Bulkhead(config.in_flight_limit),
            )
            _settings[config.name] = shared_settings(config)
            _states[config.name] = state
        return state


def all_states() -> dict[str, ServiceState]:
    """A snapshot of every registered service's state (health endpoints, metrics)."""
    with _lock:
        return dict(_states)


def reset_state() -> None:
    """Forget every breaker, budget and bulkhead (the next client starts fresh)."""
    with _lock:
        _states.clear()
        _settings.clear()

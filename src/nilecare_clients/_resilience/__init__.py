"""Resilience state that outlives a single call: breaker, retry budget, bulkhead (no I/O)."""

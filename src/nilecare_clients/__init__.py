"""Typed, resilient HTTP clients for NileCare's Clinical and Facility services."""

from nilecare_clients._version import __version__

__all__ = ["__version__"]

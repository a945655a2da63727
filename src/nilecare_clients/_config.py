"""Configuration: ``ServiceConfig`` and the policies it carries, and ``from_env``.

Configuration is immutable (frozen pydantic models): a client derives everything it needs
once, at construction, so the per-call path reads plain attributes. ``with_options`` makes
a changed copy instead of mutating a config that other clients share.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from nilecare_clients._errors import ConfigurationError
from nilecare_clients._version import __version__

__all__ = [
    "BreakerPolicy",
    "RetryPolicy",
    "ServiceConfig",
    "TokenFile",
    "TokenProvider",
]

#: Returns a bearer token; called before every attempt so rotated tokens are picked up.
TokenProvider = Callable[[], "str | Awaitable[str]"]

_NAME = re.compile(r"[a-z][a-z0-9_-]{0,62}")


class _Frozen(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="forbid", arbitrary_types_allowed=True, hide_input_in_errors=True
    )


class RetryPolicy(_Frozen):
    """When and how often a failed call is repeated.

    Retried: failures that prove nothing was sent (connect refused, pool timeout), 429 and
    503 for every call; 502/504, read timeouts, resets and 500 only for calls that are safe to
    repeat (GET, HEAD, PUT, DELETE, OPTIONS, or a write whose idempotency key the service
    honours). Never other 4xx. Backoff is exponential with full jitter.
    """

    max_attempts: int = Field(default=3, ge=1, le=10)
    backoff_base: float = Field(default=0.1, ge=0)
    backoff_cap: float = Field(default=2.0, ge=0)
    #: A ``Retry-After`` longer than this (or than the time left) fails at once instead.
    max_retry_after: float = Field(default=10.0, ge=0)
    #: Retry budget: retries may add ``budget_ratio`` over first attempts in the window, plus
    #: ``budget_min_per_second`` so low traffic can still retry (Finagle / gRPC throttling).
    budget_ratio: float = Field(default=0.1, ge=0)
    budget_min_per_second: float = Field(default=1.0, ge=0)
    budget_window: float = Field(default=10.0, gt=0)
    # Injection points so resilience tests are deterministic and never sleep for real.
    sleep: Callable[[float], None] = time.sleep
    async_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    clock: Callable[[], float] = time.monotonic
    jitter: Callable[[], float] = random.random


class BreakerPolicy(_Frozen):
    """When a service's circuit opens, and how it probes for recovery.

    Opens on ``failure_rate`` over the last ``window_size`` calls once ``minimum_calls`` were
    made, or on ``consecutive_failures`` in a row. Only 5xx, connect failures and timeouts
    count as failures: a 4xx means the service is healthy and said no.
    """

    enabled: bool = True
    failure_rate: float = Field(default=0.5, gt=0, le=1)
    window_size: int = Field(default=20, ge=1)
    minimum_calls: int = Field(default=10, ge=1)
    consecutive_failures: int = Field(default=5, ge=1)
    reset_timeout: float = Field(default=30.0, ge=0)
    half_open_max_calls: int = Field(default=1, ge=1)


class ServiceConfig(_Frozen):
    """Everything a client needs to reach one service.

    ``base_url`` is the service root (scheme, host, port and a gateway prefix if any), never
    including ``/api/v1``. Timeouts are per attempt; ``deadline`` bounds a whole call,
    retries and backoff included. Secrets are ``SecretStr`` and never appear in a ``repr``.
    """

    name: str
    base_url: str
    api_key: SecretStr | None = None
    token_provider: TokenProvider | None = Field(default=None, repr=False)
    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=5.0, gt=0)
    write_timeout: float = Field(default=5.0, gt=0)
    pool_timeout: float = Field(default=5.0, gt=0)
    deadline: float = Field(default=10.0, gt=0)
    headers: Mapping[str, str] = Field(default_factory=dict)
    max_connections: int = Field(default=100, ge=1)
    max_keepalive_connections: int = Field(default=20, ge=0)
    keepalive_expiry: float = Field(default=5.0, ge=0)
    #: At most this many requests in flight to the service (bulkhead); default: the pool size.
    max_in_flight: int | None = Field(default=None, ge=1)
    #: ``True`` (default), ``False`` (never in production), or a CA bundle path.
    verify: bool | str = True
    #: Client certificate for mTLS: a PEM path, or ``(cert_path, key_path)``.
    client_cert: str | tuple[str, str] | None = None
    user_agent: str = f"nilecare-clients/{__version__}"
    #: Whether the service honours ``Idempotency-Key`` (today's services do not: contract I26).
    #: Writes whose key is not honoured are repeated only when the failure proves nothing was
    #: done.
    idempotency_keys_honoured: bool = False
    health_path: str = "/health"
    #: A success body larger than this is refused (``ResponseTooLargeError``) as soon as it is
    #: known to be too large, without buffering it. Error bodies are kept only up to 64 KiB.
    max_response_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    #: The async clients' HTTP transport: ``"httpx"`` (its own pool, the default) or
    #: ``"aiohttp"`` (httpx's API over an aiohttp session: several times the throughput under
    #: concurrency; needs ``pip install "nilecare-clients[aiohttp]"``). Sync clients ignore it.
    async_transport: Literal["httpx", "aiohttp"] = "httpx"
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    breaker: BreakerPolicy = Field(default_factory=BreakerPolicy)
    #: Facility only: the shared cache tier (``_CACHE_REDIS_URL``) and its tenancy namespace
    #: (``_CACHE_REDIS_NAMESPACE``, default the calling service's name); see ``CachePolicy``.
    cache_redis_url: SecretStr | None = None
    cache_redis_namespace: str | None = None

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not _NAME.fullmatch(value):
            raise ValueError("name must be lowercase letters, digits, '-' or '_' (e.g. 'clinical')")
        return value

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        if not re.match(r"https?://[^/?#\s]+(/[^?#\s]*)?$", value):
            raise ValueError("base_url must be an http(s) URL without query or fragment")
        if re.search(r"/api/v1/?$", value):
            raise ValueError("base_url is the service root: leave out /api/v1")
        return value.rstrip("/")

    @property
    def in_flight_limit(self) -> int:
        return self.max_in_flight or self.max_connections

    @classmethod
    def from_env(
        cls,
        service: str,
        *,
        environ: Mapping[str, str] | None = None,
        **overrides: Any,
    ) -> ServiceConfig:
        """Read ``NILECARE_<SERVICE>_*`` variables (``service`` such as ``"CLINICAL"``).

        ``_URL`` is required. Optional: ``_API_KEY``, ``_TOKEN`` or ``_TOKEN_FILE`` (re-read
        when the file changes, for mounted secrets that rotate), ``_TIMEOUT`` (all four
        per-attempt timeouts), ``_CONNECT_TIMEOUT``, ``_READ_TIMEOUT``, ``_DEADLINE``,
        ``_MAX_ATTEMPTS``, ``_VERIFY`` (``true``/``false``/CA path), ``_CLIENT_CERT`` and
        ``_CLIENT_KEY``, ``_IDEMPOTENCY_KEYS_HONOURED``, ``_ASYNC_TRANSPORT`` (``httpx`` or
        ``aiohttp``), ``_CACHE_REDIS_URL`` and ``_CACHE_REDIS_NAMESPACE`` (Facility's shared
        cache tier). Keyword overrides win.
        """
        env = os.environ if environ is None else environ
        prefix = f"NILECARE_{service.upper()}_"

        def get(key: str) -> str | None:
            value = env.get(prefix + key)
            return value if value not in (None, "") else None

        def number(key: str) -> float | None:
            raw = get(key)
            if raw is None:
                return None
            try:
                value = float(raw)
            except ValueError:
                raise ConfigurationError(f"{prefix}{key} must be a number of seconds") from None
            if not value > 0:
                raise ConfigurationError(f"{prefix}{key} must be greater than 0")
            return value

        def flag(key: str) -> bool | None:
            raw = get(key)
            if raw is None:
                return None
            lowered = raw.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ConfigurationError(f"{prefix}{key} must be true or false")

        url = get("URL")
        if url is None:
            raise ConfigurationError(f"missing environment variable {prefix}URL")
        values: dict[str, Any] = {"name": service.lower(), "base_url": url}
        if (api_key := get("API_KEY")) is not None:
            values["api_key"] = SecretStr(api_key)
        token, token_file = get("TOKEN"), get("TOKEN_FILE")
        if token is not None and token_file is not None:
            raise ConfigurationError(f"set only one of {prefix}TOKEN and {prefix}TOKEN_FILE")
        if token is not None:
            values["token_provider"] = _StaticToken(SecretStr(token))
        elif token_file is not None:
            values["token_provider"] = TokenFile(token_file)
        if (timeout := number("TIMEOUT")) is not None:
            for key in ("connect_timeout", "read_timeout", "write_timeout", "pool_timeout"):
                values[key] = timeout
        for key in ("connect_timeout", "read_timeout", "deadline"):
            if (value := number(key.upper())) is not None:
                values[key] = value
        if (attempts := get("MAX_ATTEMPTS")) is not None:
            if not attempts.isdigit() or not 1 <= int(attempts) <= 10:
                raise ConfigurationError(f"{prefix}MAX_ATTEMPTS must be an integer from 1 to 10")
            values["retry"] = RetryPolicy(max_attempts=int(attempts))
        verify = get("VERIFY")
        if verify is not None:
            lowered = verify.lower()
            values["verify"] = (
                True if lowered in ("1", "true") else False if lowered in ("0", "false") else verify
            )
        cert, cert_key = get("CLIENT_CERT"), get("CLIENT_KEY")
        if cert is not None:
            values["client_cert"] = (cert, cert_key) if cert_key is not None else cert
        elif cert_key is not None:
            raise ConfigurationError(f"{prefix}CLIENT_KEY is set but {prefix}CLIENT_CERT is not")
        if (honoured := flag("IDEMPOTENCY_KEYS_HONOURED")) is not None:
            values["idempotency_keys_honoured"] = honoured
        if (transport := get("ASYNC_TRANSPORT")) is not None:
            if transport.strip().lower() not in ("httpx", "aiohttp"):
                raise ConfigurationError(f"{prefix}ASYNC_TRANSPORT must be httpx or aiohttp")
            values["async_transport"] = transport.strip().lower()
        if (redis_url := get("CACHE_REDIS_URL")) is not None:
            if not redis_url.startswith(("redis://", "rediss://", "unix://")):
                raise ConfigurationError(f"{prefix}CACHE_REDIS_URL must be a redis:// URL")
            values["cache_redis_url"] = SecretStr(redis_url)
        if (namespace := get("CACHE_REDIS_NAMESPACE")) is not None:
            values["cache_redis_namespace"] = namespace
        values.update(overrides)
        try:
            return cls(**values)
        except ValueError as exc:
            # pydantic's message lists the field and the rule; inputs are hidden by config.
            raise ConfigurationError(f"invalid configuration for {prefix}*: {exc}") from None


class _StaticToken:
    """A token read once from the environment; its repr never shows it."""

    __slots__ = ("_token",)

    def __init__(self, token: SecretStr) -> None:
        self._token = token

    def __call__(self) -> str:
        return self._token.get_secret_value()

    def __repr__(self) -> str:
        return "StaticToken('**********')"


class TokenFile:
    """A bearer token read from a file (a mounted secret), re-read when the file changes."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = Path(path)
        self._stamp: tuple[int, int] | None = None
        self._token = ""

    def __call__(self) -> str:
        try:
            stat = self._path.stat()
        except OSError as exc:
            raise ConfigurationError(f"token file {self._path} cannot be read") from exc
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            token = self._path.read_text(encoding="utf-8").strip()
            if not token:
                raise ConfigurationError(f"token file {self._path} is empty")
            self._token, self._stamp = token, stamp
        return self._token

    def __repr__(self) -> str:
        return f"TokenFile({str(self._path)!r})"

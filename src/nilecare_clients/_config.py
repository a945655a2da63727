"""Configuration: ``ServiceConfig`` and the policies it carries, and ``from_env``.

Configuration is immutable (frozen pydantic models): a client derives everything it needs
once, at construction, so the per-call path reads plain attributes. ``with_options`` makes
a changed copy instead of mutating a config that other clients share.

Every invalid setting raises ``ConfigurationError`` at construction, in one line that names
the field (or the environment variable, or the override passed in code) and the rule, never
the value: pydantic's multi-line text would land in a log line, and a value may be a secret.
Some settings are per service and process, not per client (see ``SHARED_FIELDS``).
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

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from nilecare_clients import _testmode
from nilecare_clients._errors import ConfigurationError
from nilecare_clients._version import __version__

__all__ = [
    "BOOLEAN_SPELLINGS",
    "SHARED_FIELDS",
    "BreakerPolicy",
    "RetryPolicy",
    "ServiceConfig",
    "TokenFile",
    "TokenProvider",
    "checked_token",
    "shared_settings",
]

#: Returns a bearer token; called before every attempt so rotated tokens are picked up.
TokenProvider = Callable[[], "str | Awaitable[str]"]

_NAME = re.compile(r"[a-z][a-z0-9_-]{0,62}")


#: The one set of boolean spellings every ``NILECARE_*`` variable accepts (any case).
BOOLEAN_SPELLINGS: dict[str, bool] = {
    "true": True,
    "1": True,
    "yes": True,
    "on": True,
    "false": False,
    "0": False,
    "no": False,
    "off": False,
}
_SPELLINGS_TEXT = "true/false, 1/0, yes/no or on/off"
# What may go in an HTTP header as we send it: a value of visible ASCII and inner spaces, a
# name a token (RFC 9110).
HEADER_VALUE = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?")
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def _rule(error: Mapping[str, Any]) -> str:
    """pydantic's message for one error, as a rule that never quotes the input."""
    if error["type"] == "extra_forbidden":
        return "is not a known setting"
    if error["type"] == "missing":
        return "is required"
    message = str(error["msg"]).splitlines()[0]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if message.startswith("invalid ") and ": " in message:  # a nested policy's own message
        message = "." + message.split(": ", 1)[1]  # joined to the field: retry.max_attempts
    return message.replace("Input should be", "must be")


_UNION_MEMBERS = frozenset({"bool", "str", "int", "float", "none"})


def setting_problems(exc: ValidationError) -> list[tuple[str, str]]:
    """``(field, rule)`` per invalid field (first rule only), never the value."""
    parts: dict[str, str] = {}
    for error in exc.errors(include_url=False, include_input=False):
        names: list[str] = []
        for part in error["loc"]:
            # Stop at a union member's type (``verify``: bool | str) or a list index.
            if not isinstance(part, str) or not part.isidentifier() or part in _UNION_MEMBERS:
                break
            names.append(part)
        field, rule = ".".join(names), _rule(error)
        if rule.startswith("."):
            nested, _, rule = rule[1:].partition(" ")
            field = f"{field}.{nested}"
        parts.setdefault(field, rule)
    return list(parts.items())


def describe_problems(
    model: str, problems: list[tuple[str, str]], name_field: Callable[[str], str] | None = None
) -> str:
    """One line: ``invalid <model>: <field> <rule>; ...`` (fields renamed by ``name_field``)."""
    shown = [
        (name_field(field) if name_field is not None and field else field or model, rule)
        for field, rule in problems
    ]
    return f"invalid {model}: " + "; ".join(f"{field} {rule}" for field, rule in shown)


class InvalidSettingsError(ConfigurationError):
    """A policy or config model refused its input; ``problems`` lists ``(field, rule)``."""

    def __init__(self, model: str, problems: list[tuple[str, str]]) -> None:
        self.model = model
        self.problems = problems
        super().__init__(describe_problems(model, problems))


class _Frozen(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="forbid", arbitrary_types_allowed=True, hide_input_in_errors=True
    )

    def __init__(self, **data: Any) -> None:
        """Validate, turning pydantic's error into a one-line ``ConfigurationError``.

        pydantic routes ``model_validate`` through this too. A nested policy given as a dict
        fails inside the outer model's validation, which reports it as the outer field.
        """
        try:
            super().__init__(**data)
        except ValidationError as exc:
            problems = setting_problems(exc)
        else:
            return
        # Raised outside the except block: no pydantic text on the __context__ chain.
        raise InvalidSettingsError(type(self).__name__, problems)


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
    #: Default: ``time.monotonic`` that a test may move forward (``testing.TestClock``).
    clock: Callable[[], float] = _testmode.monotonic
    jitter: Callable[[], float] = random.random


class BreakerPolicy(_Frozen):
    """When calls are refused locally: circuits for what is gone, a throttle for the rest.

    A **route** circuit opens when at least ``failure_rate`` of the last ``window_size`` calls
    to that route template (``minimum_calls`` at least) failed with a 5xx or a transport
    failure; the **service** circuit opens when those failures are transport failures (refused,
    timeouts, resets) or 5xx spread across routes, or on ``consecutive_failures`` transport
    failures in a row. An open circuit lets ``half_open_max_calls`` probes through after
    ``reset_timeout``. A 4xx or a 501 never counts: the service is up and said no.

    Partial failure is left to adaptive **throttling** (Google SRE book, "Handling Overload"):
    a first attempt is refused locally (``ThrottledError``) with probability
    ``max(0, (requests - throttle_k * accepts) / (requests + 1))`` over the last
    ``throttle_window`` seconds, once ``throttle_min_requests`` attempts were made. The
    defaults never trip a circuit by chance in a brownout (the expected time to a false trip is
    in docs/architecture.md). ``enabled=False`` turns off circuits and throttle.
    """

    enabled: bool = True
    failure_rate: float = Field(default=0.9, gt=0, le=1)
    window_size: int = Field(default=100, ge=1)
    minimum_calls: int = Field(default=50, ge=1)
    consecutive_failures: int = Field(default=15, ge=1)
    reset_timeout: float = Field(default=30.0, ge=0)
    half_open_max_calls: int = Field(default=1, ge=1)
    throttle: bool = True
    #: The client sends up to ``throttle_k`` times what the service still accepts.
    throttle_k: float = Field(default=2.0, gt=1)
    throttle_window: float = Field(default=10.0, gt=0)
    throttle_min_requests: int = Field(default=20, ge=1)
    #: Injection point: the draw that decides a throttled call (tests make it deterministic).
    throttle_random: Callable[[], float] = random.random

    @model_validator(mode="after")
    def _volume_fits_the_window(self) -> BreakerPolicy:
        if self.minimum_calls > self.window_size:
            # The window never holds that many calls: the rate rule would never be judged.
            raise ValueError("minimum_calls must be at most window_size")
        return self


class ServiceConfig(_Frozen):
    """Everything a client needs to reach one service.

    ``base_url`` is the service root (scheme, host, port and a gateway prefix if any), never
    including ``/api/v1``. Timeouts are per attempt; ``deadline`` bounds a whole call,
    retries and backoff included. Secrets are ``SecretStr`` and never appear in a ``repr``.

    The fields in ``SHARED_FIELDS`` are per service and process (one breaker, retry budget
    and bulkhead per ``name``): every client of a name must agree on them, or construction
    raises ``ConfigurationError`` naming the field. Everything else is per client.
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
    #: ``True`` (default), ``False`` (never in production), or a CA bundle path (must exist).
    verify: bool | str = True
    #: Client certificate for mTLS: a PEM path, or ``(cert_path, key_path)`` (must exist).
    client_cert: str | tuple[str, str] | None = None
    user_agent: str = f"nilecare-clients/{__version__}"
    #: Whether the service honours ``Idempotency-Key`` (today's services do not: contract I26).
    #: Writes whose key is not honoured are repeated only when the failure proves nothing was
    #: done.
    idempotency_keys_honoured: bool = Field(default=False, strict=True)
    health_path: str = "/health"
    #: A success body larger than this is refused (``ResponseTooLargeError``) as soon as it is
    #: known to be too large, without buffering it. Error bodies are kept only up to 64 KiB.
    max_response_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    #: The async clients' HTTP transport: ``"httpx"`` (its own pool, the default) or
    #: ``"aiohttp"`` (httpx's API over an aiohttp session: several times the throughput under
    #: concurrency; needs ``pip install "nilecare-clients[aiohttp]"``). Sync clients ignore it.
    async_transport: Literal["httpx", "aiohttp"] = "httpx"
    #: The sync clients' HTTP transport: ``"httpx"`` (the default) or ``"urllib3"`` (urllib3's
    #: pool, below httpx's objects: about 1.5-2x the throughput; needs
    #: ``pip install "nilecare-clients[urllib3]"``). Async clients ignore it.
    sync_transport: Literal["httpx", "urllib3"] = "httpx"
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
            raise ValueError("must be lowercase letters, digits, '-' or '_' (e.g. 'clinical')")
        return value

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        if not re.match(r"https?://[^/?#\s]+(/[^?#\s]*)?$", value):
            raise ValueError("must be an http(s) URL without query or fragment")
        if re.search(r"/api/v1/?$", value):
            raise ValueError("is the service root: leave out /api/v1")
        return value.rstrip("/")

    @field_validator("api_key")
    @classmethod
    def _check_api_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        stripped = value.get_secret_value().strip()
        if not HEADER_VALUE.fullmatch(stripped):
            raise ValueError(_HEADER_RULE)
        return SecretStr(stripped)

    @field_validator("headers")
    @classmethod
    def _check_headers(cls, value: Mapping[str, str]) -> Mapping[str, str]:
        for name, text in value.items():
            if not HEADER_NAME.fullmatch(name) or not HEADER_VALUE.fullmatch(text):
                raise ValueError("names and values must be printable ASCII, without line breaks")
        return value

    @field_validator("user_agent")
    @classmethod
    def _check_user_agent(cls, value: str) -> str:
        if not HEADER_VALUE.fullmatch(value):
            raise ValueError(_HEADER_RULE)
        return value

    @field_validator("health_path")
    @classmethod
    def _check_health_path(cls, value: str) -> str:
        if not re.fullmatch(r"/[^?#\s]*", value):
            raise ValueError("must be a path starting with '/'")
        return value

    @field_validator("verify")
    @classmethod
    def _check_verify(cls, value: bool | str) -> bool | str:
        if isinstance(value, bool):
            return value
        spelled = BOOLEAN_SPELLINGS.get(value.strip().lower())
        if spelled is not None:
            return spelled
        if not Path(value).is_file():
            raise ValueError(f"must be {_SPELLINGS_TEXT}, or the path of a CA bundle that exists")
        return value

    @field_validator("client_cert")
    @classmethod
    def _check_client_cert(cls, value: str | tuple[str, str] | None) -> Any:
        if value is None:
            return None
        cert, key = (value, None) if isinstance(value, str) else value
        if not Path(cert).is_file():
            raise ValueError("certificate file does not exist")
        if key is not None and not Path(key).is_file():
            raise ValueError("key file does not exist")
        return value

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

        ``_URL`` is required; every other variable is in the README's table (``ENV_VARIABLES``
        lists them, with ``_CACHE_REDIS_URL`` and ``_CACHE_REDIS_NAMESPACE`` for Facility's
        shared cache tier). Keyword ``overrides`` (any ``ServiceConfig`` field) win over the
        environment; an invalid override is blamed on the code that passed it, an invalid
        variable on the variable. Errors never show a value.
        """
        env = os.environ if environ is None else environ
        prefix = f"NILECARE_{service.upper()}_"
        unknown = set(overrides) - set(cls.model_fields)
        if unknown:
            raise ConfigurationError(
                f"from_env() override {sorted(unknown)[0]} (passed in code) is not a "
                "ServiceConfig field"
            )
        read = _EnvReader(env, prefix)
        values: dict[str, Any] = {}
        origin: dict[str, str] = {}  # field -> the variable it came from

        def put(field: str, value: Any, key: str) -> None:
            values[field] = value
            origin[field] = prefix + key

        url = read.text("URL")
        if url is None:
            raise ConfigurationError(f"missing environment variable {prefix}URL")
        values["name"] = service.lower()
        put("base_url", url.strip(), "URL")
        if (api_key := read.secret("API_KEY")) is not None:
            put("api_key", SecretStr(api_key), "API_KEY")
        token, token_file = read.text("TOKEN"), read.text("TOKEN_FILE")
        if token is not None and token_file is not None:
            raise ConfigurationError(f"set only one of {prefix}TOKEN and {prefix}TOKEN_FILE")
        if token is not None:
            put("token_provider", _StaticToken(SecretStr(read.secret("TOKEN") or "")), "TOKEN")
        elif token_file is not None:
            put("token_provider", TokenFile(token_file, source=prefix + "TOKEN_FILE"), "TOKEN_FILE")
        if (timeout := read.number("TIMEOUT")) is not None:
            for field in ("connect_timeout", "read_timeout", "write_timeout", "pool_timeout"):
                put(field, timeout, "TIMEOUT")
        for field in (
            "connect_timeout",
            "read_timeout",
            "write_timeout",
            "pool_timeout",
            "deadline",
            "keepalive_expiry",
        ):
            if (
                number := read.number(field.upper(), allow_zero=field == "keepalive_expiry")
            ) is not None:
                put(field, number, field.upper())
        for field, low in (
            ("max_connections", 1),
            ("max_keepalive_connections", 0),
            ("max_in_flight", 1),
        ):
            if (count := read.integer(field.upper(), low)) is not None:
                put(field, count, field.upper())
        if (attempts := read.integer("MAX_ATTEMPTS", 1, 10)) is not None:
            put("retry", RetryPolicy(max_attempts=attempts), "MAX_ATTEMPTS")
        if (verify := read.text("VERIFY")) is not None:
            spelled = BOOLEAN_SPELLINGS.get(verify.strip().lower())
            put("verify", verify.strip() if spelled is None else spelled, "VERIFY")
        cert, cert_key = read.text("CLIENT_CERT"), read.text("CLIENT_KEY")
        if cert is not None:
            put("client_cert", (cert, cert_key) if cert_key is not None else cert, "CLIENT_CERT")
            if cert_key is not None and not Path(cert_key).is_file():
                raise ConfigurationError(f"{prefix}CLIENT_KEY: key file does not exist")
        elif cert_key is not None:
            raise ConfigurationError(f"{prefix}CLIENT_KEY is set but {prefix}CLIENT_CERT is not")
        if (honoured := read.flag("IDEMPOTENCY_KEYS_HONOURED")) is not None:
            put("idempotency_keys_honoured", honoured, "IDEMPOTENCY_KEYS_HONOURED")
        if (transport := read.text("ASYNC_TRANSPORT")) is not None:
            if transport.strip().lower() not in ("httpx", "aiohttp"):
                raise ConfigurationError(f"{prefix}ASYNC_TRANSPORT must be httpx or aiohttp")
            put("async_transport", transport.strip().lower(), "ASYNC_TRANSPORT")
        if (transport := read.text("SYNC_TRANSPORT")) is not None:
            if transport.strip().lower() not in ("httpx", "urllib3"):
                raise ConfigurationError(f"{prefix}SYNC_TRANSPORT must be httpx or urllib3")
            put("sync_transport", transport.strip().lower(), "SYNC_TRANSPORT")
        if (redis_url := read.text("CACHE_REDIS_URL")) is not None:
            if not redis_url.startswith(("redis://", "rediss://", "unix://")):
                raise ConfigurationError(f"{prefix}CACHE_REDIS_URL must be a redis:// URL")
            put("cache_redis_url", SecretStr(redis_url.strip()), "CACHE_REDIS_URL")
        if (namespace := read.text("CACHE_REDIS_NAMESPACE")) is not None:
            put("cache_redis_namespace", namespace.strip(), "CACHE_REDIS_NAMESPACE")
        values.update(overrides)

        def blame(field: str) -> str:
            top = field.split(".")[0]
            if top in overrides:
                return f"from_env() override {field} (passed in code)"
            return origin.get(top, field)

        try:
            return cls(**values)
        except InvalidSettingsError as exc:
            problems = exc.problems
        raise ConfigurationError(describe_problems("ServiceConfig", problems, blame))


#: Every variable ``ServiceConfig.from_env`` reads (after ``NILECARE_<SERVICE>_``).
ENV_VARIABLES = (
    "URL",
    "API_KEY",
    "TOKEN",
    "TOKEN_FILE",
    "TIMEOUT",
    "CONNECT_TIMEOUT",
    "READ_TIMEOUT",
    "WRITE_TIMEOUT",
    "POOL_TIMEOUT",
    "DEADLINE",
    "MAX_ATTEMPTS",
    "MAX_CONNECTIONS",
    "MAX_KEEPALIVE_CONNECTIONS",
    "KEEPALIVE_EXPIRY",
    "MAX_IN_FLIGHT",
    "VERIFY",
    "CLIENT_CERT",
    "CLIENT_KEY",
    "IDEMPOTENCY_KEYS_HONOURED",
    "ASYNC_TRANSPORT",
    "SYNC_TRANSPORT",
    "CACHE_REDIS_URL",
    "CACHE_REDIS_NAMESPACE",
)

_HEADER_RULE = "must be printable ASCII without control characters (it goes in a header)"

#: Settings that belong to the service in this process, not to one client: the shared breaker,
#: retry budget and bulkhead are built from the first client's values, so every later client
#: (and every ``with_options`` copy) must carry the same ones.
SHARED_FIELDS = (
    "breaker",
    "retry.budget_ratio",
    "retry.budget_min_per_second",
    "retry.budget_window",
    "retry.clock",
    "max_in_flight",
)


def shared_settings(config: ServiceConfig) -> dict[str, object]:
    """The values of ``SHARED_FIELDS`` that the shared state is built from."""
    retry = config.retry
    return {
        "breaker": config.breaker,
        "retry.budget_ratio": retry.budget_ratio,
        "retry.budget_min_per_second": retry.budget_min_per_second,
        "retry.budget_window": retry.budget_window,
        "retry.clock": retry.clock,
        "max_in_flight": config.in_flight_limit,  # the bulkhead's limit, defaulted or not
    }


def shared_mismatch(registered: Mapping[str, object], config: ServiceConfig) -> str | None:
    """The first shared field on which ``config`` disagrees with the registered state."""
    for field, value in shared_settings(config).items():
        if registered.get(field, value) != value:
            return field
    return None


def checked_token(token: object, source: str) -> str:
    """A token without surrounding whitespace, or ``ConfigurationError`` naming ``source``.

    Secrets read from files and variables often end in a newline; anything else that cannot
    go in a header is refused before any I/O (the HTTP layer's own error would quote it).
    """
    if not isinstance(token, str):
        raise ConfigurationError(f"{source} must return a str")
    stripped = token.strip()
    if not HEADER_VALUE.fullmatch(stripped):
        raise ConfigurationError(f"{source} {_HEADER_RULE}")
    return stripped


class _EnvReader:
    """Parses ``NILECARE_<SERVICE>_*`` values; every error names the variable, not the value."""

    def __init__(self, env: Mapping[str, str], prefix: str) -> None:
        self._env = env
        self.prefix = prefix

    def text(self, key: str) -> str | None:
        value = self._env.get(self.prefix + key)
        return value if value not in (None, "") and value.strip() else None

    def secret(self, key: str) -> str | None:
        value = self.text(key)
        return None if value is None else checked_token(value, self.prefix + key)

    def number(self, key: str, *, allow_zero: bool = False) -> float | None:
        raw = self.text(key)
        if raw is None:
            return None
        try:
            value = float(raw)
        except ValueError:
            raise ConfigurationError(f"{self.prefix}{key} must be a number of seconds") from None
        if not (value >= 0 if allow_zero else value > 0) or value != value or value == float("inf"):
            bound = "0 or more" if allow_zero else "greater than 0"
            raise ConfigurationError(f"{self.prefix}{key} must be a finite number {bound}")
        return value

    def integer(self, key: str, low: int, high: int | None = None) -> int | None:
        raw = self.text(key)
        if raw is None:
            return None
        raw = raw.strip()
        if not raw.isdigit() or int(raw) < low or (high is not None and int(raw) > high):
            bound = f"from {low} to {high}" if high is not None else f"of {low} or more"
            raise ConfigurationError(f"{self.prefix}{key} must be an integer {bound}")
        return int(raw)

    def flag(self, key: str) -> bool | None:
        raw = self.text(key)
        if raw is None:
            return None
        value = BOOLEAN_SPELLINGS.get(raw.strip().lower())
        if value is None:
            raise ConfigurationError(f"{self.prefix}{key} must be {_SPELLINGS_TEXT}")
        return value


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
    """A bearer token read from a file (a mounted secret), re-read when the file changes.

    Read once at construction, so a missing, empty or malformed file is a
    ``ConfigurationError`` before any request; surrounding whitespace is stripped.
    """

    def __init__(self, path: str | os.PathLike[str], *, source: str | None = None) -> None:
        self._path = Path(path)
        self._source = source or "token file"
        self._stamp: tuple[int, int] | None = None
        self._token = ""
        self()

    def __call__(self) -> str:
        try:
            stat = self._path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
            if stamp != self._stamp:
                text = self._path.read_text(encoding="utf-8")
            else:
                return self._token
        except (OSError, UnicodeDecodeError):
            message = f"{self._source}: the token file cannot be read"
        else:
            if not text.strip():
                raise ConfigurationError(f"{self._source}: the token file is empty")
            self._token, self._stamp = checked_token(text, self._source), stamp
            return self._token
        raise ConfigurationError(message)

    def __repr__(self) -> str:
        return f"TokenFile({str(self._path)!r})"

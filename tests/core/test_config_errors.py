"""Configuration errors: one ConfigurationError line naming the field or variable and the rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from nilecare_clients import (
    BaseServiceClient,
    CachePolicy,
    ConfigurationError,
    NileCareError,
    RetryPolicy,
    ServiceConfig,
    TokenFile,
)
from nilecare_clients._config import BOOLEAN_SPELLINGS, ENV_VARIABLES

URL = "NILECARE_CLINICAL_URL"


def env(**values: str) -> dict[str, str]:
    return {URL: "http://127.0.0.1:9", **{f"NILECARE_CLINICAL_{k}": v for k, v in values.items()}}


def one_line(error: BaseException) -> str:
    text = str(error)
    assert "\n" not in text and "pydantic" not in text and "errors.pydantic.dev" not in text
    assert error.__cause__ is None and error.__context__ is None  # no pydantic text behind it
    return text


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"base_url": "http://x/api/v1"}, "base_url is the service root: leave out /api/v1"),
        ({"base_url": "ftp://x"}, "base_url must be an http(s) URL"),
        ({"connect_timeout": -1}, "connect_timeout must be greater than 0"),
        ({"max_in_flight": 0}, "max_in_flight must be greater than or equal to 1"),
        ({"retry": {"max_attempts": 0}}, "retry.max_attempts must be greater than or equal to 1"),
        ({"async_transport": "curl"}, "async_transport must be 'httpx' or 'aiohttp'"),
        ({"sync_transport": "curl"}, "sync_transport must be 'httpx' or 'urllib3'"),
        ({"colour": "blue"}, "colour is not a known setting"),
        ({"idempotency_keys_honoured": "yes"}, "idempotency_keys_honoured must be a valid boolean"),
    ],
)
def test_direct_construction_raises_one_line_configuration_error(
    kwargs: dict[str, Any], expected: str
) -> None:
    """ServiceConfig(...) raises ConfigurationError (a NileCareError and a ValueError), one line."""
    with pytest.raises(ConfigurationError) as info:
        ServiceConfig(name="clinical", **{"base_url": "http://x", **kwargs})
    assert isinstance(info.value, NileCareError) and isinstance(info.value, ValueError)
    assert expected in one_line(info.value)


def test_policies_raise_configuration_error_too() -> None:
    """RetryPolicy and CachePolicy refuse bad input the same way."""
    with pytest.raises(ConfigurationError, match="invalid RetryPolicy: max_attempts"):
        RetryPolicy(max_attempts=11)
    with pytest.raises(ConfigurationError, match="invalid CachePolicy: facility_ttl"):
        CachePolicy(facility_ttl=-1)


def test_from_env_names_the_variable_and_never_the_value() -> None:
    """A bad URL in the environment is blamed on NILECARE_<SVC>_URL, its value not shown."""
    with pytest.raises(ConfigurationError) as info:
        ServiceConfig.from_env("CLINICAL", environ={URL: "http://secret-host.example/api/v1"})
    text = one_line(info.value)
    assert (
        text
        == "invalid ServiceConfig: NILECARE_CLINICAL_URL is the service root: leave out /api/v1"
    )
    assert "secret-host" not in text


def test_from_env_blames_overrides_on_the_code() -> None:
    """An invalid keyword override is named as one passed in code, not as a variable."""
    with pytest.raises(ConfigurationError) as info:
        ServiceConfig.from_env("CLINICAL", environ=env(DEADLINE="5"), deadline=-2)
    text = one_line(info.value)
    assert "from_env() override deadline (passed in code)" in text
    assert "NILECARE_CLINICAL_DEADLINE" not in text
    with pytest.raises(ConfigurationError, match=r"override colour \(passed in code\)"):
        ServiceConfig.from_env("CLINICAL", environ=env(), colour="blue")
    cfg = ServiceConfig.from_env("CLINICAL", environ=env(DEADLINE="5"), deadline=7)
    assert cfg.deadline == 7


@pytest.mark.parametrize("key", ["VERIFY", "IDEMPOTENCY_KEYS_HONOURED", "CACHE_ENABLED"])
@pytest.mark.parametrize("spelling", sorted(BOOLEAN_SPELLINGS))
def test_every_boolean_variable_takes_the_same_spellings(key: str, spelling: str) -> None:
    """true/false, 1/0, yes/no, on/off (any case) mean the same for every boolean variable."""
    expected = BOOLEAN_SPELLINGS[spelling]
    values = env(**{key: spelling.upper()})
    if key == "CACHE_ENABLED":
        assert CachePolicy.from_env("CLINICAL", environ=values).enabled is expected
    elif key == "VERIFY":
        assert ServiceConfig.from_env("CLINICAL", environ=values).verify is expected
    else:
        cfg = ServiceConfig.from_env("CLINICAL", environ=values)
        assert cfg.idempotency_keys_honoured is expected


@pytest.mark.parametrize("key", ["VERIFY", "IDEMPOTENCY_KEYS_HONOURED", "CACHE_ENABLED"])
def test_any_other_boolean_spelling_is_an_error_naming_the_variable(key: str) -> None:
    """A typo in a boolean is a ConfigurationError naming the variable, never read as a path."""
    values = env(**{key: "flase"})
    with pytest.raises(ConfigurationError) as info:
        if key == "CACHE_ENABLED":
            CachePolicy.from_env("CLINICAL", environ=values)
        else:
            ServiceConfig.from_env("CLINICAL", environ=values)
    text = one_line(info.value)
    assert f"NILECARE_CLINICAL_{key}" in text and "true/false, 1/0, yes/no or on/off" in text
    assert "flase" not in text


def test_verify_in_code_takes_the_same_spellings() -> None:
    """ServiceConfig(verify="no") is False, as the variable would be."""
    assert ServiceConfig(name="clinical", base_url="http://x", verify="no").verify is False
    assert ServiceConfig(name="clinical", base_url="http://x", verify="ON").verify is True


def test_missing_files_are_named_by_variable(tmp_path: Path) -> None:
    """A CA bundle, client certificate or key that does not exist is named, its path is not."""
    missing = str(tmp_path / "hidden-name.pem")
    present = tmp_path / "cert.pem"
    present.write_text("not a certificate")
    cases = [
        ({"VERIFY": missing}, "NILECARE_CLINICAL_VERIFY"),
        ({"CLIENT_CERT": missing}, "NILECARE_CLINICAL_CLIENT_CERT certificate file does not exist"),
        ({"CLIENT_CERT": str(present), "CLIENT_KEY": missing}, "NILECARE_CLINICAL_CLIENT_KEY"),
        ({"TOKEN_FILE": missing}, "NILECARE_CLINICAL_TOKEN_FILE: the token file cannot be read"),
    ]
    for values, expected in cases:
        with pytest.raises(ConfigurationError) as info:
            ServiceConfig.from_env("CLINICAL", environ=env(**values))
        text = one_line(info.value)
        assert expected in text and "hidden-name" not in text, text


def test_client_certificate_and_key_from_the_environment(tmp_path: Path) -> None:
    """_CLIENT_CERT alone is a PEM path; with _CLIENT_KEY it is a (cert, key) pair."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("x")
    key.write_text("y")
    alone = ServiceConfig.from_env("CLINICAL", environ=env(CLIENT_CERT=str(cert)))
    assert alone.client_cert == str(cert)
    pair = ServiceConfig.from_env(
        "CLINICAL", environ=env(CLIENT_CERT=str(cert), CLIENT_KEY=str(key))
    )
    assert pair.client_cert == (str(cert), str(key))
    with pytest.raises(
        ConfigurationError, match="CLIENT_KEY is set but NILECARE_CLINICAL_CLIENT_CERT"
    ):
        ServiceConfig.from_env("CLINICAL", environ=env(CLIENT_KEY=str(key)))


def test_an_unloadable_certificate_is_a_configuration_error_at_construction(tmp_path: Path) -> None:
    """A client certificate that exists but is not PEM fails when the client is built, named."""
    cert = tmp_path / "cert.pem"
    cert.write_text("not a certificate")
    cfg = ServiceConfig(name="clinical", base_url="https://x", client_cert=str(cert))
    with pytest.raises(ConfigurationError) as info:
        BaseServiceClient(config=cfg)
    assert "client_cert: the client certificate or key is not a loadable PEM file" in str(
        info.value
    )
    assert "cert.pem" not in str(info.value) and info.value.__context__ is None


def test_new_variables_pool_in_flight_and_timeouts() -> None:
    """Pool limits, the in-flight limit, write and pool timeouts have variables too."""
    cfg = ServiceConfig.from_env(
        "CLINICAL",
        environ=env(
            MAX_CONNECTIONS="40",
            MAX_KEEPALIVE_CONNECTIONS="0",
            KEEPALIVE_EXPIRY="0",
            MAX_IN_FLIGHT="8",
            WRITE_TIMEOUT="1.5",
            POOL_TIMEOUT="0.5",
            ASYNC_TRANSPORT="aiohttp",
        ),
    )
    assert (cfg.max_connections, cfg.max_keepalive_connections, cfg.keepalive_expiry) == (40, 0, 0)
    assert cfg.max_in_flight == 8 and cfg.in_flight_limit == 8
    assert (cfg.write_timeout, cfg.pool_timeout) == (1.5, 0.5)
    assert cfg.async_transport == "aiohttp"


@pytest.mark.parametrize(
    ("key", "value", "rule"),
    [
        ("MAX_CONNECTIONS", "0", "must be an integer of 1 or more"),
        ("MAX_IN_FLIGHT", "lots", "must be an integer of 1 or more"),
        ("MAX_KEEPALIVE_CONNECTIONS", "-1", "must be an integer of 0 or more"),
        ("KEEPALIVE_EXPIRY", "-1", "must be a finite number 0 or more"),
        ("WRITE_TIMEOUT", "0", "must be a finite number greater than 0"),
        ("DEADLINE", "inf", "must be a finite number greater than 0"),
        ("MAX_ATTEMPTS", "11", "must be an integer from 1 to 10"),
    ],
)
def test_bad_numbers_name_the_variable_and_the_rule(key: str, value: str, rule: str) -> None:
    """Each numeric variable says its rule; the value is not echoed."""
    with pytest.raises(ConfigurationError) as info:
        ServiceConfig.from_env("CLINICAL", environ=env(**{key: value}))
    assert one_line(info.value) == f"NILECARE_CLINICAL_{key} {rule}"


def test_cache_ttls_from_the_environment() -> None:
    """CachePolicy.from_env reads NILECARE_<SVC>_CACHE_<FIELD>; bad values name the variable."""
    values = {
        "NILECARE_FACILITY_CACHE_FACILITY_TTL": "120",
        "NILECARE_FACILITY_CACHE_FACILITY_LIST_TTL": "60",
        "NILECARE_FACILITY_CACHE_DEPARTMENT_TTL": "30",
        "NILECARE_FACILITY_CACHE_NEGATIVE_TTL": "0",
        "NILECARE_FACILITY_CACHE_MAX_STALE": "600",
        "NILECARE_FACILITY_CACHE_MAX_ENTRIES": "50",
        "NILECARE_FACILITY_CACHE_JITTER": "0",
    }
    policy = CachePolicy.from_env("FACILITY", environ=values)
    assert (policy.facility_ttl, policy.facility_list_ttl, policy.department_ttl) == (120, 60, 30)
    assert (policy.negative_ttl, policy.max_stale, policy.max_entries) == (0, 600, 50)
    assert policy.jitter == 0 and CachePolicy.from_env(environ={}) == CachePolicy()
    with pytest.raises(ConfigurationError, match=r"^NILECARE_FACILITY_CACHE_FACILITY_TTL must"):
        CachePolicy.from_env(environ={"NILECARE_FACILITY_CACHE_FACILITY_TTL": "soon"})
    with pytest.raises(ConfigurationError, match="NILECARE_FACILITY_CACHE_JITTER must be less"):
        CachePolicy.from_env(environ={"NILECARE_FACILITY_CACHE_JITTER": "2"})


def test_env_variable_list_matches_the_readme() -> None:
    """Every variable from_env reads (and every cache variable) is in the README's table."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    for key in ENV_VARIABLES:
        assert f"`_{key}`" in readme, key
    for field in CachePolicy.model_fields:
        if field.startswith("redis_"):
            continue  # tuned in code; the URL and namespace are ServiceConfig's variables
        assert f"`_CACHE_{field.upper()}`" in readme, field


# -- credentials (issue 17 item 3) ------------------------------------------------------------


def test_secrets_lose_surrounding_whitespace(tmp_path: Path) -> None:
    """A trailing newline from a secret file or variable is stripped from key and token."""
    token_file = tmp_path / "token"
    token_file.write_text("  file-token\n")
    cfg = ServiceConfig.from_env("CLINICAL", environ=env(API_KEY="key-1\n", TOKEN="tok-1\r\n"))
    assert cfg.api_key is not None and cfg.api_key.get_secret_value() == "key-1"
    assert cfg.token_provider is not None and cfg.token_provider() == "tok-1"
    from_file = ServiceConfig.from_env("CLINICAL", environ=env(TOKEN_FILE=str(token_file)))
    assert from_file.token_provider is not None and from_file.token_provider() == "file-token"
    direct = ServiceConfig(name="clinical", base_url="http://x", api_key=SecretStr(" k-2\n"))
    assert direct.api_key is not None and direct.api_key.get_secret_value() == "k-2"


@pytest.mark.parametrize("secret", ["ab\ncd", "ab\x00cd", "caf\u00e9-token", "a\tb"])
def test_a_secret_that_cannot_go_in_a_header_is_refused_by_name(
    tmp_path: Path, secret: str
) -> None:
    """Inner control or non-ASCII characters raise ConfigurationError naming the source only."""
    token_file = tmp_path / "token"
    token_file.write_text(secret)
    for values, name in (
        (env(API_KEY=secret), "NILECARE_CLINICAL_API_KEY"),
        (env(TOKEN=secret), "NILECARE_CLINICAL_TOKEN"),
        (env(TOKEN_FILE=str(token_file)), "NILECARE_CLINICAL_TOKEN_FILE"),
    ):
        with pytest.raises(ConfigurationError) as info:
            ServiceConfig.from_env("CLINICAL", environ=values)
        text = one_line(info.value)
        assert text.startswith(name) and "printable ASCII" in text and secret not in text
    with pytest.raises(ConfigurationError) as direct:
        ServiceConfig(name="clinical", base_url="http://x", api_key=SecretStr(secret))
    assert "api_key must be printable ASCII" in one_line(direct.value)
    assert secret not in str(direct.value)


def test_token_file_is_checked_at_construction(tmp_path: Path) -> None:
    """TokenFile reads its file when built: a missing or empty file fails before any call."""
    with pytest.raises(ConfigurationError, match="cannot be read"):
        TokenFile(tmp_path / "absent")
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(ConfigurationError, match="is empty"):
        TokenFile(empty)


def test_headers_in_config_are_checked() -> None:
    """Configured extra headers must be HTTP-safe, checked at construction."""
    with pytest.raises(ConfigurationError, match="headers names and values must be printable"):
        ServiceConfig(name="clinical", base_url="http://x", headers={"X-Tenant": "a\nb"})

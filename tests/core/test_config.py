"""ServiceConfig validation, from_env, and secrets that never show."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from nilecare_clients import ConfigurationError, ServiceConfig, TokenFile


def test_defaults() -> None:
    """Per-attempt timeouts default to 5 s, the deadline to 10 s, TLS verification on."""
    cfg = ServiceConfig(name="clinical", base_url="https://clinical.internal:7001/")
    assert cfg.base_url == "https://clinical.internal:7001"
    assert (cfg.connect_timeout, cfg.read_timeout, cfg.deadline) == (5.0, 5.0, 10.0)
    assert cfg.verify is True and cfg.retry.max_attempts == 3
    assert cfg.user_agent.startswith("nilecare-clients/")


@pytest.mark.parametrize("url", ["clinical:7001", "ftp://x", "http://x/api/v1", "http://x?q=1", ""])
def test_bad_base_urls(url: str) -> None:
    """A base_url that is not an http(s) service root is refused."""
    with pytest.raises(ValueError):
        ServiceConfig(name="clinical", base_url=url)


def test_from_env_reads_everything() -> None:
    """from_env reads URL, key, token, timeouts and attempts from NILECARE_<SERVICE>_*."""
    env = {
        "NILECARE_CLINICAL_URL": "http://127.0.0.1:7001",
        "NILECARE_CLINICAL_API_KEY": "k-secret-1",
        "NILECARE_CLINICAL_TOKEN": "t-secret-2",
        "NILECARE_CLINICAL_TIMEOUT": "2.5",
        "NILECARE_CLINICAL_READ_TIMEOUT": "7",
        "NILECARE_CLINICAL_DEADLINE": "20",
        "NILECARE_CLINICAL_MAX_ATTEMPTS": "4",
        "NILECARE_CLINICAL_VERIFY": "false",
    }
    cfg = ServiceConfig.from_env("CLINICAL", environ=env)
    assert cfg.name == "clinical" and cfg.base_url == "http://127.0.0.1:7001"
    assert cfg.api_key is not None and cfg.api_key.get_secret_value() == "k-secret-1"
    assert cfg.token_provider is not None and cfg.token_provider() == "t-secret-2"
    assert (cfg.connect_timeout, cfg.read_timeout, cfg.pool_timeout, cfg.deadline) == (
        2.5,
        7.0,
        2.5,
        20.0,
    )
    assert cfg.retry.max_attempts == 4 and cfg.verify is False
    for text in (repr(cfg), str(cfg), repr(cfg.token_provider)):
        assert "k-secret-1" not in text and "t-secret-2" not in text


def test_from_env_names_the_missing_variable() -> None:
    """A missing URL raises ConfigurationError naming the variable."""
    with pytest.raises(ConfigurationError, match="NILECARE_FACILITY_URL"):
        ServiceConfig.from_env("FACILITY", environ={})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("TIMEOUT", "fast"),
        ("TIMEOUT", "-1"),
        ("MAX_ATTEMPTS", "many"),
        ("IDEMPOTENCY_KEYS_HONOURED", "maybe"),
    ],
)
def test_from_env_rejects_bad_values_without_echoing_them(key: str, value: str) -> None:
    """A malformed variable is named in the error; its value is not echoed."""
    env = {"NILECARE_CLINICAL_URL": "http://x", f"NILECARE_CLINICAL_{key}": value}
    with pytest.raises(ConfigurationError) as info:
        ServiceConfig.from_env("CLINICAL", environ=env)
    assert f"NILECARE_CLINICAL_{key}" in str(info.value)


def test_token_file_is_reread_when_it_changes(tmp_path: Path) -> None:
    """A rotated mounted secret is picked up without a restart, and never shown in a repr."""
    path = tmp_path / "token"
    path.write_text("first-token\n")
    cfg = ServiceConfig.from_env(
        "CLINICAL",
        environ={"NILECARE_CLINICAL_URL": "http://x", "NILECARE_CLINICAL_TOKEN_FILE": str(path)},
    )
    provider = cfg.token_provider
    assert isinstance(provider, TokenFile)
    assert provider() == "first-token"
    path.write_text("second-token-longer\n")
    assert provider() == "second-token-longer"
    assert "token-" not in repr(cfg)
    path.unlink()
    with pytest.raises(ConfigurationError):
        provider()


def test_secret_not_in_repr_or_validation_errors() -> None:
    """The API key never appears in a repr, and validation errors hide inputs."""
    cfg = ServiceConfig(name="clinical", base_url="http://x", api_key=SecretStr("hunter2-key"))
    assert "hunter2-key" not in repr(cfg) and "hunter2-key" not in str(cfg.model_dump())
    with pytest.raises(ValueError) as info:
        ServiceConfig(name="clinical", base_url="http://x", api_key=12345)
    assert "12345" not in str(info.value)


def test_config_is_frozen() -> None:
    """A config shared by many clients cannot be mutated in place."""
    cfg = ServiceConfig(name="clinical", base_url="http://x")
    with pytest.raises(ValueError):
        cfg.read_timeout = 1  # type: ignore[misc]

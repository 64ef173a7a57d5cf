"""Settings: environment names, dev defaults, and the README table generated from the class."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from core.settings import ConfigError, Settings, replace_readme_table

README = Path(__file__).resolve().parent.parent / "README.md"


def test_livekit_standard_names_and_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVEKIT_URL", "wss://lk.example.com")
    monkeypatch.setenv("LIVEKIT_API_KEY", "APIabc")
    monkeypatch.setenv("ESCUTA_API_PORT", "9001")
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (s.livekit.url, s.livekit.api_key, s.api.port) == ("wss://lk.example.com", "APIabc", 9001)


def test_dotenv_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ESCUTA_AGENT_NAME", raising=False)
    env = tmp_path / ".env"
    env.write_text("ESCUTA_AGENT_NAME=from-dotenv\n")
    assert Settings(_env_file=env).worker.agent_name == "from-dotenv"  # type: ignore[call-arg]


def test_laptop_defaults_match_livekit_yaml() -> None:
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    yaml = (README.parent / "livekit.yaml").read_text()
    assert f"{s.livekit.api_key}: {s.livekit.api_secret.get_secret_value()}" in yaml
    assert s.livekit.url.endswith(":7880") and "port: 7880" in yaml
    assert f"http://127.0.0.1:{s.api.port}/livekit/webhook" in yaml


def test_prod_refuses_dev_secrets() -> None:
    with pytest.raises(ConfigError, match="LIVEKIT_API_SECRET"):
        Settings(_env_file=None, env="prod").check_production()  # type: ignore[call-arg]


def test_invalid_values_are_rejected() -> None:
    with pytest.raises(ValidationError):
        Settings(_env_file=None, db_pool_min_size=5, db_pool_max_size=2)  # type: ignore[call-arg]


def test_readme_settings_table_is_current() -> None:
    text = README.read_text(encoding="utf-8")
    assert replace_readme_table(text) == text, "run: .venv/bin/escuta settings --update-readme README.md"

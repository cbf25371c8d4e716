import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from core.config import ROOT, SCHEMA, ConfigError, flatten, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_config_documents_exactly_the_schema():
    shipped = flatten(yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8")))
    assert set(shipped) == set(SCHEMA)
    settings = load_settings(env={})
    for key, value in shipped.items():
        assert settings[key] == SCHEMA[key].check(key, value), key


def test_environment_overrides_the_file(tmp_path):
    path = write(tmp_path, "web:\n  port: 8100\n")
    settings = load_settings(path, env={"PORT": "9001", "DATABASE_URL": "postgresql://u@h/db", "IVR_SMS__MAX_LENGTH": "500"})
    assert settings["web.port"] == 9001
    assert settings["database.url"] == "postgresql://u@h/db"
    assert settings["sms.max_length"] == 500


@pytest.mark.parametrize(
    "text, key, words",
    [
        ("web:\n  port: eighty\n", "web.port", "整数"),
        ("web:\n  port: 70000\n", "web.port", "65535 以下"),
        ("sms:\n  max_lenght: 500\n", "sms.max_lenght", "不明な設定項目"),
        ("reports:\n  refresh_time: '25:00'\n", "reports.refresh_time", "HH:MM"),
        ("telephony:\n  provider: skype\n", "telephony.provider", "simulator / twilio"),
        ("database:\n  url: mysql://x\n", "database.url", "sqlite:///"),
        ("web: [unclosed\n", "config.yaml", "YAML として読めません"),
    ],
)
def test_wrong_setting_names_the_setting_and_the_problem(tmp_path, text, key, words):
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text), env={})
    assert key in str(caught.value)
    assert words in str(caught.value)


def test_unquoted_time_in_yaml_is_read_as_a_time(tmp_path):
    settings = load_settings(write(tmp_path, "reports:\n  refresh_time: 13:00\n"), env={})
    assert settings["reports.refresh_time"] == "13:00"


def test_bad_config_stops_run_py_with_a_clear_message_and_no_traceback(tmp_path):
    path = write(tmp_path, "web:\n  port: eighty\n")
    result = subprocess.run(
        [sys.executable, "run.py", "web"], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={"CONFIG_FILE": str(path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2
    assert "設定エラー: web.port" in result.stderr
    assert "Traceback" not in result.stderr


def test_twilio_mode_without_auth_token_is_refused(tmp_path):
    from web import create_app

    with pytest.raises(ConfigError) as caught:
        create_app({"telephony.provider": "twilio", "database.url": f"sqlite:///{tmp_path}/x.db"})
    assert caught.value.key == "twilio.auth_token"

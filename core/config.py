"""Settings: one schema, `config.yaml` on top of it, environment variables on top of that.

Every setting is declared once in SCHEMA with its default and a check. `config.yaml` documents
them all (a test keeps the two in step). A wrong value stops the start with `ConfigError`, whose
message names the setting and what is wrong.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_FILE = ROOT / "config.yaml"


class ConfigError(Exception):
    """A setting is missing, unknown or has a value that cannot work."""

    def __init__(self, key: str, problem: str):
        super().__init__(f"設定エラー: {key}: {problem}")
        self.key = key
        self.problem = problem


Check = Callable[[str, Any], Any]


def integer(low: int | None = None, high: int | None = None) -> Check:
    def check(key, value):
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
                value = int(value)
            else:
                raise ConfigError(key, f"整数を指定してください (値: {value!r})")
        if low is not None and value < low:
            raise ConfigError(key, f"{low} 以上を指定してください (値: {value})")
        if high is not None and value > high:
            raise ConfigError(key, f"{high} 以下を指定してください (値: {value})")
        return value
    return check


def number(low: float | None = None) -> Check:
    def check(key, value):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ConfigError(key, f"数値を指定してください (値: {value!r})") from None
        if low is not None and value < low:
            raise ConfigError(key, f"{low} 以上を指定してください (値: {value})")
        return value
    return check


def boolean(key, value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "1", "yes", "on", "false", "0", "no", "off"}:
        return value.lower() in {"true", "1", "yes", "on"}
    raise ConfigError(key, f"true か false を指定してください (値: {value!r})")


def text(allow_empty: bool = True) -> Check:
    def check(key, value):
        if value is None:
            value = ""
        if not isinstance(value, (str, int)):
            raise ConfigError(key, f"文字列を指定してください (値: {value!r})")
        value = str(value)
        if not allow_empty and not value.strip():
            raise ConfigError(key, "空にできません")
        return value
    return check


def one_of(*choices: str) -> Check:
    def check(key, value):
        if value not in choices:
            raise ConfigError(key, f"{' / '.join(choices)} のいずれかを指定してください (値: {value!r})")
        return value
    return check


def clock_time(key, value):
    """HH:MM, as YAML may also give minutes since midnight for an unquoted 13:00."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"{value // 60:02d}:{value % 60:02d}"
    if not isinstance(value, str) or not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value.strip()):
        raise ConfigError(key, f"HH:MM 形式の時刻を指定してください (値: {value!r})")
    return value.strip()


def url(key, value):
    value = text()(key, value)
    if value and not re.match(r"^https?://[^/\s]+", value):
        raise ConfigError(key, f"http:// または https:// で始まる URL を指定してください (値: {value!r})")
    return value.rstrip("/")


def database_url(key, value):
    value = text(allow_empty=False)(key, value)
    if not re.match(r"^(sqlite|postgres|postgresql|postgresext)://", value):
        raise ConfigError(key, f"sqlite:/// または postgresql:// で始まる URL を指定してください (値: {value!r})")
    return value


@dataclass(frozen=True)
class Setting:
    default: Any
    check: Check


S = Setting
SCHEMA: dict[str, Setting] = {
    # --- core / web ---------------------------------------------------------------------------
    "web.port": S(8000, integer(1, 65535)),
    "web.host": S("127.0.0.1", text(False)),
    "web.public_base_url": S("", url),
    "web.secret_key": S("", text()),
    "web.trusted_proxies": S(0, integer(0, 10)),
    "web.secure_cookies": S("auto", one_of("auto", "always", "never")),
    "web.session_minutes": S(480, integer(5, 10080)),
    "web.session_absolute_hours": S(12, integer(1, 720)),
    "web.page_size": S(50, integer(5, 500)),
    "web.threads": S(8, integer(1, 64)),
    "database.url": S("sqlite:///var/app.db", database_url),
    "database.prepared_statements": S(True, boolean),
    "accounts.max_failed_logins": S(5, integer(1, 100)),
    "accounts.min_password_length": S(8, integer(4, 128)),
    "accounts.login_throttle_attempts": S(10, integer(1, 1000)),
    "accounts.login_throttle_minutes": S(15, integer(1, 1440)),
    "scheduler.lease_seconds": S(30, integer(5, 3600)),
    "scheduler.enabled": S(True, boolean),
    "calendar.timezone": S("Asia/Tokyo", one_of("Asia/Tokyo")),
    "telephony.provider": S("simulator", one_of("simulator", "twilio")),
    "telephony.demo_number": S("+815000000000", text(False)),
    "telephony.operator_number": S("+81312345678", text(False)),
    "twilio.account_sid": S("", text()),
    "twilio.auth_token": S("", text()),
    "twilio.from_number": S("", text()),
    "twilio.api_base_url": S("https://api.twilio.com", url),
    # --- guidance -------------------------------------------------------------------------------
    "guidance.default_engine": S("openjtalk", one_of("openjtalk", "pyttsx3")),
    "guidance.openjtalk_dict_dir": S("/var/lib/mecab/dic/open-jtalk/naist-jdic", text(False)),
    "guidance.default_speed": S(1.0, number(0.3)),
    "guidance.default_volume": S(1.0, number(0.0)),
    "guidance.pyttsx3_voice": S("en", text(False)),
    "guidance.max_text_length": S(500, integer(10, 5000)),
    "guidance.max_upload_mb": S(10, integer(1, 200)),
    "guidance.audio_dir": S("var/audio", text(False)),
    "guidance.audio_encoding": S("pcm16", one_of("pcm16", "ulaw")),
    # --- ivr ------------------------------------------------------------------------------------
    "ivr.default_digits": S(1, integer(1, 20)),
    "ivr.default_timeout_seconds": S(5, integer(1, 60)),
    "ivr.default_max_tries": S(3, integer(1, 10)),
    "ivr.default_max_mis_entries": S(3, integer(1, 10)),
    "ivr.transfer_timeout_seconds": S(30, integer(5, 120)),
    "ivr.voicemail_max_seconds": S(120, integer(5, 600)),
    "ivr.simulator_recordings_dir": S("var/simulator-recordings", text(False)),
    "ivr.speech_timeout": S("auto", text(False)),
    "ivr.speech_confidence": S(0.5, number(0.0)),
    # --- sms ------------------------------------------------------------------------------------
    "sms.max_length": S(660, integer(70, 2000)),
    "sms.sender_id": S("", text()),
    "sms.company_name": S("", text()),
    "sms.mps_limit": S(10, integer(0, 1000)),
    "sms.dispatch_interval_seconds": S(2, integer(1, 300)),
    "sms.dispatch_batch": S(200, integer(1, 10000)),
    "sms.dispatch_concurrency": S(4, integer(1, 32)),
    "sms.resend_count": S(3, integer(0, 10)),
    "sms.resend_interval_minutes": S(10, integer(1, 1440)),
    "sms.no_resend_window": S("21:00-09:00", text()),
    "sms.status_timeout_hours": S(72, integer(1, 720)),
    "sms.status_timeout_hours_softbank": S(1, integer(1, 720)),
    "sms.carrier_lookup": S(True, boolean),
    "sms.carrier_cache_days": S(30, integer(1, 365)),
    "sms.billing": S("delivered", one_of("delivered", "all")),
    "sms.optout_placeholder": S("{optout_url}", text(False)),
    "sms.url_placeholder": S("{url}", text(False)),
    "sms.tickets_enabled": S(False, boolean),
    # --- sms.bulk -------------------------------------------------------------------------------
    "bulk.poll_seconds": S(5, integer(1, 300)),
    "bulk.batch_size": S(500, integer(1, 10000)),
    "bulk.max_recipients": S(200000, integer(1, 1000000)),
    "bulk.draft_days": S(7, integer(1, 365)),
    "bulk.price_per_part": S(10.0, number(0.0)),
    # --- reports --------------------------------------------------------------------------------
    "reports.refresh_time": S("13:00", clock_time),
    "reports.lag_business_days": S(2, integer(0, 10)),
    "reports.long_holiday_days": S(3, integer(2, 30)),
    "reports.long_holiday_holdback_days": S(1, integer(0, 10)),
    "reports.retention_days": S(90, integer(1, 3650)),
    "reports.purge_time": S("03:30", clock_time),
    "reports.purge_batch": S(1000, integer(100, 100000)),
    # --- notify ---------------------------------------------------------------------------------
    "notify.smtp_host": S("", text()),
    "notify.smtp_port": S(587, integer(1, 65535)),
    "notify.smtp_starttls": S(True, boolean),
    "notify.smtp_user": S("", text()),
    "notify.smtp_password": S("", text()),
    "notify.mail_from": S("ivr@localhost", text(False)),
    "notify.interval_seconds": S(5, integer(1, 300)),
    "notify.max_attempts": S(5, integer(1, 20)),
    "notify.pause_after_failures": S(10, integer(1, 100)),
    "notify.lease_seconds": S(120, integer(10, 3600)),
    "notify.send_timeout_seconds": S(10, integer(1, 60)),
}

ENVIRONMENT = {
    "DATABASE_URL": "database.url",
    "PORT": "web.port",
    "PUBLIC_BASE_URL": "web.public_base_url",
    "SECRET_KEY": "web.secret_key",
    "TELEPHONY_PROVIDER": "telephony.provider",
    "TWILIO_ACCOUNT_SID": "twilio.account_sid",
    "TWILIO_AUTH_TOKEN": "twilio.auth_token",
    "TWILIO_FROM_NUMBER": "twilio.from_number",
    "TWILIO_API_BASE_URL": "twilio.api_base_url",
}
# Any other setting: IVR_<SECTION>__<NAME>, e.g. IVR_SMS__MAX_LENGTH=500.
GENERIC_ENV_PREFIX = "IVR_"


class Settings(Mapping):
    """Validated settings, read with dotted keys: settings["sms.max_length"]."""

    def __init__(self, values: dict[str, Any]):
        self._values = dict(values)

    def __getitem__(self, key):
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)

    def section(self, name: str) -> dict[str, Any]:
        prefix = name + "."
        return {k[len(prefix):]: v for k, v in self._values.items() if k.startswith(prefix)}

    def replace(self, **changes) -> "Settings":
        return Settings({**self._values, **changes})


def flatten(tree: Mapping, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in (tree or {}).items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, dotted + "."))
        else:
            out[dotted] = value
    return out


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        tree = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(str(path), "設定ファイルが見つかりません") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" ({mark.line + 1} 行目)" if mark else ""
        raise ConfigError(str(path), f"YAML として読めません{where}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(tree, Mapping):
        raise ConfigError(str(path), "先頭は「キー: 値」の形式にしてください")
    return flatten(tree)


def environment_overrides(env: Mapping[str, str]) -> dict[str, Any]:
    out = {key: env[name] for name, key in ENVIRONMENT.items() if env.get(name, "") != ""}
    for name, value in env.items():
        if name.startswith(GENERIC_ENV_PREFIX) and "__" in name:
            section, _, leaf = name[len(GENERIC_ENV_PREFIX):].partition("__")
            out[f"{section.lower()}.{leaf.lower()}"] = value
    return out


def load_settings(
    path: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Schema defaults < config file < environment < explicit overrides (tests); all validated."""
    env = os.environ if env is None else env
    path = Path(path or env.get("CONFIG_FILE") or DEFAULT_CONFIG_FILE)
    layers = [read_yaml(path), environment_overrides(env), flatten(overrides or {})]
    values = {key: setting.default for key, setting in SCHEMA.items()}
    for layer in layers:
        for key, value in layer.items():
            if key not in SCHEMA:
                raise ConfigError(key, "不明な設定項目です (綴りを確認してください)")
            values[key] = value
    return Settings({key: SCHEMA[key].check(key, value) for key, value in values.items()})


def setting(key: str) -> Any:
    """A setting of the running app (inside an app context)."""
    from flask import current_app

    return current_app.config["SETTINGS"][key]

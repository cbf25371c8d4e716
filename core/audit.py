"""Audit log: who changed what. Feature packages call `record` after every change they save.

The admin page reads the log in Japanese: each package names its actions, the keys of their details and any
coded values with `describe(app, ...)` from its init_app (core's own, at the end, cover accounts, logins, API
tokens, IP allowlists and company holidays); `action_label` and `detail_lines` turn an entry into words.
A package also registers `expired_entries(...)` for the actions whose entries name a phone number (R-52).
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, g, has_request_context, request

from core import phone
from core.models import ROLE_LABELS, AuditLog
from core.retention import Expiry, Purge, delete_rows


def record(action: str, target: str = "", detail: Any = "", actor: str | None = None) -> AuditLog:
    """Store one audit entry; the actor and IP come from the request when there is one."""
    if actor is None:
        actor = getattr(g, "audit_actor", "") if has_request_context() else "system"
    ip = (request.remote_addr or "") if has_request_context() else ""
    if not isinstance(detail, str):
        detail = json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True)
    return AuditLog.create(actor=actor or "", ip=ip, action=action, target=str(target)[:200], detail=detail)


def expired_entries(*actions: str) -> Purge:
    """A retention purge (core.retention) for the entries of `actions`: those that name a caller's or a
    recipient's phone number. A package registers one for the actions it records with a number."""

    def purge(expiry: Expiry) -> int:
        return delete_rows(AuditLog, (AuditLog.at < expiry.before) & AuditLog.action.in_(actions), expiry)

    return purge
# --- reading the log ----------------------------------------------------------------------------------------
Values = Mapping[Any, str] | Callable[[Any], str]  # coded value → words, or a function giving the words
E164_IN_TEXT = re.compile(r"\+\d{9,15}\b")


@dataclass
class Words:
    """What the audit page says for actions, detail keys and coded values; one per app (app.extensions)."""

    actions: dict[str, str] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)
    values: dict[str, Values] = field(default_factory=dict)

    def add(self, actions: Mapping[str, str], fields: Mapping[str, str], values: Mapping[str, Values]) -> None:
        self.actions.update(actions)
        self.fields.update(fields)
        for key, shown_as in values.items():
            known = self.values.get(key)
            # Two packages may code the same key (e.g. "source"): their tables merge when both are tables.
            both_tables = isinstance(known, Mapping) and isinstance(shown_as, Mapping)
            self.values[key] = {**known, **shown_as} if both_tables else shown_as


def describe(app: Flask, actions: Mapping[str, str], fields: Mapping[str, str] | None = None,
             values: Mapping[str, Values] | None = None) -> None:
    """Name a package's audit actions, the keys of their details and coded values in Japanese (from init_app)."""
    words(app).add(actions, fields or {}, values or {})


def words(app: Flask | None = None) -> Words:
    """The app's audit words, starting with core's own (accounts, logins, API tokens, IP allowlists, holidays)."""
    found = (app or current_app).extensions.get("audit.words")
    if found is None:
        found = (app or current_app).extensions["audit.words"] = Words()
        found.add(CORE_ACTIONS, CORE_FIELDS, CORE_VALUES)
    return found


def described_actions() -> set[str]:
    return set(words().actions)


def action_label(action: str) -> str:
    """The action in words ("voice_file.created" → 音声ファイルを作成); an action nobody named stays as recorded."""
    return words().actions.get(action, action)


def field_label(key: str) -> str:
    return words().fields.get(key, key)


def detail_lines(detail: str) -> list[tuple[str, str]]:
    """The entry's detail as (label, value) lines; text that is no JSON object is one line without a label."""
    try:
        data = json.loads(detail) if detail else {}
    except ValueError:
        data = detail
    if not isinstance(data, dict):
        return [("", shown(None, data))] if data not in ("", None, [], {}) else []
    return [(field_label(key), shown(key, value)) for key, value in data.items()]


def shown_target(target: str) -> str:
    """The entry's target with any phone number in it as staff read numbers (090-1234-5678)."""
    return E164_IN_TEXT.sub(lambda m: phone.display(m.group()), target or "")


def shown(key: str | None, value: Any) -> str:
    """One value in words: a coded value through its package's table, yes/no, lists and nested details."""
    coded = words().values.get(key) if key else None
    if callable(coded):
        return coded(value)
    if isinstance(coded, Mapping) and isinstance(value, (str, int)) and value in coded:
        return coded[value]
    if value is None or value == "" or value == []:
        return "なし"
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, list):
        return "、".join(shown(key, item) for item in value)
    if isinstance(value, dict):
        return "、".join(f"{field_label(k)}: {shown(k, v)}" for k, v in value.items())
    return shown_target(str(value))


def before_after(value: Any) -> str:
    """A change recorded as [before, after] → 「before」→「after」 (other values as they are)."""
    if isinstance(value, list) and len(value) == 2:
        return f"「{shown(None, value[0])}」→「{shown(None, value[1])}」"
    return shown(None, value)


def seconds_from_ms(value: Any) -> str:
    return f"{value / 1000:.1f} 秒" if isinstance(value, (int, float)) else shown(None, value)


def present_or_none(value: Any) -> str:
    """For content hashes and similar ids: whether there is one, not the id itself."""
    return "あり" if value else "なし"


# Core's own actions (accounts, logins, API tokens, IP allowlists, company holidays), read by `words`.
CORE_ACTIONS = {
    "login": "ログイン",
    "login.failed": "ログイン失敗",
    "login.throttled": "ログイン試行の制限",
    "logout": "ログアウト",
    "account.created": "アカウントを作成",
    "account.updated": "アカウントを変更",
    "account.locked": "アカウントをロック",
    "account.unlocked": "アカウントのロックを解除",
    "account.password_changed": "パスワードを変更",
    "api_token.created": "API トークンを発行",
    "api_token.revoked": "API トークンを失効",
    "ip_allowlist.added": "IP アドレス制限に追加",
    "ip_allowlist.removed": "IP アドレス制限から削除",
    "ip_allowlist.cleared": "IP アドレス制限を解除（サーバーのコマンド）",
    "holiday.added": "会社休業日を追加",
    "holiday.removed": "会社休業日を削除",
}
CORE_FIELDS = {
    "id": "ID", "name": "名前", "role": "権限", "display_name": "表示名", "active": "有効",
    "password": "パスワード", "via": "操作の経路", "reason": "理由", "failed_logins": "連続失敗回数",
    "attempts": "試行回数", "prefix": "トークンの先頭", "removed": "削除した件数", "note": "メモ",
    "before": "変更前", "after": "変更後", "by": "実行者",
}
CORE_VALUES: dict[str, Values] = {
    "role": ROLE_LABELS,
    "via": {"cli": "サーバーのコマンド", "admin": "管理画面", "link": "SMS の配信停止リンク", "api": "API"},
    "reason": {"unknown_user": "登録のないユーザー名", "locked": "ロック中", "inactive": "無効なアカウント",
               "wrong_password": "パスワードの誤り"},
    "password": {"reset": "再設定しました"},
}

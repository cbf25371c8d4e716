"""The destination form: what staff typed → the values to store, or Japanese errors naming the field."""
from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

from core.events import KINDS
from notify.models import KIND_LABELS

EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")
CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
TARGET_LABELS = {"email": "宛先メールアドレス", "slack": "送信先 URL", "teams": "送信先 URL",
                 "chatwork": "送信先 URL（https://api.chatwork.com/v2/rooms/ルーム番号/messages）",
                 "webhook": "送信先 URL"}
MAX_TARGET = 1000


def destination_input(form, existing=None) -> tuple[dict, list[str]]:
    errors: list[str] = []
    name = form.get("name", "").strip()
    if not name:
        errors.append("名前を入力してください。")
    elif len(name) > 100:
        errors.append("名前は 100 文字以内にしてください。")
    kind = form.get("kind", "")
    if kind not in KIND_LABELS:
        errors.append("種類を選んでください。")
    target = form.get("target", "").strip()
    errors += target_errors(kind, target)
    secret = form.get("secret", "").strip()
    if len(secret) > 200:
        errors.append("署名キー・トークンは 200 文字以内にしてください。")
    if not secret and existing is not None and existing.kind == kind:
        secret = existing.secret  # left empty: keep the one saved
    if kind == "webhook" and not secret:
        secret = secrets.token_urlsafe(32)
    if kind == "chatwork" and not secret:
        errors.append("Chatwork の API トークンを入力してください。")
    chosen = [kind_ for kind_ in form.getlist("events") if kind_ in KINDS] if hasattr(form, "getlist") else []
    if not chosen:
        errors.append("通知するできごとを 1 つ以上選んでください。")
    quiet_start, quiet_end = form.get("quiet_start", "").strip(), form.get("quiet_end", "").strip()
    for value, label in ((quiet_start, "通知しない時間帯の開始"), (quiet_end, "通知しない時間帯の終了")):
        if value and not CLOCK.match(value):
            errors.append(f"{label}は 21:00 のように HH:MM で入力してください。")
    if bool(quiet_start) != bool(quiet_end):
        errors.append("通知しない時間帯は開始と終了の両方を入力してください（使わない場合は両方空欄）。")
    values = {"name": name, "kind": kind, "target": target, "secret": secret, "events": ",".join(chosen),
                  "quiet_start": quiet_start, "quiet_end": quiet_end}
    return values, errors


def target_errors(kind: str, target: str) -> list[str]:
    label = TARGET_LABELS.get(kind, "送信先")
    if not target:
        return [f"{label}を入力してください。"]
    if len(target) > MAX_TARGET:
        return [f"{label}は {MAX_TARGET} 文字以内にしてください。"]
    if kind == "email":
        wrong = [part for part in re.split(r"[,\n]", target) if part.strip() and not EMAIL.match(part.strip())]
        return [f"{label}の形式が正しくありません: {wrong[0].strip()}"] if wrong else []
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in target):
        return [f"{label}は http:// または https:// で始まる URL を入力してください。"]
    return []

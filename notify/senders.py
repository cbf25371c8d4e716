"""Sending one notification to one destination: e-mail over SMTP, chat incoming webhooks (Slack-compatible
JSON, Microsoft Teams, Chatwork's API) and the generic signed webhook for CRMs.

Each sender raises DeliveryError with a short Japanese reason when the destination did not take the message;
returning means it did (an SMTP server accepted it, or the URL answered 2xx).

The signed webhook: a JSON body (WEBHOOK_SCHEMA, in the OpenAPI document) with the headers
X-IVR-Event, X-IVR-Delivery (the same on every retry: receivers drop repeats by it), X-IVR-Timestamp (Unix
seconds) and X-IVR-Signature: "sha256=" + hex HMAC-SHA256 of "<timestamp>.<body>" keyed with the destination's
secret. A receiver recomputes it and compares in constant time.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import urlencode

import requests

from core.config import setting
from notify.messages import EVENT_LABELS, Notice

SIGNATURE_HEADER = "X-IVR-Signature"
TIMESTAMP_HEADER = "X-IVR-Timestamp"
DELIVERY_HEADER = "X-IVR-Delivery"
EVENT_HEADER = "X-IVR-Event"
USER_AGENT = "ivr-notify/1"


class DeliveryError(Exception):
    """The destination did not take the notification; the message says why (Japanese, short)."""


@dataclass(frozen=True)
class Outgoing:
    """What is sent: the notice, the event it is about, and the delivery's id (stable across retries)."""

    delivery_id: int
    kind: str
    occurred_at: str
    notice: Notice
    link: str
    facts: dict[str, Any]


def send(destination, outgoing: Outgoing) -> None:
    SENDERS[destination.kind](destination, outgoing)


# --- e-mail ------------------------------------------------------------------------------------------------------
def send_email(destination, outgoing: Outgoing) -> None:
    host = setting("notify.smtp_host")
    if not host:
        raise DeliveryError("メールサーバー（SMTP）が設定されていません")
    message = EmailMessage()
    message["Subject"] = outgoing.notice.title
    message["From"] = setting("notify.mail_from")
    message["To"] = ", ".join(addresses(destination.target))
    message["Date"] = formatdate(localtime=True)
    # The same on a retry: a mail client shows one message if an uncertain attempt did arrive.
    message["Message-ID"] = make_msgid(idstring=f"notify-{outgoing.delivery_id}", domain="ivr.local")
    message.set_content(outgoing.notice.text)
    try:
        with smtplib.SMTP(host, setting("notify.smtp_port"), timeout=setting("notify.send_timeout_seconds")) as smtp:
            if setting("notify.smtp_starttls"):
                smtp.starttls(context=ssl.create_default_context())  # the server's certificate is checked
            if setting("notify.smtp_user"):
                smtp.login(setting("notify.smtp_user"), setting("notify.smtp_password"))
            smtp.send_message(message)
    except smtplib.SMTPException as exc:
        raise DeliveryError(f"メールサーバーが受け付けませんでした: {str(exc)[:120]}") from exc
    except (TimeoutError, OSError) as exc:
        raise DeliveryError(f"メールサーバーに接続できませんでした: {str(exc)[:120]}") from exc


def addresses(target: str) -> list[str]:
    return [part.strip() for part in target.replace("\n", ",").split(",") if part.strip()]


# --- HTTP --------------------------------------------------------------------------------------------------------
def post(url: str, *, data: bytes, headers: dict[str, str]) -> None:
    try:
        response = requests.post(url, data=data, headers={"User-Agent": USER_AGENT, **headers},
                                 timeout=setting("notify.send_timeout_seconds"), allow_redirects=False)
    except requests.RequestException as exc:
        raise DeliveryError(f"送信先に接続できませんでした: {type(exc).__name__}") from exc
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"送信先が受け付けませんでした（応答 {response.status_code}）")


def as_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


JSON = {"Content-Type": "application/json; charset=utf-8"}


def send_slack(destination, outgoing: Outgoing) -> None:
    """Slack's incoming webhooks (and Mattermost, Rocket.Chat, Discord's /slack endpoint) take {"text": …}."""
    post(destination.target, data=as_json({"text": f"*{outgoing.notice.title}*\n{outgoing.notice.text}"}),
         headers=JSON)


def send_teams(destination, outgoing: Outgoing) -> None:
    """Microsoft Teams' incoming webhook: a MessageCard."""
    card = {"@type": "MessageCard", "@context": "https://schema.org/extensions",
            "summary": outgoing.notice.title, "title": outgoing.notice.title,
            "text": "<br>".join(outgoing.notice.lines)}
    post(destination.target, data=as_json(card), headers=JSON)


def send_chatwork(destination, outgoing: Outgoing) -> None:
    """Chatwork's API: POST /v2/rooms/{room_id}/messages with the token in X-ChatWorkToken, form field body."""
    body = f"[info][title]{outgoing.notice.title}[/title]{outgoing.notice.text}[/info]"
    post(destination.target, data=urlencode({"body": body}).encode("ascii"),
         headers={"X-ChatWorkToken": destination.secret,
                  "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})


def webhook_body(outgoing: Outgoing) -> dict[str, Any]:
    return {"delivery_id": outgoing.delivery_id, "event": outgoing.kind,
            "event_label": EVENT_LABELS.get(outgoing.kind, outgoing.kind), "occurred_at": outgoing.occurred_at,
            "title": outgoing.notice.title, "text": outgoing.notice.text, "link": outgoing.link,
            "data": outgoing.facts}


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """"sha256=<hex>" of HMAC-SHA256(secret, "<timestamp>.<body>")."""
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def send_webhook(destination, outgoing: Outgoing) -> None:
    body = as_json(webhook_body(outgoing))
    timestamp = str(int(time.time()))
    post(destination.target, data=body, headers={
        **JSON, EVENT_HEADER: outgoing.kind, DELIVERY_HEADER: str(outgoing.delivery_id),
        TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: signature(destination.secret, timestamp, body)})


SENDERS = {
    "email": send_email,
    "slack": send_slack,
    "teams": send_teams,
    "chatwork": send_chatwork,
    "webhook": send_webhook,
}

WEBHOOK_SCHEMA = {
    "NotificationWebhook": {
        "type": "object",
        "description": (
            "通知先「署名付き Webhook」に POST される JSON です。ヘッダー X-IVR-Signature は "
            "\"sha256=\" + HMAC-SHA256(通知先の署名キー, \"<X-IVR-Timestamp の値>.<本文>\") の 16 進表記です。"
            "X-IVR-Delivery は再送でも変わらないため、受信側で重複を除けます。2xx 以外の応答は失敗として再送します。"),
        "required": ["delivery_id", "event", "occurred_at", "title", "text", "data"],
        "properties": {
            "delivery_id": {"type": "integer", "description": "通知番号（X-IVR-Delivery と同じ）"},
            "event": {"type": "string", "enum": [*EVENT_LABELS]},
            "event_label": {"type": "string", "example": "留守番電話の録音"},
            "occurred_at": {"type": "string", "format": "date-time", "description": "日本時間"},
            "title": {"type": "string"},
            "text": {"type": "string"},
            "link": {"type": "string", "description": "確認する画面の URL（ない場合は空）"},
            "data": {"type": "object", "additionalProperties": True,
                     "description": "できごとの内容（発信者番号 from_number、宛先 to_number など）"},
        },
    },
}
WEBHOOKS = {
    "notification": {"post": {
        "summary": "通知の署名付き Webhook（このサーバーから通知先 URL へ送る形式）",
        "description": "このプラットフォームが通知先に送る要求です。受信側で X-IVR-Signature を検証してください。",
        "security": [],
        "parameters": [
            {"name": SIGNATURE_HEADER, "in": "header", "required": True, "schema": {"type": "string"},
             "example": "sha256=3f1c…"},
            {"name": TIMESTAMP_HEADER, "in": "header", "required": True, "schema": {"type": "string"}},
            {"name": DELIVERY_HEADER, "in": "header", "required": True, "schema": {"type": "string"}},
            {"name": EVENT_HEADER, "in": "header", "required": True, "schema": {"type": "string"}},
        ],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/NotificationWebhook"}}}},
        "responses": {"200": {"description": "受け付けた（2xx なら成功）"}},
    }},
}

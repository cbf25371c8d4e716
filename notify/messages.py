"""What notifications say (Japanese), the event kinds in words, and the audit log's words for notify's actions."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core import events, phone

TEST = "test"  # a test from the destinations page (not one of core.events' kinds)
EVENT_LABELS = {
    events.VOICEMAIL_LEFT: "留守番電話の録音",
    events.CALL_ABANDONED: "途中放棄",
    events.RETRY_LIMIT_REACHED: "リトライ上限",
    events.SMS_FAILED: "SMS 配信失敗",
    events.BULK_FINISHED: "一括配信の完了",
    events.REPORT_PUBLISHED: "レポートの更新",
    TEST: "テスト通知",
}
# The page each notification links to (when that page exists in this installation).
EVENT_PAGES = {
    events.VOICEMAIL_LEFT: "ivr.voicemails",
    events.CALL_ABANDONED: "reports.calls",
    events.RETRY_LIMIT_REACHED: "reports.calls",
    events.SMS_FAILED: "sms.log",
    events.BULK_FINISHED: "bulk.index",
    events.REPORT_PUBLISHED: "reports.index",
}

AUDIT_ACTIONS = {
    "notify.destination.created": "通知先の追加",
    "notify.destination.updated": "通知先の変更",
    "notify.destination.deleted": "通知先の削除",
    "notify.destination.resumed": "通知先の再開",
    "notify.destination.paused": "通知先の自動停止（送信失敗の連続）",
    "notify.destination.tested": "通知先へのテスト送信",
    "notify.delivery.resent": "通知の再送",
}
AUDIT_FIELDS = {"destination_kind": "通知先の種類", "events": "通知するできごと", "quiet": "通知しない時間帯", "delivery_id": "通知番号"}


@dataclass(frozen=True)
class Notice:
    """One notification as people read it: a title and lines of text."""

    title: str
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def caller(number: Any) -> str:
    return phone.display(str(number or "")) or "非通知"


def notice_for(kind: str, facts: Mapping[str, Any], link: str = "") -> Notice:
    """The title and text of a notification about `kind`."""
    title = f"【{EVENT_LABELS.get(kind, kind)}{'・シミュレーター' if facts.get('simulated') else ''}】"
    lines = list(LINES.get(kind, lambda f: [])(facts))
    if link:
        lines.append(f"確認: {link}")
    return Notice(title + (lines[0] if lines else ""), tuple(lines))


def _voicemail(f) -> list[str]:
    return [f"{caller(f.get('from_number'))} から留守番電話が届きました（{f.get('seconds', 0)} 秒）",
            f"着信番号: {caller(f.get('to_number'))} {f.get('flow_name', '')}".rstrip(),
            f"受付日時: {f.get('at', '')}"]


def _abandoned(f) -> list[str]:
    return [f"{caller(f.get('from_number'))} の通話が途中で切れました",
            f"切断した場所: {f.get('where', '')}",
            f"着信番号: {caller(f.get('to_number'))} {f.get('flow_name', '')}".rstrip(),
            f"終了日時: {f.get('at', '')}"]


def _retry_limit(f) -> list[str]:
    return [f"{caller(f.get('from_number'))} の入力がリトライ上限に達しました",
            f"メニュー: {f.get('node_name', '')}",
            f"着信番号: {caller(f.get('to_number'))} {f.get('flow_name', '')}".rstrip(),
            f"日時: {f.get('at', '')}"]


def _sms_failed(f) -> list[str]:
    return [f"{caller(f.get('to_number'))} への SMS が届きませんでした",
            f"理由: {f.get('error_message') or '不明'}",
            f"蓄積BOX: {f.get('box_number') or '-'}",
            f"日時: {f.get('at', '')}"]


def _bulk(f) -> list[str]:
    return [f"一括配信「{f.get('label', '')}」の送信が終わりました",
            f"送信した SMS: {f.get('queued', 0)} 件",
            f"完了日時: {f.get('at', '')}"]


def _report(f) -> list[str]:
    return [f"着信・SMS送信レポートを {f.get('cutoff', '')} 分まで更新しました",
            f"今回公開した期間: {f.get('published_from', '')}〜{f.get('cutoff', '')}"]


def _test(f) -> list[str]:
    return [f"通知先「{f.get('destination', '')}」へのテスト通知です", "この通知が届いていれば設定は正しく動いています。"]


LINES = {
    events.VOICEMAIL_LEFT: _voicemail,
    events.CALL_ABANDONED: _abandoned,
    events.RETRY_LIMIT_REACHED: _retry_limit,
    events.SMS_FAILED: _sms_failed,
    events.BULK_FINISHED: _bulk,
    events.REPORT_PUBLISHED: _report,
    TEST: _test,
}

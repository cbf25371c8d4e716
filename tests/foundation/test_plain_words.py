"""Admin pages in words: every setting and every audit action has Japanese; the settings page and the audit log
read as sentences, with a setting's or an action's own name only as small print."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from core import audit
from core.config import ROOT, SCHEMA
from core.setting_labels import SETTING_TEXTS, setting_label, shown_value

pytestmark = pytest.mark.sqlite_only


class VisibleText(HTMLParser):
    """The page's text as a reader sees it: no scripts, no small print of raw names (.raw-key)."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if self.skipping or tag == "script" or "raw-key" in (dict(attrs).get("class") or ""):
            self.skipping += 1

    def handle_endtag(self, tag):
        if self.skipping:
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)

    @classmethod
    def of(cls, html: str) -> str:
        parser = cls()
        parser.feed(html)
        return re.sub(r"\s+", " ", " ".join(parser.parts))


def test_every_setting_has_words_and_nothing_else_does():
    assert set(SETTING_TEXTS) == set(SCHEMA)
    assert all(re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", text.label) for text in SETTING_TEXTS.values())


def test_coded_setting_values_read_as_words():
    assert shown_value("sms.billing", "delivered") == "送達した SMS だけ"
    assert shown_value("sms.tickets_enabled", False) == "無効"
    assert shown_value("database.prepared_statements", True) == "有効"
    assert shown_value("telephony.operator_number", "+81312345678") == "03-1234-5678"
    assert shown_value("web.session_minutes", 480) == "480 分"
    assert shown_value("sms.sender_id", "") == "（未設定）"
    assert setting_label("sms.tickets_enabled") == "SMS チケット制"


def test_the_settings_page_names_each_setting_in_words_with_its_unit_and_key_as_small_print(admin_client):
    page = admin_client.get("/admin/settings").get_data(as_text=True)
    text = VisibleText.of(page)
    assert [key for key in SCHEMA if key in text] == []
    assert all(f'<small class="raw-key">{key}</small>' in page for key in SCHEMA)
    assert "SMS チケット制 無効" in text
    assert "課金の数え方 送達した SMS だけ" in text
    assert "デモ用フローの転送先 03-1234-5678" in text
    assert "操作がないときのログイン有効時間 480 分" in text
    assert "再送しない時間帯 21:00-09:00" in text


def recorded_actions() -> set[str]:
    """Every action name the code records: audit.record("…") and the action names it passes on."""
    pattern = re.compile(r'"((?:[a-z_]+\.)+[a-z_]+)"')
    found = set()
    for path in ROOT.rglob("*.py"):
        if path.relative_to(ROOT).parts[0] in ("tests", ".venv", "bench", "migrations", "var"):
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if "audit.record(" in line or re.search(r"\baction\s*=|_ACTION\s*=", line):
                found.update(pattern.findall(line))
    return found


def test_every_action_the_code_records_has_words(app):
    actions = recorded_actions()
    assert {"voice_file.created", "ivr.menu.updated", "bulk.scheduled", "login.failed", "optout.added"} <= actions
    assert sorted(actions - audit.described_actions()) == []


def test_the_audit_log_reads_as_sentences(app, admin_client, staff_client):
    staff_client.post("/sms/boxes/1", data={"body": "新しい本文です。{url}", "url": "https://example.jp/a"})
    audit.record("box.updated", "蓄積BOX 1", {"body": ["旧い本文", "新しい本文"]}, actor="staff1")
    audit.record("optout.added", "+819011112222", {"via": "link", "message_id": 7}, actor="recipient")
    audit.record("account.updated", "manager1", {"display_name": "山田", "role": "manager", "active": True,
                                                "password": "reset"}, actor="admin1")
    audit.record("login.failed", "nobody", {"reason": "unknown_user"}, actor="")
    page = admin_client.get("/admin/audit").get_data(as_text=True)
    text = VisibleText.of(page)
    assert "蓄積BOX を変更" in text and "メッセージ内容: 「旧い本文」→「新しい本文」" in text
    assert "配信停止に登録" in text and "090-1111-2222" in text and "操作の経路: SMS の配信停止リンク" in text
    assert "SMS の受信者" in text
    assert "アカウントを変更" in text and "権限: マネージャー" in text and "パスワード: 再設定しました" in text
    assert "有効: はい" in text and "理由: 登録のないユーザー名" in text
    assert not re.search(r"\b[a-z_]+\.[a-z_]+\b", text), re.findall(r"\b[a-z_]+\.[a-z_]+\b", text)
    assert '{"' not in text and "+81" not in text
    assert '<small class="raw-key">box.updated</small>' in page

    found = VisibleText.of(admin_client.get("/admin/audit?q=配信停止").get_data(as_text=True))
    assert "配信停止に登録" in found and "アカウントを変更" not in found

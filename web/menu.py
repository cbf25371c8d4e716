"""The side menu of R-60. Items appear only when their page exists and the user's role allows it."""
from __future__ import annotations

MENU = [
    ("ガイダンス", [
        ("音声ファイル作成", "guidance.voice_files", "staff"),
        ("オリジナルガイダンス登録", "guidance.guidances", "staff"),
    ]),
    ("ルーティング設定", [
        ("入力指示ルーティング変更", "ivr.menus", "staff"),
        ("コールフロー", "ivr.flows", "staff"),
        ("発信者番号設定", "ivr.callers", "staff"),
        ("通話シミュレーター", "ivr.simulator", "staff"),
    ]),
    ("着信", [
        ("留守番電話", "ivr.voicemails", "staff"),
        ("通話録音", "ivr.call_recordings", "staff"),
    ]),
    ("メッセージ蓄積", [
        ("SMS送信情報設定", "sms.boxes", "staff"),
    ]),
    ("SMS", [
        ("一括配信", "bulk.index", "manager"),
        ("配信履歴", "sms.log", "manager"),
        ("個別送信", "sms.individual_send", "manager"),
        ("送信ボックス (シミュレーター)", "sms.outbox", "staff"),
        ("配信停止リスト", "sms.optouts", "manager"),
        ("チケット", "bulk.tickets", "manager"),
    ]),
    ("レポート", [
        ("着信・SMS送信レポート", "reports.index", "manager"),
        ("通話明細", "reports.calls", "manager"),
    ]),
    ("通知", [
        ("通知先", "notify.destinations", "staff"),
        ("通知の送信履歴", "notify.log", "manager"),
    ]),
    ("管理", [
        ("アカウント", "admin.users", "admin"),
        ("API トークン", "admin.tokens", "admin"),
        ("IP アドレス制限", "admin.ip_allowlist", "admin"),
        ("会社休業日", "admin.holidays", "admin"),
        ("監査ログ", "admin.audit_log", "admin"),
        ("設定", "admin.settings_page", "admin"),
        ("API ドキュメント", "api_docs.api_page", "admin"),
    ]),
]


def visible_menu(app, user) -> list[tuple[str, list[tuple[str, str]]]]:
    if not getattr(user, "is_authenticated", False):
        return []
    out = []
    for section, items in MENU:
        shown = [(label, endpoint) for label, endpoint, role in items
                 if endpoint in app.view_functions and user.has_role(role)]
        if shown:
            out.append((section, shown))
    return out

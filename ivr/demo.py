"""The demo flow of SPEC §11, made on first start so `python run.py` and the simulator give a working call at once.

Its guidance is made with guidance.public.ensure_guidance, which synthesizes now (at start-up),
never during a call. Once made (or deliberately deleted by staff) it is not made again: the audit
log remembers that it was seeded.
"""
from __future__ import annotations

import logging

from core import audit, phone
from core.config import setting
from core.models import AuditLog
from guidance import public as guidance_public
from ivr.models import Flow
from ivr.spec import FlowSpec, NodeSpec
from ivr.store import FlowInvalid, save_flow

log = logging.getLogger("ivr.demo")
SEEDED_ACTION = "ivr.demo_seeded"
DEMO_NAME = "デモフロー"
DEMO_BOX = 1

# key → (guidance kind, guidance name, text)
DEMO_GUIDANCE = {
    "greeting": ("greeting", "デモ_オープニング", "お電話ありがとうございます。デモセンターです。"),
    "menu": ("pb", "デモ_メインメニュー",
             "ショートメッセージでご案内をお送りする場合は1を、オペレーターにおつなぎする場合は2を、"
             "営業時間のご案内は3を押してください。"),
    "timeout": ("timeout", "デモ_入力タイムアウト", "入力が確認できません。案内をお聞きいただき、もう一度入力してください。"),
    "mis_entry": ("mis_entry", "デモ_入力ミス", "入力が間違っています。案内をお聞きいただき、もう一度入力してください。"),
    "sent": ("sms_sent", "デモ_SMS送信完了",
             "ショートメッセージでご案内をお送りしました。お電話ありがとうございました。"),
    "unavailable": ("sms_unavailable", "デモ_SMS送信不可",
                    "申し訳ございません。このお電話にはショートメッセージをお送りできませんでした。"),
    "number_entry": ("number_entry", "デモ_携帯番号入力",
                     "ショートメッセージをお送りする携帯電話番号を、ゼロから始まる11桁で入力してください。"),
    "transfer": ("other", "デモ_転送", "オペレーターにおつなぎします。そのままお待ちください。"),
    "busy": ("other", "デモ_転送不応答", "ただいま電話が大変込み合っております。時間をおいて、おかけ直しください。"),
    "hours": ("other", "デモ_営業時間案内",
              "営業時間は、平日の午前9時から午後6時までです。土曜、日曜、祝日はお休みをいただいております。"),
    "closing": ("closing", "デモ_終話", "お電話ありがとうございました。失礼いたします。"),
}


# The main menu also takes speech (SPEC §11): what a caller may say for each choice.
DEMO_KEYWORDS = {"1": ["SMS", "ショートメッセージ", "URL"], "2": ["オペレーター", "担当者"], "3": ["営業時間"]}


def demo_number() -> str:
    """TWILIO_FROM_NUMBER with a real Twilio account, else the simulator's demo number."""
    if setting("telephony.provider") == "twilio" and setting("twilio.from_number"):
        return phone.e164_or_text(setting("twilio.from_number"))
    return phone.e164_or_text(setting("telephony.demo_number"))


def demo_flow(g: dict[str, int]) -> FlowSpec:
    """greeting → menu: 1 SMS box 1, 2 operator, 3 business hours; 5 s, 3 tries, then closing."""
    def node(key, kind, name, **kw):
        return NodeSpec(key=key, kind=kind, name=name, **kw)

    nodes = [
        node("greeting", "play", "オープニング", guidance=g["greeting"], exits={"next": "main"}),
        node("main", "menu", "メインメニュー", guidance=g["menu"], timeout_guidance=g["timeout"],
             mis_entry_guidance=g["mis_entry"], digits=setting("ivr.default_digits"),
             timeout=setting("ivr.default_timeout_seconds"), max_tries=setting("ivr.default_max_tries"),
             max_mis_entries=setting("ivr.default_max_mis_entries"),
             exits={"1": "sms", "2": "operator", "3": "hours_info", "fallback": "closing"},
             params={"keywords": DEMO_KEYWORDS}),
        node("sms", "sms", "SMS送信（蓄積BOX 1）", guidance=g["sent"],
             params={"box_number": DEMO_BOX, "ask_number": True, "number_entry_guidance": g["number_entry"]},
             exits={"next": "end", "cannot_send": "sms_unavailable"}),
        node("sms_unavailable", "play", "SMS送信不可", guidance=g["unavailable"], exits={"next": "closing"}),
        node("operator", "transfer", "オペレーター転送", guidance=g["transfer"],
             params={"number": phone.e164_or_text(setting("telephony.operator_number")),
                     "timeout": setting("ivr.transfer_timeout_seconds")},
             exits={"no_answer": "busy"}),
        node("busy", "play", "転送不応答", guidance=g["busy"], exits={"next": "closing"}),
        node("hours_info", "play", "営業時間案内", guidance=g["hours"], exits={"next": "closing"}),
        node("closing", "hangup", "終話", guidance=g["closing"]),
        node("end", "hangup", "切断"),
    ]
    return FlowSpec(entry="greeting", nodes={n.key: n for n in nodes})


def seed_demo_flow() -> Flow | None:
    """Create the demo flow once; later starts leave it (and staff's edits or deletion) alone."""
    if AuditLog.select().where(AuditLog.action == SEEDED_ACTION).exists():
        return None
    number = demo_number()
    if Flow.select().where(Flow.number == number).exists():
        return None
    ids = {key: guidance_public.ensure_guidance(name, kind, text) for key, (kind, name, text) in DEMO_GUIDANCE.items()}
    try:
        flow = save_flow(demo_flow(ids), name=DEMO_NAME, number=number,
                         description="初回起動時に作成されるデモ用フローです。", actor="system")
    except FlowInvalid as exc:  # e.g. storage box 1 was removed before the first start
        log.warning("demo flow not created: %s", exc)
        return None
    audit.record(SEEDED_ACTION, f"{flow.name} ({flow.number})", {"flow_id": flow.id}, actor="system")
    return flow

"""Japanese texts of the IVR: what callers hear when no guidance is configured, and labels for staff."""
from __future__ import annotations

# --- spoken (<Say language="ja-JP">) ----------------------------------------------------------------
UNKNOWN_NUMBER = ("お電話ありがとうございます。申し訳ございませんが、おかけになった番号は現在ご利用いただけません。"
                  "恐れ入りますが、番号をお確かめのうえ、おかけ直しください。")
SYSTEM_ERROR = "申し訳ございません。ただいまシステムで問題が発生しております。時間をおいて、おかけ直しください。"
DEFAULT_TIMEOUT = "入力が確認できません。案内をお聞きいただき、もう一度入力してください。"
DEFAULT_MIS_ENTRY = "入力が間違っています。案内をお聞きいただき、もう一度入力してください。"
NUMBER_ENTRY_PROMPT = ("ショートメッセージをお送りする携帯電話番号を、ゼロから始まる11桁で入力してください。"
                       "入力が終わりましたら、シャープを押してください。")
NUMBER_TIMEOUT = "携帯電話番号の入力が確認できません。"
NUMBER_READBACK = "入力された番号は、{digits}、です。よろしければ1を、入力し直す場合は2を押してください。"
CONFIRM_AGAIN = "1か2を押してください。"
NUMBER_PROBLEMS = {
    "length": "入力された番号の桁数が正しくありません。携帯電話番号は11桁です。",
    "ip_phone": "ゼロゴーゼロから始まるアイピー電話の番号には、ショートメッセージをお送りできません。",
    "unassigned": "入力された番号は、携帯電話の番号として使われていません。",
    "not_mobile": "入力された番号は、携帯電話の番号ではありません。",
}
TOO_MANY_FAILURES = "入力が確認できませんでした。恐れ入りますが、おかけ直しください。失礼いたします。"
VOICEMAIL_EMPTY = "録音が確認できませんでした。お電話ありがとうございました。"
RECORDING_NOTICE = "この通話はサービス向上のため録音させていただきます。"
VOICEMAIL_THANKS = "メッセージを承りました。お電話ありがとうございました。"

# Japanese IVRs read numbers one digit at a time; kana keep the synthesizer from reading "090" as a number.
DIGIT_READINGS = {
    "0": "ゼロ", "1": "イチ", "2": "ニー", "3": "サン", "4": "ヨン",
    "5": "ゴー", "6": "ロク", "7": "ナナ", "8": "ハチ", "9": "キュウ", "*": "コメ", "#": "シャープ",
}

# --- for staff ---------------------------------------------------------------------------------------
KIND_LABELS = {
    "menu": "PBメニュー（入力指示ルーティング）",
    "play": "ガイダンス再生",
    "sms": "SMS送信（蓄積BOX）",
    "transfer": "転送",
    "voicemail": "留守番電話（録音）",
    "hours": "営業時間分岐",
    "goto": "メニューへ移動",
    "hangup": "終話",
}
EXIT_LABELS = {
    "next": "次へ",
    "fallback": "リトライ上限時",
    "cannot_send": "送信不可時",
    "no_answer": "不応答時",
    "open": "営業時間内",
    "closed": "営業時間外・休日",
    "target": "移動先",
}
OUTCOME_LABELS = {
    "completed": "完了",
    "abandoned": "途中放棄",
    "retry_limit": "リトライ上限",
    "transferred": "転送",
    "voicemail": "留守番電話",
    "error": "エラー",
}
# What was playing (or going on) in a TwiML document, for the timeline and where a caller hung up.
PART_LABELS = {
    "greeting": "オープニング",
    "guidance": "ガイダンス",
    "menu_prompt": "メニューの案内",
    "timeout": "入力タイムアウト時ガイダンス",
    "mis_entry": "入力ミス時ガイダンス",
    "input_wait": "入力待ち",
    "sms_result": "SMS送信の案内",
    "number_entry": "携帯番号入力の案内",
    "number_error": "携帯番号エラーの案内",
    "number_readback": "携帯番号の読み上げ",
    "transfer": "転送前の案内",
    "recording_notice": "通話録音のお知らせ",
    "dialing": "転送先の呼び出し",
    "voicemail_prompt": "録音前の案内",
    "recording": "録音",
    "closing": "終話ガイダンス",
    "unknown": "不明（変更前の記録）",
}
EVENT_LABELS = {
    "node": "ノード",
    "digit": "入力",
    "speech": "音声入力",
    "timeout": "入力タイムアウト",
    "mis_entry": "入力ミス",
    "sms": "SMS",
    "transfer": "転送",
    "voicemail": "留守番電話",
    "hangup": "切断",
    "error": "エラー",
}
# Twilio's DialCallStatus of a transfer that did not connect.
DIAL_STATUS_LABELS = {
    "no-answer": "応答なし",
    "busy": "話し中",
    "failed": "つながらない番号",
    "canceled": "取り消し",
}
WEEKDAY_LABELS = "月火水木金土日"
CALLER_RULE_LABELS = {"block": "着信拒否", "route": "振り分け"}

# The audit log in words (core.audit.describe, from ivr.init_app).
AUDIT_ACTIONS = {
    "ivr.flow.created": "コールフローを作成",
    "ivr.flow.updated": "コールフローを変更",
    "ivr.flow.deleted": "コールフローを削除",
    "ivr.menu.updated": "入力指示ルーティングを変更",
    "ivr.flow.draft_saved": "コールフローの下書きを保存",
    "ivr.flow.draft_discarded": "コールフローの下書きを破棄",
    "ivr.flow.published": "コールフローを公開",
    "ivr.flow.restored": "コールフローを以前の版に戻す",
    "ivr.demo_seeded": "デモ用のコールフローを作成",
    "ivr.caller_rule.created": "発信者番号設定を追加",
    "ivr.caller_rule.deleted": "発信者番号設定を削除",
    "ivr.voicemail.handled": "留守番電話を対応済みに",
    "ivr.voicemail.reopened": "留守番電話を未対応に戻す",
}
AUDIT_FIELDS = {
    "flow_id": "フローの ID", "nodes": "ノード", "entry": "開始ノード", "menu": "メニュー", "guidance": "ガイダンスの ID",
    "timeout_guidance": "入力タイムアウト時ガイダンスの ID", "mis_entry_guidance": "入力ミス時ガイダンスの ID",
    "digits": "桁数", "timeout": "入力タイムアウト（秒）", "max_tries": "タイムアウトの上限回数", "max_mis_entries": "入力ミスの上限回数", "exits": "分岐",
    "action": "動作", "node": "振り分け先", "voicemail_id": "留守番電話の ID",
    "version": "公開した版", "restored_from": "戻した版", "template": "ひな形",
}


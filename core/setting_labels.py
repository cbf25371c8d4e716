"""Every setting of core.config.SCHEMA in words, for the settings page and for messages that name a setting.

`label` is what a manager calls it, `unit` follows the value (秒, 件, …), `help` says what it does. Coded values
(`simulator`, `delivered`, true/false) read as words through `shown_value`. A test keeps this table and SCHEMA
in step: a new setting needs a line here as well as in SCHEMA and config.yaml.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core import phone


@dataclass(frozen=True)
class SettingText:
    label: str
    unit: str = ""
    help: str = ""
    choices: tuple[tuple[str, str], ...] = ()  # coded value → words
    is_phone: bool = False


T = SettingText
SECTIONS = {
    "web": "画面とサーバー", "database": "データベース", "accounts": "アカウントとログイン", "scheduler": "定期処理",
    "calendar": "暦", "telephony": "電話", "twilio": "Twilio（電話・SMS の接続先）", "guidance": "ガイダンス（音声合成）",
    "ivr": "IVR（着信の流れ）", "sms": "SMS", "bulk": "一括配信", "reports": "レポート", "notify": "通知",
}
ON_OFF = (("True", "有効"), ("False", "無効"))

SETTING_TEXTS: dict[str, SettingText] = {
    # --- web ------------------------------------------------------------------------------------------------
    "web.port": T("待ち受けポート番号", "", "この番号で画面と Twilio からの連絡を受け付けます。"),
    "web.host": T("待ち受けアドレス", "", "0.0.0.0 はすべてのネットワークから受け付けます（プロキシを別のマシンに置く場合）。"),
    "web.public_base_url": T("公開 URL", "", "Twilio から見たこのシステムのアドレスです。署名の確認と、SMS や音声の URL に使います。"),
    "web.secret_key": T("ログインの暗号鍵", "", "空のときは初回起動時に作って保存します。"),
    "web.trusted_proxies": T("手前のプロキシの数", "台", "この数までのリバースプロキシが付けた送信元の情報を信用します。"),
    "web.secure_cookies": T("ログイン情報を https だけで送る", "", "自動: 公開 URL が https のとき有効にします。",
                            (("auto", "自動"), ("always", "常に"), ("never", "しない"))),
    "web.session_minutes": T("操作がないときのログイン有効時間", "分", "この時間操作がないとログアウトします。"),
    "web.session_absolute_hours": T("ログインの最長時間", "時間", "操作を続けていても、ログインからこの時間で終わります。"),
    "web.page_size": T("一覧の 1 ページの件数", "件"),
    "web.threads": T("同時に処理する要求の数", "件"),
    # --- database -------------------------------------------------------------------------------------------
    "database.url": T("データベースの接続先", "", "SQLite のファイル、または PostgreSQL の接続先です（パスワードは伏せて表示）。"),
    "database.prepared_statements": T("PostgreSQL で通話の処理を事前に準備する", "",
                                      "PgBouncer をトランザクションモードで使うときは無効にしてください。", ON_OFF),
    # --- accounts -------------------------------------------------------------------------------------------
    "accounts.max_failed_logins": T("ロックするまでのパスワード誤り回数", "回", "続けて間違えるとアカウントがロックされ、管理者が解除します。"),
    "accounts.min_password_length": T("パスワードの最低文字数", "文字"),
    "accounts.login_throttle_attempts": T("ログイン試行の制限回数", "回", "1 つの接続元からの失敗がこの回数を超えると、しばらく待たせます。"),
    "accounts.login_throttle_minutes": T("ログイン試行を数える時間", "分"),
    # --- scheduler ------------------------------------------------------------------------------------------
    "scheduler.lease_seconds": T("定期処理の担当の引き継ぎ時間", "秒", "担当のプロセスが止まったとき、この時間で別のプロセスが引き継ぎます。"),
    "scheduler.enabled": T("定期処理", "", "無効にすると、この起動では画面だけを動かします（定期処理は別のプロセスで）。", ON_OFF),
    # --- calendar -------------------------------------------------------------------------------------------
    "calendar.timezone": T("タイムゾーン", "", "時刻はすべて日本時間です。", (("Asia/Tokyo", "日本時間"),)),
    # --- telephony ------------------------------------------------------------------------------------------
    "telephony.provider": T("電話・SMS の接続先", "", "シミュレーター: 通話シミュレーターと送信ボックスで試します（実際の電話・SMS はありません）。",
                            (("simulator", "シミュレーター"), ("twilio", "Twilio"))),
    "telephony.demo_number": T("デモ用フローの着信番号", "", "シミュレーターで試すときのデモのコールフローの番号です。", is_phone=True),
    "telephony.operator_number": T("デモ用フローの転送先", "", "デモのコールフローで「2」を押したときの転送先です。", is_phone=True),
    # --- twilio ---------------------------------------------------------------------------------------------
    "twilio.account_sid": T("Twilio のアカウント", "", "環境変数で設定します（伏せて表示）。"),
    "twilio.auth_token": T("Twilio の認証トークン", "", "環境変数で設定します（伏せて表示）。"),
    "twilio.from_number": T("お客様がかける番号・SMS の送信元番号", "", is_phone=True),
    "twilio.api_base_url": T("Twilio の接続先アドレス", "", "通常は変更しません（試験用の接続先に向けるときだけ）。"),
    # --- guidance -------------------------------------------------------------------------------------------
    "guidance.default_engine": T("標準の音声合成エンジン", "", "新しく作る音声ファイルの初期値です。",
                                 (("openjtalk", "日本語（Open JTalk）"), ("pyttsx3", "日本語以外（espeak-ng）"))),
    "guidance.openjtalk_dict_dir": T("日本語の読み上げ辞書の場所", ""),
    "guidance.default_speed": T("標準の話す速さ", "倍", "1.0 が標準です。"),
    "guidance.default_volume": T("標準の音量", "倍", "1.0 が標準です。"),
    "guidance.pyttsx3_voice": T("日本語以外の読み上げの声", ""),
    "guidance.max_text_length": T("ガイダンス内容の最大文字数", "文字", "1 つの音声ファイルの文章の長さの上限です。"),
    "guidance.max_upload_mb": T("録音ファイルの最大サイズ", "MB"),
    "guidance.audio_dir": T("音声の保存場所", ""),
    "guidance.audio_encoding": T("電話用音声の形式", "", "どちらも 8 kHz モノラルです。",
                                 (("pcm16", "リニア PCM 16 ビット"), ("ulaw", "μ-law"))),
    # --- ivr ------------------------------------------------------------------------------------------------
    "ivr.default_digits": T("新しいメニューの桁数", "桁"),
    "ivr.default_timeout_seconds": T("新しいメニューの入力待ち時間", "秒"),
    "ivr.default_max_tries": T("新しいメニューのタイムアウトの上限回数", "回",
                               "入力がないまま入力待ち時間が過ぎた回数がこれに達すると「リトライ上限」の行き先へ進みます。"),
    "ivr.default_max_mis_entries": T("新しいメニューの入力ミスの上限回数", "回",
                                     "メニューにない番号を押した回数がこれに達すると「リトライ上限」の行き先へ進みます。"),
    "ivr.transfer_timeout_seconds": T("転送の呼び出し時間", "秒", "この時間で応答がなければ「不応答時」の行き先へ進みます。"),
    "ivr.voicemail_max_seconds": T("留守番電話の最長録音時間", "秒"),
    "ivr.simulator_recordings_dir": T("通話シミュレーターの録音の保存場所", ""),
    # --- sms ------------------------------------------------------------------------------------------------
    "sms.max_length": T("SMS の最大文字数", "文字", "70 文字を超えると 67 文字ごとに分けて送ります。"),
    "sms.sender_id": T("送信者名（英数字）", "", "空のときは送信元番号から送ります。"),
    "sms.company_name": T("会社名", "", "配信停止のページで、送信した会社として表示します。"),
    "sms.mps_limit": T("1 秒あたりの送信数の上限", "通", "0 は上限なしです。"),
    "sms.dispatch_interval_seconds": T("送信待ちを確認する間隔", "秒"),
    "sms.dispatch_batch": T("一度に送信処理する数", "件"),
    "sms.dispatch_concurrency": T("同時に送信する数", "件", "送信事業者への送信を並行して行う数です。1 秒あたりの送信数の上限は並行しても守ります。"),
    "sms.resend_count": T("システム再送の回数", "回", "配信に失敗したときに送り直す回数です（0 は再送なし）。"),
    "sms.resend_interval_minutes": T("システム再送の間隔", "分"),
    "sms.no_resend_window": T("再送しない時間帯", "", "この時間帯にかかる再送はせず、その時点で配信失敗になります。空欄は制限なしです。"),
    "sms.status_timeout_hours": T("配信結果を待つ時間", "時間", "この時間を過ぎても結果が届かない SMS は状態不明で確定します。"),
    "sms.status_timeout_hours_softbank": T("配信結果を待つ時間（ソフトバンク）", "時間",
                                           "ソフトバンク（Y!mobile・LINEMO を含む）の SMS は、この時間を過ぎても結果が届かないと状態不明で確定します。"),
    "sms.carrier_lookup": T("キャリア判定", "", "送信前に送信先のキャリアを調べます（Twilio の番号検索で 1 件ごとに料金がかかります。"
                            "結果は番号ごとに保存して使い回します）。無効にするとキャリアは「不明」になり、結果を待つ時間はすべて通常の時間になります。",
                            ON_OFF),
    "sms.carrier_cache_days": T("キャリア判定の保存期間", "日", "この日数が過ぎた番号は、次の送信時にもう一度調べます（番号ポータビリティでキャリアが変わるため）。"),
    "sms.billing": T("課金の数え方", "", "月別集計の「課金対象」の数え方です。",
                     (("delivered", "送達した SMS だけ"), ("all", "送信したすべての SMS"))),
    "sms.optout_placeholder": T("配信停止 URL の差し込み記号", "", "本文のこの記号を、受信者ごとの配信停止 URL に置き換えます。"),
    "sms.url_placeholder": T("URL の差し込み記号", "", "本文のこの記号を、蓄積BOX の URL（短縮 URL）に置き換えます。"),
    "sms.tickets_enabled": T("SMS チケット制", "", "有効にすると、SMS 1 通ごとにチケットを 1 枚使います（IVR・API も含む）。", ON_OFF),
    # --- bulk -----------------------------------------------------------------------------------------------
    "bulk.poll_seconds": T("配信予約を確認する間隔", "秒"),
    "bulk.batch_size": T("一度に送信待ちへ移す配信先の数", "件"),
    "bulk.max_recipients": T("1 回の一括配信の最大配信先数", "件"),
    "bulk.draft_days": T("作成途中の一括配信を残す日数", "日", "確定されないままこの日数が過ぎると削除します。"),
    "bulk.price_per_part": T("SMS 1 通の料金", "円", "一括配信の確認画面で概算費用の計算に使います（長文は分割した 1 通ごと）。"
                                              "契約の単価に合わせてください。0 のときは概算を出しません。"),
    # --- reports --------------------------------------------------------------------------------------------
    "ivr.speech_timeout": T("話し終わりを待つ時間", "秒", "音声で答えられるメニューで、話し終わったとみなすまでの無音の秒数です。auto は自動で判断します。"),
    "ivr.speech_confidence": T("音声の答えを受け付ける確からしさ", "", "音声認識の信頼度（0〜1）がこれより低い答えは入力ミスとして扱います。"),
    "reports.refresh_time": T("レポートの更新時刻", "", "営業日のこの時刻にレポートを更新します。"),
    "reports.lag_business_days": T("レポートに載るまでの営業日数", "営業日", "この営業日数後の更新で、その日の分が公開されます。"),
    "reports.long_holiday_days": T("連休とみなす日数", "日", "この日数以上続く休みを連休として扱います。"),
    "reports.long_holiday_holdback_days": T("連休の最終日の公開を遅らせる日数", "営業日"),
    "reports.retention_days": T("記録の保存期間", "日", "これより古い記録は毎日自動で削除され、復元できません。"),
    "reports.purge_time": T("古い記録を削除する時刻", ""),
    "reports.purge_batch": T("一度に削除する件数", "件"),
    "notify.smtp_host": T("メールサーバー（SMTP）", "", "通知メールを送るサーバーです。空欄ではメールの通知先に送れません。"),
    "notify.smtp_port": T("メールサーバーのポート", ""),
    "notify.smtp_starttls": T("メールを暗号化して送る（STARTTLS）", "", "", ON_OFF),
    "notify.smtp_user": T("メールサーバーのユーザー名", "", "空欄ではログインせずに送ります。"),
    "notify.smtp_password": T("メールサーバーのパスワード", "", "環境変数 IVR_NOTIFY__SMTP_PASSWORD で指定してください。"),
    "notify.mail_from": T("通知メールの差出人", ""),
    "notify.interval_seconds": T("通知の送信待ちを確認する間隔", "秒"),
    "notify.max_attempts": T("通知を送る最大回数", "回", "失敗した通知は間隔を空けてこの回数まで送り直します。"),
    "notify.pause_after_failures": T("通知先を停止するまでの連続失敗回数", "回",
                                     "この回数続けて失敗した通知先は停止し、再開するまで送りません。"),
    "notify.lease_seconds": T("通知 1 件の送信を待つ上限", "秒", "これを過ぎて結果が記録されない通知は「結果不明」になります。"),
    "notify.send_timeout_seconds": T("通知先の応答を待つ時間", "秒"),
}


def setting_label(key: str) -> str:
    """The setting in words, for messages that name it (「SMS チケット制」 rather than sms.tickets_enabled)."""
    text = SETTING_TEXTS.get(key)
    return text.label if text else key


def shown_value(key: str, value: Any) -> str:
    """A setting's value as the settings page shows it: coded values in words, numbers as staff read them."""
    text = SETTING_TEXTS.get(key) or SettingText(key)
    if value is None or value == "":
        return "（未設定）"
    coded = dict(text.choices).get(str(value))
    if coded is not None:
        return coded
    if text.is_phone:
        return phone.display(str(value))
    return f"{value} {text.unit}".strip()

"""Guard-rails of the confirm screen: a send at a bad hour, a text that does not say who sends it or how to
stop, and what the send will cost. Pure: no Flask, no database (the callers pass settings in)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sms.statuses import in_window

# Sending SMS to consumers late at night or early in the morning is what recipients complain about most.
LATE_NIGHT = (dt.time(21, 0), dt.time(8, 0))


def timing_warnings(when: dt.datetime, no_resend_window: tuple[dt.time, dt.time] | None) -> list[str]:
    """Why the moment of sending deserves a second look (none when it is an ordinary daytime hour)."""
    warnings = []
    if in_window(when, LATE_NIGHT):
        warnings.append(f"配信時刻 {when:%H:%M} は夜間・早朝（21:00〜8:00）です。受信者の迷惑にならない時刻か確認してください。")
    if no_resend_window and in_window(when, no_resend_window):
        start, end = no_resend_window
        warnings.append(f"配信時刻 {when:%H:%M} は再送しない時間帯（{start:%H:%M}〜{end:%H:%M}）です。"
                        "届かなかった SMS はシステム再送されず、そのまま配信失敗になります。")
    return warnings


def text_advice(texts: Sequence[str], company_name: str, optout_placeholder: str) -> list[str]:
    """Advice for a text that does not name the sender or offers no way to stop receiving."""
    advice = []
    name = (company_name or "").strip()
    if not name:
        advice.append("送信者が分かるよう、本文に会社名・店名を入れることをおすすめします"
                      "（設定の「会社名」を登録すると、入っていないときにお知らせします）。")
    elif not any(name in text for text in texts):
        advice.append(f"本文に会社名「{name}」がありません。誰からの SMS か分かるよう、会社名を入れることをおすすめします。")
    if not any(optout_placeholder in text for text in texts):
        advice.append(f"本文に配信停止 URL（{optout_placeholder}）がありません。受信者が配信を止められるよう、"
                      f"{optout_placeholder} を入れることをおすすめします。")
    return advice


def estimated_cost(parts: int, price_per_part: float) -> int | None:
    """The yen the parts cost at the configured price, rounded up; None when no price is set."""
    if price_per_part <= 0:
        return None
    return int(-(-parts * price_per_part // 1))

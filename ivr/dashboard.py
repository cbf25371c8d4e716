"""ivr's tile of the home page: voicemails nobody has dealt with yet, and how many came today and yesterday."""
from __future__ import annotations

import datetime as dt

from core.dashboard import (
    DashboardDay,
    TileBody,
    day_span,
    format_count,
    register_tile,
    single_line,
)
from ivr.models import Voicemail


def register(app) -> None:
    register_tile(app, "voicemails", "留守番電話", voicemail_tile, role="staff", order=30)


def unhandled_count() -> int:
    return Voicemail.select().where(Voicemail.handled_at.is_null()).count()


def received_count(day: dt.date) -> int:
    low, high = day_span(day)
    return Voicemail.select().where((Voicemail.at >= low) & (Voicemail.at < high)).count()


def voicemail_tile(day: DashboardDay) -> TileBody:
    return TileBody((
        single_line("未対応", format_count(unhandled_count()), key="voicemails-open",
                    endpoint="ivr.voicemails", args={"show": "open"}),
        single_line("今日の受信", format_count(received_count(day.today)), key="voicemails-today",
                    endpoint="ivr.voicemails", args={"show": "all"}),
        single_line("昨日の受信", format_count(received_count(day.yesterday)), key="voicemails-yesterday",
                    endpoint="ivr.voicemails", args={"show": "all"}),
    ))

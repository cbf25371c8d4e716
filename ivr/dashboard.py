"""ivr's tile of the home page: voicemails nobody has dealt with yet, and how many came today and yesterday."""
from __future__ import annotations

import datetime as dt

from core.dashboard import (
    DashboardDay,
    TileBody,
    daily_line,
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
    received = {d: received_count(d) for d in day.days}
    return TileBody((
        single_line("未対応", format_count(unhandled_count()), key="voicemails-open",
                    endpoint="ivr.voicemails", args={"show": "open"}),
        daily_line("受信", day, lambda d: format_count(received[d]), key="voicemails-received",
                   endpoint="ivr.voicemails", args_for=lambda d: {"show": "all"}),
    ), columns=day.columns)

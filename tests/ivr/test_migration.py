"""A database made before voicemails had their own table (0009) gets one row per voicemail its call events recorded."""
import datetime as dt

import pytest
from playhouse.migrations import Runner

from core.db import bind_database, database
from core.migrate import MIGRATIONS_DIR, upgrade_schema


@pytest.mark.sqlite_only
def test_voicemails_recorded_before_0009_are_listed_after_the_upgrade(tmp_path):
    from ivr.models import Call, CallEvent, Voicemail

    bind_database(f"sqlite:///{tmp_path}/before-0009.db")
    with database.connection_context():
        Runner(database.obj, directory=str(MIGRATIONS_DIR)).up(target="0008_reports_csv_line")
        assert "ivr_voicemail" not in database.get_tables()
        at = dt.datetime(2026, 2, 2, 21, 5)
        left = Call.create(call_sid="CA" + "1" * 32, to_number="+815000000000", started_at=at)
        silent = Call.create(call_sid="CA" + "2" * 32, to_number="+815000000000", started_at=at)
        url = "https://api.twilio.com/2010-04-01/Accounts/AC" + "1" * 32 + "/Recordings/RE" + "1" * 32
        CallEvent.insert_many([
            {"call": left, "at": at, "kind": "voicemail", "node_name": "夜間の留守電", "detail": f"録音 12 秒: {url}"},
            {"call": silent, "at": at, "kind": "voicemail", "node_name": "夜間の留守電", "detail": "録音なし"},
            {"call": silent, "at": at, "kind": "hangup", "detail": "通話終了（録音中に切断）"},
        ]).execute()
        assert "0009_ivr_voicemail" in upgrade_schema()
        [voicemail] = Voicemail.select()
        assert (voicemail.call_id, voicemail.url, voicemail.seconds, voicemail.node_name, voicemail.at,
                voicemail.handled_at) == (left.id, url, 12, "夜間の留守電", at, None)

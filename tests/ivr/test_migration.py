"""A database made before voicemails had their own table (0009) gets one row per voicemail its call events recorded."""
import datetime as dt

import pytest

from core.db import database
from core.migrate import upgrade_schema
from tests.support.migrations import schema_at


@pytest.mark.sqlite_only
def test_voicemails_recorded_before_0009_are_listed_after_the_upgrade(tmp_path):
    from ivr.models import Call, CallEvent, Voicemail

    with schema_at(f"sqlite:///{tmp_path}/before-0009.db", "0008_reports_csv_line"):
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


@pytest.mark.sqlite_only
def test_every_flow_becomes_its_version_1_at_the_upgrade_to_0015(tmp_path, app):
    from ivr.calls import spec_of
    from ivr.models import Call, Flow, FlowVersion, Node

    # 0014: the node columns the models insert (0013's max_mis_entries) exist, the versions do not yet
    with schema_at(f"sqlite:///{tmp_path}/before-0015.db", "0014_sms_carriers_and_billing"):
        assert "ivr_flow_version" not in database.get_tables()
        flow_id = Flow.insert(name="受付", number="+815000000001", entry_key="hello", updated_by="manager1").execute()
        Node.insert_many([
            {"flow": flow_id, "key": "hello", "name": "挨拶", "kind": "play", "position": 0, "guidance_id": 3,
             "exits": '{"next": "bye"}', "params": "{}"},
            {"flow": flow_id, "key": "bye", "name": "終話", "kind": "hangup", "position": 1, "timeout_seconds": 7,
             "params": '{"x": 1}'},
        ]).execute()
        Call.insert(call_sid="CA" + "3" * 32, flow=flow_id, to_number="+815000000001", step=2).execute()
        assert "0015_ivr_flow_versions" in upgrade_schema()
        flow = Flow.get_by_id(flow_id)
        [version] = FlowVersion.select()
        assert (version.number, version.flow_id, version.created_by, flow.version_id) == (1, flow_id, "manager1",
                                                                                         version.id)
        spec = version.spec()
        assert spec.entry == "hello" and list(spec.nodes) == ["hello", "bye"]
        assert (spec.nodes["hello"].guidance, dict(spec.nodes["hello"].exits)) == (3, {"next": "bye"})
        assert (spec.nodes["bye"].timeout, dict(spec.nodes["bye"].params)) == (7, {"x": 1})
        assert spec.nodes == flow.spec().nodes
        call = Call.get()
        assert call.flow_version_id is None  # a call from before versions runs the flow as it stands
        with app.app_context():
            assert spec_of(flow_id, None, flow.revision).nodes == spec.nodes

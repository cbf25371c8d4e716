"""R-50 end to end: calls made through the real, signed Twilio webhooks of the demo flow, then the 13:00
refresh, then the report, its CSV and the API: the counts are those of the call records the IVR wrote."""
import csv
import io

import pytest

from core.security import issue_api_token
from ivr.models import Call, CallEvent
from reports.jobs import refresh_reports
from sms.models import Message
from tests.ivr import conftest as ivr_fixtures
from tests.ivr.phone import Phone

DEMO_NUMBER = "+815000000000"
# The IVR tests' fixtures: the session's audio directory and the demo flow's guidance (Open JTalk audio made once).
app_config, shared_audio_dir = ivr_fixtures.app_config, ivr_fixtures.shared_audio_dir
demo_guidance = ivr_fixtures.demo_guidance


@pytest.fixture
def demo_calls(app, client, clock, demo_guidance):
    """Monday 2026-02-02: five calls to the demo flow (SMS, transfer, hours, two abandoned in the menu)."""
    import ivr
    import sms

    sms.seed_defaults(app)
    ivr.seed_defaults(app)
    clock.set("2026-02-02 10:00")
    phone = Phone(client)

    texted = phone.dial(DEMO_NUMBER, caller="+819012345678")
    texted.press("1")
    texted.hang_up(seconds=40)

    transferred = phone.dial(DEMO_NUMBER, caller="+819022223333")
    transferred.press("2")
    transferred.dial_ended("completed", seconds=120)
    transferred.hang_up(seconds=150)

    hours = phone.dial(DEMO_NUMBER, caller="+819033334444")
    hours.press("3")
    hours.hang_up(seconds=25)

    confused = phone.dial(DEMO_NUMBER, caller="+818055556666")
    confused.press("9")  # a digit the menu does not have
    confused.wait()      # then silence
    confused.hang_up(seconds=20)

    gone = phone.dial(DEMO_NUMBER, caller="+818077778888")
    gone.hang_up(seconds=5)  # hung up while the menu was playing
    clock.set("2026-02-04 13:00")  # Wednesday's refresh publishes Monday
    refresh_reports()


def test_published_report_counts_are_the_records_the_ivr_wrote(demo_calls, manager_client):
    calls = Call.select().where(Call.to_number == DEMO_NUMBER)
    assert calls.count() == 5
    outcomes = sorted(call.outcome for call in calls)
    assert outcomes == ["abandoned", "abandoned", "completed", "completed", "transferred"]

    html = manager_client.get("/reports/?from=2026-02-02&to=2026-02-02").get_data(as_text=True)
    assert 'data-counter="calls">5<' in html
    assert f'data-counter="abandoned">{calls.where(Call.outcome == "abandoned").count()}<' in html
    assert 'data-counter="transferred">1<' in html and 'data-counter="completed">2<' in html
    assert f'data-counter="sms_sent">{Message.select().where(Message.call_sid.is_null(False)).count()}<' in html

    rows = list(csv.reader(io.StringIO(
        manager_client.get("/reports/daily.csv?from=2026-02-02&to=2026-02-02").get_data().decode("utf-8-sig"),
        newline="")))
    header, line = rows[0], rows[1]
    assert len(rows) == 2 and line[:2] == ["2026-02-02", "050-0000-0000"]  # as pages show it; Excel keeps it as text
    by_name = dict(zip(header, line))
    assert (by_name["着信数"], by_name["途中放棄"], by_name["転送"], by_name["SMS送信"]) == ("5", "2", "1", "1")
    assert by_name["通話秒数"] == str(sum(call.duration_seconds for call in calls))


def test_abandoned_menu_and_digits_per_menu_match_the_events(demo_calls, client):
    token = issue_api_token("reports-e2e")[1]
    body = client.get("/api/v1/report?from=2026-02-02&to=2026-02-02",
                      headers={"Authorization": f"Bearer {token}"}).get_json()
    abandoned_in = [(call.abandoned_node_key, call.abandoned_node_name)
                    for call in Call.select().where(Call.outcome == "abandoned")]
    assert abandoned_in == [("main", "メインメニュー")] * 2
    assert body["abandoned_by_menu"] == [{"node_key": "main", "node_name": "メインメニュー", "count": 2}]

    menu_events = CallEvent.select().where(CallEvent.node_key == "main")
    pressed = {event.digits for event in menu_events.where(CallEvent.kind == "digit")}
    assert pressed == {"1", "2", "3"}
    choices = {menu["node_key"]: menu["choices"] for menu in body["choices_by_menu"]}
    assert set(choices) == {"main"}  # the SMS node's number entry is no menu choice
    assert choices["main"] == [
        {"label": "1", "count": 1}, {"label": "2", "count": 1}, {"label": "3", "count": 1},
        {"label": "入力ミス (9)", "count": menu_events.where(CallEvent.kind == "mis_entry").count()},
        {"label": "入力タイムアウト", "count": menu_events.where(CallEvent.kind == "timeout").count()},
    ]
    assert [choice["count"] for choice in choices["main"][3:]] == [1, 1]

"""The flow picture's figures add up: for a generated day of calls made through the signed webhooks of the demo
flow, the per-node counts on the picture equal the call records they come from, and the report, its CSV and the
API count the same outcomes (リトライ上限 apart from 完了)."""
from __future__ import annotations

import csv
import io
import json
import random
import re
from collections import Counter

import pytest

from core.security import issue_api_token
from ivr.models import Call, CallEvent, Flow
from reports.jobs import refresh_reports
from tests.ivr import conftest as ivr_fixtures
from tests.ivr.phone import Phone

DEMO_NUMBER = "+815000000000"
DAY = "2026-02-02"
app_config, shared_audio_dir = ivr_fixtures.app_config, ivr_fixtures.shared_audio_dir
demo_guidance = ivr_fixtures.demo_guidance

# What callers do before they hang up (or the flow ends the call); "no-answer" / "answered" end a transfer.
SCRIPTS = [
    ["1"], ["2", "answered"], ["2", "no-answer"], ["3"], [], ["9"], ["wait"], ["9", "wait", "1"],
    ["wait", "wait", "wait"], ["9", "8", "7"], ["wait", "wait", "9", "3"],
]


def act(call, action: str) -> None:
    if action == "wait":
        call.wait()
    elif action in ("no-answer", "answered"):
        call.dial_ended("completed" if action == "answered" else "no-answer", 60)
    else:
        call.press(action)


@pytest.fixture
def generated_day(app, client, clock, demo_guidance):
    """Monday 2026-02-02: 40 calls of the demo flow, each following a script, hanging up a random moment later."""
    import ivr
    import sms

    sms.seed_defaults(app)
    ivr.seed_defaults(app)
    chance = random.Random(13)
    phone = Phone(client)
    clock.set(f"{DAY} 09:00")
    for n in range(40):
        began = clock.now()
        call = phone.dial(DEMO_NUMBER, caller=f"+8190{n:08d}")
        for action in SCRIPTS[n % len(SCRIPTS)]:
            if call.hung_up:
                break
            clock.advance(seconds=chance.uniform(1, 12))
            act(call, action)
        clock.advance(seconds=chance.uniform(0.2, 14))
        call.hang_up(round((clock.now() - began).total_seconds()))
        clock.advance(minutes=5)
    return Flow.get(Flow.number == DEMO_NUMBER)


def figures_of(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="flow-figures-data">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


def records_per_node() -> dict[str, Counter]:
    """What the call records say, counted here in Python (the page counts in SQL)."""
    per_node: dict[str, Counter] = {}
    seen = set()
    for event in CallEvent.select().order_by(CallEvent.id):
        node = per_node.setdefault(event.node_key, Counter())
        if event.kind == "node" and (event.call_id, event.node_key) not in seen:
            seen.add((event.call_id, event.node_key))
            node["reached"] += 1
        elif event.kind == "timeout":
            node["timeouts"] += 1
        elif event.kind == "mis_entry":
            node["mis_entries"] += 1
        elif event.kind == "digit" and event.node_key == "main":
            node["digit " + event.digits] += 1
    for call in Call.select().where(Call.outcome == "abandoned"):
        per_node.setdefault(call.abandoned_node_key, Counter())["hangups"] += 1
    return per_node


def test_the_picture_counts_what_the_call_records_say(generated_day, manager_client):
    html = manager_client.get(f"/reports/flow?flow={generated_day.id}&from={DAY}&to={DAY}&mode=live")
    assert html.status_code == 200
    figures = figures_of(html.get_data(as_text=True))
    assert figures["calls"] == Call.select().count() == 40
    expected = records_per_node()
    for key, counts in expected.items():
        node = figures["nodes"][key]
        shown = Counter({"reached": node["reached"], "timeouts": node["timeouts"],
                         "mis_entries": node["mis_entries"], "hangups": node["hangups"],
                         **{"digit " + d["digit"]: d["count"] for d in node["digits"]}})
        assert +shown == +counts, key
        assert sum(place["count"] for place in node["places"]) == node["hangups"]
    assert sum(node["hangups"] for node in figures["nodes"].values()) == Call.select().where(
        Call.outcome == "abandoned").count() > 0
    worst = max(figures["nodes"].values(), key=lambda node: node["hangups"])
    assert worst["worst_rank"] == 1
    assert f'data-node="{worst["key"]}" class="fg-worst-row"' in html.get_data(as_text=True)


def test_report_csv_and_api_count_each_outcome_as_the_records_do(generated_day, manager_client, client, clock):
    outcomes = Counter(call.outcome for call in Call.select())
    assert outcomes["retry_limit"] >= 3 and outcomes["abandoned"] and outcomes["completed"]
    assert outcomes["transferred"]

    html = manager_client.get(f"/reports/?from={DAY}&to={DAY}&mode=live").get_data(as_text=True)
    for outcome, counter in (("completed", "completed"), ("abandoned", "abandoned"), ("retry_limit", "retry_limit"),
                             ("transferred", "transferred")):
        assert f'data-counter="{counter}">{outcomes[outcome]}<' in html, outcome
    assert "/reports/flow?" in html  # the report links to the picture

    lines = list(csv.reader(io.StringIO(manager_client.get(
        f"/reports/calls.csv?from={DAY}&to={DAY}&mode=live").get_data().decode("utf-8-sig"), newline="")))
    header = lines[0]
    by_label = Counter(dict(zip(header, line))["結果"] for line in lines[1:])
    assert by_label == Counter({{"completed": "完了", "abandoned": "途中放棄", "retry_limit": "リトライ上限",
                                  "transferred": "転送"}[o]: n for o, n in outcomes.items()})
    abandoned_rows = [dict(zip(header, line)) for line in lines[1:] if dict(zip(header, line))["結果"] == "途中放棄"]
    assert all(row["途中放棄時の再生内容"] for row in abandoned_rows)

    token = issue_api_token("figures")[1]
    body = client.get(f"/api/v1/calls?from={DAY}&to={DAY}&limit=100",
                      headers={"Authorization": f"Bearer {token}"}).get_json()
    assert Counter(call["outcome"] for call in body["calls"]) == outcomes
    for call in body["calls"]:
        record = Call.get(Call.call_sid == call["call_sid"])
        assert (call["abandoned_node_name"], call["abandoned_guidance_name"], call["abandoned_part"]) == (
            record.abandoned_node_name, record.abandoned_guidance_name, record.abandoned_part)

    clock.set("2026-02-04 13:00")  # Wednesday's refresh publishes Monday: the same figures, published
    refresh_reports()
    published = client.get(f"/api/v1/report?from={DAY}&to={DAY}", headers={"Authorization": f"Bearer {token}"})
    totals = published.get_json()["totals"]
    assert (totals["retry_limit"], totals["abandoned"], totals["completed"]) == (
        outcomes["retry_limit"], outcomes["abandoned"], outcomes["completed"])
    places = published.get_json()["abandoned_by_guidance"]
    assert sum(place["count"] for place in places) == outcomes["abandoned"]
    assert published.get_json()["recorded_before_change"] == []

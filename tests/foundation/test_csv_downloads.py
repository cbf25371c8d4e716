"""Every CSV download (R-53, R-65) through HTTP: texts Excel would run and numbers it would reshape come back,
read with the csv module, starting with a neutral character; UTF-8 with a BOM or Shift_JIS on request; one
charset; an RFC 5987 file name."""
from __future__ import annotations

import csv
import datetime as dt
import io
from urllib.parse import unquote

import pytest

from core.csvfile import FORMULA_STARTS, UTF8_BOM, neutral_text
from sms.models import Message
from tests.support.hostile import HOSTILE_TEXTS, build_world

CSV_ROUTES = {"sms.log_csv", "reports.daily_csv", "reports.calls_csv", "bulk.recipients_csv", "bulk.skipped_csv"}
ENCODINGS = {"utf8": ("utf-8", "utf-8-sig"), "sjis": ("Shift_JIS", "cp932")}


@pytest.fixture
def app_config(app_config, tmp_path):
    return {**app_config, "ivr.simulator_recordings_dir": str(tmp_path / "recordings")}


@pytest.fixture
def downloads(app, admin_client, clock):
    """A world with hostile texts everywhere a download reads from, its day published; path per CSV route."""
    from ivr.models import Call, CallEvent
    from reports.jobs import refresh_reports

    world = build_world(app, admin_client)
    started = dt.datetime(2026, 1, 5, 11, 0)
    for offset, text in enumerate(HOSTILE_TEXTS):  # menu names staff typed, and a caller Excel would reshape
        call = Call.create(call_sid=f"CA{offset:032d}", from_number="+819012345678" if offset % 2 else "09012345678",
                           to_number="+815000000000", started_at=started, ended_at=started + dt.timedelta(seconds=5),
                           duration_seconds=5, outcome="abandoned", last_node_key="m", last_node_name=text,
                           abandoned_node_key="m", abandoned_node_name=text)
        CallEvent.create(call=call, at=started, kind="node", node_key="m", node_name=text)
    clock.set("2026-01-07 14:00")  # Monday's calls are published on Wednesday at 13:00
    refresh_reports()
    send = world.path_args["send_id"]
    return {
        "sms.log_csv": "/sms/log.csv",
        "reports.daily_csv": "/reports/daily.csv?from=2026-01-05&to=2026-01-05",
        "reports.calls_csv": "/reports/calls.csv?from=2026-01-05&to=2026-01-07&mode=live",
        "bulk.recipients_csv": f"/bulk/{send}/recipients.csv",
        "bulk.skipped_csv": f"/bulk/{send}/skipped.csv",
    }


def download(client, path: str, encoding: str):
    joined = f"{path}{'&' if '?' in path else '?'}encoding={encoding}"
    response = client.get(joined)
    assert response.status_code == 200, (joined, response.get_data(as_text=True)[:500])
    charset, codec = ENCODINGS[encoding]
    assert response.headers["Content-Type"] == f"text/csv; charset={charset}"  # once, and the right one
    assert response.get_data().startswith(UTF8_BOM) == (encoding == "utf8")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=\"") and "filename*=UTF-8''" in disposition
    assert unquote(disposition.split("filename*=UTF-8''")[1]).endswith(".csv")
    return list(csv.reader(io.StringIO(response.get_data().decode(codec), newline="")))


def test_every_csv_route_is_checked_here(app):
    assert {rule.endpoint for rule in app.url_map.iter_rules() if rule.rule.endswith(".csv")} == CSV_ROUTES


@pytest.mark.parametrize("encoding", ["utf8", "sjis"])
def test_no_cell_of_any_download_starts_like_a_formula(downloads, admin_client, encoding):
    written = {}
    for endpoint, path in downloads.items():
        rows = download(admin_client, path, encoding)
        assert len(rows) > 1, endpoint
        cells = [cell for row in rows for cell in row]
        starting = [cell for cell in cells if cell and cell[0] in FORMULA_STARTS]
        assert starting == [], (endpoint, starting)
        written[endpoint] = set(cells)
    bodies = [m.body for m in Message.select(Message.body).where(Message.source == "api")]
    assert len(bodies) >= len(HOSTILE_TEXTS) - 1  # the tab one is refused by the SMS character rules
    if encoding == "utf8":  # (Shift_JIS writes some as their look-alikes)
        assert {neutral_text(body) for body in bodies} <= written["sms.log_csv"]
    assert {"'=1+2", "'＋cmd"} <= written["bulk.skipped_csv"]  # pasted recipients that were not numbers
    assert {"'" + text for text in HOSTILE_TEXTS} <= written["reports.calls_csv"]
    assert "050-0000-0000" in written["reports.daily_csv"]  # as pages show it, which Excel keeps as text


def test_caller_numbers_stay_text_in_the_call_detail(downloads, admin_client):
    rows = download(admin_client, downloads["reports.calls_csv"], "sjis")
    callers = [row[rows[0].index("発信者番号")] for row in rows[1:]]
    # As every page shows them: no 8.19E+11, no lost leading zero (E.164 and bare digits are gone)
    assert "090-1234-5678" in callers
    assert not [caller for caller in callers if caller.isdigit() or caller.startswith("+")]
    assert {row[rows[0].index("着信番号")] for row in rows[1:]} == {"050-0000-0000"}


def test_the_message_text_is_kept_whole_after_the_apostrophe(downloads, admin_client):
    rows = download(admin_client, downloads["sms.log_csv"], "utf8")
    bodies = {row[rows[0].index("本文")] for row in rows[1:]}
    assert {"'=1+2", "'+cmd", "'-1", "'@SUM(A1)", "'＝1＋2", "'＠SUM(A1)"} <= bodies


def test_the_pages_offer_both_encodings_for_their_download(downloads, admin_client):
    pages = {"/sms/log": "sms/log.csv", "/reports/": "reports/daily.csv", "/reports/calls": "reports/calls.csv",
             f"/bulk/{downloads['bulk.recipients_csv'].split('/')[2]}": "recipients.csv",
             f"/bulk/{downloads['bulk.skipped_csv'].split('/')[2]}/skipped": "skipped.csv"}
    for page, target in pages.items():
        html = admin_client.get(page).get_data(as_text=True)
        form = html[html.index(target) - 200:]
        assert 'name="encoding"' in form and 'value="utf8"' in form and 'value="sjis"' in form, page

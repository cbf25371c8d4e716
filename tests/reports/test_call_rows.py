"""The call-detail CSV rows made by the database hold to the Python originals the pages use:
paths as summary.path_steps writes them for the page; every line, stored (published days) or written now (newer
calls), is core.csvfile's guarded line of the row."""
import csv
import datetime as dt
import io

import pytest

from core import phone
from core.csvfile import FORMULA_STARTS, cells, neutral_text
from ivr.models import Call
from reports.call_rows import PATH_COLUMN, iter_csv_rows, store_paths
from reports.models import CallPath
from reports.queries import CallFilter
from reports.summary import OUTCOME_LABELS, PATH_SEPARATOR, path_steps

DAY = dt.date(2026, 2, 2)
WHOLE_DAY = (dt.datetime(2026, 2, 2), dt.datetime(2026, 2, 3))

EVENTS = [
    ("node", "main", "受付メニュー", ""),
    ("digit", "main", "受付メニュー", "3"),
    ("digit", "main", "受付メニュー", ""),
    ("node", "num", "", ""),
    ("node", "", "", ""),
    ("mis_entry", "num", "携帯番号入力", "0312"),
    ("mis_entry", "num", "携帯番号入力", ""),
    ("timeout", "num", "携帯番号入力", ""),
    ("sms", "num", "携帯番号入力", ""),
    ("transfer", "op", "転送", ""),
    ("voicemail", "vm", "留守電", ""),
    ("error", "", "", ""),
    ("someday_new_kind", "", "", ""),
    ("hangup", "", "", ""),
]


def csv_rows():
    return list(iter_csv_rows(CallFilter(DAY, DAY)))


def path_events(events):
    return [(kind, key, name, digits, "") for kind, key, name, digits in events]


def test_every_kind_of_event_reads_as_the_page_writes_it(make_call):
    call = make_call("2026-02-02 10:00", events=EVENTS)
    expected = PATH_SEPARATOR.join(path_steps(path_events(EVENTS)))
    assert expected.startswith("受付メニュー → [3] → [空] → num → ? → 入力ミス[0312] → 入力ミス → タイムアウト → SMS送信")
    built = csv_rows()
    assert built[0][PATH_COLUMN] == expected
    assert store_paths(*WHOLE_DAY) == 1
    assert CallPath.get(CallPath.call == call.id).path == expected
    assert csv_rows() == built  # stored or built from the events: the same row


def test_events_in_time_order_and_calls_without_events(make_call):
    from ivr.models import CallEvent

    call = make_call("2026-02-02 10:00")
    CallEvent.create(call=call, at=dt.datetime(2026, 2, 2, 10, 0, 9), kind="hangup")
    CallEvent.create(call=call, at=dt.datetime(2026, 2, 2, 10, 0, 1), kind="node", node_key="main", node_name="受付")
    make_call("2026-02-02 11:00")
    assert [row[PATH_COLUMN] for row in csv_rows()] == ["受付 → 切断", ""]
    store_paths(*WHOLE_DAY)
    assert [row[PATH_COLUMN] for row in csv_rows()] == ["受付 → 切断", ""]


@pytest.mark.parametrize("name", ["受付", "=HYPERLINK(\"x\")", "+SUM(A1)", "-メニュー", "@a", "\tタブ", "\r改行",
                                  "＝1+2", "+81312345678", "-12.5", "+", "+1a", "09012345678", ""])
def test_menu_names_and_numbers_are_guarded_in_written_and_stored_lines(make_call, name):
    caller = name if name.startswith(("+", "0")) else "+819012345678"
    make_call("2026-02-02 10:00", outcome="abandoned", abandoned_in=("main", name), caller=caller,
              events=[("node", "main", name, "")])
    for stored in (False, True):
        if stored:
            store_paths(*WHOLE_DAY)
        row = next(csv.reader(io.StringIO(all_lines()[0] + "\r\n", newline="")))
        assert (row[6], row[7]) == (neutral_text(name), neutral_text(name))
        assert row[PATH_COLUMN] == neutral_text(name or "main")
        assert (row[2], row[3]) == (neutral_text(phone.display(caller)), "050-0000-0000")
        assert row[2][:1] not in FORMULA_STARTS


def test_values_of_every_column(make_call):
    make_call("2026-02-02 10:00:00.250000", outcome=None, seconds=61, caller="", events=[])
    for outcome in ("completed", "abandoned", "transferred", "voicemail", "error"):
        make_call("2026-02-02 12:00", outcome=outcome)
    Call.update(ended_at=None, duration_seconds=None).where(Call.outcome.is_null()).execute()
    rows = csv_rows()
    assert rows[0][:6] == ["2026-02-02 10:00:00", None, "", "050-0000-0000", None, "通話中"]
    assert [row[5] for row in rows[1:]] == [OUTCOME_LABELS[o] for o in
                                            ("completed", "abandoned", "transferred", "voicemail", "error")]
    assert rows[1][1] == "2026-02-02 12:00:30" and rows[1][4] == 30


def test_unfinished_calls_are_not_stored(make_call):
    live = make_call("2026-02-02 10:00", outcome=None, events=[("node", "main", "受付", "")])
    Call.update(ended_at=None).where(Call.id == live.id).execute()
    make_call("2026-02-02 11:00", events=[("node", "main", "受付", "")])
    assert store_paths(*WHOLE_DAY) == 1
    assert [row[PATH_COLUMN] for row in csv_rows()] == ["受付", "受付"]


def csv_text(rows) -> list[str]:
    """What csv.writer itself writes for each guarded row (the export must be byte-for-byte the same)."""
    lines = []
    for row in rows:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerow(cells(row))
        lines.append(buffer.getvalue()[:-2])
    return lines


def all_lines(start=DAY, end=DAY, chunk=None):
    from reports.call_rows import iter_csv_lines

    return [line for batch in iter_csv_lines(CallFilter(start, end), chunk=chunk) for line in batch]


def test_stored_lines_are_what_csv_writer_writes_for_the_row(make_call):
    tricky = "お問い合わせ, \"至急\"\n2行目"
    make_call("2026-02-02 10:00", outcome="abandoned", abandoned_in=("main", tricky),
              events=[("node", "main", tricky, ""), ("digit", "main", tricky, "1")])
    make_call("2026-02-02 11:00", events=[("node", "main", "=受付", "")])
    expected = csv_text(csv_rows())
    assert all_lines() == expected  # built now from the rows
    store_paths(*WHOLE_DAY)
    assert [p.csv_line for p in CallPath.select().order_by(CallPath.call)] == expected
    assert all_lines() == expected  # read back as stored


def test_published_and_newer_calls_mix_in_time_order_across_chunks(make_call):
    for day in (2, 3):
        for hour in range(9, 16):
            make_call(f"2026-02-0{day} {hour:02d}:00", events=[("node", "main", f"受付{day}-{hour}", "")])
    store_paths(*WHOLE_DAY)  # 2 February published, 3 February not yet
    unfinished = make_call("2026-02-03 16:00", outcome=None)
    Call.update(ended_at=None).where(Call.id == unfinished.id).execute()
    store_paths(dt.datetime(2026, 2, 3), dt.datetime(2026, 2, 3, 12))  # part of the 3rd, the rest not
    rows = list(iter_csv_rows(CallFilter(DAY, dt.date(2026, 2, 3))))
    assert len(rows) == 15
    assert all_lines(DAY, dt.date(2026, 2, 3), chunk=4) == csv_text(rows)
    assert CallPath.select().where(CallPath.csv_line.is_null()).count() == 0

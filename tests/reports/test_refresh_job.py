"""R-51 on the clock: the 13:00 job publishes what the rule allows; before 13:00 the previous state stands;
a refresh missed while the process was down runs at start-up; the page says what is shown."""
import datetime as dt

import pytest

from core.models import CompanyHoliday
from core.scheduler import JobRegistry, SchedulerService
from reports import register_jobs
from reports.jobs import PURGE_JOB, REFRESH_JOB, latest_refresh, refresh_reports
from reports.models import DailyStat, ReportRefresh

D = dt.date.fromisoformat


def published_days() -> list[str]:
    return sorted({row.day.isoformat() for row in DailyStat.select()})


def calls_each_day(make_call, first: str, last: str) -> None:
    day = D(first)
    while day <= D(last):
        make_call(dt.datetime.combine(day, dt.time(10, 0)))
        day += dt.timedelta(days=1)


def test_normal_week_before_and_after_13(clock, make_call):
    calls_each_day(make_call, "2026-01-26", "2026-02-06")
    clock.set("2026-02-04 12:59:59")  # Wednesday morning: Tuesday's refresh (through Sunday) stands
    refresh_reports()
    assert latest_refresh().cutoff == D("2026-02-01")
    assert "2026-02-02" not in published_days()
    clock.set("2026-02-04 13:00")
    refresh_reports()
    assert latest_refresh().cutoff == D("2026-02-02")  # Monday's data on Wednesday
    assert published_days()[-1] == "2026-02-02"
    clock.set("2026-02-09 13:00")
    refresh_reports()
    assert latest_refresh().cutoff == D("2026-02-05")  # Thursday's on Monday
    clock.set("2026-02-10 13:00")
    refresh_reports()
    assert latest_refresh().cutoff == D("2026-02-08")  # Friday's and the weekend's on Tuesday
    assert published_days()[-1] == "2026-02-06"  # no calls at the weekend: nothing to store, but covered


def test_seed_004_example_through_the_job(clock, make_call):
    calls_each_day(make_call, "2021-07-19", "2021-07-28")
    clock.set("2021-07-27 13:00")
    refresh_reports()
    assert latest_refresh().cutoff == D("2021-07-24")
    assert "2021-07-24" in published_days() and "2021-07-25" not in published_days()
    clock.set("2021-07-28 13:00")
    refresh_reports()
    assert "2021-07-25" in published_days()


def test_three_day_weekend_with_a_company_holiday(clock, make_call):
    # Friday 2026-03-06 is a company holiday: Fri..Sun is three days off, Sunday waits one more business day.
    CompanyHoliday.create(day=D("2026-03-06"), name="創立記念日")
    calls_each_day(make_call, "2026-03-02", "2026-03-11")
    clock.set("2026-03-10 13:00")  # Tuesday: Thursday (-> Mon, Tue), Friday and Saturday shown; Sunday held back
    refresh_reports()
    assert latest_refresh().cutoff == D("2026-03-07")
    clock.set("2026-03-11 13:00")
    refresh_reports()
    assert latest_refresh().cutoff == D("2026-03-09")
    assert published_days()[-3:] == ["2026-03-07", "2026-03-08", "2026-03-09"]


def test_the_13_00_run_on_a_day_off_publishes_nothing(clock, make_call):
    # The job fires every day at 13:00; only business days' runs publish (the weekend, 建国記念の日 2026-02-11).
    calls_each_day(make_call, "2026-02-02", "2026-02-12")
    clock.set("2026-02-06 13:00")
    refresh_reports()
    for day_off in ("2026-02-07 13:00", "2026-02-08 13:00"):
        clock.set(day_off)
        assert refresh_reports() == "up to date through 2026-02-04"
    clock.set("2026-02-10 13:00")
    refresh_reports()
    clock.set("2026-02-11 13:00")
    assert refresh_reports() == "up to date through 2026-02-08"
    assert [r.cutoff for r in ReportRefresh.select().order_by(ReportRefresh.id)] == [D("2026-02-04"), D("2026-02-08")]
    clock.set("2026-02-12 13:00")  # Monday the 9th: Tuesday (1), then Thursday (2) over the holiday
    refresh_reports()
    assert latest_refresh().cutoff == D("2026-02-09")
    assert published_days()[-1] == "2026-02-09"


def test_refresh_is_idempotent_and_never_goes_back(clock, make_call):
    calls_each_day(make_call, "2026-02-02", "2026-02-03")
    clock.set("2026-02-05 13:00")
    refresh_reports()
    refresh_reports()
    assert ReportRefresh.select().count() == 1
    assert DailyStat.select().count() == 2
    clock.set("2026-02-05 09:00")  # a clock set back does not unpublish anything
    assert refresh_reports().startswith("up to date")
    assert latest_refresh().cutoff == D("2026-02-03")


def test_a_refresh_missed_while_down_runs_at_start_up(app, clock, make_call):
    calls_each_day(make_call, "2026-02-02", "2026-02-06")
    clock.set("2026-02-04 13:00")
    refresh_reports()
    # The process was down from Wednesday evening until Friday 09:00: Thursday's 13:00 run never happened.
    clock.set("2026-02-06 09:00")
    registry = JobRegistry()
    register_jobs(registry, app)
    assert {REFRESH_JOB, PURGE_JOB} <= set(registry.jobs)
    job = registry.jobs[REFRESH_JOB]
    assert job.run_at_start and str(job.trigger.fields[5]) == "13" and str(job.trigger.fields[6]) == "0"
    service = SchedulerService(app, registry, holder="restarted")
    assert service.heartbeat() is True  # takes the lease and runs the catch-up jobs
    assert latest_refresh().cutoff == D("2026-02-03")  # what Thursday's refresh would have shown
    assert latest_refresh().scheduled_at == dt.datetime(2026, 2, 5, 13, 0)
    assert latest_refresh().run_at == dt.datetime(2026, 2, 6, 9, 0)


@pytest.fixture
def refreshed(clock, make_call):
    calls_each_day(make_call, "2026-02-02", "2026-02-05")
    clock.set("2026-02-05 13:05")
    refresh_reports()
    return clock


def test_page_shows_last_refresh_and_the_day_it_covers(refreshed, manager_client):
    html = manager_client.get("/reports/").get_data(as_text=True)
    assert "最終更新: <strong>2026-02-05 13:05</strong>" in html
    assert "<strong>2026-02-03</strong> 分までを反映" in html
    assert "次回更新: 2026-02-06 13:00" in html
    assert 'name="to" value="2026-02-03"' in html  # the default range ends at the published day
    asked_further = manager_client.get("/reports/?from=2026-02-01&to=2026-02-05").get_data(as_text=True)
    assert "2026-02-04 以降は未公開" in asked_further


def test_published_view_shows_published_days_and_managers_may_look_live_labelled_sokuho(refreshed, manager_client,
                                                                                       admin_client):
    asked = "/reports/?from=2026-02-02&to=2026-02-05"
    published = manager_client.get(asked).get_data(as_text=True)
    assert 'data-counter="calls">2<' in published  # Mon and Tue
    assert 'id="live-label"' not in published
    for client in (manager_client, admin_client):
        live = client.get(asked + "&mode=live").get_data(as_text=True)
        assert 'data-counter="calls">4<' in live
        assert '<p class="badge warn" id="live-label">速報</p>' in live
        assert '<option value="live" selected>' in live


def test_days_already_shown_take_in_later_receipts_and_clicks_at_the_next_refresh(clock, make_call, make_message):
    from sms.links import create_short_link, follow
    from sms.receipts import apply_status

    clock.set("2026-01-30 10:00")  # Friday: a day nothing will change on
    make_message("2026-01-30 10:00")
    clock.set("2026-02-02 10:00")  # Monday
    call = make_call("2026-02-02 10:00")
    clicked = make_message("2026-02-02 10:01", call=call)
    pending = make_message("2026-02-02 10:02", call=call, state="sent")
    link = create_short_link(clicked, "https://example.jp/guide")
    clock.set("2026-02-04 13:00")
    refresh_reports()
    monday = DailyStat.get(DailyStat.day == D("2026-02-02"))
    assert (monday.sms_sent, monday.sms_delivered, monday.sms_clicked) == (2, 1, 0)
    friday_row = DailyStat.get(DailyStat.day == D("2026-01-30")).id

    clock.set("2026-02-04 18:00")  # after Monday was published: the carrier's receipt, then a click
    assert apply_status(pending, "delivered", None)
    assert follow(link.code) == "https://example.jp/guide"
    clock.set("2026-02-05 12:59")
    refresh_reports()  # before 13:00 the previous state stands
    assert DailyStat.get(DailyStat.day == D("2026-02-02")).sms_clicked == 0
    clock.set("2026-02-05 13:00")
    assert refresh_reports() == "published 2026-02-03..2026-02-03 (again: 2026-02-02)"
    monday = DailyStat.get(DailyStat.day == D("2026-02-02"))
    assert (monday.sms_sent, monday.sms_delivered, monday.sms_clicked, monday.calls) == (2, 2, 1, 1)
    assert DailyStat.get(DailyStat.day == D("2026-01-30")).id == friday_row  # unchanged days stay as they were
    clock.set("2026-02-05 15:00")
    assert refresh_reports() == "up to date through 2026-02-03"

"""Published report aggregates (what the 13:00 refresh made visible) and the refresh history."""
from __future__ import annotations

from peewee import AutoField, CharField, DateField, DateTimeField, ForeignKeyField, IntegerField, TextField

from core import clock
from core.db import BaseModel
from ivr.public import Call

# The dialled-number bucket of SMS that did not come from a call (API, bulk sends, the UI).
NO_CALL = ""


class DailyStat(BaseModel):
    """One day and one dialled number: call outcomes and the SMS of that day."""

    id = AutoField()
    day = DateField()
    dialled = CharField(max_length=32, default=NO_CALL)
    calls = IntegerField(default=0)
    completed = IntegerField(default=0)
    abandoned = IntegerField(default=0)
    retry_limit = IntegerField(default=0)  # リトライ上限 (migration 0013; 0 on days published before)
    transferred = IntegerField(default=0)
    voicemail = IntegerField(default=0)
    errors = IntegerField(default=0)
    duration_seconds = IntegerField(default=0)
    sms_sent = IntegerField(default=0)
    sms_delivered = IntegerField(default=0)
    sms_failed = IntegerField(default=0)
    sms_other = IntegerField(default=0)
    sms_clicked = IntegerField(default=0)
    # Calls recorded before migration 0013 (where callers hung up was known by menu only, not by guidance).
    legacy_calls = IntegerField(default=0)

    class Meta:
        indexes = ((("day", "dialled"), True),)


class DailyAbandon(BaseModel):
    """Abandoned calls (途中放棄) of a day and number, by the node and the guidance playing when the caller left."""

    id = AutoField()
    day = DateField()
    dialled = CharField(max_length=32)
    node_key = CharField(max_length=64, default="")
    node_name = CharField(max_length=200, default="")
    count = IntegerField(default=0)
    part = CharField(max_length=16, default="")            # ivr's part labels: greeting, menu_prompt, …
    guidance_name = CharField(max_length=200, default="")

    class Meta:
        indexes = ((("day", "dialled"), False),)


class DailyChoice(BaseModel):
    """What callers did in a menu on a day for a number: each digit pressed, wrong entries, time-outs."""

    id = AutoField()
    day = DateField()
    dialled = CharField(max_length=32)
    node_key = CharField(max_length=64, default="")
    node_name = CharField(max_length=200, default="")
    kind = CharField(max_length=16, default="digit")  # digit, mis_entry, timeout (CallEvent kinds)
    digits = CharField(max_length=32, default="")
    count = IntegerField(default=0)

    class Meta:
        indexes = ((("day", "dialled"), False),)


class DailyHour(BaseModel):
    """Calls of a day and number by the hour they started (0–23), for the hour-of-day chart."""

    id = AutoField()
    day = DateField()
    dialled = CharField(max_length=32)
    hour = IntegerField()
    calls = IntegerField(default=0)
    abandoned = IntegerField(default=0)

    class Meta:
        indexes = ((("day", "dialled"), False),)


class ReportRefresh(BaseModel):
    """One refresh that published days: when it ran, which scheduled slot it served, through which day."""

    id = AutoField()
    run_at = DateTimeField(default=clock.now)
    scheduled_at = DateTimeField()
    cutoff = DateField()
    published_from = DateField(null=True)
    days_published = IntegerField(default=0)


class CallPath(BaseModel):
    """A finished call's path as the call-detail CSV writes it, stored when the call's day is published.

    Reading one short text per call (the finished CSV line) is what lets a million-row export keep up
    with csv.writer; calls not published yet have no row and get their path from their events at export time. It goes with
    its call (ON DELETE CASCADE, and reports.retention).
    """

    call = ForeignKeyField(Call, primary_key=True, backref="report_path", on_delete="CASCADE")
    path = TextField(default="")
    # The call's call-detail CSV line as csv.writer writes it (no line end); migration 0008.
    csv_line = TextField(null=True)


class LiveSnapshot(BaseModel):
    """The live view's figures of the days after a refresh's cutoff, as counted at `taken_at` (reports.live); the
    latest row is the one used, older ones are deleted when a new one is stored."""

    id = AutoField()
    taken_at = DateTimeField()
    cutoff = DateField()              # the refresh's cutoff: the figures are of the days after it
    last_call_id = IntegerField()     # the calls counted: ids up to this one, except those in `going`
    going = TextField(default="[]")   # JSON: ids of the calls still going at `taken_at` (not counted)
    last_message_id = IntegerField()  # the SMS counted: every message up to this id as it was at `changed_since`
    changed_since = DateTimeField()   # SMS changed from then on are counted again
    menus = CharField(max_length=64)  # the flows' PB menus then (their digits count as choices): a digest
    figures = TextField(default="{}")  # JSON of reports.summary.Aggregates (day, dialled number, counts)


AGGREGATE_MODELS = [DailyStat, DailyAbandon, DailyChoice, DailyHour]

"""Running bulk sends: tickets at the scheduled time (R-45), missed schedules, resuming without doubles (R-47)."""
from __future__ import annotations

from core.scheduler import JobRegistry, SchedulerService
from sms import links, tickets
from sms.bulk import outbox_fill, runner, sends
from sms.bulk.history import progress_of
from sms.bulk.models import BulkRecipient, BulkSend
from sms.models import Message, TicketEntry
from tests.bulk.conftest import e164, numbers, outbox_counts


def slot_states(send_id):
    rows = BulkRecipient.select().where(BulkRecipient.bulk_send == send_id).order_by(BulkRecipient.position)
    return [(row.state1, row.state2) for row in rows]


def test_seed_example_at_the_scheduled_time_fifteen_tickets_for_ten_recipients_two_messages(tickets_on, clock,
                                                                                              make_send):
    tickets.add(20, reason="購入", actor="admin1")
    people = numbers(10)
    send = make_send(people, ["1通目のお知らせ", "2通目のお知らせ"], scheduled="2026-01-05T11:00")
    assert send.status == "scheduled" and send.slot_count == 20
    tickets.consume(5, reason="IVR からの SMS")  # other sends used tickets before the scheduled time
    assert tickets.balance() == 15

    clock.set("2026-01-05 11:00")
    result = runner.poll()

    assert result.started == 1 and result.completed == 1
    assert slot_states(send.id) == [("queued", "queued")] * 7 + [("queued", "no_ticket")] + [("no_ticket", "no_ticket")] * 2
    sent = outbox_counts(send.id)
    assert sum(sent.values()) == 15
    for person in people[:7]:
        assert sent[(e164(person), "1通目のお知らせ")] == 1 and sent[(e164(person), "2通目のお知らせ")] == 1
    assert sent[(e164(people[7]), "1通目のお知らせ")] == 1 and (e164(people[7]), "2通目のお知らせ") not in sent
    assert not any(to in (e164(people[8]), e164(people[9])) for to, _ in sent)
    assert tickets.balance() == 0
    entry = TicketEntry.select().where(TicketEntry.bulk_send_id == send.id).get()
    assert entry.delta == -15 and f"#{send.id}" in entry.reason and entry.actor == "tester"
    progress = progress_of(send.id)
    assert (progress.total, progress.failed, progress.remaining) == (20, 5, 15)
    assert BulkSend.get_by_id(send.id).tickets_used == 15


def test_tickets_off_sends_everything_and_takes_none(app, clock, make_send):
    send = make_send(numbers(3), ["a", "b"])
    runner.poll()
    assert slot_states(send.id) == [("queued", "queued")] * 3
    assert tickets.balance() == 0 and not TicketEntry.select().exists()


def test_scheduled_send_missed_while_down_goes_out_at_start_up(app, clock, make_send):
    send = make_send(numbers(4), ["定期メンテナンスのお知らせ"], scheduled="2026-01-05T11:00")
    clock.set("2026-01-05 10:59")
    assert runner.poll().started == 0  # not yet due
    # The process was down from 10:59 to 15:30; nothing polled at 11:00.
    clock.set("2026-01-05 15:30")
    registry = JobRegistry()
    import sms.bulk

    sms.bulk.register_jobs(registry, app)
    assert registry.jobs["bulk-sends"].run_at_start
    service = SchedulerService(app, registry, holder="restarted")
    assert service.heartbeat()  # without a running APScheduler, the start-up jobs run at once

    send = BulkSend.get_by_id(send.id)
    assert send.status == "completed" and send.started_at.strftime("%H:%M") == "15:30"
    assert sorted(m.to_number for m in Message.select().where(Message.bulk_send_id == send.id)) == \
        sorted(e164(n) for n in numbers(4))


def test_a_crash_mid_batch_resumes_without_a_second_outbox_row(app, clock, make_send, monkeypatch):
    app.config["SETTINGS"] = app.config["SETTINGS"].replace(**{"bulk.batch_size": 3})
    people = numbers(8)
    send = make_send(people, ["一通目", "二通目"])
    assert runner.start(send.id)
    assert runner.dispatch_batch(send.id) == 3  # first batch committed

    def dying_settle(*args, **kwargs):  # the process dies after the batch's outbox rows, before its slots
        raise SystemExit("killed")

    monkeypatch.setattr(outbox_fill, "settle", dying_settle)
    try:
        runner.dispatch_batch(send.id)
    except SystemExit:
        pass
    monkeypatch.undo()
    assert Message.select().where(Message.bulk_send_id == send.id).count() == 6  # the second batch rolled back

    assert runner.start(send.id) is False  # a restart does not start (or pay for) it again
    runner.poll()
    counts = outbox_counts(send.id)
    assert len(counts) == 16 and set(counts.values()) == {1}
    assert BulkSend.get_by_id(send.id).status == "completed"


def test_a_repeated_slot_finds_its_outbox_row_by_key(app, clock, make_send):
    send = make_send(numbers(2), ["本文"])
    runner.start(send.id)
    runner.dispatch_batch(send.id)
    row = BulkRecipient.select().where(BulkRecipient.bulk_send == send.id).first()
    first_id = row.message1_id
    # As if the slot's update were lost: the slot is pending again, its outbox row stays.
    BulkRecipient.update(state1="pending", message1_id=None, settled=False).where(BulkRecipient.id == row.id).execute()
    BulkSend.update(status="running").where(BulkSend.id == send.id).execute()
    runner.poll()
    assert BulkRecipient.get_by_id(row.id).message1_id == first_id
    assert Message.select().where(Message.bulk_send_id == send.id).count() == 2


def test_number_opted_out_after_confirming_is_not_sent_and_its_ticket_returns(tickets_on, clock, make_send):
    tickets.add(3, reason="購入", actor="admin1")
    people = numbers(3)
    send = make_send(people, ["本文"])
    links.opt_out(e164(people[1]))
    runner.poll()
    assert slot_states(send.id) == [("queued", "none"), ("opted_out", "none"), ("queued", "none")]
    refused = Message.get((Message.bulk_send_id == send.id) & (Message.to_number == e164(people[1])))
    assert refused.state == "failed" and refused.error_message == "配信停止済み"
    send = BulkSend.get_by_id(send.id)
    assert (send.tickets_used, send.tickets_returned) == (3, 1)
    assert tickets.balance() == 1
    assert "返却" in tickets.entries().first().reason


def test_cancelled_and_draft_sends_never_start(app, clock, make_send):
    scheduled = make_send(numbers(2), ["本文"], scheduled="2026-01-05T11:00")
    sends.cancel(scheduled.id, "tester")
    found = sends.build_recipients([])
    assert found.recipients == []
    clock.set("2026-01-05 12:00")
    assert runner.poll().started == 0
    assert not Message.select().where(Message.bulk_send_id == scheduled.id).exists()


def test_a_batch_gives_each_message_its_own_links_and_refuses_opted_out_numbers(app, clock):
    from sms.bulk.recipients import parse_pasted
    from sms.models import ShortLink, StorageBox

    StorageBox.create(number=7, name="案内", body="", url="https://example.jp/sale")
    people = numbers(3)
    links.opt_out(e164(people[1]))
    draft = sends.create_draft(sends.build_recipients(parse_pasted("\n".join(people))), source="paste", actor="t")
    links.opt_out(e164(people[2]))  # opted out after the draft was made: refused when it is queued
    form, errors = sends.read_message_form(["詳細 {url} 停止 {optout_url}"], ["7"], schedule=False)
    assert errors == []
    send = sends.confirm(draft.id, form, "t")
    runner.poll()
    rows = {r.to_number: r for r in BulkRecipient.select().where(BulkRecipient.bulk_send == send.id)}
    assert set(rows) == {e164(people[0]), e164(people[2])}
    sent, refused = Message.get_by_id(rows[e164(people[0])].message1_id), Message.get_by_id(rows[e164(people[2])].message1_id)
    link = ShortLink.get(ShortLink.message == sent.id)
    assert sent.body == f"詳細 {links.short_url(link.code)} 停止 {links.optout_url(sent.optout_token)}"
    assert (link.target_url, sent.state, sent.source, sent.idempotency_key) == (
        "https://example.jp/sale", "queued", "bulk", f"bulk:{send.id}:{rows[e164(people[0])].id}:1")
    assert sent.parts == (1 if len(sent.body) <= 70 else -(-len(sent.body) // 67))
    assert rows[e164(people[2])].state1 == "opted_out" and refused.state == "failed"
    assert refused.error_message == "配信停止済み" and refused.due_at is None


def test_a_box_url_with_no_placeholder_in_the_text_arrives_on_its_own_line(app, clock):
    """R-25: staff who fill the URL field and write no {url} still send the link (bulk as every sender)."""
    from sms.bulk.compose import as_sent
    from sms.bulk.recipients import parse_pasted
    from sms.models import ShortLink, StorageBox

    StorageBox.create(number=8, name="案内", body="", url="https://example.jp/sale")
    draft = sends.create_draft(sends.build_recipients(parse_pasted(numbers(1)[0])), source="paste", actor="t")
    form, errors = sends.read_message_form(["セールのご案内です"], ["8"], schedule=False)
    assert errors == []
    send = sends.confirm(draft.id, form, "t")
    runner.poll()
    sent = Message.get_by_id(BulkRecipient.get(BulkRecipient.bulk_send == send.id).message1_id)
    link = ShortLink.get(ShortLink.message == sent.id)
    assert sent.body == f"セールのご案内です\n{links.short_url(link.code)}"
    assert len(as_sent("セールのご案内です", "https://example.jp/sale")) == len(sent.body)  # the confirm page agrees

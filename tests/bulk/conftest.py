"""Fixtures of the bulk-send tests: ticket switch, a send made the way the pages make one, outbox look-ups."""
from __future__ import annotations

import pytest


@pytest.fixture
def check_mobile():
    from sms.public import check_mobile

    return check_mobile


@pytest.fixture
def tickets_on(app):
    """Tickets in use (sms.tickets_enabled) for this test."""
    app.config["SETTINGS"] = app.config["SETTINGS"].replace(**{"sms.tickets_enabled": True})
    return app


def numbers(count: int, start: int = 0) -> list[str]:
    """Distinct valid mobile numbers, written with hyphens as people type them."""
    return [f"090-{1000 + (start + i) // 10000:04d}-{(start + i) % 10000:04d}" for i in range(count)]


def e164(national: str) -> str:
    return "+81" + national.replace("-", "")[1:]


@pytest.fixture
def make_send(app):
    """A confirmed send of pasted numbers: make_send(numbers, ["本文1", "本文2"], scheduled="2026-01-05T11:00")."""
    from sms.bulk import sends
    from sms.bulk.recipients import parse_pasted

    def make(recipients, messages=("お知らせです。",), scheduled: str | None = None, actor: str = "tester"):
        found = sends.build_recipients(parse_pasted("\n".join(recipients)))
        draft = sends.create_draft(found, source="paste", actor=actor)
        form, errors = sends.read_message_form(list(messages), [None] * len(messages), schedule=scheduled is not None,
                                               scheduled_text=scheduled or "")
        assert errors == []
        return sends.confirm(draft.id, form, actor)

    return make


def outbox_counts(send_id: int) -> dict[tuple[str, str], int]:
    """(to, body) → number of outbox rows of a send."""
    from sms.models import Message

    counts: dict[tuple[str, str], int] = {}
    for message in Message.select().where(Message.bulk_send_id == send_id):
        key = (message.to_number, message.body)
        counts[key] = counts.get(key, 0) + 1
    return counts


@pytest.fixture
def scheduler(live_server):
    """The SMS dispatcher and the bulk job, run by the real scheduler service against the live server's database."""
    import sms
    import sms.bulk
    from core.scheduler import JobRegistry, SchedulerService

    registry = JobRegistry()
    sms.register_jobs(registry, live_server.app)
    sms.bulk.register_jobs(registry, live_server.app)
    service = SchedulerService(live_server.app, registry, holder="browser-test")
    service.start()
    yield service
    service.shutdown()

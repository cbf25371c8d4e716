"""Report fixtures: a flow with PB menus, and factories for calls (with events) and SMS messages."""
from __future__ import annotations

import datetime as dt
import itertools

import pytest

DIALLED = "+815000000000"
OTHER_DIALLED = "+815000000001"


def moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@pytest.fixture
def menu_flow(db):
    """A flow whose 'main' and 'sub' nodes are PB menus and whose 'sms' node hears a mobile number."""
    from ivr.models import Flow, Node

    flow = Flow.create(name="代表番号", number=DIALLED, entry_key="main")
    for position, (key, name, kind) in enumerate([("main", "受付メニュー", "menu"), ("sub", "サブメニュー", "menu"),
                                                  ("sms", "SMS送信", "sms"), ("bye", "終話", "hangup")]):
        Node.create(flow=flow, key=key, name=name, kind=kind, position=position)
    return flow


@pytest.fixture
def make_call(db):
    from ivr.models import Call, CallEvent

    numbers = itertools.count(1)

    def make(started: str | dt.datetime, *, outcome: str | None = "completed", to: str = DIALLED,
             caller: str = "+819012345678", seconds: int = 30, abandoned_in: tuple[str, str] | None = None,
             events=(), flow=None) -> Call:
        started = moment(started) if isinstance(started, str) else started
        call = Call.create(
            call_sid=f"CA{next(numbers):032d}", flow=flow, from_number=caller, to_number=to, started_at=started,
            ended_at=started + dt.timedelta(seconds=seconds), duration_seconds=seconds, outcome=outcome,
            last_node_key=(abandoned_in or ("", ""))[0], last_node_name=(abandoned_in or ("", ""))[1],
            abandoned_node_key=abandoned_in[0] if abandoned_in else None,
            abandoned_node_name=abandoned_in[1] if abandoned_in else None,
        )
        for offset, (kind, node_key, node_name, digits) in enumerate(events):
            CallEvent.create(call=call, at=started + dt.timedelta(seconds=offset), kind=kind, node_key=node_key,
                             node_name=node_name, digits=digits)
        return call

    return make


@pytest.fixture
def make_message(db):
    from sms.models import Message

    def make(created: str | dt.datetime, *, state: str = "delivered", call=None, clicks: int = 0,
             to: str = "+819011112222", source: str | None = None) -> Message:
        created = moment(created) if isinstance(created, str) else created
        return Message.create(created_at=created, to_number=to, body="ご案内です", state=state, clicks=clicks,
                              call_sid=call.call_sid if call else None, source=source or ("ivr" if call else "api"))

    return make

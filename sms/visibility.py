"""Who may read which SMS: one rule for every page that shows a recipient's number, a text or its opt-out URL.

The delivery log (R-30) is for managers; a message's detail, the outbox and a box's recent sends show the same
personal data, so they follow the same rule. Staff still see what they sent themselves (a box's テスト送信),
so their own tests stay checkable; the call simulator shows the SMS of the simulated call on its own page.
"""
from __future__ import annotations

from sms.models import Message

READER_ROLE = "manager"
OWN_SOURCE = "ui"  # sent from a page by a person (created_by is then a username, never "ivr" or "api:…")


def reads_every_message(user) -> bool:
    return user.has_role(READER_ROLE)


def readable(query, user):
    """`query` of Message narrowed to what `user` may read."""
    if reads_every_message(user):
        return query
    return query.where((Message.source == OWN_SOURCE) & (Message.created_by == user.username))


def can_read(message: Message, user) -> bool:
    return reads_every_message(user) or (message.source == OWN_SOURCE and message.created_by == user.username)

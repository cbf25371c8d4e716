"""Ticket ledger (R-42): one balance row plus an entry per top-up or use.

Single sends use one ticket each when `sms.tickets_enabled` is on; bulk sends build on the same
functions. The balance is changed with a conditional UPDATE, so concurrent senders never overdraw it.
"""
from __future__ import annotations

from core import clock
from core.db import database
from sms.models import TicketAccount, TicketEntry

ACCOUNT_ID = 1
# The most tickets the balance holds: balance + count then never overflows the 32-bit column, even as SQL arithmetic.
MAX_BALANCE = 1_000_000_000


def _ensure_account() -> None:
    TicketAccount.insert(id=ACCOUNT_ID, balance=0).on_conflict_ignore().execute()


def balance() -> int:
    """Tickets left."""
    row = TicketAccount.get_or_none(TicketAccount.id == ACCOUNT_ID)
    return row.balance if row else 0


def add(count: int, reason: str = "チケット追加", actor: str = "") -> int:
    """Top up (or, with a negative count, correct) the balance; returns the new balance."""
    if count == 0 or abs(count) > MAX_BALANCE:
        raise ValueError(f"count must be 1 to {MAX_BALANCE} either way")
    with database.atomic():
        _ensure_account()
        new_balance = TicketAccount.balance + count
        changed = (TicketAccount.update(balance=new_balance)
                   .where((TicketAccount.id == ACCOUNT_ID) & (new_balance >= 0) & (new_balance <= MAX_BALANCE))
                   .execute())
        if not changed:
            raise ValueError(f"the balance must stay between 0 and {MAX_BALANCE}")
        after = balance()
        TicketEntry.create(at=clock.now(), delta=count, balance_after=after, reason=reason, actor=actor)
    return after


def consume(count: int = 1, *, reason: str, message_id: int | None = None, bulk_send_id: int | None = None,
            actor: str = "") -> bool:
    """Use `count` tickets if that many are left; False (and nothing used) otherwise."""
    if count <= 0:
        raise ValueError("count must be positive")
    with database.atomic():
        _ensure_account()
        changed = (TicketAccount.update(balance=TicketAccount.balance - count)
                   .where((TicketAccount.id == ACCOUNT_ID) & (TicketAccount.balance >= count)).execute())
        if not changed:
            return False
        TicketEntry.create(at=clock.now(), delta=-count, balance_after=balance(), reason=reason,
                           message_id=message_id, bulk_send_id=bulk_send_id, actor=actor)
    return True


def entries():
    """The ledger, newest first."""
    return TicketEntry.select().order_by(TicketEntry.at.desc(), TicketEntry.id.desc())

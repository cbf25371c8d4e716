"""Short links with click counts (R-25) and personal opt-out links (R-24)."""
from __future__ import annotations

import secrets
import string

from peewee import IntegrityError

from core import clock
from core.db import database
from core.twilio import external_url
from sms.models import Message, OptOut, ShortLink

CODE_ALPHABET = string.ascii_letters + string.digits
CODE_LENGTH = 8
TOKEN_BYTES = 16  # token_urlsafe(16) is 22 characters
# Stand-ins in the editor's preview, as long as real ones.
SAMPLE_CODE = "AbCd1234"
SAMPLE_TOKEN = "SampleOptOutToken-0123"


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def new_optout_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def short_url(code: str) -> str:
    return external_url(f"/s/{code}")


def optout_url(token: str) -> str:
    return external_url(f"/optout/{token}")


def short_url_length() -> int:
    """How long {url} becomes in a sent text (counted in the editor before any link exists)."""
    return len(short_url("x" * CODE_LENGTH))


def optout_url_length() -> int:
    return len(optout_url("x" * len(new_optout_token())))


def create_short_link(message: Message, target_url: str) -> ShortLink:
    for _ in range(5):  # a clash of 62^8 codes is rare; try again rather than fail
        try:
            with database.atomic():
                return ShortLink.create(code=new_code(), message=message, target_url=target_url)
        except IntegrityError:
            continue
    raise RuntimeError("could not allocate a short link code")


def follow(code: str, *, click: bool = True) -> str | None:
    """The target URL of /s/<code>, or None if unknown; `click` counts it (on the link and its message)."""
    link = ShortLink.get_or_none(ShortLink.code == code)
    if link is None or not click:
        return None if link is None else link.target_url
    now = clock.now()
    with database.atomic():
        ShortLink.update(clicks=ShortLink.clicks + 1, last_clicked_at=now).where(ShortLink.id == link.id).execute()
        if link.message_id:  # updated_at too: the report publishes the message's day again (clicks are counted)
            Message.update(clicks=Message.clicks + 1, updated_at=now).where(Message.id == link.message_id).execute()
    return link.target_url


# --- opt-out --------------------------------------------------------------------------------------
def is_opted_out(e164: str) -> bool:
    return OptOut.select().where(OptOut.number == e164).exists()


def opt_out(e164: str, via: str = "link", message_id: int | None = None, note: str = "") -> tuple[OptOut, bool]:
    """Record an opt-out; returns (row, created). Idempotent: a second request keeps the first row."""
    existing = OptOut.get_or_none(OptOut.number == e164)
    if existing:
        return existing, False
    try:
        with database.atomic():
            return OptOut.create(number=e164, via=via, message_id=message_id, note=note, created_at=clock.now()), True
    except IntegrityError:
        return OptOut.get(OptOut.number == e164), False


def remove_opt_out(e164: str) -> bool:
    return OptOut.delete().where(OptOut.number == e164).execute() > 0


def message_for_optout_token(token: str) -> Message | None:
    if not token or len(token) > 32:
        return None
    return Message.get_or_none(Message.optout_token == token)

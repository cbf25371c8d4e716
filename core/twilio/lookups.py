"""Twilio Lookup v2, line type intelligence: which network a number belongs to (carrier name, MCC/MNC).

Paid per request: callers cache the answer (sms.carriers). With TWILIO_API_BASE_URL set, the lookups host is
reached at that base like the api host (core.twilio.rest_client), so tests use the local Twilio-compatible server.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger("core.twilio.lookups")
LOOKUP_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class LineType:
    """What Lookup said about a number's line; empty strings where it said nothing."""

    carrier_name: str = ""
    mobile_country_code: str = ""
    mobile_network_code: str = ""
    type: str = ""             # mobile, landline, nonFixedVoip, …
    error_code: int | None = None


class LookupFailed(Exception):
    """Twilio could not be asked or refused the request (network, HTTP error): nothing is known."""


def line_type(number: str, client=None) -> LineType:
    """Ask Lookup v2 for `number`'s line type intelligence (one paid request)."""
    from twilio.base.exceptions import TwilioException

    from core.twilio import rest_client

    client = client or rest_client()
    try:
        answer = client.lookups.v2.phone_numbers(number).fetch(fields="line_type_intelligence")
    except (TwilioException, OSError) as exc:  # the transport's connection errors are OSErrors
        log.warning("carrier lookup of %s failed: %s", number, exc)
        raise LookupFailed(str(exc)[:200]) from exc
    return line_type_of(answer.line_type_intelligence)


def line_type_of(data) -> LineType:
    """The LineType of a `line_type_intelligence` object as Twilio answers it (None when absent)."""
    if not isinstance(data, dict):
        return LineType()

    def text(key: str) -> str:
        value = data.get(key)
        return str(value).strip() if value is not None else ""

    code = data.get("error_code")
    return LineType(text("carrier_name"), text("mobile_country_code"), text("mobile_network_code"), text("type"),
                    int(code) if isinstance(code, int) or (isinstance(code, str) and code.isdigit()) else None)

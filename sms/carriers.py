"""Which carrier a recipient is on (R-29): shown in the log, CSV and API, and it sets the status timeout
(SoftBank gives no receipt after 1 hour, others after 72).

The answer comes from the configured lookup (Twilio Lookup v2 through core.twilio.lookups, or the simulator's
deterministic carriers), asked at most once per number until the cache row expires. The dispatcher asks just
before a message's first send (sms.outbox); no webhook ever waits for it. A failed lookup leaves 不明, is not
cached, and the message is still sent.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Protocol

from peewee import IntegrityError

from core import clock
from core.config import setting
from core.db import database, write_transaction
from core.twilio.lookups import LineType, LookupFailed
from sms.models import CarrierCache

log = logging.getLogger("sms.carriers")

DOCOMO, AU, SOFTBANK, RAKUTEN, OTHER, UNKNOWN = "docomo", "au", "softbank", "rakuten", "other", "unknown"
CARRIER_LABELS = {DOCOMO: "ドコモ", AU: "au (KDDI)", SOFTBANK: "ソフトバンク", RAKUTEN: "楽天モバイル", OTHER: "その他",
                  UNKNOWN: "不明"}

# Japanese networks by MCC-MNC. Y!mobile (ex-EMOBILE 440-00) and LINEMO run on SoftBank; UQ and povo on KDDI.
NETWORKS = {
    ("440", "00"): SOFTBANK, ("440", "10"): DOCOMO, ("440", "11"): RAKUTEN, ("440", "20"): SOFTBANK,
    ("440", "21"): SOFTBANK, ("441", "00"): SOFTBANK, ("441", "01"): SOFTBANK, ("441", "10"): AU,
    **{("440", str(mnc)): AU for mnc in (*range(50, 57), *range(70, 80))},
}
# Names as carriers and MVNO brands spell them, matched in lower case when the MCC-MNC says nothing.
NAME_HINTS = (
    (DOCOMO, ("docomo", "ntt")),
    (SOFTBANK, ("softbank", "y!mobile", "ymobile", "y-mobile", "linemo", "wireless city", "emobile")),
    (AU, ("kddi", "au ", "uq", "povo", "okinawa cellular")),
    (RAKUTEN, ("rakuten",)),
)


def carrier_label(key: str | None) -> str:
    """The carrier in words ("softbank" → ソフトバンク); not looked up or unknown → 不明."""
    return CARRIER_LABELS.get(key or UNKNOWN, CARRIER_LABELS[UNKNOWN])


def normalise(line: LineType) -> str:
    """A carrier key from what Lookup said: the MCC-MNC first, the carrier's name second."""
    mnc = line.mobile_network_code.zfill(2) if line.mobile_network_code else ""
    known = NETWORKS.get((line.mobile_country_code, mnc))
    if known:
        return known
    name = f"{line.carrier_name.lower()} "
    for key, hints in NAME_HINTS:
        if any(hint in name for hint in hints):
            return key
    if line.carrier_name or line.mobile_country_code:
        return OTHER
    return UNKNOWN


def network(line: LineType) -> str:
    return f"{line.mobile_country_code}-{line.mobile_network_code}" if line.mobile_country_code else ""


# --- lookups ----------------------------------------------------------------------------------------------
class CarrierLookup(Protocol):
    def line_type(self, number: str) -> LineType:
        """What the network says about `number`; raises LookupFailed when it cannot be asked."""


class TwilioLookup:
    """Twilio Lookup v2 (paid per request). Safe to call from several threads: each has a client of its own."""

    def __init__(self):
        from core.twilio import rest_credentials

        self.credentials = rest_credentials()
        self.local = threading.local()

    def line_type(self, number: str) -> LineType:
        from core.twilio import client_for
        from core.twilio.lookups import LOOKUP_TIMEOUT_SECONDS, line_type

        client = getattr(self.local, "client", None)
        if client is None:
            client = self.local.client = client_for(*self.credentials)
            client.http_client.timeout = LOOKUP_TIMEOUT_SECONDS
        return line_type(number, client)


def configured_lookup() -> CarrierLookup | None:
    """The lookup for telephony.provider; None when sms.carrier_lookup is off."""
    if not setting("sms.carrier_lookup"):
        return None
    if setting("telephony.provider") == "twilio":
        return TwilioLookup()
    from sms.simulator import SimulatorLookup

    return SimulatorLookup()


def cached_carriers(numbers: set[str]) -> dict[str, str]:
    """Number → carrier key for the numbers whose cache entry is still fresh (one query)."""
    if not numbers:
        return {}
    query = CarrierCache.select(CarrierCache.number, CarrierCache.carrier).where(
        CarrierCache.number.in_(numbers) & (CarrierCache.expires_at > clock.now()))
    return dict(query.tuples())


def carrier_for(number: str, lookup: CarrierLookup) -> str:
    """The carrier key of `number`: from the cache while it is fresh, else asked once (and cached)."""
    return carriers_for([number], lookup)[number]


def carriers_for(numbers: Iterable[str], lookup: CarrierLookup, run_all: Callable | None = None) -> dict[str, str]:
    """Number → carrier key: fresh cache entries in one query, the rest asked (through `run_all(fn, items)`, e.g.
    a thread pool, when given) and cached together; a number whose lookup failed is 不明 and not cached."""
    numbers = list(dict.fromkeys(numbers))
    known = cached_carriers(set(numbers))
    missing = [n for n in numbers if n not in known]
    if not missing:
        return known
    answers = (run_all or _in_turn)(lambda number: _ask(lookup, number), missing)
    now = clock.now()
    with write_transaction():
        for number, line in zip(missing, answers):
            known[number] = UNKNOWN if line is None else normalise(line)
            if line is not None:
                remember(number, known[number], line, now)
    return known


def _in_turn(fn, items) -> list:
    return [fn(item) for item in items]


def _ask(lookup: CarrierLookup, number: str) -> LineType | None:
    try:
        return lookup.line_type(number)
    except LookupFailed:
        return None  # not cached: asked again for the next message
    except Exception:  # whatever goes wrong, the message still goes out (its carrier stays 不明)
        log.exception("carrier lookup of %s failed", number)
        return None


def remember(number: str, carrier: str, line: LineType, now: dt.datetime) -> None:
    fields = dict(carrier=carrier, carrier_name=line.carrier_name[:100], network=network(line)[:16],
                  looked_up_at=now, expires_at=now + dt.timedelta(days=setting("sms.carrier_cache_days")))
    if CarrierCache.update(**fields).where(CarrierCache.number == number).execute():
        return
    try:
        with database.atomic():  # a savepoint: PostgreSQL keeps an outer transaction usable after the clash
            CarrierCache.create(number=number, **fields)
    except IntegrityError:  # another dispatcher asked at the same moment: its answer is as good
        pass

"""Where SMS go: Twilio's Messages API, or the built-in simulator (sms.simulator: the default, no keys).

Both implement core.channels.Channel; sms.init_app registers `configured_provider` as the "sms" channel.
"""
from __future__ import annotations

import datetime as dt
import logging

from core import clock
from core.channels import Channel, DeliveryReceipt, SendOutcome, SentRecord
from core.config import setting
from sms.simulator import SimulatorProvider

STATUS_CALLBACK_PATH = "/twilio/sms/status"
HTTP_TIMEOUT_SECONDS = 15
log = logging.getLogger("sms.providers")


class TwilioProvider:
    """The real twilio client (core.twilio.rest_client), aimed at TWILIO_API_BASE_URL; receipts come pushed to
    /twilio/sms/status (sms.public_views)."""

    name = "twilio"
    concurrent_sends = True  # the dispatcher may call send from several threads, each on its own copy()

    def __init__(self):
        from core.twilio import external_url, rest_client

        self.client = rest_client()
        self.client.http_client.timeout = HTTP_TIMEOUT_SECONDS
        logging.getLogger("twilio.http_client").setLevel(logging.WARNING)  # one INFO line per request otherwise
        self.sender = setting("sms.sender_id") or setting("twilio.from_number")
        self.callback = external_url(STATUS_CALLBACK_PATH)

    def copy(self) -> TwilioProvider:
        """Another provider with a client (and so a kept-alive connection) of its own, for another thread."""
        return TwilioProvider()

    def send(self, to: str, body: str, attempt_seq: int = 0) -> SendOutcome:
        from twilio.base.exceptions import TwilioException, TwilioRestException

        try:
            message = self.client.messages.create(to=to, from_=self.sender, body=body, status_callback=self.callback)
        except TwilioRestException as exc:
            return SendOutcome(None, http_status=exc.status, error_code=exc.code, detail=str(exc.msg)[:200])
        except (TwilioException, OSError) as exc:  # the transport's connection errors are OSErrors
            log.warning("twilio send to %s failed: %s", to, exc)
            return SendOutcome(None, detail=str(exc)[:200])
        return SendOutcome(message.sid, message.status or "queued")

    def find_sent(self, to: str, body: str, since: dt.datetime) -> list[SentRecord]:
        """Messages with this body sent to `to` since `since` (newest first), to learn a crashed send's fate."""
        found = []
        for message in self.client.messages.list(to=to, limit=50):
            created = clock.from_aware(message.date_created) if message.date_created else None
            if created is not None and created >= since and message.body == body:
                found.append(SentRecord(message.sid, message.status or "", message.body, created))
        return found

    def due_receipts(self, now: dt.datetime) -> list[DeliveryReceipt]:
        return []  # Twilio posts each receipt to the status callback


def configured_provider() -> Channel:
    """The provider of telephony.provider."""
    if setting("telephony.provider") == "twilio":
        return TwilioProvider()
    return SimulatorProvider()

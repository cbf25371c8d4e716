"""A caller as Twilio sees one: signed form posts to the webhooks, TwiML parsed and followed.

`Phone.dial()` posts what Twilio posts to the number's Voice URL; the returned `Call` follows the
TwiML the app answers: `press("1")` posts Digits to the <Gather> action, `wait()` is a Gather that
timed out (Twilio then runs the next verb: our <Redirect>, posted without Digits), `dial_ended()`
and `recorded()` post what <Dial> and <Record> report, `hang_up()` sends the status callback.
"""
from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

from core.twilio import inbound_call_params, signature_for

ACCOUNT_SID = "AC" + "1" * 32
_sids = itertools.count(1)


class Phone:
    def __init__(self, client, base_url: str = "http://localhost"):
        self.client = client
        self.base = base_url

    def post(self, url: str, params: dict, signature: str | None = None):
        """POST a form to an absolute URL of the app, signed like Twilio (or with the given signature)."""
        if signature is None:
            signature = signature_for(url, params)
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        return self.client.post(path, data=params, headers={"X-Twilio-Signature": signature}, csrf=False)

    def dial(self, to: str, caller: str = "+819012345678", sid: str | None = None) -> "Call":
        sid = sid or f"CA{next(_sids):032x}"
        call = Call(self, sid, caller, to)
        call.answer(self.post(self.base + "/twilio/voice", call.params(CallStatus="ringing")))
        return call


class Call:
    def __init__(self, phone: Phone, sid: str, caller: str, to: str):
        self.phone, self.sid, self.caller, self.to = phone, sid, caller, to
        self.root: ET.Element | None = None
        self.responses: list[str] = []

    def params(self, **extra) -> dict:
        return inbound_call_params(self.sid, self.caller, self.to, ACCOUNT_SID, **extra)

    def answer(self, response) -> ET.Element:
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == "text/xml"
        text = response.get_data(as_text=True)
        self.responses.append(text)
        self.root = ET.fromstring(text)
        assert self.root.tag == "Response"
        return self.root

    # --- reading the TwiML ---
    @property
    def gather(self) -> ET.Element | None:
        return self.root.find("./Gather")

    def spoken(self) -> list[tuple[str, str]]:
        """Every Play (url) and Say (text) in document order, inside a Gather or not."""
        return [(el.tag, (el.text or "").strip()) for el in self.root.iter() if el.tag in ("Play", "Say")]

    def plays(self) -> list[str]:
        return [text for tag, text in self.spoken() if tag == "Play"]

    @property
    def hung_up(self) -> bool:
        return self.root.find("./Hangup") is not None

    # --- acting like Twilio ---
    def press(self, digits: str) -> ET.Element:
        gather = self.gather
        assert gather is not None, "no <Gather> to press keys into"
        return self.answer(self.phone.post(gather.get("action"), self.params(Digits=digits)))

    def wait(self) -> ET.Element:
        """The Gather timed out: Twilio runs the next verb, the <Redirect>, which posts without Digits."""
        assert self.gather is not None
        redirect = self.root.find("./Redirect")
        assert redirect is not None, "a <Gather> must be followed by a <Redirect> (else silence hangs up)"
        assert redirect.get("method", "POST") == "POST"
        return self.answer(self.phone.post(redirect.text.strip(), self.params()))

    def dial_ended(self, status: str, seconds: int = 0) -> ET.Element:
        dial = self.root.find("./Dial")
        assert dial is not None
        params = self.params(DialCallStatus=status, DialCallSid="CA" + "d" * 32, DialCallDuration=str(seconds))
        return self.answer(self.phone.post(dial.get("action"), params))

    def recorded(self, url: str | None, seconds: int = 5) -> ET.Element:
        record = self.root.find("./Record")
        assert record is not None
        if url is None:
            return self.answer(self.phone.post(self.root.find("./Redirect").text.strip(), self.params()))
        params = self.params(RecordingUrl=url, RecordingDuration=str(seconds), RecordingSid="RE" + "1" * 32)
        return self.answer(self.phone.post(record.get("action"), params))

    def hang_up(self, seconds: int = 30, status: str = "completed"):
        response = self.phone.post(self.phone.base + "/twilio/voice/status",
                                   self.params(CallStatus=status, CallDuration=str(seconds)))
        assert response.status_code == 204
        return response

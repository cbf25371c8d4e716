"""A local Twilio-compatible HTTP server: the subset of the Messages and Recordings APIs the app uses.

It stands at the edge of Twilio's cloud so the real twilio library, the real HTTP stack and the app's
real webhook are all exercised. It implements message create (form To/From/Body/StatusCallback, HTTP Basic
auth), list (To, DateSent filters, paging) and fetch; keeps a log of every accepted message; fails on
request (HTTP status and Twilio error code, per number or for everyone, a number of times); and posts
status callbacks signed like Twilio (RequestValidator.compute_signature with the account's auth token),
in any order and as often as asked. It can hold answers back (`hold_answers_after`): the message is accepted and
logged, the answer waits, as when a sender dies with its request at Twilio. Recordings: media fetch (with Range, or a redirect to storage) and
delete (DELETE …/Recordings/{sid}.json: 204, 404 when unknown), each delete recorded; deletes fail on request.
Lookup v2 (the lookups host, reached at the same base): GET /v2/PhoneNumbers/{number}?Fields=line_type_intelligence
answers the carrier set for the number (by default a Japanese network chosen by its last digit), fails on
request, and records every number asked (`lookups`).
"""
from __future__ import annotations

import base64
import datetime as dt
import email.utils
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

from twilio.request_validator import RequestValidator

API = "/2010-04-01/Accounts/{sid}"
MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC[0-9a-fA-F]{32})/Messages\.json$")
MESSAGE_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC[0-9a-fA-F]{32})/Messages/(?P<sid>SM[0-9a-f]{32})\.json$")
LOOKUP_PATH = re.compile(r"^/v2/PhoneNumbers/(?P<number>[^/]+)$")
# What the fake says by the number's last digit when no carrier was set: (carrier_name, MCC, MNC).
DEFAULT_CARRIERS = {
    "0": ("NTT DOCOMO, INC.", "440", "10"), "1": ("NTT DOCOMO, INC.", "440", "10"),
    "2": ("KDDI Corporation", "440", "51"), "3": ("KDDI Corporation", "440", "50"),
    "4": ("SoftBank Corp.", "440", "20"), "5": ("Y!mobile", "440", "20"), "6": ("Rakuten Mobile, Inc.", "440", "11"),
    "7": ("LINEMO", "440", "20"), "8": ("NTT DOCOMO, INC.", "440", "10"), "9": ("KDDI Corporation", "440", "51"),
}
# A recording: Twilio answers its bare URL (the RecordingUrl) and ".wav" with the WAV; ".json": the resource.
RECORDING_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC[0-9a-fA-F]{32})/Recordings/"
                            r"(?P<sid>RE[0-9a-f]{32})(?P<extension>\.wav|\.json)?$")


@dataclass
class Failure:
    http_status: int
    code: int | None
    message: str = "failure injected by the local Twilio server"
    times: int | None = 1  # None: every time


@dataclass
class FakeMessage:
    sid: str
    account_sid: str
    to: str
    from_: str
    body: str
    status_callback: str
    date_created: dt.datetime  # aware UTC
    status: str = "queued"
    error_code: int | None = None
    callbacks: list = field(default_factory=list)  # (status, http status of the app's answer)
    received: float = field(default_factory=time.monotonic)  # real time the request came in (date_created: clock)
    peer: tuple = ()  # the client's (host, port): one per kept-alive connection

    def resource(self) -> dict:
        stamp = email.utils.format_datetime(self.date_created, usegmt=True)
        return {
            "sid": self.sid, "account_sid": self.account_sid, "to": self.to, "from": self.from_, "body": self.body,
            "status": self.status, "direction": "outbound-api", "num_segments": "1", "num_media": "0",
            "date_created": stamp, "date_updated": stamp, "date_sent": stamp, "error_code": self.error_code,
            "error_message": None, "price": None, "price_unit": "JPY", "api_version": "2010-04-01",
            "messaging_service_sid": None, "subresource_uris": {},
            "uri": f"{API.format(sid=self.account_sid)}/Messages/{self.sid}.json",
        }


class FakeTwilio:
    def __init__(self, account_sid: str, auth_token: str, now: Callable[[], dt.datetime] | None = None,
                 host: str = "127.0.0.1"):
        self.account_sid, self.auth_token = account_sid, auth_token
        self.now = now or (lambda: dt.datetime.now(dt.timezone.utc))
        self.host = host
        self.lock = threading.Lock()
        self.log: list[FakeMessage] = []          # every accepted message, in order
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request
        self.proxy_credentials: list[str] = []     # Proxy-Authorization of the requests that came as to a proxy
        self.failures: dict[str, list[Failure]] = {}  # per To number; "*" for everyone
        self.recordings: dict[str, bytes] = {}  # RE… sid → WAV bytes
        self.recording_redirects: dict[str, str] = {}  # RE… sid → where its media is (signed storage)
        self.deleted_recordings: list[str] = []  # RE… sids deleted through the API, in order
        self.recording_delete_failures: list[Failure] = []
        self.carriers: dict[str, dict] = {}      # E.164 → line_type_intelligence to answer
        self.lookups: list[str] = []             # every number Lookup was asked about, in order
        self.lookup_failures: dict[str, list[Failure]] = {}  # per number; "*" for everyone
        self.answer_first: int | None = None     # accepted messages answered before answers are held back
        self.held: list[str] = []                # sids of the messages accepted whose answers were held back
        self.holding = threading.Event()         # set when the first answer is held back
        self.released = threading.Event()
        self.answer_delay = 0.0                  # seconds each accepted message waits before its answer (distance)
        self._server: ThreadingHTTPServer | None = None

    # --- lifecycle ---------------------------------------------------------------------------------------
    def start(self) -> "FakeTwilio":
        fake = self

        class Handler(_Handler):
            server_state = fake

        self._server = ThreadingHTTPServer((self.host, 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self._server.server_address[1]}"

    # --- configuration and inspection ---------------------------------------------------------------------
    def fail(self, to: str = "*", http_status: int = 500, code: int | None = None, times: int | None = 1,
             message: str = "failure injected by the local Twilio server") -> None:
        """The next `times` creates to `to` (or anyone: "*") fail with this HTTP status and error code."""
        with self.lock:
            self.failures.setdefault(to, []).append(Failure(http_status, code, message, times))

    def hold_answers_after(self, count: int) -> None:
        """Answer the next `count` accepted messages; from then on accept and log each message but hold its answer
        back until `release_answers()` (`holding` is set at the first)."""
        with self.lock:
            self.answer_first = len(self.log) + count

    def release_answers(self) -> None:
        """Send the held answers (to whoever still listens) and answer at once from now on."""
        with self.lock:
            self.answer_first = None
        self.released.set()

    def add_recording(self, wav: bytes) -> str:
        """Keep a recording as a <Record> would; returns its RecordingUrl (needs the account's credentials)."""
        sid = "RE" + secrets.token_hex(16)
        with self.lock:
            self.recordings[sid] = wav
        return f"{self.url}{API.format(sid=self.account_sid)}/Recordings/{sid}"

    def redirect_recording(self, recording_url: str, to: str) -> None:
        """Answer the recording's media with a 302 to `to`, as Twilio may to signed storage."""
        with self.lock:
            self.recording_redirects[recording_url.rsplit("/", 1)[1]] = to

    def fail_recording_deletes(self, http_status: int = 500, code: int | None = 20500,
                               times: int | None = 1) -> None:
        """The next `times` recording deletes fail with this HTTP status and error code."""
        with self.lock:
            self.recording_delete_failures.append(Failure(http_status, code, times=times))

    def set_carrier(self, number: str, carrier_name: str | None, mcc: str | None = None, mnc: str | None = None,
                    line_type: str = "mobile", error_code: int | None = None) -> None:
        """What Lookup answers for `number` (line_type_intelligence)."""
        with self.lock:
            self.carriers[number] = {"carrier_name": carrier_name, "mobile_country_code": mcc,
                                     "mobile_network_code": mnc, "type": line_type, "error_code": error_code}

    def fail_lookups(self, number: str = "*", http_status: int = 500, code: int | None = 20500,
                     times: int | None = 1) -> None:
        """The next `times` lookups of `number` (or any: "*") fail with this HTTP status and error code."""
        with self.lock:
            self.lookup_failures.setdefault(number, []).append(Failure(http_status, code, times=times))

    def lookups_of(self, number: str) -> int:
        with self.lock:
            return self.lookups.count(number)

    def sent_to(self, to: str) -> list[FakeMessage]:
        with self.lock:
            return [m for m in self.log if m.to == to]

    def message(self, sid: str) -> FakeMessage:
        with self.lock:
            return next(m for m in self.log if m.sid == sid)

    # --- status callbacks -----------------------------------------------------------------------------------
    def callback_params(self, sid: str, status: str, error_code: int | None = None) -> dict[str, str]:
        """The form Twilio posts to a message's StatusCallback."""
        message = self.message(sid)
        params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": self.account_sid, "From": message.from_,
                  "To": message.to, "MessageStatus": status, "SmsStatus": status, "ApiVersion": "2010-04-01"}
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        if status in ("delivered", "undelivered"):
            params["RawDlrDoneDate"] = self.now().strftime("%y%m%d%H%M")
        return params

    def signature(self, url: str, params: dict[str, str]) -> str:
        return RequestValidator(self.auth_token).compute_signature(url, params)

    def post_status(self, sid: str, status: str, error_code: int | None = None) -> int:
        """POST one signed status callback to the message's StatusCallback; returns the app's HTTP status."""
        message = self.message(sid)
        params = self.callback_params(sid, status, error_code)
        request = urllib.request.Request(
            message.status_callback, data=urllib.parse.urlencode(params).encode(), method="POST",
            headers={"X-Twilio-Signature": self.signature(message.status_callback, params),
                     "Content-Type": "application/x-www-form-urlencoded", "User-Agent": "TwilioProxy/1.1"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                answer = response.status
        except urllib.error.HTTPError as exc:
            answer = exc.code
        with self.lock:
            message.status = status
            message.error_code = error_code
            message.callbacks.append((status, answer))
        return answer

    def post_statuses(self, sid: str, sequence: list[tuple[str, int | None]]) -> list[int]:
        """Several callbacks in exactly this order (duplicates and out-of-order ones included)."""
        return [self.post_status(sid, status, code) for status, code in sequence]

    # --- request handling -------------------------------------------------------------------------------------
    def _authorised(self, header: str, account: str) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return header == f"Basic {expected}" and account == self.account_sid

    def _take_failure(self, to: str) -> Failure | None:
        with self.lock:
            for queue in (self.failures.get(to), self.failures.get("*")):
                if queue:
                    return _take(queue)
        return None

    def _lookup(self, number: str, query: dict[str, str]) -> tuple[int, dict]:
        with self.lock:
            self.lookups.append(number)
            for queue in (self.lookup_failures.get(number), self.lookup_failures.get("*")):
                if queue:
                    failure = _take(queue)
                    return failure.http_status, _error(failure.http_status, failure.code, failure.message)
            intelligence = self.carriers.get(number)
        if intelligence is None:
            name, mcc, mnc = DEFAULT_CARRIERS.get(number[-1:], ("", None, None))
            intelligence = {"carrier_name": name, "mobile_country_code": mcc, "mobile_network_code": mnc,
                            "type": "mobile", "error_code": None}
        fields = query.get("Fields", "")
        return 200, {
            "calling_country_code": "81", "country_code": "JP", "phone_number": number,
            "national_format": "0" + number[3:] if number.startswith("+81") else number, "valid": True,
            "validation_errors": [], "caller_name": None, "sim_swap": None, "call_forwarding": None,
            "line_status": None, "identity_match": None, "reassigned_number": None, "sms_pumping_risk": None,
            "phone_number_quality_score": None, "pre_fill": None,
            "line_type_intelligence": intelligence if "line_type_intelligence" in fields else None,
            "url": f"https://lookups.twilio.com/v2/PhoneNumbers/{number}",
        }

    def _delete_recording(self, sid: str) -> tuple[int, dict | None]:
        with self.lock:
            failure = _take(self.recording_delete_failures) if self.recording_delete_failures else None
            if failure is not None:
                return failure.http_status, _error(failure.http_status, failure.code, failure.message)
            if self.recordings.pop(sid, None) is None:
                return 404, _error(404, 20404, "The requested resource was not found")
            self.deleted_recordings.append(sid)
        return 204, None

    def _create(self, account: str, form: dict[str, str], arrived: float | None = None,
                peer: tuple = ()) -> tuple[int, dict]:
        for name, code in (("To", 21604), ("From", 21603), ("Body", 21602)):
            if not form.get(name):
                return 400, _error(400, code, f"A '{name}' is required.")
        failure = self._take_failure(form["To"])
        if failure is not None:
            return failure.http_status, _error(failure.http_status, failure.code, failure.message)
        message = FakeMessage(sid="SM" + secrets.token_hex(16), account_sid=account, to=form["To"],
                              from_=form["From"], body=form["Body"], status_callback=form.get("StatusCallback", ""),
                              date_created=self.now(), received=arrived or time.monotonic(), peer=peer)
        with self.lock:
            self.log.append(message)
            hold = self.answer_first is not None and len(self.log) > self.answer_first
            if hold:
                self.held.append(message.sid)
        if hold:
            self.holding.set()
            self.released.wait(60)
        elif self.answer_delay:
            time.sleep(self.answer_delay)
        return 201, message.resource()

    def _list(self, account: str, query: dict[str, str]) -> tuple[int, dict]:
        with self.lock:
            found = [m for m in self.log if m.account_sid == account]
        if query.get("To"):
            found = [m for m in found if m.to == query["To"]]
        for key, keep in (("DateSent", lambda d, v: d.date() == v.date()), ("DateSent>", lambda d, v: d >= v),
                          ("DateSent<", lambda d, v: d <= v)):
            if query.get(key):
                bound = _parse_when(query[key])
                found = [m for m in found if keep(m.date_created, bound)]
        found.sort(key=lambda m: m.date_created, reverse=True)
        size = max(1, min(1000, int(query.get("PageSize", "50"))))
        number = max(0, int(query.get("Page", "0")))
        chunk = found[number * size:(number + 1) * size]
        base = f"{API.format(sid=account)}/Messages.json"
        more = (number + 1) * size < len(found)
        rest = {k: v for k, v in query.items() if k not in ("Page", "PageSize", "PageToken")}
        next_query = urllib.parse.urlencode({**rest, "PageSize": size, "Page": number + 1})
        return 200, {"messages": [m.resource() for m in chunk], "page": number, "page_size": size,
                     "first_page_uri": f"{base}?PageSize={size}&Page=0", "previous_page_uri": None,
                     "next_page_uri": f"{base}?{next_query}" if more else None, "start": number * size,
                     "end": number * size + len(chunk), "uri": f"{base}?PageSize={size}&Page={number}"}


def send_media(handler: BaseHTTPRequestHandler, data: bytes, content_type: str) -> None:
    """200 with the whole file, or 206 with the one byte range asked for ("bytes=a-b", "bytes=a-")."""
    wanted = re.fullmatch(r"bytes=(\d+)-(\d*)", handler.headers.get("Range", ""))
    start, end = 0, len(data) - 1
    if wanted:
        start, end = int(wanted[1]), min(int(wanted[2] or end), end)
    handler.send_response(206 if wanted else 200)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Accept-Ranges", "bytes")
    handler.send_header("Content-Length", str(end - start + 1))
    if wanted:
        handler.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
    handler.end_headers()
    handler.wfile.write(data[start:end + 1])


def _take(queue: list[Failure]) -> Failure:
    """The first failure of a queue, used up once more (the caller holds the lock)."""
    failure = queue[0]
    if failure.times is not None:
        failure.times -= 1
        if failure.times <= 0:
            queue.pop(0)
    return failure


def _error(status: int, code: int | None, message: str) -> dict:
    return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}


def _parse_when(text: str) -> dt.datetime:
    text = text.strip().replace("Z", "+00:00")
    value = dt.datetime.fromisoformat(text) if "T" in text else dt.datetime.fromisoformat(text + "T00:00:00+00:00")
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


class _Handler(BaseHTTPRequestHandler):
    server_state: FakeTwilio
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the body waits for the client's delayed ACK (~40 ms
    # a request on Linux), which would cap every client at about 20 requests/s.
    disable_nagle_algorithm = True

    def log_message(self, *args):  # quiet: the test output stays readable
        pass

    def _answer(self, status: int, payload: dict | None) -> None:
        body = json.dumps(payload).encode() if payload is not None else b""
        try:
            self.send_response(status)
            if payload is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            # Headers and body in one write (end_headers would send them in two): one wake-up of the client an
            # answer, which on a loaded machine is what a request costs most.
            self._headers_buffer.extend((b"\r\n", body))
            self.flush_headers()
        except (BrokenPipeError, ConnectionResetError):  # the client is gone (a killed worker's held answer)
            self.close_connection = True

    def _route(self, method: str):
        arrived = time.monotonic()  # before anything else: the MPS tests measure arrival times
        fake = self.server_state
        parts = urllib.parse.urlsplit(self.path)
        with fake.lock:
            fake.requests.append((method, parts.path))
            if self.headers.get("Proxy-Authorization"):
                fake.proxy_credentials.append(self.headers["Proxy-Authorization"])
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        lookup = LOOKUP_PATH.match(parts.path)
        if lookup and method == "GET":
            if not fake._authorised(self.headers.get("Authorization", ""), fake.account_sid):
                return self._answer(401, _error(401, 20003, "Authenticate"))
            query = {k: v[-1] for k, v in urllib.parse.parse_qs(parts.query).items()}
            return self._answer(*fake._lookup(urllib.parse.unquote(lookup["number"]), query))
        recording = RECORDING_PATH.match(parts.path)
        if recording and method == "GET" and recording["extension"] != ".json":
            return self._recording(recording)
        if recording and method == "DELETE" and recording["extension"] == ".json":
            if not fake._authorised(self.headers.get("Authorization", ""), recording["account"]):
                return self._answer(401, _error(401, 20003, "Authenticate"))
            return self._answer(*fake._delete_recording(recording["sid"]))
        collection, single = MESSAGES_PATH.match(parts.path), MESSAGE_PATH.match(parts.path)
        match = collection or single
        if match is None:
            return self._answer(404, _error(404, 20404, "The requested resource was not found"))
        if not fake._authorised(self.headers.get("Authorization", ""), match["account"]):
            return self._answer(401, _error(401, 20003, "Authenticate"))
        if collection and method == "POST":
            form = {k: v[-1] for k, v in urllib.parse.parse_qs(raw, keep_blank_values=True).items()}
            return self._answer(*fake._create(match["account"], form, arrived, self.client_address))
        if collection and method == "GET":
            query = {k: v[-1] for k, v in urllib.parse.parse_qs(parts.query).items()}
            return self._answer(*fake._list(match["account"], query))
        if single and method == "GET":
            try:
                return self._answer(200, fake.message(single["sid"]).resource())
            except StopIteration:
                return self._answer(404, _error(404, 20404, "The requested resource was not found"))
        return self._answer(405, _error(405, 20004, "Method not allowed"))

    def _recording(self, match) -> None:
        fake = self.server_state
        if not fake._authorised(self.headers.get("Authorization", ""), match["account"]):
            return self._answer(401, _error(401, 20003, "Authenticate"))
        with fake.lock:
            wav = fake.recordings.get(match["sid"])
            elsewhere = fake.recording_redirects.get(match["sid"])
        if elsewhere:
            self.send_response(302)
            self.send_header("Location", elsewhere)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if wav is None:
            return self._answer(404, _error(404, 20404, "The requested resource was not found"))
        send_media(self, wav, "audio/x-wav")

    def do_GET(self):
        self._route("GET")

    def do_POST(self):
        self._route("POST")

    def do_DELETE(self):
        self._route("DELETE")

"""What the hostile-input tests share: hostile values, a world with one of everything, the forms the pages carry,
and how a refusal is recognised as a Japanese message."""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from core.config import ROOT

JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff01-\uff5e]")
LONE_SURROGATE = b"\xed\xa0\x80"  # U+D800 as UTF-8 would spell it (browsers never send it; attackers can)

# Query and form values: non-ASCII digits, numbers no column holds, dates outside 1900-2100 (and past date.max),
# impossible dates, a lone surrogate, formula text, long and empty text.
HOSTILE_VALUES: list[bytes] = [
    "²".encode(), "١٢٣".encode(), "１２".encode(), b"99999999999999999999999", b"-99999999999999999999", b"-1",
    b"9" * 5000, b"1e309", b"NaN", b"0000-01-01", b"1899-12-31", b"9999-12-31", b"10000-01-01", b"2026-02-30",
    b"9999-12-31T23:59", LONE_SURROGATE, "＝1＋2".encode(), b"", b"x" * 3000, b"[]",
]
# The few that broke parsers most, for one field at a time inside an otherwise real form.
FIELD_VALUES: list[bytes] = ["²".encode(), b"99999999999999999999999", b"9999-12-31", LONE_SURROGATE]
PATH_VALUES: list[str] = ["²", "99999999999999999999999", "-1", "9999-12-31", "0000-01-01", "%ED%A0%80", "%EF%BC%9D1",
                          "x" * 300, "..%2F..%2Fapp.py", "a.b"]


def deep(levels: int, opening: str, closing: str, middle: str = "1") -> bytes:
    return (opening * levels + middle + closing * levels).encode()


JSON_BODIES: list[bytes] = [
    deep(100_000, "[", "]"), deep(50_000, '{"a":', "}"), deep(30, "[", "]"), b"[]", b"1", b'"text"', b"null",
    b"true", b'{"to": "\\ud800", "text": "\\udfff", "box": 1, "call_sid": "\\udc00", "url": "\\ud83d"}',
    b'{"to": "090-1234-5678", "box": Infinity, "seconds": NaN}', b'{"seconds": -Infinity, "box": 1e999}',
    b'{"to": "090-1234-5678", "box": 99999999999999999999999}', b"{", b"\xff\xfe", b'{"a": "\\u0000"}',
    b"9" * 5000,
]
JSON_FIELD_VALUES = [[], {"a": [1]}, None, True, -1, 99999999999999999999999, 1.5, "²", "9999-12-31T23:59", "",
                     "x" * 3000, [[[[[]]]]]]


# --- the pages' forms ----------------------------------------------------------------------------------------------
@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    radios: dict[str, list[str]] = field(default_factory=dict)  # every choice of each radio group
    files: list[tuple[str, str]] = field(default_factory=list)  # (name, accept) of each file field

    def variants(self) -> list[list[tuple[str, str]]]:
        """What the form submits with each choice of each radio group (each branch of the form), or as it stands."""
        out = []
        for name, choices in self.radios.items():
            kept = [(n, v) for n, v in self.fields if n != name]
            out += [kept + [(name, choice)] for choice in choices]
        return out or [self.fields]

    def sample_files(self) -> dict[str, tuple[bytes, str]]:
        """A small real file for each file field, by what it accepts (a CSV list, else a short WAV)."""
        return {name: (SAMPLE_CSV, "list.csv") if "csv" in accept else (sample_wav(), "voice.wav")
                for name, accept in self.files}


SAMPLE_CSV = "名前,電話番号\n山田,090-1234-5678\n".encode()


def sample_wav() -> bytes:
    import io
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * 800)
    return buffer.getvalue()


class FormReader(HTMLParser):
    """Every <form> of a page with what it would submit as it stands (checked boxes, selected options)."""

    def __init__(self, page_path: str):
        super().__init__()
        self.page_path = page_path
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = Form((a.get("action") or self.page_path).split("#")[0], (a.get("method") or "get").upper())
            self.forms.append(self._form)
        elif tag == "option" and self._select is not None:
            self.choose_option(a)
        if self._form is None or not a.get("name"):
            return
        name = a["name"]
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind == "radio":
                self._form.radios.setdefault(name, []).append(a.get("value") or "on")
            elif kind == "file":
                self._form.files.append((name, a.get("accept") or ""))
            if kind in ("submit", "button", "file", "image", "reset", "radio") or (
                    kind == "checkbox" and "checked" not in a):
                return
            self._form.fields.append((name, a.get("value") or ("on" if kind == "checkbox" else "")))
        elif tag == "select":
            self._select, self._select_first, self._select_chosen = name, None, False
        elif tag == "textarea":
            self._textarea, self._text = name, []

    def choose_option(self, a: dict) -> None:
        value = a.get("value", "")
        if self._select_first is None:
            self._select_first = value
        if "selected" in a and not self._select_chosen and self._form is not None:
            self._form.fields.append((self._select, value))
            self._select_chosen = True

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            if not self._select_chosen and self._select_first is not None and self._form is not None:
                self._form.fields.append((self._select, self._select_first))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            if self._form is not None:
                self._form.fields.append((self._textarea, "".join(self._text)))
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._text.append(data)


def forms_of(page_path: str, html: str) -> list[Form]:
    reader = FormReader(page_path)
    reader.feed(html)
    return reader.forms


# --- the source's field names ----------------------------------------------------------------------------------------
FIELD_READS = re.compile(r"""\.(?:get|getlist|pop)\(\s*(?:f?["'])([A-Za-z_][\w-]*)["']|\[\s*["']([A-Za-z_][\w-]*)["']\s*\]""")


def source_field_names(package: str) -> set[str]:
    """Names a package's code reads from forms, queries and JSON (`.get("x")`, `["x"]`)."""
    directory = ROOT / package.replace(".", "/")
    files = sorted(Path(directory).glob("*.py"))
    names: set[str] = set()
    for path in files:
        for match in FIELD_READS.finditer(path.read_text()):
            names.add(match.group(1) or match.group(2))
    return names


# --- refusals ---------------------------------------------------------------------------------------------------------
class RefusalText(HTMLParser):
    """The text of a page's error messages: alerts (flash, error lists), field errors, and the message of an
    error page (the first paragraph after an <h1> saying エラー) or of a public page (no menu)."""

    def __init__(self):
        super().__init__()
        self.messages: list[str] = []
        self._depth = 0
        self._capture_until: int | None = None
        self._in_h1 = False
        self._h1: list[str] = []
        self._after_h1_p = False
        self._p: list[str] | None = None
        self.has_menu = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self._depth += 1
        classes = (a.get("class") or "").split()
        if "sidemenu" in classes:
            self.has_menu = True
        if self._capture_until is None and (a.get("role") == "alert" or "field-error" in classes):
            self._capture_until = self._depth
            self.messages.append("")
        if tag == "h1":
            self._in_h1, self._h1 = True, []
        if tag == "p" and self._after_h1_p:
            self._p = []

    def handle_endtag(self, tag):
        if self._capture_until is not None and self._depth == self._capture_until:
            self._capture_until = None
        self._depth -= 1
        if tag == "h1" and self._in_h1:
            self._in_h1 = False
            self._after_h1_p = True
        elif tag == "p" and self._p is not None:
            heading = "".join(self._h1)
            if "エラー" in heading or not self.has_menu:
                self.messages.append(heading + " " + "".join(self._p))
            self._p = None
            self._after_h1_p = False

    def handle_data(self, data):
        if self._capture_until is not None:
            self.messages[-1] += data
        if self._in_h1:
            self._h1.append(data)
        if self._p is not None:
            self._p.append(data)


def japanese_refusal(response) -> str | None:
    """The Japanese message a 4xx answer carries (JSON error, error page, alert, plain text), else None."""
    body = response.get_data(as_text=True)
    mimetype = response.mimetype or ""
    if mimetype == "application/json":
        try:
            message = json.loads(body)["error"]["message"]
        except (ValueError, KeyError, TypeError):
            return None
        return message if isinstance(message, str) and JAPANESE.search(message) else None
    if mimetype == "text/html":
        reader = RefusalText()
        reader.feed(body)
        found = [m.strip() for m in reader.messages if JAPANESE.search(m)]
        return " / ".join(found) or None
    return body if JAPANESE.search(body) else None


def tomorrow(today: dt.date) -> str:
    return (today + dt.timedelta(days=1)).isoformat()


# --- a world with one of everything ---------------------------------------------------------------------------------
GUIDANCE = {"greeting": ("greeting", "お電話ありがとうございます。"), "menu": ("pb", "番号を押してください。"),
            "timeout": ("timeout", "入力が確認できません。"), "mis_entry": ("mis_entry", "入力が間違っています。"),
            "sent": ("sms_sent", "送信しました。"), "closing": ("closing", "失礼いたします。"),
            "busy": ("other", "混み合っています。"), "open": ("other", "営業中です。"),
            "closed": ("out_of_hours", "営業時間外です。"), "ng": ("sms_unavailable", "お送りできません。")}
HOSTILE_TEXTS = ["=1+2", "+cmd", "-1", "@SUM(A1)", "\tタブ", "\r改行", "＝1＋2", "＋cmd", "－1", "＠SUM(A1)"]


@dataclass
class World:
    """The rows every route can be pointed at, by path argument (and endpoint where two share a name)."""

    path_args: dict[str, str] = field(default_factory=dict)
    api_token: str = ""
    call_sid: str = ""

    def value(self, endpoint: str, argument: str) -> str:
        return self.path_args.get(f"{endpoint}:{argument}", self.path_args.get(argument, "1"))


def make_guidance() -> dict[str, int]:
    """Guidance rows without audio (the IVR then says the text): no synthesis needed to walk the pages."""
    from guidance.models import Guidance, GuidanceItem, VoiceFile

    ids = {}
    for key, (kind, text) in GUIDANCE.items():
        voice_file = VoiceFile.create(name=f"音声 {key}", text=text, engine="openjtalk", synth_key=key)
        guidance = Guidance.create(name=f"案内 {key}", kind=kind)
        GuidanceItem.create(guidance=guidance, voice_file=voice_file, position=0)
        ids[key] = guidance.id
    return ids


def build_world(app, admin_client) -> World:
    """One of everything a route can show or change, made through the app's own functions and pages."""
    from core.models import ApiToken, CompanyHoliday, IpAllowRule, User
    from core.security import issue_api_token
    from guidance.models import ResynthJob, VoiceFile
    from ivr.models import CallerRule, Node, Voicemail
    from ivr.simulator import recordings_dir
    from ivr.store import save_flow
    from sms import links
    from sms.models import Message, ShortLink, StorageBox
    from sms.sending import queue_box, queue_text
    from tests.conftest import fixture_password_hash
    from tests.ivr.builders import menu_flow

    world = World()
    guidance = make_guidance()
    StorageBox.create(number=1, name="ご案内", body="詳細: {url} 停止: {optout_url}", url="https://example.jp/a")
    flow = save_flow(menu_flow(guidance), name="代表", number="+815000000000")
    menu = Node.get((Node.flow == flow.id) & (Node.kind == "menu"))
    started = admin_client.post("/ivr/simulator/start", json={"to": "+815000000000", "from": "090-1234-5678"})
    assert started.status_code == 200, started.get_data(as_text=True)
    world.call_sid = started.json["call_sid"]
    pressed = admin_client.post("/ivr/simulator/send", json={"call_sid": world.call_sid, "url": "/twilio/voice/step/1",
                                                             "params": {"Digits": "1"}})
    assert pressed.status_code in (200, 502), pressed.get_data(as_text=True)
    from ivr.models import Call

    call = Call.get(Call.call_sid == world.call_sid)
    recording = f"{world.call_sid}.wav"  # the simulator's own recording: played from disk, no network
    recordings_dir().mkdir(parents=True, exist_ok=True)
    (recordings_dir() / recording).write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt ")
    voicemail = Voicemail.create(call=call, url=f"http://localhost/ivr/simulator/recordings/{recording}", seconds=5)
    own = queue_box(1, "090-1111-2222", source="ui", created_by="admin1")
    for text in HOSTILE_TEXTS:
        queue_text(text, "090-3333-4444", source="api")
    message = Message.get_by_id(own.message_id)
    link = ShortLink.get(ShortLink.message == message.id)
    other = User.create(username="target", role="staff", password_hash=fixture_password_hash())
    _, world.api_token = issue_api_token("walk")
    spare, _ = issue_api_token("spare")
    ip_rule = IpAllowRule.create(scope="login", cidr="127.0.0.0/8", note="test")
    CompanyHoliday.create(day=dt.date(2026, 12, 29), name="年末")
    caller_rule = CallerRule.create(number="+819099998888", action="block")
    optout, _ = links.opt_out("+819077776666", via="admin")
    job = ResynthJob.create(status="done", voice_file_ids="[]", total=0)
    voice_file = VoiceFile.select().first()
    bulk = admin_client.post("/api/v1/bulk-sends", json={
        "recipients": ["090-5555-6666", "=1+2", "＋cmd"], "messages": ["お知らせ"],
        "scheduled_at": f"{tomorrow(dt.date(2026, 1, 5))}T10:00"},
        headers={"Authorization": f"Bearer {world.api_token}"}, csrf=False)
    assert bulk.status_code == 201, bulk.get_data(as_text=True)
    world.path_args.update({
        "user_id": str(other.id), "token_id": str(spare.id), "admin.delete_ip_rule:rule_id": str(ip_rule.id),
        "ivr.caller_delete:rule_id": str(caller_rule.id), "day": "2026-12-29", "send_id": str(bulk.json["id"]),
        "message_id": str(message.id), "number": "1", "optout_id": str(optout.id),
        "guidance_id": str(guidance["menu"]), "voice_file_id": str(voice_file.id), "job_id": str(job.id),
        "flow_id": str(flow.id), "node_id": str(menu.id), "voicemail_id": str(voicemail.id), "step": "1",
        "call_sid": world.call_sid, "name": recording, "code": link.code,
        "token": message.optout_token or "", "audio_hash": "0" * 64, "filename": "app.css",
        "guidance.static:filename": "guidance.js", "ivr.static:filename": "ivr/simulator.js",
        "sms.static:filename": "sms.css", "bulk.static:filename": "bulk.js", "reports.static:filename": "reports/chart.js",
    })
    assert ApiToken.select().count() == 2
    return world

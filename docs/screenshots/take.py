"""Screenshots of the dashboard, a report and the flow pages at 1280 and 390 px, for the README.

Run from the repository root: `.venv/bin/python docs/screenshots/take.py` (needs a Japanese font and chromium).

It builds a throw-away SQLite database, seeds the demo as `run.py` does, makes nine business days of calls
(about 55) through the real, signed Twilio webhooks of the demo flow (the caller the tests use, tests/ivr/phone.py),
sends their SMS with the simulator provider (some links are opened), runs the 13:00 report refresh, serves the
app on a free local port and photographs the pages as a manager with Playwright driving Debian's chromium. Time
is a controllable clock, so the pictures show the same days whenever they are taken. It warns when a page, or
its main area, is wider than the screen, naming what sticks out.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OPEN_JTALK_DICT_DIR", "/var/lib/mecab/dic/open-jtalk/naist-jdic")

from core import clock as clock_module

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
WIDTHS = (1280, 390)
MAX_HEIGHT = 2500          # clip a page taller than this (keeps each PNG small)
MANAGER, PASSWORD = "manager", "screenshot-pass-1"
ACCOUNT_SID, AUTH_TOKEN = "AC" + "1" * 32, "screenshot-auth-token"
DEMO_NUMBER = "+815000000000"
# Nine business days of calls, Tuesday 2026-01-27 to Friday 2026-02-06 ("today"); the photos are taken on Friday at
# 15:30, after the 13:00 refresh that published the days up to Wednesday 2026-02-04.
FIRST_DAY, TODAY = dt.date(2026, 1, 27), dt.date(2026, 2, 6)
PUBLISHED_TO = dt.date(2026, 2, 4)
PHOTO_TIME = dt.time(15, 30)
CLICK_SHARE = 0.4          # of the SMS sent, the share whose link the caller opens
SEED = 3                   # of the random callers and choices (this one gives SMS on every day)


# --- checks before anything runs ------------------------------------------------------------------------------
def japanese_font_installed() -> bool:
    try:
        listing = subprocess.run(["fc-list", ":lang=ja"], capture_output=True, text=True, check=False).stdout
    except FileNotFoundError:
        return False
    return bool(listing.strip())


def check_prerequisites() -> None:
    if not japanese_font_installed():
        sys.exit("No Japanese font is installed: text would render as boxes.\n"
                 "Install one first: apt-get install fonts-ipafont-gothic")
    if not os.path.exists(CHROMIUM):
        sys.exit(f"{CHROMIUM} is missing: apt-get install chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the app and its data ---------------------------------------------------------------------------------------
def build_app(workdir: Path, base_url: str, port: int):
    from web import create_app

    return create_app({
        "database.url": f"sqlite:///{workdir / 'screenshots.db'}",
        "web.public_base_url": base_url,
        "web.port": port,
        "web.secret_key": "screenshot-secret",
        "twilio.account_sid": ACCOUNT_SID,
        "twilio.auth_token": AUTH_TOKEN,
        "guidance.audio_dir": str(workdir / "audio"),
        "scheduler.enabled": False,
    })


def seed_demo(app) -> None:
    import run

    os.environ.setdefault("ADMIN_PASSWORD", PASSWORD)
    run.seed(app)


def create_manager(app) -> None:
    from core.db import database
    from core.models import User
    from web.auth import hash_password

    with app.app_context(), database.connection_context():
        User.create(username=MANAGER, display_name="山田 花子", role="manager", password_hash=hash_password(PASSWORD))


def caller_numbers(rng: random.Random) -> list[str]:
    """A pool of callers: mostly mobiles (some call more than once), a few landlines (they cannot take an SMS)."""
    mobiles = [f"+81{rng.choice('789')}0{rng.randrange(10**8):08d}" for _ in range(40)]
    landlines = [f"+813{rng.randrange(10**8):08d}" for _ in range(6)]
    return mobiles + landlines


def one_call(phone, caller: str, rng: random.Random, clock) -> None:
    """A caller's way through the demo flow, chosen with the weights a real line might see."""
    call = phone.dial(DEMO_NUMBER, caller=caller)
    clock.advance(seconds=rng.randint(6, 12))
    choice = rng.choices(["1", "2", "3", "abandon", "wrong", "silent"], [38, 28, 18, 7, 6, 3])[0]
    if choice == "wrong":  # a key the menu does not have; half of them then choose again
        call.press(rng.choice("0789"))
        choice = rng.choice("123") if rng.random() < 0.5 else "abandon"
    elif choice == "silent":  # the menu times out, twice
        call.wait()
        if call.gather is not None:
            call.wait()
        choice = "abandon"
    seconds = rng.randint(15, 30)
    if choice == "abandon":
        seconds = rng.randint(3, 12)  # hung up while a menu was playing
    else:
        call.press(choice)
        seconds += follow_through(call, caller, rng)
    clock.advance(seconds=seconds)
    call.hang_up(seconds=seconds)


def follow_through(call, caller: str, rng: random.Random) -> int:
    """After a menu choice: key in and confirm a mobile number when asked (a landline caller), or end the
    transfer (three in four answered). Returns the seconds it took."""
    seconds = rng.randint(10, 25)
    if call.gather is not None and call.gather.get("numDigits") == "11":
        call.press(national(caller) if caller[3] in "789" else "09012345678")
        if call.gather is not None:  # the number read back: 1 to confirm
            call.press("1")
        seconds += 25
    if call.root.find("./Dial") is not None:
        answered = rng.random() < 0.75
        talk = rng.randint(40, 420) if answered else 0
        call.dial_ended("completed" if answered else "no-answer", seconds=talk)
        seconds += talk
    return seconds


def national(e164: str) -> str:
    return "0" + e164[3:]


def business_days() -> list[dt.date]:
    days = (FIRST_DAY + dt.timedelta(days=n) for n in range((TODAY - FIRST_DAY).days + 1))
    return [day for day in days if day.weekday() < 5]


def make_calls(app, clock) -> int:
    """Each business day's calls between 9:00 and 18:00 ("today" only until 14:00); their SMS are sent and
    delivered by the simulator as the dispatcher would, and some callers open the link."""
    from tests.ivr.phone import Phone
    from tests.support.web import BrowserLikeClient

    rng = random.Random(SEED)
    callers = caller_numbers(rng)
    app.test_client_class = BrowserLikeClient  # the phone posts the way the tests' client does
    client = app.test_client()
    phone = Phone(client, base_url=app.config["SETTINGS"]["web.public_base_url"])
    made = 0
    with app.app_context():  # the phone signs its posts with the app's Twilio auth token
        for day in business_days():
            made += one_day(app, phone, callers, rng, clock, day)
    return made


def one_day(app, phone, callers: list[str], rng: random.Random, clock, day: dt.date) -> int:
    """One business day's calls; each call's SMS is sent and its receipt collected right after it."""
    from core.db import database
    from sms.outbox import run_dispatch

    count = 4 if day == TODAY else rng.randint(5, 7)
    starts = sorted(rng.randrange(9 * 60, (14 if day == TODAY else 18) * 60) for _ in range(count))
    for minute in starts:
        clock.set(dt.datetime.combine(day, dt.time(minute // 60, minute % 60, rng.randrange(60))))
        with database.connection_context():
            links_before = last_link_id()
        one_call(phone, rng.choice(callers), rng, clock)
        with database.connection_context():
            run_dispatch()
            clock.advance(seconds=5)
            run_dispatch()  # the simulated carrier's receipt, due a moment after the send
            codes = link_codes_after(links_before)
        open_links(phone.client, rng, clock, codes)
    return count


def last_link_id() -> int:
    from peewee import fn

    from sms.models import ShortLink

    return ShortLink.select(fn.MAX(ShortLink.id)).scalar() or 0


def link_codes_after(link_id: int) -> list[str]:
    from sms.models import ShortLink

    return [link.code for link in ShortLink.select().where(ShortLink.id > link_id)]


def open_links(client, rng: random.Random, clock, codes: list[str]) -> None:
    """Some callers open the link of the SMS just sent, as a phone's browser would (a GET of /s/<code>)."""
    for code in codes:
        if rng.random() < CLICK_SHARE:
            clock.advance(seconds=rng.randint(20, 90))
            assert client.get(f"/s/{code}").status_code == 302


def print_summary(app) -> None:
    from core.db import database
    from ivr.models import Call
    from sms.models import Message

    with app.app_context(), database.connection_context():
        for day in business_days():
            low, high = dt.datetime.combine(day, dt.time()), dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
            calls = Call.select().where(Call.started_at.between(low, high)).count()
            texts = Message.select().where(Message.created_at.between(low, high)).count()
            print(f"  {day}: {calls} calls, {texts} SMS", flush=True)


def refresh_report(app) -> str:
    from core.db import database
    from reports.jobs import refresh_reports

    with app.app_context(), database.connection_context():
        return refresh_reports()


# --- serving and photographing ----------------------------------------------------------------------------------
def serve(app, port: int):
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def demo_flow_id(app) -> int:
    from core.db import database
    from ivr.models import Flow

    with app.app_context(), database.connection_context():
        return Flow.get(Flow.number == DEMO_NUMBER).id


def pages(app) -> dict[str, str]:
    """name → path: the home page, the published report of the days with figures, the demo flow's editor (its
    picture; on a phone the editor shows the node list instead) and the same flow's picture with the report's figures."""
    flow_id = demo_flow_id(app)
    return {
        "dashboard": "/",
        "report": f"/reports/?from={FIRST_DAY.isoformat()}&to={PUBLISHED_TO.isoformat()}",
        "flow": f"/ivr/flows/{flow_id}/editor",
        "flow-figures": f"/reports/flow?flow={flow_id}&from={FIRST_DAY.isoformat()}&to={PUBLISHED_TO.isoformat()}",
    }


def log_in(page, base_url: str) -> None:
    page.goto(base_url + "/login")
    page.fill("input[name=username]", MANAGER)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def photograph(base_url: str, targets: dict[str, str]) -> list[Path]:
    from playwright.sync_api import sync_playwright

    saved = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for width in WIDTHS:
            context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo",
                                          viewport={"width": width, "height": 900})
            page = context.new_page()
            log_in(page, base_url)
            for name, path in targets.items():
                page.goto(base_url + path)
                page.wait_for_load_state("networkidle")
                saved.append(shoot(page, OUT / f"{name}-{width}.png", width))
            context.close()
        browser.close()
    return saved


# What sticks out past the right edge of the screen or of the main area (which then scrolls sideways).
TOO_WIDE = """() => {
    const main = document.querySelector("main");
    const edge = Math.min(window.innerWidth, main.getBoundingClientRect().right);
    const wide = [...main.querySelectorAll("*")].filter(e => e.getBoundingClientRect().right > edge + 1
        && !(e.parentElement && e.parentElement.getBoundingClientRect().right > edge + 1));
    const describe = e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
        + (e.className && typeof e.className === "string" ? "." + e.className.trim().split(/\\s+/).join(".") : "")
        + " " + Math.round(e.getBoundingClientRect().width) + "px";
    return {page: document.documentElement.scrollWidth - window.innerWidth,
            main: main.scrollWidth - main.clientWidth, elements: wide.slice(0, 5).map(describe)};
}"""


def shoot(page, target: Path, width: int) -> Path:
    wide = page.evaluate(TOO_WIDE)
    if wide["page"] > 0 or wide["main"] > 0:
        print(f"  warning: {target.name}: wider than the screen by {wide['page']} px, the main area scrolls by "
              f"{wide['main']} px; sticking out: {', '.join(wide['elements']) or '-'}", flush=True)
    height = page.evaluate("document.documentElement.scrollHeight")
    clip = {"x": 0, "y": 0, "width": width, "height": min(height, MAX_HEIGHT)}
    page.screenshot(path=str(target), full_page=True, clip=clip)
    return target


def main() -> int:
    check_prerequisites()
    fake = clock_module.FakeClock(dt.datetime.combine(FIRST_DAY, dt.time(8, 0)))
    clock_module.use_clock(fake)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="ivr-screenshots-") as tmp:
        app = build_app(Path(tmp), base_url, port)
        print("seeding the demo (guidance is synthesized once)...", flush=True)
        seed_demo(app)
        create_manager(app)
        print(f"calls through the demo flow: {make_calls(app, fake)}", flush=True)
        fake.set(dt.datetime.combine(TODAY, PHOTO_TIME))
        print(f"13:00 refresh: {refresh_report(app)}", flush=True)
        print_summary(app)
        server = serve(app, port)
        try:
            for path in photograph(base_url, pages(app)):
                print(f"{path.relative_to(ROOT)}  {path.stat().st_size / 1024:.0f} KB", flush=True)
        finally:
            server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())

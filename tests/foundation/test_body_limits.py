"""Request bodies are limited by kind of route before anything parses them (R-65, issue 11 item 1)."""
from __future__ import annotations

import io
import select
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest

from core.models import ApiToken
from web.limits import API_LIMIT, FORM_LIMIT, MIB, WEBHOOK_LIMIT, BodyLimits, RequestBodyLimit

BIG = 24 * MIB
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def waitress_url(database_url, app_config, clock):
    """The app under waitress, built as `python run.py web` builds it, on a free port of this process."""
    import run
    from tests.conftest import free_port
    from web import create_app

    port = free_port()
    app = create_app({**app_config, "database.url": database_url, "web.port": port, "web.host": "127.0.0.1",
                      "web.public_base_url": f"http://127.0.0.1:{port}"})
    server = run.web_server(app)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.close()
    server.task_dispatcher.shutdown()
    thread.join(timeout=5)


def rss_bytes() -> int:
    """This process's resident memory (the live server runs in it), from /proc."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


def stream_post(base: str, path: str, size: int, *, chunked: bool, headers: dict | None = None):
    """POST `size` bytes of `a=&a=&…` generated as it is sent (the client keeps none of it), stopping as soon as the
    server answers. Returns (status, headers text, body, seconds until the answer, bytes sent)."""
    host, port = urlsplit(base).hostname, urlsplit(base).port
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", f"Content-Type: {FORM}", "Connection: close",
             *(f"{k}: {v}" for k, v in (headers or {}).items()),
             "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"]
    piece = b"a=&" * (64 * 1024 // 3)
    started = time.perf_counter()
    sent = 0
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        try:
            while sent < size and not select.select([sock], [], [], 0)[0]:
                part = piece[: size - sent]
                sock.sendall(b"%x\r\n%s\r\n" % (len(part), part) if chunked else part)
                sent += len(part)
            if chunked and sent >= size:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed while the body was still coming
        answer = receive_all(sock)
    seconds = time.perf_counter() - started
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, head.decode("latin-1"), body.decode("utf-8", "replace"), seconds, sent


def receive_all(sock) -> bytes:
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


@pytest.mark.sqlite_only
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("path, headers, kind", [
    ("/login", {}, "text/html"),
    ("/no/such/page", {}, "text/html"),
    ("/twilio/voice", {"X-Twilio-Signature": "bogus"}, "text/plain"),  # in front of the voice-webhook shortcut too
])
def test_a_24_mb_anonymous_post_is_refused_at_once_with_memory_flat(waitress_url, path, headers, kind, chunked):
    # waitress takes in the whole body (on disk beyond 512 KB) before the app sees it; the app then refuses it
    # from its length alone. Before: 7-14 s of parsing and 50-580 MB more memory for such a body.
    stream_post(waitress_url, "/login", 1024, chunked=chunked)  # the server's first-request set-up, not measured
    before, cpu_before = rss_bytes(), time.process_time()
    status, head, body, seconds, _ = stream_post(waitress_url, path, BIG, chunked=chunked, headers=headers)
    # The work done, not the wall time: on a busy machine the wall clock measures the other processes. Server and
    # client are threads of this process, so its CPU time covers sending, spooling and refusing the body.
    cpu = time.process_time() - cpu_before
    grown = rss_bytes() - before
    assert status == 413
    assert f"Content-Type: {kind}" in head
    assert "送信されたデータが大きすぎます。" in body
    print(f"{path} chunked={chunked}: 413 after {seconds:.3f} s ({cpu:.3f} s of CPU), grew {grown / MIB:.1f} MB")
    assert cpu < 1.0, f"{cpu:.2f} s of CPU: the body was parsed (it took 7-14 s when it was)"
    assert grown < 8 * MIB, f"the process grew by {grown / MIB:.1f} MB"


class Unreadable(io.RawIOBase):
    def read(self, size=-1):
        raise AssertionError("the body was read")


def test_the_limit_refuses_from_the_length_alone_and_reads_a_chunked_body_no_further_than_it(app):
    """Servers that stream the body to the app (gunicorn, werkzeug) get the refusal before a byte is read."""
    passed_on = []
    limit = RequestBodyLimit(lambda environ, start: passed_on.append(environ) or [b""],
                             BodyLimits.for_app(app))
    statuses = []
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/login", "CONTENT_TYPE": FORM,
               "CONTENT_LENGTH": str(BIG), "wsgi.input": Unreadable()}
    body = b"".join(limit(environ, lambda status, headers: statuses.append(status)))
    assert statuses == ["413 REQUEST ENTITY TOO LARGE"] and "送信されたデータが大きすぎます。".encode() in body

    class Endless(io.RawIOBase):
        taken = 0

        def read(self, size=-1):
            self.taken += size
            return b"a" * size

    stream = Endless()
    chunked = {"REQUEST_METHOD": "POST", "PATH_INFO": "/twilio/voice", "CONTENT_TYPE": FORM,
               "HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": stream}
    limit(chunked, lambda status, headers: statuses.append(status))
    assert statuses[-1].startswith("413") and stream.taken == WEBHOOK_LIMIT + 1 and passed_on == []

    small = {"REQUEST_METHOD": "POST", "PATH_INFO": "/login", "CONTENT_TYPE": FORM, "wsgi.input_terminated": True,
             "wsgi.input": io.BytesIO(b"username=a&password=b")}
    limit(small, lambda status, headers: statuses.append(status))
    assert passed_on == [small] and small["CONTENT_LENGTH"] == "21" and small["wsgi.input"].read() == b"username=a&password=b"


@pytest.mark.sqlite_only
def test_a_chunked_body_within_its_limit_reaches_the_app_whole(live_server):
    import requests

    from core.db import database
    from core.models import User
    from tests.conftest import fixture_password_hash

    with live_server.app.app_context(), database.connection_context():
        User.create(username="chunky", role="staff", password_hash=fixture_password_hash())
    session = requests.Session()
    page = session.get(live_server.url + "/login").text
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    fields = f"csrf_token={token}&username=chunky&password=correct-horse-1".encode()
    response = session.post(live_server.url + "/login", data=iter([fields[:10], fields[10:]]),
                            headers={"Content-Type": FORM}, allow_redirects=False)
    assert response.request.headers["Transfer-Encoding"] == "chunked"
    assert response.status_code == 302, response.text


def test_each_kind_of_route_has_its_limit(app):
    limits = BodyLimits.for_app(app)
    files = limits.upload_files
    assert files["voice_file"] == 10 * MIB  # guidance.max_upload_mb
    assert files["bulk_csv"] == 200_000 * 320 and files["bulk_api"] == 200_000 * 64  # bulk.max_recipients
    assert limits.for_request("POST", "/twilio/voice") == WEBHOOK_LIMIT
    assert limits.for_request("POST", "/twilio/sms/status") == WEBHOOK_LIMIT
    assert limits.for_request("POST", "/api/v1/messages") == API_LIMIT
    assert limits.for_request("POST", "/api/v1/bulk-sends", "application/json") > files["bulk_api"]
    assert limits.for_request("POST", "/login", FORM) == FORM_LIMIT
    assert limits.for_request("POST", "/ivr/flows/3", FORM) == FORM_LIMIT
    multipart = "multipart/form-data; boundary=x"
    assert limits.for_request("GET", "/guidance/voice-files/new", multipart) == FORM_LIMIT  # only uploads are large
    assert limits.for_request("POST", "/guidance/voice-files/new", FORM) == FORM_LIMIT  # no file field in that
    assert limits.for_request("POST", "/guidance/voice-files/new", multipart) > files["voice_file"]
    assert limits.for_request("POST", "/guidance/voice-files/3/delete", multipart) == FORM_LIMIT
    assert limits.for_request("POST", "/bulk/7/recipients", multipart) > files["bulk_csv"]
    assert limits.for_request("POST", "/bulk/7/messages", multipart) == FORM_LIMIT
    assert limits.for_request("POST", "/ivr/simulator/recording", multipart) > 10 * MIB
    assert app.config["MAX_CONTENT_LENGTH"] == limits.largest


def test_a_form_over_its_limit_is_refused_in_japanese_and_nothing_is_saved(admin_client):
    response = admin_client.post("/admin/tokens", data={"label": "x" * FORM_LIMIT})
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "送信されたデータが大きすぎます。" in page and "1 回に送信できるのは 512 KB までです。" in page
    assert response.headers["Content-Type"].startswith("text/html")
    assert ApiToken.select().count() == 0
    assert admin_client.post("/admin/tokens", data={"label": "連携"}).status_code == 200
    assert ApiToken.select().count() == 1


def test_the_api_refuses_in_its_json_shape_and_webhooks_in_plain_text(client):
    api = client.post("/api/v1/messages", data=b"{" + b" " * API_LIMIT + b"}", content_type="application/json",
                      csrf=False)
    assert api.status_code == 413
    assert api.json == {"error": {"code": "too_large",
                                  "message": "送信されたデータが大きすぎます。1 回に送信できるのは 256 KB までです。"}}
    hook = client.post("/twilio/sms/status", data=b"a" * (WEBHOOK_LIMIT + 1), content_type=FORM, csrf=False)
    assert hook.status_code == 413 and hook.mimetype == "text/plain"
    assert hook.get_data(as_text=True) == "送信されたデータが大きすぎます。"


def test_an_upload_route_takes_its_configured_size(staff_client):
    from tests.guidance.test_voice_files import form, upload_form

    over_form_limit = b"RIFF" + b"\0" * (2 * FORM_LIMIT)
    response = staff_client.post("/guidance/voice-files/new", data=upload_form(over_form_limit, "a.wav"),
                                 content_type="multipart/form-data")
    assert response.status_code == 400  # the form itself looked at it (not a WAV it can read), not the limit
    assert "送信されたデータが大きすぎます" not in response.get_data(as_text=True)
    refused = staff_client.post("/guidance/voice-files/new", data=form(text="x" * 2 * FORM_LIMIT))
    assert refused.status_code == 413  # as large, but no file field: the route's page limit is nowhere near


def test_the_bulk_csv_field_announces_its_route_limit(app, manager_client):
    page = manager_client.get("/bulk/new").get_data(as_text=True)
    limit = app.config["UPLOAD_LIMITS"]["bulk_csv"]
    assert f'name="csv_file" accept=".csv,.txt,text/csv" data-max-bytes="{limit}"' in page


def test_an_anonymous_upload_is_turned_away_before_its_body_is_read(app, client, monkeypatch):
    from werkzeug import formparser

    parsed = []
    original = formparser.FormDataParser.parse
    monkeypatch.setattr(formparser.FormDataParser, "parse",
                        lambda self, *a, **kw: parsed.append(1) or original(self, *a, **kw))
    response = client.post("/guidance/voice-files/new", data={"name": "x", "upload": (bytes(MIB), "a.wav")},
                           content_type="multipart/form-data", csrf=False)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert parsed == []

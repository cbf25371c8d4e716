"""Security headers on every response (R-65, issue 11 item 7), no inline script or style in any template, and one
URL scheme for static files (/static/<package>/<file>)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.config import ROOT
from core.security import issue_api_token
from core.twilio import signature_for

PROTECTIONS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def assert_protected(response, *, cacheable: bool = False):
    policy = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert "unsafe" not in policy
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    for name, value in PROTECTIONS.items():
        assert response.headers[name] == value, name
    if cacheable:
        assert "no-store" not in response.headers.get("Cache-Control", "")
    else:
        assert response.headers["Cache-Control"] == "no-store"


def test_signed_in_pages_and_errors_carry_the_headers(admin_client):
    for path in ["/", "/admin/users", "/sms/boxes", "/reports/", "/ivr/simulator", "/no/such/page"]:
        assert_protected(admin_client.get(path))
    assert_protected(admin_client.post("/admin/tokens", data={"label": "x" * 600_000}))  # the 413 made outside Flask


def test_the_login_page_and_public_pages_carry_them(client):
    assert_protected(client.get("/login"))
    assert_protected(client.get("/s/nothing"))
    assert_protected(client.get("/optout/nothing"))


def test_downloads_are_never_stored(manager_client):
    for path in ["/sms/log.csv", "/reports/calls.csv", "/reports/daily.csv"]:
        response = manager_client.get(path)
        assert response.status_code == 200, path
        assert response.get_data()  # streamed: read to the end before the next request
        assert_protected(response)


def test_the_api_carries_them(client):
    _, raw = issue_api_token("headers")
    assert_protected(client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {raw}"}))
    assert_protected(client.get("/api/v1/whoami"))  # its 401
    assert_protected(client.get("/api/v1/openapi.json"))


def test_webhooks_answered_by_the_shortcut_carry_them(app, client):
    params = {"CallSid": "CA" + "0" * 32, "From": "+819012345678", "To": "+815099999999", "CallStatus": "ringing"}
    url = app.config["PUBLIC_BASE_URL"] + "/twilio/voice"
    response = client.post("/twilio/voice", data=params, csrf=False,
                           headers={"X-Twilio-Signature": signature_for(url, params)})
    assert response.status_code == 200 and response.mimetype == "text/xml"
    assert_protected(response)
    assert_protected(client.post("/twilio/voice", data=params, csrf=False))  # the refused, unsigned one


def test_static_files_carry_them_and_may_be_cached(client):
    response = client.get("/static/web/app.js")
    assert response.status_code == 200
    assert_protected(response, cacheable=True)


# --- one URL scheme for static files ----------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["/static/web/app.css", "/static/web/app.js", "/static/guidance/guidance.js",
                                 "/static/sms/box_editor.js", "/static/sms/public.css", "/static/bulk/bulk.js",
                                 "/static/ivr/simulator.js", "/static/ivr/ivr.css", "/static/reports/chart.js"])
def test_every_package_serves_its_files_under_static_without_login(client, url):
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("url", ["/static/app.css", "/sms/static/sms.css", "/ivr/static/ivr/ivr.css",
                                 "/reports/assets/reports/chart.js", "/static/nothing/x.js",
                                 "/static/web/../../config.yaml", "/static/web/%2e%2e/__init__.py", "/static/web"])
def test_old_schemes_and_paths_outside_the_folders_are_not_found(client, url):
    assert client.get(url).status_code == 404


def test_every_page_links_static_files_under_static(admin_client):
    for path in ["/", "/guidance/voice-files", "/ivr/flows/new", "/ivr/simulator", "/sms/boxes/new", "/bulk/new",
                 "/reports/"]:
        page = admin_client.get(path).get_data(as_text=True)
        assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', page)
        assert assets and all(a.startswith("/static/") for a in assets), (path, assets)


# --- templates under the policy ------------------------------------------------------------------------------------
TEMPLATES = sorted(p for p in ROOT.glob("**/templates/**/*.html") if ".venv" not in p.parts)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)
EVENT_ATTRIBUTE = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_has_inline_script_event_attributes_or_styles(template: Path):
    text = template.read_text(encoding="utf-8")
    assert not INLINE_SCRIPT.search(text)
    assert not EVENT_ATTRIBUTE.search(text)
    assert not STYLE.search(text)
    assert "javascript:" not in text.lower()

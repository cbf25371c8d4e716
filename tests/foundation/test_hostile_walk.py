"""R-65 "no input gives a 5xx": a walk over the app's whole URL map.

Every rule and method, as an admin (with CSRF tokens, so forms are parsed), anonymously, with an API token, and
signed like Twilio on the webhooks; path parameters are real rows and hostile values; every route gets hostile
values (Unicode digits, huge and negative integers, dates outside 1900-2100, lone surrogates, NUL, formula text)
as query strings and form fields under its real field names (read from the forms of its pages and from its
package's code), hostile JSON (deep, wrong-shaped, NaN/Infinity, lone surrogates, huge numbers) and an oversize
body. No answer may be a 5xx, and every refusal (4xx) must carry a Japanese message: an error page, an alert
or field error on the re-rendered form, or the API's JSON error.

The walk runs in parts (PARTS: a blueprint's routes, the big blueprints' in chunks of about equal walking time) that
test workers take side by side; the parts together cover every route, and the last part to finish checks the whole
walk's figures.
"""
from __future__ import annotations

import io
import itertools
import json
import logging
import re
import sys
from pathlib import Path
from urllib.parse import parse_qsl, quote, quote_from_bytes, urlsplit

import pytest
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from core.db import MAX_ID
from tests.support.hostile import (
    FIELD_VALUES,
    HOSTILE_VALUES,
    JSON_BODIES,
    JSON_FIELD_VALUES,
    LONE_SURROGATE,
    PATH_VALUES,
    build_world,
    forms_of,
    japanese_refusal,
    source_field_names,
)

FORM_TYPE = "application/x-www-form-urlencoded"
# Routes that end the admin's session or take away what the rest of the walk needs go last.
LAST = ("logout", "delete", "remove", "revoke", "cancel", "unlock", "handled", "resend")
SKIPPED_FOR_ADMIN = {"auth.logout"}  # walked anonymously; as the admin it would end the walk's session
# Each of these requests hashes a password on purpose (slow by design): a few values show what the rest would.
SLOW_BY_DESIGN = {"auth.change_password", "auth.login"}


@pytest.fixture
def app_config(app_config, tmp_path):
    return {**app_config, "ivr.simulator_recordings_dir": str(tmp_path / "recordings")}


class Walk:
    def __init__(self, app, world, caplog):
        self.app = app
        self.world = world
        self.caplog = caplog
        self.failures: list[str] = []
        self.requests = 0
        self.refusals = 0

    # --- sending ---------------------------------------------------------------------------------------------------
    def send(self, client, method: str, path: str, *, query: bytes = b"", body: bytes | None = None,
             content_type: str | None = None, headers: dict | None = None):
        url = path + ("?" + query.decode("ascii") if query else "")
        self.caplog.clear()
        self.requests += 1
        try:
            response = client.open(url, method=method, data=body, content_type=content_type, headers=headers or {})
            response.get_data()  # a streamed download fails while it streams
        except Exception as exc:  # noqa: BLE001 (any exception here is the finding)
            self.fail(method, url, body, f"raised {exc!r}")
            return None
        self.check(method, url, body, response)
        return response

    def check(self, method, url, body, response):
        status = response.status_code
        if status >= 500:
            errors = [r.getMessage() + "\n" + (r.exc_text or "") for r in self.caplog.records
                      if r.levelno >= logging.ERROR]
            self.fail(method, url, body, f"{status}: {errors[-1][-1500:] if errors else response.get_data()[:300]}")
        elif 400 <= status < 500 and method != "HEAD":
            self.refusals += 1
            if japanese_refusal(response) is None:
                self.fail(method, url, body, f"{status} without a Japanese message: {response.get_data()[:300]!r}")

    def fail(self, method, url, body, what):
        shown_body = body[:160] if isinstance(body, bytes) else repr(body)[:160]
        self.failures.append(f"{method} {url[:200]} {shown_body!r}: {what}")


def encode(pairs) -> bytes:
    return "&".join(f"{quote(name)}={quote_from_bytes(value)}" for name, value in pairs).encode("ascii")


def as_bytes(value) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


def reads_json(app, endpoint: str) -> bool:
    """Whether the view's module takes JSON bodies."""
    text = Path(sys.modules[app.view_functions[endpoint].__module__].__file__).read_text()
    return any(reader in text for reader in ("json_request", "json_body(", "get_json("))


# --- the URL map ---------------------------------------------------------------------------------------------------
def rules_in_order(app):
    rules = [r for r in app.url_map.iter_rules() if not r.endpoint.endswith("static") and r.endpoint != "static"]
    return sorted(rules, key=lambda r: (any(word in r.endpoint for word in LAST), r.rule))


def methods_of(rule) -> list[str]:
    return sorted(rule.methods - {"OPTIONS", "HEAD"})


def paths_for(rule, world, hostile: bool = True) -> list[str]:
    """The rule with real values, then each argument in turn with hostile ones (integers: 0 and the largest id)."""
    arguments = list(rule.arguments)
    real = {name: world.value(rule.endpoint, name) for name in arguments}
    paths = [build(rule, real)]
    if not hostile:
        return paths
    for name in arguments:
        converter = rule._converters[name]
        values = ["0", str(MAX_ID)] if isinstance(converter, IntegerConverter) else PATH_VALUES
        paths += [build(rule, {**real, name: value}) for value in values]
    return paths


def build(rule, values: dict[str, str]) -> str:
    path = rule.rule
    for name, value in values.items():
        escaped = value if "%" in value else quote(value, safe="")
        path = re.sub(r"<(?:[^:<>]+:)?" + re.escape(name) + ">", lambda _m, v=escaped: v, path)
    return path


def page_forms(walk, client, rules) -> dict[str, list]:
    """Endpoint → the forms that post (or get) to it, read from every page the admin can open."""
    adapter = walk.app.url_map.bind("localhost")
    found: dict[str, list] = {}
    for rule in rules:
        if "GET" not in rule.methods:
            continue
        for path in paths_for(rule, walk.world, hostile=False):
            response = walk.send(client, "GET", path)
            if response is None or response.mimetype != "text/html":
                continue
            for form in forms_of(path, response.get_data(as_text=True)):
                target = urlsplit(form.action)
                try:
                    endpoint, _ = adapter.match(target.path, method=form.method)
                except HTTPException:  # a form to another site: not ours to walk
                    continue
                found.setdefault(endpoint, []).append((target.path, form))
    return found


def one_per_pattern(fields: list[tuple[str, str]]) -> list[str]:
    """Each field name once, and of numbered rows (nodes-3-key) only the first row's: the same parser reads them."""
    seen, names = set(), []
    for name, _ in fields:
        pattern = re.sub(r"\d+", "#", name)
        if pattern not in seen:
            seen.add(pattern)
            names.append(name)
    return names


# --- the walk ------------------------------------------------------------------------------------------------------
def walk_forms_and_queries(walk, client, rule, forms, csrf: str | None, values=HOSTILE_VALUES):
    package = walk.app.view_functions[rule.endpoint].__module__.rsplit(".", 1)[0]
    source_names = source_field_names(package)
    page_names = {name for _, form in forms for name, _ in form.fields}
    names = sorted(source_names | page_names - {"csrf_token"})
    token = [("csrf_token", csrf.encode())] if csrf else []
    for method in methods_of(rule):
        for path in paths_for(rule, walk.world):
            walk.send(client, method, path)
        path = paths_for(rule, walk.world, hostile=False)[0]
        for value in values:
            pairs = [(name, value) for name in names]
            if method == "GET":
                walk.send(client, "GET", path, query=encode(pairs))
            else:
                walk.send(client, method, path, body=encode(token + pairs), content_type=FORM_TYPE)
        for value in values[:3] if method != "GET" else ():  # a few read request.values: the query too
            pairs = [(name, value) for name in names]
            walk.send(client, method, path, query=encode(pairs), body=encode(token), content_type=FORM_TYPE)
        for form_path, form in forms:
            if form.method == method:
                walk_one_field_at_a_time(walk, client, method, form_path, form, token)
        if method == "GET" and rule.rule.startswith("/api/"):
            walk_api_parameters(walk, client, rule, path)


def walk_one_field_at_a_time(walk, client, method: str, path: str, form, token: list):
    """The form as the page fills it, under each choice of its radio buttons, with one field hostile at a time
    (so the value reaches its parser instead of an earlier field's refusal); file fields carry a real file."""
    for fields in form.variants():
        fields = [(n, v) for n, v in fields if n != "csrf_token"]
        for name, value in itertools.product(one_per_pattern(fields), FIELD_VALUES):
            pairs = [(n, value if n == name else as_bytes(v)) for n, v in fields]
            if method == "GET":
                walk.send(client, "GET", path, query=encode(pairs))
            elif form.files:
                if value == LONE_SURROGATE:  # a multipart field is text: the surrogate goes by urlencoded forms
                    continue
                data = MultiDict([(n, v.decode()) for n, v in token + pairs])
                for field_name, (content, filename) in form.sample_files().items():
                    data.add(field_name, (io.BytesIO(content), filename))
                walk.send(client, method, path, body=data, content_type="multipart/form-data")
            else:
                walk.send(client, method, path, body=encode(token + pairs), content_type=FORM_TYPE)


def walk_api_parameters(walk, client, rule, path: str):
    """Each documented query parameter hostile in turn, the others plausible (dates: the walk's day)."""
    from core.openapi import document

    operation = document(walk.app)["paths"].get(rule.rule, {}).get("get", {})
    parameters = [p for p in operation.get("parameters", []) if p.get("in") == "query"]
    plausible = {p["name"]: plausible_value(p.get("schema", {})) for p in parameters}
    for name, value in itertools.product(plausible, FIELD_VALUES):
        pairs = [(n, value if n == name else v.encode()) for n, v in plausible.items() if v or n == name]
        walk.send(client, "GET", path, query=encode(pairs))


def plausible_value(schema: dict) -> str:
    if schema.get("format") == "date":
        return "2026-01-05"
    if schema.get("type") == "integer":
        return str(schema.get("minimum", 1))
    return ""


# Documents shaped like what the JSON views take, so each hostile leaf reaches its check.
def json_bases(world) -> list[dict]:
    return [
        {"to": "090-1234-5678", "box": 1},
        {"to": "090-1234-5678", "text": "本文"},
        {"recipients": ["090-1234-5678"], "messages": [{"text": "お知らせ", "box": 1}, "続報"],
         "scheduled_at": "2026-01-06T10:00", "title": "件名"},
        {"call_sid": world.call_sid, "url": "/twilio/voice/step/1", "params": {"Digits": "1"},
         "status": "completed", "seconds": 5},
        {"to": "+815000000000", "from": "090-1234-5678", "withheld": False},
        {"text": "本文 {url}", "url": "https://example.jp/a"},
    ]


def leaf_paths(document, path=()):
    """Every place in a document a value sits, the containers included."""
    yield path
    children = document.items() if isinstance(document, dict) else enumerate(document) if isinstance(
        document, list) else ()
    for key, child in children:
        yield from leaf_paths(child, (*path, key))


def replaced(document, path, value):
    if not path:
        return value
    copy = dict(document) if isinstance(document, dict) else list(document)
    copy[path[0]] = replaced(document[path[0]], path[1:], value)
    return copy


def walk_json(walk, client, rule, headers: dict):
    """Hostile documents to every route that takes a body; for a JSON-reading view, each place of a realistic
    document in turn holds a wrong value."""
    for method in methods_of(rule):
        if method == "GET":
            continue
        path = paths_for(rule, walk.world, hostile=False)[0]
        for body in JSON_BODIES:
            walk.send(client, method, path, body=body, content_type="application/json", headers=headers)
        if not reads_json(walk.app, rule.endpoint):
            continue
        for base in json_bases(walk.world):
            for where, value in itertools.product(list(leaf_paths(base))[1:], JSON_FIELD_VALUES):
                body = json.dumps(replaced(base, where, value)).encode()
                walk.send(client, method, path, body=body, content_type="application/json", headers=headers)


def walk_webhook(walk, client, rule):
    """Signed like Twilio, so the hostile values reach the views (unsigned ones are refused first)."""
    from core.twilio import public_base_url, signature_for

    names = sorted(source_field_names("ivr") | source_field_names("sms") | {"CallSid", "CallDuration"})
    names = [n for n in names if n[:1].isupper()]  # Twilio's parameters are capitalised
    path = paths_for(rule, walk.world, hostile=False)[0]
    for value, known_call in itertools.product([v for v in HOSTILE_VALUES if v != LONE_SURROGATE], (True, False)):
        params = {name: value.decode() for name in names}
        if known_call:  # the seeded call, so the values reach its handling (else a new call with these values)
            params["CallSid"] = walk.world.call_sid
        body = encode([(k, v.encode()) for k, v in params.items()])
        signed = dict(parse_qsl(body.decode(), keep_blank_values=True))
        headers = {"X-Twilio-Signature": signature_for(public_base_url() + path, signed)}
        walk.send(client, "POST", path, body=body, content_type=FORM_TYPE, headers=headers)
    for path in paths_for(rule, walk.world):
        walk.send(client, "POST", path, body=b"CallSid=x", content_type=FORM_TYPE, headers={"X-Twilio-Signature": "x"})


def walk_nul_and_oversize(walk, client, rule, csrf: str | None, headers: dict | None = None):
    path = paths_for(rule, walk.world, hostile=False)[0]
    limit = walk.app.config["MAX_CONTENT_LENGTH"]
    walk.app.config["MAX_CONTENT_LENGTH"] = 256 * 1024
    try:
        for method in methods_of(rule):
            token = f"csrf_token={csrf}&" if csrf else ""
            walk.send(client, method, path, query=b"q=a%00b", headers=headers)
            if method != "GET":
                walk.send(client, method, path, body=(token + "a=b%00c").encode(), content_type=FORM_TYPE,
                          headers=headers)
                walk.send(client, method, path, body=(token + "a=&" * 100_000).encode(), content_type=FORM_TYPE,
                          headers=headers)
                walk.send(client, method, path, body=b"[" * 300_000, content_type="application/json", headers=headers)
    finally:
        walk.app.config["MAX_CONTENT_LENGTH"] = limit


# --- the walk in parts ---------------------------------------------------------------------------------------------
# The walk is split into parts (each blueprint's routes, the big blueprints' in chunks) so that test workers walk
# them side by side; each part walks its routes in a fresh world of its own. Every route belongs to exactly one part
# (test_the_parts_cover_every_route), and the part that finishes last adds up what all the parts of its database
# walked (totals_of_all_parts).
PART_OF_BLUEPRINT = {
    "admin": "admin", "auth": "accounts", "home": "accounts", "api_docs": "api", "reports_api": "api",
    "sms_api": "sms_api", "bulk_api": "bulk_api", "bulk": "bulk", "ivr": "ivr", "guidance": "guidance",
    "sms": "sms", "sms_public": "sms", "notify": "notify_reports", "reports": "notify_reports",
    "twilio_voice": "webhooks", "sms_webhooks": "webhooks",
}
CHUNKS = {"admin": 2, "bulk": 3, "ivr": 7, "guidance": 3, "sms": 2}
PARTS = [f"{part}-{i + 1}of{CHUNKS.get(part, 1)}" for part in dict.fromkeys(PART_OF_BLUEPRINT.values())
         for i in range(CHUNKS.get(part, 1))]
# Seconds each route's walk took (SQLite, on a loaded machine) where it took more than a few: a chunked part's
# routes are dealt out to its chunks by these, so that the chunks take about as long. Others count as 3.
WEIGHT = {
    "ivr.flow_edit": 142, "ivr.flow_new": 112, "ivr.flow_publish": 91, "ivr.flow_restore": 82,
    "ivr.flow_guidance_new": 50, "ivr.flow_start": 38, "ivr.simulator_recording": 37, "ivr.simulator_send": 37,
    "ivr.simulator_start": 25, "ivr.simulator_hangup": 24, "ivr.menu_detail": 23, "ivr.flow_draft_discard": 17,
    "ivr.callers": 15, "ivr.flow_draft_save": 14, "guidance.preview_voice": 77, "guidance.new_voice_file": 69,
    "guidance.edit_voice_file": 66, "guidance.delete_guidance": 60, "guidance.edit_guidance": 38,
    "guidance.new_guidance": 35,
    "bulk.edit_recipients": 14, "bulk.new_send": 11, "admin.holidays": 9, "bulk.messages": 8, "admin.edit_user": 7,
    "admin.new_user": 7, "bulk.confirm": 7,
}


def part_of_rules(rules) -> dict[str, str]:
    """Endpoint → its part: a blueprint's part, and within a chunked part, the heaviest route first to the chunk
    with the least weight so far."""
    by_part: dict[str, list[str]] = {}
    for endpoint in sorted({rule.endpoint for rule in rules}):
        by_part.setdefault(PART_OF_BLUEPRINT.get(endpoint.split(".")[0], "(none)"), []).append(endpoint)
    parts = {}
    for part, endpoints in by_part.items():
        chunks = CHUNKS.get(part, 1)
        loads = [0] * chunks
        for endpoint in sorted(endpoints, key=lambda e: (-WEIGHT.get(e, 3), e)):
            lightest = loads.index(min(loads))
            loads[lightest] += WEIGHT.get(endpoint, 3)
            parts[endpoint] = f"{part}-{lightest + 1}of{chunks}"
    return parts


@pytest.mark.sqlite_only
def test_the_parts_cover_every_route(app):
    rules = rules_in_order(app)
    parts = part_of_rules(rules)
    assert set(parts.values()) == set(PARTS), "a blueprint the walk has no part for: add it to PART_OF_BLUEPRINT"
    assert {rule.endpoint for rule in rules} == set(parts) and len(parts) >= 90
    assert {"sms_api.create_message", "bulk.new_send", "admin.holidays", "twilio_voice.status"} <= set(parts)


@pytest.mark.slow
@pytest.mark.parametrize("part", PARTS)
def test_no_route_answers_hostile_input_with_a_server_error(part, app, admin_client, client, caplog, request,
                                                             tmp_path_factory):
    caplog.set_level(logging.ERROR)
    world = build_world(app, admin_client)
    walk = Walk(app, world, caplog)
    rules = rules_in_order(app)
    forms = page_forms(walk, admin_client, rules)  # from every page: a route's form may sit on another's page
    parts = part_of_rules(rules)
    rules = [rule for rule in rules if parts[rule.endpoint] == part]
    csrf = admin_client.csrf_token()
    api = {"Authorization": f"Bearer {world.api_token}"}
    walk.requests = walk.refusals = 0  # the counts are the part's routes' own
    walked = {}
    for rule in rules:
        before = walk.requests
        if rule.rule.startswith("/twilio/"):
            walk_webhook(walk, client, rule)
            walk_nul_and_oversize(walk, client, rule, None)
            walked[rule.endpoint] = walked.get(rule.endpoint, 0) + walk.requests - before
            continue
        if rule.rule.startswith("/api/"):
            walk_forms_and_queries(walk, TokenClient(client, api), rule, [], None)
            walk_json(walk, TokenClient(client, api), rule, {})
            walk_nul_and_oversize(walk, client, rule, None, api)
        if rule.endpoint not in SKIPPED_FOR_ADMIN:
            values = HOSTILE_VALUES[:6] if rule.endpoint in SLOW_BY_DESIGN else HOSTILE_VALUES
            walk_forms_and_queries(walk, admin_client, rule, forms.get(rule.endpoint, []), csrf, values)
            walk_json(walk, admin_client, rule, {"X-CSRFToken": csrf})
            walk_nul_and_oversize(walk, admin_client, rule, csrf)
        walk_forms_and_queries(walk, client, rule, [], None, values=HOSTILE_VALUES[:4])
        walked[rule.endpoint] = walked.get(rule.endpoint, 0) + walk.requests - before
    assert not walk.failures, f"{len(walk.failures)} of {walk.requests} requests:\n" + "\n".join(walk.failures[:60])
    assert rules and all(walked.values()), walked
    assert walk.refusals > 0
    totals = totals_of_all_parts(tmp_path_factory, request.node.callspec.params["database_url"], part,
                                 {"endpoints": sorted(walked), "requests": walk.requests, "refusals": walk.refusals})
    if totals is not None:  # every part of this database has been walked in this run: the whole walk's figures
        assert len(totals["endpoints"]) >= 90 and totals["requests"] > 5000 and totals["refusals"] > 1000, totals
        assert {"sms_api.create_message", "bulk.new_send", "admin.holidays", "twilio_voice.status"} <= set(
            totals["endpoints"])


def totals_of_all_parts(tmp_path_factory, backend: str, part: str, counts: dict) -> dict | None:
    """Record this part's counts in the run's directory (shared by the test workers); once every part of the
    backend has recorded its own, their sum (else None: other parts are still walking, or were not selected)."""
    import os

    run_dir = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        run_dir = run_dir.parent  # each worker's base is inside the run's
    directory = run_dir / "hostile-walk" / backend
    directory.mkdir(parents=True, exist_ok=True)
    written = directory / f"{part}.json.tmp-{os.getpid()}"
    written.write_text(json.dumps(counts))
    written.rename(directory / f"{part}.json")  # whole files only: another part may be reading
    recorded = {path.name.removesuffix(".json"): json.loads(path.read_text()) for path in directory.glob("*.json")}
    if set(recorded) != set(PARTS):
        return None
    return {"endpoints": sorted({e for c in recorded.values() for e in c["endpoints"]}),
            "requests": sum(c["requests"] for c in recorded.values()),
            "refusals": sum(c["refusals"] for c in recorded.values())}


class TokenClient:
    """The test client with the API token on every request."""

    def __init__(self, client, headers: dict):
        self.client = client
        self.headers = headers

    def open(self, *args, headers=None, **kwargs):
        return self.client.open(*args, headers={**self.headers, **(headers or {})}, **kwargs)

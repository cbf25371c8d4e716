"""The app is put together by each package's init_app, by name: every menu page is there under its endpoint
name and URL (pages of several modules share one blueprint), and the public paths are the kernel's plus those
the packages registered."""
from flask import url_for

from core.extensions import no_allowlist_prefixes, no_login_prefixes
from web.menu import MENU


def test_every_menu_page_is_registered_under_its_endpoint_name(app):
    endpoints = {endpoint for _, items in MENU for _, endpoint, _ in items}
    assert endpoints - set(app.view_functions) == set()


def test_pages_from_several_modules_keep_their_blueprints_urls(app):
    with app.test_request_context():
        assert [url_for(name) for name in ("ivr.flows", "ivr.simulator", "ivr.voicemails")] == [
            "/ivr/flows", "/ivr/simulator", "/ivr/voicemails"]
        assert [url_for(name) for name in ("sms.boxes", "sms.log", "sms.outbox", "sms.optouts")] == [
            "/sms/boxes", "/sms/log", "/sms/outbox", "/sms/optouts"]
    assert app.jinja_env.filters["phone"]("+819012345678") == "090-1234-5678"


def test_public_paths_are_the_kernels_and_those_the_packages_registered(app):
    with app.test_request_context():
        assert set(no_allowlist_prefixes()) == {"/twilio/", "/static/", "/api/", "/healthz", "/favicon.ico",
                                                "/audio/", "/s/", "/optout/"}
        assert set(no_login_prefixes()) == set(no_allowlist_prefixes()) | {"/login"}

"""The icon in the browser's tab: every page names it, and /favicon.ico answers too (no 404 on any page)."""
from __future__ import annotations


def test_favicon_ico_is_served_without_login(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
    assert response.data[:4] == b"\x00\x00\x01\x00"  # an icon file, with its images
    assert response.headers["Cache-Control"] == "public, max-age=604800"  # a week: not asked again on every page


def test_every_page_names_the_svg_icon_and_it_is_served(client, manager_client):
    for page in (client.get("/login"), manager_client.get("/"), manager_client.get("/reports/")):
        assert '<link rel="icon" href="/static/web/favicon.svg" type="image/svg+xml">' in page.get_data(as_text=True)
    icon = client.get("/static/web/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert icon.get_data(as_text=True).startswith("<svg")

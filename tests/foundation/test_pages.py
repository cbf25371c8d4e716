def test_login_page_is_served_and_pages_need_login(client):
    assert client.get("/login").status_code == 200
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_admin_reaches_admin_pages(admin_client):
    for path in ["/admin/users", "/admin/tokens", "/admin/ip", "/admin/holidays", "/admin/audit", "/admin/settings", "/"]:
        response = admin_client.get(path)
        assert response.status_code == 200, path


def test_nul_characters_are_refused_in_japanese_everywhere(admin_client, client):
    from core.models import CompanyHoliday
    from core.security import issue_api_token

    page = admin_client.get("/admin/users?q=a%00b")
    assert page.status_code == 400 and "NUL 文字" in page.get_data(as_text=True)

    form = admin_client.post("/admin/holidays", data={"day": "2026-12-29", "name": "年末\x00休業"})
    assert form.status_code == 400 and "NUL 文字" in form.get_data(as_text=True)
    assert CompanyHoliday.select().count() == 0

    _, raw = issue_api_token("nul")
    api = client.post("/api/v1/whoami", json={"text": "a\x00b"}, headers={"Authorization": f"Bearer {raw}"})
    assert api.status_code == 400 and api.json["error"]["code"] == "bad_request"
    assert "NUL 文字" in api.json["error"]["message"]

    public = client.get("/s/ab%00cd")
    assert public.status_code == 400 and "NUL 文字" in public.get_data(as_text=True)

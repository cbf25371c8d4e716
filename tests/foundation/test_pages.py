def test_login_page_is_served_and_pages_need_login(client):
    assert client.get("/login").status_code == 200
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_admin_reaches_admin_pages(admin_client):
    for path in ["/admin/users", "/admin/tokens", "/admin/ip", "/admin/holidays", "/admin/audit", "/admin/settings", "/"]:
        response = admin_client.get(path)
        assert response.status_code == 200, path

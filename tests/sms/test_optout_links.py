"""Opt-out (R-24) through the personal link and the admin list, then sends refused; short links (R-25)."""
import re

from core.models import AuditLog
from sms.models import Message, OptOut, ShortLink
from sms.sending import queue_box, queue_text


def optout_path(message):
    return re.search(r"http://localhost(/optout/[\w-]+)", message.body).group(1)


def test_personal_optout_link_then_every_send_to_that_number_is_refused(client, app, box):
    result = queue_text("お知らせ 配信停止: {optout_url}", "090-1234-5678", source="api")
    path = optout_path(Message.get_by_id(result.message_id))
    confirm = client.get(path).get_data(as_text=True)
    assert "090-****-5678 への SMS の配信を停止します" in confirm
    assert OptOut.select().count() == 0  # a GET (e.g. a link preview) never opts out
    done = client.post(path)
    assert done.status_code == 200 and "配信を停止しました" in done.get_data(as_text=True)
    assert OptOut.get().number == "+819012345678"
    assert AuditLog.get(AuditLog.action == "optout.added").actor == "recipient"
    again = client.get(path).get_data(as_text=True)
    assert "配信を停止しました" in again
    refused = queue_box(7, "09012345678", source="ivr")
    assert (refused.ok, refused.code, refused.reason) == (False, "opted_out", "配信停止の申し出があった番号のため、送信できません。")


def test_optout_link_needs_no_login_but_a_valid_token(client, app):
    response = client.get("/optout/not-a-token")
    assert response.status_code == 404 and "このリンクは無効です" in response.get_data(as_text=True)


def test_each_recipient_gets_a_different_optout_url(app):
    first = queue_text("停止: {optout_url}", "09012345678", source="api")
    second = queue_text("停止: {optout_url}", "09012345679", source="api")
    bodies = {Message.get_by_id(r.message_id).body for r in (first, second)}
    assert len(bodies) == 2


def test_short_link_redirects_and_counts_clicks_per_message(client, app, box):
    result = queue_box(7, "090-1234-5678", source="ivr")
    message = Message.get_by_id(result.message_id)
    path = re.search(r"http://localhost(/s/\w+)", message.body).group(1)
    for _ in range(2):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "https://example.jp/reserve"
    assert Message.get_by_id(message.id).clicks == 2
    assert ShortLink.get().clicks == 2
    assert client.get("/s/unknown1").status_code == 404


def test_head_of_a_short_link_is_never_a_click(client, app, box):
    """Link scanners and chat previews send HEAD: they learn where it goes, nobody clicked (R-25)."""
    result = queue_box(7, "090-1234-5678", source="ivr")
    path = re.search(r"http://localhost(/s/\w+)", Message.get_by_id(result.message_id).body).group(1)
    for _ in range(3):
        response = client.head(path)
        assert response.status_code == 302 and response.headers["Location"] == "https://example.jp/reserve"
    assert (Message.get_by_id(result.message_id).clicks, ShortLink.get().clicks) == (0, 0)
    assert ShortLink.get().last_clicked_at is None
    assert client.get(path).status_code == 302
    assert (Message.get_by_id(result.message_id).clicks, ShortLink.get().clicks) == (1, 1)
    assert client.head("/s/unknown1").status_code == 404


def test_admin_list_adds_and_removes_numbers(admin_client, app):
    response = admin_client.post("/sms/optouts", data={"number": "080-1111-2222", "note": "電話で申し出"})
    assert response.status_code == 302
    page = admin_client.get("/sms/optouts").get_data(as_text=True)
    assert "080-1111-2222" in page and "電話で申し出" in page and "管理画面" in page
    refused = admin_client.post("/sms/optouts", data={"number": "050-1111-2222"})
    assert refused.status_code == 400 and "IP 電話" in refused.get_data(as_text=True)
    row = OptOut.get()
    assert admin_client.post(f"/sms/optouts/{row.id}/remove").status_code == 302
    assert OptOut.select().count() == 0
    assert [a.action for a in AuditLog.select().order_by(AuditLog.id)][-2:] == ["optout.added", "optout.removed"]


def test_managers_see_the_list_but_only_admins_remove(manager_client, app):
    manager_client.post("/sms/optouts", data={"number": "080-1111-2222"})
    row = OptOut.get()
    assert "解除</button>" not in manager_client.get("/sms/optouts").get_data(as_text=True)
    assert manager_client.post(f"/sms/optouts/{row.id}/remove").status_code == 403
    assert OptOut.select().count() == 1

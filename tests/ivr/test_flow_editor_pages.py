"""The editor's endpoints without a browser: new flows from templates, draft saves refused with their reason,
guidance typed in the panel, history and roll back of a version that does not exist."""

from ivr.models import Flow, FlowDraft, FlowVersion
from ivr.starters import STARTERS


def post_json(client, url, body):
    return client.post(url, json=body)


def test_a_new_flow_starts_from_each_template_as_a_draft(staff_client, box):
    for number, starter in enumerate(STARTERS, start=1):
        response = staff_client.post("/ivr/flows/start", data={"name": f"ひな形{number}", "number": f"050-2222-000{number}",
                                                                "starter": starter})
        assert response.status_code == 302
        flow = Flow.get(Flow.name == f"ひな形{number}")
        draft = FlowDraft.get(FlowDraft.flow == flow.id)
        assert flow.version_id is None and draft.spec().entry in draft.spec().nodes
        page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
        assert "下書きあり（未公開）" in page and 'id="fe-data"' in page


def test_a_copy_starts_from_the_source_flow(staff_client, menu_flow_saved):
    response = staff_client.post("/ivr/flows/start", data={"name": "コピー", "number": "050-2222-1000",
                                                            "starter": "copy", "copy_of": str(menu_flow_saved.id)})
    assert response.status_code == 302
    copy = Flow.get(Flow.name == "コピー")
    assert FlowDraft.get(FlowDraft.flow == copy.id).spec().nodes == menu_flow_saved.spec().nodes


def test_template_form_names_each_problem_and_keeps_the_input(staff_client, menu_flow_saved):
    response = staff_client.post("/ivr/flows/start", data={"name": "", "number": "+815011112222", "starter": "x"})
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "フロー名を入力してください。" in text and "既にフロー「テストフロー」で使われています" in text
    assert "ひな形を選んでください" in text and 'value="+815011112222"' in text


def test_draft_saves_refuse_what_is_not_a_flow(staff_client, menu_flow_saved):
    url = f"/ivr/flows/{menu_flow_saved.id}/draft"
    for body, message in [({"flow": []}, "フローの形式"),
                          ({"flow": {"entry": "a", "nodes": [{"key": "a", "kind": "menu", "digits": "x"}]}}, "整数"),
                          ({"flow": {"entry": "a", "nodes": [{"key": "a", "kind": "transfer",
                                                              "params": {"timeout": "30"}}]}}, "整数")]:
        response = post_json(staff_client, url, body)
        assert response.status_code == 400 and message in response.get_json()["error"]["message"]
    assert not FlowDraft.select().exists()


def test_a_draft_save_answers_its_problems_pointed_at_node_and_field(staff_client, menu_flow_saved):
    url = f"/ivr/flows/{menu_flow_saved.id}/draft"
    body = {"flow": {"entry": "m", "nodes": [{"key": "m", "kind": "menu", "name": "受付", "exits": {"1": "gone"}}]}}
    response = post_json(staff_client, url, body)
    assert response.status_code == 200
    issues = {(i["node"], i["field"]) for i in response.get_json()["issues"]}
    assert {("m", "guidance"), ("m", "branch:1"), ("m", "exit:fallback")} <= issues
    body["flow"]["nodes"][0].update(max_tries=0, max_mis_entries=11)  # each limit of its own kind (R-09b)
    issues = {(i["node"], i["field"]) for i in post_json(staff_client, url, body).get_json()["issues"]}
    assert {("m", "max_tries"), ("m", "max_mis_entries")} <= issues
    assert Flow.get_by_id(menu_flow_saved.id).version_id == FlowVersion.get().id  # callers hear version 1 still


def test_a_transfer_number_typed_as_staff_write_it_is_stored_as_e164(staff_client, menu_flow_saved):
    url = f"/ivr/flows/{menu_flow_saved.id}/draft"
    node = {"key": "t", "kind": "transfer", "params": {"number": "03-1234-5678", "timeout": 20},
            "exits": {"no_answer": "t"}}
    assert post_json(staff_client, url, {"flow": {"entry": "t", "nodes": [node]}}).status_code == 200
    assert FlowDraft.get().spec().nodes["t"].param("number") == "+81312345678"
    page = staff_client.get(f"/ivr/flows/{menu_flow_saved.id}/editor").get_data(as_text=True)
    assert "03-1234-5678" in page


def test_guidance_typed_in_the_panel_needs_text(staff_client, menu_flow_saved):
    url = f"/ivr/flows/{menu_flow_saved.id}/guidance"
    response = post_json(staff_client, url, {"text": " ", "field": "guidance", "node_kind": "menu"})
    assert response.status_code == 400 and "文章を入力" in response.get_json()["error"]["message"]
    response = post_json(staff_client, url, {"text": "あ" * 501})
    assert response.status_code == 400


def test_history_and_a_missing_version(staff_client, menu_flow_saved):
    page = staff_client.get(f"/ivr/flows/{menu_flow_saved.id}/versions").get_data(as_text=True)
    assert "版 1" in page and "最初の版（ノード 11 個）" in page and "公開中" in page
    response = staff_client.post(f"/ivr/flows/{menu_flow_saved.id}/versions/9/restore", follow_redirects=True)
    assert "版 9 はありません。" in response.get_data(as_text=True)
    assert FlowVersion.select().count() == 1


def test_publishing_without_a_draft_says_so(staff_client, menu_flow_saved):
    response = staff_client.post(f"/ivr/flows/{menu_flow_saved.id}/publish")
    assert response.status_code == 400 and "公開する下書きがありません。" in response.get_data(as_text=True)


def test_editor_pages_need_login(client, menu_flow_saved):
    for url in (f"/ivr/flows/{menu_flow_saved.id}/editor", f"/ivr/flows/{menu_flow_saved.id}/versions",
                "/ivr/flows/start"):
        assert client.get(url).status_code in (302, 401)

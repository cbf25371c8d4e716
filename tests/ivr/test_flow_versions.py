"""Drafts and versions: publishing checks the whole flow, calls finish on the version they started with (signed
webhooks, as Twilio posts them), 「この版に戻す」 republishes an old version, each publish is audited."""
from dataclasses import replace

import pytest

from core.audit import AuditLog
from ivr import versions
from ivr.diff import describe_changes
from ivr.flowjson import ShapeError, spec_from_dict, spec_to_dict
from ivr.issues import issue_of
from ivr.models import Call, Flow, FlowVersion
from ivr.store import FlowInvalid
from tests.ivr.builders import menu_flow
from tests.ivr.conftest import FLOW_NUMBER
from tests.ivr.test_webhooks import urls


def with_greeting(spec, guidance_id):
    nodes = dict(spec.nodes)
    nodes["greeting"] = replace(nodes["greeting"], guidance=guidance_id)
    return replace(spec, nodes=nodes)


def test_a_saved_flow_is_its_version_1_and_a_publish_makes_version_2(menu_flow_saved, guidance):
    flow = Flow.get_by_id(menu_flow_saved.id)
    first = versions.published_version(flow)
    assert first.number == 1 and (first.spec().entry, first.spec().nodes) == (flow.entry_key, flow.spec().nodes)
    versions.save_draft(flow, with_greeting(flow.spec(), guidance["closing"]), "manager1")
    assert Flow.get_by_id(flow.id).version_id == first.id  # a draft changes nothing callers hear
    second = versions.publish(Flow.get_by_id(flow.id), "manager1")
    assert (second.number, second.created_by) == (2, "manager1")
    assert versions.draft_of(flow) is None
    assert Flow.get_by_id(flow.id).spec().nodes["greeting"].guidance == guidance["closing"]
    entry = AuditLog.select().where(AuditLog.action == "ivr.flow.published").get()
    assert '"version": 2' in entry.detail and entry.actor == "manager1"


def test_a_call_started_before_a_publish_ends_on_its_version(phone, menu_flow_saved, guidance):
    flow = Flow.get_by_id(menu_flow_saved.id)
    before = phone.dial(FLOW_NUMBER)
    assert before.plays()[0] == urls(guidance["greeting"])[0]
    changed = with_greeting(flow.spec(), guidance["closing"])
    nodes = dict(changed.nodes)
    nodes["main"] = replace(nodes["main"], exits={**nodes["main"].exits, "1": "operator", "4": "sms"})
    versions.save_draft(flow, replace(changed, nodes=nodes), "manager1")
    versions.publish(Flow.get_by_id(flow.id), "manager1")
    after = phone.dial(FLOW_NUMBER)
    assert after.plays()[0] == urls(guidance["closing"])[0]
    before.press("1")  # version 1: 1 is the SMS
    assert before.plays() == urls(guidance["sent"]) and before.hung_up
    after.press("1")   # version 2: 1 transfers
    assert after.root.find("./Dial") is not None
    numbers = dict(Call.select(Call.call_sid, FlowVersion.number).join(FlowVersion, on=(
        Call.flow_version_id == FlowVersion.id)).tuples())
    assert (numbers[before.sid], numbers[after.sid]) == (1, 2)


def test_roll_back_republishes_the_old_version(phone, menu_flow_saved, guidance):
    flow = Flow.get_by_id(menu_flow_saved.id)
    versions.save_draft(flow, with_greeting(flow.spec(), guidance["closing"]), "m")
    versions.publish(Flow.get_by_id(flow.id), "m")
    third = versions.restore(Flow.get_by_id(flow.id), 1, "m")
    assert (third.number, third.restored_from) == (3, 1)
    assert phone.dial(FLOW_NUMBER).plays()[0] == urls(guidance["greeting"])[0]
    assert AuditLog.select().where(AuditLog.action == "ivr.flow.restored").count() == 1
    history = versions.history(Flow.get_by_id(flow.id), lambda old, new: describe_changes(old, new))
    assert [(e.version.number, e.current) for e in history] == [(3, True), (2, False), (1, False)]
    changed = f"ノード「挨拶」: ガイダンスを「ID {guidance['greeting']}」から「ID {guidance['closing']}」に変更"
    assert history[1].changes == [changed]


def test_an_invalid_draft_is_not_published(menu_flow_saved):
    flow = Flow.get_by_id(menu_flow_saved.id)
    spec = flow.spec()
    nodes = dict(spec.nodes)
    nodes["main"] = replace(nodes["main"], guidance=None, exits={**nodes["main"].exits, "4": "opertor"})
    versions.save_draft(flow, replace(spec, nodes=nodes), "m")
    with pytest.raises(FlowInvalid) as refused:
        versions.publish(Flow.get_by_id(flow.id), "m")
    issues = {(i.node, i.field) for i in map(issue_of, refused.value.errors)}
    assert {("main", "guidance"), ("main", "branch:4")} <= issues
    assert Flow.get_by_id(flow.id).version_id == versions.published_version(flow).id
    assert FlowVersion.select().where(FlowVersion.flow == flow.id).count() == 1


def test_a_draft_is_called_through_a_trial_version_signed_like_twilio(phone, menu_flow_saved, guidance):
    from core.twilio import inbound_call_params
    from ivr.calls import TRIAL_PARAM
    from tests.ivr.phone import ACCOUNT_SID
    from tests.ivr.phone import Call as PhoneCall

    flow = Flow.get_by_id(menu_flow_saved.id)
    versions.save_draft(flow, with_greeting(flow.spec(), guidance["closing"]), "m")
    trial = versions.trial_version(Flow.get_by_id(flow.id), "m")
    assert trial.number is None and versions.trial_version(Flow.get_by_id(flow.id), "m").id == trial.id
    call = PhoneCall(phone, "CA" + "7" * 32, "+819012345678", FLOW_NUMBER)
    params = inbound_call_params(call.sid, call.caller, call.to, ACCOUNT_SID, status="ringing")
    call.answer(phone.post(phone.base + "/twilio/voice", {**params, TRIAL_PARAM: str(trial.id)}))
    assert call.plays()[0] == urls(guidance["closing"])[0]
    assert phone.dial(FLOW_NUMBER).plays()[0] == urls(guidance["greeting"])[0]  # callers still hear version 1


def test_flow_json_round_trip_and_shape_errors():
    spec = menu_flow()
    assert spec_from_dict(spec_to_dict(spec)) == spec
    for bad in ({"entry": 1, "nodes": []}, {"entry": "a", "nodes": [{"key": "a"}]},
                {"entry": "a", "nodes": [{"key": "a", "kind": "menu", "digits": "1"}]},
                {"entry": "a", "nodes": [{"key": "a", "kind": "menu", "exits": {"1": 2}}]}, []):
        with pytest.raises(ShapeError):
            spec_from_dict(bad)


def test_changes_are_described_in_words():
    old = menu_flow()
    nodes = dict(old.nodes)
    del nodes["bye"]
    nodes["main"] = replace(nodes["main"], exits={"1": "operator", "4": "sms", "fallback": "closing"})
    nodes["extra"] = replace(nodes["busy"], key="extra", name="追加案内")
    new = replace(old, nodes=nodes)
    changes = describe_changes(old, new)
    assert "ノード「追加案内」（ガイダンス再生）を追加" in changes
    assert "ノード「切断」を削除" in changes
    assert "ノード「メインメニュー」: 分岐「1」の行き先を「SMS送信」から「オペレーター」に変更" in changes
    assert "ノード「メインメニュー」: 分岐「4」を追加（→ SMS送信）" in changes
    assert "ノード「メインメニュー」: 分岐「2」を削除" in changes


@pytest.mark.parametrize("params", [{"timeout": "30"}, {"box_number": True}, {"number": 31234},
                                    {"ask_number": "yes"}, {"hours": {"weekdays": ["月"]}}, {"hours": []},
                                    {"max_seconds": 1.5}])
def test_settings_of_another_type_are_refused_before_they_reach_a_call(params):
    with pytest.raises(ShapeError):
        spec_from_dict({"entry": "a", "nodes": [{"key": "a", "kind": "transfer", "params": params}]})


def test_a_flow_never_published_answers_as_an_unknown_number(phone, app):
    from ivr.starters import reception

    flow = Flow.create(name="準備中", number="+815011119999")
    versions.save_draft(flow, reception(None), "m")
    call = phone.dial("+815011119999")
    assert call.hung_up and "ご利用いただけません" in call.spoken()[0][1]
    assert Call.get(Call.call_sid == call.sid).last_node_name == "未公開のフローへの着信: +815011119999"


def test_trial_versions_go_with_the_calls_that_ran_on_them(phone, menu_flow_saved, guidance, clock):
    from core.retention import purge_expired
    from core.twilio import inbound_call_params
    from ivr.calls import TRIAL_PARAM
    from tests.ivr.phone import ACCOUNT_SID
    from tests.ivr.phone import Call as PhoneCall

    flow = Flow.get_by_id(menu_flow_saved.id)
    versions.save_draft(flow, with_greeting(flow.spec(), guidance["closing"]), "m")
    untried = versions.trial_version(Flow.get_by_id(flow.id), "m")  # tried in no call that is kept
    versions.save_draft(flow, with_greeting(flow.spec(), guidance["open"]), "m")
    tried = versions.trial_version(Flow.get_by_id(flow.id), "m")
    clock.advance(days=91)
    call = PhoneCall(phone, "CA" + "8" * 32, "+819012345678", FLOW_NUMBER)
    params = inbound_call_params(call.sid, call.caller, call.to, ACCOUNT_SID, status="ringing")
    call.answer(phone.post(phone.base + "/twilio/voice", {**params, TRIAL_PARAM: str(tried.id)}))
    clock.advance(days=1)

    assert purge_expired()["ivr.trial_versions"] == 1
    left = {v.id for v in FlowVersion.select().where(FlowVersion.flow == flow.id)}
    assert untried.id not in left and tried.id in left  # a kept call still finishes on its version
    assert versions.published_version(Flow.get_by_id(flow.id)).id in left  # published versions are never purged

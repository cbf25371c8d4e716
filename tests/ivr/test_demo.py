"""The demo flow of SPEC §11: created once on first start, valid, and answering as the spec says."""
from core.models import AuditLog
from ivr import seed_defaults
from ivr.models import Call, Flow
from sms.models import Message


def seed(app):
    import sms

    sms.seed_defaults(app)
    seed_defaults(app)


def test_demo_flow_is_seeded_once_on_the_simulator_number(app, demo_guidance):
    seed(app)
    seed(app)
    flow = Flow.get()
    assert (Flow.select().count(), flow.number, flow.name) == (1, "+815000000000", "デモフロー")
    assert AuditLog.select().where(AuditLog.action == "ivr.demo_seeded").count() == 1
    flow.delete_instance()
    seed(app)  # deleted by staff: not made again
    assert Flow.select().count() == 0


def test_demo_flow_uses_twilio_from_number_with_a_twilio_account(app, demo_guidance):
    settings = app.config["SETTINGS"]
    app.config["SETTINGS"] = settings.replace(**{"telephony.provider": "twilio", "twilio.from_number": "+81501234000"})
    try:
        seed(app)
    finally:
        app.config["SETTINGS"] = settings
    assert Flow.get().number == "+81501234000"


def test_demo_call_menu_choices(app, demo_guidance, phone):
    seed(app)
    call = phone.dial("+815000000000")
    gather = call.gather
    assert (gather.get("numDigits"), gather.get("timeout")) == ("1", "5")
    call.press("1")
    assert Message.get(Message.call_sid == call.sid).box_number == 1 and call.hung_up

    operator = phone.dial("+815000000000")
    operator.press("2")
    assert operator.root.find("./Dial").text == "+81312345678"

    hours = phone.dial("+815000000000")
    hours.press("3")
    assert len(hours.plays()) == 2 and hours.hung_up  # business hours, then the closing message

    silent = phone.dial("+815000000000")
    silent.wait()
    silent.wait()
    silent.press("0")
    assert not silent.hung_up  # 2 timeouts and 1 wrong digit: asked again
    silent.wait()
    record = Call.get(Call.call_sid == silent.sid)
    assert silent.hung_up and (record.last_node_key, record.outcome) == ("closing", "retry_limit")

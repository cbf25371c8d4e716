"""Fixtures of the IVR tests: real guidance (Open JTalk audio), storage box 1, flows saved in the database, a phone."""
from __future__ import annotations

import pytest

from tests.ivr.builders import menu_flow
from tests.ivr.phone import Phone

FLOW_NUMBER = "+815011112222"
# Short texts keep synthesis quick; each is a real guidance with real audio.
GUIDANCE_TEXTS = {
    "greeting": ("greeting", "お電話ありがとうございます。"),
    "menu": ("pb", "ご用件の番号を押してください。"),
    "timeout": ("timeout", "入力が確認できません。"),
    "mis_entry": ("mis_entry", "入力が間違っています。"),
    "sent": ("sms_sent", "送信しました。"),
    "closing": ("closing", "失礼いたします。"),
    "busy": ("other", "ただいま混み合っています。"),
    "open": ("other", "営業中です。"),
    "closed": ("out_of_hours", "営業時間外です。"),
    "ng": ("sms_unavailable", "お送りできません。"),
}


_snapshots: dict[str, dict] = {}


@pytest.fixture(scope="session")
def shared_audio_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("ivr-audio")


@pytest.fixture
def app_config(app_config, shared_audio_dir):
    """The audio of the test guidance is kept for the whole session (see `made_once`)."""
    return {**app_config, "guidance.audio_dir": str(shared_audio_dir)}


def made_once(name: str, make):
    """Guidance made by `make()` through guidance.public (real Open JTalk synthesis) the first time in the
    session; later tests get the very rows it stored copied into their fresh database (the audio files
    stay in the session's audio directory). Saves about a second of synthesis per guidance per test."""
    from core.config import setting
    from core.db import database, is_postgres
    from guidance.models import Guidance, GuidanceItem, VoiceFile

    models = (VoiceFile, Guidance, GuidanceItem)
    # Per audio directory: a package that imports these fixtures gets its own session directory, where the rows
    # copied from another package's snapshot would name audio files that are not there.
    name = f"{name}@{setting('guidance.audio_dir')}"
    if name not in _snapshots:
        before = {model: {row["id"] for row in model.select(model.id).dicts()} for model in models}
        result = make()
        rows = [(model, [r for r in model.select().dicts() if r["id"] not in before[model]]) for model in models]
        _snapshots[name] = {"result": result, "rows": rows}
        return result
    with database.atomic():
        for model, rows in _snapshots[name]["rows"]:
            if rows:
                model.insert_many(rows).execute()
    if is_postgres():  # the rows came with their ids: move the sequences past them
        for model in models:
            table = model._meta.table_name
            database.execute_sql(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                                 f"GREATEST((SELECT MAX(id) FROM \"{table}\"), 1))")
    return _snapshots[name]["result"]


@pytest.fixture
def guidance(app):
    """name → id of ten ready guidance with real audio."""
    from guidance.public import ensure_guidance

    return dict(made_once("test", lambda: {name: ensure_guidance(f"テスト_{name}", kind, text)
                                           for name, (kind, text) in GUIDANCE_TEXTS.items()}))


@pytest.fixture
def demo_guidance(app):
    """The demo flow's guidance, as ivr.demo's seed makes it (ensure_guidance is idempotent by name)."""
    from guidance.public import ensure_guidance
    from ivr.demo import DEMO_GUIDANCE

    return dict(made_once("demo", lambda: {key: ensure_guidance(name, kind, text)
                                           for key, (kind, name, text) in DEMO_GUIDANCE.items()}))


@pytest.fixture
def box(app):
    """Storage box 1 as sms seeds it."""
    import sms

    sms.seed_defaults(app)
    return 1


@pytest.fixture
def save_flow(app):
    from ivr.store import save_flow as save

    def make(spec, number=FLOW_NUMBER, name="テストフロー"):
        return save(spec, name=name, number=number)

    return make


@pytest.fixture
def menu_flow_saved(guidance, box, save_flow):
    """greeting → menu (1 SMS, 2 transfer, 3 hours) stored for FLOW_NUMBER."""
    return save_flow(menu_flow(guidance, ask_number=False))


@pytest.fixture
def phone(client):
    return Phone(client)

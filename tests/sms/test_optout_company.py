"""The opt-out page names the company that sends the SMS (setting sms.company_name), before and after opting out."""
import pytest

from sms.models import Message
from sms.sending import queue_text
from tests.sms.test_optout_links import optout_path

COMPANY = "株式会社サンプル商事"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "sms.company_name": COMPANY}


def test_the_optout_page_names_the_sending_company(client, app):
    result = queue_text("お知らせ 配信停止: {optout_url}", "090-1234-5678", source="api")
    path = optout_path(Message.get_by_id(result.message_id))
    page = client.get(path).get_data(as_text=True)
    assert f"<title>配信停止 | {COMPANY}</title>" in page
    assert f'<p id="optout-sender">送信元: <strong>{COMPANY}</strong></p>' in page
    assert f"{COMPANY}から 090-****-5678 への SMS の配信を停止します。" in page
    done = client.post(path).get_data(as_text=True)
    assert f"{COMPANY}から 090-****-5678 への SMS の配信を停止しました。" in done

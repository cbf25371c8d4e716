"""Dashboard fixtures: the reports factories for calls (with events) and SMS messages, and the page read as figures."""
from __future__ import annotations

import pytest

from tests.dashboard.figures import read_dashboard
from tests.ivr.conftest import (  # noqa: F401  (real guidance and flows, as the IVR tests make them)
    app_config,
    box,
    demo_guidance,
    guidance,
    menu_flow_saved,
    save_flow,
    shared_audio_dir,
)
from tests.reports.conftest import make_call, make_message  # noqa: F401  (fixtures shared with the report tests)


@pytest.fixture
def dashboard_of():
    """The home page of a logged-in client, read as tiles → lines → cells (text, link)."""

    def read(client):
        response = client.get("/")
        assert response.status_code == 200
        return read_dashboard(response.get_data(as_text=True))

    return read

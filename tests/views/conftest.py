"""The session's real campaign (tests/campaign_days.py) for the views tests."""

from __future__ import annotations

import pytest
from campaign_days import Campaign, build_campaign

from swxsoc_reach.testing.s3_server import MotoServer
from swxsoc_reach.testing.udl_server import UdlServer


@pytest.fixture(scope="session")
def campaign(tmp_path_factory: pytest.TempPathFactory, udl_server_session: UdlServer,
             moto_server_process: MotoServer) -> Campaign:
    """Every day state once, from real download and process runs; built once."""
    return build_campaign(tmp_path_factory.mktemp("campaign"), udl_server_session,
                          moto_server_process)

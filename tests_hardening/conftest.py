"""Fixtures for the hardening tests: access modes and API tokens."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from config.tokens import api_token_issue


@pytest.fixture
def token_mode(settings):
    settings.API_AUTH = "token"


@pytest.fixture
def client_for(db):
    """client_for("alice", staff=True): an API client sending that user's token."""

    def factory(username: str, *, staff: bool = False) -> APIClient:
        token, _ = api_token_issue(username=username, create_user=True, staff=staff)
        return APIClient(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Token {token.key}")

    return factory


def pytest_terminal_summary(terminalreporter):
    from tests_hardening.counts import COUNTS, LABELS

    done = [f"{COUNTS[key]} {label}" for key, label in LABELS.items() if COUNTS[key]]
    if done:
        terminalreporter.write_line("hardening: " + ", ".join(done))

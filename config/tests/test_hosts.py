"""A request refused for its Host header says why, and leaves one line in the log."""

from __future__ import annotations

import logging

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def stranger() -> APIClient:
    client = APIClient(HTTP_HOST="nas.local:8000")
    client.raise_request_exception = False
    return client


@pytest.mark.parametrize("path", ["/api/hello", "/api/tags", "/admin/", "/"])
def test_a_refused_host_is_named_with_the_variable_that_admits_it(stranger, path):
    response = stranger.get(path)

    assert response.status_code == 400
    assert response.json() == {
        "error": "Host 'nas.local' is not allowed; set ALLOWED_HOSTS to include it "
        "(a comma-separated list of host names).",
        "code": "host_not_allowed",
    }


def test_a_malformed_host_header_is_said_to_be_malformed():
    client = APIClient(HTTP_HOST="bad host!")
    client.raise_request_exception = False

    response = client.get("/api/hello")

    assert response.status_code == 400
    assert response.json()["error"] == "The Host header 'bad host!' is not a valid host name."


def test_a_refused_host_is_logged_in_one_line_without_a_traceback(stranger, caplog):
    with caplog.at_level(logging.INFO):
        stranger.get("/api/hello")
        stranger.get("/api/hello")

    records = [r for r in caplog.records if r.name.startswith("django.security")]
    assert len(records) == 2
    for record in records:
        assert record.exc_info is None and record.exc_text is None
        assert "\n" not in record.getMessage()
        assert "nas.local" in record.getMessage()
    formatted = logging.Formatter().format(records[0])
    assert "Traceback" not in formatted


def test_the_host_becomes_allowed_once_listed(settings, stranger):
    settings.ALLOWED_HOSTS = ["localhost", "nas.local"]

    assert stranger.get("/api/hello").status_code == 200

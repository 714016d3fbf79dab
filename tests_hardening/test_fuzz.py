"""Schema fuzzing: schemathesis drives every operation of /api/schema/.

Each operation gets a bounded number of generated requests (FUZZ_EXAMPLES,
default 25), valid and invalid ones; none may answer 5xx, and every answer
must match the schema (status code, content type, body, headers).
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests_hardening.counts import COUNTS

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]

# Loaded at import: pytest-django has configured Django before collection.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=EXAMPLES,
    deterministic=True,
    database="none",
)


@pytest.fixture
def in_test_transaction(db):
    """Keep the test's connection open across requests, as Django's test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_operation_never_fails_and_matches_the_schema(case, in_test_transaction, world):
    # world: a model with images, a pending model and configured roots, so that
    # generated requests reach existing data, not only 404s.
    COUNTS["fuzzed"] += 1
    case.call_and_validate(checks=CHECKS)

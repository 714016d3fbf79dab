"""Fixtures of the job tests: a model folder, and the embedded engine's worker run in-process."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from jobs.models import Job


@pytest.fixture
def loras(tmp_path, settings):
    """A configured model root with three small files."""
    folder = tmp_path / "loras"
    folder.mkdir()
    for index in range(3):
        (folder / f"lora_{index}.safetensors").write_bytes(bytes([index]) * (1000 + index))
    settings.MODEL_ROOTS = {"loras": [str(folder)]}
    return folder


@pytest.fixture
def run_worker():
    """Run every queued job with the real database engine's worker, then return."""

    def run() -> None:
        call_command("jobs_worker", "--burst", "--worker-id", "test-worker", verbosity=0)

    return run


def job_of(response) -> Job:
    return Job.objects.get(pk=response.json()["id"])

"""A malformed setting stops a real start-up with a message naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings


def manage_check(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess:
    environ = {
        key: value
        for key, value in os.environ.items()
        if key not in {"MODEL_ROOTS", "COMFYUI_PATH", "DATABASE_URL", "SECRET_KEY"}
    }
    environ.update(DATA_DIR=str(tmp_path / "data"), **variables)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_start_up_succeeds_with_valid_model_roots(tmp_path):
    result = manage_check(tmp_path, MODEL_ROOTS=f"loras={tmp_path}/loras")

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "variable, value",
    [
        ("MODEL_ROOTS", "garbage"),
        ("COMFYUI_PATH", "/nonexistent/ComfyUI"),
        ("MAX_UPLOAD_MB", "lots"),
    ],
)
def test_start_up_fails_naming_a_malformed_variable(tmp_path, variable, value):
    result = manage_check(tmp_path, **{variable: value})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr.strip().splitlines()[-1]

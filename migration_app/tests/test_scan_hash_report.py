"""manage.py scan --hash says what it really read, in the units its bar uses."""

from __future__ import annotations

import io
import os

import pytest
from django.core.management import call_command

from migration_app.models import PendingModel

# The hashing threads open their own connections: they must see committed rows.
pytestmark = pytest.mark.django_db(transaction=True)


def scan_hash(verbosity: int = 0) -> str:
    out = io.StringIO()
    call_command(
        "scan", "--hash", "--workers", "2", stdout=out, stderr=io.StringIO(), verbosity=verbosity
    )
    return out.getvalue()


@pytest.fixture
def three_files(tmp_path, settings):
    loras = tmp_path / "loras"
    loras.mkdir()
    sizes = {"a.safetensors": 1_000_000, "b.safetensors": 2_000_000, "c.safetensors": 500}
    for name, size in sizes.items():
        (loras / name).write_bytes(os.urandom(size))
    settings.MODEL_ROOTS = {"loras": [str(loras)]}
    return loras


def test_the_first_run_reads_every_byte(three_files):
    out = scan_hash()

    assert (
        "Hashed 3 pending files (3.0 MB): 3.0 MB read from 3 files, "
        "0 hashes from the cache (files unchanged since last read); 0 could not be hashed."
    ) in out


def test_a_rerun_reads_nothing_and_says_so(three_files):
    scan_hash()

    out = scan_hash()

    assert "Hashed 3 pending files (3.0 MB): 0 B read from 0 files, 3 hashes from the cache" in out
    assert PendingModel.objects.exclude(sha256="").count() == 3


def test_a_changed_file_is_the_only_one_read_again(three_files):
    scan_hash()
    changed = three_files / "b.safetensors"
    stat = changed.stat()
    os.utime(changed, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))

    out = scan_hash()

    assert "2.0 MB read from 1 files, 2 hashes from the cache" in out


def test_the_bar_and_the_summary_use_the_same_units(three_files, capsys):
    out = scan_hash(verbosity=1)

    bar = capsys.readouterr().err
    # Decimal prefixes in both: "3.00MB/3.00MB" in the bar, "3.0 MB" in the summary.
    assert "3.00MB/3.00MB" in bar, bar
    assert "MiB" not in bar and "(3.0 MB)" in out

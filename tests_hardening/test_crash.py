"""Crash safety: SIGKILL in the middle of a write, then restart and rerun.

Each test runs the operation in a separate process (``manage.py``) with
FAULT_POINT set and the test-only settings that install
tests_hardening/faults.py, so the process dies at the worst moment
with no cleanup code running, exactly like a power cut. A fresh process then
checks what a restarted service sees: the old state or the new one, never a
mix (no seq gap, no row without its files, no half-written rendition under a
served name), and rerunning the operation completes it.

Files written by a transaction that never committed stay on disk as
unreferenced files (``orphan_files``, ``temporary_files``): nothing serves
them. The tests bound them rather than require none.
"""

from __future__ import annotations

import json
import signal

import pytest

from imaging.tests.pictures import picture
from migration_app.tests.conftest import build_legacy_db, legacy_row
from tests_hardening.counts import COUNTS
from tests_hardening.instance import Instance, instance

pytestmark = pytest.mark.heavy

SHA = "c" * 64
REPORT = "__import__('tests_hardening.consistency').consistency.report()"


def crash(inst: Instance, *args: str, fault: str) -> None:
    """Run ``manage.py args`` with FAULT_POINT=fault and require it to die by SIGKILL."""
    result = inst.manage(*args, fault=fault, check=False)
    assert result.returncode == -signal.SIGKILL, (result.returncode, result.stderr[-2000:])
    COUNTS["crashes"] += 1


def python(code: str) -> tuple[str, ...]:
    return ("shell", "--no-imports", "-c", code)


def assert_consistent(state: dict) -> None:
    assert state["gaps"] == []
    assert state["missing_files"] == []
    assert state["broken_renditions"] == []
    assert state["duplicate_tags"] == []


SEED_MODEL = f"""
from catalog.models import CatalogModel
from imaging.services import sample_image_add
from imaging.tests.pictures import picture
model = CatalogModel.objects.create(sha256="{SHA}", name="m", type="loras", path="/m/m.bin")
for seq in range({{count}}):
    sample_image_add(model=model, content=picture(color=(seq, 1, 2)), file_name="s.png")
"""


@pytest.fixture
def seeded(tmp_path):
    """An instance whose model SHA has ``count`` images: seeded(5)."""
    with instance(tmp_path) as inst:

        def seed(count: int) -> Instance:
            inst.run_python(SEED_MODEL.format(count=count))
            return inst

        yield seed


def test_kill_during_delete_and_shift_keeps_the_old_numbering_and_rerun_completes(seeded):
    inst = seeded(5)
    before = inst.query(REPORT)
    delete = python(
        f"from imaging.services import sample_image_delete as d; d(sha256='{SHA}', seq=1)"
    )

    crash(inst, *delete, fault="image_delete_shift")
    after_crash = inst.query(REPORT)
    assert_consistent(after_crash)
    assert after_crash["seqs"][SHA] == [0, 1, 2, 3, 4]
    assert after_crash["contents"] == before["contents"]

    inst.manage(*delete)
    done = inst.query(REPORT)
    assert_consistent(done)
    expected = before["contents"][SHA][:1] + before["contents"][SHA][2:]
    assert done["contents"][SHA] == expected
    assert done["orphan_files"] == []  # the deleted image's files went after commit


def test_kill_during_a_rendition_write_leaves_no_half_file_and_rerun_completes(seeded):
    inst = seeded(2)
    upload = python(
        "from catalog.models import CatalogModel; from imaging.services import sample_image_add;"
        "from imaging.tests.pictures import picture;"
        f"sample_image_add(model=CatalogModel.objects.get(pk='{SHA}'),"
        " content=picture(color=(9, 9, 9)), file_name='new.png')"
    )

    crash(inst, *upload, fault="rendition_write")
    after_crash = inst.query(REPORT)
    assert_consistent(after_crash)
    assert after_crash["seqs"][SHA] == [0, 1]
    # The rendition was written to a temporary name and never moved into place.
    assert len(after_crash["temporary_files"]) == 1

    inst.manage(*upload)
    done = inst.query(REPORT)
    assert_consistent(done)
    assert done["seqs"][SHA] == [0, 1, 2]


def test_kill_while_rebuilding_a_rendition_never_serves_a_partial_file(seeded):
    inst = seeded(1)
    missing = inst.query(
        "__import__('imaging.models').models.SampleImage.objects.get().rendition_name('high')"
    )
    (inst.media / missing).unlink()

    crash(inst, "rebuild_renditions", fault="rendition_write")
    after_crash = inst.query(REPORT)
    assert after_crash["broken_renditions"] == []
    assert after_crash["missing_files"] == [missing]  # still missing, not half there

    inst.manage("rebuild_renditions")
    assert_consistent(inst.query(REPORT))


PENDING = """
from migration_app.models import PendingModel
from migration_app.services.pending import pending_image_add
from imaging.tests.pictures import picture
pending = PendingModel.objects.create(path={path!r}, name="staged", type="loras", size_bytes=9)
for index in range(2):
    pending_image_add(pending_model=pending, content=picture(color=(index, 5, 5)),
                      file_name=f"staged_{{index}}.png")
print("@@" + str(pending.pk))
"""


def test_kill_during_promotion_keeps_the_pending_model_and_rerun_completes(tmp_path):
    model_file = tmp_path / "staged.safetensors"
    model_file.write_bytes(b"weights" * 100)
    with instance(tmp_path) as inst:
        out = inst.run_python(PENDING.format(path=str(model_file))).stdout
        pending_id = int(out.split("@@")[1].split()[0])
        promote = python(
            "import json; from migration_app.services.promotion import pending_models_promote,"
            " promotion_body;"
            f"print(json.dumps(promotion_body(pending_models_promote(ids=[{pending_id}],"
            " strategy=None))))"
        )

        crash(inst, *promote, fault="promotion_carry_over")
        after_crash = inst.query(REPORT)
        assert_consistent(after_crash)
        assert after_crash["models"] == []
        assert after_crash["pending"] == [str(model_file)]
        assert after_crash["images"] == 2  # the pending images, with their files

        result = json.loads(inst.manage(*promote).stdout.strip().splitlines()[-1])
        assert result["success"] == [pending_id]
        done = inst.query(REPORT)
        assert_consistent(done)
        assert done["pending"] == []
        (sha256,) = done["models"]
        assert done["seqs"][sha256] == [0, 1]


LEGACY_HASHED = ["1" * 64, "2" * 64, "3" * 64]


def build_legacy(folder) -> tuple[str, str]:
    images = folder / "legacy_images"
    images.mkdir()
    rows = []
    for index in range(6):
        image_name = f"model_{index}_1700000000000_preview.png"
        (images / image_name).write_bytes(picture(color=(index, 40, 80)))
        rows.append(
            legacy_row(
                index + 1,
                f"D:\\models\\loras\\m{index}.safetensors",
                hash_hex=LEGACY_HASHED[index] if index < 3 else "",
                extra={"images": [f"/media/{image_name}"], "description": f"model {index}"},
            )
        )
    tags = [(1, "Style"), (2, "anime")]
    links = [(1, 1), (2, 2), (4, 1), (5, 2)]
    legacy_db = build_legacy_db(folder / "legacy.db", rows=rows, tags=tags, links=links)
    return str(legacy_db), str(images)


def test_kill_during_legacy_import_rolls_back_and_rerun_completes(tmp_path):
    legacy_db, images = build_legacy(tmp_path)
    with instance(tmp_path) as inst:
        command = ("migrate_legacy", legacy_db, "--images", images)

        crash(inst, *command, fault="legacy_import_row:4")
        after_crash = inst.query(REPORT)
        assert_consistent(after_crash)
        # One transaction: none of the rows (and no tag) survived the crash.
        assert after_crash["models"] == [] and after_crash["pending"] == []
        assert after_crash["tags"] == [] and after_crash["images"] == 0

        inst.manage(*command)
        done = inst.query(REPORT)
        assert_consistent(done)
        assert done["models"] == LEGACY_HASHED
        assert all(done["seqs"][sha] == [0] for sha in LEGACY_HASHED)
        assert len(done["pending"]) == 3
        assert done["tags"] == ["anime", "style"]

        inst.manage(*command)
        again = inst.query(REPORT)
        assert {key: again[key] for key in ("models", "seqs", "pending", "tags", "images")} == {
            key: done[key] for key in ("models", "seqs", "pending", "tags", "images")
        }

"""What a scan and a promotion learn from each file's header, through the HTTP API."""

from __future__ import annotations

import base64
import hashlib
import io
import os
from pathlib import Path

import pytest
from PIL import Image

from catalog.models import CatalogModel, FileHash
from catalog.tests import model_files as mf
from catalog.tests.test_fileinfo_readers import malicious_pickle
from migration_app.models import PendingModel

pytestmark = pytest.mark.django_db

SCAN = "/api/models/scan"
PROMOTE = "/api/migration/import_models"


def png_uri(size=(40, 30), color=(10, 120, 200)) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture
def library(tmp_path, settings) -> Path:
    """A model folder per type, with real (sparse) files of several families."""
    root = tmp_path / "models"
    loras, checkpoints = root / "loras", root / "checkpoints"
    mf.write_safetensors(
        loras / "zkz.safetensors",
        mf.sdxl_kohya_lora(),
        {
            "modelspec.title": "ZKZ Style",
            "modelspec.trigger_phrase": "zkz style",
            "modelspec.thumbnail": png_uri(),
            "ss_network_dim": "32",
            "ss_sd_model_name": "ponyDiffusionV6XL.safetensors",
        },
    )
    mf.write_safetensors(loras / "detail.safetensors", mf.flux_kohya_lora())
    mf.write_safetensors(
        checkpoints / "flux1-schnell.safetensors", mf.flux_transformer(guidance=False)
    )
    mf.write_gguf(
        checkpoints / "flux1-dev-Q8_0.gguf",
        {name: ("F32", shape) for name, (_, shape) in mf.flux_transformer().items()},
    )
    (checkpoints / "broken.safetensors").write_bytes((99).to_bytes(8, "little") + b"{")
    settings.MODEL_ROOTS = {"loras": [str(loras)], "checkpoints": [str(checkpoints)]}
    return root


def pending(name: str) -> PendingModel:
    return PendingModel.objects.get(path__endswith=os.sep + name)


def test_scan_reads_each_new_header_into_the_pending_records(api, library):
    assert api.post(SCAN, {}, format="json").json()["pending_added"] == 5

    simple = {row["name"]: row for row in api.get("/api/migration/pending_models").json()["models"]}
    assert {
        name: (row["architecture"], row["base_model"], row["kind"]) for name, row in simple.items()
    } == {
        "zkz.safetensors": ("sdxl", "Pony", "lora"),
        "detail.safetensors": ("flux1", "Flux.1 D", "lora"),
        "flux1-schnell.safetensors": ("flux1", "Flux.1 S", "diffusion_model"),
        "flux1-dev-Q8_0.gguf": ("flux1", "Flux.1 D", "diffusion_model"),
        "broken.safetensors": ("unknown", "", "unknown"),
    }
    zkz = api.get(f"/api/migration/pending_model?id={pending('zkz.safetensors').pk}").json()
    assert zkz["file"]["trigger_words"] == ["zkz style"]
    assert zkz["file"]["training"] == {
        "network_dim": 32,
        "sd_model_name": "ponyDiffusionV6XL.safetensors",
    }
    assert "thumbnail" not in zkz["file"]["modelspec"]
    assert zkz["file"]["hashes"] == {"autov1": autov1(library / "loras" / "zkz.safetensors")}
    broken = api.get(f"/api/migration/pending_model?id={pending('broken.safetensors').pk}").json()
    assert "past the end of the file" in broken["file"]["header_error"]


def autov1(path: Path) -> str:
    with open(path, "rb") as handle:
        handle.seek(0x100000)
        return hashlib.sha256(handle.read(0x10000)).hexdigest()[:8]


def test_a_rescan_does_not_read_unchanged_headers_again(api, library):
    api.post(SCAN, {}, format="json")
    lora = library / "loras" / "detail.safetensors"
    before = pending("detail.safetensors").file_info
    # Same size and modification time, other bytes: a re-scan that read the
    # header would now see an SD1 LoRA.
    stat = lora.stat()
    size = stat.st_size
    tensors = mf.kohya_lora(mf.sd1_lora_modules())
    mf.write_safetensors(lora, tensors)
    os.truncate(lora, size)
    os.utime(lora, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    body = api.post(SCAN, {}, format="json").json()
    assert (body["pending_added"], body["file_info_refreshed"]) == (0, 0)
    assert pending("detail.safetensors").file_info == before


def test_a_rescan_reads_a_changed_file_again_and_forgets_its_old_hash(api, library):
    api.post(SCAN, {}, format="json")
    lora = library / "loras" / "detail.safetensors"
    row = pending("detail.safetensors")
    PendingModel.objects.filter(pk=row.pk).update(sha256="9" * 64)
    mf.write_safetensors(lora, mf.kohya_lora(mf.sd1_lora_modules()))
    os.utime(lora, ns=(1, row.mtime_ns + 10**9))
    body = api.post(SCAN, {}, format="json").json()
    assert body["file_info_refreshed"] == 1
    row.refresh_from_db()
    assert (row.architecture, row.base_model, row.sha256) == ("sd1", "SD 1.5", "")
    assert row.size_bytes == lora.stat().st_size


def test_a_pending_row_staged_before_mtimes_is_read_and_keeps_its_hash(api, library):
    api.post(SCAN, {}, format="json")
    row = pending("zkz.safetensors")
    PendingModel.objects.filter(pk=row.pk).update(
        mtime_ns=0, file_info={}, architecture="", sha256="7" * 64
    )
    assert api.post(SCAN, {}, format="json").json()["file_info_refreshed"] == 1
    row.refresh_from_db()
    assert (row.architecture, row.sha256, row.file_info["kind"]) == ("sdxl", "7" * 64, "lora")


def test_promotion_carries_the_file_record_with_every_hash(api, library):
    api.post(SCAN, {}, format="json")
    row = pending("zkz.safetensors")
    path = library / "loras" / "zkz.safetensors"
    response = api.post(PROMOTE, {"id": [row.pk]}, format="json")
    assert response.json()["success"] == [row.pk]

    data = path.read_bytes()
    header_end = 8 + int.from_bytes(data[:8], "little")
    sha256 = hashlib.sha256(data).hexdigest()
    tensor_sha256 = hashlib.sha256(data[header_end:]).hexdigest()
    model = CatalogModel.objects.get()
    assert model.sha256 == sha256
    full = api.get(f"/api/models/{sha256}").json()
    assert full["file"]["hashes"] == {
        "sha256": sha256,
        "autov1": autov1(path),
        "autov2": sha256[:10],
        "autov3": tensor_sha256[:12],
        "tensor_sha256": tensor_sha256,
    }
    assert (full["file"]["architecture"], full["file"]["base_model"]) == ("sdxl", "Pony")
    assert FileHash.objects.get(path=str(path)).tensor_sha256 == tensor_sha256
    # The modelspec title replaces a bare file name; the thumbnail is image 0.
    assert full["name"] == "ZKZ Style"
    assert full["meta_json"]["images_count"] == 1
    image = api.get(f"/api/images/{sha256}_0.webp?quality=low")
    assert image.status_code == 200
    listed = api.get("/api/models?type=loras").json()["models"]
    assert [(m["architecture"], m["base_model"], m["kind"]) for m in listed] == [
        ("sdxl", "Pony", "lora")
    ]


def test_a_chosen_name_and_existing_images_win_over_the_header(api, library):
    api.post(SCAN, {}, format="json")
    row = pending("zkz.safetensors")
    PendingModel.objects.filter(pk=row.pk).update(name="My name")
    api.post(PROMOTE, {"id": [row.pk]}, format="json")
    assert CatalogModel.objects.get().name == "My name"


def test_a_bad_thumbnail_is_skipped_and_the_promotion_succeeds(api, tmp_path, settings):
    folder = tmp_path / "loras"
    mf.write_safetensors(
        folder / "x.safetensors",
        mf.kohya_lora(mf.sd1_lora_modules()),
        {"modelspec.thumbnail": "data:image/png;base64," + base64.b64encode(b"not a png").decode()},
    )
    settings.MODEL_ROOTS = {"loras": [str(folder)]}
    api.post(SCAN, {}, format="json")
    row = PendingModel.objects.get()
    assert api.post(PROMOTE, {"id": [row.pk]}, format="json").json()["success"] == [row.pk]
    assert CatalogModel.objects.get().images.count() == 0


def test_list_filters_by_base_model_architecture_and_kind(api, library):
    api.post(SCAN, {}, format="json")
    ids = list(PendingModel.objects.values_list("pk", flat=True))
    api.post(PROMOTE, {"id": ids}, format="json")

    def names(query: str) -> list[str]:
        response = api.get(f"/api/models?type=checkpoints&{query}")
        assert response.status_code == 200, response.json()
        return sorted(m["name"] for m in response.json()["models"])

    assert names("base_model=flux.1%20d") == ["flux1-dev-Q8_0.gguf"]
    assert names("base_model=FLUX.1 S") == ["flux1-schnell.safetensors"]
    assert names("architecture=FLUX1&kind=diffusion_model") == [
        "flux1-dev-Q8_0.gguf",
        "flux1-schnell.safetensors",
    ]
    assert names("kind=unknown") == ["broken.safetensors"]
    assert names("kind=lora") == []


def test_pickled_files_are_never_unpickled_by_scan_promotion_or_refresh(api, tmp_path, settings):
    from django.core.management import call_command

    marker = tmp_path / "unpickled.marker"
    folder = tmp_path / "checkpoints"
    malicious_pickle(folder / "evil.ckpt", marker)
    malicious_pickle(folder / "evil_zip.pt", marker, zipped=True)
    settings.MODEL_ROOTS = {"checkpoints": [str(folder)]}
    api.post(SCAN, {}, format="json")
    ids = list(PendingModel.objects.values_list("pk", flat=True))
    assert len(api.post(PROMOTE, {"id": ids}, format="json").json()["success"]) == 2
    call_command("refresh_file_info", verbosity=0)
    assert not marker.exists()
    formats = {m.file_info["format"] for m in CatalogModel.objects.all()}
    assert formats == {"ckpt"}
    for model in CatalogModel.objects.all():
        assert model.file_info["header_error"] == ""
        assert model.file_info["hashes"]["sha256"] == model.sha256


def test_verification_fills_the_tensor_hash_of_an_older_model(api, library):
    from django.core.management import call_command

    from catalog.models import ModelLocation

    api.post(SCAN, {}, format="json")
    row = pending("zkz.safetensors")
    api.post(PROMOTE, {"id": [row.pk]}, format="json")
    model = CatalogModel.objects.get()
    tensor = model.tensor_sha256
    assert len(tensor) == 64
    # As a model catalogued before tensor hashes: no tensor hash anywhere, its
    # location never looked at.
    record = model.file_info
    record["hashes"] = {
        k: v for k, v in record["hashes"].items() if "3" not in k and "tensor" not in k
    }
    CatalogModel.objects.update(tensor_sha256="", autov3="", file_info=record)
    FileHash.objects.all().delete()
    ModelLocation.objects.update(mtime_ns=0)
    call_command("verify", verbosity=0)
    model.refresh_from_db()
    assert (model.tensor_sha256, model.autov3) == (tensor, tensor[:12])
    assert model.file_info["hashes"]["autov3"] == tensor[:12]

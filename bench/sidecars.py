"""Sidecars: a scan that reads them, and ``import_sidecars`` over a catalog.

- The scan of a tree where half the model files have two sidecars (a
  Civitai Helper ``.civitai.info`` of about 3 KB and an A1111 ``.json``) and
  a preview, against the scan of the same tree with no sidecar at all
  (target <= 1.3x). The model files are SD 1.5 LoRAs as kohya writes them
  (a real 288-tensor header with ``ss_*`` metadata, the data sparse), since
  the scan reads every header; the same comparison over empty model files,
  whose header read fails at once, is printed beside it. Both run in this
  process (``folder_scan``), best of the repeats, the pending table emptied
  before each.
- ``import_sidecars`` over a catalog whose every model has those sidecars:
  models per second, and SQL queries per model at two catalog sizes (the
  same number: constant).
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from bench.common import Row, bench_dir, django_ready, emit, parse_args, timed
from bench.generate import empty_tree

FIXTURES = Path(__file__).resolve().parent.parent / "catalog" / "tests" / "sidecar_fixtures"


def main() -> None:
    args = parse_args(__doc__)
    django_ready()
    folders, per_folder = (200, 50) if args.quick else (2_000, 50)
    base = bench_dir("sidecars")
    for label, build in (("SD 1.5 LoRA files", _lora_tree), ("empty model files", empty_tree)):
        kind = "lora" if build is _lora_tree else "empty"
        with_root, without_root = base / f"{kind}_with", base / f"{kind}_without"
        count = build(with_root, folders=folders, files_per_folder=per_folder)
        build(without_root, folders=folders, files_per_folder=per_folder)
        sidecar_files = _add_sidecars(with_root, every=2)
        _scan_rows(with_root, without_root, count, sidecar_files, args.repeat, label, kind)
    _import_rows(base / "catalog", 500 if args.quick else 10_000)


def _lora_tree(root: Path, *, folders: int, files_per_folder: int) -> int:
    """The tree shape of ``empty_tree``, each file a kohya SD 1.5 LoRA (data sparse)."""
    header = _lora_header()
    count = 0
    for index in range(folders):
        folder = root / f"group_{index % 40:02d}" / f"set_{index:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        for number in range(files_per_folder):
            with open(folder / f"model_{number:03d}.safetensors", "wb") as handle:
                handle.write(header)
                handle.truncate(len(header) + _LORA_DATA)
            count += 1
    return count


_LORA_DATA = 9 * 1024 * 1024  # sparse: a hole, as far as reads of it go


def _lora_header() -> bytes:
    import json

    from catalog.tests.model_files import kohya_lora, sd1_lora_modules

    tensors = kohya_lora(sd1_lora_modules(), rank=32)
    metadata = {
        "ss_network_module": "networks.lora",
        "ss_network_dim": "32",
        "ss_network_alpha": "16",
        "ss_base_model_version": "sd_v1",
        "ss_sd_model_name": "v1-5-pruned-emaonly.safetensors",
        "ss_num_epochs": "10",
        "ss_max_train_steps": "4200",
        "ss_resolution": "(512, 512)",
        "ss_output_name": "zkz_style",
        "ss_learning_rate": "0.0001",
        "ss_optimizer": "bitsandbytes.optim.adamw.AdamW8bit",
        "ss_tag_frequency": json.dumps({"10_zkz style": {f"tag {n}": 200 - n for n in range(120)}}),
    }
    header: dict = {"__metadata__": metadata}
    offset = 0
    for name, (dtype, shape) in tensors.items():
        size = 2
        for dim in shape:
            size *= dim
        header[name] = {
            "dtype": dtype,
            "shape": list(shape),
            "data_offsets": [offset, offset + size],
        }
        offset += size
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    return len(raw).to_bytes(8, "little") + raw


def _sidecar_bytes(sha256: str) -> tuple[bytes, bytes]:
    info = (FIXTURES / "civitai_helper" / "zkz_style.civitai.info").read_text()
    for token, value in (
        ("@SHA256_UPPER@", sha256.upper()),
        ("@AUTOV1_UPPER@", sha256[:8].upper()),
        ("@AUTOV2_UPPER@", sha256[:10].upper()),
        ("@AUTOV3_UPPER@", sha256[-12:].upper()),
    ):
        info = info.replace(token, value)
    a1111 = (FIXTURES / "a1111" / "zkz_style.json").read_bytes()
    return info.encode(), a1111


def _add_sidecars(root: Path, *, every: int) -> int:
    """Two sidecars and a preview beside every ``every``-th model file; the files written."""
    written = 0
    for index, path in enumerate(sorted(root.rglob("*.safetensors"))):
        if index % every:
            continue
        base = str(path)[: -len(".safetensors")]
        sha = hashlib.sha256(base.encode()).hexdigest()
        info, a1111 = _sidecar_bytes(sha)
        Path(base + ".civitai.info").write_bytes(info)
        Path(base + ".json").write_bytes(a1111)
        Path(base + ".preview.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 256)
        written += 3
    return written


def _scan_rows(
    with_root: Path,
    without_root: Path,
    count: int,
    files: int,
    repeat: int,
    label: str,
    kind: str,
) -> None:
    from django.conf import settings

    from migration_app.models import PendingModel
    from migration_app.services.folder_scan import folder_scan

    def scan(root: Path) -> tuple[float, float]:
        PendingModel.objects.all().delete()
        settings.MODEL_ROOTS = {"loras": [str(root)]}
        cpu = time.process_time()
        seconds, result = timed(folder_scan)
        assert result.pending_added == count, result.as_dict()
        return seconds, time.process_time() - cpu

    # Once untimed: the dentry and page caches are then warm for every timed run.
    scan(with_root)
    scan(without_root)
    wall = {"with": float("inf"), "without": float("inf")}
    cpu = dict(wall)
    for _ in range(repeat):  # interleaved: a busy moment hits both alike
        for key, root in (("with", with_root), ("without", without_root)):
            seconds, used = scan(root)
            wall[key], cpu[key] = min(wall[key], seconds), min(cpu[key], used)
    lora = kind == "lora"
    emit(
        Row(
            benchmark=(
                f"scan of {count:,} {label}, half with 2 sidecars and a preview "
                f"({files:,} more files), in process"
            ),
            measured=f"{wall['with']:.2f} s (CPU {cpu['with']:.2f} s)",
            limit=(
                f"the same scan, no sidecars: {wall['without']:.2f} s (CPU {cpu['without']:.2f} s)"
            ),
            ratio=wall["with"] / wall["without"],
            op="<=" if lora else "",
            target=1.3 if lora else None,
            note=(
                f"CPU time ratio {cpu['with'] / cpu['without']:.2f}x (the process's own "
                "work, steadier than wall time on a shared machine)"
                + ("" if lora else "; empty files: the scan's own work per file is tiny")
            ),
        )
    )


def _import_rows(root: Path, count: int) -> None:
    from django.db import connection

    from catalog.models import CatalogModel
    from migration_app.services.sidecar_import import catalog_sidecars_import

    for size in (count // 2, count):
        CatalogModel.objects.all().delete()
        folder = root / f"size_{size}"
        folder.mkdir(parents=True, exist_ok=True)
        models = []
        for index in range(size):
            path = folder / f"model_{index:06d}.safetensors"
            path.write_bytes(b"")
            sha = hashlib.sha256(f"bench {size} {index}".encode()).hexdigest()
            models.append(CatalogModel(sha256=sha, name=path.name, type="loras", path=str(path)))
            info, a1111 = _sidecar_bytes(sha)
            Path(str(path)[: -len(".safetensors")] + ".civitai.info").write_bytes(info)
            Path(str(path)[: -len(".safetensors")] + ".json").write_bytes(a1111)
        CatalogModel.objects.bulk_create(models, batch_size=500)
        statements: list[int] = []

        def count(execute, sql, params, many, context, statements=statements):
            statements.append(1)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            cpu = time.process_time()
            seconds, report = timed(catalog_sidecars_import)
            cpu = time.process_time() - cpu
        assert report.applied == size, report.as_dict()
        queries = len(statements)
        emit(
            Row(
                benchmark=f"import_sidecars over {size:,} catalog models with 2 sidecars each",
                measured=f"{size / seconds:,.0f} models/s ({seconds:.2f} s, CPU {cpu:.2f} s)",
                limit="",
                ratio=None,
                note=f"{queries / size:.2f} queries per model ({queries:,} in all)",
            )
        )
        cpu = time.process_time()
        second, again = timed(catalog_sidecars_import)
        cpu = time.process_time() - cpu
        assert again.applied == 0, again.as_dict()
        emit(
            Row(
                benchmark=f"import_sidecars again over {size:,} models (nothing to fill)",
                measured=f"{size / second:,.0f} models/s ({second:.2f} s, CPU {cpu:.2f} s)",
                limit="",
                ratio=None,
            )
        )


if __name__ == "__main__":
    main()

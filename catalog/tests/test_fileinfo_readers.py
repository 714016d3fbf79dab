"""Header readers: safetensors (and its broken headers), GGUF, pickled and ONNX files."""

from __future__ import annotations

import builtins
import json
import os
import pickle
import zipfile
from pathlib import Path

import pytest

from catalog.fileinfo.record import file_record_of
from catalog.tests import model_files as mf


class WritesMarker:
    """Unpickling this calls open(marker, "w"): the marker file appears."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (builtins.open, (str(self.marker), "w"))


def malicious_pickle(path: Path, marker: Path, *, zipped: bool = False) -> Path:
    """A file whose unpickling would create ``marker`` (raw pickle, or torch's zip layout)."""
    payload = pickle.dumps({"state_dict": WritesMarker(marker)}, protocol=2)
    path.parent.mkdir(parents=True, exist_ok=True)
    if zipped:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("archive/data.pkl", payload)
            archive.writestr("archive/version", "3\n")
    else:
        path.write_bytes(payload)
    return path


def test_safetensors_record_has_every_key_and_counts_tensors(tmp_path):
    path = mf.write_safetensors(
        tmp_path / "mixed.safetensors",
        {"a": ("F16", (4, 8)), "b": ("F16", (2,)), "c": ("F32", (3, 3))},
        {"note": "x"},
    )
    record = file_record_of(str(path))
    assert set(record) == {
        "format",
        "architecture",
        "kind",
        "base_model",
        "dtype",
        "tensor_count",
        "parameters",
        "hashes",
        "trigger_words",
        "training",
        "modelspec",
        "header_error",
    }
    assert record["format"] == "safetensors"
    assert record["tensor_count"] == 3
    assert record["parameters"] == 32 + 2 + 9
    assert record["dtype"] == "F16"  # most parameters, not most tensors
    assert record["header_error"] == ""
    assert (record["architecture"], record["kind"], record["base_model"]) == (
        "unknown",
        "unknown",
        "",
    )


def test_sft_is_safetensors(tmp_path):
    path = mf.write_safetensors(tmp_path / "m.sft", {"emb_params": ("F32", (2, 768))})
    record = file_record_of(str(path))
    assert (record["format"], record["kind"], record["architecture"]) == (
        "safetensors",
        "embedding",
        "sd1",
    )


def test_a_header_longer_than_the_first_read_is_read_whole(tmp_path):
    tensors = mf.sdxl_checkpoint()  # a header of several hundred KB
    path = mf.write_safetensors(tmp_path / "xl.safetensors", tensors)
    assert int.from_bytes(path.read_bytes()[:8], "little") > 64 * 1024
    record = file_record_of(str(path))
    assert record["header_error"] == ""
    assert record["tensor_count"] == len(tensors)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "too short"),
        (b"\x01\x02\x03", "too short"),
        ((0).to_bytes(8, "little") + b"{}", "length is zero"),
        ((500).to_bytes(8, "little") + b'{"a": 1}', "past the end of the file"),
        ((200 * 1000 * 1000).to_bytes(8, "little") + b"{}", "over the 100 MB limit"),
        ((7).to_bytes(8, "little") + b"not json", "not valid JSON"),
        ((2).to_bytes(8, "little") + b"[]", "not an object (it is a list)"),
        ((4).to_bytes(8, "little") + b'"ab"', "not an object (it is a string)"),
        ((4).to_bytes(8, "little") + b"\xff\xfe{}", "not UTF-8"),
        ((10).to_bytes(8, "little") + b'{"t": "x"}', "has no dtype and shape"),
    ],
    ids=[
        "empty",
        "shorter-than-length",
        "zero-length",
        "truncated",
        "over-long",
        "not-json",
        "a-list",
        "a-string",
        "not-utf8",
        "bad-tensor",
    ],
)
def test_a_broken_safetensors_header_gives_header_error_not_an_exception(
    tmp_path, content, message
):
    path = tmp_path / "broken.safetensors"
    path.write_bytes(content)
    record = file_record_of(str(path))
    assert message in record["header_error"]
    assert record["format"] == "safetensors"
    assert (record["architecture"], record["kind"]) == ("unknown", "unknown")
    assert record["tensor_count"] == 0


def test_a_file_that_cannot_be_opened_gives_header_error(tmp_path):
    record = file_record_of(str(tmp_path / "absent.safetensors"))
    assert "could not be read" in record["header_error"]


def test_metadata_values_that_are_not_strings_are_ignored(tmp_path):
    header = {"__metadata__": {"modelspec.title": 5, "ss_network_dim": "8"}}
    raw = json.dumps(header).encode()
    path = mf.write_raw_header(tmp_path / "m.safetensors", raw)
    record = file_record_of(str(path))
    assert record["header_error"] == ""
    assert record["modelspec"] == {}
    assert record["training"] == {"network_dim": 8}


# --- GGUF ------------------------------------------------------------------


def flux_gguf_tensors(qtype: str = "Q4_K") -> dict:
    tensors = {}
    for name, (_, shape) in mf.flux_transformer().items():
        # Weights quantised, norms and biases in F32, as ComfyUI-GGUF's convert does.
        tensors[name] = (qtype if len(shape) == 2 and shape[1] % 256 == 0 else "F32", shape)
    return tensors


def test_gguf_flux_dev_quantised(tmp_path):
    tensors = flux_gguf_tensors()
    path = mf.write_gguf(tmp_path / "flux1-dev-Q4_K_S.gguf", tensors, architecture="flux")
    record = file_record_of(str(path))
    assert record["header_error"] == ""
    assert record["format"] == "gguf"
    assert (record["architecture"], record["kind"], record["base_model"]) == (
        "flux1",
        "diffusion_model",
        "Flux.1 D",
    )
    assert record["dtype"] == "Q4_K"
    assert record["tensor_count"] == len(tensors)
    assert record["parameters"] == sum(
        shape[0] * (shape[1] if len(shape) > 1 else 1) for _, shape in tensors.values()
    )


def test_gguf_architecture_comes_from_general_architecture_when_names_say_nothing(tmp_path):
    path = mf.write_gguf(
        tmp_path / "t5-v1_1-xxl-encoder-Q8_0.gguf",
        {
            "enc.blk.0.attn_q.weight": ("Q8_0", (4096, 4096)),
            "enc.blk.0.attn_norm.weight": ("F32", (4096,)),
            "token_embd.weight": ("Q8_0", (32128, 4096)),
        },
        architecture="t5encoder",
    )
    record = file_record_of(str(path))
    assert (record["architecture"], record["kind"], record["base_model"]) == (
        "t5",
        "text_encoder",
        "",
    )
    assert record["dtype"] == "Q8_0"


def test_gguf_keeps_string_metadata_and_skips_large_arrays(tmp_path):
    path = mf.write_gguf(
        tmp_path / "sdxl.gguf",
        {
            name: ("F16", shape)
            for name, (_, shape) in mf.sdxl_unet(prefix="").items()
            if name.startswith(("input_blocks.4.1.transformer_blocks.0.", "label_emb"))
        },
        architecture="sdxl",
        metadata={"tokenizer.ggml.tokens": [f"tok{i}" for i in range(5000)], "general.name": "x"},
    )
    record = file_record_of(str(path))
    assert record["header_error"] == ""
    assert (record["architecture"], record["base_model"]) == ("sdxl", "SDXL 1.0")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"GGUF", "magic"),
        (b"NOTGGUF" + b"\0" * 40, "magic"),
        (b"GGUF" + (1).to_bytes(4, "little") + b"\0" * 40, "version 1"),
        (
            b"GGUF"
            + (3).to_bytes(4, "little")
            + (1).to_bytes(8, "little")
            + (0).to_bytes(8, "little"),
            "past the end",
        ),
        (
            b"GGUF"
            + (3).to_bytes(4, "little")
            + (10**12).to_bytes(8, "little")
            + (0).to_bytes(8, "little")
            + b"\0" * 64,
            "larger than the file",
        ),
    ],
    ids=["too-short", "bad-magic", "version-1", "truncated", "lying-counts"],
)
def test_a_broken_gguf_header_gives_header_error(tmp_path, content, message):
    path = tmp_path / "broken.gguf"
    path.write_bytes(content)
    record = file_record_of(str(path))
    assert message in record["header_error"]
    assert record["format"] == "gguf"


def test_a_truncated_gguf_written_by_the_writer_gives_header_error(tmp_path):
    path = mf.write_gguf(tmp_path / "cut.gguf", flux_gguf_tensors())
    # The header (names, shapes, types of 470 tensors) is cut in the middle.
    os.truncate(path, 20_000)
    assert "past the end" in file_record_of(str(path))["header_error"]


# --- pickled and ONNX ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "zipped"),
    [("evil.ckpt", False), ("evil.pt", True), ("evil.pth", False), ("evil.bin", True)],
)
def test_pickled_files_are_recognised_and_never_unpickled(tmp_path, name, zipped):
    marker = tmp_path / "unpickled.marker"
    path = malicious_pickle(tmp_path / name, marker, zipped=zipped)
    record = file_record_of(str(path))
    assert record["format"] == "ckpt"
    assert record["header_error"] == ""
    assert (record["architecture"], record["kind"], record["tensor_count"]) == (
        "unknown",
        "unknown",
        0,
    )
    assert record["hashes"]["autov1"]
    assert not marker.exists()


def test_a_ckpt_that_is_neither_zip_nor_pickle_says_so(tmp_path):
    path = tmp_path / "odd.ckpt"
    path.write_bytes(b"hello world")
    assert "neither a PyTorch zip archive nor a pickle" in file_record_of(str(path))["header_error"]


def test_onnx_is_recognised_by_its_first_field(tmp_path):
    good = tmp_path / "model.onnx"
    good.write_bytes(b"\x08\x07\x12\x07pytorch")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"PK\x03\x04")
    assert file_record_of(str(good))["format"] == "onnx"
    assert file_record_of(str(good))["header_error"] == ""
    assert "ONNX" in file_record_of(str(bad))["header_error"]


def test_an_unknown_extension_is_format_unknown(tmp_path):
    path = tmp_path / "weights.xyz"
    path.write_bytes(b"data")
    record = file_record_of(str(path))
    assert (record["format"], record["header_error"]) == ("unknown", "")


def test_elements_are_totalled_per_dtype_in_the_order_the_dtypes_appear():
    from catalog.fileinfo.readers.safetensors import parse_header

    header = parse_header(
        b'{"a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},'
        b' "b": {"dtype": "BF16", "shape": [4], "data_offsets": [24, 32]},'
        b' "c": {"dtype": "F32", "shape": [5], "data_offsets": [32, 52]},'
        b' "d": {"dtype": "I8", "shape": [], "data_offsets": [52, 53]}}'
    )

    assert list(header.dtype_elements.items()) == [("F32", 11), ("BF16", 4), ("I8", 1)]
    assert header.parameters == 16

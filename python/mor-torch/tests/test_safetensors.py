# The built-in safetensors reader and writer: byte-identical to files the reference (Rust) writer made, exact
# F16/BF16 rounding, and every refusal @mor/format makes, with the file and the tensor named.
from __future__ import annotations

import json
import struct

import pytest
import torch

from conftest import TINY_LLAMA
from mor_torch import SafetensorsError, read_safetensors, serialize_safetensors
from mor_torch.safetensors_io import MAX_HEADER_BYTES, _wheel

FIXTURE_FILES = [
    TINY_LLAMA / "model.safetensors",
    TINY_LLAMA / "mor-adapter" / "adapter_model.safetensors",
    TINY_LLAMA / "peft-lora" / "adapter_model.safetensors",
]


def file_bytes(header: dict, data: bytes = b"", pad: bool = True) -> bytes:
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


def raw(header_text: bytes, data: bytes = b"") -> bytes:
    return struct.pack("<Q", len(header_text)) + header_text + data


def refusal(data: bytes) -> SafetensorsError:
    with pytest.raises(SafetensorsError) as info:
        read_safetensors(data, file_name="bad.safetensors")
    assert str(info.value).startswith("bad.safetensors: ")
    return info.value


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.parent.name + "/" + p.name)
def test_rewriting_a_reference_file_gives_the_same_bytes(path):
    tensors, metadata = read_safetensors(path)
    assert serialize_safetensors(tensors, metadata=metadata) == path.read_bytes()


def test_f16_and_bf16_round_as_torch_does():
    x = torch.tensor([1.0, 1 + 2**-11, 1 + 3 * 2**-11, 65520.0, 1e-8, -3.3e38, 2**-24 * 1.5], dtype=torch.float32)
    for dtype, tdtype in (("F16", torch.float16), ("BF16", torch.bfloat16)):
        back, _ = read_safetensors(serialize_safetensors({"x": x}, dtype=dtype))
        assert back["x"].dtype == tdtype
        assert torch.equal(back["x"].float(), x.to(tdtype).float())


def test_a_huge_header_length_is_refused_before_anything_is_read(tmp_path):
    path = tmp_path / "huge.safetensors"
    path.write_bytes(struct.pack("<Q", 2**62) + b"{}")
    with pytest.raises(SafetensorsError, match="over the 100000000-byte limit") as info:
        read_safetensors(path)
    assert info.value.file_name == str(path)
    assert "runs past the end of the file" in str(refusal(struct.pack("<Q", MAX_HEADER_BYTES) + b"{}"))


@pytest.mark.parametrize(
    "data, message, tensor",
    [
        (b"\x01\x00", "too short to hold the 8-byte header length", None),
        (struct.pack("<Q", 4) + b"\xff\xfe{}", "header is not valid UTF-8", None),
        (struct.pack("<Q", 8) + b"{nope}  ", "header is not valid JSON", None),
        (file_bytes([1, 2]), "header is not a JSON object", None),
        (
            raw(b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', bytes(8)),
            "named twice in the header",
            "a",
        ),
        (raw(b'{"__metadata__":{},"__metadata__":{}}'), "header has two __metadata__ entries", None),
        (file_bytes({"a": {"dtype": "F4", "shape": [1], "data_offsets": [0, 1]}}, bytes(1)), "unknown dtype", "a"),
        (file_bytes({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, bytes(4)), "non-negative", "a"),
        (file_bytes({"a": {"dtype": "F32", "shape": [2], "data_offsets": [4, 0]}}, bytes(8)), "0 ≤ begin ≤ end", "a"),
        (file_bytes({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, bytes(4)), "needs 8 bytes", "a"),
        (file_bytes({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, bytes(4)), "run past the end", "a"),
        (
            file_bytes(
                {
                    "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                    "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]},
                },
                bytes(8),
            ),
            "overlap tensor 'a' [0,8]",
            "b",
        ),
        (file_bytes({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, bytes(8)), "leave a gap", "a"),
        (file_bytes({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, bytes(8)), "4 bytes after", None),
        (file_bytes({"__metadata__": {"k": 1}}), '__metadata__ value for "k" is not a string', None),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_malformed_files_are_refused_naming_file_and_tensor(data, message, tensor):
    error = refusal(data)
    assert message in error.detail
    assert error.tensor_name == tensor
    if tensor is not None:
        assert f"tensor '{tensor}'" in str(error)


def test_writer_refuses_unusable_names_and_dtypes():
    with pytest.raises(SafetensorsError, match="not a usable tensor name"):
        serialize_safetensors({"__metadata__": torch.zeros(1)})
    with pytest.raises(SafetensorsError, match="cannot write dtype"):
        serialize_safetensors({"a": torch.zeros(1)}, dtype="F64")
    with pytest.raises(SafetensorsError, match="not a float tensor"):
        serialize_safetensors({"a": torch.zeros(1, dtype=torch.int64)})


@pytest.mark.skipif(_wheel() is None, reason="the safetensors wheel is not installed: only the built-in code runs")
def test_the_wheel_and_the_built_in_code_agree(monkeypatch):
    tensors, metadata = read_safetensors(FIXTURE_FILES[1])
    with_wheel = serialize_safetensors(tensors, metadata=metadata)
    monkeypatch.setenv("MOR_TORCH_BUILTIN_SAFETENSORS", "1")
    assert serialize_safetensors(tensors, metadata=metadata) == with_wheel

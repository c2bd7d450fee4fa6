# Reads and writes safetensors files. Hand-written because the `safetensors` wheel is optional (only torch is
# required, and it cannot be installed everywhere this runs), and because the header must be validated the way
# @mor/format validates it -- bounded length checked before anything is allocated, duplicate names, dtypes,
# shapes, and data offsets that tile the data section exactly -- with errors naming the file and the tensor. The
# header check always runs; when the wheel is installed it then decodes the data and writes files (its layout is
# the one written here, byte for byte), unless MOR_TORCH_BUILTIN_SAFETENSORS=1 asks for the built-in code.
from __future__ import annotations

import ctypes
import json
import os
import sys
from dataclasses import dataclass
from typing import Dict, Iterable, List, Mapping, Optional, Tuple, Union

import torch

from ._json import js as _js
from .errors import SafetensorsError

# Largest header accepted. Real headers are a few KB (a few MB for checkpoints with 100k tensors); the length is
# untrusted input, and reading a huge bogus "header" would exhaust memory. 100 MB is the reference (Rust) limit,
# so anything it writes we read.
MAX_HEADER_BYTES = 100_000_000

METADATA_KEY = "__metadata__"

# Bytes per element of every dtype the format knows (sub-byte types are refused as unknown, as @mor/format does).
DTYPE_BYTES = {
    "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "F8_E5M2": 1, "F8_E4M3": 1,
    "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1,
}  # fmt: skip

# The torch dtype of each safetensors dtype, where this torch has one (torch 1.13 lacks U16/U32/U64 and F8).
_TORCH_DTYPE_NAMES = {
    "F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16", "F8_E5M2": "float8_e5m2",
    "F8_E4M3": "float8_e4m3fn", "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8",
    "U64": "uint64", "U32": "uint32", "U16": "uint16", "U8": "uint8", "BOOL": "bool",
}  # fmt: skip

# Rank of each writable dtype in the reference writer's `Dtype` enum: it orders tensors by rank, largest first,
# then by name. Following it makes our files byte-identical to the ones PyTorch/PEFT (and @mor/format) write.
WRITE_ORDER_RANK = {"F16": 11, "BF16": 12, "F32": 15}
_WRITABLE = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}

PathLike = Union[str, "os.PathLike[str]"]


@dataclass
class _Entry:
    name: str
    dtype: str
    shape: List[int]
    begin: int
    end: int


def torch_dtype(dtype: str) -> Optional[torch.dtype]:
    """The torch dtype for a safetensors dtype name, or None when this torch has none."""
    name = _TORCH_DTYPE_NAMES.get(dtype)
    return None if name is None else getattr(torch, name, None)


def _wheel():
    """`safetensors.torch` when the wheel is installed and not switched off, else None."""
    if os.environ.get("MOR_TORCH_BUILTIN_SAFETENSORS") == "1":
        return None
    try:
        import safetensors.torch as st  # optional dependency
    except ImportError:
        return None
    return st


class _Pairs(dict):
    """A JSON object that remembers its keys in file order, duplicates included (dict keeps only the last)."""

    def __init__(self, pairs):
        super().__init__(pairs)
        self.keys_in_order = [k for k, _ in pairs]


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def parse_header(head: bytes, file_size: int, file_name: str) -> Tuple[Dict[str, str], List[_Entry], int]:
    """Validates a safetensors header. `head` starts at byte 0 of the file and holds at least the whole header.

    Returns (metadata, entries in header order, offset of the data section).
    """

    def fail(detail: str, tensor: Optional[str] = None):
        raise SafetensorsError(detail, file_name, tensor)

    if file_size < 8:
        fail(f"file is {file_size} bytes, too short to hold the 8-byte header length")
    n = int.from_bytes(head[:8], "little")
    if n > MAX_HEADER_BYTES:
        fail(f"header length {n} is over the {MAX_HEADER_BYTES}-byte limit (corrupt or not a safetensors file)")
    if n > file_size - 8:
        fail(f"header length {n} runs past the end of the file ({file_size} bytes)")
    try:
        text = bytes(head[8 : 8 + n]).decode("utf-8")
    except UnicodeDecodeError:
        fail("header is not valid UTF-8")
    try:
        header = json.loads(text, object_pairs_hook=_Pairs)
    except json.JSONDecodeError as error:
        fail(f"header is not valid JSON: {error}")
    if not isinstance(header, _Pairs):
        fail("header is not a JSON object")
    seen = set()
    for key in header.keys_in_order:
        if key in seen:
            if key == METADATA_KEY:
                fail("header has two __metadata__ entries")
            fail("named twice in the header", key)
        seen.add(key)

    metadata = _parse_metadata(header.get(METADATA_KEY), fail)
    data_start = 8 + n
    data_length = file_size - data_start
    entries: List[_Entry] = []
    for name in header.keys_in_order:
        if name == METADATA_KEY:
            continue
        info = header[name]
        if not isinstance(info, dict):
            fail("header entry is not an object", name)
        dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if not isinstance(dtype, str) or dtype not in DTYPE_BYTES:
            fail(f"unknown dtype {_js(dtype)} (known: {', '.join(DTYPE_BYTES)})", name)
        if not isinstance(shape, list) or not all(_is_count(d) for d in shape):
            fail(f"shape {_js(shape)} is not a list of non-negative integers", name)
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(_is_count(o) for o in offsets)
            or offsets[0] > offsets[1]
        ):
            fail(f"data_offsets {_js(offsets)} is not a pair [begin, end] with 0 ≤ begin ≤ end", name)
        begin, end = offsets
        need = _element_count(shape) * DTYPE_BYTES[dtype]
        if need != end - begin:
            fail(
                f"shape {_js(shape)} of {dtype} needs {need} bytes but data_offsets [{begin},{end}] hold {end - begin}",
                name,
            )
        if end > data_length:
            fail(
                f"data_offsets [{begin},{end}] run past the end of the file (data section is {data_length} bytes)",
                name,
            )
        entries.append(_Entry(name, dtype, list(shape), begin, end))
    _check_tiling(entries, data_length, fail)
    return metadata, entries, data_start


def _check_tiling(entries: List[_Entry], data_length: int, fail) -> None:
    """The tensors must cover the data section exactly once, as the reference reader demands."""
    expected = 0
    previous: Optional[_Entry] = None
    for e in sorted(entries, key=lambda e: (e.begin, e.end)):
        if e.begin < expected:
            fail(
                f"data_offsets [{e.begin},{e.end}] overlap tensor '{previous.name}' [{previous.begin},{previous.end}]",
                e.name,
            )
        if e.begin > expected:
            fail(
                f"data_offsets [{e.begin},{e.end}] leave a gap: bytes [{expected},{e.begin}) belong to no tensor",
                e.name,
            )
        expected = e.end
        previous = e
    if expected != data_length:
        fail(f"{data_length - expected} bytes after the last tensor (offset {expected}) belong to no tensor")


def _parse_metadata(value, fail) -> Dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        fail("__metadata__ is not an object of strings")
    for k, v in value.items():
        if not isinstance(v, str):
            fail(f"__metadata__ value for {_js(k)} is not a string")
    return dict(value)


def _element_count(shape: Iterable[int]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _from_le_bytes(buf: bytearray, entry: _Entry, data_start: int, file_name: str) -> torch.Tensor:
    dtype = torch_dtype(entry.dtype)
    if dtype is None:
        raise SafetensorsError(
            f"dtype {entry.dtype} has no torch dtype in torch {torch.__version__}", file_name, entry.name
        )
    count = _element_count(entry.shape)
    if count == 0:
        return torch.empty(entry.shape, dtype=dtype)
    raw = torch.frombuffer(buf, dtype=torch.uint8, count=entry.end - entry.begin, offset=data_start + entry.begin)
    size = DTYPE_BYTES[entry.dtype]
    if sys.byteorder == "big" and size > 1:  # safetensors is little-endian: reverse the bytes of each element
        raw = raw.view(count, size).flip(1).reshape(-1)
    return raw.clone().view(dtype).reshape(entry.shape)


def read_safetensors(
    source: Union[PathLike, bytes, bytearray], file_name: Optional[str] = None
) -> Tuple[Dict[str, torch.Tensor], Dict[str, str]]:
    """Reads a safetensors file (a path, or its bytes). Returns (tensors by name in header order, metadata).

    The 8-byte header length is checked against the file size and MAX_HEADER_BYTES before the header is read.

    Raises:
        SafetensorsError: naming the file (and the tensor, when one is at fault).
    """
    if isinstance(source, (bytes, bytearray)):
        name = file_name or "<safetensors>"
        buf = bytearray(source)
        metadata, entries, data_start = parse_header(buf, len(buf), name)
    else:
        name = file_name or str(source)
        with open(source, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            head = f.read(8)
            n = int.from_bytes(head, "little") if len(head) == 8 else 0
            if len(head) == 8 and n <= MAX_HEADER_BYTES and n <= size - 8:
                head += f.read(n)
            metadata, entries, data_start = parse_header(head, size, name)
            buf = bytearray(size)
            buf[: len(head)] = head
            f.readinto(memoryview(buf)[len(head) :])
    st = _wheel()
    if st is not None and all(torch_dtype(e.dtype) is not None for e in entries):
        loaded = st.load(bytes(buf))
        return {e.name: loaded[e.name] for e in entries}, metadata
    return {e.name: _from_le_bytes(buf, e, data_start, name) for e in entries}, metadata


def serialize_safetensors(
    tensors: Mapping[str, torch.Tensor], dtype: str = "F32", metadata: Optional[Mapping[str, str]] = None
) -> bytes:
    """The bytes of a safetensors file holding `tensors` (float tensors, stored as `dtype`: F32, F16 or BF16;
    narrowing rounds to nearest even, as `.half()` / `.bfloat16()` do). Laid out as the reference writer lays it
    out: compact JSON header with `__metadata__` first, tensors ordered by dtype rank then name, the header
    padded with spaces to a multiple of 8 bytes.

    Raises:
        SafetensorsError: for an unusable name, a dtype that cannot be written, or a non-float tensor.
    """
    if dtype not in _WRITABLE:
        raise SafetensorsError(f"cannot write dtype {_js(dtype)} (F32, F16 or BF16)")
    prepared: Dict[str, torch.Tensor] = {}
    for name, t in tensors.items():
        if name == "" or name == METADATA_KEY:
            raise SafetensorsError("is not a usable tensor name", tensor_name=name)
        if not torch.is_floating_point(t):
            raise SafetensorsError(f"is {t.dtype}, not a float tensor", tensor_name=name)
        prepared[name] = t.detach().to(device="cpu", dtype=_WRITABLE[dtype]).contiguous()
    st = _wheel()
    if st is not None:
        return st.save(prepared, metadata=None if metadata is None else dict(metadata))
    ordered = sorted(prepared)  # one dtype per file: the rank order reduces to name order (code points)
    parts = []
    if metadata is not None:
        items = ",".join(f"{_js(k)}:{_js(metadata[k])}" for k in sorted(metadata))
        parts.append(f'"{METADATA_KEY}":{{{items}}}')
    chunks = []
    offset = 0
    for name in ordered:
        t = prepared[name]
        raw = t.reshape(-1).view(torch.uint8) if t.numel() > 0 else torch.empty(0, dtype=torch.uint8)
        size = DTYPE_BYTES[dtype]
        if sys.byteorder == "big" and size > 1:
            raw = raw.view(-1, size).flip(1).reshape(-1)
        data = ctypes.string_at(raw.data_ptr(), raw.numel()) if raw.numel() > 0 else b""
        info = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        parts.append(f"{_js(name)}:{_js(info)}")
        chunks.append(data)
        offset += len(data)
    header = ("{" + ",".join(parts) + "}").encode("utf-8")
    header += b" " * ((8 - len(header) % 8) % 8)
    return len(header).to_bytes(8, "little") + header + b"".join(chunks)

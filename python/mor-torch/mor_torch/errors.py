# Typed errors of mor_torch. Every refusal names where it happened -- the file and, when one is to blame, the
# tensor -- in the one message shape @mor/format uses (`file: tensor 'name': detail`), so a user who sees an error
# from the JavaScript tools and one from PyTorch reads the same words.
from __future__ import annotations

from typing import Optional


def _format_message(detail: str, file_name: Optional[str], tensor_name: Optional[str]) -> str:
    where = []
    if file_name is not None:
        where.append(str(file_name))
    if tensor_name is not None:
        where.append(f"tensor '{tensor_name}'")
    return f"{': '.join(where)}: {detail}" if where else detail


class MoRFormatError(ValueError):
    """Base of the file errors: carries `file_name`, `tensor_name` and the bare `detail`."""

    def __init__(self, detail: str, file_name: Optional[str] = None, tensor_name: Optional[str] = None):
        super().__init__(_format_message(detail, file_name, tensor_name))
        self.detail = detail
        self.file_name = None if file_name is None else str(file_name)
        self.tensor_name = tensor_name


class SafetensorsError(MoRFormatError):
    """A safetensors file that is malformed (header, offsets, dtypes, sizes) or a tensor that cannot be converted."""


class AdapterFormatError(MoRFormatError):
    """A well-formed file whose content is not a valid adapter for this model: bad config, tensors that disagree
    with the config or the base model, incomplete tensor groups, unknown tensor names, non-finite values."""


class FileWriteError(OSError):
    """A file that could not be written (full disk, permissions); names the target path and the reason."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: cannot be written: {reason}")
        self.path = str(path)
        self.reason = reason

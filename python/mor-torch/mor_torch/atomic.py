# Atomic file writes, as @mor/format's writeFilesAtomic does them: every file is written and flushed under a
# temporary name in its target's directory (a rename is only atomic within one file system) before any replaces
# its old copy, so a failed save -- a full disk, a killed job on a cluster -- leaves the previous files whole.
from __future__ import annotations

import errno
import os
import secrets
from pathlib import Path
from typing import List, Sequence, Tuple, Union

from .errors import FileWriteError


def _reason(error: OSError) -> str:
    code = errno.errorcode.get(error.errno or 0)
    return f"{error.strerror or error} ({code})" if code else str(error)


def write_files_atomic(files: Sequence[Tuple[Union[str, Path], Union[bytes, str]]]) -> None:
    """Writes each (path, data) so that readers see the old content or the new, never a mix, and a failure
    replaces none of the targets. Renames happen in the order given.

    Raises:
        FileWriteError: naming the file that could not be written and why.
    """
    staged: List[Tuple[Path, Path]] = []
    try:
        for path, data in files:
            path = Path(path)
            temp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
            staged.append((path, temp))
            payload = data.encode("utf-8") if isinstance(data, str) else data
            try:
                with open(temp, "xb") as f:
                    f.write(payload)
                    f.flush()
                    os.fsync(f.fileno())
            except OSError as error:
                raise FileWriteError(str(path), _reason(error)) from error
        for path, temp in staged:
            try:
                os.replace(temp, path)
            except OSError as error:
                raise FileWriteError(str(path), _reason(error)) from error
    finally:
        for _, temp in staged:
            try:
                temp.unlink()
            except FileNotFoundError:
                pass

# Small JSON helpers shared by the file readers: JSON.stringify-style rendering of values in messages (so refusals
# read like @mor/format's), reading a JSON file with errors that name it, and JS-like number checks (JSON has one
# number type: `4.0` is the integer 4 to a JavaScript reader, and True is not a number).
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .errors import AdapterFormatError


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON.stringify writes NaN and ±Infinity as null
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def js(value: Any) -> str:
    """`JSON.stringify(value)`: compact, `true`/`null`, non-ASCII kept; values JSON cannot hold as `repr`."""
    try:
        return json.dumps(_jsonable(value), separators=(",", ":"), ensure_ascii=False)
    except TypeError:
        return repr(value)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_finite_number(value: Any) -> bool:
    return is_number(value) and math.isfinite(value)


def as_integer(value: Any):
    """The int a JSON number stands for when it is integral (4 or 4.0), else None."""
    if not is_finite_number(value) or float(value) != int(value):
        return None
    return int(value)


def read_json_file(path: Path, missing_hint: str = "") -> Any:
    """Parses a JSON file; a missing file or bad JSON raises AdapterFormatError naming the file (line, column)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AdapterFormatError(f"not found{missing_hint}", str(path)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise AdapterFormatError(f"cannot be read: {error}", str(path)) from error
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise AdapterFormatError(
            f"not valid JSON at line {error.lineno}, column {error.colno}: {error.msg}", str(path)
        ) from None

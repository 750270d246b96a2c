"""The one rule for writing a value into a CSV cell."""

from __future__ import annotations

import math
from typing import Any


def csv_cell(value: Any, significant: int = 10) -> str:
    """A CSV cell: empty for ``None``/NaN, floats to ``significant`` digits, else ``str``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.{significant}g}"
    return str(value)

"""Tables to JSON-ready records."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of ``df`` as dicts of plain Python values; NaN and infinities become ``None``."""
    out: list[dict[str, Any]] = []
    for rec in df.to_dict(orient="records"):
        row: dict[str, Any] = {}
        for k, v in rec.items():
            if isinstance(v, np.generic):
                v = v.item()
            if isinstance(v, float) and not math.isfinite(v):
                v = None
            row[str(k)] = v
        out.append(row)
    return out

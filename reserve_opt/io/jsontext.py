"""Strict JSON for every output: never ``NaN`` or ``Infinity``, which JSON parsers reject.

A number without a finite value (no bound proven, a gap against an infinite bound) is
written as ``null`` with ``<key>_note`` beside it saying why, e.g.
``"bound": null, "bound_note": "no finite bound: the solver proved none (see status)"``.
``objective``, ``bound`` and ``gap`` get their note whenever they are null. A list holding
non-finite numbers gets them as ``null`` and one ``<key>_note`` for the list.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

#: Appended to a key to name the field that says why its value is null.
NOTE_SUFFIX = "_note"

#: Why a solve's figure is null (missing or not finite), whatever ended the solve.
_REASONS = {
    "objective": "no objective: the solve ended without a solution (see status)",
    "bound": "no finite bound: the solver proved none (see status)",
    "gap": "no gap: it needs an objective and a finite bound",
}


def _non_finite(value: Any) -> bool:
    return isinstance(value, float | np.floating) and not math.isfinite(value)


def _reason(key: str, value: float) -> str:
    if key in _REASONS:
        return _REASONS[key]
    word = "NaN" if math.isnan(value) else "infinity" if value > 0 else "minus infinity"
    return f"not a finite number ({word}), which JSON cannot hold"


def finite(data: Any) -> Any:
    """``data`` with every non-finite float as ``None`` and a note beside it.

    Parameters
    ----------
    data
        Dicts, lists, tuples and scalars, as ``json.dumps`` takes them.

    Returns
    -------
    Any
        The same structure (tuples as lists); each dict key whose value was ``NaN`` or
        infinite holds ``None`` and is followed by ``<key>_note`` (unless ``data`` has one),
        as is a null ``objective``, ``bound`` or ``gap``.
    """
    if isinstance(data, Mapping):
        out: dict[Any, Any] = {}
        for key, value in data.items():
            out[key] = finite(value)
            note = f"{key}{NOTE_SUFFIX}"
            if note in data:
                continue
            if _non_finite(value):
                out[note] = _reason(str(key), float(value))
            elif value is None and key in _REASONS:
                out[note] = _REASONS[key]
            elif isinstance(value, list | tuple) and any(_non_finite(v) for v in value):
                out[note] = "entries that are not finite numbers are given as null"
        return out
    if isinstance(data, list | tuple):
        return [finite(v) for v in data]
    return None if _non_finite(data) else data


def dumps(data: Any, *, indent: int | None = 1, ensure_ascii: bool = True) -> str:
    """``data`` as strict JSON text (see :func:`finite`).

    Values JSON has no type for (paths, dates, enums) are written as their ``str``.

    Raises
    ------
    ValueError
        Never for a non-finite float: :func:`finite` removed them, and ``allow_nan=False``
        makes sure none is written.
    """
    return json.dumps(finite(data), indent=indent, ensure_ascii=ensure_ascii, default=str,
                      allow_nan=False)

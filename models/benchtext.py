"""Reading published benchmark files (VRPLIB, Solomon, Cordeau, OR-Library) as text.

The files are ASCII numbers, but some published copies carry a header or comment line in
an 8-bit encoding (OR-Library's ``uncapopt.txt`` does). Every byte is a Latin-1
character, so such a file still reads here; whatever stands where a number is needed is
then refused by the reader that needs it, with the file and line.
"""

from __future__ import annotations

import math
from pathlib import Path

from reserve_opt.errors import InputError

__all__ = ["MAX_MAGNITUDE", "read_published_text", "whole_number"]

#: Largest magnitude of any number a benchmark reader takes (coordinates, demands,
#: capacities, times, costs), after the routing readers' scaling to integers. Published
#: sets stay below 1e8; a larger value is a damaged or hostile file, and would overflow
#: the routing engines' 64-bit integer sums.
MAX_MAGNITUDE = 1e9


def read_published_text(path: str | Path) -> str:
    """The text of a benchmark file: UTF-8, or Latin-1 where it is not UTF-8.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    str
        Its text.

    Raises
    ------
    InputError
        If the path is missing, a folder, or unreadable.
    """
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{p} is a folder; give the benchmark file itself.")
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{p}: no such file; check the path.") from None
    except OSError as err:
        raise InputError(f"{p}: cannot be read ({err.strerror}); check its permissions.") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def whole_number(value: float) -> bool:
    """Whether ``value`` is finite and integral (``3.0`` is, ``3.5`` and ``nan`` are not)."""
    return math.isfinite(value) and value == math.floor(value)

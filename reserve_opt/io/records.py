"""Typed records read back from a result document (``solution.json``) we wrote.

A result file may have been edited, truncated or made by hand, so every field is checked
against the dataclass it rebuilds and a wrong one is named in one sentence; nothing is
guessed or defaulted.
"""

from __future__ import annotations

import math
from dataclasses import fields
from typing import Any, TypeVar

from reserve_opt.errors import InputError

T = TypeVar("T")

#: What each annotation (as written in the dataclasses, ``from __future__ import
#: annotations``) accepts from JSON.
_KINDS: dict[str, tuple[str, bool]] = {
    "str": ("str", False), "str | None": ("str", True),
    "float": ("float", False), "float | None": ("float", True),
    "int": ("int", False), "int | None": ("int", True),
    "bool": ("bool", False),
}


def _fits(value: Any, kind: str) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if kind == "int":
        return isinstance(value, int)
    return math.isfinite(value)


def record(cls: type[T], doc: Any, where: str, fix: str) -> T:
    """Rebuild one dataclass record from its ``asdict`` form, checking every field.

    Parameters
    ----------
    cls
        A dataclass whose fields are ``str``, ``float``, ``int``, ``bool`` or an optional
        of one of them.
    doc
        The JSON object read.
    where
        Where it stands, for messages (``"plan/solution.json: stock line 3"``).
    fix
        What to do about a bad record, the end of the message.

    Returns
    -------
    T

    Raises
    ------
    InputError
        When ``doc`` is not an object, lacks a field, has one it should not, or holds a value
        of the wrong type (a number that is not finite counts as wrong).
    """
    if not isinstance(doc, dict):
        raise InputError(f"{where} is not an object; {fix}")
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    missing = [n for n in names if n not in doc]
    extra = sorted(set(doc) - set(names))
    if missing or extra:
        what = ("lacks " + ", ".join(missing) if missing else "") + (
            ("; " if missing and extra else "") + "has unknown " + ", ".join(map(str, extra))
            if extra else "")
        raise InputError(f"{where} {what}; {fix}")
    values: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        kind, optional = _KINDS[str(f.type)]
        v = doc[f.name]
        if v is None and optional:
            values[f.name] = None
        elif _fits(v, kind):
            values[f.name] = float(v) if kind == "float" else v
        else:
            shown = repr(v) if len(repr(v)) <= 40 else repr(v)[:37] + "..."
            need = {"str": "a string", "float": "a finite number", "int": "a whole number",
                    "bool": "true or false"}[kind] + (" or null" if optional else "")
            raise InputError(f"{where} has {f.name} {shown}; it must be {need}; {fix}")
    return cls(**values)


def records(cls: type[T], doc: Any, key: str, where: str, fix: str) -> tuple[T, ...]:
    """Rebuild the list ``doc[key]`` of records of ``cls`` (see :func:`record`).

    Raises
    ------
    InputError
        When ``doc[key]`` is missing or not a list, or a record is wrong.
    """
    items = doc.get(key) if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise InputError(f"{where} has no '{key}' list; {fix}")
    label = key[:-1] if key.endswith("s") else key
    return tuple(record(cls, item, f"{where}: {label} line {i}", fix)
                 for i, item in enumerate(items, start=1))

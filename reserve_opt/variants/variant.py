"""Variant files: read them, compose them, apply them to a base instance."""

from __future__ import annotations

import difflib
import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reserve_opt.builder import InstanceBuilder
from reserve_opt.domain import Instance
from reserve_opt.errors import InputError
from reserve_opt.io.safeload import parse_toml, parse_yaml, read_text
from reserve_opt.variants.ops import OPERATIONS, Context

VARIANT_KEYS = ("name", "description", "include", "change")
"""Top-level keys of a variant file."""

VARIANT_SUFFIXES = (".toml", ".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class Change:
    """One ``[[change]]`` of a variant file.

    Parameters
    ----------
    op
        Operation name (see :data:`reserve_opt.variants.ops.OPERATIONS`).
    params
        Its parameters, JSON-ready.
    source
        File (or other origin) it came from, for messages.
    number
        1-based position in that file.
    """

    op: str
    params: Mapping[str, Any]
    source: str
    number: int

    @property
    def where(self) -> str:
        """Phrase naming the change in messages."""
        return f"{self.source}: change {self.number} ({self.op})"

    def to_dict(self) -> dict[str, Any]:
        """``{"op": ..., **params}``, as written in a file."""
        return {"op": self.op, **dict(self.params)}


@dataclass(frozen=True, slots=True)
class Variant:
    """A named list of changes over a base instance.

    Parameters
    ----------
    name
        Short name (the file stem unless the file says ``name = ...``).
    description
        One line saying what the variant models.
    changes
        The changes, applied in order.
    sources
        Files the changes came from.
    """

    name: str
    description: str
    changes: tuple[Change, ...]
    sources: tuple[str, ...] = field(default=())

    def then(self, other: Variant) -> Variant:
        """The variant that applies ``self`` and then ``other`` (named ``a+b``)."""
        return Variant(f"{self.name}+{other.name}",
                       f"{self.description}; then {other.description}",
                       self.changes + other.changes, self.sources + other.sources)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description: name, description, files and changes."""
        return {"name": self.name, "description": self.description,
                "files": list(self.sources), "changes": [c.to_dict() for c in self.changes]}

    def fingerprint(self) -> str:
        """Hash of the changes alone (not the name), stable across runs."""
        return stable_hash([c.to_dict() for c in self.changes])

    def apply(self, base: Instance) -> Instance:
        """The base instance with every change applied, validated."""
        return apply_changes(base, self.changes)[0]


def stable_hash(data: Any) -> str:
    """SHA-256 (first 16 hex digits) of ``data`` as canonical JSON."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _load_mapping(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InputError(f"{path}: does not exist; give a variant file (.toml or .yaml)")
    suffix = path.suffix.lower()
    if suffix == ".toml":
        return parse_toml(read_text(path, str(path)), str(path))
    if suffix in (".yaml", ".yml"):
        data = parse_yaml(read_text(path, str(path)), str(path))
        if not isinstance(data, dict):
            raise InputError(f"{path}: must be a mapping with description and change")
        return data
    raise InputError(f"{path}: is not a .toml or .yaml variant file")


MAX_INCLUDES = 64
"""Most variant files one file may include, at every level together."""

MAX_INCLUDE_DEPTH = 8
"""Most files open at once along a chain of includes (the file read first counts)."""


class _IncludeLimit(InputError):
    """A limit of includes was passed: the whole read stops (a bomb must not go on)."""


@dataclass
class _Includes:
    """The includes of one read: the files open (outermost first) and every file taken."""

    chain: list[Path] = field(default_factory=list)
    root: Path | None = None  # the folder every include must stay in
    taken: dict[Path, str] = field(default_factory=dict)  # resolved path -> includer

    def admit(self, target: Path, source: str) -> None:
        """Count an include of ``target`` by ``source``, refusing it past a limit."""
        resolved = target.resolve()
        if resolved in self.chain:
            return  # a loop: read_variant names it
        if resolved in self.taken:
            raise _IncludeLimit(
                f"{source}: includes {target}, which {self.taken[resolved]} includes already; "
                f"include each file once (its changes would apply twice)")
        if len(self.chain) >= MAX_INCLUDE_DEPTH:
            raise _IncludeLimit(
                f"{source}: includes {target}, which nests includes more than "
                f"{MAX_INCLUDE_DEPTH} files deep; include fewer levels")
        if len(self.taken) >= MAX_INCLUDES:
            raise _IncludeLimit(
                f"{source}: includes {target}, one file more than the {MAX_INCLUDES} "
                f"allowed in all; merge some of them")
        self.taken[resolved] = source


def read_variant(path: str | os.PathLike[str], _includes: _Includes | None = None) -> Variant:
    """Read a variant file (TOML or YAML), with the files it includes.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    Variant
        Its changes, after those of its ``include`` files.

    Raises
    ------
    InputError
        Every problem with the file's shape, one sentence each, naming the file and the
        change number. Ids are checked when the variant is applied. Files it includes
        must lie in its folder or below, or in the instance folder that holds it
        (:func:`reserve_opt.io.paths.reference_root`), and are limited
        (:data:`MAX_INCLUDES` files, :data:`MAX_INCLUDE_DEPTH` levels, each file once).
    """
    p = Path(path)
    state = _includes if _includes is not None else _Includes()
    here = p.resolve()
    if here in state.chain:
        raise _IncludeLimit(f"{p}: includes itself (through "
                            f"{' -> '.join(map(str, state.chain))}); remove the loop")
    data = _load_mapping(p)
    state.chain.append(here)
    try:
        return variant_from_dict(data, str(p), default_name=p.stem, base_dir=p.parent,
                                 _includes=state)
    finally:
        state.chain.pop()


def read_referenced(name: object, key: str, base_dir: Path | None) -> Variant:
    """Read the variant file that a variant or sweep file names under ``key``.

    Parameters
    ----------
    name
        The file name as given, relative to ``base_dir``.
    key
        How messages name the setting, e.g. ``sweep.toml: include``.
    base_dir
        Folder of the file that names it (default: the working folder).

    Returns
    -------
    Variant
        The variant read.

    Raises
    ------
    InputError
        The name is absolute or leads outside the folder the naming file may read from
        (:func:`reserve_opt.io.paths.reference_root`), or the variant is bad.
    """
    state = _Includes()
    return read_variant(_referenced_path(name, key, base_dir, state), state)


def _referenced_path(name: object, key: str, base_dir: Path | None, state: _Includes) -> Path:
    """The file ``name`` given under ``key``, confined to the folder the read started in."""
    from reserve_opt.io.paths import confined_path, reference_root

    base = base_dir or Path()
    if state.root is None:
        state.root = reference_root(base)
    return confined_path(state.root, str(name), key, base=base, scope=str(state.root))


def variant_from_dict(data: Mapping[str, Any], source: str, default_name: str = "variant",
                      base_dir: Path | None = None,
                      _includes: _Includes | None = None) -> Variant:
    """Build a :class:`Variant` from the keys of a variant file.

    Parameters
    ----------
    data
        ``{"description": ..., "change": [{"op": ..., ...}, ...]}`` (``name`` and
        ``include`` optional).
    source
        Name used in messages.
    default_name
        Name when ``data`` has none.
    base_dir
        Folder ``include`` paths are relative to.
    """
    problems: list[str] = []
    for key in data:
        if key not in VARIANT_KEYS:
            close = difflib.get_close_matches(key, VARIANT_KEYS, n=1)
            problems.append(f"{source}: key '{key}' is not known; "
                            + (f"did you mean '{close[0]}'?" if close
                               else f"known keys are {', '.join(VARIANT_KEYS)}"))
    description = data.get("description")
    if not isinstance(description, str) or not description.strip():
        problems.append(f"{source}: key 'description' is missing; add one line saying what "
                        f"the variant models")
        description = ""
    name = data.get("name", default_name)
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{source}: name must be text")
        name = default_name
    included: list[Variant] = []
    include = data.get("include", [])
    if isinstance(include, str):
        include = [include]
    if not isinstance(include, list):
        problems.append(f"{source}: include must be a list of variant files")
        include = []
    state = _includes if _includes is not None else _Includes()
    for inc in include:
        try:
            path = _referenced_path(inc, f"{source}: include", base_dir, state)
            state.admit(path, source)
            included.append(read_variant(path, state))
        except _IncludeLimit:
            raise
        except InputError as err:
            problems += err.problems
    raw_changes = data.get("change", [])
    if not isinstance(raw_changes, list) or not all(isinstance(c, dict) for c in raw_changes):
        problems.append(f"{source}: change must be a list of tables ([[change]] in TOML, "
                        f"a list of mappings in YAML)")
        raw_changes = []
    if not raw_changes and not include:  # a bad include is reported already
        problems.append(f"{source}: has no change; add at least one [[change]] with an op")
    changes: list[Change] = []
    for i, raw in enumerate(raw_changes, start=1):
        change = _check_change(raw, source, i, problems)
        if change is not None:
            changes.append(change)
    if problems:
        raise InputError(problems)
    before: tuple[Change, ...] = ()
    sources: tuple[str, ...] = ()
    for v in included:
        before += v.changes
        sources += v.sources
    return Variant(name.strip(), description.strip(), before + tuple(changes),
                   (*sources, source))


def _check_change(raw: Mapping[str, Any], source: str, number: int,
                  problems: list[str]) -> Change | None:
    op = raw.get("op")
    if not isinstance(op, str):
        problems.append(f"{source}: change {number} has no op; add op = \"<operation>\" "
                        f"(one of {', '.join(OPERATIONS)})")
        return None
    spec = OPERATIONS.get(op)
    if spec is None:
        close = difflib.get_close_matches(op, list(OPERATIONS), n=1)
        problems.append(f"{source}: change {number}: op '{op}' is not known; "
                        + (f"did you mean '{close[0]}'?" if close
                           else f"use one of {', '.join(OPERATIONS)}"))
        return None
    params = {k: v for k, v in raw.items() if k != "op"}
    ok = True
    for key in params:
        if key not in spec.params:
            close = difflib.get_close_matches(key, list(spec.params), n=1) or [
                p for p in spec.params if p.startswith(key)][:1]
            problems.append(f"{source}: change {number} ({op}): parameter '{key}' is not "
                            f"known; " + (f"did you mean '{close[0]}'?" if close else
                                          f"{op} takes {', '.join(spec.params)}"))
            ok = False
    for key in spec.required:
        if key not in params:
            problems.append(f"{source}: change {number} ({op}): parameter '{key}' is missing; "
                            f"add {key} = ... ({spec.params[key]})")
            ok = False
    return Change(op, params, source, number) if ok else None


def apply_changes(base: Instance, changes: Sequence[Change]) -> tuple[Instance, list[str]]:
    """Apply ``changes`` in order to ``base`` and validate the result.

    Parameters
    ----------
    base
        The base instance (not modified).
    changes
        Changes from one or several files.

    Returns
    -------
    Instance
        The patched, validated instance.
    list of str
        One note per change saying what it did.

    Raises
    ------
    InputError
        Every problem: changes that name unknown ids or bad values (each naming its file,
        change number and id), and, when the changes are well formed, whatever the
        validator finds wrong with the patched instance (naming the variant files).
    """
    b = InstanceBuilder.from_instance(base)
    problems: list[str] = []
    notes: list[str] = []
    for change in changes:
        ctx = Context(b, change.where, change.params, problems)
        OPERATIONS[change.op].apply(ctx)
        notes += ctx.notes
    if problems:
        raise InputError(problems)
    try:
        inst = b.build()
    except InputError as err:
        files = ", ".join(dict.fromkeys(c.source for c in changes)) or "the variant"
        raise InputError([f"{files}: the patched instance is not valid: {p}"
                          for p in err.problems]) from None
    return inst, notes


def compose(variants: Iterable[Variant]) -> Variant:
    """One variant applying several in order (``a+b+c``)."""
    out: Variant | None = None
    for v in variants:
        out = v if out is None else out.then(v)
    if out is None:
        raise InputError("no variant given; name at least one variant file")
    return out


def read_variant_arg(arg: str) -> list[Variant]:
    """The variants named by one ``--variant`` argument.

    ``a.toml`` is one variant; ``a.toml+b.toml`` composes two into one; a folder gives
    every ``*.toml`` / ``*.yaml`` file in it, in name order, each a variant of its own.
    """
    p = Path(arg)
    if p.is_dir():
        files = sorted(f for f in p.iterdir() if f.suffix.lower() in VARIANT_SUFFIXES)
        if not files:
            raise InputError(f"{p}: holds no .toml or .yaml variant file")
        return [read_variant(f) for f in files]
    if p.exists() or "+" not in arg:
        return [read_variant(p)]
    return [compose(read_variant(part) for part in arg.split("+"))]

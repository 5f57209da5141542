"""Read a user's TOML, YAML and JSON files within limits, with one-line errors.

Every reader of a manifest, variant, sweep, event or JSON instance goes through here, so
one set of limits holds everywhere and each is checked before the work it bounds:

- a manifest, variant, sweep or event file holds at most :data:`MAX_TEXT_BYTES` (checked
  from the file's size, before it is read);
- the text must be UTF-8;
- lists and mappings nest at most :data:`MAX_NESTING` deep (JSON's and TOML's parsers
  recurse, and so does much code that walks the result);
- YAML aliases (``*name``) are allowed, but the document they expand to holds at most
  :data:`MAX_YAML_VALUES` values and nests at most :data:`MAX_NESTING` deep, counted on
  the parsed node graph before any Python object is built: a "billion laughs" document is
  refused at once instead of exhausting memory when something walks it. An alias to the
  list or mapping that holds it (a loop) is refused;
- YAML mapping keys must be text (``1: x`` would make the key an integer);
- JSON numbers must fit a float, and whole numbers have at most :data:`MAX_JSON_DIGITS`
  digits (no value of an instance needs more; Python refuses 4,300 and more).

Plausible maxima of each column (quantities, money, speeds) are the validator's business:
see :data:`reserve_opt.io.spec.UNIT_MAXIMUM`.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from reserve_opt.errors import InputError

MAX_TEXT_BYTES = 4 * 1024 * 1024
"""Largest manifest, variant, sweep or event file read (4 MiB; the bundled ones are < 4 KiB)."""

MAX_NESTING = 64
"""Deepest nesting of lists and mappings in any document (YAML aliases expanded)."""

MAX_YAML_VALUES = 1_000_000
"""Most values (scalars, lists, mappings) a YAML document may hold with its aliases expanded."""

MAX_JSON_DIGITS = 18
"""Most digits of a whole number in a JSON document."""

_INT_LIMIT_WORDS = "integer string conversion"


def read_text(path: Path, label: str, limit: int | None = MAX_TEXT_BYTES) -> str:
    """The text of ``path``, refused when larger than ``limit`` bytes or not UTF-8.

    Parameters
    ----------
    path
        The file.
    label
        How messages name the file.
    limit
        Most bytes read (checked on the file's size first); ``None`` for no limit.

    Raises
    ------
    InputError
        The file is too large or not UTF-8.
    """
    if limit is not None:
        size = path.stat().st_size
        if size > limit:
            raise InputError(
                f"{label}: is {size:,} bytes, more than the {limit:,} this reader accepts; "
                f"a manifest, variant, sweep or event file is far smaller"
            )
    data = path.read_bytes()
    if limit is not None and len(data) > limit:  # grew since stat (a pipe, a device)
        raise InputError(f"{label}: is more than the {limit:,} bytes this reader accepts")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(
            f"{label}: is not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start}); "
            f"save it as UTF-8"
        ) from None


def _nesting_problem(label: str) -> InputError:
    return InputError(f"{label}: nests lists and tables more than {MAX_NESTING} deep; no "
                      f"document of reserve-opt needs that, flatten it")


def check_nesting(data: Any, label: str) -> None:
    """Refuse parsed data whose lists and mappings nest more than :data:`MAX_NESTING` deep."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > MAX_NESTING:
            raise _nesting_problem(label)
        stack.extend((c, depth + 1) for c in children)


def parse_toml(text: str, label: str) -> dict[str, Any]:
    """Parse TOML text; every problem is one :class:`InputError` naming ``label``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"{label}: not valid TOML ({err}); fix the syntax") from None
    except RecursionError:
        raise _nesting_problem(label) from None
    except ValueError as err:  # a whole number beyond Python's int-string limit
        raise _value_problem(label, err) from None
    check_nesting(data, label)
    return data


def _value_problem(label: str, err: ValueError) -> InputError:
    if _INT_LIMIT_WORDS in str(err):
        return InputError(f"{label}: holds a whole number of more than 4,300 digits; no value "
                          f"needs that many, shorten it")
    return InputError(f"{label}: holds a value that cannot be read ({err}); fix it")


def parse_yaml(text: str, label: str) -> Any:
    """Parse YAML text safely (see the module docstring for the limits).

    Raises
    ------
    InputError
        Bad syntax, a non-text key, a loop of aliases, or a document that its aliases
        expand beyond :data:`MAX_YAML_VALUES` values or :data:`MAX_NESTING` levels.
    """
    import yaml

    if len(text) > MAX_TEXT_BYTES:
        raise InputError(f"{label}: is more than the {MAX_TEXT_BYTES:,} bytes this reader "
                         f"accepts")
    loader = _loader_class()(text, label)
    try:
        return loader.get_single_data()
    except yaml.YAMLError as err:
        reason = " ".join(str(err).split())
        raise InputError(f"{label}: not valid YAML ({reason}); fix the syntax") from None
    except ValueError as err:  # a constructor's int(), date() ... on a bad scalar
        raise _value_problem(label, err) from None
    finally:
        loader.dispose()


_LOADER: list[type[Any]] = []


def _loader_class() -> type[Any]:
    """The SafeLoader subclass with the limits (built once, when YAML is first read)."""
    if _LOADER:
        return _LOADER[0]
    import yaml
    from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

    str_tag = "tag:yaml.org,2002:str"
    merge_tag = "tag:yaml.org,2002:merge"

    def line(node: Node) -> int:
        return int(node.start_mark.line) + 1

    class Loader(yaml.SafeLoader):
        def __init__(self, stream: str, label: str) -> None:
            super().__init__(stream)
            self.label = label
            self.depth = 0

        def compose_node(self, parent: Node | None, index: Any) -> Node | None:
            # the composer recurses: bound it before a deep document overflows the stack
            self.depth += 1
            try:
                if self.depth > MAX_NESTING:
                    raise _nesting_problem(self.label)
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

        def get_single_data(self) -> Any:
            node = self.get_single_node()
            if node is None:
                return None
            self.check_expansion(node)
            return self.construct_document(node)

        def check_expansion(self, root: Node) -> None:
            """Size and depth of the document with aliases expanded, without expanding."""
            done: dict[int, tuple[int, int]] = {}  # id(node) -> (values, depth)
            open_: set[int] = set()  # nodes whose children are being counted: the path
            stack: list[tuple[Node, bool]] = [(root, False)]
            while stack:
                node, closing = stack.pop()
                kids = _children(node)
                if closing:
                    size = 1 + sum(done[id(k)][0] for k in kids)
                    depth = 1 + max((done[id(k)][1] for k in kids), default=0)
                    open_.discard(id(node))
                    if depth > MAX_NESTING:
                        raise _nesting_problem(self.label)
                    if size > MAX_YAML_VALUES:
                        raise InputError(
                            f"{self.label}: its aliases (*name) expand it to more than "
                            f"{MAX_YAML_VALUES:,} values; write the values out or use fewer "
                            f"aliases")
                    done[id(node)] = (size, depth)
                    continue
                if id(node) in done:
                    continue
                open_.add(id(node))
                stack.append((node, True))
                for k in kids:
                    if id(k) in open_:
                        raise InputError(
                            f"{self.label} line {line(k)}: an alias (*name) refers to a list "
                            f"or mapping that holds it; remove the loop")
                    if id(k) not in done:
                        stack.append((k, False))

        def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
            if isinstance(node, MappingNode):  # the base class says why if it is not
                self.flatten_mapping(node)
                for key, _ in node.value:
                    if isinstance(key, ScalarNode) and key.tag in (str_tag, merge_tag):
                        continue
                    if not isinstance(key, ScalarNode):
                        raise InputError(f"{self.label} line {line(key)}: a key is a list or "
                                         f"mapping; write keys as names")
                    raise InputError(
                        f"{self.label} line {line(key)}: key {key.value} is not text; write "
                        f"keys as names (quote it, \"{key.value}\", if it must look like a "
                        f"number)")
            return super().construct_mapping(node, deep)

    def _children(node: Node) -> list[Node]:
        if isinstance(node, SequenceNode):
            return list(node.value)
        if isinstance(node, MappingNode):
            return [n for pair in node.value for n in pair]
        return []

    _LOADER.append(Loader)
    return Loader


class _TooLarge(Exception):
    def __init__(self, text: str) -> None:
        self.text = text


def _json_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_JSON_DIGITS:
        raise _TooLarge(text)
    return int(text)


def _json_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _TooLarge(text)
    return value


class _NotJson(Exception):
    def __init__(self, text: str) -> None:
        self.text = text


def _json_constant(text: str) -> float:
    # NaN, Infinity and -Infinity are Python's extension, not JSON: an instance cell
    # holding one would otherwise read as empty (NaN) or pass a range check (Infinity)
    raise _NotJson(text)


def parse_json(text: str, label: str) -> Any:
    """Parse JSON text within the limits of the module docstring.

    Raises
    ------
    InputError
        Bad syntax, a number too large, or nesting deeper than :data:`MAX_NESTING`.
    """
    try:
        data = json.loads(text, parse_int=_json_int, parse_float=_json_float,
                          parse_constant=_json_constant)
    except json.JSONDecodeError as err:
        raise InputError(
            f"{label}: not valid JSON (line {err.lineno}, column {err.colno}: {err.msg}); "
            f"fix the syntax"
        ) from None
    except RecursionError:
        raise _nesting_problem(label) from None
    except _NotJson as err:
        at = text.find(err.text)
        where = f" line {text.count(chr(10), 0, at) + 1}" if at >= 0 else ""
        raise InputError(
            f"{label}{where}: {err.text} is not a JSON value; give a finite number, or leave "
            f"an optional value out (null)"
        ) from None
    except _TooLarge as err:
        at = text.find(err.text)
        where = f" line {text.count(chr(10), 0, at) + 1}" if at >= 0 else ""
        size = len(err.text.lstrip("-"))
        what = "digits" if err.text.lstrip("-").isdigit() else "characters"
        shown = err.text if size <= 24 else f"{err.text[:12]}... ({size} {what})"
        raise InputError(
            f"{label}{where}: number {shown} is larger than any value an instance may hold; "
            f"write a smaller number"
        ) from None
    check_nesting(data, label)
    return data

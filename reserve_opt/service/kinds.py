"""What a job may run: the CLI's own commands, with the options the CLI has.

A job request names a command (``plan``, ``allocate``, ...) and its options by the CLI's
parameter names (``time_limit``, ``parent_serves``, ...). They are turned into the very
argument list a user would type and checked by the command's own parser before the job is
queued, so the service accepts exactly what the CLI accepts and says so in the CLI's words.
Options that write or name files on the server are refused or confined: the output folder and
format are the service's, and a file option names a file inside the uploaded instance folder
(``"variants/a.toml"``) or the output of an earlier job (``{"job": "ID"}``).
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from reserve_opt.errors import InputError

KINDS = ("plan", "allocate", "route", "site", "whatif", "sweep", "analyze", "report")
"""Job kinds the issue names (each runs where this version has that command)."""

INSTANCE_ARGUMENTS = ("path", "base")
"""The positional parameter that receives the instance."""

SERVICE_OWNED = {
    "out": "the service writes each job's output and serves it under /v1/jobs/ID/files",
    "force": "the service writes each job's output and serves it under /v1/jobs/ID/files",
    "fmt": "results come as JSON from /v1/jobs/ID/result and as files",
    "top": "results come whole as JSON from /v1/jobs/ID/result",
    "map_file": "the service writes each job's output and serves it under /v1/jobs/ID/files",
    "scheduler": "jobs run on the service's own workers",
    "trust_scheduler": "jobs run on the service's own workers",
}
"""Options a request may not set, with the reason its message gives."""

FILE_LISTS = {("whatif", "variant")}
"""Text options that name files (``whatif --variant a.toml``, ``a+b.toml``)."""


@dataclass(frozen=True)
class Param:
    """One CLI parameter of a command."""

    name: str
    flag: str | None
    negative: str | None
    is_flag: bool
    multiple: bool
    argument: bool
    names_file: bool
    help: str


def _click_group() -> Any:
    import typer.main

    from reserve_opt.cli.app import app

    return typer.main.get_command(app)


def _names_file(annotation: Any) -> bool:
    if annotation is Path:
        return True
    return any(_names_file(a) for a in typing.get_args(annotation))


@cache
def available() -> dict[str, tuple[Param, ...]]:
    """The job kinds this version has, each with its parameters in CLI order."""
    group = _click_group()
    out: dict[str, tuple[Param, ...]] = {}
    for kind in KINDS:
        command = group.commands.get(kind)
        if command is None:
            continue
        params = []
        for p in command.params:
            descriptor = getattr(p, "type_descriptor", None)
            annotation = getattr(descriptor, "annotation", None)
            argument = not p.opts[0].startswith("-")
            params.append(Param(
                name=str(p.name), flag=None if argument else p.opts[0],
                negative=p.secondary_opts[0] if p.secondary_opts else None,
                is_flag=bool(getattr(p, "is_flag", False)), multiple=bool(p.multiple),
                argument=argument,
                names_file=_names_file(annotation) or (kind, p.name) in FILE_LISTS,
                help=str(getattr(p, "help", "") or "")))
        out[kind] = tuple(params)
    return out


def refuse_kind(kind: str) -> InputError:
    """The error for a kind that cannot run here."""
    if kind in KINDS:
        return InputError(f"job kind '{kind}' is not available in this version")
    return InputError(f"kind '{kind}' is not a job kind; give one of "
                      f"{', '.join(k for k in KINDS if k in available())}")


FileResolver = Callable[[str, str], str]
"""(option name, value) -> the server path the worker reads."""
JobResolver = Callable[[str, str], str]
"""(option name, job id) -> the folder holding that job's output."""


def build_argv(kind: str, options: Mapping[str, Any], instance_path: str,
               resolve_file: FileResolver, resolve_job: JobResolver,
               owned: Sequence[str] = ()) -> list[str]:
    """The CLI arguments of a job, checked by the command's own parser.

    Raises
    ------
    InputError
        An unknown kind or option, an option the service owns, a value of the wrong type
        (with the CLI parser's message) or a file outside the instance.
    """
    params = available().get(kind)
    if params is None:
        raise refuse_kind(kind)
    by_name = {p.name: p for p in params}
    for key in options:
        if key in SERVICE_OWNED:
            raise InputError(f"options.{key}: is not available over the service; "
                             f"{SERVICE_OWNED[key]}")
        p = by_name.get(key)
        if p is None or p.name in INSTANCE_ARGUMENTS:
            known = ", ".join(q.name for q in params
                              if q.name not in SERVICE_OWNED and q.name not in INSTANCE_ARGUMENTS)
            raise InputError(f"options.{key}: is not an option of {kind}; give one of {known}")
    argv: list[str] = [kind]
    for p in params:
        if p.argument:
            if p.name in INSTANCE_ARGUMENTS:
                argv.append(instance_path)
            elif p.name in options:
                argv.append(_scalar(p, options[p.name]))
            else:
                raise InputError(f"options.{p.name}: is required by {kind}; give it")
            continue
        if p.name not in options or p.flag is None:
            continue
        value = options[p.name]
        if p.is_flag and not p.multiple:
            if not isinstance(value, bool):
                raise InputError(f"options.{p.name}: {_shown(value)} is not true or false; "
                                 f"give true or false")
            if value:
                argv.append(p.flag)
            elif p.negative is not None:
                argv.append(p.negative)
            continue
        values = value if p.multiple else [value]
        if p.multiple and not isinstance(value, list):
            raise InputError(f"options.{p.name}: {_shown(value)} is not a list; give a list "
                             f"of values, one per {p.flag}")
        for v in values:
            if p.names_file:
                v = _file_value(p.name, v, resolve_file, resolve_job)
            argv += [p.flag, _scalar(p, v)]
    argv += owned  # the service's own options (--out, --format), parsed with the rest
    _parse(kind, argv[1:])
    return argv


def _file_value(name: str, value: Any, resolve_file: FileResolver,
                resolve_job: JobResolver) -> str:
    if isinstance(value, dict) and set(value) == {"job"} and isinstance(value["job"], str):
        return resolve_job(name, value["job"])
    if isinstance(value, str):
        return resolve_file(name, value)
    raise InputError(f"options.{name}: {_shown(value)} is not a file of the instance; give a "
                     f"file's path inside the uploaded folder, or {{\"job\": \"ID\"}} for an "
                     f"earlier job's output")


def _scalar(p: Param, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InputError(f"options.{p.name}: {_shown(value)} is not a single value; give a "
                         f"number or a text")
    return str(value)


def _shown(value: Any) -> str:
    from reserve_opt.io.jsontext import dumps

    text = dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _parse(kind: str, args: list[str]) -> None:
    """Run the command's own parser over ``args`` (no call): its message if it refuses."""
    command = _click_group().commands[kind]
    try:
        command.make_context(kind, list(args))
    except Exception as err:
        message = getattr(err, "format_message", None)
        if message is None:
            raise
        param = getattr(err, "param", None)
        where = f"options.{param.name}: " if param is not None and param.name else ""
        raise InputError(f"{where}{' '.join(str(message()).split())}") from None

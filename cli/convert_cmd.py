"""The ``convert`` command: an instance as a folder, a JSON document or an Excel workbook."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from reserve_opt.cli.errors import reported_errors
from reserve_opt.cli.options import ForceOption, InstancePath, output_file, output_folder

if TYPE_CHECKING:
    from reserve_opt.domain import Instance


def instance_output(out: Path, inputs: Sequence[Path | None], force: bool = False
                    ) -> Path:
    """Check where an instance will be written, before any work; return ``out``.

    A ``.json`` or ``.xlsx`` name is one file (never replacing a file reserve-opt did not
    write), anything else an instance folder under the rules of every ``--out`` folder.
    """
    if out.suffix.lower() in (".json", ".xlsx"):
        output_file(out, "--out", inputs)
    else:
        output_folder(out, "instance", inputs, force)
    return out


def write_instance(inst: Instance, out: Path, inputs: Sequence[Path | None],
                   force: bool = False) -> None:
    """Write ``inst`` to ``out``: a ``.json`` document, an ``.xlsx`` workbook or a folder."""
    from reserve_opt.io import write_folder, write_json
    from reserve_opt.io.workbook import write_workbook

    suffix = out.suffix.lower()
    if suffix in (".json", ".xlsx"):
        document = output_file(out, "--out", inputs)
        assert document is not None
        if suffix == ".xlsx":
            write_workbook(inst, document)
        else:
            with document.write() as tmp:
                write_json(inst, tmp)
    else:
        dest = output_folder(out, "instance", inputs, force)
        assert dest is not None
        write_folder(inst, dest)


def convert(
    path: InstancePath,
    out: Annotated[Path, typer.Option("--out", "-o", help=(
        "Where to write the instance: a folder (instance.toml and CSV tables), a .json "
        "document, or an .xlsx workbook (a sheet per table and a sheet 'instance' of the "
        "manifest's keys). A file reserve-opt did not write is never replaced."))],
    force: ForceOption = False,
) -> None:
    """Write an instance in another form: folder, JSON document or Excel workbook.

    The instance is read and validated first; what is written reads back equal to it.
    """
    from reserve_opt.io import load_instance

    with reported_errors():
        instance_output(out, [path], force)
        inst = load_instance(path)
        write_instance(inst, out, [path], force)
    counts = inst.summary()
    typer.echo(f"wrote {out} ({counts['regions']} regions, {counts['commodities']} "
               f"commodities, {counts['facilities']} facilities, {counts['scenarios']} "
               "scenarios)")


def register(app: typer.Typer) -> None:
    """Add the ``convert`` command to ``app``."""
    app.command()(convert)

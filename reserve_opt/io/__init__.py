"""Reading and writing instances: folders (TOML/YAML + CSV/Parquet + geodata) and JSON."""

from __future__ import annotations

import os
from pathlib import Path

from reserve_opt.domain import Instance
from reserve_opt.errors import InputError
from reserve_opt.io.folder import read_folder, refresh_folder, write_folder
from reserve_opt.io.jsondoc import read_json, to_document, write_json
from reserve_opt.io.raw import RawInstance
from reserve_opt.io.schema import instance_schema


def read_raw(path: str | os.PathLike[str]) -> RawInstance:
    """Read a folder or a ``.json`` document without validating it."""
    p = Path(path)
    if p.is_dir():
        return read_folder(p)
    if p.is_file() and p.suffix.lower() == ".json":
        return read_json(p)
    if p.is_file() and p.suffix.lower() == ".xlsx":
        from reserve_opt.io.workbook import read_workbook

        return read_workbook(p)
    if not p.exists():
        raise InputError(f"{p}: does not exist; give an instance folder, a .json document or "
                         "an .xlsx workbook")
    raise InputError(f"{p}: is neither an instance folder, a .json document nor an .xlsx "
                     "workbook")


def load_instance(path: str | os.PathLike[str]) -> Instance:
    """Read and validate an instance.

    Parameters
    ----------
    path
        An instance folder (``instance.toml`` + tables), a JSON document or an Excel
        workbook (``.xlsx``, a sheet per table; see :mod:`reserve_opt.io.workbook`).

    Returns
    -------
    Instance
        The validated, immutable instance.

    Raises
    ------
    InputError
        Listing every problem found, each naming the file, row or id and the fix.
    """
    from reserve_opt.validation import validate_raw

    return validate_raw(read_raw(path))


def save_instance(inst: Instance, path: str | os.PathLike[str], overwrite: bool = False) -> Path:
    """Write ``inst`` as a JSON document (``*.json``), a workbook (``*.xlsx``) or a CSV folder."""
    p = Path(path)
    if p.suffix.lower() == ".xlsx":
        from reserve_opt.io.workbook import write_workbook

        return write_workbook(inst, p)
    if p.suffix.lower() == ".json":
        if p.exists() and not overwrite:
            raise InputError(f"{p}: already exists; choose another name or allow overwriting")
        return write_json(inst, p)
    return write_folder(inst, p, overwrite=overwrite)


__all__ = [
    "RawInstance",
    "instance_schema",
    "load_instance",
    "read_folder",
    "read_json",
    "read_raw",
    "refresh_folder",
    "save_instance",
    "to_document",
    "write_folder",
    "write_json",
]

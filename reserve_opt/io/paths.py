"""File names read from input stay inside the folder they belong to.

A manifest's ``[tables]`` and ``[geometry]`` entries, and a variant's or sweep's
``include`` and level files, name other files. An input handed over by someone else must
not make reserve-opt read ``/etc/passwd`` or ``/proc/self/environ`` (and quote it back in
an error message), so such names are refused when they are absolute or lead, through
``..`` or a symbolic link, outside the folder. One rule, :func:`confined_path`.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path, PurePosixPath, PureWindowsPath

from reserve_opt.errors import InputError, shown


def confined_path(root: Path, name: str, key: str | None, *, base: Path | None = None,
                  scope: str = "the instance folder") -> Path:
    """``base / name``, refused unless it is inside ``root`` once links are followed.

    Parameters
    ----------
    root
        The folder nothing may lead out of.
    name
        The file name as the input gives it.
    key
        How messages name the setting, e.g. ``instance.toml: [tables] regions``; ``None``
        for a file found by its default name (messages then start with ``name``).
    base
        Folder ``name`` is relative to (default ``root``); inside ``root``.
    scope
        How messages name ``root``.

    Returns
    -------
    Path
        ``base / name`` (not resolved, so messages keep the user's spelling).

    Raises
    ------
    InputError
        ``name`` is empty, holds a NUL character, is absolute, or leads outside ``root``.
    """
    start = root if base is None else base
    what = f"{key} = \"{shown(name)}\"" if key is not None else shown(name)
    relative = "" if base is None else ", relative to the file that names it"
    if not name or "\x00" in name:
        raise InputError(f"{what} is not a file name; give the path of a file inside {scope}"
                         f"{relative}")
    if PurePosixPath(name).is_absolute() or PureWindowsPath(name).anchor:
        raise InputError(f"{what} is an absolute path; give the file's path inside {scope}"
                         f"{relative}")
    path = start / name
    try:
        os.stat(path)
    except OSError as err:  # a missing file is reported by the caller, in its own terms
        if err.errno == errno.ENAMETOOLONG:
            raise InputError(f"{what} is longer than this system allows a file name to be; "
                             f"give a shorter name") from None
    except ValueError:  # a name the system cannot even represent
        raise InputError(f"{what} is not a file name; give the path of a file inside "
                         f"{scope}{relative}") from None
    try:
        inside = path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # RuntimeError: a symbolic link loop (Python 3.11)
        raise InputError(f"{what} is a symbolic link that leads nowhere (a loop); replace it "
                         f"with the file itself") from None
    if inside:
        return path
    if not Path(os.path.abspath(path)).is_relative_to(os.path.abspath(root)):
        raise InputError(f"{what} leads outside {scope}; move the file into {scope} and give "
                         f"its path{relative or ' there'}")
    raise InputError(f"{what} is a symbolic link leading outside {scope}; copy the file "
                     f"into {scope} instead")


def reference_root(folder: Path) -> Path:
    """The folder that files named by a variant or sweep in ``folder`` must lie in.

    The instance folder that holds ``folder`` (the nearest one up with a manifest), so an
    instance's ``variants/sweeps/x.toml`` may name ``../y.toml``; else ``folder`` itself.

    Parameters
    ----------
    folder
        Folder of the variant or sweep file the user named.

    Returns
    -------
    Path
        That folder, resolved.
    """
    from reserve_opt.io.folder import MANIFEST_NAMES

    here = folder.resolve()
    for candidate in (here, *here.parents):
        if any((candidate / n).is_file() for n in MANIFEST_NAMES):
            return candidate
    return here

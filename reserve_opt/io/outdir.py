"""Where reserve-opt writes: which folders and files it may create or replace, and how.

Every command with an output and every library writer (:func:`reserve_opt.io.write_folder`,
:func:`reserve_opt.maps.draw_map`, :func:`reserve_opt.variants.sweep.run_sweep`) goes
through this module, so the rules below hold everywhere.

Rules for an output folder (:class:`OutputFolder`)
--------------------------------------------------
- It is written only if it is new, empty, or was written by reserve-opt before: every
  folder reserve-opt writes holds a marker file, ``.reserve-opt``, naming the command that
  wrote it and each file it wrote with its SHA-256.
- Without ``force`` an earlier folder is replaced only when the same command wrote it and
  nothing was added to it or changed in it since: rerunning ``plan --out plan`` just works.
- With ``force`` (``--force``) a folder another command wrote, or one whose files were
  edited, is replaced too; files reserve-opt did not write are kept as they were (same
  inode, content and mode), never deleted. A folder without our marker is refused even
  with ``force``.
- It is never the input (instance folder, plan, event, variant, grid file...), never
  inside or around one (symbolic links resolved), never the current folder or one that
  holds it, never an existing file, and its name does not end like a file
  (``results.xlsx``).
- It is written in full beside its target (``.NAME.reserve-opt-writing-XXXXXXXX``) and
  swapped in with two renames, so readers never see a half-written folder. A new folder's
  mode follows the umask as ``mkdir`` does; a replaced folder keeps its mode.
- One writer at a time: a lock file beside the target (``.NAME.reserve-opt-lock``, held
  with ``flock``) makes a second writer wait for the swap (a folder replaced whole) or be
  refused (a folder added to in place, a sweep). Leftovers of a run that was killed
  (writing, replaced and deleting folders with the names above) are recovered or removed
  by the next writer, under the lock, and nothing else is touched.

Rules for an output file (:class:`OutputFile`)
----------------------------------------------
- An existing file is replaced only if reserve-opt wrote it, as its own signature inside
  shows (PNG ``tEXt`` ``Software``, HTML ``<meta name="generator">``, an Excel workbook's
  creator and last editor in its document properties); any other file is
  refused, ``force`` or not. It is never an input or inside an input folder.
- It is written to a temporary file in the same folder and moved into place with
  :func:`os.replace`, under the same lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, closing, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reserve_opt.errors import InputError

MARKER = ".reserve-opt"
"""The file inside every folder reserve-opt writes: who wrote it and which files."""

FILE_SUFFIXES = frozenset({
    ".7z", ".bz2", ".csv", ".doc", ".docx", ".geojson", ".gif", ".gpkg", ".gz", ".htm",
    ".html", ".jpeg", ".jpg", ".json", ".kml", ".md", ".ods", ".parquet", ".pdf", ".png",
    ".shp", ".sol", ".svg", ".tar", ".tgz", ".toml", ".tsv", ".txt", ".vrp", ".xls",
    ".xlsm", ".xlsx", ".xml", ".xz", ".yaml", ".yml", ".zip",
})
"""Name endings that mean a file; a folder output with one of them is refused."""

_TAG = ".reserve-opt-"  # in every name this module leaves beside a target
_SIGNED = re.compile(rb'<meta name="generator" content="reserve-opt[ "]')
_LISTED = 3  # names shown in a message before "and N more"


def signature() -> str:
    """``reserve-opt VERSION``: what our own files carry to be recognised later."""
    from reserve_opt import __version__

    return f"reserve-opt {__version__}"


def _listing(names: Sequence[str]) -> str:
    shown = ", ".join(names[:_LISTED])
    return shown if len(names) <= _LISTED else f"{shown} and {len(names) - _LISTED} more"


def _real(path: Path, name: str | None = None) -> Path:
    """``path`` with symbolic links resolved; a link loop is refused in one line."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a link loop (Python 3.11)
        raise InputError(f"{name or path}: is a symbolic link that leads nowhere (a loop); "
                         "replace it") from None


def _relation(out: Path, inp: Path) -> str | None:
    """How resolved ``out`` stands to resolved ``inp``: is, is inside, contains, or none."""
    if out == inp:
        return "is"
    if inp in out.parents:
        return "is inside"
    if out in inp.parents:
        return "contains"
    return None


def inside(path: str | os.PathLike[str], folder: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is ``folder`` or lies inside it, symbolic links resolved."""
    p, f = _real(Path(path)), _real(Path(folder))
    return p == f or f in p.parents


def _check_inputs(name: str, resolved: Path, inputs: Iterable[Path | None]) -> None:
    for inp in inputs:
        if inp is None:
            continue
        how = _relation(resolved, _real(inp))
        if how is not None:
            raise InputError(f"{name}: {how} the input {inp}; write to another place so "
                             "the input stays as it is")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _entries(folder: Path) -> tuple[list[str], list[str]]:
    """Relative paths (POSIX) of the folders and of everything else below ``folder``.

    Symbolic links are never followed: a link is an entry like a file.
    """
    dirs: list[str] = []
    files: list[str] = []
    def fail(err: OSError) -> None:
        raise err

    for top, dirnames, filenames in os.walk(folder, onerror=fail):
        rel = Path(top).relative_to(folder)
        for d in list(dirnames):
            if (Path(top) / d).is_symlink():
                files.append((rel / d).as_posix())
                dirnames.remove(d)
            else:
                dirs.append((rel / d).as_posix())
        files += [(rel / f).as_posix() for f in filenames]
    return sorted(dirs), sorted(f for f in files if f != MARKER)


def _read_marker(folder: Path) -> dict[str, Any] | None:
    """The folder's marker if it is a readable one of ours, else ``None``."""
    path = folder / MARKER
    try:
        if not stat.S_ISREG(path.lstat().st_mode) or path.stat().st_size > 1 << 24:
            return None
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not (isinstance(doc, dict) and isinstance(doc.get("written_by"), str)
            and doc["written_by"].startswith("reserve-opt")
            and isinstance(doc.get("command"), str)):
        return None
    files = doc.get("files")
    if files is None:
        return doc
    if not isinstance(files, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and k and not k.startswith("/")
            and ".." not in k.split("/") for k, v in files.items()):
        return None
    return doc


def written_by(folder: Path) -> str | None:
    """The reserve-opt command that wrote ``folder`` (``plan``, ``allocate``, ...), or ``None``.

    ``None`` when the folder holds no readable marker of ours.
    """
    marker = _read_marker(folder)
    return None if marker is None else str(marker["command"])


def _write_marker(folder: Path, command: str, files: dict[str, str] | None) -> None:
    doc = {"written_by": signature(), "command": command, "files": files}
    (folder / MARKER).write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n",
                                 encoding="utf-8")


def _fresh(parent: Path, prefix: str, make: Callable[[Path], None]) -> Path:
    """A new entry ``prefix + 8 hex digits`` in ``parent``, made by ``make``."""
    while True:
        path = parent / f"{prefix}{secrets.token_hex(4)}"
        try:
            make(path)
        except FileExistsError:
            continue
        return path


def _new_file(path: Path) -> None:
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))


def _rmtree(path: Path) -> None:
    """Remove a folder of ours, also where a kept user folder inside was read-only."""

    def unlock(func: Callable[..., object], name: str, _: object) -> None:
        parent = os.path.dirname(name)
        os.chmod(parent, stat.S_IMODE(os.lstat(parent).st_mode) | stat.S_IRWXU)
        func(name)

    shutil.rmtree(path, onerror=unlock)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        _rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _recover(target: Path) -> None:
    """Remove or restore what a killed writer of ``target`` left beside it.

    Called with the lock held, so no live writer owns any of these names.
    """
    base = f".{target.name}{_TAG}"
    leftover = re.compile(re.escape(base) + r"(writing|deleting)-[0-9a-f]{8}")
    for entry in target.parent.iterdir():
        if leftover.fullmatch(entry.name):
            with suppress(OSError):  # in nobody's way: tried again by the next writer
                _remove(entry)
    replaced = target.with_name(f"{base}replaced")
    if not os.path.lexists(replaced):
        return
    if os.path.lexists(target):
        # killed while deleting the previous output after the swap: finish the job
        _remove(replaced)
    else:
        # killed between the two renames of a swap: the previous output comes back
        os.rename(replaced, target)


@contextmanager
def _locked(target: Path, *, wait: bool, busy: str,
            on_wait: Callable[[], None] | None) -> Iterator[None]:
    """Hold the lock beside ``target``; wait for it, or raise ``busy`` if it is held."""
    lock = target.with_name(f".{target.name}{_TAG}lock")
    while True:
        fd = os.open(lock, os.O_RDONLY | os.O_CREAT, 0o666)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not wait:
                    raise InputError(busy) from None
                if on_wait is not None:
                    on_wait()
                    on_wait = None
                fcntl.flock(fd, fcntl.LOCK_EX)
            held = os.fstat(fd)
            try:
                now: os.stat_result | None = os.stat(lock)
            except FileNotFoundError:
                now = None
        except BaseException:
            os.close(fd)
            raise
        # the writer before us removes the lock file as it leaves: hold the one on disk
        if now is not None and (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino):
            break
        os.close(fd)
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)
        os.close(fd)


def _cannot_write(label: str, err: OSError) -> InputError:
    return InputError(f"{label}: cannot write there ({err.strerror or err}); choose a folder "
                      "you may write to")


def _hint(force_hint: str | None, what: str) -> str:
    return "" if force_hint is None else f", or {force_hint} to {what}"


def _describe(command: str) -> str:
    return ("an instance folder reserve-opt wrote" if command == "instance"
            else f"the output of reserve-opt {command}")


@dataclass(frozen=True)
class _Survey:
    """What is at an output folder's place now."""

    exists: bool
    mode: int | None
    keep: tuple[str, ...] = ()  # the user's entries carried into the new folder (force)


@dataclass(frozen=True)
class OutputFolder:
    """A folder a command writes, and the rules it is written by (see the module).

    Parameters
    ----------
    path
        The folder, as the user named it.
    command
        What writes it (``plan``, ``allocate``, ..., ``instance`` for instance folders);
        recorded in the marker, and an earlier folder of another command is replaced only
        with ``force``.
    inputs
        Files and folders the command reads; the output may not be, hold or lie in one.
    force
        Replace a folder reserve-opt wrote even if another command wrote it or its files
        changed; files reserve-opt did not write are kept.
    name
        How messages call the folder (``--out plan``); default: the path.
    force_hint
        How messages tell the user to force (``--force``); ``None``: they do not.
    in_place
        The command adds to the folder where it stands (a resumable sweep) instead of
        replacing it whole; a second writer is then refused rather than made to wait.
    on_wait
        Called once if another writer holds the lock and this one waits for it.
    """

    path: Path
    command: str
    inputs: Sequence[Path | None] = ()
    force: bool = False
    name: str | None = None
    force_hint: str | None = "--force"
    in_place: bool = False
    on_wait: Callable[[], None] | None = None

    @property
    def label(self) -> str:
        """How messages name the folder."""
        return self.name or str(self.path)

    def _resolved(self) -> Path:
        """The folder's real place, after the checks that need no look inside it."""
        name, given = self.label, Path(self.path)
        suffix = given.suffix.lower()
        if suffix in FILE_SUFFIXES:
            raise InputError(f"{name}: looks like a file name ({suffix}) but this output is "
                             f"a folder; give a folder name such as {given.stem}")
        resolved = _real(given, name)
        try:
            cwd: Path | None = Path.cwd().resolve()
        except OSError:  # the current folder was removed: nothing can be inside it
            cwd = None
        if resolved == cwd:
            raise InputError(f"{name}: is the current folder; give a new folder name such as "
                             "results")
        if cwd is not None and resolved in cwd.parents:
            raise InputError(f"{name}: contains the current folder; give a new folder name")
        _check_inputs(name, resolved, self.inputs)
        if resolved.exists() and not resolved.is_dir():
            raise InputError(f"{name}: is a file, not a folder; give a folder name (the file "
                             "was left as it is)")
        for parent in given.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise InputError(f"{name}: {parent} is a file, not a folder; give a "
                                     "path of folders")
                break
        return resolved

    def _survey(self, target: Path) -> _Survey:
        """Whether ``target`` may be written, and what to keep; refuse with one line if not."""
        name = self.label
        if not os.path.lexists(target):
            return _Survey(exists=False, mode=None)
        if not target.is_dir():
            raise InputError(f"{name}: is a file, not a folder; give a folder name (the file "
                             "was left as it is)")
        mode = stat.S_IMODE(target.stat().st_mode)
        try:
            dirs, files = _entries(target)
        except OSError as err:
            raise InputError(f"{name}: {err.filename} cannot be read ({err.strerror}); fix "
                             "its permissions or give another folder") from None
        marker = _read_marker(target)
        if marker is None:
            if not dirs and not files and not os.path.lexists(target / MARKER):
                return _Survey(exists=True, mode=mode)
            tops = sorted({e.split("/")[0] for e in [*dirs, *files]} or {MARKER})
            raise InputError(f"{name}: is not empty and was not written by reserve-opt "
                             f"({_listing(tops)}); give a new or empty folder")
        if marker["files"] is None or self.in_place:
            # a folder added to in place (a sweep) lists no files: only its own command
            # goes on with it, and nothing replaces it
            if self.in_place and marker["command"] == self.command and marker["files"] is None:
                return _Survey(exists=True, mode=mode)
            raise InputError(f"{name}: holds {_describe(marker['command'])}; give another "
                             "folder")
        if marker["command"] != self.command and not self.force:
            raise InputError(f"{name}: holds {_describe(marker['command'])}; give another "
                             f"folder{_hint(self.force_hint, 'replace it')}")
        ours: dict[str, str] = marker["files"]
        our_dirs = {p.as_posix() for f in ours for p in Path(f).parents} - {"."}
        # a link or file where we wrote a folder, or a folder where we wrote a file, is
        # the user's too
        added = sorted([d for d in dirs if d not in our_dirs]
                       + [f for f in files if f not in ours])
        if self.force:
            return _Survey(exists=True, mode=mode, keep=tuple(added))
        changed = [f for f in ours if os.path.lexists(target / f)
                   and (not stat.S_ISREG((target / f).lstat().st_mode)
                        or _sha256(target / f) != ours[f])]
        if added:
            tops = [e for e in added if not any(p.as_posix() in added
                                                for p in Path(e).parents)]
            were = "was" if len(tops) == 1 else "were"
            them = "it" if len(tops) == 1 else "them"
            raise InputError(f"{name}: {_listing(tops)} {were} not written by reserve-opt; "
                             f"move {them} out"
                             + _hint(self.force_hint, f"replace only reserve-opt's files and "
                                     f"keep {them}"))
        if changed:
            them = "it" if len(changed) == 1 else "them"
            raise InputError(f"{name}: {_listing(changed)} changed since reserve-opt wrote "
                             f"{them}; move {them} out{_hint(self.force_hint, 'replace ' + them)}")
        return _Survey(exists=True, mode=mode)

    def check(self) -> Path:
        """Refuse now, before any work, if the folder could not be written.

        Returns
        -------
        Path
            The folder's real place (symbolic links resolved).

        Raises
        ------
        InputError
            One line naming the folder and the fix.
        """
        target = self._resolved()
        self._survey(target)
        return target

    def _os_error(self, err: OSError) -> InputError:
        return _cannot_write(self.label, err)

    def _hold(self, stack: ExitStack, target: Path, wait: bool) -> None:
        """Take the lock beside ``target`` (into ``stack``) and clear a killed run's leftovers."""
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            stack.enter_context(_locked(
                target, wait=wait, on_wait=self.on_wait,
                busy=f"{self.label}: another reserve-opt run is writing it now; wait for it "
                     "to finish or give another folder"))
            _recover(target)
        except OSError as err:
            raise self._os_error(err) from None

    @contextmanager
    def write(self) -> Iterator[Path]:
        """Yield an empty folder to fill; it replaces the target when the block succeeds.

        An interrupted or failed block leaves the target as it was. The target's rules are
        checked before the block and again, under the lock, just before the swap.

        Yields
        ------
        Path
            The temporary folder beside the target.

        Raises
        ------
        InputError
            The target may not be written (one line naming it and the fix).
        """
        target = self.check()
        with ExitStack() as stack:
            self._hold(stack, target, wait=True)
            try:
                tmp = _fresh(target.parent, f".{target.name}{_TAG}writing-", os.mkdir)
            except OSError as err:
                raise self._os_error(err) from None
            try:
                yield tmp
                _, written = _entries(tmp)
                survey = self._survey(target)
                try:
                    _write_marker(tmp, self.command, {f: _sha256(tmp / f) for f in written})
                    for rel in survey.keep:
                        self._carry(target, tmp, rel)
                    for rel in reversed(survey.keep):  # after their content: modes may forbid
                        src = target / rel
                        if src.is_dir() and not src.is_symlink():
                            os.chmod(tmp / rel, stat.S_IMODE(src.stat().st_mode))
                    if survey.mode is not None:
                        os.chmod(tmp, survey.mode)
                    _swap(tmp, target, survey.exists)
                except OSError as err:
                    raise self._os_error(err) from None
            finally:
                if os.path.lexists(tmp):
                    with suppress(OSError):
                        _rmtree(tmp)

    def _carry(self, target: Path, tmp: Path, rel: str) -> None:
        """Put the user's entry ``rel`` of ``target`` at the same place in ``tmp``.

        Files are hard-linked (the same inode: content and mode stay), so the original
        stays where it is until the swap; a file system without hard links gets a copy.
        """
        src, dst = target / rel, tmp / rel
        clash = InputError(f"{self.label}: {rel} was not written by reserve-opt and the new "
                           "output has a file of that name; move it out of the folder")
        try:
            dst.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise clash from None
        if src.is_dir() and not src.is_symlink():
            if os.path.lexists(dst) and not (dst.is_dir() and not dst.is_symlink()):
                raise clash
            dst.mkdir(exist_ok=True)
            return
        if os.path.lexists(dst):
            raise clash
        try:
            os.link(src, dst, follow_symlinks=False)
        except OSError:
            shutil.copy2(src, dst, follow_symlinks=False)

    @contextmanager
    def update(self) -> Iterator[Path]:
        """Hold the folder for a command that adds to it in place (``in_place``).

        The folder is created with its marker if new; a second writer is refused while
        this one holds it.

        Yields
        ------
        Path
            The folder itself (symbolic links resolved).

        Raises
        ------
        InputError
            The folder may not be written, or another run holds it.
        """
        target = self.check()
        with ExitStack() as stack:
            self._hold(stack, target, wait=False)
            try:
                survey = self._survey(target)
                if not survey.exists:
                    target.mkdir()
                if _read_marker(target) is None:
                    _write_marker(target, self.command, None)
            except OSError as err:
                raise self._os_error(err) from None
            yield target


def _swap(tmp: Path, target: Path, exists: bool) -> None:
    """Put ``tmp`` at ``target``'s place; the previous ``target`` is removed after."""
    if not exists:
        os.rename(tmp, target)
        return
    replaced = target.with_name(f".{target.name}{_TAG}replaced")
    os.rename(target, replaced)
    try:
        os.rename(tmp, target)
    except BaseException:
        os.rename(replaced, target)
        raise

    def move(path: Path) -> None:
        if os.path.lexists(path):
            raise FileExistsError(path)
        os.rename(replaced, path)

    # renamed first so a run killed while deleting never has it restored by _recover
    doomed = _fresh(target.parent, f".{target.name}{_TAG}deleting-", move)
    with suppress(OSError):  # the new output is in place; the next writer retries
        _rmtree(doomed)


def _png_signed(path: Path) -> bool:
    """Whether a PNG's ``Software`` text chunk names reserve-opt."""
    with path.open("rb") as fh:
        if fh.read(8) != b"\x89PNG\r\n\x1a\n":
            return False
        for _ in range(64):  # text chunks come before the image data
            head = fh.read(8)
            if len(head) < 8:
                return False
            length, kind = int.from_bytes(head[:4], "big"), head[4:]
            if kind in (b"IDAT", b"IEND") or length > 1 << 20:
                return False
            data = fh.read(length)
            fh.read(4)  # CRC
            if kind == b"tEXt" and data.startswith(b"Software\0reserve-opt"):
                return True
    return False


def _html_signed(path: Path) -> bool:
    """Whether an HTML page's head carries our ``generator`` meta tag."""
    with path.open("rb") as fh:
        return _SIGNED.search(fh.read(1 << 16)) is not None


def gpkg_signed(path: Path) -> bool:
    """Whether a GeoPackage's dataset metadata names reserve-opt as its generator."""
    import sqlite3

    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            rows = db.execute("SELECT metadata FROM gpkg_metadata").fetchall()
    except sqlite3.Error:
        return False
    return any(isinstance(r[0], str) and _GPKG_SIGNED in r[0] for r in rows)


_GPKG_SIGNED = '<MDI key="generator">reserve-opt'
"""How :func:`gpkg_signed` recognises our GeoPackages (GDAL's dataset metadata)."""

def _xlsx_signed(path: Path) -> bool:
    """Whether reserve-opt wrote a workbook and nobody saved it since."""
    from reserve_opt.io.workbook import signed

    return signed(path)


_RECOGNISERS: dict[str, Callable[[Path], bool]] = {
    ".png": _png_signed, ".html": _html_signed, ".htm": _html_signed, ".gpkg": gpkg_signed,
    ".xlsx": _xlsx_signed}


@dataclass(frozen=True)
class OutputFile:
    """A single file a command writes, and the rules it is written by (see the module).

    Parameters
    ----------
    path
        The file, as the user named it.
    inputs
        Files and folders the command reads; the output may not be one or lie in one.
    name
        How messages call the file (``--map day1.png``); default: the path.
    on_wait
        Called once if another writer holds the lock and this one waits for it.
    """

    path: Path
    inputs: Sequence[Path | None] = ()
    name: str | None = None
    on_wait: Callable[[], None] | None = None

    @property
    def label(self) -> str:
        """How messages name the file."""
        return self.name or str(self.path)

    def check(self) -> Path:
        """Refuse now, before any work, if the file could not be written.

        Returns
        -------
        Path
            The file's real place (symbolic links resolved).

        Raises
        ------
        InputError
            One line naming the file and the fix.
        """
        name, given = self.label, Path(self.path)
        resolved = _real(given, name)
        _check_inputs(name, resolved, self.inputs)
        parent = resolved.parent
        if not parent.exists():
            raise InputError(f"{name}: folder {given.parent} does not exist; create it first")
        if not parent.is_dir():
            raise InputError(f"{name}: {given.parent} is a file, not a folder; give a path "
                             "in a folder")
        self._ours(resolved)
        return resolved

    def _ours(self, target: Path) -> None:
        if not os.path.lexists(target):
            return
        if target.is_dir():
            raise InputError(f"{self.label}: is a folder; give a file name")
        recognise = _RECOGNISERS.get(target.suffix.lower())
        try:
            ours = (recognise is not None and stat.S_ISREG(target.lstat().st_mode)
                    and recognise(target))
        except OSError:
            ours = False
        if recognise is None:
            kind = f"a {target.suffix} file" if target.suffix else "such a file"
            raise InputError(f"{self.label}: exists; give a new file name (reserve-opt never "
                             f"replaces {kind})")
        if not ours:
            raise InputError(f"{self.label}: exists and was not written by reserve-opt; give "
                             "a new file name (the file was left as it is)")

    @contextmanager
    def write(self) -> Iterator[Path]:
        """Yield a temporary file beside the target; it replaces the target on success.

        Yields
        ------
        Path
            The temporary file (empty, in the target's folder).

        Raises
        ------
        InputError
            The target may not be written (one line naming it and the fix).
        """
        target = self.check()
        with ExitStack() as stack:
            try:
                stack.enter_context(_locked(target, wait=True, on_wait=self.on_wait, busy=""))
                _recover(target)
                tmp = _fresh(target.parent, f".{target.name}{_TAG}writing-", _new_file)
            except OSError as err:
                raise _cannot_write(self.label, err) from None
            try:
                yield tmp
                self._ours(target)
                if os.path.lexists(target):
                    os.chmod(tmp, stat.S_IMODE(target.stat().st_mode))
                os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)


def replace_file(path: Path, write: Callable[[Path], object]) -> None:
    """Write a file inside a folder reserve-opt owns, atomically.

    ``write`` fills a temporary file beside ``path``, which then replaces ``path``; its
    mode follows the umask.

    Parameters
    ----------
    path
        The file (its folder exists).
    write
        Writes the content to the path it is given.
    """
    tmp = _fresh(path.parent, f".{path.name}{_TAG}writing-", _new_file)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


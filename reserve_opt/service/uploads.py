"""Instance uploads: a JSON document or a zipped instance folder, unpacked safely.

Nothing in an upload chooses where it lands: the server picks the folder, member names are
checked one by one (no absolute paths, no ``..``, no links, no device files) and the bytes
actually written are counted, so a zip whose headers understate its content is stopped when
the limit is reached, not after.
"""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path, PurePosixPath

from reserve_opt.errors import InputError

MAX_MEMBERS = 2_000
"""Most files a zipped instance may hold."""
MAX_UNPACKED_BYTES = 512 * 1024 * 1024
"""Most bytes a zipped instance may unpack to (all files together)."""
MAX_RATIO = 200
"""Largest unpacked/packed size ratio of a member: above it the zip is a bomb."""


def unpack_zip(data: bytes, dest: Path) -> Path:
    """Unpack a zipped instance into ``dest`` (new); the folder holding ``instance.toml``.

    Raises
    ------
    InputError
        Not a zip, too many or too large members, a member name that leaves ``dest``, a
        link, or no ``instance.toml``.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise InputError("upload: is not a zip archive; send a zipped instance folder with "
                         "Content-Type application/zip, or a JSON document with "
                         "application/json") from None
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise InputError(f"upload: holds {len(members):,} files; an instance may hold at most "
                         f"{MAX_MEMBERS:,}")
    dest.mkdir(parents=True)
    total = 0
    for info in members:
        name = info.filename
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if (not parts or name.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]
                or "\x00" in name):
            raise InputError(f"upload: member '{name[:80]}' would be written outside the "
                             f"instance folder; zip the folder with relative names")
        mode = info.external_attr >> 16
        if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
            raise InputError(f"upload: member '{name[:80]}' is a link or special file; zip "
                             f"only plain files and folders")
        target = dest.joinpath(*parts)
        if info.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
            raise InputError(f"upload: member '{name[:80]}' unpacks {info.file_size:,} bytes "
                             f"from {info.compress_size:,} (over {MAX_RATIO}x); a zip bomb is "
                             f"refused")
        target.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(info) as src, open(target, "xb") as out:
            while chunk := src.read(1 << 20):
                total += len(chunk)
                if total > MAX_UNPACKED_BYTES:
                    raise InputError(f"upload: unpacks to more than "
                                     f"{MAX_UNPACKED_BYTES // 2**20} MiB; send a smaller "
                                     f"instance")
                out.write(chunk)
    return instance_root(dest)


def instance_root(dest: Path) -> Path:
    """The unpacked folder holding ``instance.toml``: ``dest`` or its only subfolder."""
    if (dest / "instance.toml").is_file():
        return dest
    entries = [p for p in dest.iterdir() if p.name != "__MACOSX"]
    if len(entries) == 1 and entries[0].is_dir() and (entries[0] / "instance.toml").is_file():
        return entries[0]
    raise InputError("upload: the zip has no instance.toml at its top or in its only folder; "
                     "zip the instance folder itself")


def zip_folder(folder: Path) -> bytes:
    """A zip of ``folder``'s files (names relative to it), for uploads from a client."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink():
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()

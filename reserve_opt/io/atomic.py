"""Write a folder beside its target and swap it in only when complete."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def folder_swap(target: Path) -> Iterator[Path]:
    """Yield a fresh temporary folder that replaces ``target`` when the block succeeds.

    An interrupted or failed write leaves ``target`` as it was and removes the temporary
    folder; an existing ``target`` is removed only once the new one is in place.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield tmp
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            target.rename(old)
            tmp.rename(target)
            shutil.rmtree(old)
        else:
            tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

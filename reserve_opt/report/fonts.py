"""A CJK font subset embedded in the page, so Chinese names show on any machine.

The page names its glyphs' font first and the reader's sans-serif after it: Latin text is
drawn by the reader's fonts, every other character by a subset (only the characters the page
uses) of a CJK font found on this machine, written into the page as a ``data:`` URL. Without
such a font the page still opens; the reader's own fonts then draw the characters.
"""

from __future__ import annotations

import base64
import io
import os
from functools import lru_cache
from pathlib import Path

#: File names of CJK fonts, most wanted first (Simplified Chinese faces first in a
#: collection); searched in :data:`FONT_DIRS`.
CJK_FONT_FILES = (
    "NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf", "NotoSansSC-Regular.otf",
    "NotoSansSC-Regular.ttf", "SourceHanSansSC-Regular.otf", "SourceHanSans-Regular.ttc",
    "wqy-microhei.ttc", "wqy-zenhei.ttc", "DroidSansFallbackFull.ttf", "DroidSansFallback.ttf",
    "NotoSerifCJK-Regular.ttc", "msyh.ttc", "simhei.ttf", "simsun.ttc", "PingFang.ttc",
    "Hiragino Sans GB.ttc",
)
FONT_DIRS = (
    "/usr/share/fonts", "/usr/local/share/fonts", str(Path.home() / ".fonts"),
    str(Path.home() / ".local/share/fonts"), "/System/Library/Fonts", "/Library/Fonts",
    "C:/Windows/Fonts",
)
FAMILY = "reserve-opt-cjk"
"""The family name the page's CSS gives the embedded subset."""


@lru_cache(maxsize=1)
def find_cjk_font() -> tuple[Path, int] | None:
    """A CJK font file on this machine and the face to use in it, or ``None``.

    In a collection (``.ttc``) the face whose name says Simplified Chinese (``SC``) is
    taken, else the first.
    """
    wanted = {name.lower(): rank for rank, name in enumerate(CJK_FONT_FILES)}
    found: list[tuple[int, Path]] = []
    for top in FONT_DIRS:
        if not os.path.isdir(top):
            continue
        for folder, _, files in os.walk(top):
            found += [(wanted[f.lower()], Path(folder) / f) for f in files
                      if f.lower() in wanted]
    if not found:
        return None
    path = min(found)[1]
    face = 0
    if path.suffix.lower() == ".ttc":
        from fontTools.ttLib import TTCollection

        try:
            faces = TTCollection(str(path), lazy=True).fonts
            names = [str(f["name"].getDebugName(1) or "") for f in faces]
        except Exception:  # an unreadable font file is as good as none
            return None
        face = next((i for i, n in enumerate(names) if n.endswith(" SC")), 0)
    return path, face


def font_face_css(text: str) -> str:
    """An ``@font-face`` rule embedding the glyphs of ``text``'s non-ASCII characters.

    Parameters
    ----------
    text
        Everything the page shows.

    Returns
    -------
    str
        The CSS rule (family :data:`FAMILY`), or ``""`` when the text is plain ASCII or
        no CJK font is found.
    """
    chars = "".join(sorted({ch for ch in text if ord(ch) > 0x7F and ch.isprintable()}))
    font = find_cjk_font() if chars else None
    if font is None:
        return ""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    path, face = font
    try:
        tt = TTFont(str(path), fontNumber=face)
        options = subset.Options()
        options.name_IDs = ["*"]
        options.notdef_outline = True
        sub = subset.Subsetter(options)
        sub.populate(text=chars)
        sub.subset(tt)
        buf = io.BytesIO()
        tt.save(buf)
    except Exception:  # a font that fontTools cannot subset: the reader's fonts draw
        return ""
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (f"@font-face{{font-family:'{FAMILY}';"
            f"src:url(data:font/otf;base64,{data}) format('opentype');}}")

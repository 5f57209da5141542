"""A CJK font subset embedded in the page, so Chinese names show on any machine.

The page names its glyphs' font first and the reader's sans-serif after it: Latin text is
drawn by the reader's fonts, every other character by a subset (only the characters the page
uses) of the CJK font the maps use (:func:`reserve_opt.maps.cjk_font`: a system CJK font,
else the bundled OFL subset), written into the page as a ``data:`` URL by
:func:`reserve_opt.maps.font_face`.
"""

from __future__ import annotations

FAMILY = "reserve-opt-cjk"
"""The family name the page's CSS gives the embedded subset."""


def font_face_css(text: str) -> str:
    """An ``@font-face`` rule embedding the glyphs of ``text``'s non-ASCII characters.

    Parameters
    ----------
    text
        Everything the page shows.

    Returns
    -------
    str
        The CSS rule (family :data:`FAMILY`), or ``""`` when no character of the text needs
        the CJK font.
    """
    from reserve_opt.maps import cjk_font, font_face

    _, path = cjk_font()
    return font_face([text], (FAMILY, path))

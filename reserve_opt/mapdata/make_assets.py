"""Make the files that let maps draw offline; run once by a maintainer, not at draw time.

* ``leaflet.min.js``, ``leaflet.css``: Leaflet 1.7.1 as Debian's ``libjs-leaflet`` builds it
  (BSD-2-Clause, ``LICENSE-leaflet.txt``), inlined into every HTML map.
* ``ne_countries.geojson.gz``: Natural Earth 1:50m Admin 0 countries (public domain), only
  ``NAME`` and the outline, simplified to 0.03 degrees and rounded to 0.01 degrees.
* ``cjk-gb2312.otf``: Noto Sans CJK SC Regular (SIL OFL 1.1, ``OFL-noto-cjk.txt``) cut to
  the 6,763 Hanzi of GB 2312, ASCII and common CJK punctuation, renamed "Reserve Opt CJK"
  (a Modified Version under the OFL keeps no original font name). The fallback when the
  system has no CJK font.

    apt-get install libjs-leaflet fonts-noto-cjk
    .venv/bin/python reserve_opt/mapdata/make_assets.py \
        ../shared/data/natural_earth/ne_50m_admin_0_countries.geojson
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
LEAFLET = Path("/usr/share/javascript/leaflet")
NOTO = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
NOTO_SC = 2  # the collection's order: JP, KR, SC, TC, HK, then the Mono faces
FONT_NAME = "Reserve Opt CJK"
TOLERANCE = 0.03  # degrees, about 3 km: finer than a province-wide map shows
PUNCTUATION = "（）【】《》〈〉「」『』、。，．：；！？—－·…“”‘’〇　"


def gb2312_hanzi() -> str:
    """The 6,763 Hanzi of GB 2312 (rows 16-87), in code order."""
    chars = []
    for hi in range(0xB0, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.append(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                continue  # the unassigned cells at the end of row 55
    return "".join(chars)


def make_font(out: Path = HERE / "cjk-gb2312.otf") -> Path:
    """Cut Noto Sans CJK SC to GB 2312 and rename it; return ``out``."""
    from fontTools import subset
    from fontTools.ttLib import TTCollection

    font = TTCollection(str(NOTO)).fonts[NOTO_SC]
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]
    sub = subset.Subsetter(options)
    sub.populate(text=gb2312_hanzi() + PUNCTUATION
                 + "".join(chr(i) for i in range(0x20, 0x7F)))
    sub.subset(font)
    names = font["name"]
    for record in names.names:
        if record.nameID in (1, 4, 16):
            record.string = FONT_NAME
        elif record.nameID == 3:
            record.string = f"{FONT_NAME} GB2312 subset of Noto Sans CJK SC"
        elif record.nameID == 6:
            record.string = FONT_NAME.replace(" ", "") + "-Regular"
    font["CFF "].cff.fontNames = [FONT_NAME.replace(" ", "") + "-Regular"]
    font.save(str(out))
    return out


def make_outline(source: Path, out: Path = HERE / "ne_countries.geojson.gz") -> Path:
    """Simplify Natural Earth's countries to a gzipped GeoJSON outline; return ``out``."""
    import gzip
    import json

    import geopandas as gpd
    import shapely

    countries = gpd.read_file(source, engine="pyogrio")
    geoms = shapely.set_precision(
        countries.geometry.simplify(TOLERANCE, preserve_topology=True).values, 0.01)
    features = [{"type": "Feature", "properties": {"NAME": name},
                 "geometry": json.loads(shapely.to_geojson(geom))}
                for name, geom in zip(countries["NAME"], geoms, strict=True)
                if not geom.is_empty]
    text = json.dumps({"type": "FeatureCollection", "features": features},
                      separators=(",", ":"), ensure_ascii=False)
    # mtime=0: the same source gives the same bytes
    out.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))
    return out


def copy_leaflet() -> None:
    """Copy Debian's Leaflet build next to this script."""
    shutil.copyfile(LEAFLET / "leaflet.min.js", HERE / "leaflet.min.js")
    shutil.copyfile(LEAFLET / "leaflet.css", HERE / "leaflet.css")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("countries", type=Path, help="ne_50m_admin_0_countries.geojson")
    args = parser.parse_args()
    copy_leaflet()
    print(make_outline(args.countries))
    print(make_font())

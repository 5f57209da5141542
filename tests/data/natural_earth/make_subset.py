"""Cut Natural Earth's 1:50m countries down to the ones the tests read (China).

The full file is 4.7 MB; the tests use only the outline of China (ADM0_A3 == "CHN"). This
keeps that feature with every column, geometry untouched, under the original file name.

    .venv/bin/python tests/data/natural_earth/make_subset.py \
        ../shared/data/natural_earth/ne_50m_admin_0_countries.geojson

The source is Natural Earth 1:50m Admin 0 - Countries (public domain), as converted to
GeoJSON in github.com/martynafford/natural-earth-geojson (see README.md here).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import geopandas as gpd

HERE = Path(__file__).resolve().parent
NAME = "ne_50m_admin_0_countries.geojson"
KEEP = ("CHN",)


def subset(source: Path, out: Path = HERE / NAME) -> Path:
    """Write the countries in :data:`KEEP` from ``source`` to ``out``; return ``out``."""
    countries = gpd.read_file(source, engine="pyogrio")
    kept = countries.loc[countries["ADM0_A3"].isin(KEEP)].reset_index(drop=True)
    out.unlink(missing_ok=True)
    kept.to_file(out, driver="GeoJSON", engine="pyogrio")
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help=f"the full {NAME}")
    print(subset(parser.parse_args().source))

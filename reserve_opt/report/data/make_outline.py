"""Make ``ne_admin0.geojson.gz``, the country outlines the report draws behind its maps.

Run from the project root with Natural Earth's 1:50m Admin 0 - Countries file::

    .venv/bin/python reserve_opt/report/data/make_outline.py \
        ../shared/data/natural_earth/ne_50m_admin_0_countries.geojson

Each country keeps ``ADM0_A3`` and ``NAME``; its outline is simplified to 0.02 degrees
(about 2 km, topology kept) and its coordinates rounded to 0.01 degrees.
"""

import gzip
import json
import sys
from pathlib import Path

import geopandas as gpd
import shapely

TOLERANCE_DEG = 0.02
GRID_DEG = 0.01


def main(source: str) -> None:
    """Write the simplified outline beside this script."""
    frame = gpd.read_file(source)[["ADM0_A3", "NAME", "geometry"]]
    simple = frame.geometry.simplify(TOLERANCE_DEG, preserve_topology=True)
    frame["geometry"] = shapely.set_precision(simple.values, GRID_DEG)
    frame = frame[~frame.geometry.is_empty]
    doc = json.loads(frame.to_json(drop_id=True))
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
    out = Path(__file__).with_name("ne_admin0.geojson.gz")
    # mtime 0: the same input gives the same bytes
    out.write_bytes(gzip.compress(text.encode("utf-8"), 9, mtime=0))
    print(f"wrote {out} ({out.stat().st_size:,} bytes, {len(frame)} countries)")


if __name__ == "__main__":
    main(sys.argv[1])

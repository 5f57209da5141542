"""The ``roads import`` command: an OSM extract or a line file made into an instance's roads."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated

import typer

from reserve_opt.cli.errors import reported_errors
from reserve_opt.cli.options import ForceOption, InstancePath
from reserve_opt.cli.render import print_table, say

#: File the import writes into the instance folder, and the manifest entry naming it.
ROADS_FILE = "roads.gpkg"
#: The generator GDAL stores in the GeoPackage's metadata (see reserve_opt.io.outdir).
GENERATOR = "reserve-opt roads import"

roads_app = typer.Typer(help="Road networks for an instance's travel times.",
                        no_args_is_help=True)


@roads_app.command("import")
def import_(
    source: Annotated[Path, typer.Argument(
        help="OSM .pbf extract, or a GeoPackage/Shapefile/GeoJSON of road lines.")],
    path: InstancePath,
    margin_km: Annotated[float, typer.Option(
        "--margin-km", help="Roads kept this far beyond the instance's points, km.")] = 10.0,
    country: Annotated[str | None, typer.Option(
        "--country", help="ISO code whose legal limits fill 'national' and missing maxspeed "
        "tags (CN, DE, FI, FR, GB); without it, highway-class defaults.")] = None,
    force: ForceOption = False,
) -> None:
    """Make an OSM extract or a line file into the instance's road layer (roads.gpkg).

    Clips the roads to the instance, normalises OSM tags, keeps the largest strongly
    connected part, snaps facilities and regions to it, and adds [geometry] roads.

    Speeds are km/h (maxspeed in mph converted); defaults for roads without a number are
    listed in models/roads.md and counted in the output.
    """
    import numpy as np

    from reserve_opt.errors import InputError
    from reserve_opt.geo.osm import (
        clip_to,
        extent_box,
        largest_strong_component,
        normalise_roads,
        read_lines,
    )
    from reserve_opt.geo.roads import build_road_network
    from reserve_opt.io.folder import read_folder
    from reserve_opt.io.outdir import OutputFile, gpkg_signed, replace_file
    from reserve_opt.validation import validate_raw

    with reported_errors():
        if not (np.isfinite(margin_km) and margin_km >= 0):
            raise InputError(f"--margin-km {margin_km}: give a distance of 0 km or more")
        folder = Path(path)
        manifest = folder / "instance.toml"
        if not manifest.is_file():
            raise InputError(f"{path}: has no instance.toml; roads import adds [geometry] roads "
                             "to a TOML manifest (for YAML, add it by hand)")
        target = folder / ROADS_FILE
        if os.path.lexists(target):
            if not (target.is_file() and gpkg_signed(target)):
                raise InputError(f"{target}: exists and was not written by reserve-opt; move it "
                                 "away (it was left as it is)")
            if not force:
                raise InputError(f"{target}: was written by an earlier roads import; give "
                                 "--force to replace it")
        # without its current road layer, which this import replaces (or which is missing)
        inst = validate_raw(read_folder(folder, roads=False))
        text = manifest.read_text(encoding="utf-8")
        new_text = _with_roads_entry(text, manifest.name)
        points = [(f.id, "facility", f.lon, f.lat) for f in inst.facilities] + [
            (r.id, "region", r.lon, r.lat) for r in inst.regions]
        lon = np.array([p[2] for p in points])
        lat = np.array([p[3] for p in points])
        box = extent_box(lon, lat, margin_km)
        lines = read_lines(Path(source), box)
        clipped = clip_to(lines, box)
        if not len(clipped):
            raise InputError(f"{source}: has no roads within {margin_km:g} km of the "
                             f"instance's points; give an extract that covers them")
        roads = normalise_roads(clipped, country=country, name=Path(source).name)
        comp = largest_strong_component(roads)
        net = build_road_network(comp.segments, speed_column="speed_kmh",
                                 oneway_column="oneway", source=ROADS_FILE)
        snap = np.zeros(len(points))
        for kind in ("facility", "region"):
            at = np.flatnonzero([p[1] == kind for p in points])
            if at.size:
                snap[at] = net.snap(lon[at], lat[at], ids=[points[i][0] for i in at],
                                    max_snap_km=inst.settings.road_snap_km, what=kind,
                                    limit_name="road_snap_km")[1]
        dest = OutputFile(target, name=str(target))
        with dest.write() as tmp:
            tmp.unlink()  # GDAL creates the GeoPackage itself
            import warnings

            import pyogrio

            with warnings.catch_warnings():  # GDAL asks for a .gpkg name; the temporary lacks it
                warnings.simplefilter("ignore", RuntimeWarning)
                pyogrio.write_dataframe(comp.segments, tmp, driver="GPKG", layer="roads",
                                        dataset_metadata={"generator": GENERATOR})
        if new_text != text:
            replace_file(manifest, lambda p: p.write_text(new_text, encoding="utf-8"))
    say(f"read {len(lines)} roads from {Path(source).name}; {len(clipped)} lie within "
        f"{margin_km:g} km of the instance's points (lon {box[0]:.4f}..{box[2]:.4f}, "
        f"lat {box[1]:.4f}..{box[3]:.4f})")
    say(f"kept the largest strongly connected part: {len(comp.segments)} segments, "
        f"{comp.kept_km:.1f} km; dropped {comp.dropped_segments} segments, "
        f"{comp.dropped_km:.1f} km")
    counts = comp.segments["speed_source"].value_counts()
    say("speeds (km/h) from: " + ", ".join(f"{k} {v} segments" for k, v in counts.items()))
    ways = comp.segments["oneway"].value_counts()
    say(f"one-way segments: {int(ways.get('yes', 0))}, two-way: {int(ways.get('no', 0))}")
    print_table(
        "Snap distances",
        ["id", "kind", "snap_km"],
        [[p[0], p[1], round(float(snap[i]), 3)] for i, p in enumerate(points)],
        legend=[f"snap_km: straight distance to the road node, km (limit: the road_snap_km "
                f"setting, {inst.settings.road_snap_km:g} km)"])
    say(f"wrote {target} (layer roads); {manifest.name} names it under [geometry] roads")


def _with_roads_entry(text: str, manifest_name: str) -> str:
    """The manifest text with ``roads = "roads.gpkg"`` under ``[geometry]`` (lines added only)."""
    import tomllib

    from reserve_opt.errors import InputError

    data = tomllib.loads(text)
    have = data.get("geometry", {}).get("roads")
    if have == ROADS_FILE:
        return text
    if have is not None:
        raise InputError(f"{manifest_name}: [geometry] roads already names \"{have}\"; remove "
                         f"that line to import roads into {ROADS_FILE}")
    entry = f'roads = "{ROADS_FILE}"\n'
    header = re.search(r"(?m)^[ \t]*\[geometry\][ \t]*(#.*)?\r?\n", text)
    if header:
        out = text[:header.end()] + entry + text[header.end():]
    else:
        out = text + ("" if text.endswith("\n") else "\n") + "\n[geometry]\n" + entry
    if tomllib.loads(out).get("geometry", {}).get("roads") != ROADS_FILE:
        raise InputError(f"{manifest_name}: could not add [geometry] roads = \"{ROADS_FILE}\"; "
                         "add that line by hand")
    return out


def register(app: typer.Typer) -> None:
    """Add the ``roads`` command group (``roads import``) to ``app``."""
    app.add_typer(roads_app, name="roads")

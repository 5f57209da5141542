"""Regenerate the broken instances: each is instances/toy with one defect.

Run from the repository root: ``python tests/broken/make_broken.py``. It writes
``tests/broken/<defect>/`` folders (or ``<defect>.json`` files); each expected message
lives in ``tests/broken/expected.toml`` and is written by hand, not by this script.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).parent
TOY = HERE.parents[1] / "instances" / "toy"


def sub(file: str, old: str, new: str) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        text = (folder / file).read_text()
        if old not in text:
            raise SystemExit(f"{file}: {old!r} not found")
        (folder / file).write_text(text.replace(old, new, 1))
    return edit


def delete(file: str) -> Callable[[Path], None]:
    return lambda folder: (folder / file).unlink()


def regex(file: str, pattern: str, new: str) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        path = folder / file
        path.write_text(re.sub(pattern, new, path.read_text(), count=1, flags=re.M))
    return edit


def shapefile_without_prj(folder: Path) -> None:
    import geopandas as gpd
    from shapely.geometry import box

    gdf = gpd.GeoDataFrame(
        {"id": ["north", "river"]},
        geometry=[box(122.8, 41.0, 123.2, 41.4), box(122.2, 40.5, 122.6, 40.9)],
        crs="EPSG:4326",
    )
    gdf.to_file(folder / "regions_shape.shp")
    (folder / "regions_shape.prj").unlink()
    text = (folder / "instance.toml").read_text()
    (folder / "instance.toml").write_text(
        text.replace("[sources]", '[geometry]\nregions = "regions_shape.shp"\n\n[sources]'))


def links_without_river_sea(folder: Path) -> None:
    """A links table in which no link joins Rivermouth and Seaside (the typhoon cuts it)."""
    (folder / "links.csv").write_text("from,to,distance_km\nnorth,river,\nnorth,hill,\n"
                                      "north,sea,\n")


def population_twice(folder: Path) -> None:
    """A second population column of zeros: a dict row would keep only the zeros."""
    path = folder / "regions.csv"
    lines = path.read_text().splitlines()
    lines = [lines[0] + ",population"] + [line + ",0" for line in lines[1:]]
    path.write_text("\n".join(lines) + "\n")


def dangling_stock_link(folder: Path) -> None:
    (folder / "stock.csv").unlink()
    (folder / "stock.csv").symlink_to("stock-2024.csv")


def geometry(file: str, features: list[tuple[str, dict[str, object]]]) -> Callable[[Path], None]:
    """Write ``features`` (id, GeoJSON geometry) to ``file`` and name it under [geometry]."""
    def edit(folder: Path) -> None:
        collection = {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"id": rid}, "geometry": geom}
            for rid, geom in features]}
        (folder / file).write_text(json.dumps(collection))
        sub("instance.toml", "[sources]", f'[geometry]\nregions = "{file}"\n\n[sources]')(folder)
    return edit


def square(lon: float, lat: float) -> dict[str, object]:
    ring = [[lon, lat], [lon + 0.2, lat], [lon + 0.2, lat + 0.2], [lon, lat + 0.2], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


DEFECTS: dict[str, list[Callable[[Path], None]]] = {
    "missing-manifest": [delete("instance.toml")],
    "manifest-not-toml": [sub("instance.toml", 'name = "toy"', 'name = toy')],
    "missing-crs": [sub("instance.toml", 'crs = "EPSG:4326"\n', "")],
    "projected-crs": [sub("instance.toml", 'crs = "EPSG:4326"', 'crs = "EPSG:32651"')],
    "currency-not-iso": [sub("instance.toml", 'currency = "CNY"', 'currency = "yuan"')],
    "unknown-setting": [sub("instance.toml", "detour_factor", "detour")],
    "missing-regions-table": [delete("regions.csv")],
    "missing-column": [regex("regions.csv", r",population", ""),
                       regex("regions.csv", r"^(north,Northtown),200000", r"\1"),
                       regex("regions.csv", r"^(river,Rivermouth),120000", r"\1"),
                       regex("regions.csv", r"^(hill,Hill County),60000", r"\1"),
                       regex("regions.csv", r"^(sea,Seaside),80000", r"\1")],
    "misspelt-column": [sub("facilities.csv", "shelter_persons", "shelter_people")],
    "population-not-a-number": [sub("regions.csv", "Rivermouth,120000", "Rivermouth,many")],
    "empty-quantity": [sub("stock.csv", "W_north,tent,800", "W_north,tent,")],
    "negative-stock": [sub("stock.csv", "W_north,water,20000", "W_north,water,-5")],
    "duplicate-facility-id": [sub("facilities.csv", "P_hill,Hill County", "W_north,Hill County")],
    "unknown-region": [sub("facilities.csv", "enterprise_reserve,river", "enterprise_reserve,rivr")],
    "unknown-commodity-in-demand": [sub("demand.csv", "snow,hill,tent", "snow,hill,blanket")],
    "probabilities-not-summing-to-one": [sub("scenarios.csv", "north,0.5", "north,0.4")],
    "probability-above-one": [sub("scenarios.csv", "Seaside,0.3", "Seaside,1.3")],
    "agreement-outside-instance": [sub("agreements.csv", "A_north_sea,north,sea", "A_north_sea,north,harbour")],
    "agreement-with-itself": [sub("agreements.csv", "A_north_sea,north,sea", "A_north_sea,sea,sea")],
    "latitude-out-of-range": [sub("regions.csv", "123.3,40.6", "40.6,123.3")],
    "unknown-facility-kind": [sub("facilities.csv", "distribution_point", "depot")],
    "contract-at-warehouse": [sub("contracts.csv", "C_water,S_river", "C_water,W_north")],
    "candidate-without-sizes": [delete("sizes.csv")],
    "bool-not-true-or-false": [sub("contracts.csv", "48,false", "48,perhaps")],
    "parent-cycle": [sub("regions.csv", "Northtown,200000,123.0,41.2,prefecture,", "Northtown,200000,123.0,41.2,prefecture,sea")],
    "region-and-facility-share-id": [sub("facilities.csv", "D_sea,", "sea,")],
    "outage-unknown-place": [sub("outages.csv", "typhoon,river,sea", "typhoon,river,bridge7")],
    "outage-off-the-links": [links_without_river_sea],
    "extra-cells": [sub("stock.csv", "W_north,water,20000", "W_north,water,20000,12")],
    "geometry-without-crs": [shapefile_without_prj],
    "duplicate-column": [population_twice],
    "short-row-contract": [sub("contracts.csv", "C_tent,P_hill,tent,capacity,600,100,20000,700,48,false",
                               "C_tent,P_hill,tent,capacity,600,100,20000,700")],
    "short-row-region": [sub("regions.csv", "sea,Seaside,80000,122.8,40.1,county,north,bay,0.8",
                             "sea,Seaside,80000,122.8,40.1,county,north")],
    "description-is-a-table": [sub("instance.toml", 'description = "Four regions round a bay, two '
                                   'commodities, three hazards: small enough to check by hand."\n',
                                   ""),
                               sub("instance.toml", "[sources]", '[description]\ntext = "bay"\n\n'
                                   "[sources]")],
    "dangling-table-link": [dangling_stock_link],
    "geometry-not-geodata": [sub("instance.toml", "[sources]",
                                 '[geometry]\nregions = "regions.csv"\n\n[sources]')],
    "geometry-unknown-type": [geometry("regions.geojson", [
        ("north", square(123.0, 41.1)), ("river", {"type": "Blob", "coordinates": [1, 2]})])],
    "geometry-duplicate-id": [geometry("regions.geojson", [
        ("north", square(123.0, 41.1)), ("river", square(122.3, 40.6)),
        ("north", square(123.2, 41.3))])],
    "capacity-kg-huge": [sub("fleet.csv", "T_north,W_north,5,10000", "T_north,W_north,5,1e308")],
    "cost-huge": [sub("commodities.csv", "1.5 L bottle,1.6,0.002,2.0", "1.5 L bottle,1.6,0.002,1e308")],
    "speed-zero": [sub("fleet.csv", "T_north,W_north,5,10000,40,60", "T_north,W_north,5,10000,40,0")],
    "setting-speed-zero": [sub("instance.toml", "speed_kmh = 60.0", "speed_kmh = 0")],
    "quantity-huge": [sub("demand.csv", "typhoon,sea,water,12000", "typhoon,sea,water,1e308")],
    "many-problems": [sub("regions.csv", "Rivermouth,120000", "Rivermouth,-1"),
                      sub("stock.csv", "W_north,tent,800", "W_north,quilt,800"),
                      sub("scenarios.csv", "Seaside,0.3", "Seaside,0.25")],
}


def toy_json() -> dict[str, object]:
    from reserve_opt.io import load_instance, to_document

    return to_document(load_instance(TOY))


def json_edit(table: str, index: int, key: str, value: object) -> Callable[[], str]:
    def make() -> str:
        doc = toy_json()
        doc[table][index][key] = value  # type: ignore[index]
        return json.dumps(doc, indent=1)
    return make


JSON_DEFECTS: dict[str, Callable[[], str]] = {
    "json-id-true": json_edit("agreements", 0, "id", True),
    "json-id-number": json_edit("fleet", 0, "id", 7),
    "json-coordinates-huge": json_edit("regions", 0, "geometry", square(1e300, 41.0)),
    "json-geometry-unknown-type": json_edit("regions", 1, "geometry",
                                            {"type": "Blob", "coordinates": [1, 2]}),
    "json-not-json": lambda: json.dumps(toy_json(), indent=1)[:-30],
    "json-table-not-array": lambda: json.dumps({**toy_json(), "scenarios": {"typhoon": 0.3}}),
}


def main() -> None:
    for name, edits in DEFECTS.items():
        target = HERE / name
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(TOY, target, ignore=shutil.ignore_patterns("README.md", "variants"))
        for edit in edits:
            edit(target)
    for name, make in JSON_DEFECTS.items():
        (HERE / f"{name}.json").write_text(make())


if __name__ == "__main__":
    main()

"""Folder -> JSON -> folder round-trips without loss, in every supported format."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml
from shapely.geometry import box

from reserve_opt import InstanceBuilder, load_instance, save_instance
from reserve_opt.errors import InputError
from reserve_opt.io import instance_schema, to_document, write_folder


def test_folder_json_folder_is_lossless(toy_path: Path, tmp_path: Path) -> None:
    original = load_instance(toy_path)
    save_instance(original, tmp_path / "toy.json")
    from_json = load_instance(tmp_path / "toy.json")
    assert from_json == original
    save_instance(from_json, tmp_path / "again")
    again = load_instance(tmp_path / "again")
    assert again == original
    # and the documents are identical, byte for byte
    assert to_document(again) == to_document(original)


def test_parquet_tables_round_trip(toy_path: Path, tmp_path: Path) -> None:
    original = load_instance(toy_path)
    write_folder(original, tmp_path / "pq", table_format="parquet")
    assert (tmp_path / "pq" / "regions.parquet").is_file()
    assert load_instance(tmp_path / "pq") == original


def test_yaml_manifest_reads_like_toml(toy_path: Path, tmp_path: Path) -> None:
    import tomllib

    folder = tmp_path / "yaml"
    shutil.copytree(toy_path, folder)
    manifest = tomllib.loads((folder / "instance.toml").read_text())
    (folder / "instance.toml").unlink()
    (folder / "instance.yaml").write_text(yaml.safe_dump(manifest))
    assert load_instance(folder) == load_instance(toy_path)


def test_region_polygons_round_trip_through_geopackage_and_json(tmp_path: Path) -> None:
    b = InstanceBuilder("poly", currency="USD")
    b.add_region("a", population=10, lon=0.5, lat=0.5, geometry=box(0, 0, 1, 1))
    b.add_region("b", population=20, lon=1.5, lat=0.5, geometry=box(1, 0, 2, 1.0000000001))
    b.add_commodity("w", unit="bottle", weight_kg=1.5, volume_m3=0.002, purchase_cost=1,
                    shortage_penalty=10)
    b.add_facility("f", kind="government_warehouse", region="a", lon=0.2, lat=0.2,
                   capacity_m3=5)
    b.add_scenario("s", probability=1)
    inst = b.build()
    save_instance(inst, tmp_path / "f")
    assert (tmp_path / "f" / "regions.gpkg").is_file()
    assert load_instance(tmp_path / "f") == inst
    save_instance(inst, tmp_path / "f.json")
    assert load_instance(tmp_path / "f.json") == inst


def test_document_matches_published_schema(toy_path: Path) -> None:
    schema = instance_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    doc = json.loads(json.dumps(to_document(load_instance(toy_path))))
    jsonschema.validate(doc, schema)
    doc["regions"][0]["population"] = "many"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema)


def test_writing_over_an_existing_folder_replaces_only_our_own(toy_path: Path,
                                                              tmp_path: Path) -> None:
    inst = load_instance(toy_path)
    target = tmp_path / "out"
    save_instance(inst, target)
    before = sorted(p.name for p in target.iterdir())
    save_instance(inst, target)  # an instance folder reserve-opt wrote: replaced
    assert sorted(p.name for p in target.iterdir()) == before
    (tmp_path / "user").mkdir()
    (tmp_path / "user" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="was not written by reserve-opt"):
        save_instance(inst, tmp_path / "user", overwrite=True)
    assert (tmp_path / "user" / "notes.txt").read_text() == "mine"
    assert load_instance(target) == inst
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "user"]  # no temporary folders


def test_normalised_probabilities_are_divided_by_their_sum(toy_path: Path,
                                                           tmp_path: Path) -> None:
    folder = tmp_path / "norm"
    shutil.copytree(toy_path, folder)
    text = (folder / "scenarios.csv").read_text().replace("north,0.5", "north,0.7")
    (folder / "scenarios.csv").write_text(text)
    manifest = (folder / "instance.toml").read_text()
    (folder / "instance.toml").write_text(
        manifest.replace("normalise_probabilities = false", "normalise_probabilities = true"))
    inst = load_instance(folder)
    assert [s.probability for s in inst.scenarios] == pytest.approx([0.25, 0.2 / 1.2, 0.7 / 1.2])
    assert sum(s.probability for s in inst.scenarios) == pytest.approx(1.0)

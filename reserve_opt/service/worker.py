"""One job, in its own process: ``python -m reserve_opt.service.worker ARGS...``.

Runs the ``reserve-opt`` command line with ``ARGS`` (the service chose them, see
:mod:`reserve_opt.service.kinds`), then writes a GeoJSON copy of each GeoPackage layer of the
job's output under ``geojson/`` beside it, so clients that cannot read GeoPackage get the same
geometry. The exit code is the command's.
"""

from __future__ import annotations

import sys
from pathlib import Path


def geojson_copies(out: Path, dest: Path) -> None:
    """Write ``dest/<file stem>[.<layer>].geojson`` for every layer of every ``*.gpkg``."""
    import pyogrio

    for gpkg in sorted(out.rglob("*.gpkg")):
        layers = [str(name) for name, _ in pyogrio.list_layers(gpkg)]
        for layer in layers:
            frame = pyogrio.read_dataframe(gpkg, layer=layer)
            stem = gpkg.relative_to(out).with_suffix("").as_posix().replace("/", ".")
            name = f"{stem}.geojson" if len(layers) == 1 else f"{stem}.{layer}.geojson"
            dest.mkdir(exist_ok=True)
            frame.to_crs("EPSG:4326").to_file(dest / name, driver="GeoJSON")


def main(argv: list[str]) -> int:
    """Run one job's command; its exit code."""
    from reserve_opt.cli.app import app

    if "--out" in argv and argv[argv.index("--out") + 1].endswith(".html"):
        Path(argv[argv.index("--out") + 1]).parent.mkdir(parents=True, exist_ok=True)
    try:
        app(args=argv, prog_name="reserve-opt", standalone_mode=True)
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    if code == 0 and "--out" in argv:
        out = Path(argv[argv.index("--out") + 1])
        if out.is_dir():
            try:
                geojson_copies(out, out.parent / "geojson")
            except Exception as err:  # the command's own output stands; say what is missing
                print(f"warning: no GeoJSON copies of the GeoPackage output "
                      f"({type(err).__name__}: {err})", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

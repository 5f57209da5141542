"""CSV as Excel on Chinese Windows writes and reads it (issue 14).

Excel saves "CSV" in the ANSI code page (GBK on Chinese Windows) and opens a CSV without a
byte-order mark as that code page too: input in GBK is read, output carries a BOM.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from reserve_opt.io import load_instance
from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "instances" / "toy"
NAMES = {"north": "沈阳市", "river": "辽河口", "hill": "千山区", "sea": "大连湾（海滨）"}


def chinese_toy(tmp_path: Path, encoding: str) -> Path:
    """The toy instance with Chinese region names, regions.csv saved in ``encoding``."""
    folder = tmp_path / "inst"
    shutil.copytree(TOY, folder, ignore=shutil.ignore_patterns("README.md", "variants"))
    path = folder / "regions.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        cells[1] = NAMES.get(cells[0], cells[1])
        out.append(",".join(cells))
    path.write_bytes(("\r\n".join(out) + "\r\n").encode(encoding))
    return folder


def test_a_gbk_csv_from_excel_is_read_with_its_chinese_names(tmp_path: Path) -> None:
    for encoding in ("gbk", "gb18030", "utf-8-sig"):
        inst = load_instance(chinese_toy(tmp_path / encoding, encoding))
        names = {r.id: r.name for r in inst.regions}
        assert {k: names[k] for k in NAMES} == NAMES, encoding


def test_latin1_that_would_decode_as_rare_ideographs_is_refused(tmp_path: Path) -> None:
    folder = chinese_toy(tmp_path, "utf-8")
    path = folder / "regions.csv"
    path.write_bytes(path.read_bytes().replace("沈阳市".encode(), "Müller".encode("latin-1")))
    got = run_cli("validate", str(folder))
    assert got.exit_code == 1
    offset = path.read_bytes().index(b"\xfc")
    assert got.stderr.splitlines() == [
        f"error: regions.csv: is neither UTF-8 nor Chinese GBK/GB18030 text (byte 0xfc at "
        f"offset {offset} is not UTF-8); save it as \"CSV UTF-8\""]


def test_output_csvs_carry_a_byte_order_mark_for_excel(tmp_path: Path) -> None:
    import pandas as pd

    out = tmp_path / "alloc"
    got = run_cli("allocate", str(chinese_toy(tmp_path, "gbk")), "-s", "typhoon", "--out",
                  str(out))
    assert got.exit_code == 0, got.output
    flows = out / "flows.csv"
    assert flows.read_bytes().startswith(b"\xef\xbb\xbf")
    assert not pd.read_csv(flows).columns[0].startswith("\ufeff")

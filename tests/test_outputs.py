"""Outputs never destroy what reserve-opt did not write (reserve_opt.io.outdir)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reserve_opt import load_instance
from reserve_opt.errors import InputError
from reserve_opt.io import write_folder
from reserve_opt.io.outdir import MARKER, OutputFile, OutputFolder
from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "instances" / "toy"
VARIANT = TOY / "variants" / "north_depot_flooded.toml"
GRID = """description = "two budgets"
[[axis]]
name = "budget"
op = "set_budget"
param = "budget"
values = [500000, 1500000]
"""


def refused(result: Any, message: str) -> None:
    """The command printed exactly ``error: message`` on one line and exited with 1."""
    assert (result.exit_code, result.stderr) == (1, f"error: {message}\n"), result.output


def snapshot(folder: Path) -> dict[str, tuple[int, int, bytes | None]]:
    """Every entry below ``folder`` (and the folder): mode; inode and content of files."""
    entries = {".": (stat.S_IMODE(folder.lstat().st_mode), 0, None)}
    for p in sorted(folder.rglob("*")):
        st = p.lstat()
        entries[p.relative_to(folder).as_posix()] = (
            (stat.S_IMODE(st.st_mode), st.st_ino, p.read_bytes()) if p.is_file()
            else (stat.S_IMODE(st.st_mode), 0, None))
    return entries


def user_folder(path: Path) -> Path:
    """A folder of the user's: a file, an odd-mode file, a subfolder with a file."""
    path.mkdir()
    (path / "keep.txt").write_text("mine\n")
    (path / "private.csv").write_text("a,b\n")
    (path / "private.csv").chmod(0o640)
    (path / "sub").mkdir(mode=0o750)
    (path / "sub" / "a.txt").write_text("also mine\n")
    return path


@pytest.fixture
def umask() -> Iterator[int]:
    old = os.umask(0o027)
    yield 0o027
    os.umask(old)


def grid_file(folder: Path) -> Path:
    grid = folder / "grid.toml"
    grid.write_text(GRID)
    return grid


# --------------------------------------------------------------------------- folders


def _commands(tmp: Path) -> list[list[str]]:
    return [
        ["plan", str(TOY)],
        ["allocate", str(TOY), "-s", "typhoon"],
        ["route", str(TOY), "-s", "typhoon"],
        ["analyze", str(TOY)],
        ["whatif", str(TOY), "-v", str(VARIANT)],
        ["site", "p-median", str(TOY), "-p", "1"],
        ["variant", "apply", str(TOY), "-v", str(VARIANT)],
    ]


@pytest.mark.parametrize("n", range(7))
@pytest.mark.parametrize("force", [False, True])
def test_a_folder_of_the_users_files_is_refused_and_left_as_it_was(
        tmp_path: Path, n: int, force: bool) -> None:
    out = user_folder(tmp_path / "results")
    before = snapshot(out)
    args = _commands(tmp_path)[n] + ["--out", str(out)] + (["--force"] if force else [])
    refused(run_cli(*args), f"--out {out}: is not empty and was not written by reserve-opt "
                            "(keep.txt, private.csv, sub); give a new or empty folder")
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_a_sweep_into_a_folder_of_the_users_files_is_refused(tmp_path: Path) -> None:
    out = user_folder(tmp_path / "results")
    before = snapshot(out)
    refused(run_cli("sweep", str(TOY), "--grid", str(grid_file(tmp_path)), "--out", str(out)),
            f"--out {out}: is not empty and was not written by reserve-opt (keep.txt, "
            "private.csv, sub); give a new or empty folder")
    assert snapshot(out) == before


def test_plan_into_its_own_instance_is_refused(tmp_path: Path) -> None:
    inst = tmp_path / "inst"
    shutil.copytree(TOY, inst)
    before = snapshot(inst)
    refused(run_cli("plan", str(inst), "--out", str(inst)),
            f"--out {inst}: is the input {inst}; write to another place so the input stays "
            "as it is")
    refused(run_cli("plan", str(inst), "--out", str(inst / "plan")),
            f"--out {inst / 'plan'}: is inside the input {inst}; write to another place so "
            "the input stays as it is")
    refused(run_cli("plan", str(inst), "--out", str(tmp_path), "--force"),
            f"--out {tmp_path}: contains the input {inst}; write to another place so the "
            "input stays as it is")
    link = tmp_path / "link"
    link.symlink_to(inst)
    refused(run_cli("plan", str(link), "--out", str(inst)),
            f"--out {inst}: is the input {link}; write to another place so the input stays "
            "as it is")
    assert snapshot(inst) == before


def test_other_inputs_are_never_written_over(tmp_path: Path) -> None:
    plan = tmp_path / "plan"
    assert run_cli("plan", str(TOY), "--out", str(plan)).exit_code == 0
    refused(run_cli("allocate", str(TOY), "-s", "typhoon", "--plan",
                    str(plan / "solution.json"), "--out", str(plan), "--force"),
            f"--out {plan}: contains the input {plan / 'solution.json'}; write to another "
            "place so the input stays as it is")
    grid = grid_file(tmp_path)
    refused(run_cli("whatif", str(TOY), "-v", str(grid), "--out", str(grid)),
            f"--out {grid}: looks like a file name (.toml) but this output is a folder; give "
            "a folder name such as grid")


def test_current_folder_a_file_and_a_path_through_a_file_get_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    notes = tmp_path / "notes"
    notes.write_text("mine\n")
    refused(run_cli("plan", str(TOY), "--out", "."),
            "--out .: is the current folder; give a new folder name such as results")
    refused(run_cli("plan", str(TOY), "--out", ".."),
            "--out ..: contains the current folder; give a new folder name")
    refused(run_cli("plan", str(TOY), "--out", "notes"),
            "--out notes: is a file, not a folder; give a folder name (the file was left as it "
            "is)")
    refused(run_cli("plan", str(TOY), "--out", "notes/sub"),
            "--out notes/sub: notes is a file, not a folder; give a path of folders")
    assert notes.read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes"]


@pytest.mark.parametrize("name", ["results.xls", "out.CSV", "a.json", "map.png", "r.html",
                                  "plan.gpkg", "all.zip"])
def test_a_file_like_name_is_refused_for_a_folder(tmp_path: Path, name: str) -> None:
    out = tmp_path / name
    stem, suffix = os.path.splitext(name)
    refused(run_cli("plan", str(TOY), "--out", str(out)),
            f"--out {out}: looks like a file name ({suffix.lower()}) but this output is a "
            f"folder; give a folder name such as {stem}")
    assert not out.exists()


def test_rerunning_into_its_own_folder_replaces_it_and_keeps_its_mode(
        tmp_path: Path, umask: int) -> None:
    out = tmp_path / "plan"
    assert run_cli("plan", str(TOY), "--out", str(out)).exit_code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~umask  # as mkdir, not 0700
    first = sorted(p.name for p in out.iterdir())
    assert MARKER in first and "solution.json" in first
    out.chmod(0o700)
    again = run_cli("plan", str(TOY), "--out", str(out))
    assert again.exit_code == 0, again.output
    assert sorted(p.name for p in out.iterdir()) == first
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]  # nothing left beside


def test_an_empty_folder_is_written(tmp_path: Path) -> None:
    out = tmp_path / "empty"
    out.mkdir(mode=0o750)
    assert run_cli("analyze", str(TOY), "--no-knockout", "--out", str(out)).exit_code == 0
    assert (out / "analysis.json").is_file()
    assert stat.S_IMODE(out.stat().st_mode) == 0o750


def test_force_replaces_only_what_reserve_opt_wrote(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    assert run_cli("plan", str(TOY), "--out", str(out)).exit_code == 0
    (out / "notes.txt").write_text("my notes\n")
    (out / "notes.txt").chmod(0o600)
    (out / "mine").mkdir()
    (out / "mine" / "x.csv").write_text("x\n")
    kept = {k: v for k, v in snapshot(out).items() if k.startswith(("notes", "mine"))}
    refused(run_cli("plan", str(TOY), "--out", str(out)),
            f"--out {out}: mine, notes.txt were not written by reserve-opt; move them out, or "
            "--force to replace only reserve-opt's files and keep them")
    refused(run_cli("analyze", str(TOY), "--no-knockout", "--out", str(out)),
            f"--out {out}: holds the output of reserve-opt plan; give another folder, or "
            "--force to replace it")
    result = run_cli("analyze", str(TOY), "--no-knockout", "--out", str(out), "--force")
    assert result.exit_code == 0, result.output
    now = snapshot(out)
    assert {k: v for k, v in now.items() if k.startswith(("notes", "mine"))} == kept
    assert "analysis.json" in now and "stock.csv" not in now
    # the user's files stay the user's: the next run asks again
    refused(run_cli("analyze", str(TOY), "--no-knockout", "--out", str(out)),
            f"--out {out}: mine, notes.txt were not written by reserve-opt; move them out, or "
            "--force to replace only reserve-opt's files and keep them")


def test_an_edited_output_file_needs_force(tmp_path: Path) -> None:
    out = tmp_path / "a"
    assert run_cli("analyze", str(TOY), "--no-knockout", "--out", str(out)).exit_code == 0
    with (out / "analysis.json").open("a") as fh:
        fh.write("\n")
    refused(run_cli("analyze", str(TOY), "--no-knockout", "--out", str(out)),
            f"--out {out}: analysis.json changed since reserve-opt wrote it; move it out, or "
            "--force to replace it")
    assert run_cli("analyze", str(TOY), "--no-knockout", "--out", str(out),
                   "--force").exit_code == 0
    assert run_cli("analyze", str(TOY), "--no-knockout", "--out", str(out)).exit_code == 0


def _write(out: OutputFolder, files: dict[str, str]) -> None:
    with out.write() as tmp:
        for name, text in files.items():
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp / name).write_text(text)


def test_force_never_replaces_a_users_file_of_the_same_name(tmp_path: Path) -> None:
    target = tmp_path / "o"
    _write(OutputFolder(target, "allocate"), {"flows.csv": "ours\n"})
    (target / "plan.gpkg").write_text("the user's\n")
    with pytest.raises(InputError) as err:
        _write(OutputFolder(target, "plan", force=True), {"plan.gpkg": "new\n"})
    assert err.value.problems == (f"{target}: plan.gpkg was not written by reserve-opt and "
                                  "the new output has a file of that name; move it out of "
                                  "the folder",)
    assert (target / "plan.gpkg").read_text() == "the user's\n"
    assert (target / "flows.csv").read_text() == "ours\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]


def test_a_sweep_goes_on_only_in_a_sweep_folder(tmp_path: Path) -> None:
    plan = tmp_path / "plan"
    _write(OutputFolder(plan, "plan"), {"stock.csv": "x\n"})
    refused(run_cli("sweep", str(TOY), "--grid", str(grid_file(tmp_path)), "--out", str(plan)),
            f"--out {plan}: holds the output of reserve-opt plan; give another folder")
    sweep = tmp_path / "s"
    with OutputFolder(sweep, "sweep", in_place=True).update() as folder:
        (folder / "results.parquet").write_text("")
    refused(run_cli("plan", str(TOY), "--out", str(sweep), "--force"),
            f"--out {sweep}: holds the output of reserve-opt sweep; give another folder")
    with OutputFolder(sweep, "sweep", in_place=True).update() as folder:
        assert (folder / "results.parquet").exists()


# --------------------------------------------------------------------------- killed runs

KILL_WHILE_WRITING = """
import os, signal, sys
from pathlib import Path
from reserve_opt.io.outdir import OutputFolder
with OutputFolder(Path(sys.argv[1]), "plan").write() as tmp:
    (tmp / "half.csv").write_text("half")
    os.kill(os.getpid(), signal.SIGKILL)
"""

KILL_BETWEEN_RENAMES = """
import os, signal, sys
from pathlib import Path
from reserve_opt.io.outdir import OutputFolder
rename = os.rename
def killed_after_first(src, dst):
    rename(src, dst)
    if str(dst).endswith("reserve-opt-replaced"):
        os.kill(os.getpid(), signal.SIGKILL)
os.rename = killed_after_first
with OutputFolder(Path(sys.argv[1]), "plan").write() as tmp:
    (tmp / "stock.csv").write_text("second")
"""


def _killed(script: str, target: Path) -> None:
    done = subprocess.run([sys.executable, "-c", script, str(target)], cwd=ROOT, check=False)
    assert done.returncode == -9


def test_a_run_killed_while_writing_is_cleaned_up_by_the_next(tmp_path: Path) -> None:
    target = tmp_path / "plan"
    (tmp_path / ".plan.old").mkdir()  # what an older reserve-opt left: maybe the user's
    (tmp_path / ".plan.old" / "x").write_text("x")
    _killed(KILL_WHILE_WRITING, target)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert [n for n in left if n.startswith(".plan.reserve-opt-writing-")], left
    result = run_cli("plan", str(TOY), "--out", str(target))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [".plan.old", "plan"]
    assert (tmp_path / ".plan.old" / "x").read_text() == "x"


def test_a_run_killed_between_the_renames_gets_the_previous_folder_back(
        tmp_path: Path) -> None:
    target = tmp_path / "plan"
    _write(OutputFolder(target, "plan"), {"stock.csv": "first"})
    _killed(KILL_BETWEEN_RENAMES, target)
    assert not target.exists()
    assert (tmp_path / ".plan.reserve-opt-replaced" / "stock.csv").read_text() == "first"
    # the next writer restores it (its own rules apply to it), then replaces it
    _write(OutputFolder(target, "plan"), {"stock.csv": "third"})
    assert (target / "stock.csv").read_text() == "third"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]


def test_a_run_killed_while_deleting_the_previous_folder_is_finished(tmp_path: Path) -> None:
    target = tmp_path / "plan"
    _write(OutputFolder(target, "plan"), {"stock.csv": "first"})
    doomed = tmp_path / ".plan.reserve-opt-deleting-0123abcd"
    doomed.mkdir()
    (doomed / "stock.csv").write_text("older")
    _write(OutputFolder(target, "plan"), {"stock.csv": "second"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]


# --------------------------------------------------------------------------- two writers

HOLD_LOCK = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_CREAT, 0o666)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def held_lock(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the lock of ``tmp_path/out`` until its stdin closes."""
    lock = tmp_path / ".out.reserve-opt-lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(lock)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    yield holder
    if holder.poll() is None:
        holder.communicate("")


def test_a_second_sweep_into_a_folder_being_written_is_refused(
        tmp_path: Path, held_lock: subprocess.Popen[str]) -> None:
    out = tmp_path / "out"
    refused(run_cli("sweep", str(TOY), "--grid", str(grid_file(tmp_path)), "--out", str(out),
                    "--serial"),
            f"--out {out}: another reserve-opt run is writing it now; wait for it to finish "
            "or give another folder")
    assert not out.exists()


def test_a_second_writer_waits_for_the_first(tmp_path: Path,
                                             held_lock: subprocess.Popen[str]) -> None:
    out = tmp_path / "out"
    waiting = threading.Event()
    errors: list[BaseException] = []

    def second() -> None:
        try:
            _write(OutputFolder(out, "plan", on_wait=waiting.set), {"stock.csv": "second"})
        except BaseException as err:  # reported by the test thread
            errors.append(err)

    writer = threading.Thread(target=second)
    writer.start()
    assert waiting.wait(timeout=120)  # it found the lock held and waits
    assert not out.exists()
    held_lock.communicate("")  # the first writer leaves
    writer.join()
    assert not errors
    assert (out / "stock.csv").read_text() == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # the lock file too is gone


# --------------------------------------------------------------------------- single files


def test_maps_replace_only_maps_reserve_opt_drew(tmp_path: Path) -> None:
    for name in ("m.png", "m.html"):
        out = tmp_path / name
        assert run_cli("map", str(TOY), "--out", str(out)).exit_code == 0
        again = run_cli("map", str(TOY), "--out", str(out))
        assert again.exit_code == 0, again.output
        user = tmp_path / f"user{out.suffix}"
        user.write_bytes(b"\x89PNG\r\n\x1a\n" if name.endswith("png") else b"<html></html>")
        user.chmod(0o600)
        before = snapshot(tmp_path)[user.name]
        refused(run_cli("map", str(TOY), "--out", str(user)),
                f"--out {user}: exists and was not written by reserve-opt; give a new file "
                "name (the file was left as it is)")
        assert snapshot(tmp_path)[user.name] == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.html", "m.png", "user.html",
                                                          "user.png"]
    assert b"tEXtSoftware\x00reserve-opt " in (tmp_path / "m.png").read_bytes()[:200]
    assert '<meta name="generator" content="reserve-opt ' in (tmp_path / "m.html").read_text()


def test_a_map_is_never_a_folder_or_inside_the_input(tmp_path: Path) -> None:
    folder = tmp_path / "dir.png"
    folder.mkdir()
    refused(run_cli("map", str(TOY), "--out", str(folder)),
            f"--out {folder}: is a folder; give a file name")
    inst = tmp_path / "inst"
    shutil.copytree(TOY, inst)
    refused(run_cli("map", str(inst), "--out", str(inst / "m.png")),
            f"--out {inst / 'm.png'}: is inside the input {inst}; write to another place so "
            "the input stays as it is")
    refused(run_cli("map", str(TOY), "--out", str(tmp_path / "no" / "m.png")),
            f"--out {tmp_path / 'no' / 'm.png'}: folder {tmp_path / 'no'} does not exist; "
            "create it first")


def test_route_map_refuses_a_users_file_and_a_place_inside_out(tmp_path: Path) -> None:
    user = tmp_path / "day1.png"
    user.write_text("not a map\n")
    refused(run_cli("route", str(TOY), "-s", "typhoon", "--map", str(user)),
            f"--map {user}: exists and was not written by reserve-opt; give a new file name "
            "(the file was left as it is)")
    assert user.read_text() == "not a map\n"
    out = tmp_path / "routes"
    refused(run_cli("route", str(TOY), "-s", "typhoon", "--out", str(out), "--map",
                    str(out / "m.png")),
            f"--map {out / 'm.png'}: is inside --out {out}, which is written as a whole; put "
            "the map beside it")


def test_variant_apply_never_replaces_a_json_file(tmp_path: Path) -> None:
    doc = tmp_path / "patched.json"
    assert run_cli("variant", "apply", str(TOY), "-v", str(VARIANT), "--out",
                   str(doc)).exit_code == 0
    text = doc.read_text()
    refused(run_cli("variant", "apply", str(TOY), "-v", str(VARIANT), "--out", str(doc),
                    "--force"),
            f"--out {doc}: exists; give a new file name (reserve-opt never replaces a .json "
            "file)")
    assert doc.read_text() == text


def test_an_output_file_is_written_atomically_with_a_sensible_mode(tmp_path: Path,
                                                                  umask: int) -> None:
    out = tmp_path / "m.html"
    with OutputFile(out).write() as tmp:
        tmp.write_text('<meta name="generator" content="reserve-opt test">')
        assert not out.exists()
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.html"]


# --------------------------------------------------------------------------- library


def test_write_folder_follows_the_same_rules(tmp_path: Path) -> None:
    inst = load_instance(TOY)
    out = user_folder(tmp_path / "mine")
    before = snapshot(out)
    with pytest.raises(InputError) as err:
        write_folder(inst, out, overwrite=True)
    assert err.value.problems == (f"{out}: is not empty and was not written by reserve-opt "
                                  "(keep.txt, private.csv, sub); give a new or empty folder",)
    assert snapshot(out) == before
    target = tmp_path / "inst"
    write_folder(inst, target)
    write_folder(inst, target)  # its own earlier output
    assert load_instance(target) == inst
    (target / "notes.txt").write_text("x")
    with pytest.raises(InputError) as err:
        write_folder(inst, target)
    assert err.value.problems == (f"{target}: notes.txt was not written by reserve-opt; move "
                                  "it out, or overwrite=True to replace only reserve-opt's "
                                  "files and keep it",)
    write_folder(inst, target, overwrite=True)
    assert (target / "notes.txt").read_text() == "x"


def test_a_rebuilt_bundled_instance_gets_no_marker(tmp_path: Path) -> None:
    from reserve_opt.io import refresh_folder

    folder = tmp_path / "inst"
    folder.mkdir()
    (folder / "build.py").write_text("# the project's script\n")
    refresh_folder(load_instance(TOY), folder, "# readme\n")
    assert MARKER not in {p.name for p in folder.iterdir()}
    assert (folder / "build.py").read_text() == "# the project's script\n"


def test_a_symbolic_link_loop_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    refused(run_cli("plan", str(TOY), "--out", str(tmp_path / "a")),
            f"--out {tmp_path / 'a'}: is a symbolic link that leads nowhere (a loop); replace "
            "it")
    refused(run_cli("plan", str(tmp_path / "b"), "--out", str(tmp_path / "out")),
            f"{tmp_path / 'b'}: is a symbolic link that leads nowhere (a loop); replace it")

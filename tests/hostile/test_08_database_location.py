"""Item 8: a repository could point the log anywhere. `.scout/config.toml` with an absolute
or `../` path created folders and a database outside the workspace, and turned an empty file
into a database. Paths from a repository's config stay inside it unless the user's own config,
the environment or a flag says otherwise, and the chosen database is always named."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .conftest import QUESTION, Home


def _config(ws: Path, text: str) -> None:
    (ws / ".scout").mkdir(exist_ok=True)
    (ws / ".scout" / "config.toml").write_text(text)


@pytest.mark.parametrize("where", ["absolute", "parent", "symlinked"])
def test_a_repository_cannot_put_the_log_outside_itself(home: Home, ws: Path, tmp_path: Path,
                                                         where: str) -> None:
    outside = tmp_path / "elsewhere"
    if where == "absolute":
        target = str(outside / "deep" / "scout.db")
    elif where == "parent":
        target = "../elsewhere/deep/scout.db"
    else:  # a symlink inside the repository that leads out of it
        outside.mkdir()
        os.symlink(outside, ws / "inside")
        target = "inside/deep/scout.db"
    _config(ws, f'database = "{target}"\n')
    home.env.pop("SCOUT_DB")
    run = home.run("query", QUESTION, "--root", str(ws), "--scorer", "heuristic")
    assert run.returncode == 2 and run.stdout == ""
    assert "outside the workspace" in run.stderr and "--db" in run.stderr
    assert not (outside / "deep").exists()  # no folder, no database


@pytest.mark.parametrize("kind", ["empty file", "source file", "fifo"])
def test_a_repository_cannot_turn_its_own_files_into_a_database(home: Home, ws: Path,
                                                                 kind: str) -> None:
    victim = ws / "notes.txt"
    if kind == "empty file":
        victim.write_bytes(b"")
    elif kind == "source file":
        victim = ws / "src" / "LLM" / "Types.hs"
    else:
        os.mkfifo(victim)
    before = victim.read_bytes() if kind != "fifo" else None
    _config(ws, f'database = "{victim.relative_to(ws).as_posix()}"\n')
    home.env.pop("SCOUT_DB")
    run = home.run("query", QUESTION, "--root", str(ws), "--scorer", "heuristic", timeout=60)
    run.no_traceback()
    if kind == "source file":  # not SQLite: the answer stands, the log refuses, says why
        assert run.returncode == 0
        assert "not an SQLite database" in run.stderr
    else:
        assert run.returncode == 2
        assert "not a scout database" in run.stderr
    if before is not None:
        assert victim.read_bytes() == before
    assert not list(victim.parent.glob(victim.name + "-*"))  # no -wal, -shm, -journal


def test_a_database_inside_the_repository_is_used_and_named(home: Home, ws: Path) -> None:
    _config(ws, 'database = ".scout/scout.db"\n')
    home.env.pop("SCOUT_DB")
    run = home.run("query", QUESTION, "--root", str(ws), "--scorer", "heuristic")
    assert run.returncode == 0, run.stderr
    assert f"logged as query 1 in {ws / '.scout' / 'scout.db'}" in run.stdout
    run = home.run("query", QUESTION, "--root", str(ws), "--scorer", "heuristic", "--json")
    assert run.returncode == 0, run.stderr
    json.loads(run.stdout)
    assert f"scout: note: logged as query 2 in {ws / '.scout' / 'scout.db'}" in run.stderr


def test_the_users_own_choice_may_point_anywhere(home: Home, ws: Path, tmp_path: Path) -> None:
    _config(ws, 'database = "/somewhere/else.db"\n')  # overridden by the flag: not an error
    chosen = tmp_path / "mine" / "scout.db"
    run = home.run("query", QUESTION, "--root", str(ws), "--scorer", "heuristic",
                   "--db", str(chosen))
    assert run.returncode == 0, run.stderr
    assert chosen.is_file() and f"in {chosen}" in run.stdout

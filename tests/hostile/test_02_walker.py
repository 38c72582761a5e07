"""Item 2: one symlink loop crashed everything (ELOOP traceback) and a FIFO named .gitignore
hung indexing for ever. The walker looks at hostile trees without following or blocking on
them, and says what it could not read."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .conftest import QUESTION, Home


def _skipped(run) -> dict[str, str]:
    data = json.loads(run.stdout)
    return {s["path"]: s["reason"] for s in data["skipped"]}


def test_a_symlink_loop_is_walked_past(home: Home, ws: Path) -> None:
    os.symlink("self.txt", ws / "self.txt")  # the probe: not even a Haskell name
    os.symlink("Loop.hs", ws / "src" / "Loop.hs")
    os.symlink("..", ws / "src" / "up")  # a directory loop: never entered
    run = home.run("index", "--root", str(ws), "--json", "--no-cache", timeout=120)
    assert run.returncode == 0, run.stderr
    run.no_traceback()
    data = json.loads(run.stdout)
    assert data["files"] == 7
    assert "symbolic links" in _skipped(run)["src/Loop.hs"]
    query = home.run("query", QUESTION, "--root", str(ws), "--scorer", "heuristic", "--json")
    assert query.returncode == 0, query.stderr
    assert json.loads(query.stdout)["nodes"]
    assert "src/Loop.hs" in {s["path"] for s in json.loads(query.stdout)["coverage"]["skipped"]}


def test_fifos_never_hang_indexing(home: Home, ws: Path) -> None:
    os.mkfifo(ws / ".gitignore")  # the probe: a read would block for ever
    os.mkfifo(ws / "src" / "Pipe.hs")
    run = home.run("index", "--root", str(ws), "--json", "--no-cache", timeout=60)
    assert run.returncode == 0, run.stderr
    skipped = _skipped(run)
    assert "not a regular file" in skipped[".gitignore"]
    assert "ignore rules were not applied" in skipped[".gitignore"]
    assert "not a regular file" in skipped["src/Pipe.hs"]
    assert json.loads(run.stdout)["files"] == 7


def test_a_gitignore_that_is_a_symlink_loop_or_huge_is_reported(home: Home, ws: Path) -> None:
    os.symlink(".gitignore", ws / ".gitignore")
    with (ws / "src" / ".gitignore").open("wb") as fh:
        fh.truncate(64 * 1024 * 1024)  # sparse: 64 MB of nothing
    run = home.run("index", "--root", str(ws), "--json", "--no-cache", timeout=60)
    assert run.returncode == 0, run.stderr
    skipped = _skipped(run)
    assert "symbolic links" in skipped[".gitignore"]
    assert "larger than" in skipped["src/.gitignore"]


def _deep(root: Path, levels: int) -> str:
    """Directories nested beyond PATH_MAX (made relative to descriptors, as only that works)."""
    name = "d" * 200
    fd = os.open(root, os.O_RDONLY)
    try:
        for _ in range(levels):
            os.mkdir(name, dir_fd=fd)
            inner = os.open(name, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
        leaf = os.open("Deep.hs", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(leaf, b"module Deep where\n")
        os.close(leaf)
    finally:
        os.close(fd)
    return name


def test_directories_deeper_than_path_max_are_named_with_the_reason(home: Home,
                                                                     ws: Path) -> None:
    name = _deep(ws / "src", 24)  # 24 x 201 characters > PATH_MAX (4096)
    run = home.run("index", "--root", str(ws), "--json", "--no-cache", timeout=60)
    assert run.returncode == 0, run.stderr
    deep = [(path, reason) for path, reason in _skipped(run).items() if name in path]
    assert deep and "too long" in deep[0][1].lower(), _skipped(run)
    text = home.run("query", QUESTION, "--root", str(ws), "--scorer", "heuristic")
    assert text.returncode == 0, text.stderr
    assert "file name too long" in text.stdout.lower()


def test_a_file_name_that_is_not_utf8_is_skipped_and_named(home: Home, ws: Path) -> None:
    (ws / "src").joinpath(os.fsdecode(b"Caf\xe9.hs")).write_text("module Cafe where\n")
    run = home.run("index", "--root", str(ws), "--json", "--no-cache")
    assert run.returncode == 0, run.stderr
    assert _skipped(run)["src/Caf\ufffd.hs"] == "the file name is not UTF-8"

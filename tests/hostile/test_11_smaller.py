"""Item 11, the smaller ones: a damaged inner index-cache entry, cache temporary files on a
full disk, `--db /dev/null`, exporting a read-only database, a locked database holding the
answer back, `--json --scorer ollama` exiting 0 with nothing on stderr when no node was scored.
(A truncated database: test_03; `--limit 99999999999999999999`: test_01.)"""

from __future__ import annotations

import json
import os
import pickle
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scout.haskell.index import WorkspaceIndex

from .conftest import EXAMPLE, QUESTION, Home, refused_url


def _answer(home: Home, ws: Path, cache: Path, *extra: str):
    run = home.run("query", "--target", "LLMKind", "--change", "add_constructor", "--root",
                   str(ws), "--scorer", "heuristic", "--json", "--no-log", "--budget", "high",
                   "--cache-dir", str(cache), *extra)
    assert run.returncode == 0, run.stderr
    run.no_traceback()
    return [(n["location"], n["rubric"]) for n in json.loads(run.stdout)["nodes"]]


@pytest.mark.parametrize("part", ["body", "summary"])
def test_a_damaged_inner_cache_entry_is_rebuilt(home: Home, ws: Path, part: str) -> None:
    cache = home.base / "index-cache"
    truth = _answer(home, ws, cache)  # builds and writes the cache
    [cache_file] = list(cache.glob("*.pickle"))
    fmt, entries = pickle.loads(cache_file.read_bytes())
    entry = entries["src/LLM/Pricing.hs"]
    if part == "body":
        entry.body = entry.body[: len(entry.body) // 2]  # torn inside; the file still loads
    else:
        entry.summary = b"\x80\x05garbage"
    cache_file.write_bytes(pickle.dumps((fmt, entries), protocol=pickle.HIGHEST_PROTOCOL))
    for _ in range(2):  # not only once: every later query works too
        assert _answer(home, ws, cache) == truth


def test_cache_temp_files_do_not_leak_on_a_full_disk(home: Home, ws: Path) -> None:
    cache = home.base / "index-cache"

    def small_disk() -> None:  # every write past 64 KB fails (EFBIG), as on a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    run = home.run("index", "--root", str(ws), "--cache-dir", str(cache), preexec=small_disk)
    assert run.returncode == 0, run.stderr
    run.no_traceback()
    assert cache.is_dir() and list(cache.iterdir()) == []  # no *.tmp left behind


def test_the_cache_file_is_complete_or_absent_after_a_failed_write(tmp_path: Path) -> None:
    index = WorkspaceIndex.build(EXAMPLE, use_cache=False)
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("")
    index.save_cache(blocked / "x.pickle")  # cannot even create the folder: no error
    assert blocked.read_text() == ""


@pytest.mark.parametrize("kind", ["/dev/null", "fifo", "directory"])
def test_a_database_that_is_not_a_file_is_refused_and_left_alone(home: Home, tmp_path: Path,
                                                                  kind: str) -> None:
    if kind == "/dev/null":
        target = Path("/dev/null")
        journal_existed = Path("/dev/null-journal").exists()
    elif kind == "fifo":
        target = tmp_path / "db.fifo"
        os.mkfifo(target)
    else:
        target = tmp_path / "db.dir"
        target.mkdir()
    run = home.run("query", QUESTION, "--root", str(EXAMPLE), "--scorer", "heuristic",
                   "--json", "--budget", "low", "--db", str(target), timeout=60)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["nodes"]
    assert "not a database file" in run.stderr and "not logged" in run.stderr
    if kind == "/dev/null":
        assert journal_existed or not Path("/dev/null-journal").exists()
    else:
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("db.")) == \
            [target.name]


def _read_only(db: Path) -> list[str] | None:
    """A command prefix under which ``db``'s folder is read-only for real: permissions when
    unprivileged; as root (permissions do not bind root), a private mount namespace with a
    read-only bind mount. None when neither is possible here."""
    folder = db.parent
    if os.geteuid() != 0:
        db.chmod(0o444)
        folder.chmod(0o555)
        return []
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    probe = subprocess.run([unshare, "-m", "sh", "-c",
                            f'mount --bind "{folder}" "{folder}" && '
                            f'mount -o remount,bind,ro "{folder}" && ! touch "{folder}/x"'],
                           capture_output=True)
    if probe.returncode != 0:
        return None
    return [unshare, "-m", "sh", "-c",
            f'mount --bind "{folder}" "{folder}" && mount -o remount,bind,ro "{folder}" && '
            'exec "$@"', "sh"]


def test_export_reads_a_read_only_database(home: Home, tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "scout.db"
    run = home.run("query", QUESTION, "--root", str(EXAMPLE), "--scorer", "heuristic",
                   "--budget", "low", "--db", str(db))
    assert run.returncode == 0, run.stderr
    before = sorted(p.name for p in folder.iterdir())
    with sqlite3.connect(db) as conn:  # the WAL is folded in, as after any clean close
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    prefix = _read_only(db)
    if prefix is None:
        pytest.skip("no way to make a folder read-only here (root without mount namespaces)")
    out = tmp_path / "dataset"
    try:
        proc = subprocess.run([*prefix, sys.executable, "-m", "scout.export.cli", "--format",
                               "json", "--out", str(out), "--db", str(db)],
                              capture_output=True, text=True, env=home.env, timeout=120)
    finally:
        folder.chmod(0o755)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / "train.json").read_text() if (out / "train.json").exists()
                      else (out / "train.jsonl").read_text().splitlines()[0])
    assert sorted(p.name for p in folder.iterdir()) == before  # nothing created beside it


def test_a_locked_database_never_holds_the_answer_back(home: Home) -> None:
    db = home.base / "locked.db"
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("PRAGMA journal_mode = WAL")
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        proc = home.popen("query", QUESTION, "--root", str(EXAMPLE), "--scorer", "heuristic",
                          "--budget", "low", "--db", str(db), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
        started = time.monotonic()
        first = proc.stdout.readline()  # type: ignore[union-attr]
        answered = time.monotonic() - started
        out = proc.stdout.read()  # type: ignore[union-attr]  # (small: no pipe can fill)
        err = proc.stderr.read()  # type: ignore[union-attr]
        proc.wait(timeout=120)
        finished = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert proc.returncode == 0
    assert first.strip() == QUESTION and "risk 5" in out
    assert "stayed locked" in err and "not logged" in err
    # the answer was on screen while the log was still waiting for the lock
    assert finished - answered > 3, (answered, finished)


def test_an_ollama_answer_with_no_node_scored_is_not_a_success(home: Home) -> None:
    run = home.run("query", QUESTION, "--root", str(EXAMPLE), "--scorer", "ollama", "--json",
                   "--budget", "low", "--no-log", "--ollama-host", refused_url())
    assert run.returncode == 4
    data = json.loads(run.stdout)  # still exactly one object
    assert all(n["rubric"] is None and "unreachable" in n["error"] for n in data["nodes"])
    assert "10 of 10 node(s) have no score" in run.stderr and "unreachable" in run.stderr


def test_a_change_that_cannot_apply_to_the_target_is_refused(home: Home) -> None:
    # the oracle refuses `--target costOf --change add_constructor` (costOf is a function);
    # the query answered it anyway, with places that cannot break that way
    run = home.run("query", "--target", "costOf", "--change", "add_constructor", "--root",
                   str(EXAMPLE), "--scorer", "heuristic", "--no-log")
    assert run.returncode == 2 and run.stdout == ""
    assert "costOf is a function" in run.stderr and "add_constructor" in run.stderr
    run = home.run("query", "--target", "costOf", "--change", "add_constructor", "--root",
                   str(EXAMPLE), "--scorer", "heuristic", "--no-log", "--json")
    assert run.returncode == 2
    ok = home.run("query", "--target", "costOf", "--change", "change_arity", "--root",
                  str(EXAMPLE), "--scorer", "heuristic", "--no-log")
    assert ok.returncode == 0, ok.stderr

"""Item 3: logging failures lost the answer, though the answer must stand when logging fails:
a non-UTF-8 byte in the question, an absurd budget, a database with a damaged b-tree page, a
database with user_version -1. The answer comes first; what happened to the log is one line."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from .conftest import EXAMPLE, QUESTION, Home, checkpoint, rows


def _answer_stands(run, *, logged: bool) -> None:
    assert run.returncode == 0, run.stderr
    run.no_traceback()
    data = json.loads(run.stdout)
    assert len(data["nodes"]) == 10
    assert ("not logged" in run.stderr) is not logged, run.stderr


def test_a_question_with_a_byte_that_is_not_utf8_is_answered_and_logged(home: Home) -> None:
    run = home.run(b"query", b"add a variant to LLMKind \xff", b"--root", str(EXAMPLE).encode(),
                   b"--scorer", b"heuristic", b"--json", b"--budget", b"low")
    _answer_stands(run, logged=True)
    assert json.loads(run.stdout)["query"]["query"] == "add a variant to LLMKind \ufffd"
    assert rows(home.db, "SELECT text FROM queries") == [("add a variant to LLMKind \ufffd",)]


@pytest.mark.parametrize("budget", ["9223372036854775808", "-1", "0", "1e9", "\u0661\u0662"])
def test_an_absurd_budget_is_one_clear_line(home: Home, budget: str) -> None:
    run = home.run("query", QUESTION, "--root", str(EXAMPLE), "--budget", budget,
                   "--scorer", "heuristic")
    assert run.returncode == 2
    run.no_traceback()
    assert run.stdout == ""
    assert run.stderr.count("\n") == 1 and "budget" in run.stderr


def _logged_db(home: Home) -> Path:
    run = home.run("query", QUESTION, "--root", str(EXAMPLE), "--scorer", "heuristic",
                   "--budget", "low")
    assert run.returncode == 0, run.stderr
    checkpoint(home.db)
    return home.db


def _damage_page(db: Path, table: str) -> None:
    with sqlite3.connect(db) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?",
                            (table,)).fetchone()[0]
    conn.close()
    with db.open("r+b") as fh:  # the b-tree page header: its type byte and cell counts
        fh.seek((root - 1) * page_size)
        fh.write(b"\xab" * 16)


def test_a_damaged_btree_page_costs_the_log_not_the_answer(home: Home) -> None:
    db = _logged_db(home)
    _damage_page(db, "nodes")
    before = db.read_bytes()
    run = home.run("query", QUESTION, "--root", str(EXAMPLE), "--scorer", "heuristic",
                   "--json", "--budget", "low")
    _answer_stands(run, logged=False)
    assert "is damaged" in run.stderr and "move it aside" in run.stderr
    assert "permissions" not in run.stderr
    assert db.read_bytes() == before  # nothing written into a damaged file


@pytest.mark.parametrize("version", [-1, 99, 2**31 - 1])
def test_a_foreign_schema_version_costs_the_log_not_the_answer(home: Home,
                                                                version: int) -> None:
    db = _logged_db(home)
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {version}")
    conn.close()
    run = home.run("query", QUESTION, "--root", str(EXAMPLE), "--scorer", "heuristic",
                   "--json", "--budget", "low")
    _answer_stands(run, logged=False)
    assert f"schema version {version}" in run.stderr
    assert rows(db, "PRAGMA user_version") == [(version,)]  # left as it was


def test_a_truncated_database_is_called_damaged_not_a_permission_problem(home: Home) -> None:
    db = _logged_db(home)
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 3])
    run = home.run("query", QUESTION, "--root", str(EXAMPLE), "--scorer", "heuristic",
                   "--json", "--budget", "low")
    _answer_stands(run, logged=False)
    assert "is damaged" in run.stderr and "permissions" not in run.stderr

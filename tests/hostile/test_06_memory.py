"""Item 6: memory. Oversized files were read whole before the size check (a 1 GB sparse `.hs`:
1.08 GB RSS); model replies were stored without a cap (a 30 MB reply grew the database by
94 MB for a budget-3 query). Files are size-checked before reading; a model's text answer is
capped where it is parsed, and what the store keeps of any exchange is capped."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from scoring_fakes import FakeOllama, Reply, ollama_generate_body

from scout.functiongemma import render_call

from .conftest import QUESTION, Home, rows


def test_a_huge_sparse_file_is_not_read(home: Home, ws: Path) -> None:
    with (ws / "src" / "Huge.hs").open("wb") as fh:
        fh.truncate(1024 ** 3)  # 1 GB of holes: costs no disk, only a reader's memory
    # Measured by a small intermediate process: a child forked from this (large) test process
    # would count the parent's pages in its own peak before it execs.
    measure = ("import os, subprocess, sys\n"
               "p = subprocess.Popen(sys.argv[1:], stdout=open(os.environ['OUT'], 'wb'))\n"
               "_, status, usage = os.wait4(p.pid, 0)\n"
               "print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)\n")
    report = subprocess.run([sys.executable, "-c", measure, sys.executable, "-m", "scout.cli",
                             "index", "--root", str(ws), "--json", "--no-cache"],
                            env={**home.env, "OUT": str(home.base / "index.json")},
                            capture_output=True, text=True, timeout=300)
    code, peak_kb = map(int, report.stdout.split())
    assert code == 0, report.stderr
    peak_mb = peak_kb / 1024
    assert peak_mb < 400, f"peak RSS {peak_mb:.0f} MB for a 1 GB file that is skipped"
    out = (home.base / "index.json").read_text()
    skipped = {s["path"]: s["reason"] for s in json.loads(out)["skipped"]}
    assert "larger than" in skipped["src/Huge.hs"]


def _db_megabytes(db: Path) -> float:
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*")) / 1e6


def test_a_huge_reply_is_capped_in_the_store_and_in_the_answer(home: Home, ws: Path) -> None:
    huge_reasoning = "x" * 8_000_000
    server = FakeOllama(lambda body: Reply(body=ollama_generate_body(
        "functiongemma", render_call("score_node", {
            "relevance": 5, "risk": 5, "confidence": 5, "reasoning": huge_reasoning}))))
    try:
        run = home.run("query", QUESTION, "--root", str(ws), "--budget", "3",
                       "--scorer", "ollama", "--ollama-host", server.url)
    finally:
        server.close()
    assert run.returncode == 4, run.stderr  # no node has a score: the answers were refused
    assert len(run.stdout) < 20_000  # the reply never reached the terminal
    assert "at most 4000" in run.stdout  # why each node has no score
    assert _db_megabytes(home.db) < 2, _db_megabytes(home.db)
    responses = rows(home.db, "SELECT response FROM recordings")
    assert len(responses) == 3
    for (response,) in responses:
        kept = json.loads(response)
        assert kept["truncated"] is True and kept["characters"] > 8_000_000
        assert len(response) < 66_000  # 64 KB kept, and what says how much was cut


def test_a_huge_reply_that_is_not_a_call_is_capped_too(home: Home, ws: Path) -> None:
    server = FakeOllama(lambda body: "<start_function_call>" * 500_000)
    try:
        run = home.run("query", QUESTION, "--root", str(ws), "--budget", "3", "--json",
                       "--scorer", "ollama", "--ollama-host", server.url)
    finally:
        server.close()
    assert run.returncode == 4, run.stderr
    assert len(run.stdout) < 50_000
    assert all("no function call" in n["error"] for n in json.loads(run.stdout)["nodes"])
    assert _db_megabytes(home.db) < 2, _db_megabytes(home.db)

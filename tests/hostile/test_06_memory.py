"""Item 6: memory. Oversized files were read whole before the size check (a 1 GB sparse `.hs`:
1.08 GB RSS); model replies were stored without a cap (a 30 MB reply grew the database by
94 MB for a budget-3 query). Files are size-checked before reading; a model's text answer is
capped where it is parsed, and what the store keeps of any exchange is capped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from scoring_fakes import FakeOllama, Reply, ollama_generate_body

from scout.functiongemma import render_call

from .conftest import QUESTION, Home, rows


def test_a_huge_sparse_file_is_not_read(home: Home, ws: Path) -> None:
    with (ws / "src" / "Huge.hs").open("wb") as fh:
        fh.truncate(1024 ** 3)  # 1 GB of holes: costs no disk, only a reader's memory
    proc = subprocess.Popen([sys.executable, "-m", "scout.cli", "index", "--root", str(ws),
                             "--json", "--no-cache"], env=home.env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.stdout.read()  # type: ignore[union-attr]
    proc.stderr.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(proc.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    peak_mb = usage.ru_maxrss / 1024
    assert peak_mb < 400, f"peak RSS {peak_mb:.0f} MB for a 1 GB file that is skipped"
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

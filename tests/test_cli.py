"""`scout index` and `scout query` as other programs call them: exact JSON shapes, exit codes,
errors on stderr."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "llm-service"


def scout(*args: str, env_db: Path | None = None, cwd: Path | None = None):
    import os

    env = dict(os.environ)
    env.pop("SCOUT_DB", None)
    env["OLLAMA_HOST"] = "http://127.0.0.1:9"  # nothing listens: the hybrid must fall back
    if env_db is not None:
        env["SCOUT_DB"] = str(env_db)
    return subprocess.run([sys.executable, "-m", "scout.cli", *args], capture_output=True,
                          text=True, timeout=120, env=env, cwd=cwd)


def test_index_json_has_the_contract_counts():
    proc = scout("index", "--root", str(EXAMPLE), "--json", "--no-cache")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert {"files", "files_with_errors", "definitions", "references", "match_sites",
            "seconds"} <= set(data)
    assert data["files"] == 7 and data["files_with_errors"] == 0
    assert data["definitions"] > 100 and data["match_sites"] > 30


def test_query_json_is_exactly_one_object_in_the_contract_shape(tmp_path):
    db = tmp_path / "scout.db"
    proc = scout("query", "What breaks if I add a variant to LLMKind?", "--root", str(EXAMPLE),
                 "--json", "--budget", "low", "--no-cache", env_db=db)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)  # exactly one JSON document on stdout
    assert set(data) == {"query", "nodes", "coverage"}
    assert set(data["query"]) == {"query", "tags", "target", "change", "budget"}
    assert data["query"]["tags"] == ["Exhaustive", "PatternMatch"]
    assert data["query"]["change"] == "add_constructor" and data["query"]["budget"] == 10
    assert set(data["coverage"]) == {"files_indexed", "files_with_errors", "nodes_found",
                                     "nodes_kept", "skipped"}
    assert data["coverage"]["skipped"] == []
    assert data["coverage"]["nodes_kept"] == len(data["nodes"]) == 10
    for node in data["nodes"]:
        assert {"location", "hover", "snippet", "rubric", "scorer"} <= set(node)
        path, line = node["location"].rsplit(":", 1)
        assert (EXAMPLE / path).is_file() and int(line) >= 1
        assert set(node["rubric"]) == {"relevance", "risk", "confidence", "reasoning"}
    keys = [(-n["rubric"]["risk"], -n["rubric"]["relevance"]) for n in data["nodes"]]
    assert keys == sorted(keys)  # risk, then relevance
    # no Ollama here: the hybrid scorer fell back, said so on stderr, and recorded why
    assert all(n.get("fallback_reason") for n in data["nodes"])
    assert "heuristics answered" in proc.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from queries").fetchone()[0] == 1


def test_structured_question_and_heuristic_scorer(tmp_path):
    proc = scout("query", "--target", "Config", "--change", "add_field", "--tags",
                 "datatype", "--root", str(EXAMPLE), "--json", "--scorer", "heuristic",
                 "--no-log")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["query"]["target"] == "LLM.Config.Config"
    assert "DataType" in data["query"]["tags"]
    assert {n["scorer"] for n in data["nodes"]} == {"heuristic"}
    assert not proc.stderr


def test_readable_report_by_default(tmp_path):
    proc = scout("query", "remove the Opus constructor", "--root", str(EXAMPLE), "--scorer",
                 "heuristic", "--no-log")
    assert proc.returncode == 0, proc.stderr
    assert "risk 5 · breaks" in proc.stdout and "src/LLM/Router.hs:60" in proc.stdout
    assert "coverage:" in proc.stdout


def test_unknown_symbol_is_a_clear_error_on_stderr():
    proc = scout("query", "What breaks if I add a variant to LLMKnd?", "--root", str(EXAMPLE),
                 "--scorer", "heuristic", "--no-log")
    assert proc.returncode == 2 and proc.stdout == ""
    assert "LLMKnd" in proc.stderr and "LLMKind" in proc.stderr  # suggests the close name


def test_unreadable_root_is_a_clear_error(tmp_path):
    proc = scout("query", "add a variant to X", "--root", str(tmp_path / "missing"),
                 "--no-log")
    assert proc.returncode == 2 and "does not exist" in proc.stderr


def test_a_locked_database_still_answers(tmp_path):
    db = tmp_path / "locked.db"
    holder = sqlite3.connect(db)
    holder.execute("create table t(x)")
    holder.execute("begin exclusive")
    try:
        proc = scout("query", "--target", "LLMKind", "--change", "add_constructor", "--root",
                     str(EXAMPLE), "--json", "--scorer", "heuristic", "--db", str(db))
    finally:
        holder.rollback()
        holder.close()
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["nodes"]
    assert "not logged" in proc.stderr


def test_scout_export_and_label_share_the_store(tmp_path, monkeypatch):
    db = tmp_path / "scout.db"
    assert scout("query", "--target", "LLMKind", "--change", "add_constructor", "--root",
                 str(EXAMPLE), "--scorer", "heuristic", "--db", str(db),
                 "--budget", "5").returncode == 0
    out = tmp_path / "dataset"
    proc = scout("export", "--format", "functiongemma", "--out", str(out), "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    assert (out / "train.jsonl").is_file() and (out / "README.md").is_file()
    import os

    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    env_without_key = {k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"}
    proc = subprocess.run([sys.executable, "-m", "scout.cli", "label", "--db", str(db)],
                          capture_output=True, text=True, timeout=60, env=env_without_key)
    assert proc.returncode == 2 and "ANTHROPIC_API_KEY" in proc.stderr

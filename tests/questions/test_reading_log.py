"""How a question was understood is logged with the query (schema version 3) and exported as
``parse_question`` examples that the task loader and the FunctionGemma renderer handle like
the other tasks."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from suite import WORKSPACES

from scout.explore.model import ChangeKind
from scout.export.cli import main as export_main
from scout.functiongemma import parse_task_output, render_example, render_prompt, to_messages
from scout.scoring.heuristic import HeuristicScorer
from scout.session import ScoutSession
from scout.settings import Settings
from scout.store import Store
from scout.store.schema import SCHEMA_V2, SCHEMA_VERSION
from scout.tasks import TaskOutputError, available_tasks, load_task, validate_output

SHOP = WORKSPACES["shop"]
ASKED = ["add ctor Toys to  Category", "remove the Games constructor from Category",
         "what if quantity were a Natural", "what if add took a quantity as well"]


@pytest.fixture
def logged(tmp_path: Path, workspace_index) -> Path:
    db = tmp_path / "scout.db"
    session = ScoutSession(SHOP, Settings(db=db, scorer="heuristic"),
                           index=workspace_index("shop"), scorers=(HeuristicScorer(), None))
    try:
        for text in [*ASKED, {"target": "Priority", "change": "add_constructor"}]:
            assert session.ask(text, budget=3).wait_logged(timeout=30).query_id is not None
    finally:
        session.close()
    return db


def test_the_reading_is_logged_with_the_query(logged: Path) -> None:
    with Store.open(logged, environ={}) as store:
        rows = store.rows("SELECT text, asked, reading, target, target_module, change "
                          "FROM queries ORDER BY id")
    assert [r[1] for r in rows[:4]] == ASKED  # as written, spaces and all
    assert rows[0][0] == "add ctor Toys to Category"
    first = json.loads(rows[0][2])
    assert first["method"] == "text+lexicon" and first["kind"] == "data"
    assert first["new_name"] == "Toys" and "asked" not in first
    assert "Shop.Types.Category: data" in first["lexicon"]
    assert (rows[1][3], rows[1][4], rows[1][5]) == ("Games", "Shop.Types", "remove_constructor")
    structured = json.loads(rows[4][2])
    assert structured["method"] == "structured" and rows[4][1] == ""


def test_an_older_database_gains_the_reading_columns(tmp_path: Path) -> None:
    db = tmp_path / "v2.db"
    conn = sqlite3.connect(db)
    for statement in SCHEMA_V2.split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute("INSERT INTO codebases VALUES (1, 'shop', '/shop', NULL, NULL, 'x')")
    conn.execute("INSERT INTO queries (id, codebase_id, text, target, change, tags, budget, "
                 "workspace, created_at) VALUES (1, 1, 'add a variant to Priority', "
                 "'Priority', 'add_constructor', '[]', 20, '/shop', '2026-01-01T00:00:00Z')")
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()
    with Store.open(db, environ={}) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.rows("SELECT text, asked, reading FROM queries") == [
            ("add a variant to Priority", None, None)]


def test_parse_question_is_a_task_like_the_others() -> None:
    assert "parse_question" in available_tasks()
    task = load_task("parse_question")
    assert task.input_fields == ("question", "lexicon")
    assert set(task.properties["change"]["enum"]) == {k.value for k in ChangeKind}
    assert task.required == ("target", "change")
    good = {"target": "Shop.Types.Category", "change": "add_constructor", "subject": "Toys"}
    assert validate_output(task, good) == good
    with pytest.raises(TaskOutputError, match="must be one of"):
        validate_output(task, {"target": "X", "change": "add_variant"})
    inputs = {"question": "add ctor Toys to Category",
              "lexicon": "Toys: not defined\nShop.Types.Category: data"}
    text = render_example(task, inputs, good)
    prompt = render_prompt(task, inputs)
    assert text.startswith(prompt)
    assert parse_task_output(task, text[len(prompt):], inputs) == good
    assert to_messages(task, inputs, good)["tools"][0]["function"]["name"] == "parse_question"


@pytest.mark.parametrize("fmt", ["json", "functiongemma", "messages", "prompt-completion"])
def test_export_parse_question_examples(logged: Path, tmp_path: Path, fmt: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / fmt
    code = export_main(["--task", "parse_question", "--format", fmt, "--out", str(out),
                        "--db", str(logged), "--split", "100/0/0", "--quiet"])
    assert code == 0, capsys.readouterr().err
    lines = (out / ("train.json" if fmt == "json" else "train.jsonl")).read_text().splitlines()
    rows = json.loads("\n".join(lines)) if fmt == "json" else [json.loads(x) for x in lines]
    assert len(rows) == 4  # the structured question has no words of its own
    task = load_task("parse_question")
    if fmt == "json":
        assert rows[0]["question"] == "add ctor Toys to  Category"
        assert rows[0]["reading"] == {"target": "Shop.Types.Category",
                                      "change": "add_constructor", "subject": "Toys"}
        assert rows[1]["reading"]["target"] == "Shop.Types.Games"
        assert rows[3]["reading"] == {"target": "Shop.Cart.add", "change": "change_arity"}
    elif fmt == "functiongemma":
        inputs = {"question": "add ctor Toys to  Category",
                  "lexicon": "Toys: not defined\nShop.Types.Category: data"}
        assert rows[0]["text"] == render_example(task, inputs, {
            "target": "Shop.Types.Category", "change": "add_constructor", "subject": "Toys"})
        assert rows[0]["label_source"] == "heuristic" and rows[0]["split"] == "train"
    elif fmt == "prompt-completion":
        assert all(r["completion"].startswith("<start_function_call>call:parse_question{")
                   for r in rows)
    else:
        assert rows[0]["messages"][-1]["tool_calls"][0]["function"]["name"] == "parse_question"
    assert "parse_question" in (out / "README.md").read_text()


def test_node_filters_do_not_apply_to_questions(logged: Path, tmp_path: Path) -> None:
    code = export_main(["--task", "parse_question", "--format", "json", "--out",
                        str(tmp_path / "x"), "--db", str(logged), "--min-confidence", "3",
                        "--quiet"])
    assert code == 2

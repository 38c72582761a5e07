"""Splits without leakage, dedupe, filters, balancing, audit, errors, re-conversion."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from scout.explore.model import Tag
from scout.export.cli import main
from scout.export.select import normalise_query
from scout.scoring.model import Exchange, LabelSource, Scored
from scout.store import Store
from store.builders import SNIPPET, haiku, heuristic, make_exploration, make_node
from store.test_migration import make_v1_database

from .conftest import CODEBASES, NODES_PER_QUERY, QUESTIONS

SPLITS = ("train", "validation", "test")


def export(db: Path, out: Path, *extra: str, fmt: str = "messages") -> int:
    """Every label source's label as its own example unless a test picks by priority."""
    picks = any(flag in extra for flag in ("--priority", "--no-dedupe", "--all-sources"))
    return main(["--format", fmt, "--out", str(out), "--db", str(db), "--quiet",
                 *(() if picks else ("--all-sources",)), *extra])


def rows(out: Path) -> dict[str, list[dict[str, Any]]]:
    return {split: [json.loads(line) for line in (out / f"{split}.jsonl").read_text().splitlines()]
            for split in SPLITS}


def query_text(row: dict[str, Any]) -> str:
    return row["messages"][1]["content"].split("\n", 1)[0].removeprefix("query: ")


def many_queries(tmp_path: Path, n_queries: int = 60) -> Path:
    db = tmp_path / "many.db"
    with Store.open(db, environ={}) as store:
        for codebase in ("one", "two"):
            (tmp_path / codebase).mkdir(exist_ok=True)
            for q in range(n_queries // 2):
                nodes = 1 + q % 5  # groups of different sizes
                store.record(make_exploration(nodes, text=f"What breaks if I change T{q}?"),
                             [[heuristic()]] * nodes, root=tmp_path / codebase)
    return db


def test_query_grouping_never_splits_a_query_and_follows_the_ratios(tmp_path: Path) -> None:
    db = many_queries(tmp_path)
    out = tmp_path / "out"
    assert export(db, out, "--group-by", "query") == 0
    got = rows(out)
    owners: dict[tuple[str, str], set[str]] = {}
    for split, split_rows in got.items():
        for row in split_rows:
            assert row["split"] == split
            owners.setdefault((row["codebase"], query_text(row)), set()).add(split)
    assert all(len(splits) == 1 for splits in owners.values())
    total = sum(len(r) for r in got.values())
    assert total == sum(1 + q % 5 for q in range(30)) * 2
    shares = [len(got[s]) / total for s in SPLITS]
    assert abs(shares[0] - 0.8) < 0.05 and abs(shares[1] - 0.1) < 0.05

    again = tmp_path / "again"
    assert export(db, again, "--group-by", "query") == 0  # fixed seed: identical files
    for split in SPLITS:
        assert (out / f"{split}.jsonl").read_bytes() == (again / f"{split}.jsonl").read_bytes()


def test_codebase_grouping_and_holdout(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "by-codebase"
    assert export(db, out, "--group-by", "codebase") == 0
    placed = {split: {row["codebase"] for row in r} for split, r in rows(out).items()}
    assert not placed["train"] & placed["validation"]
    assert not placed["train"] & placed["test"]
    assert not placed["validation"] & placed["test"]
    assert all(placed[s] for s in SPLITS)  # 4 codebases: every split gets one

    held = tmp_path / "held"
    assert export(db, held, "--holdout", "gamma", "--split", "50/50/0") == 0
    got = rows(held)
    assert {row["codebase"] for row in got["test"]} == {"gamma"}
    assert len(got["test"]) == len(QUESTIONS) * NODES_PER_QUERY * 2
    assert "gamma" not in {row["codebase"] for s in ("train", "validation") for row in got[s]}
    assert "held-out codebases (the whole test split): gamma" in (held / "README.md").read_text()


def test_dedupe_keeps_the_latest_label(tmp_path: Path) -> None:
    db = tmp_path / "dup.db"
    with Store.open(db, environ={}) as store:
        first = make_exploration(3, text="What breaks if I add a variant to LLMKind?")
        store.record(first, [[heuristic(risk=2)]] * 3, root=tmp_path)
        again = make_exploration(3, text="  what breaks if I add a variant to LLMKind ")
        store.record(again, [[heuristic(risk=5)]] * 3, root=tmp_path)
    out = tmp_path / "out"
    assert export(db, out, fmt="json") == 0
    records = [r for s in SPLITS for r in json.loads((out / f"{s}.json").read_text())]
    assert len(records) == 3
    assert {r["rubric"]["risk"] for r in records} == {5}
    card = (out / "README.md").read_text()
    assert "3 removed (50.0%)" in card
    assert export(db, tmp_path / "all", "--no-dedupe", fmt="json") == 0
    assert sum(len(json.loads((tmp_path / "all" / f"{s}.json").read_text()))
               for s in SPLITS) == 6
    assert normalise_query(" What  BREAKS if?") == normalise_query("what breaks if")


def test_filters(db: Path, tmp_path: Path) -> None:
    def selected(*flags: str) -> list[dict[str, Any]]:
        out = tmp_path / f"f{len(list(tmp_path.iterdir()))}"
        assert export(db, out, *flags) == 0
        return [row for r in rows(out).values() for row in r]

    everything = selected()
    assert len(everything) == len(CODEBASES) * len(QUESTIONS) * NODES_PER_QUERY * 2
    assert {r["label_source"] for r in selected("--label-source", "HAIKU")} == {"haiku"}
    assert {r["scorer"] for r in selected("--scorer", "heuristic")} == {"heuristic"}
    assert {r["codebase"] for r in selected("--codebase", "alpha,beta")} == {"alpha", "beta"}
    tagged = selected("--tags", "constraint", "--tags", "function")
    assert {query_text(r) for r in tagged} == {QUESTIONS[2][0], QUESTIONS[3][0]}
    confident = selected("--min-confidence", "4")
    assert confident and all(
        r["messages"][2]["tool_calls"][0]["function"]["arguments"]["confidence"] >= 4
        for r in confident)
    assert len(confident) < len(everything)

    with sqlite3.connect(db) as conn:  # make half of the labels old
        conn.execute("UPDATE rubrics SET created_at = '2025-03-01T12:00:00Z' WHERE id % 2 = 0")
    old = selected("--until", "2025-03-01")
    assert len(old) == len(everything) // 2
    assert len(selected("--since", "2025-03-02")) == len(everything) // 2
    assert len(selected("--since", "2025-03-01T12:00:00Z", "--until",
                        "2025-03-01T12:00:00Z")) == len(everything) // 2


@pytest.mark.parametrize(("flags", "message"), [
    (["--label-source", "oracle"], "unknown label source 'oracle'"),
    (["--tags", "Exhaustiv"], "unknown tag 'Exhaustiv'"),
    (["--since", "yesterday"], "bad date 'yesterday'"),
    (["--since", "2026-02-01", "--until", "2026-01-01"], "the date range is empty"),
    (["--codebase", "omega"], "no codebase named ['omega']"),
    (["--scorer", "oracle"], "no labels from scorer ['oracle']"),
    (["--min-confidence", "9"], "--min-confidence must be 1..5"),
    (["--split", "80/10"], "bad --split '80/10'"),
    (["--split", "80/10/20"], "must add up to 100"),
    (["--holdout", "omega"], "no codebase named ['omega'] to hold out"),
    (["--balance-max", "3"], "--balance-max N needs --balance-tags"),
])
def test_bad_filters_exit_2_with_a_clear_message(db: Path, tmp_path: Path, flags: list[str],
                                                 message: str, capsys) -> None:
    assert export(db, tmp_path / "out", *flags) == 2
    assert message in capsys.readouterr().err.replace("\n", " ")


def test_empty_selection_and_missing_database(db: Path, tmp_path: Path, capsys) -> None:
    assert export(db, tmp_path / "out", "--label-source", "ghc") == 1
    err = capsys.readouterr().err.replace("\n", " ")
    assert "no examples to export" in err and "loosen the filters" in err
    assert not (tmp_path / "out" / "train.jsonl").exists()
    assert export(tmp_path / "nope.db", tmp_path / "out") == 3
    assert "no database at" in capsys.readouterr().err.replace("\n", " ")
    assert not (tmp_path / "nope.db").exists()  # exporting never creates a database


def test_tag_balancing(db: Path, tmp_path: Path) -> None:
    with Store.open(db, environ={}) as store:  # make DataType over-represented
        (tmp_path / "extra").mkdir()
        store.record(make_exploration(10, text="if I add a field to Settings",
                                      tags=(Tag.DATA_TYPE,)), [[heuristic()]] * 10,
                     root=tmp_path / "extra")
    out = tmp_path / "balanced"
    assert export(db, out, "--balance-tags") == 0
    per_tags = Counter(query_text(r) in (QUESTIONS[1][0], "if I add a field to Settings")
                       for r in (row for r in rows(out).values() for row in r))
    assert per_tags[True] == per_tags[False] / 3  # DataType now equals each other tag set
    assert export(db, tmp_path / "capped", "--balance-tags", "--balance-max", "5") == 0
    assert sum(len(r) for r in rows(tmp_path / "capped").values()) == 4 * 5


def test_audit_is_printed_and_in_the_card(tmp_path: Path, capsys) -> None:
    db = tmp_path / "audit.db"
    with Store.open(db, environ={}) as store:
        for q in range(40):
            word = f"Widget{q}"
            exploration = make_exploration(
                2, text=f"What breaks if I add a field to {word}?", tags=(Tag.DATA_TYPE,))
            # Node 0 mentions the question's type (risk 5); node 1 does not (risk 1): a pure
            # keyword shortcut predicts risk perfectly.
            exploration.nodes[0] = make_node(0, snippet=f"render :: {word} -> Text",
                                             hover=f"data {word}")
            exploration.nodes[1] = make_node(1, snippet="main = pure ()", hover="main :: IO ()")
            store.record(exploration, [[heuristic(risk=5)], [heuristic(risk=1)]], root=tmp_path)
    out = tmp_path / "out"
    assert export(db, out, "--audit") == 0
    printed = capsys.readouterr().out
    card = (out / "README.md").read_text()
    for text in (printed, card):
        assert "## Audit" in text and "duplicate rate: 0.0%" in text
        assert "| DataType | 80 | 100.0% |" in text
        assert "| risk | 100.0% | 50.0% | test (fitted on train) | 8 |" in text
        assert "| risk>=4 | 100.0% | 50.0% |" in text


def test_from_recordings_reparses_raw_answers(tmp_path: Path) -> None:
    db = tmp_path / "rec.db"
    fg_text = ("<start_function_call>call:score_node{confidence:2,reasoning:<escape>Reparsed "
               "from the raw text.<escape>,relevance:3,risk:4}<end_function_call>")
    ollama = Exchange(backend="ollama", endpoint="/api/generate",
                      request={"model": "functiongemma", "raw": True, "prompt": "..."},
                      response={"model": "functiongemma", "response": fg_text, "done": True},
                      status=200, error=None, started_at="2026-01-15T10:30:00Z", seconds=0.2)
    # A parser bug at the time made this an error; the raw answer is fine.
    failed_then = Scored(rubric=None, scorer="ollama", label_source=LabelSource.MODEL,
                         model="functiongemma", error="old parser failed", exchanges=[ollama])
    garbage = Exchange(backend="ollama", endpoint="/api/generate", request={},
                       response={"response": "I think it is risky."}, status=200, error=None,
                       started_at="2026-01-15T10:30:00Z", seconds=0.1)
    broken = Scored(rubric=None, scorer="ollama", label_source=LabelSource.MODEL,
                    error="no call", exchanges=[garbage])
    with Store.open(db, environ={}) as store:
        store.record(make_exploration(3), [[failed_then, heuristic()], [haiku()], [broken]],
                     root=tmp_path)
    out = tmp_path / "out"
    assert export(db, out, "--from-recordings", fmt="json") == 0
    records = [r for s in SPLITS for r in json.loads((out / f"{s}.json").read_text())]
    by_reason = {r["rubric"]["reasoning"]: r["rubric"] for r in records}
    assert by_reason["Reparsed from the raw text."] == {
        "relevance": 3, "risk": 4, "confidence": 2, "reasoning": "Reparsed from the raw text."}
    assert "Wildcard hides the missing Haiku case." in by_reason  # from the tool_use block
    assert "Catch-all absorbs the new constructor silently." in by_reason  # stored heuristic
    assert len(records) == 3
    card = (out / "README.md").read_text()
    assert "labels re-parsed from raw recordings: 2" in card
    assert "without recordings kept: 1" in card and "(dropped): 1" in card
    assert "1 x ollama: no function call in the model's output" in card
    # Without the flag the errored answers have no label to export.
    assert export(db, tmp_path / "plain", fmt="json") == 0
    assert sum(len(json.loads((tmp_path / "plain" / f"{s}.json").read_text()))
               for s in SPLITS) == 2


def test_a_migrated_version_1_database_exports(tmp_path: Path) -> None:
    workspace = tmp_path / "llm-app"
    workspace.mkdir()
    db = tmp_path / "old.db"
    make_v1_database(db, workspace)
    out = tmp_path / "out"
    assert export(db, out, "--codebase", "llm-app", fmt="json") == 0
    records = [r for s in SPLITS for r in json.loads((out / f"{s}.json").read_text())]
    assert sorted(r["rubric"]["risk"] for r in records) == [4, 5]
    assert all(r["query"]["tags"] == ["Exhaustive", "PatternMatch"] for r in records)
    assert all(r["node"]["snippet"] == SNIPPET for r in records)


def test_exports_redact_secrets_written_by_older_versions(db: Path, tmp_path: Path) -> None:
    leaked = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
    with sqlite3.connect(db) as conn:  # as if stored before the redaction rule existed
        conn.execute("UPDATE nodes SET snippet = ? WHERE id = 1",
                     (f'token = "{leaked}"\nmain = pure ()',))
    out = tmp_path / "out"
    assert export(db, out, fmt="functiongemma") == 0
    text = "".join((out / f"{s}.jsonl").read_text() for s in SPLITS)
    assert leaked not in text and "ghp_[REDACTED]" in text


def test_recorded_answer_shapes_all_parse() -> None:
    from scout.export.select import RecordingParseError, rubric_from_recordings
    from scout.tasks import load_task

    task = load_task("score_node")
    args = {"relevance": 4, "risk": 3, "confidence": 5, "reasoning": "Field is read here."}
    inputs = {"query": "q", "tags": ["DataType"], "location": "a.hs:1", "hover": "h",
              "snippet": "s"}
    shapes = {
        "anthropic": {"content": [{"type": "text", "text": "thinking"},
                                  {"type": "tool_use", "name": "score_node", "input": args}]},
        "batch result": {"custom_id": "n1", "result": {"type": "succeeded", "message": {
            "content": [{"type": "tool_use", "name": "score_node", "input": args}]}}},
        "ollama chat tools": {"message": {"role": "assistant", "content": "", "tool_calls": [
            {"function": {"name": "score_node", "arguments": args}}]}},
        "ollama chat text": {"message": {"content": "call:score_node{confidence:5,reasoning:"
                                                    "<escape>Field is read here.<escape>,"
                                                    "relevance:4,risk:3}"}},
    }
    for name, response in shapes.items():
        rubric = rubric_from_recordings(task, [("x", "/e", json.dumps(response), None)], inputs)
        assert rubric.as_dict() == args, name
    # The last successful exchange counts; failed attempts before it are skipped.
    attempts = [("ollama", "/api/generate", None, "timed out"),
                ("anthropic", "/v1/messages", json.dumps(shapes["anthropic"]), None)]
    assert rubric_from_recordings(task, attempts, inputs).risk == 3
    with pytest.raises(RecordingParseError, match="the recorded call failed"):
        rubric_from_recordings(task, attempts[:1], inputs)
    errored = {"custom_id": "n2", "result": {"type": "errored", "error": {"type": "overloaded"}}}
    with pytest.raises(RecordingParseError, match="batch item errored"):
        rubric_from_recordings(task, [("anthropic", "/b", json.dumps(errored), None)], inputs)
    out_of_range = {"content": [{"type": "tool_use", "name": "score_node",
                                 "input": {**args, "risk": 9}}]}
    with pytest.raises(RecordingParseError, match="anthropic"):
        rubric_from_recordings(task, [("anthropic", "/b", json.dumps(out_of_range), None)],
                               inputs)

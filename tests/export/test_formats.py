"""Every export format's schema, and the FunctionGemma round trip."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from scout.explore.model import Tag
from scout.export.cli import main
from scout.functiongemma import parse_task_output, render_prompt
from scout.functiongemma.format import START_TURN
from scout.store import Store
from scout.tasks import load_task, rubric_from_output, task_inputs

from .conftest import CODEBASES, NODES_PER_QUERY, QUESTIONS

# The seed example of DESIGN.md section 3, verbatim: the json format must have its shape.
SEED = json.loads("""[{"query": {"query": "What breaks if I add a variant to LLMKind?", "tags": ["Exhaustive", "PatternMatch"]},
 "node": {"location": "Types.hs:127", "hover": "data LLMKind = Sonnet | Opus | Haiku",
          "snippet": "data LLMKind\\n  = Sonnet\\n  | Opus\\n  | Haiku\\n  deriving (Show, Eq)"},
 "rubric": {"relevance": 5, "risk": 5, "confidence": 4, "reasoning": "Exhaustive pattern match on LLMKind - must add case for new variant"},
 "timestamp": "2026-01-15T10:30:00Z"}]""")
PROVENANCE = {"split", "query_id", "codebase", "label_source", "scorer"}
TOTAL = len(CODEBASES) * len(QUESTIONS) * NODES_PER_QUERY * 2  # heuristic + haiku per node


def shape(value: Any) -> Any:
    """Keys and value types, recursively: two records with equal shapes are the same format."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return ["list", *sorted({json.dumps(shape(item)) for item in value})]
    return type(value).__name__


def check_seed_record(record: dict[str, Any]) -> None:
    assert shape(record) == shape(SEED[0])
    assert set(record["query"]["tags"]) <= {tag.value for tag in Tag}
    assert re.fullmatch(r"[^:]+\.hs:\d+", record["node"]["location"])
    for name in ("relevance", "risk", "confidence"):
        assert 1 <= record["rubric"][name] <= 5
    assert record["rubric"]["reasoning"].strip()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record["timestamp"])


def test_seed_checker_accepts_the_seed_and_rejects_drift() -> None:
    check_seed_record(SEED[0])
    with pytest.raises(AssertionError):
        check_seed_record({**SEED[0], "split": "train"})
    with pytest.raises(AssertionError):
        check_seed_record({**SEED[0], "rubric": {**SEED[0]["rubric"], "risk": "5"}})


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def export(db: Path, out: Path, fmt: str, *extra: str) -> int:
    """Every label source's label as its own example (the fixture labels each node twice)."""
    return main(["--format", fmt, "--out", str(out), "--db", str(db), "--quiet",
                 "--all-sources", *extra])


def test_json_is_exactly_the_seed_array(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "json"
    assert export(db, out, "json") == 0
    total = 0
    for split in ("train", "validation", "test"):
        records = json.loads((out / f"{split}.json").read_text(encoding="utf-8"))
        assert isinstance(records, list)
        for record in records:
            check_seed_record(record)
        total += len(records)
    assert total == TOTAL
    card = (out / "README.md").read_text(encoding="utf-8")
    assert f"Total: {TOTAL} examples." in card and "## Label distributions" in card


def test_functiongemma_text_is_the_served_prompt_plus_the_call(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "fg"
    assert export(db, out, "functiongemma", "--label-source", "haiku") == 0
    rows = [row for split in ("train", "validation", "test")
            for row in read_jsonl(out / f"{split}.jsonl")]
    assert len(rows) == TOTAL // 2
    task = load_task("score_node")
    with Store.open(db, environ={}) as store:
        labels = {(r[0], r[1], r[2]): r[3:] for r in store.rows(
            "SELECT q.id, n.path, n.line, r.relevance, r.risk, r.confidence, r.reasoning "
            "FROM rubrics r JOIN nodes n ON n.id = r.node_id JOIN queries q ON "
            "q.id = n.query_id WHERE r.label_source = 'haiku'")}
        pending = {(p.node.location, p.question.text): p
                   for p in store.nodes_without_label("ghc")}  # every node, as the server has it
    for row in rows:
        assert set(row) == {"text"} | PROVENANCE
        assert (row["label_source"], row["scorer"]) == ("haiku", "haiku")
        # The prompt the live scorer would send for this node is a byte-exact prefix.
        user = row["text"].split(f"{START_TURN}user\n", 1)[1]
        location = re.search(r"^location: (.+)$", user, re.M).group(1)
        query = re.search(r"^query: (.+)$", user, re.M).group(1)
        live = pending[(location, query)]
        prompt = render_prompt(task, task_inputs(live.question, live.node))
        assert row["text"].startswith(prompt)
        # Round trip: the exported text parses back to the stored rubric.
        rubric = rubric_from_output(parse_task_output(task, row["text"][len(prompt):]))
        path, line = location.rsplit(":", 1)
        stored = labels[(row["query_id"], path, int(line))]
        assert (rubric.relevance, rubric.risk, rubric.confidence, rubric.reasoning) == stored


def live_prompt(db: Path, exported: str) -> str:
    """What the live scorer renders for the node an exported prompt is about."""
    user = exported.split(f"{START_TURN}user\n", 1)[1]
    location = re.search(r"^location: (.+)$", user, re.M).group(1)
    query = re.search(r"^query: (.+)$", user, re.M).group(1)
    with Store.open(db, environ={}) as store:
        live = next(p for p in store.nodes_without_label("ghc")
                    if (p.node.location, p.question.text) == (location, query))
    return render_prompt(load_task("score_node"), task_inputs(live.question, live.node))


def test_messages_rows_follow_trl_conventions(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "messages"
    assert export(db, out, "messages") == 0
    rows = read_jsonl(out / "train.jsonl")
    assert rows
    for row in rows:
        assert set(row) == {"messages", "tools"} | PROVENANCE
        assert [m["role"] for m in row["messages"]] == ["developer", "user", "assistant"]
        call = row["messages"][2]["tool_calls"][0]
        assert call["type"] == "function" and call["function"]["name"] == "score_node"
        assert set(call["function"]["arguments"]) == {"relevance", "risk", "confidence",
                                                      "reasoning"}
        assert row["tools"][0]["type"] == "function"
        assert row["tools"][0]["function"]["name"] == "score_node"
        assert row["split"] == "train" and row["codebase"] in CODEBASES


def test_prompt_completion_concatenates_to_the_functiongemma_text(db: Path,
                                                                 tmp_path: Path) -> None:
    assert export(db, tmp_path / "pc", "prompt-completion") == 0
    assert export(db, tmp_path / "fg", "functiongemma") == 0
    task = load_task("score_node")
    for split in ("train", "validation", "test"):
        pcs = read_jsonl(tmp_path / "pc" / f"{split}.jsonl")
        fgs = read_jsonl(tmp_path / "fg" / f"{split}.jsonl")
        assert len(pcs) == len(fgs)
        for pc, fg in zip(pcs, fgs, strict=True):
            assert set(pc) == {"prompt", "completion"} | PROVENANCE
            assert pc["prompt"] + pc["completion"] == fg["text"]
            assert pc["completion"].startswith("<start_function_call>call:score_node{")
            assert pc["prompt"] == live_prompt(db, pc["prompt"])
            assert parse_task_output(task, pc["completion"])["reasoning"]



@pytest.mark.parametrize("fmt", ["json", "functiongemma", "messages", "prompt-completion"])
def test_fast_lines_equal_json_dumps_and_workers_change_nothing(db: Path, tmp_path: Path,
                                                                 fmt: str) -> None:
    from scout.export.formats import LineRenderer, plain_line
    from scout.export.select import Filters, select
    from scout.export.split import SplitPlan, assign_splits
    from scout.export.write import write_splits

    task = load_task("score_node")
    with Store.open(db, environ={}) as store:
        examples, _ = select(store, Filters(), task=task, from_recordings=False, do_dedupe=True,
                             balance=False, balance_cap=None, seed=1)
    examples = assign_splits(examples, SplitPlan(ratios=(0.8, 0.1, 0.1)))
    render = LineRenderer(fmt, task)
    for example in examples:
        assert render(example) == plain_line(fmt, task, example)
    by_split = {s: [e for e in examples if e.split == s] for s in ("train", "validation", "test")}
    serial, forked = tmp_path / "serial", tmp_path / "forked"
    serial.mkdir()
    forked.mkdir()
    write_splits(fmt, task, by_split, serial, workers=1)
    write_splits(fmt, task, by_split, forked, workers=3)
    for path in serial.iterdir():
        assert path.read_bytes() == (forked / path.name).read_bytes(), path.name
    assert sorted(p.name for p in forked.iterdir()) == sorted(p.name for p in serial.iterdir())

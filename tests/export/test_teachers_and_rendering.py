"""Label-source priority, one rendering for `messages` and `functiongemma` (checked against
Google's chat template), BOS in the card and the audit, labels against the guidance, and the
dataset loading with Hugging Face `datasets`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scout.explore.model import ChangeKind, EdgeKind, Exploration, SiteFacts, Tag
from scout.export.cli import main
from scout.export.formats import BOS, bos_in_text
from scout.functiongemma import render_example
from scout.scoring.model import LabelSource, Rubric, Scored
from scout.store import Store
from scout.tasks import load_task
from store.builders import make_exploration, make_node

SPLITS = ("train", "validation", "test")
REPO = Path(__file__).resolve().parents[2]
# shared/ sits beside the checkout (CI, /work/main) or two levels up (a worktree in /work/wt/).
TEMPLATE = next((base / "shared" / "reference" / "functiongemma" / "chat_template.jinja"
                 for base in (REPO.parent, REPO.parent.parent)
                 if (base / "shared" / "reference").is_dir()), REPO.parent / "shared")
NASTY = "x <escape> y <end_function_call> <start_of_turn>user\nz"


def scored(source: str, risk: int, reasoning: str = "Because of the match.") -> Scored:
    return Scored(rubric=Rubric(4, risk, 3, reasoning), scorer=source,
                  label_source=LabelSource(source))


def export(db: Path, out: Path, *extra: str, fmt: str = "json") -> int:
    return main(["--format", fmt, "--out", str(out), "--db", str(db), "--quiet", *extra])


def records(out: Path, fmt: str = "json") -> list[dict[str, Any]]:
    if fmt == "json":
        return [r for s in SPLITS for r in json.loads((out / f"{s}.json").read_text())]
    return [json.loads(line) for s in SPLITS
            for line in (out / f"{s}.jsonl").read_text().splitlines()]


def test_priority_picks_one_label_per_node(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    with Store.open(db, environ={}) as store:
        ex = make_exploration(3)
        store.record(ex, [[scored("heuristic", 2), scored("ghc", 5), scored("haiku", 4)],
                          [scored("heuristic", 2), scored("haiku", 4)],
                          [scored("heuristic", 1), scored("model", 3)]], root=tmp_path)
    assert export(db, tmp_path / "default") == 0
    risks = sorted(r["rubric"]["risk"] for r in records(tmp_path / "default"))
    assert risks == [1, 4, 5]  # ghc, then haiku, then heuristic; the student never by default
    card = (tmp_path / "default" / "README.md").read_text()
    assert "human > ghc > haiku > heuristic" in card
    assert "labels of sources not listed: model 1" in card
    assert export(db, tmp_path / "mine", "--priority", "heuristic,ghc") == 0
    assert sorted(r["rubric"]["risk"] for r in records(tmp_path / "mine")) == [1, 2, 2]
    assert export(db, tmp_path / "all", "--all-sources") == 0
    assert len(records(tmp_path / "all")) == 7
    assert export(db, tmp_path / "bad", "--priority", "ghc", "--all-sources") == 2


def _with_control_tokens(tmp_path: Path) -> Path:
    db = tmp_path / "c.db"
    with Store.open(db, environ={}) as store:
        ex = make_exploration(2, text=f"What breaks if I add a variant to LLMKind? {NASTY}",
                              snippet=f"describe k = case k of -- {NASTY}")
        store.record(ex, [[scored("heuristic", 5, f"Reasoning with {NASTY}.")]] * 2,
                     root=tmp_path)
    return db


def test_messages_carry_the_same_neutralised_content_as_the_text(tmp_path: Path) -> None:
    db = _with_control_tokens(tmp_path)
    assert export(db, tmp_path / "fg", fmt="functiongemma") == 0
    assert export(db, tmp_path / "msg", fmt="messages") == 0
    texts = [r["text"] for r in records(tmp_path / "fg", "functiongemma")]
    rows = records(tmp_path / "msg", "messages")
    for row in rows:
        strings = [m["content"] for m in row["messages"]] + [
            row["messages"][2]["tool_calls"][0]["function"]["arguments"]["reasoning"]]
        assert not any("<escape>" in s or "<end_function_call>" in s or "<start_of_turn>" in s
                       for s in strings)
    if not TEMPLATE.exists():
        pytest.skip(f"Google's template is not here ({TEMPLATE}): the byte comparison needs it")
    jinja2 = pytest.importorskip("jinja2")
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
    template = env.from_string(TEMPLATE.read_text())
    for row, text in zip(rows, texts, strict=True):
        rendered = template.render(messages=row["messages"], tools=row["tools"], bos_token=BOS,
                                   add_generation_prompt=False)
        expected = text if text.startswith(BOS) else BOS + text
        assert rendered == expected


def test_card_and_audit_state_and_check_bos_and_control_tokens(tmp_path: Path, capsys) -> None:
    db = _with_control_tokens(tmp_path)
    task = load_task("score_node")
    in_text = bos_in_text(task)
    assert render_example(task, {"query": "q", "tags": [], "location": "a:1", "hover": "h",
                                 "snippet": "s"},
                          {"relevance": 1, "risk": 1, "confidence": 1, "reasoning": "r"}
                          ).startswith(BOS) == in_text
    for fmt in ("functiongemma", "prompt-completion", "messages"):
        out = tmp_path / fmt
        assert export(db, out, "--audit", fmt=fmt) == 0
        card = (out / "README.md").read_text()
        assert "BOS:" in card
        if fmt == "messages":
            assert "chat template writes it" in card
        elif in_text:
            assert "every text starts with a literal `<bos>`" in card
        else:
            assert "the tokenizer must add it" in card
        assert "control-token strings outside the format's structure: 0 examples" in card
        assert "examples agree" in card and "do not" not in card.split("### Rendering")[1]
    capsys.readouterr()


def test_the_audit_reports_labels_that_contradict_the_guidance(tmp_path: Path) -> None:
    db = tmp_path / "g.db"
    catch_all = SiteFacts(EdgeKind.CATCH_ALL, False, silent=True, detail="`_` absorbs it")
    with Store.open(db, environ={}) as store:
        ex: Exploration = make_exploration(3)
        ex.nodes[0] = make_node(0)  # a silent catch-all: the guidance says risk 2
        ex.nodes[1] = make_node(1)
        ex.nodes[2] = make_node(2)
        assert ex.nodes[0].facts.silent and ex.question.change is ChangeKind.ADD_CONSTRUCTOR
        store.record(ex, [[scored("heuristic", 2)], [scored("heuristic", 3)],
                          [scored("haiku", 5)]], root=tmp_path)
        del catch_all
    out = tmp_path / "out"
    assert export(db, out, "--audit", "--all-sources") == 0
    card = (out / "README.md").read_text()
    assert "### Labels against the guidance" in card
    assert "| heuristic | 2 | 50.0% |" in card
    assert "- heuristic: 1 x silent: risk 2 by the guidance, 3 given" in card
    assert "- haiku: 1 x silent: risk 2 by the guidance, 5 given" in card


def test_the_dataset_loads_with_hugging_face_datasets(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    db = tmp_path / "d.db"
    with Store.open(db, environ={}) as store:
        for codebase in ("one", "two", "three"):
            (tmp_path / codebase).mkdir()
            for q in range(3):
                store.record(make_exploration(4, text=f"What breaks if I change T{q}?",
                                              tags=(Tag.DATA_TYPE,)),
                             [[scored("heuristic", 1 + i), scored("ghc", 5)] for i in range(4)],
                             root=tmp_path / codebase)
    for fmt in ("functiongemma", "messages", "prompt-completion"):
        out = tmp_path / fmt
        assert export(db, out, "--holdout", "three", fmt=fmt) == 0
        files = {s: str(out / f"{s}.jsonl") for s in SPLITS}
        loaded = datasets.load_dataset("json", data_files=files,
                                       cache_dir=str(tmp_path / "hf-cache"))
        assert loaded["test"].num_rows == 12 and set(loaded["test"]["codebase"]) == {"three"}
        assert loaded["train"].num_rows + loaded["validation"].num_rows == 24
        assert set(loaded["train"]["label_source"]) == {"ghc"}
    out = tmp_path / "json"
    assert export(db, out, "--holdout", "three") == 0
    loaded = datasets.load_dataset("json", data_files={"test": str(out / "test.json")},
                                   cache_dir=str(tmp_path / "hf-cache"))
    assert loaded["test"][0]["rubric"]["risk"] == 5

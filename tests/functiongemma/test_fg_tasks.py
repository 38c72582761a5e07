"""Task definitions: loading, validation of answers, and the hash that identifies a prompt."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from scout.explore.model import ChangeKind, EdgeKind, Node, Question, SiteFacts, Tag
from scout.scoring.model import Rubric
from scout.tasks import (
    TaskDefinitionError,
    TaskInputError,
    TaskOutputError,
    available_tasks,
    load_task,
    rubric_from_output,
    task_inputs,
    validate_output,
)

REPO_TASKS = Path(__file__).resolve().parents[2] / "tasks"


def test_the_three_tasks_load():
    assert {"score_node", "select_symbols", "score_edge"} <= set(available_tasks())
    task = load_task("score_node")
    assert task.input_fields == ("query", "tags", "location", "hover", "snippet")
    assert task.required == ("relevance", "risk", "confidence", "reasoning")
    assert task.anthropic_tool()["input_schema"] is task.parameters
    assert task.openai_tool()["function"]["name"] == "score_node"


def test_tasks_dir_from_environment(tmp_path, monkeypatch):
    shutil.copy(REPO_TASKS / "score_node.json", tmp_path / "score_node.json")
    raw = json.loads((tmp_path / "score_node.json").read_text())
    raw["version"] = "2-test"
    (tmp_path / "score_node.json").write_text(json.dumps(raw))
    monkeypatch.setenv("SCOUT_TASKS_DIR", str(tmp_path))
    assert load_task("score_node").version == "2-test"
    with pytest.raises(TaskDefinitionError, match="no task definition 'score_edge'"):
        load_task("score_edge")
    monkeypatch.setenv("SCOUT_TASKS_DIR", str(tmp_path / "missing"))
    with pytest.raises(TaskDefinitionError, match="is not a folder"):
        load_task("score_node")


@pytest.mark.parametrize("change, message", [
    ({"name": "bad name"}, "must be an identifier"),
    ({"version": ""}, "'version' is required"),
    ({"guidance": ""}, "'guidance' must be a non-empty str"),
    ({"parameters": {"type": "array"}}, "parameters must be {type: object"),
    ({"parameters": {"type": "object", "properties": {"x": {"type": "integer", "minimun": 1}}}},
     "only the keys"),
    ({"parameters": {"type": "object", "properties": {"x": {"type": "array"}}}},
     "needs items.type"),
    ({"parameters": {"type": "object", "properties": {}, "required": ["x"]}},
     "required names unknown parameters ['x']"),
    ({"constraints": {"risk": {"subset_of_input": "nowhere"}}}, "constraint on 'risk'"),
])
def test_malformed_definitions_fail_loudly(tmp_path, monkeypatch, change, message):
    raw = {**json.loads((REPO_TASKS / "score_node.json").read_text()), **change}
    (tmp_path / "score_node.json").write_text(json.dumps(raw))
    monkeypatch.setenv("SCOUT_TASKS_DIR", str(tmp_path))
    with pytest.raises(TaskDefinitionError, match=message.replace("[", r"\[").replace(
            "{", r"\{")):
        load_task("score_node")


def test_validate_output_normalises_unambiguous_forms():
    task = load_task("score_node")
    assert validate_output(task, {"relevance": "5", "risk": 4.0, "confidence": " 3 ",
                                  "reasoning": "  why  "}) == \
        {"relevance": 5, "risk": 4, "confidence": 3, "reasoning": "why"}
    for bad in ({"relevance": True}, {"relevance": None}, {"relevance": "5.5"},
                {"relevance": [5]}):
        with pytest.raises(TaskOutputError, match="score_node.relevance must be an integer"):
            validate_output(task, {"risk": 1, "confidence": 1, "reasoning": "r", **bad})
    with pytest.raises(TaskOutputError, match="arguments must be an object"):
        validate_output(task, ["relevance"])  # type: ignore[arg-type]


def test_rubric_from_output():
    assert rubric_from_output({"relevance": 5, "risk": 4, "confidence": 3, "reasoning": "r"}) \
        == Rubric(5, 4, 3, "r")
    with pytest.raises(TaskOutputError, match="not a rubric"):
        rubric_from_output({"relevance": 5})


def test_task_inputs_and_user_text():
    question = Question("if I add a field to Config", "Config", ChangeKind.ADD_FIELD,
                        (Tag.DATA_TYPE,))
    node = Node(path="app/Main.hs", line=3, hover="main :: IO ()", snippet="main = run cfg",
                facts=SiteFacts(edge=EdgeKind.RECORD_CONSTRUCT, breaks=True))
    inputs = task_inputs(question, node)
    assert inputs == {"query": "if I add a field to Config", "tags": ["DataType"],
                      "location": "app/Main.hs:3", "hover": "main :: IO ()",
                      "snippet": "main = run cfg"}
    task = load_task("score_node")
    assert task.user_text(inputs) == ("query: if I add a field to Config\ntags: DataType\n"
                                      "location: app/Main.hs:3\nhover: main :: IO ()\n"
                                      "snippet: main = run cfg")
    with pytest.raises(TaskInputError, match=r"missing \['snippet'\]"):
        task.user_text({k: v for k, v in inputs.items() if k != "snippet"})


def test_prompt_hash_changes_with_the_definition_and_renderer(tmp_path, monkeypatch):
    task = load_task("score_node")
    assert task.prompt_hash("functiongemma/1") == load_task("score_node").prompt_hash(
        "functiongemma/1")
    assert task.prompt_hash("functiongemma/1") != task.prompt_hash("anthropic-tool/1")
    raw = json.loads((REPO_TASKS / "score_node.json").read_text())
    raw["guidance"] += " Be brief."
    (tmp_path / "score_node.json").write_text(json.dumps(raw))
    monkeypatch.setenv("SCOUT_TASKS_DIR", str(tmp_path))
    assert load_task("score_node").prompt_hash("functiongemma/1") != task.prompt_hash(
        "functiongemma/1")

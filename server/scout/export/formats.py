"""One renderer per export format. FunctionGemma text, prompts and chat messages all come from
:mod:`scout.functiongemma`, the module that renders live requests, so training bytes equal
serving bytes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from scout.export.select import Example
from scout.functiongemma import render_call, render_example, render_prompt, to_messages
from scout.functiongemma.format import END_TURN
from scout.tasks import TaskDefinition

FORMATS = ("json", "functiongemma", "messages", "prompt-completion")


def provenance(example: Example) -> dict[str, Any]:
    return {"split": example.split, "query_id": example.query_id, "codebase": example.codebase,
            "label_source": example.label_source, "scorer": example.scorer}


def seed_record(example: Example) -> dict[str, Any]:
    """Exactly the training-example shape of DESIGN.md section 3."""
    return {"query": {"query": example.query, "tags": list(example.tags)},
            "node": {"location": example.location, "hover": example.hover,
                     "snippet": example.snippet},
            "rubric": example.rubric.as_dict(),
            "timestamp": example.timestamp}


def functiongemma_row(task: TaskDefinition, example: Example) -> dict[str, Any]:
    return {"text": render_example(task, example.inputs(), example.rubric.as_dict()),
            **provenance(example)}


def messages_row(task: TaskDefinition, example: Example) -> dict[str, Any]:
    return {**to_messages(task, example.inputs(), example.rubric.as_dict()),
            **provenance(example)}


def prompt_completion_row(task: TaskDefinition, example: Example) -> dict[str, Any]:
    return {"prompt": render_prompt(task, example.inputs()),
            "completion": render_call(task.name, example.rubric.as_dict()) + END_TURN,
            **provenance(example)}


def line_renderer(fmt: str, task: TaskDefinition) -> Callable[[Example], str]:
    """The text written for one example: a JSONL line, or a JSON array element for ``json``."""
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
    if fmt == "json":
        return lambda example: dumps(seed_record(example))
    if fmt == "functiongemma":
        return lambda example: dumps(functiongemma_row(task, example))
    if fmt == "messages":
        return lambda example: dumps(messages_row(task, example))
    if fmt == "prompt-completion":
        return lambda example: dumps(prompt_completion_row(task, example))
    raise ValueError(f"unknown format {fmt!r}; use one of {FORMATS}")


def file_name(fmt: str, split: str) -> str:
    return f"{split}.json" if fmt == "json" else f"{split}.jsonl"

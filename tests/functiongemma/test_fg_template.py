"""Byte conformance: the project's FunctionGemma rendering against Google's chat template.

jinja2 renders ``chat_template.jinja`` (shared/reference/functiongemma) for the project's tasks,
from the same chat messages the ``messages`` export writes; the bytes must equal
``render_prompt`` (with a generation prompt) and ``render_example`` (with the answer), except
the literal ``<bos>`` the template starts with (the tokenizer adds BOS; a literal one would be a
second).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference import render

from scout.functiongemma import render_example, render_prompt, to_messages
from scout.functiongemma.format import render_declaration
from scout.tasks import available_tasks, load_task, parse_definition

BOS = "<bos>"
CONTROL = st.sampled_from(["<escape>", "<start_function_call>", "<end_of_turn>",
                           "<start_of_turn>", "<bos>", "<\u200bescape>", "{", "}", ",", ":",
                           '"', "\n", "  ", "\t", "call:f{", "λ → ∀", "\u200b"])
TEXT = st.lists(st.one_of(st.text(max_size=10), CONTROL), max_size=6).map("".join)
NONEMPTY = TEXT.filter(lambda s: s.strip() != "")


def template_prompt(task, inputs) -> str:
    conversation = to_messages(task, inputs)
    return render(conversation["messages"], conversation["tools"], add_generation_prompt=True)


def template_example(task, inputs, answer) -> str:
    conversation = to_messages(task, inputs, answer)
    return render(conversation["messages"], conversation["tools"], add_generation_prompt=False)


def sample_inputs(task, values) -> dict:
    inputs = {}
    for i, name in enumerate(task.input_fields):
        if name in ("tags", "candidates"):
            inputs[name] = ["Exhaustive", "PatternMatch"] if name == "tags" else \
                ["Sonnet", "Opus", "describe"]
        else:
            inputs[name] = values[i % len(values)]
    return inputs


def sample_answer(task, text) -> dict:
    answer = {}
    for key, prop in task.properties.items():
        kind = prop["type"]
        if prop.get("enum"):
            answer[key] = prop["enum"][-1]
            continue
        answer[key] = {"integer": 3, "number": 0.5, "boolean": True, "string": text,
                       "array": ["Opus"]}[kind]
    return answer


@pytest.mark.parametrize("name", available_tasks())
def test_every_task_renders_as_the_template_does(name):
    task = load_task(name)
    inputs = sample_inputs(task, ["What breaks if I add a variant to LLMKind?",
                                  "src/Types.hs:12", "data LLMKind = Sonnet | Opus",
                                  "case k of\n  Sonnet -> 1\n  _ -> 2"])
    answer = sample_answer(task, "Exhaustive match on LLMKind; must add a case.")
    assert template_prompt(task, inputs) == BOS + render_prompt(task, inputs)
    assert template_example(task, inputs, answer) == BOS + render_example(task, inputs, answer)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(["score_node", "score_edge", "select_symbols"]),
       values=st.lists(NONEMPTY, min_size=1, max_size=5), reasoning=NONEMPTY)
def test_any_inputs_render_as_the_template_does(name, values, reasoning):
    """Code with control-token strings, unicode, braces and odd whitespace included: the
    neutralised text the project sends is what the template renders from the messages."""
    task = load_task(name)
    inputs = sample_inputs(task, values)
    answer = sample_answer(task, reasoning)
    assert template_prompt(task, inputs) == BOS + render_prompt(task, inputs)
    assert template_example(task, inputs, answer) == BOS + render_example(task, inputs, answer)


def test_declaration_edge_cases_match_the_template():
    """Enum, items, booleans, numbers, a property without a description (the template writes
    an empty one), keys whose case-insensitive order differs from byte order."""
    task = parse_definition({
        "name": "edge_cases", "version": "1", "description": "Edge cases of the template.",
        "guidance": "Answer with the tool.", "input_fields": ["query"],
        "parameters": {"type": "object", "properties": {
            "choice": {"type": "string", "enum": ["a", "B", "c d"], "description": "pick"},
            "Zeta": {"type": "integer", "minimum": 1, "maximum": 3},
            "alpha": {"type": "array", "items": {"type": "string"}, "description": "many"},
            "flag": {"type": "boolean", "description": ""},
            "ratio": {"type": "number", "description": "a number"}},
            "required": ["choice", "Zeta"]}})
    inputs = {"query": "q"}
    answer = {"choice": "B", "Zeta": 2, "alpha": ["x", "y"], "flag": False, "ratio": 0.25}
    assert template_prompt(task, inputs) == BOS + render_prompt(task, inputs)
    assert template_example(task, inputs, answer) == BOS + render_example(task, inputs, answer)


@pytest.mark.parametrize("reserved", ["type", "description", "required", "properties",
                                      "nullable"])
def test_names_the_template_would_drop_are_refused(reserved):
    task = parse_definition({
        "name": "t", "version": "1", "description": "d", "guidance": "g",
        "input_fields": ["query"],
        "parameters": {"type": "object", "properties": {
            reserved: {"type": "string", "description": "x"}}}})
    with pytest.raises(ValueError, match="dropped by FunctionGemma's chat template"):
        render_declaration(task)

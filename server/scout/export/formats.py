"""One renderer per export format. FunctionGemma text, prompts and chat messages all come from
:mod:`scout.functiongemma`, the module that renders live requests, so training bytes equal
serving bytes.

Lines are JSON-encoded with one shortcut: the developer turn (guidance + tool declaration,
about 1.6 KB) is the same in every example of a task, so its escaped form is computed once and
spliced in whenever a rendered text starts with it. JSON string escaping works character by
character, so the result is byte-identical to ``json.dumps`` of the whole row (tested).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from scout.export.select import TASK, Example
from scout.functiongemma import render_example, to_messages
from scout.functiongemma.format import START_TURN
from scout.tasks import TaskDefinition

FORMATS = ("json", "functiongemma", "messages", "prompt-completion")
MODEL_TURN = f"{START_TURN}model\n"
USER_TURN = f"{START_TURN}user\n"

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
_quote = json.encoder.encode_basestring  # C-accelerated, ensure_ascii=False semantics


BOS = "<bos>"
_PROBE_INPUTS = {"query": "q", "tags": [], "location": "a.hs:1", "hover": "h", "snippet": "s"}
_PROBE_OUTPUT = {"relevance": 1, "risk": 1, "confidence": 1, "reasoning": "r"}


def bos_in_text(task: TaskDefinition) -> bool:
    """Does the rendered FunctionGemma text start with a literal ``<bos>``? (If not, the
    tokenizer must add it; if so, it must not add another.)"""
    return render_example(task, _PROBE_INPUTS, _PROBE_OUTPUT).startswith(BOS)


def bos_statement(fmt: str, task: TaskDefinition) -> str:
    """What the dataset card says about BOS for this format."""
    if fmt == "json":
        return ("BOS: not applicable (the seed records hold no rendered text); renderings made "
                "from them follow the `functiongemma` format's rule.")
    if fmt == "messages":
        return ("BOS: the messages carry no `<bos>`; Google's chat template writes it at the "
                "start of its rendering, so do not add another when tokenizing that rendering "
                "(add_special_tokens=False).")
    if bos_in_text(task):
        return ("BOS: every text starts with a literal `<bos>`; tokenize with "
                "add_special_tokens=False so the tokenizer does not add a second one.")
    return ("BOS: the text does not contain `<bos>`; the tokenizer must add it (Gemma "
            "tokenizers do with add_special_tokens=True, their default; llama.cpp and Ollama's "
            "raw mode add it too).")


def provenance(example: Example) -> dict[str, Any]:
    return {"split": example.split, "query_id": example.query_id, "codebase": example.codebase,
            "label_source": example.label_source, "scorer": example.scorer}


def _provenance_json(example: Example) -> str:
    """``json.dumps(provenance(example))`` without the braces."""
    return (f'"split": {_quote(example.split)}, "query_id": {int(example.query_id)}, '
            f'"codebase": {_quote(example.codebase)}, '
            f'"label_source": {_quote(example.label_source)}, "scorer": {_quote(example.scorer)}')


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


def split_prompt(text: str) -> tuple[str, str]:
    """(prompt, completion) of a rendered example: the prompt ends where the model turn opens
    (control tokens inside user text are neutralised, so the last opening is the real one)."""
    cut = text.rindex(MODEL_TURN) + len(MODEL_TURN)
    return text[:cut], text[cut:]


def prompt_completion_row(task: TaskDefinition, example: Example) -> dict[str, Any]:
    """``prompt`` + ``completion`` is exactly the ``functiongemma`` text."""
    prompt, completion = split_prompt(
        render_example(task, example.inputs(), example.rubric.as_dict()))
    return {"prompt": prompt, "completion": completion, **provenance(example)}


class _ConstantPrefix:
    """Escapes strings that usually start with the same long prefix, escaping it once."""

    def __init__(self) -> None:
        self.prefix: str | None = None
        self.escaped = ""

    def learn(self, prefix: str) -> None:
        self.prefix = prefix
        self.escaped = _quote(prefix)[:-1]  # without the closing quote

    def quote(self, text: str) -> str:
        prefix = self.prefix
        if prefix and text.startswith(prefix):
            return self.escaped + _quote(text[len(prefix):])[1:]
        return _quote(text)


class LineRenderer:
    """The text written for one example: a JSONL line, or a JSON array element for ``json``."""

    def __init__(self, fmt: str, task: TaskDefinition) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; use one of {FORMATS}")
        self.fmt = fmt
        self.task = task
        self._developer = _ConstantPrefix()
        self._messages_constants: tuple[dict[str, Any], str, list[Any], str] | None = None
        self.render: Callable[[Example], str] = {
            "json": self._json, "functiongemma": self._functiongemma,
            "messages": self._messages, "prompt-completion": self._prompt_completion}[fmt]
        if task.name != TASK:  # another task (parse_question): rows built generically
            self.render = lambda example: plain_line(fmt, task, example)

    def __call__(self, example: Example) -> str:
        return self.render(example)

    def _json(self, example: Example) -> str:
        rubric = example.rubric
        tags = ", ".join(_quote(tag) for tag in example.tags)
        return (f'{{"query": {{"query": {_quote(example.query)}, "tags": [{tags}]}}, '
                f'"node": {{"location": {_quote(example.location)}, '
                f'"hover": {_quote(example.hover)}, "snippet": {_quote(example.snippet)}}}, '
                f'"rubric": {{"relevance": {int(rubric.relevance)}, "risk": {int(rubric.risk)}, '
                f'"confidence": {int(rubric.confidence)}, '
                f'"reasoning": {_quote(rubric.reasoning)}}}, '
                f'"timestamp": {_quote(example.timestamp)}}}')

    def _text(self, example: Example) -> str:
        text = render_example(self.task, example.inputs(), example.rubric.as_dict())
        if self._developer.prefix is None and USER_TURN in text:
            self._developer.learn(text[:text.index(USER_TURN)])
        return text

    def _functiongemma(self, example: Example) -> str:
        text = self._text(example)
        return f'{{"text": {self._developer.quote(text)}, {_provenance_json(example)}}}'

    def _prompt_completion(self, example: Example) -> str:
        prompt, completion = split_prompt(self._text(example))
        return (f'{{"prompt": {self._developer.quote(prompt)}, "completion": '
                f'{_quote(completion)}, {_provenance_json(example)}}}')

    def _messages(self, example: Example) -> str:
        row = to_messages(self.task, example.inputs(), example.rubric.as_dict())
        messages, tools = row.get("messages"), row.get("tools")
        constants = self._messages_constants
        if constants is None and isinstance(messages, list) and messages:
            constants = self._messages_constants = (
                messages[0], _dumps(messages[0]), tools, _dumps(tools))
        if (constants is None or set(row) != {"messages", "tools"}
                or not messages or messages[0] != constants[0] or tools != constants[2]):
            return _dumps({**row, **provenance(example)})  # not the usual shape: plain path
        rest = "".join(", " + _dumps(message) for message in messages[1:])
        return (f'{{"messages": [{constants[1]}{rest}], "tools": {constants[3]}, '
                f'{_provenance_json(example)}}}')


def task_row(fmt: str, task: TaskDefinition, example: Any) -> dict[str, Any]:
    """A row of another task's export, from an example with ``inputs()``, ``output()`` (the
    task's call arguments) and ``json_record()`` (see ``export.questions``)."""
    if fmt == "json":
        return example.json_record()
    if fmt == "messages":
        return {**to_messages(task, example.inputs(), example.output()), **provenance(example)}
    text = render_example(task, example.inputs(), example.output())
    if fmt == "functiongemma":
        return {"text": text, **provenance(example)}
    prompt, completion = split_prompt(text)
    return {"prompt": prompt, "completion": completion, **provenance(example)}


def plain_line(fmt: str, task: TaskDefinition, example: Example) -> str:
    """The same line through ``json.dumps`` of the whole row (the reference for tests)."""
    if task.name != TASK:
        return _dumps(task_row(fmt, task, example))
    row = {"json": lambda: seed_record(example),
           "functiongemma": lambda: functiongemma_row(task, example),
           "messages": lambda: messages_row(task, example),
           "prompt-completion": lambda: prompt_completion_row(task, example)}[fmt]()
    return _dumps(row)


def file_name(fmt: str, split: str) -> str:
    return f"{split}.json" if fmt == "json" else f"{split}.jsonl"

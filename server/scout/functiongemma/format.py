"""The one place FunctionGemma prompts and calls are rendered and parsed.

Live requests (Ollama ``/api/generate`` with ``raw: true``) and exported training text both come
from :func:`render_prompt` / :func:`render_example`, so the bytes a model is trained on are the
bytes it is served (DESIGN.md section 6). The rendering follows Google's FunctionGemma chat
template, not Ollama's built-in renderer:

    <start_of_turn>developer
    {guidance}
    You are a model that can do function calling with the following functions<start_function_declaration>declaration:NAME{description:<escape>...<escape>,parameters:{properties:{...},required:[...],type:<escape>OBJECT<escape>}}<end_function_declaration><end_of_turn>
    <start_of_turn>user
    {field: value lines}<end_of_turn>
    <start_of_turn>model
    <start_function_call>call:NAME{key:<escape>text<escape>,n:4}<end_function_call><start_function_response>

The last line is the training target; a model turn that ends in a call is closed by
``<start_function_response>``, as Google's template does. Details taken from the template: keys
of properties and call arguments sorted case-insensitively (Jinja ``dictsort``), types
upper-cased, every string wrapped in ``<escape>``, numbers and booleans bare, message contents
trimmed. ``<bos>`` is not part of the text: the engine's tokenizer
(llama.cpp/Ollama, and Hugging Face tokenizers when training) adds it, and a literal one would be
a second BOS.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from scout.tasks import TaskDefinition, TaskOutputError, validate_output

FORMAT_VERSION = "functiongemma/1"

TRIGGER = "You are a model that can do function calling with the following functions"
START_TURN = "<start_of_turn>"
END_TURN = "<end_of_turn>"
START_DECL = "<start_function_declaration>"
END_DECL = "<end_function_declaration>"
START_CALL = "<start_function_call>"
END_CALL = "<end_function_call>"
START_RESPONSE = "<start_function_response>"
ESCAPE = "<escape>"

# Stop strings for the engine. Engines built on llama.cpp may drop control tokens from the text,
# so a stop string can silently never match: callers must also cap the number of tokens
# (:func:`answer_token_budget`) and add what the model prints when they are hidden
# (:func:`raw_stop_sequences`).
STOP_SEQUENCES = (END_CALL, START_RESPONSE, END_TURN)
# "One or two sentences" (the tasks' guidance): the longest text argument a budget allows for.
ANSWER_TEXT_CHARS = 240

_CONTROL_NAMES = (
    "bos", "eos", "pad", "unk", "mask", "escape",
    "start_of_turn", "end_of_turn",
    "start_function_declaration", "end_function_declaration",
    "start_function_call", "end_function_call",
    "start_function_response", "end_function_response",
    "start_of_image", "end_of_image",
)
_NAMES = "|".join(_CONTROL_NAMES)
# The nine turn, function and escape tokens. Ollama 0.30+ marks them CONTROL (hidden from text);
# `scout train` writes them USER_DEFINED (printed) so stop strings fire.
FUNCTION_TOKENS = (START_TURN, END_TURN, START_DECL, END_DECL, START_CALL, END_CALL,
                   START_RESPONSE, "<end_function_response>", ESCAPE)
# A zero-width space after "<" stops the tokenizer from seeing a control token while the text
# still reads the same. Existing zero-width spaces in that position get one more, so the mapping
# is a bijection and unneutralise() restores any text exactly.
_ZWSP = "\u200b"
_NEUTRALISE = re.compile(rf"<({_ZWSP}*)({_NAMES})>")
_UNNEUTRALISE = re.compile(rf"<{_ZWSP}({_ZWSP}*)({_NAMES})>")


class FunctionGemmaParseError(ValueError):
    """The model's text holds no usable call for the task; the message says what was wrong."""


@dataclass(frozen=True)
class FunctionCall:
    name: str
    args: dict[str, Any]
    raw: str = field(default="", compare=False)  # the text the call was read from
    markers: bool = field(default=True, compare=False)  # False: call markers were missing


# --------------------------------------------------------------------------- neutralising


def neutralise(text: str) -> str:
    """Make control-token strings in user text harmless: ``<escape>`` becomes ``<\\u200bescape>``
    (a zero-width space after ``<``), which tokenises as plain text and reads the same.
    Reversible with :func:`unneutralise`."""
    if "<" not in text:
        return text
    return _NEUTRALISE.sub(lambda m: f"<{_ZWSP}{m.group(1)}{m.group(2)}>", text)


def unneutralise(text: str) -> str:
    if "<" not in text:
        return text
    return _UNNEUTRALISE.sub(lambda m: f"<{m.group(1)}{m.group(2)}>", text)


# --------------------------------------------------------------------------- rendering


def _sorted_items(mapping: Mapping[str, Any]) -> list[tuple[str, Any]]:
    # Jinja's dictsort: case-insensitive by key.
    return sorted(mapping.items(), key=lambda item: item[0].lower())


def _escaped(text: str) -> str:
    return f"{ESCAPE}{neutralise(text)}{ESCAPE}"


def render_value(value: Any) -> str:
    """One argument value: strings escaped, numbers and booleans bare, lists and objects nested."""
    if isinstance(value, str):
        return _escaped(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot render a non-finite number {value!r}")
        return repr(value)
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{_check_key(k)}:{render_value(v)}"
                              for k, v in _sorted_items(value)) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(render_value(item) for item in value) + "]"
    raise TypeError(f"cannot render {type(value).__name__} as a FunctionGemma value")


def _check_key(key: Any) -> str:
    if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        raise ValueError(f"argument names must be identifiers, got {key!r}")
    return key


def render_call(name: str, args: Mapping[str, Any]) -> str:
    body = ",".join(f"{_check_key(k)}:{render_value(v)}" for k, v in _sorted_items(args))
    return f"{START_CALL}call:{_check_key(name)}{{{body}}}{END_CALL}"


def _render_property(prop: Mapping[str, Any]) -> str:
    # Google's template writes the description even when it is empty.
    parts = [f"description:{_escaped(prop.get('description') or '')}"]
    kind = str(prop["type"]).upper()
    if kind == "STRING" and prop.get("enum"):
        parts.append(f"enum:{render_value(list(prop['enum']))}")
    elif kind == "ARRAY" and prop.get("items"):
        items = ",".join(
            f"{key}:{_escaped(str(value).upper()) if key == 'type' else render_value(value)}"
            for key, value in _sorted_items(prop["items"]))
        parts.append(f"items:{{{items}}}")
    parts.append(f"type:{_escaped(kind)}")
    return "{" + ",".join(parts) + "}"


# Property names Google's template silently drops from a declaration.
_TEMPLATE_RESERVED = frozenset({"description", "type", "properties", "required", "nullable"})


def render_declaration(task: TaskDefinition) -> str:
    params = task.parameters
    reserved = sorted(_TEMPLATE_RESERVED & set(params["properties"]))
    if reserved:
        raise ValueError(f"task {task.name}: parameters named {reserved} would be dropped by "
                         "FunctionGemma's chat template; rename them")
    properties = ",".join(f"{key}:{_render_property(prop)}"
                          for key, prop in _sorted_items(params["properties"]))
    required = ",".join(_escaped(key) for key in params.get("required", ()))
    body = f"properties:{{{properties}}},"
    if required:
        body += f"required:[{required}],"
    body += f"type:{_escaped(str(params['type']).upper())}"
    return (f"{START_DECL}declaration:{task.name}{{description:{_escaped(task.description)},"
            f"parameters:{{{body}}}}}{END_DECL}")


def developer_text(task: TaskDefinition) -> str:
    """The developer message: the task guidance, then the trigger sentence that switches the
    model into function calling (the declaration follows it directly)."""
    return f"{neutralise(task.guidance.strip())}\n{TRIGGER}"


def user_text(task: TaskDefinition, inputs: Mapping[str, Any]) -> str:
    return task.user_text(inputs, transform=neutralise)


class _Identity:
    """Hashes a task by identity: definitions hold dicts (unhashable) and never change."""

    __slots__ = ("task",)

    def __init__(self, task: TaskDefinition) -> None:
        self.task = task

    def __hash__(self) -> int:
        return id(self.task)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Identity) and other.task is self.task


@lru_cache(maxsize=64)
def _developer_turn(key: _Identity) -> str:
    # The developer turn is the same for every example of a task: render it once.
    task = key.task
    return f"{START_TURN}developer\n{developer_text(task)}{render_declaration(task)}{END_TURN}\n"


def render_prompt(task: TaskDefinition, inputs: Mapping[str, Any]) -> str:
    return (f"{_developer_turn(_Identity(task))}"
            f"{START_TURN}user\n{user_text(task, inputs)}{END_TURN}\n"
            f"{START_TURN}model\n")


def render_example(task: TaskDefinition, inputs: Mapping[str, Any],
                   output_args: Mapping[str, Any]) -> str:
    """Training text: exactly the served prompt, then the call the model should answer.

    Google's template closes a model turn that ends in a call with ``<start_function_response>``
    (the tool's answer would follow), not ``<end_of_turn>``: the model learns to stop there, and
    it is one of :data:`STOP_SEQUENCES`."""
    validate_output(task, output_args, inputs)
    return render_prompt(task, inputs) + render_call(task.name, output_args) + START_RESPONSE


def to_messages(task: TaskDefinition, inputs: Mapping[str, Any],
                output_args: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Chat messages + tools (TRL/Unsloth/OpenAI conventions). Applying Google's chat template
    to these gives the same text as :func:`render_prompt` / :func:`render_example`."""
    messages: list[dict[str, Any]] = [
        {"role": "developer", "content": developer_text(task)},
        {"role": "user", "content": user_text(task, inputs)},
    ]
    if output_args is not None:
        validate_output(task, output_args, inputs)
        # Strings neutralised as render_call does: the template writes them verbatim.
        messages.append({"role": "assistant", "content": "", "tool_calls": [
            {"type": "function",
             "function": {"name": task.name, "arguments": _neutralised(dict(output_args))}}]})
    return {"messages": messages, "tools": [task.openai_tool()]}


def _neutralised(value: Any) -> Any:
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, Mapping):
        return {key: _neutralised(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_neutralised(item) for item in value]
    return value


# --------------------------------------------------------------------------- serving


def raw_stop_sequences(task: TaskDefinition) -> tuple[str, ...]:
    """Stops for raw generation, whether or not the engine prints the control tokens.

    Printed (Ollama 0.13.5-0.29, USER_DEFINED tokens): ``<end_function_call>`` fires. Hidden
    (Ollama 0.30+ and any GGUF whose tokens are CONTROL): the text is ``call:NAME{...}`` and
    then, with the markers invisible, what the template puts after ``<start_function_response>``:
    ``response:NAME{`` (a tool response the model imagines). Stopping there ends the answer
    right after its call; a model trained by ``scout train`` ends with ``<eos>`` instead."""
    return (*STOP_SEQUENCES, f"response:{task.name}{{")


def answer_token_budget(task: TaskDefinition, *, text_chars: int = ANSWER_TEXT_CHARS,
                        chars_per_token: float = 3.5) -> int:
    """``num_predict`` for one answer, from the task's answer size: the longest valid call (each
    text argument ``text_chars`` long, numbers at their maximum, lists of 8 short items), with
    every control token as one token and the rest at ``chars_per_token`` (English text runs at
    about 4 characters a token in Gemma's vocabulary). score_node: about 90 tokens."""
    args: dict[str, Any] = {}
    for key, prop in task.properties.items():
        kind = prop["type"]
        if kind == "integer":
            args[key] = int(prop.get("maximum", 10**6))
        elif kind == "number":
            args[key] = 0.123456
        elif kind == "boolean":
            args[key] = False
        elif kind == "array":
            args[key] = ["x" * 16] * 8
        else:
            args[key] = "x" * text_chars
    call = render_call(task.name, args) + START_RESPONSE
    markers = len(re.findall(r"<(?:escape|start_function_call|end_function_call|"
                             r"start_function_response)>", call))
    plain = len(re.sub(r"<(?:escape|start_function_call|end_function_call|"
                       r"start_function_response)>", "", call))
    return markers + math.ceil(plain / chars_per_token) + 1  # + <eos>


# --------------------------------------------------------------------------- parsing

_CALL_START = re.compile(
    r"(?:<start_function_call>\s*(?:call\s*:\s*)?|\bcall\s*:\s*)([A-Za-z_][\w.\-]*)\s*\{")
_IDENT = re.compile(r"[A-Za-z_][\w\-]*")
_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?")
_LITERAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|true|false|null",
                      re.IGNORECASE)
_STOP_MARKERS = (END_CALL, START_CALL, START_RESPONSE, END_TURN)


class _Truncated(Exception):
    pass


# What may follow the closing brace of a call whose markers the engine hid: the end of the text,
# a (printed) marker, another call, or the tool response the model imagines after its call.
_AFTER_CALL = re.compile(r"\s*(?:$|<(?:end_function_call|start_function_response|end_of_turn|"
                         r"start_function_call|eos)>|call\s*:|response\s*:)")


class _Reader:
    """A small recursive-descent reader for FunctionGemma argument syntax.

    Strings come as ``<escape>text<escape>``, as JSON ``"text"``, or bare (when an engine dropped
    the ``<escape>`` tokens). ``types`` (argument name -> JSON Schema type, from the task) decides
    where a bare value ends:

    - a bare *string* argument is plain text: braces and commas inside it are characters. It ends
      at a comma that starts another argument of the task not given yet (whose value fits that
      argument's type), or at a ``}`` that ends the call (the text after it is empty, a marker,
      another call or a tool response). When several ends are possible the reader tries them in
      order and keeps the first that lets the whole call parse, so reasoning containing
      ", risk: ..." is not taken for a second ``risk``. A ``}`` followed by other text is never
      taken as the end of the call: that is an error naming the argument, not a silent cut.
    - other bare values end at a comma that starts a known argument, or the closing brace at
      their own nesting depth.
    """

    def __init__(self, text: str, keys: frozenset[str] | None,
                 types: Mapping[str, str] | None = None) -> None:
        self.text = text
        self.keys = keys
        self.types = types or {}

    def ws(self, pos: int) -> int:
        while pos < len(self.text) and self.text[pos].isspace():
            pos += 1
        return pos

    def obj(self, pos: int, top: bool = False) -> tuple[dict[str, Any], int]:
        """Read ``key:value,...}`` (after the opening brace); returns the position after ``}``.
        ``top``: the call's own argument object (bare strings there use the task's types)."""
        return self.members(pos, {}, top)

    def members(self, pos: int, result: dict[str, Any], top: bool) -> tuple[dict[str, Any], int]:
        text = self.text
        while True:
            pos = self.ws(pos)
            if pos >= len(text):
                raise _Truncated("the output ended inside the call's arguments")
            if text[pos] == "}":
                return result, pos + 1
            key, pos = self.key(pos)
            pos = self.ws(pos)
            if pos >= len(text):
                raise _Truncated(f"the output ended after the argument name {key!r}")
            if text[pos] != ":":
                raise FunctionGemmaParseError(
                    f"expected ':' after argument name {key!r} at offset {pos}, "
                    f"found {text[pos:pos + 20]!r}")
            if key in result:
                raise FunctionGemmaParseError(f"argument {key!r} given twice")
            start = self.ws(pos + 1)
            if top and self.types.get(key) == "string" and self.is_bare(start):
                return self.bare_string_member(key, start, result)
            value, pos = self.value(start, closer="}")
            result[key] = value
            pos = self.after_value(key, pos)
            if text[pos - 1] == "}":
                return result, pos

    def after_value(self, key: str, pos: int) -> int:
        """Past the separator after ``key``'s value: just after ``,`` or just after ``}``."""
        text = self.text
        pos = self.ws(pos)
        if pos >= len(text):
            raise _Truncated(f"the output ended after the value of {key!r}")
        if text[pos] in ",}":
            return pos + 1
        raise FunctionGemmaParseError(
            f"expected ',' or '}}' after the value of {key!r} at offset {pos}, "
            f"found {text[pos:pos + 20]!r}")

    def is_bare(self, pos: int) -> bool:
        return (pos < len(self.text) and not self.text.startswith(ESCAPE, pos)
                and self.text[pos] not in '"{[')

    def bare_string_member(self, key: str, pos: int, result: dict[str, Any]
                           ) -> tuple[dict[str, Any], int]:
        """A bare string value of ``key``, then the rest of the call (see the class doc)."""
        text = self.text
        limit = min((i for i in (text.find(m, pos) for m in _STOP_MARKERS) if i >= 0),
                    default=len(text))
        ends: list[int] = []
        stray_brace: int | None = None
        for index in range(pos, limit):
            char = text[index]
            if char == "," and self.starts_new_key(index + 1, result, key):
                ends.append(index)
            elif char == "}":
                if _AFTER_CALL.match(text, index + 1) or index + 1 == limit:
                    ends.append(index)
                elif stray_brace is None:
                    stray_brace = index
        if not ends:
            if stray_brace is not None:
                raise FunctionGemmaParseError(
                    f"the unquoted value of {key!r} holds a '}}' followed by more text "
                    f"({text[stray_brace:stray_brace + 24]!r}) and nothing after it ends the "
                    "call: cannot tell where the value ends")
            raise _Truncated(f"the output ended inside the unquoted value of {key!r}")
        first_error: Exception | None = None
        for end in ends:
            value = unneutralise(text[pos:end]).strip()
            attempt = {**result, key: value}
            try:
                if text[end] == "}":
                    return attempt, end + 1
                return self.members(end + 1, attempt, True)
            except (_Truncated, FunctionGemmaParseError) as exc:
                first_error = first_error or exc
        assert first_error is not None
        raise first_error

    def starts_new_key(self, pos: int, given: Mapping[str, Any], current: str) -> bool:
        """Does ``key:value`` of a task argument not given yet start at ``pos``, with a value
        that fits the argument's type?"""
        found = self.name_and_colon(pos)
        if found is None:
            return False
        name, colon = found
        if name == current or name in given or name not in self.types:
            return False
        return _fits(self.types[name], self.text, self.ws(colon + 1))

    def name_and_colon(self, pos: int) -> tuple[str, int] | None:
        """``name:`` (the name bare, ``<escape>``d or quoted) at ``pos``: the name and the
        position of the colon."""
        text = self.text
        pos = self.ws(pos)
        for quote in (ESCAPE, '"'):
            if text.startswith(quote, pos):
                pos += len(quote)
                break
        match = _IDENT.match(text, pos)
        if not match:
            return None
        end = match.end()
        for quote in (ESCAPE, '"'):
            if text.startswith(quote, end):
                end += len(quote)
                break
        end = self.ws(end)
        if end >= len(text) or text[end] != ":":
            return None
        return match.group(0), end

    def key(self, pos: int) -> tuple[str, int]:
        text = self.text
        if text.startswith(ESCAPE, pos):
            end = text.find(ESCAPE, pos + len(ESCAPE))
            if end < 0:
                raise _Truncated("the output ended inside an escaped argument name")
            return text[pos + len(ESCAPE):end].strip(), end + len(ESCAPE)
        if text.startswith('"', pos):
            end = text.find('"', pos + 1)
            if end < 0:
                raise _Truncated("the output ended inside a quoted argument name")
            return text[pos + 1:end].strip(), end + 1
        match = _IDENT.match(text, pos)
        if not match:
            raise FunctionGemmaParseError(
                f"expected an argument name at offset {pos}, found {text[pos:pos + 20]!r}")
        return match.group(0), match.end()

    def value(self, pos: int, closer: str) -> tuple[Any, int]:
        text = self.text
        if pos >= len(text):
            raise _Truncated("the output ended where a value should start")
        if text.startswith(ESCAPE, pos):
            start = pos + len(ESCAPE)
            end = text.find(ESCAPE, start)
            if end < 0:
                raise _Truncated("the output ended inside an <escape>d string")
            return unneutralise(text[start:end]), end + len(ESCAPE)
        char = text[pos]
        if char == "{":
            return self.obj(pos + 1)
        if char == "[":
            return self.array(pos + 1)
        if char == '"':
            quoted = self.json_string(pos)
            if quoted is not None:
                return quoted
        return self.bare(pos, closer)

    def array(self, pos: int) -> tuple[list[Any], int]:
        items: list[Any] = []
        text = self.text
        while True:
            pos = self.ws(pos)
            if pos >= len(text):
                raise _Truncated("the output ended inside a list")
            if text[pos] == "]":
                return items, pos + 1
            item, pos = self.value(pos, closer="]")
            items.append(item)
            pos = self.ws(pos)
            if pos >= len(text):
                raise _Truncated("the output ended inside a list")
            if text[pos] == ",":
                pos += 1
            elif text[pos] != "]":
                raise FunctionGemmaParseError(
                    f"expected ',' or ']' in a list at offset {pos}, found {text[pos:pos + 20]!r}")

    def json_string(self, pos: int) -> tuple[str, int] | None:
        try:
            value, end = json.JSONDecoder().raw_decode(self.text, pos)
        except json.JSONDecodeError:
            return None
        return (unneutralise(value), end) if isinstance(value, str) else None

    def bare(self, pos: int, closer: str) -> tuple[Any, int]:
        text = self.text
        depth = 0
        index = pos
        while index < len(text):
            char = text[index]
            if char == "<" and any(text.startswith(m, index) for m in _STOP_MARKERS):
                break
            if char in "{[":
                depth += 1
            elif char in "}]":
                if depth == 0:
                    if char == closer:
                        break
                else:
                    depth -= 1
            elif char == "," and depth == 0 and (
                    closer == "]" or self.starts_key(index + 1)
                    # a number or boolean cannot contain a comma: any name may follow it
                    or (_LITERAL.fullmatch(text[pos:index].strip())
                        and self.starts_key(index + 1, any_name=True))):
                break
            index += 1
        if index >= len(text):
            raise _Truncated("the output ended inside an unquoted value")
        if text[index] not in (closer, ","):
            raise FunctionGemmaParseError(
                f"missing {closer!r} before {text[index:index + 24]!r} at offset {index}")
        return _bare_value(unneutralise(text[pos:index])), index

    def starts_key(self, pos: int, any_name: bool = False) -> bool:
        found = self.name_and_colon(pos)
        return found is not None and (any_name or self.keys is None or found[0] in self.keys)


_VALUE_END = re.compile(r"\s*(?:<escape>|\")?\s*(?:[,}]|$|<)")


def _fits(kind: str, text: str, pos: int) -> bool:
    """Could the value starting at ``pos`` be one of JSON Schema type ``kind``?"""
    for quote in (ESCAPE, '"'):
        if text.startswith(quote, pos):
            pos += len(quote)
            break
    if kind in ("integer", "number"):
        match = _FLOAT.match(text, pos)
    elif kind == "boolean":
        match = re.compile(r"true|false", re.IGNORECASE).match(text, pos)
    elif kind == "array":
        return text.startswith("[", pos)
    else:
        return True
    return bool(match) and bool(_VALUE_END.match(text, match.end()))


def _bare_value(token: str) -> Any:
    stripped = token.strip()
    lowered = stripped.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("null", "none"):
        return None
    if _INT.fullmatch(stripped):
        return int(stripped)
    if _FLOAT.fullmatch(stripped):
        return float(stripped)
    return stripped


def parse_calls(text: str, keys: Mapping[str, Iterable[str]] | None = None) -> list[FunctionCall]:
    """Every function call in ``text``, in order.

    Accepts text around the calls, several calls, calls whose ``<start_function_call>`` /
    ``<end_function_call>`` markers or ``<escape>`` delimiters were dropped by the engine, JSON
    quoted strings, and unicode. ``keys`` (function name -> argument names) lets bare values
    contain commas: a bare value only ends at a comma that starts a known argument. When the
    names map to JSON Schema properties (a task's ``properties``), bare strings are read with
    their types (see :class:`_Reader`): no argument is split off inside reasoning text, and a
    value is never silently cut at a stray ``}``. A call cut
    off before its closing brace raises :class:`FunctionGemmaParseError` saying so, unless a
    complete call came before it (then the complete calls are returned).
    """
    calls: list[FunctionCall] = []
    pos = 0
    while True:
        match = _CALL_START.search(text, pos)
        if not match:
            return calls
        name = match.group(1)
        names = keys.get(name) if keys is not None else None
        types = ({key: str(prop.get("type")) for key, prop in names.items()
                  if isinstance(prop, Mapping)} if isinstance(names, Mapping) else None)
        reader = _Reader(text, frozenset(names) if names is not None else None, types)
        try:
            args, end = reader.obj(match.end(), top=True)
        except (_Truncated, FunctionGemmaParseError) as exc:
            if calls:
                # After a complete call, a cut-off or garbled repeat is the engine running on
                # to the token cap (its stop string never matched): the answer is already there.
                return calls
            if isinstance(exc, _Truncated):
                raise FunctionGemmaParseError(
                    f"truncated call to {name}: {exc} (output {len(text)} chars; was the token "
                    f"limit reached?): {_excerpt(text[match.start():])}") from None
            raise FunctionGemmaParseError(
                f"malformed call to {name}: {exc}: {_excerpt(text[match.start():])}") from None
        markers = text.startswith(START_CALL, match.start())
        after = reader.ws(end)
        if text.startswith(END_CALL, after):
            end = after + len(END_CALL)
        calls.append(FunctionCall(name=name, args=args, raw=text[match.start():end],
                                  markers=markers))
        pos = end


def parse_task_output(task: TaskDefinition, text: str,
                      inputs: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The validated arguments of the one call to ``task`` in the model's text."""
    calls = parse_calls(text, keys={task.name: task.properties})
    mine = [call for call in calls if call.name == task.name]
    if not mine:
        if calls:
            raise FunctionGemmaParseError(
                f"the model called {[call.name for call in calls]}, not {task.name}: "
                f"{_excerpt(text)}")
        raise FunctionGemmaParseError(f"no function call in the model's output: {_excerpt(text)}")
    if any(call.args != mine[0].args for call in mine[1:]):
        raise FunctionGemmaParseError(
            f"the model made {len(mine)} different calls to {task.name}: {_excerpt(text)}")
    try:
        return validate_output(task, mine[0].args, inputs)
    except TaskOutputError as exc:
        raise FunctionGemmaParseError(f"invalid arguments: {exc}") from exc


def _excerpt(text: str, limit: int = 200) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")

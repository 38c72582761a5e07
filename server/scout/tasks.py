"""Teaching-task definitions: one data file per task drives every backend.

A definition (``tasks/<name>.json``) holds the task's name, version, description, guidance, the
input fields shown to the model and ONE tool schema (JSON Schema of the call's parameters). From
it the FunctionGemma module renders prompts and target calls, the Ollama and Anthropic scorers
build their requests, and :func:`validate_output` turns any backend's answer into checked values.
Adding a task is adding a definition file, not code in each backend.

Where definitions are found, first match wins: ``$SCOUT_TASKS_DIR``, the repository's ``tasks/``
folder (a source checkout), then ``scout/_tasks`` (the copy a wheel installs).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from scout.explore.model import Node, Question
from scout.scoring.model import Rubric

TASKS_DIR_ENV = "SCOUT_TASKS_DIR"
_REPO_TASKS = Path(__file__).resolve().parents[2] / "tasks"
_INSTALLED_TASKS = Path(__file__).resolve().parent / "_tasks"

# JSON Schema keywords a definition may use. Anything else is refused at load time, so a typo in
# a definition fails loudly instead of silently not being validated.
_PROPERTY_KEYS = {"type", "description", "minimum", "maximum", "enum", "items"}
_TYPES = {"string", "integer", "number", "boolean", "array"}


class TaskDefinitionError(ValueError):
    """A definition file is missing, unreadable or malformed."""


class TaskInputError(ValueError):
    """The inputs given for a task do not match its input fields."""


class TaskOutputError(ValueError):
    """A backend's answer does not satisfy the task's tool schema."""


@dataclass(frozen=True)
class TaskDefinition:
    name: str
    version: str
    description: str
    guidance: str
    input_fields: tuple[str, ...]
    parameters: dict[str, Any]  # JSON Schema: type object, properties, required
    constraints: dict[str, Any] = field(default_factory=dict)  # e.g. subset_of_input
    source: str = ""  # the file it was loaded from

    @property
    def properties(self) -> dict[str, Any]:
        return self.parameters["properties"]

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(self.parameters.get("required", ()))

    def tool_schema(self) -> dict[str, Any]:
        """Generic tool: ``{name, description, parameters}`` (OpenAI/TRL ``function`` body)."""
        return {"name": self.name, "description": self.description,
                "parameters": self.parameters}

    def openai_tool(self) -> dict[str, Any]:
        """``{"type": "function", "function": {...}}``: Ollama chat, TRL, Unsloth, OpenAI."""
        return {"type": "function", "function": self.tool_schema()}

    def anthropic_tool(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description,
                "input_schema": self.parameters}

    def canonical(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "description": self.description,
                "guidance": self.guidance, "input_fields": list(self.input_fields),
                "parameters": self.parameters, "constraints": self.constraints}

    def prompt_hash(self, renderer: str = "") -> str:
        """Stable id of everything that shapes the prompt for this task: the definition plus the
        renderer (e.g. ``functiongemma/1``). Rubrics with the same hash were asked the same way."""
        payload = json.dumps({"task": self.canonical(), "renderer": renderer},
                             sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]

    def user_text(self, inputs: Mapping[str, Any],
                  transform: Callable[[str], str] = lambda text: text) -> str:
        """The user turn every backend sends: one ``field: value`` line per input field, in the
        definition's order; multi-line values start on the next line; lists joined by ", ".
        ``transform`` is applied to each value (FunctionGemma neutralises control tokens)."""
        check_inputs(self, inputs)
        lines: list[str] = []
        for name in self.input_fields:
            value = _input_text(inputs[name])
            value = transform(value)
            if "\n" in value:
                lines.append(f"{name}:\n{value}")
            else:
                lines.append(f"{name}: {value}")
        # Google's template trims message content; trimming here keeps both renderings equal.
        return "\n".join(lines).strip()


def _input_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Sequence):
        return ", ".join(str(item) for item in value)
    return str(value)


def check_inputs(task: TaskDefinition, inputs: Mapping[str, Any]) -> None:
    missing = [name for name in task.input_fields if name not in inputs]
    if missing:
        raise TaskInputError(
            f"task {task.name} needs input fields {list(task.input_fields)}; missing {missing}")


# --------------------------------------------------------------------------- loading


def tasks_dir() -> Path:
    """The folder definitions are read from (see the module docstring for the order)."""
    configured = os.environ.get(TASKS_DIR_ENV)
    if configured:
        path = Path(configured)
        if not path.is_dir():
            raise TaskDefinitionError(
                f"{TASKS_DIR_ENV}={configured} is not a folder: point it at a folder of task "
                "definitions (e.g. the repository's tasks/) or unset it")
        return path
    for candidate in (_REPO_TASKS, _INSTALLED_TASKS):
        if candidate.is_dir():
            return candidate
    raise TaskDefinitionError(
        f"no task definitions found (looked in {_REPO_TASKS} and {_INSTALLED_TASKS}); "
        f"set {TASKS_DIR_ENV} to the folder holding score_node.json")


def available_tasks() -> list[str]:
    return sorted(path.stem for path in tasks_dir().glob("*.json"))


def load_task(name: str) -> TaskDefinition:
    path = tasks_dir() / f"{name}.json"
    if not path.is_file():
        raise TaskDefinitionError(
            f"no task definition {name!r} in {path.parent}; available: {available_tasks()}")
    stat = path.stat()
    return _load_file(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _load_file(path: str, mtime_ns: int, size: int) -> TaskDefinition:
    # mtime and size are part of the cache key so an edited definition is re-read.
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise TaskDefinitionError(f"cannot read task definition {path}: {exc}") from exc
    return parse_definition(raw, source=path)


def parse_definition(raw: Mapping[str, Any], *, source: str = "") -> TaskDefinition:
    where = source or "task definition"

    def need(key: str, kind: type) -> Any:
        value = raw.get(key)
        if not isinstance(value, kind) or (isinstance(value, str) and not value.strip()):
            raise TaskDefinitionError(f"{where}: {key!r} must be a non-empty {kind.__name__}")
        return value

    name = need("name", str)
    if not name.isidentifier():
        raise TaskDefinitionError(f"{where}: name {name!r} must be an identifier")
    version = str(raw.get("version", ""))
    if not version:
        raise TaskDefinitionError(f"{where}: 'version' is required")
    input_fields = need("input_fields", list)
    if not all(isinstance(item, str) and item.isidentifier() for item in input_fields):
        raise TaskDefinitionError(f"{where}: input_fields must be identifiers")
    parameters = need("parameters", dict)
    _check_parameters(parameters, where)
    constraints = raw.get("constraints", {})
    for param, rule in constraints.items():
        if param not in parameters["properties"] or set(rule) != {"subset_of_input"} \
                or rule["subset_of_input"] not in input_fields:
            raise TaskDefinitionError(
                f"{where}: constraint on {param!r} must be {{'subset_of_input': <input field>}}")
    return TaskDefinition(
        name=name, version=version, description=need("description", str),
        guidance=need("guidance", str), input_fields=tuple(input_fields),
        parameters=parameters, constraints=dict(constraints), source=source)


def _check_parameters(parameters: Mapping[str, Any], where: str) -> None:
    if parameters.get("type") != "object" or not isinstance(parameters.get("properties"), dict):
        raise TaskDefinitionError(f"{where}: parameters must be {{type: object, properties}}")
    properties = parameters["properties"]
    for key, prop in properties.items():
        if not key.isidentifier():
            raise TaskDefinitionError(f"{where}: parameter name {key!r} must be an identifier")
        unknown = set(prop) - _PROPERTY_KEYS
        if unknown or prop.get("type") not in _TYPES:
            raise TaskDefinitionError(
                f"{where}: parameter {key!r} must have a type in {sorted(_TYPES)} and only the "
                f"keys {sorted(_PROPERTY_KEYS)} (got {sorted(prop)})")
        if prop["type"] == "array" and prop.get("items", {}).get("type") not in _TYPES - {"array"}:
            raise TaskDefinitionError(f"{where}: array parameter {key!r} needs items.type")
    missing = [key for key in parameters.get("required", []) if key not in properties]
    if missing:
        raise TaskDefinitionError(f"{where}: required names unknown parameters {missing}")


# --------------------------------------------------------------------------- inputs and outputs


def task_inputs(question: Question, node: Node) -> dict[str, Any]:
    """Inputs of ``score_node`` for one node (DESIGN.md section 3)."""
    return {"query": question.text, "tags": [str(tag) for tag in question.tags],
            "location": node.location, "hover": node.hover, "snippet": node.snippet}


# The longest text argument accepted from a model (a rubric's reasoning is one or two
# sentences): a 30 MB reply must not become an answer shown to people and logged.
MAX_ANSWER_CHARS = 4000


def validate_output(task: TaskDefinition, args: Mapping[str, Any],
                    inputs: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Check a call's arguments against the task's schema and return them normalised.

    Lenient only where the meaning is unambiguous: an integer sent as ``"4"`` or ``4.0`` becomes
    4, a boolean sent as ``"true"`` becomes True, surrounding whitespace of a string is dropped.
    Everything else (missing or unknown arguments, out-of-range numbers, empty strings, choices
    outside the candidates) raises :class:`TaskOutputError` naming the argument and the value.
    """
    if not isinstance(args, Mapping):
        raise TaskOutputError(f"{task.name}: arguments must be an object, got {type(args).__name__}")
    unknown = sorted(set(args) - set(task.properties))
    if unknown:
        raise TaskOutputError(
            f"{task.name}: unexpected arguments {unknown}; expected {sorted(task.properties)}")
    missing = [key for key in task.required if key not in args]
    if missing:
        raise TaskOutputError(f"{task.name}: missing required arguments {missing}")
    result: dict[str, Any] = {}
    for key, value in args.items():
        result[key] = _coerce(f"{task.name}.{key}", task.properties[key], value)
    for key, rule in task.constraints.items():
        if key in result and inputs is not None:
            allowed = inputs.get(rule["subset_of_input"], ())
            outside = [item for item in result[key] if item not in allowed]
            if outside:
                raise TaskOutputError(
                    f"{task.name}.{key}: {outside} are not among the candidates {list(allowed)}")
    return result


def _coerce(where: str, prop: Mapping[str, Any], value: Any) -> Any:
    kind = prop["type"]
    if kind == "integer":
        number = _as_integer(value)
        if number is None:
            raise TaskOutputError(f"{where} must be an integer, got {value!r}")
        low, high = prop.get("minimum"), prop.get("maximum")
        if (low is not None and number < low) or (high is not None and number > high):
            raise TaskOutputError(f"{where} must be in {low}..{high}, got {number}")
        return number
    if kind == "number":
        if isinstance(value, bool):
            raise TaskOutputError(f"{where} must be a number, got {value!r}")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise TaskOutputError(f"{where} must be a number, got {value!r}") from None
        if not math.isfinite(number):
            raise TaskOutputError(f"{where} must be a finite number, got {value!r}")
        return number
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise TaskOutputError(f"{where} must be true or false, got {value!r}")
    if kind == "string":
        if not isinstance(value, str) or not value.strip():
            raise TaskOutputError(f"{where} must be a non-empty string, got {value!r}")
        text = value.strip()
        if len(text) > MAX_ANSWER_CHARS:  # a runaway or hostile server, not one or two sentences
            raise TaskOutputError(f"{where} is {len(text)} characters long; a model's text "
                                  f"answer is at most {MAX_ANSWER_CHARS}")
        if "enum" in prop and text not in prop["enum"]:
            raise TaskOutputError(f"{where} must be one of {prop['enum']}, got {text!r}")
        return text
    if kind == "array":
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise TaskOutputError(f"{where} must be a list, got {value!r}")
        return [_coerce(f"{where}[{index}]", prop["items"], item)
                for index, item in enumerate(value)]
    raise TaskOutputError(f"{where}: unsupported schema type {kind!r}")  # guarded at load time


def _as_integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                return None
            return int(number) if number.is_integer() else None
    return None


def rubric_from_output(args: Mapping[str, Any]) -> Rubric:
    """A :class:`Rubric` from validated ``score_node`` arguments."""
    try:
        return Rubric(relevance=args["relevance"], risk=args["risk"],
                      confidence=args["confidence"], reasoning=args["reasoning"])
    except (KeyError, ValueError) as exc:
        raise TaskOutputError(f"score_node: not a rubric: {exc}") from exc

"""Choosing the examples to export: filters, re-parsing raw recordings, dedupe, tag balancing.

An example is one labelled (query, node, rubric) triple of the ``score_node`` task. Filters run
in SQL where they can; every step reports what it removed so the dataset card can say so.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from scout.explore.model import Tag
from scout.functiongemma import FunctionGemmaParseError, parse_task_output
from scout.scoring.model import LabelSource, Rubric
from scout.store import Store
from scout.store.redact import Redactor
from scout.tasks import TaskDefinition, TaskOutputError, rubric_from_output, validate_output

TASK = "score_node"


class SelectionError(ValueError):
    """A filter is malformed or names something the database does not have."""


@dataclass(slots=True)
class Example:
    """One exported triple. ``split`` is filled in by the split step (mutable on purpose:
    copying 100k examples to set one field was a tenth of an export's time)."""

    rubric_id: int
    node_id: int
    query_id: int
    codebase_id: int
    codebase: str
    query: str
    tags: tuple[str, ...]
    path: str
    line: int
    hover: str
    snippet: str
    rubric: Rubric
    label_source: str
    scorer: str
    model: str | None
    timestamp: str  # when the label was produced (ISO-8601 UTC)
    change: str = ""  # the query's change kind (ChangeKind value)
    facts: str = ""  # the node's SiteFacts as stored (JSON), for the guidance audit
    split: str = ""

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"

    def inputs(self) -> dict[str, Any]:
        """``score_node`` inputs, the same fields ``scout.tasks.task_inputs`` builds live."""
        return {"query": self.query, "tags": list(self.tags), "location": self.location,
                "hover": self.hover, "snippet": self.snippet}


@dataclass(frozen=True, slots=True)
class Filters:
    label_sources: tuple[str, ...] = ()
    scorers: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()  # any of
    min_confidence: int | None = None
    since: str | None = None  # inclusive, "YYYY-MM-DDTHH:MM:SSZ"
    until: str | None = None  # exclusive
    codebases: tuple[str, ...] = ()

    def describe(self) -> list[str]:
        out = []
        for name, value in (("label source", self.label_sources), ("scorer", self.scorers),
                            ("tags (any of)", self.tags), ("codebase", self.codebases)):
            if value:
                out.append(f"{name}: {', '.join(value)}")
        if self.min_confidence is not None:
            out.append(f"confidence >= {self.min_confidence}")
        if self.since:
            out.append(f"labelled at or after {self.since}")
        if self.until:
            out.append(f"labelled before {self.until}")
        return out


# Which label wins when several sources labelled one node: the compiler knows, Haiku reads the
# code, the rules are the day-zero guess; the student's own answers are never training targets
# unless asked for (``--priority ...,model``).
DEFAULT_PRIORITY = ("human", "ghc", "haiku", "heuristic")


@dataclass(slots=True)
class SelectionReport:
    selected: int = 0  # rows matching the filters, before dedupe and balancing
    duplicates: int = 0
    priority: tuple[str, ...] | None = None  # None: every label source is its own example
    set_aside: Counter[str] = field(default_factory=Counter)  # source -> labels a better one beat
    not_in_priority: Counter[str] = field(default_factory=Counter)  # source -> labels dropped
    balanced_away: int = 0
    reparsed: int = 0  # --from-recordings: labels parsed again from raw model responses
    kept_stored: int = 0  # --from-recordings: labels with no recording (heuristic, ghc, human)
    unparseable: Counter[str] = field(default_factory=Counter)  # reason -> count

    @property
    def duplicate_rate(self) -> float:
        return self.duplicates / self.selected if self.selected else 0.0


# --------------------------------------------------------------------------- parsing filters


def parse_multi(values: Iterable[str] | None) -> tuple[str, ...]:
    """Repeated flags and comma-strings alike: ``--tags a,b --tags c`` -> (a, b, c)."""
    out: list[str] = []
    for value in values or ():
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return tuple(dict.fromkeys(out))


def parse_label_sources(values: Iterable[str] | None) -> tuple[str, ...]:
    known = {source.value: source.value for source in LabelSource}
    out = []
    for value in parse_multi(values):
        if value.lower() not in known:
            raise SelectionError(f"unknown label source {value!r}; use one of {sorted(known)}")
        out.append(known[value.lower()])
    return tuple(out)


def parse_tags(values: Iterable[str] | None) -> tuple[str, ...]:
    known = {tag.value.lower(): tag.value for tag in Tag}
    out = []
    for value in parse_multi(values):
        if value.lower() not in known:
            raise SelectionError(f"unknown tag {value!r}; use any of {[t.value for t in Tag]}")
        out.append(known[value.lower()])
    return tuple(out)


def parse_when(value: str | None, *, end: bool) -> str | None:
    """A date or ISO timestamp as a stored-timestamp bound. A bare date as ``--until`` means
    the whole day is included."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SelectionError(f"bad date {value!r}: use YYYY-MM-DD or "
                             "YYYY-MM-DDTHH:MM:SSZ") from None
    if moment.tzinfo is not None:  # stored timestamps are UTC
        moment = moment.replace(tzinfo=None) - (moment.utcoffset() or timedelta(0))
    if end:
        moment += timedelta(days=1) if len(value) == 10 else timedelta(seconds=1)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def check_filters(store: Store, filters: Filters) -> None:
    """Names that do not exist in this database are errors, not empty results."""
    if filters.min_confidence is not None and not 1 <= filters.min_confidence <= 5:
        raise SelectionError(f"--min-confidence must be 1..5, got {filters.min_confidence}")
    if filters.since and filters.until and filters.since >= filters.until:
        raise SelectionError(f"the date range is empty: since {filters.since} is not before "
                             f"until {filters.until}")
    known_codebases = {row[0] for row in store.rows("SELECT name FROM codebases")}
    unknown = [name for name in filters.codebases if name not in known_codebases]
    if unknown:
        raise SelectionError(f"no codebase named {unknown} in {store.path}; "
                             f"known: {sorted(known_codebases)}")
    known_scorers = {row[0] for row in store.rows("SELECT DISTINCT scorer FROM rubrics")}
    unknown = [name for name in filters.scorers if name not in known_scorers]
    if unknown:
        raise SelectionError(f"no labels from scorer {unknown} in {store.path}; "
                             f"known: {sorted(known_scorers)}")


# --------------------------------------------------------------------------- reading

_COLUMNS = ("r.id", "r.node_id", "n.query_id", "c.id", "c.name", "q.text", "q.tags", "n.path",
            "n.line", "n.hover", "n.snippet", "r.relevance", "r.risk", "r.confidence",
            "r.reasoning", "r.label_source", "r.scorer", "r.model", "r.created_at", "q.change",
            "n.facts")


def _where(filters: Filters, *, labelled_only: bool) -> tuple[str, list[Any]]:
    clauses = ["r.task = ?"]
    params: list[Any] = [TASK]
    if labelled_only:
        clauses.append("r.relevance IS NOT NULL")
    for column, values in (("r.label_source", filters.label_sources),
                           ("r.scorer", filters.scorers), ("c.name", filters.codebases)):
        if values:
            clauses.append(f"{column} IN ({', '.join('?' for _ in values)})")
            params.extend(values)
    if filters.tags:
        clauses.append("EXISTS (SELECT 1 FROM json_each(q.tags) WHERE value IN "
                       f"({', '.join('?' for _ in filters.tags)}))")
        params.extend(filters.tags)
    if filters.since:
        clauses.append("r.created_at >= ?")
        params.append(filters.since)
    if filters.until:
        clauses.append("r.created_at < ?")
        params.append(filters.until)
    return " AND ".join(clauses), params


_FROM = ("FROM rubrics r JOIN nodes n ON n.id = r.node_id JOIN queries q ON q.id = n.query_id "
         "JOIN codebases c ON c.id = q.codebase_id")


class _RowReader:
    """Rows -> Examples, with memos: tags JSON, query texts, hovers and reasoning repeat
    across a query's nodes and are decoded and redacted once."""

    def __init__(self) -> None:
        self.clean = Redactor()
        self._tags: dict[str, tuple[str, ...]] = {}

    def tags(self, text: str) -> tuple[str, ...]:
        tags = self._tags.get(text)
        if tags is None:
            tags = self._tags[text] = tuple(json.loads(text))
        return tags

    def example(self, row: Sequence[Any], rubric: Rubric) -> Example:
        # Rows are redacted on the way in; redacting again on the way out covers databases
        # written before a redaction rule existed.
        clean = self.clean
        return Example(
            rubric_id=row[0], node_id=row[1], query_id=row[2], codebase_id=row[3],
            codebase=row[4], query=clean(row[5]), tags=self.tags(row[6]), path=row[7],
            line=row[8], hover=clean(row[9]), snippet=clean(row[10]), rubric=rubric,
            label_source=row[15], scorer=row[16], model=row[17], timestamp=row[18],
            change=row[19], facts=row[20])


def load_examples(store: Store, filters: Filters) -> list[Example]:
    where, params = _where(filters, labelled_only=True)
    if filters.min_confidence is not None:
        where += " AND r.confidence >= ?"
        params.append(filters.min_confidence)
    sql = f"SELECT {', '.join(_COLUMNS)} {_FROM} WHERE {where} ORDER BY r.id"
    reader = _RowReader()
    clean = reader.clean
    return [reader.example(row, Rubric(row[11], row[12], row[13], clean(row[14])))
            for row in store.rows(sql, params)]


def load_from_recordings(store: Store, filters: Filters, task: TaskDefinition,
                         report: SelectionReport) -> list[Example]:
    """Labels parsed again from the stored raw model responses (no model is called). Labels
    that never had a recording (heuristic, GHC, human) are kept as stored; a recording that no
    longer parses drops its example, counted by reason in ``report.unparseable``."""
    where, params = _where(filters, labelled_only=False)
    sql = f"SELECT {', '.join(_COLUMNS)} {_FROM} WHERE {where} ORDER BY r.id"
    rows = list(store.rows(sql, params))
    recordings: dict[int, list[tuple[str, str, str | None, str | None]]] = {}
    for rubric_id, backend, endpoint, response, error in store.rows(
            "SELECT rubric_id, backend, endpoint, response, error FROM recordings "
            "ORDER BY rubric_id, position"):
        recordings.setdefault(rubric_id, []).append((backend, endpoint, response, error))
    out: list[Example] = []
    reader = _RowReader()
    for row in rows:
        exchanges = recordings.get(row[0])
        if not exchanges:
            if row[11] is None:
                continue  # an error without a recording: nothing to re-parse
            report.kept_stored += 1
            rubric = Rubric(row[11], row[12], row[13], reader.clean(row[14]))
        else:
            inputs = {"query": row[5], "tags": json.loads(row[6]),
                      "location": f"{row[7]}:{row[8]}", "hover": row[9], "snippet": row[10]}
            try:
                rubric = rubric_from_recordings(task, exchanges, inputs)
            except RecordingParseError as exc:
                report.unparseable[str(exc)] += 1
                continue
            report.reparsed += 1
        if filters.min_confidence is not None and rubric.confidence < filters.min_confidence:
            continue
        out.append(reader.example(row, replace(rubric, reasoning=reader.clean(rubric.reasoning))))
    return out


class RecordingParseError(ValueError):
    pass


def _reason(exc: Exception) -> str:
    # Group reasons for the card: the first clause, without the quoted model text.
    return re.split(r"[:(]", str(exc), maxsplit=1)[0].strip() or type(exc).__name__


def rubric_from_recordings(task: TaskDefinition,
                           exchanges: Sequence[tuple[str, str, str | None, str | None]],
                           inputs: Mapping[str, Any]) -> Rubric:
    """The rubric in the last successful exchange: Anthropic ``tool_use`` blocks, Ollama
    ``/api/generate`` text (FunctionGemma calls), Ollama chat ``tool_calls`` or content."""
    last_error = "no successful exchange"
    for backend, _endpoint, response_json, error in reversed(exchanges):
        if error or response_json is None:
            last_error = "the recorded call failed"
            continue
        try:
            args = _answer_args(task, json.loads(response_json), inputs)
            return rubric_from_output(validate_output(task, args, inputs))
        except (FunctionGemmaParseError, TaskOutputError, ValueError, KeyError,
                TypeError) as exc:
            raise RecordingParseError(f"{backend}: {_reason(exc)}") from exc
    raise RecordingParseError(last_error)


def _answer_args(task: TaskDefinition, response: Any, inputs: Mapping[str, Any]) -> Any:
    if isinstance(response, str):
        return parse_task_output(task, response, inputs)
    if not isinstance(response, Mapping):
        raise ValueError(f"unrecognised response body of type {type(response).__name__}")
    if isinstance(response.get("result"), Mapping):  # a Message Batches result line
        result = response["result"]
        if result.get("type") != "succeeded":
            raise ValueError(f"batch item {result.get('type')}")
        return _answer_args(task, result["message"], inputs)
    if isinstance(response.get("content"), list):  # Anthropic message
        for block in response["content"]:
            if isinstance(block, Mapping) and block.get("type") == "tool_use" \
                    and block.get("name") == task.name:
                return block["input"]
        raise ValueError("no tool_use block for the task in the answer")
    if "response" in response:  # Ollama /api/generate
        return parse_task_output(task, response["response"], inputs)
    message = response.get("message")
    if isinstance(message, Mapping):  # Ollama /api/chat
        for call in message.get("tool_calls") or ():
            function = call.get("function", {})
            if function.get("name") == task.name:
                arguments = function.get("arguments")
                return json.loads(arguments) if isinstance(arguments, str) else arguments
        return parse_task_output(task, message.get("content") or "", inputs)
    raise ValueError("unrecognised response body")


# --------------------------------------------------------------------------- dedupe, balance

_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=65536)
def normalise_query(text: str) -> str:
    return _SPACE.sub(" ", text).strip().rstrip("?.! ").lower()


def dedupe(examples: Sequence[Example], report: SelectionReport) -> list[Example]:
    """One example per (normalised query, node, label source): the latest label wins."""
    latest: dict[tuple[Any, ...], Example] = {}
    for example in examples:  # ordered by rubric id, so later labels overwrite earlier ones
        key = (normalise_query(example.query), example.codebase_id, example.path, example.line,
               example.label_source)
        latest[key] = example
    report.duplicates = len(examples) - len(latest)
    return sorted(latest.values(), key=lambda e: e.rubric_id)


def parse_priority(values: Iterable[str] | None) -> tuple[str, ...]:
    """``ghc,haiku,heuristic`` -> label sources, best first (validated)."""
    chosen = parse_label_sources(values)
    if values is not None and not chosen:
        raise SelectionError("--priority needs at least one label source")
    return chosen or DEFAULT_PRIORITY


def pick_by_priority(examples: Sequence[Example], priority: Sequence[str],
                     report: SelectionReport) -> list[Example]:
    """One example per (normalised query, node): the label of the best-ranked source (its
    latest label); sources not in ``priority`` are left out. Counts go to ``report``."""
    rank = {source: i for i, source in enumerate(priority)}
    best: dict[tuple[Any, ...], Example] = {}
    duplicates = 0
    for example in examples:  # ordered by rubric id: a later label of the same source wins
        position = rank.get(example.label_source)
        if position is None:
            report.not_in_priority[example.label_source] += 1
            continue
        key = (normalise_query(example.query), example.codebase_id, example.path, example.line)
        current = best.get(key)
        if current is None:
            best[key] = example
            continue
        if current.label_source == example.label_source:
            duplicates += 1
            best[key] = example
        elif position < rank[current.label_source]:
            report.set_aside[current.label_source] += 1
            best[key] = example
        else:
            report.set_aside[example.label_source] += 1
    report.duplicates = duplicates
    report.priority = tuple(priority)
    return sorted(best.values(), key=lambda e: e.rubric_id)


def tag_key(example: Example) -> str:
    return "+".join(sorted(example.tags)) or "(no tags)"


def balance_tags(examples: Sequence[Example], seed: int, report: SelectionReport,
                 cap: int | None = None) -> list[Example]:
    """Down-sample each tag combination to the rarest one's count (or ``cap``)."""
    groups: dict[str, list[Example]] = {}
    for example in examples:
        groups.setdefault(tag_key(example), []).append(example)
    limit = cap if cap is not None else min(len(g) for g in groups.values())
    rng = random.Random(seed)
    kept: list[Example] = []
    for key in sorted(groups):
        group = groups[key]
        kept.extend(group if len(group) <= limit else rng.sample(group, limit))
    report.balanced_away = len(examples) - len(kept)
    return sorted(kept, key=lambda e: e.rubric_id)


def select(store: Store, filters: Filters, *, task: TaskDefinition, from_recordings: bool,
           do_dedupe: bool, balance: bool, balance_cap: int | None, seed: int,
           priority: Sequence[str] | None = DEFAULT_PRIORITY,
           on_progress: Callable[[str], None] = lambda _msg: None) -> tuple[list[Example],
                                                                           SelectionReport]:
    """``priority``: one example per node, from the best-ranked label source (None: one per
    label source, deduplicated when ``do_dedupe``)."""
    check_filters(store, filters)
    report = SelectionReport()
    with store.read_snapshot():
        if from_recordings:
            on_progress("re-parsing recorded model responses")
            examples = load_from_recordings(store, filters, task, report)
        else:
            examples = load_examples(store, filters)
    report.selected = len(examples)
    if priority is not None:
        examples = pick_by_priority(examples, priority, report)
    elif do_dedupe:
        examples = dedupe(examples, report)
    if balance and examples:
        examples = balance_tags(examples, seed, report, balance_cap)
    return examples, report

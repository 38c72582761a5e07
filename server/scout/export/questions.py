"""``parse_question`` examples: how each logged question was understood, as training data.

One example per logged query whose reading was recorded (schema version 3): the question as
the user wrote it and the lexicon excerpt the reading looked at go in, the reading comes out
(the qualified target, the change kind, the member when one was named). The reading is made
by the rule-based understanding (``scout.explore.question``), so the label source is
``heuristic``, as for the rule-based node scores. Questions built from ``--target/--change``
carry no text of their own and are left out; so is the same question asked twice about the
same definition in one codebase (the latest is kept).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scout.explore.resolve import parse_target_name, split_namespace
from scout.export.select import Filters, SelectionError, SelectionReport, normalise_query
from scout.export.split import SPLITS
from scout.store import Store
from scout.store.redact import Redactor

TASK = "parse_question"
LABEL_SOURCE = "heuristic"
SCORER = "question-reader"


@dataclass(slots=True)
class QuestionExample:
    """One understood question. Has what splits, renderers and cards read from an
    ``export.select.Example`` (``split`` is filled in by the split step)."""

    query_id: int
    codebase_id: int
    codebase: str
    query: str  # the question as asked
    lexicon: tuple[str, ...]
    target: str  # qualified: Module.name
    change: str
    subject: str | None
    method: str
    how: str
    timestamp: str
    split: str = ""
    label_source: str = LABEL_SOURCE
    scorer: str = SCORER

    def inputs(self) -> dict[str, Any]:
        return {"question": self.query, "lexicon": "\n".join(self.lexicon) or "(no names)"}

    def output(self) -> dict[str, Any]:
        out: dict[str, Any] = {"target": self.target, "change": self.change}
        if self.subject:
            out["subject"] = self.subject
        return out

    def json_record(self) -> dict[str, Any]:
        return {"question": self.query, "lexicon": list(self.lexicon),
                "reading": self.output(), "how": self.how, "method": self.method,
                "timestamp": self.timestamp}


def _qualified(target: str, module: str | None) -> str:
    namespace, name = split_namespace(target)
    _, bare = parse_target_name(name)
    if not (bare[:1].isalnum() or bare[:1] == "_"):
        bare = f"({bare})"
    qualified = f"{module}.{bare}" if module else bare
    return f"{namespace} {qualified}" if namespace else qualified


_NOT_APPLICABLE = ("label_sources", "scorers", "tags", "min_confidence")


def load_question_examples(store: Store, filters: Filters,
                           report: SelectionReport) -> list[QuestionExample]:
    """Every logged question with a recorded reading, oldest first, deduplicated."""
    given = [name for name in _NOT_APPLICABLE if getattr(filters, name)]
    if given:
        raise SelectionError(f"{', '.join(given)} filter(s) select node labels and do not apply "
                             "to parse_question examples; use --codebase, --since, --until")
    clauses = ["q.reading IS NOT NULL", "q.asked IS NOT NULL", "q.asked != ''"]
    params: list[Any] = []
    if filters.codebases:
        clauses.append(f"c.name IN ({', '.join('?' for _ in filters.codebases)})")
        params.extend(filters.codebases)
    if filters.since:
        clauses.append("q.created_at >= ?")
        params.append(filters.since)
    if filters.until:
        clauses.append("q.created_at < ?")
        params.append(filters.until)
    clean = Redactor()
    rows = store.rows(
        "SELECT q.id, q.codebase_id, c.name, q.asked, q.reading, q.target, q.target_module, "
        "q.change, q.subject, q.created_at FROM queries q JOIN codebases c "
        f"ON c.id = q.codebase_id WHERE {' AND '.join(clauses)} ORDER BY q.id", params)
    latest: dict[tuple[Any, ...], QuestionExample] = {}
    for qid, codebase_id, codebase, asked, reading_json, target, module, change, subject, \
            created in rows:
        reading = json.loads(reading_json)
        if not str(reading.get("method", "")).startswith("text"):
            continue  # built from --target/--change: the text is generated, not asked
        example = QuestionExample(
            query_id=qid, codebase_id=codebase_id, codebase=codebase, query=clean(asked),
            lexicon=tuple(clean(line) for line in reading.get("lexicon", ())),
            target=_qualified(target, module), change=change, subject=subject,
            method=reading.get("method", ""), how=clean(reading.get("how", "")),
            timestamp=created)
        key = (codebase_id, normalise_query(example.query), example.target, example.change)
        latest[key] = example
    report.selected = len(rows)
    report.duplicates = len(rows) - len(latest)
    return sorted(latest.values(), key=lambda e: e.query_id)


def question_card(examples: Sequence[QuestionExample], report: SelectionReport, *, fmt: str,
                  db_path: str, generated_at: str, task_version: str) -> str:
    """The dataset card for a ``parse_question`` export."""
    by_change: Counter[tuple[str, str]] = Counter((e.split, e.change) for e in examples)
    changes = sorted({c for _, c in by_change})
    lines = [f"# parse_question dataset ({fmt})", "",
             f"Generated {generated_at} from `{db_path}` (task `parse_question` version "
             f"{task_version}). Input: the question as asked and the lexicon excerpt the reading "
             "looked at; output: the qualified target, the change kind and the member when one "
             "was named. Labels come from the rule-based reading "
             f"(label source `{LABEL_SOURCE}`).", "",
             f"{report.selected} logged questions with a reading, {report.duplicates} repeats "
             f"dropped, {len(examples)} exported.", "",
             "| change | " + " | ".join(SPLITS) + " | total |",
             "|---|" + "---|" * (len(SPLITS) + 1)]
    for change in changes:
        counts = [by_change.get((split, change), 0) for split in SPLITS]
        lines.append(f"| {change} | " + " | ".join(map(str, counts)) + f" | {sum(counts)} |")
    return "\n".join(lines) + "\n"

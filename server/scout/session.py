"""One workspace's scout: index -> explore -> score -> store, as library calls.

The CLI and the language server are both thin shells over ``ScoutSession``: it holds the index
(updated incrementally), the scorers, the store location, and every answer it gave, by query,
so a code lens can be resolved from cached results long after the question was asked.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scout.explore.engine import explore
from scout.explore.model import Exploration, Node, Question
from scout.haskell.index import WorkspaceIndex
from scout.scoring.model import Scored, Scorer


@dataclass(slots=True)
class LogOutcome:
    """What happened to the record of a query: stored (with its id), skipped, or failed."""

    query_id: int | None = None
    database: str | None = None
    error: str | None = None  # e.g. the database is locked: the answer stands, logging failed
    skipped: bool = False


@dataclass(slots=True)
class QueryResult:
    key: int  # this session's handle for the answer (stable while the session lives)
    exploration: Exploration
    scored: list[list[Scored]]  # per node: the primary answer first, then shadows/teachers
    seconds: float
    log: LogOutcome = field(default_factory=LogOutcome)

    def primary(self, i: int) -> Scored:
        return self.scored[i][0]

    def ranked(self) -> list[tuple[Node, Scored]]:
        """Nodes ordered by risk, then relevance (highest first); unscored nodes last,
        ties in exploration order."""
        pairs = list(zip(self.exploration.nodes, (s[0] for s in self.scored), strict=True))
        order = sorted(range(len(pairs)), key=lambda i: _order_key(pairs[i][1], i))
        return [pairs[i] for i in order]

    def to_json(self) -> dict[str, Any]:
        """The `scout query --json` contract (issue 3)."""
        q = self.exploration.question
        cov = self.exploration.coverage
        nodes = []
        for node, scored in self.ranked():
            item: dict[str, Any] = {
                "location": node.location,
                "hover": node.hover,
                "snippet": node.snippet,
                "rubric": scored.rubric.as_dict() if scored.rubric else None,
                "scorer": scored.scorer,
            }
            if scored.rubric is None:
                item["error"] = scored.error
            if scored.fallback_reason:
                item["fallback_reason"] = scored.fallback_reason
            nodes.append(item)
        return {
            "query": {"query": q.text, "tags": [t.value for t in q.tags],
                      "target": self.exploration.target.qualified, "change": q.change.value,
                      "budget": q.budget},
            "nodes": nodes,
            "coverage": {"files_indexed": cov.files_indexed,
                         "files_with_errors": cov.files_with_errors,
                         "nodes_found": cov.nodes_found, "nodes_kept": cov.nodes_kept},
        }


def _order_key(scored: Scored, position: int) -> tuple[int, int, int]:
    if scored.rubric is None:
        return (1, 0, position)
    return (-scored.rubric.risk, -scored.rubric.relevance, position)


Recorder = Callable[[Exploration, Sequence[Sequence[Scored]], Path], int]


class ScoutSession:
    """Answers questions about one workspace. Thread-safe for one writer at a time."""

    def __init__(self, root: Path, *, scorer: Scorer, shadow: Scorer | None = None,
                 db_path: Path | None = None, log: bool = True,
                 index: WorkspaceIndex | None = None, cache_dir: Path | None = None,
                 use_cache: bool = True, workers: int | None = None) -> None:
        self.root = root.resolve()
        self.scorer = scorer
        self.shadow = shadow
        self.db_path = db_path
        self.log_enabled = log
        self._index = index
        self._index_options = {"cache_dir": cache_dir, "use_cache": use_cache,
                               "workers": workers}
        self._results: dict[int, QueryResult] = {}
        self._keys = itertools.count(1)
        self._lock = threading.RLock()

    @property
    def index(self) -> WorkspaceIndex:
        with self._lock:
            if self._index is None:
                self._index = WorkspaceIndex.build(self.root, **self._index_options)
            return self._index

    def update_file(self, rel: str, text: bytes | None) -> None:
        self.index.update_file(rel, text)

    def ask(self, question: Question | str | Mapping[str, Any], *,
            budget: int | str | None = None) -> QueryResult:
        """Explore, score (primary, then shadow if any), and log one question."""
        if not isinstance(question, Question):
            from scout.explore.question import parse_question

            question = parse_question(question, budget=budget, index=self.index)
        started = time.perf_counter()
        exploration = explore(self.index, question)
        primary = self.scorer.score(question, exploration.nodes)
        scored = [[s] for s in primary]
        if self.shadow is not None and exploration.nodes:
            for row, extra in zip(scored, self.shadow.score(question, exploration.nodes),
                                  strict=True):
                row.append(extra)
        seconds = time.perf_counter() - started
        result = QueryResult(next(self._keys), exploration, scored, seconds)
        if self.log_enabled:
            result.log = self._record(result)
        else:
            result.log = LogOutcome(skipped=True)
        with self._lock:
            self._results[result.key] = result
        return result

    def _record(self, result: QueryResult) -> LogOutcome:
        from scout.store.db import Store, StoreError

        try:
            store = Store.open(self.db_path, workspace=self.root)
        except StoreError as exc:
            return LogOutcome(error=str(exc))
        try:
            query_id = store.record(result.exploration, result.scored, root=self.root)
            return LogOutcome(query_id=query_id, database=str(store.path))
        except StoreError as exc:
            return LogOutcome(error=str(exc), database=str(store.path))
        finally:
            store.close()

    def result(self, key: int) -> QueryResult | None:
        return self._results.get(key)

    def results(self) -> list[QueryResult]:
        return [self._results[k] for k in sorted(self._results)]

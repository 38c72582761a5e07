"""One workspace's scout: index -> explore -> score -> store, as library calls.

The CLI and the language server are both thin shells over ``ScoutSession``: from one
``Settings`` value it builds the index, the scorers and the store, answers questions, logs them
and keeps the answers (bounded) so a code lens can be resolved from cached results long after
the question was asked.

State model (ARCHITECTURE.md, "Invariants"):
- One owner mutates the workspace state: the index (``WorkspaceIndex``) publishes immutable
  revisions; a question runs on one revision from start to end.
- Long work takes a ``CancelToken``; the model scorers also get the question's deadline.
- The answer comes first: logging and shadow scoring run on background threads, in order, and
  report what happened to them on the result (``log``, ``shadow``) and through ``on_event``.
- Everything kept is bounded: answers (LRU), pending logs, pending shadow calls.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from scout.cancel import NEVER, CancelToken
from scout.explore.engine import explore
from scout.explore.model import Exploration, Node, Question
from scout.haskell.index import IndexSnapshot, Progress, WorkspaceIndex
from scout.scoring.hybrid import ShadowResult, ShadowRunner
from scout.scoring.model import Scored, Scorer
from scout.settings import Settings

log = logging.getLogger(__name__)

MAX_RESULTS = 50  # answers kept for lenses and the results view
MAX_PENDING_LOGS = 64  # answers waiting to be logged (a locked database must not grow memory)

# (result key, what happened): "answer", "logged", "shadow", "cleared"
EventSink = Callable[[int, str], None]
# Hover text for nodes from outside the index (HLS through the editor): one per node or None.
HoverProvider = Callable[[Sequence[Node]], Sequence[str | None]]


@dataclass(slots=True)
class LogOutcome:
    """What happened to the record of a query: stored (with its id), skipped, or failed."""

    query_id: int | None = None
    database: str | None = None
    error: str | None = None  # e.g. the database is locked: the answer stands, logging failed
    skipped: bool = False
    pending: bool = False  # still being written in the background


@dataclass(slots=True)
class ShadowState:
    """The teacher shadowing this answer: off, pending, done (results logged) or failed."""

    state: str = "off"  # off | pending | done | failed | skipped
    scorer: str | None = None
    error: str | None = None


@dataclass(slots=True)
class QueryResult:
    key: int  # this session's handle for the answer (stable while the session lives)
    exploration: Exploration
    scored: list[list[Scored]]  # per node: the primary answer first, then shadows/teachers
    seconds: float
    revision: int = 0  # the index revision the answer was computed on
    index_complete: bool = True  # False: asked while the first build was running
    # The affected files' lines as the answer saw them: lenses follow later edits from here.
    texts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    log: LogOutcome = field(default_factory=LogOutcome)
    shadow: ShadowState = field(default_factory=ShadowState)  # the teacher (Haiku)
    student: ShadowState = field(default_factory=ShadowState)  # a model not yet promoted
    logged: Future[LogOutcome] | None = None  # completes when logging finished (or failed)

    def set_shadow(self, role: str, state: ShadowState) -> None:
        if role == "student":
            self.student = state
        else:
            self.shadow = state

    def primary(self, i: int) -> Scored:
        return self.scored[i][0]

    def ranked(self) -> list[tuple[Node, Scored]]:
        """Nodes ordered by risk, then relevance (highest first); unscored nodes last,
        ties in exploration order."""
        pairs = list(zip(self.exploration.nodes, (s[0] for s in self.scored), strict=True))
        order = sorted(range(len(pairs)), key=lambda i: _order_key(pairs[i][1], i))
        return [pairs[i] for i in order]

    def wait_logged(self, timeout: float | None = None) -> LogOutcome:
        """Block until the background log finished (the CLI, before it exits)."""
        if self.logged is not None:
            try:
                self.logged.result(timeout=timeout)
            except TimeoutError:
                pass
        return self.log

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


class ScoutSession:
    """Answers questions about one workspace. Thread-safe: questions may run concurrently
    (each on its own index snapshot); edits go through the one index owner."""

    def __init__(self, root: Path, settings: Settings | None = None, *,
                 index: WorkspaceIndex | None = None, on_event: EventSink | None = None,
                 scorers: tuple[Scorer, Scorer | None] | None = None) -> None:
        self.root = root.resolve()
        self.on_event = on_event
        self._settings = settings if settings is not None else Settings()
        self._index = index
        self._index_lock = threading.Lock()
        self._results: OrderedDict[int, QueryResult] = OrderedDict()
        self._keys = itertools.count(1)
        self._lock = threading.RLock()
        self._store: Any = None  # scout.store.Store, opened on first use and kept
        self._store_lock = threading.Lock()
        self._recorder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scout-log")
        self._pending_logs = 0
        self._scorers = scorers
        self._scorer_error: str | None = None
        self._shadows: dict[str, ShadowRunner] = {}  # "teacher" (Haiku), "student" (model)
        self._answering: tuple[tuple, float, dict[str, Any]] | None = None
        self._closed = False

    # -- settings and scorers ---------------------------------------------------------------
    @property
    def settings(self) -> Settings:
        return self._settings

    def configure(self, settings: Settings) -> None:
        """Apply new settings (the editor's configuration changed, the user picked a scorer).
        Scorers are rebuilt on next use; the index is kept unless its own options changed."""
        with self._lock:
            old, self._settings = self._settings, settings
            if _scorer_options(old) != _scorer_options(settings):
                self._scorers = None
                self._scorer_error = None
                for runner in self._shadows.values():
                    runner.close(wait=False)
                self._shadows = {}

    def scorers(self) -> tuple[Scorer, Scorer | None]:
        """The primary scorer and the shadowing teacher (None when shadowing is off or cannot
        run here; ``scorer_error`` says why)."""
        with self._lock:
            if self._scorers is None:
                from scout.scoring.factory import ScorerConfigError, build_scorers
                from scout.scoring.heuristic import HeuristicScorer

                try:
                    self._scorers = build_scorers(self._settings)
                except ScorerConfigError as exc:
                    if not self._settings.shadow:
                        raise
                    # The teacher cannot run (no API key): answer without it, and say so.
                    self._scorer_error = f"shadowing is off: {exc}"
                    primary, _ = build_scorers(replace(self._settings, shadow=False),
                                               fallback=HeuristicScorer())
                    self._scorers = (primary, None)
                from scout.scoring.promotion import attach_gate, thresholds_from

                # hybrid: the model answers first only once scout eval promoted it here
                attach_gate(self._scorers[0], root=self.root, db=self._settings.db_path,
                            thresholds=thresholds_from(self._settings), shadow_model=False)
            return self._scorers

    @property
    def scorer_error(self) -> str | None:
        return self._scorer_error

    def _promotion(self) -> Any:
        """The promotion gate's decision for the hybrid's model (None: no gate)."""
        primary = self.scorers()[0]
        gate = _gate_of(primary)
        return gate.decide(primary.model) if gate is not None else None  # type: ignore[attr-defined]

    def answering(self, *, max_age: float = 30.0) -> dict[str, Any]:
        """Who answers questions now, and why: the chosen scorer, or the heuristics when the
        local model cannot (probed at most every ``max_age`` seconds; the probe is a network
        call with a short timeout, so callers run this off any event loop)."""
        s = self._settings
        cached = self._answering
        if cached is not None and cached[0] == _scorer_options(s) and \
                time.monotonic() - cached[1] < max_age:
            return cached[2]
        ollama: dict[str, Any] = {"host": s.ollama_host or "http://127.0.0.1:11434",
                                  "model": s.ollama_model, "reachable": None, "message": None}
        if s.scorer == "heuristic":
            who, why = "heuristic", "the heuristic scorer was chosen"
        elif s.scorer == "haiku":
            key = "ANTHROPIC_API_KEY" in os.environ
            who, why = ("haiku", "Claude Haiku was chosen") if key else (
                "nobody", "Claude Haiku was chosen but ANTHROPIC_API_KEY is not set")
        else:
            from scout.scoring.ollama import OllamaScorer

            try:
                status = OllamaScorer(host=s.ollama_host, model=s.ollama_model,
                                      timeout=min(2.0, s.model_timeout)).check()
                ollama.update(host=status.host, reachable=status.reachable,
                              present=status.model_present, message=status.message)
                ok, message = status.ok, status.message
            except ValueError as exc:
                ok, message = False, str(exc)
                ollama.update(reachable=False, message=message)
            decision = self._promotion() if ok and s.scorer == "hybrid" else None
            if decision is not None and decision.answering != "model":
                who, why = "heuristic", f"the heuristics answer: {decision.why}"
            elif ok:
                who, why = "ollama", decision.why if decision is not None else message
            elif s.scorer == "hybrid":
                who, why = "heuristic", f"the heuristics answer: {message}"
            else:
                who, why = "nobody", message
        answer = {"answering": who, "why": why, "ollama": ollama}
        self._answering = (_scorer_options(s), time.monotonic(), answer)
        return answer

    # -- the index ------------------------------------------------------------------------
    @property
    def index(self) -> WorkspaceIndex:
        """The workspace index, built (synchronously) on first use."""
        if self._index is None:
            self.load_index()
        assert self._index is not None
        return self._index

    @property
    def indexed(self) -> bool:
        return self._index is not None

    def load_index(self, *, progress: Progress | None = None,
                   cancel: CancelToken = NEVER) -> WorkspaceIndex:
        """Build the index (once; again only if an earlier build was cancelled). Readers that
        come meanwhile get the partial revisions the build publishes."""
        with self._index_lock:
            if self._index is None or not self._index.snapshot().complete:
                if not self.root.is_dir():
                    raise NotADirectoryError(f"workspace root {self.root} is not a directory")
                index = self._index or WorkspaceIndex(self.root)
                self._index = index
                s = self._settings
                index.load(cache_dir=s.cache_dir, use_cache=s.use_cache, workers=s.workers,
                           progress=progress, cancel=cancel)
            return self._index

    def snapshot(self) -> IndexSnapshot:
        return self.index.snapshot()

    def update_file(self, rel: str, text: bytes | None) -> None:
        self.index.update_file(rel, text)

    # -- questions -----------------------------------------------------------------------
    def understand(self, question: Question | str | Mapping[str, Any], *,
                   budget: int | str | None = None) -> Question:
        if isinstance(question, Question):
            return question
        from scout.explore.question import parse_question

        return parse_question(question, budget=budget if budget is not None
                              else self._settings.budget, index=self.index.snapshot())

    def ask(self, question: Question | str | Mapping[str, Any], *,
            budget: int | str | None = None, cancel: CancelToken = NEVER,
            superseded_by: CancelToken | None = None,
            hovers: HoverProvider | None = None, log: bool | None = None) -> QueryResult:
        """Explore and score one question, and return the answer at once; logging and the
        shadow teacher follow in the background (``result.logged``, ``result.shadow``).

        ``cancel`` stops the work (``Cancelled``); the model scorers additionally stop at the
        settings' deadline and the heuristics answer for what did not arrive, with the reason.
        ``superseded_by`` stops only the exploration (cheap to redo): a server cancels it when
        an edit arrives, and asks again on the new revision.
        """
        question = self.understand(question, budget=budget)
        started = time.perf_counter()
        snapshot = self.index.snapshot()
        explore_cancel = cancel
        if superseded_by is not None:
            explore_cancel = cancel.child()
            superseded_by.on_cancel(
                lambda: explore_cancel.cancel(superseded_by.reason or "superseded"))
        exploration = explore(snapshot, question, cancel=explore_cancel)
        if hovers is not None and exploration.nodes:
            exploration.nodes = _with_hovers(exploration.nodes, hovers)
        cancel.check()
        primary, teacher = self.scorers()
        model_time = cancel.child(timeout=self._settings.deadline)
        scored = [[s] for s in primary.score(question, exploration.nodes, cancel=model_time)]
        cancel.check()
        shadows: list[tuple[str, Scorer]] = [("teacher", teacher)] if teacher else []
        student = _unpromoted_model(primary)
        if student is not None:  # logged beside the heuristics' answer, in the background
            shadows.append(("student", student))
        texts = {path: tuple(snapshot.source_lines(path))
                 for path in {n.path for n in exploration.nodes}}
        result = QueryResult(next(self._keys), exploration, scored,
                             time.perf_counter() - started, revision=snapshot.revision,
                             index_complete=snapshot.complete, texts=texts)
        self._remember(result)
        logging_on = self._settings.log if log is None else log
        if self._scorer_error and teacher is None:
            result.shadow = ShadowState("failed", "haiku", self._scorer_error)
        if logging_on or shadows:
            self._after_answer(result, shadows, logging_on)  # emits "answer" before the rest
        else:
            result.log = LogOutcome(skipped=True)
            self._emit(result.key, "answer")
        return result

    # -- background: log, then shadow ---------------------------------------------------------
    def _after_answer(self, result: QueryResult, shadows: list[tuple[str, Scorer]],
                      logging_on: bool) -> None:
        if result.exploration.nodes:
            for role, scorer in shadows:
                result.set_shadow(role, ShadowState("pending", scorer.name))
        result.log = LogOutcome(pending=logging_on, skipped=not logging_on)
        with self._lock:
            if self._pending_logs >= MAX_PENDING_LOGS:
                result.log = LogOutcome(error=f"{MAX_PENDING_LOGS} answers are still waiting "
                                        "to be logged (is the database locked?); this one was "
                                        "not logged")
                for role, scorer in shadows:
                    result.set_shadow(role, ShadowState("skipped", scorer.name,
                                                        result.log.error))
                self._emit(result.key, "answer")
                return
            self._pending_logs += 1
        self._emit(result.key, "answer")  # listeners hear of the answer before its log
        result.logged = self._recorder.submit(self._log_then_shadow, result, shadows,
                                              logging_on)

    def _log_then_shadow(self, result: QueryResult, shadows: list[tuple[str, Scorer]],
                         logging_on: bool) -> LogOutcome:
        try:
            if logging_on:
                result.log = self._record(result)
                self._emit(result.key, "logged")
            if result.exploration.nodes:
                for role, scorer in shadows:
                    self._start_shadow(result, role, scorer)
            return result.log
        finally:
            with self._lock:
                self._pending_logs -= 1

    def _start_shadow(self, result: QueryResult, role: str, scorer: Scorer) -> None:
        """Score the answer's nodes with a teacher (Haiku) or the not-yet-promoted student
        model, in the background; their answers are logged beside the primary's."""
        with self._lock:
            runner = self._shadows.get(role)
            if runner is None or runner.teacher is not scorer:
                if runner is not None:
                    runner.close(wait=False)
                runner = self._shadows[role] = ShadowRunner(scorer)
        question = result.exploration.question
        deadline = self._settings.deadline
        cancel = CancelToken.with_deadline(deadline * 4 if deadline else None)

        def done(outcome: ShadowResult) -> None:
            self._shadow_done(result, role, outcome)

        submitted = runner.submit(question, result.exploration.nodes, done, cancel=cancel)
        if isinstance(submitted, str):
            result.set_shadow(role, ShadowState("skipped", scorer.name, submitted))
            self._emit(result.key, "shadow")

    def _shadow_done(self, result: QueryResult, role: str, outcome: ShadowResult) -> None:
        if outcome.results is None:
            result.set_shadow(role, ShadowState("failed", outcome.scorer, outcome.error))
            self._emit(result.key, "shadow")
            return
        failures = [s.error for s in outcome.results if s.rubric is None and s.error]
        for row, extra in zip(result.scored, outcome.results, strict=True):
            row.append(extra)
        error = None
        if result.log.query_id is not None:
            try:
                store = self._open_store()
                ids = store.node_ids(result.log.query_id)
                store.add_scored_many(list(zip(ids, outcome.results, strict=True)))
            except Exception as exc:  # the store's errors, or a closed session
                error = f"the {role}'s labels were not logged: {exc}"
                self._drop_store()
        if failures:
            error = (f"{len(failures)} of {len(outcome.results)} node(s) not scored by "
                     f"{outcome.scorer}: {failures[0]}") + (f"; {error}" if error else "")
        result.set_shadow(role, ShadowState("failed" if error else "done", outcome.scorer,
                                            error))
        self._emit(result.key, "shadow")

    def drain(self, timeout: float | None = None) -> None:
        """Wait for pending logs and shadow calls (the CLI before it exits)."""
        deadline = time.monotonic() + timeout if timeout is not None else None
        with self._lock:
            results = list(self._results.values())
        for result in results:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            result.wait_logged(left)
        with self._lock:
            runners = list(self._shadows.values())
        for runner in runners:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                runner.drain(left)
            except TimeoutError:
                pass

    # -- the store ----------------------------------------------------------------------
    def _open_store(self) -> Any:
        from scout.store.db import Store

        with self._store_lock:
            if self._store is None:
                self._store = Store.open(self._settings.db_path, workspace=self.root)
            return self._store

    def _drop_store(self) -> None:
        with self._store_lock:
            store, self._store = self._store, None
        if store is not None:
            try:
                store.close()
            except Exception:
                pass

    def _record(self, result: QueryResult) -> LogOutcome:
        from scout.store.db import StoreError

        database = str(self._settings.db_path)
        try:
            store = self._open_store()
        except StoreError as exc:
            return LogOutcome(error=str(exc), database=database)
        try:
            query_id = store.record(result.exploration, result.scored, root=self.root)
            return LogOutcome(query_id=query_id, database=str(store.path))
        except StoreError as exc:
            self._drop_store()  # reopen next time: the file may have been fixed or replaced
            return LogOutcome(error=str(exc), database=database)

    def store(self) -> Any:
        """The session's store (opened on first use), for export and reports."""
        return self._open_store()

    # -- answers kept --------------------------------------------------------------------
    def _remember(self, result: QueryResult) -> None:
        with self._lock:
            self._results[result.key] = result
            while len(self._results) > MAX_RESULTS:
                self._results.popitem(last=False)

    def result(self, key: int) -> QueryResult | None:
        with self._lock:
            return self._results.get(key)

    def results(self) -> list[QueryResult]:
        with self._lock:
            return list(self._results.values())

    def clear_results(self) -> int:
        with self._lock:
            count = len(self._results)
            self._results.clear()
        self._emit(0, "cleared")
        return count

    def _emit(self, key: int, what: str) -> None:
        if self.on_event is not None:
            try:
                self.on_event(key, what)
            except Exception:  # a listener must never break an answer
                log.exception("session event listener failed")

    def close(self, *, wait: bool = True) -> None:
        if self._closed:
            return
        self._closed = True
        self._recorder.shutdown(wait=wait, cancel_futures=not wait)
        for runner in self._shadows.values():
            runner.close(wait=wait)
        self._drop_store()


def _gate_of(primary: Scorer) -> Any:
    from scout.scoring.hybrid import HybridScorer

    return primary.gate if isinstance(primary, HybridScorer) else None


def _unpromoted_model(primary: Scorer) -> Scorer | None:
    """The hybrid's model when its promotion gate just let the heuristics answer for it
    (served, but not yet passed by `scout eval` here): it is shadow-logged, not waited for."""
    gate = _gate_of(primary)
    decision = gate.last if gate is not None else None
    if decision is None or decision.answering == "model" or decision.digest is None:
        return None
    return primary.model  # type: ignore[attr-defined]


def _scorer_options(s: Settings) -> tuple:
    return (s.scorer, s.ollama_host, s.ollama_model, s.ollama_mode, s.shadow,
            s.anthropic_model, s.model_timeout)


def _with_hovers(nodes: list[Node], hovers: HoverProvider) -> list[Node]:
    """Nodes whose hover came from outside the index (HLS's inferred type) say so."""
    try:
        texts = list(hovers(nodes))
    except Exception as exc:  # the editor did not answer: the index's text stands
        log.info("hover provider failed: %s", exc)
        return nodes
    if len(texts) != len(nodes):
        return nodes
    return [replace(node, hover=text, hover_source="hls") if text else node
            for node, text in zip(nodes, texts, strict=True)]

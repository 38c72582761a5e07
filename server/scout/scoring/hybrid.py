"""Hybrid scoring (model first, fallback when it fails) and shadow scoring (a teacher in the
background).

Hybrid: every node the model could not score (server unreachable, timeout, missing model,
invalid answer) is scored by the fallback; the result keeps the model's failed exchanges and says
why in ``fallback_reason``. Nothing falls back silently.

Shadow: the primary answers the caller; the shadow scores the same nodes on a background thread
and its results (or its exception) go to a callback and a future, so they can be logged. A shadow
failure never touches the primary's answer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace

from scout.explore.model import Node, Question
from scout.scoring.model import LabelSource, Scored, Scorer
from scout.scoring.promotion import PromotionGate, pin_facts

log = logging.getLogger(__name__)


class HybridScorer:
    name = "hybrid"

    def __init__(self, model: Scorer, fallback: Scorer,
                 gate: PromotionGate | None = None) -> None:
        self.model = model
        self.fallback = fallback
        self.gate = gate  # who answers first: see scoring/promotion.py

    def score(self, question: Question, nodes: Sequence[Node]) -> list[Scored]:
        if not nodes:
            return []
        if self.gate is not None:
            return self.gate.score(question, nodes, model=self.model, fallback=self.fallback,
                                   model_first=self.model_first, name=self.name)
        return pin_facts(nodes, self.model_first(question, nodes))

    def model_first(self, question: Question, nodes: Sequence[Node]) -> list[Scored]:
        try:
            first = self.model.score(question, nodes)
            if len(first) != len(nodes):
                raise RuntimeError(f"{self.model.name} returned {len(first)} results for "
                                   f"{len(nodes)} nodes")
        except Exception as exc:  # a scorer must not raise; if one does, fall back for all
            reason = f"{self.model.name} raised {type(exc).__name__}: {exc}"
            log.warning("hybrid: %s", reason)
            first = [Scored(rubric=None, scorer=self.model.name,
                            label_source=LabelSource.MODEL, error=reason) for _ in nodes]
        failed = [index for index, scored in enumerate(first) if scored.rubric is None]
        results = [replace(scored, scorer=self.name) for scored in first]
        if not failed:
            return results
        backups = self.fallback.score(question, [nodes[index] for index in failed])
        for index, backup in zip(failed, backups, strict=True):
            original = first[index]
            reason = f"{self.model.name}: {original.error or 'no answer'}"
            results[index] = replace(
                backup, scorer=self.name, fallback_reason=reason,
                # keep the model's failed calls: they are data too
                exchanges=[*original.exchanges, *backup.exchanges],
                error=backup.error)
        return results


ShadowCallback = Callable[[Question, Sequence[Node], "ShadowResult"], None]


@dataclass(slots=True)
class ShadowResult:
    """What the shadow produced for one ``score`` call: results, or the exception it raised."""

    scorer: str
    results: list[Scored] | None
    error: str | None


class ShadowScorer:
    """``primary`` answers; ``shadow`` scores the same nodes in the background."""

    def __init__(self, primary: Scorer, shadow: Scorer,
                 on_shadow: ShadowCallback | None = None, *, max_pending: int = 4) -> None:
        self.primary = primary
        self.shadow = shadow
        self.on_shadow = on_shadow
        self.name = primary.name
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scout-shadow")
        self.max_pending = max_pending
        self._pending = threading.BoundedSemaphore(max_pending)
        self._futures: list[Future[ShadowResult]] = []
        self._lock = threading.Lock()

    def score(self, question: Question, nodes: Sequence[Node]) -> list[Scored]:
        return self.score_with_shadow(question, nodes)[0]

    def score_with_shadow(self, question: Question, nodes: Sequence[Node]
                          ) -> tuple[list[Scored], Future[ShadowResult] | None]:
        """The primary's results now, and a future of the shadow's. The future is None when the
        shadow was skipped because too many shadow calls are still running (the skip is logged)."""
        future: Future[ShadowResult] | None = None
        nodes = list(nodes)
        if nodes and self._pending.acquire(blocking=False):
            future = self._pool.submit(self._run_shadow, question, nodes)
            with self._lock:
                self._futures.append(future)
        elif nodes:
            log.warning("shadow %s skipped for %d nodes: %d shadow calls still running",
                        self.shadow.name, len(nodes), self.max_pending)
        return self.primary.score(question, nodes), future

    def _run_shadow(self, question: Question, nodes: list[Node]) -> ShadowResult:
        try:
            try:
                outcome = ShadowResult(self.shadow.name, self.shadow.score(question, nodes), None)
            except Exception as exc:  # never propagates to the primary's caller
                log.warning("shadow %s failed: %s", self.shadow.name, exc)
                outcome = ShadowResult(self.shadow.name, None, f"{type(exc).__name__}: {exc}")
            if self.on_shadow is not None:
                try:
                    self.on_shadow(question, nodes, outcome)
                except Exception:  # a logging callback must not kill the shadow thread
                    log.exception("shadow callback failed")
            return outcome
        finally:
            self._pending.release()

    def drain(self, timeout: float | None = None) -> list[ShadowResult]:
        """Wait for every shadow call started so far (tests, CLI exit)."""
        with self._lock:
            futures, self._futures = self._futures, []
        return [future.result(timeout=timeout) for future in futures]

    def close(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait)

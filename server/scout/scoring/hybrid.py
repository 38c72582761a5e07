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
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace

from scout.cancel import NEVER, CancelToken
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

    def score(self, question: Question, nodes: Sequence[Node], *,
              cancel: CancelToken = NEVER) -> list[Scored]:
        if not nodes:
            return []
        if self.gate is not None:
            return self.gate.score(question, nodes, model=self.model, fallback=self.fallback,
                                   model_first=self.model_first, name=self.name,
                                   cancel=cancel)
        return pin_facts(nodes, self.model_first(question, nodes, cancel=cancel))

    def model_first(self, question: Question, nodes: Sequence[Node], *,
                    cancel: CancelToken = NEVER) -> list[Scored]:
        try:
            first = self.model.score(question, nodes, cancel=cancel)
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


class ShadowRunner:
    """Runs a teacher on nodes in the background, one call at a time, at most ``max_pending``
    calls queued; a call that does not fit is skipped and says so (never blocks the caller).
    Finished calls are forgotten, so nothing grows while a server runs for hours."""

    def __init__(self, teacher: Scorer, *, max_pending: int = 4) -> None:
        self.teacher = teacher
        self.max_pending = max_pending
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scout-shadow")
        self._pending: set[Future[ShadowResult]] = set()
        # Submitted and not yet drained, for callers that collect outcomes (bounded: a server
        # that never drains keeps only the last few).
        self._undrained: deque[Future[ShadowResult]] = deque(maxlen=64)
        self._lock = threading.Lock()

    def submit(self, question: Question, nodes: Sequence[Node],
               on_done: Callable[[ShadowResult], None] | None = None, *,
               cancel: CancelToken = NEVER) -> Future[ShadowResult] | str:
        """A future of the teacher's results, or the reason the call was skipped."""
        nodes = list(nodes)
        with self._lock:
            if len(self._pending) >= self.max_pending:
                reason = (f"shadow {self.teacher.name} skipped for {len(nodes)} node(s): "
                          f"{self.max_pending} shadow calls still running")
                log.warning("%s", reason)
                return reason
            future = self._pool.submit(self._run, question, nodes, on_done, cancel)
            self._pending.add(future)
            self._undrained.append(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future[ShadowResult]) -> None:
        with self._lock:
            self._pending.discard(future)

    def _run(self, question: Question, nodes: list[Node],
             on_done: Callable[[ShadowResult], None] | None,
             cancel: CancelToken) -> ShadowResult:
        try:
            outcome = ShadowResult(self.teacher.name,
                                   self.teacher.score(question, nodes, cancel=cancel), None)
        except Exception as exc:  # never propagates to the primary's caller
            log.warning("shadow %s failed: %s", self.teacher.name, exc)
            outcome = ShadowResult(self.teacher.name, None, f"{type(exc).__name__}: {exc}")
        if on_done is not None:
            try:
                on_done(outcome)
            except Exception:  # a logging callback must not kill the shadow thread
                log.exception("shadow callback failed")
        return outcome

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def drain(self, timeout: float | None = None) -> list[ShadowResult]:
        """Wait for every shadow call submitted since the last drain, and return outcomes."""
        with self._lock:
            futures = list(self._undrained)
            self._undrained.clear()
        return [future.result(timeout=timeout) for future in futures]

    def close(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=not wait)


class ShadowScorer:
    """``primary`` answers; ``shadow`` scores the same nodes in the background."""

    def __init__(self, primary: Scorer, shadow: Scorer,
                 on_shadow: ShadowCallback | None = None, *, max_pending: int = 4) -> None:
        self.primary = primary
        self.shadow = shadow
        self.on_shadow = on_shadow
        self.name = primary.name
        self.max_pending = max_pending
        self.runner = ShadowRunner(shadow, max_pending=max_pending)

    def score(self, question: Question, nodes: Sequence[Node], *,
              cancel: CancelToken = NEVER) -> list[Scored]:
        return self.score_with_shadow(question, nodes, cancel=cancel)[0]

    def score_with_shadow(self, question: Question, nodes: Sequence[Node], *,
                          cancel: CancelToken = NEVER
                          ) -> tuple[list[Scored], Future[ShadowResult] | None]:
        """The primary's results now, and a future of the shadow's. The future is None when the
        shadow was skipped because too many shadow calls are still running (the skip is logged)."""
        nodes = list(nodes)
        future: Future[ShadowResult] | None = None
        if nodes:
            callback = self.on_shadow
            submitted = self.runner.submit(
                question, nodes,
                (lambda outcome: callback(question, nodes, outcome)) if callback else None)
            future = submitted if isinstance(submitted, Future) else None
        return self.primary.score(question, nodes, cancel=cancel), future

    def drain(self, timeout: float | None = None) -> list[ShadowResult]:
        return self.runner.drain(timeout)

    def close(self, wait: bool = True) -> None:
        self.runner.close(wait)

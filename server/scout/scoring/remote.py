"""Shared plumbing of the remote scorers: clocks, a per-batch circuit breaker, redaction.

A remote scorer sends one request per node from a thread pool. When the server is unreachable,
times out, is rate limited after the client's retries, or lacks the model, the remaining nodes of
that call are not sent (the editor must never wait for 50 doomed requests): they come back with
``error="not sent: <the first failure>"``, which hybrid scoring turns into a recorded fallback.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from scout.cancel import NEVER, CancelToken
from scout.scoring.model import LabelSource, Scored
from scout.tasks import TaskDefinition

T = TypeVar("T")
MAX_BATCH = 50  # nodes sent concurrently per request batch


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Breaker:
    """Set once by the first failure that makes further requests pointless."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reason: str | None = None

    def trip(self, reason: str) -> None:
        with self._lock:
            if self.reason is None:
                self.reason = reason

    @property
    def tripped(self) -> bool:
        return self.reason is not None


def run_batches(items: Sequence[T], work: Callable[[T, Breaker], Scored], *,
                concurrency: int, batch_size: int = MAX_BATCH,
                cancel: CancelToken = NEVER) -> list[Scored]:
    """``work`` for every item, results in order, at most ``min(concurrency, batch_size)`` at a
    time; one breaker for the whole call.

    ``cancel`` is a deadline, not a hope: once it fires (the user cancelled, or the question's
    model time ran out) nothing more is sent, and the call returns at once; calls still in
    flight are abandoned to their daemon threads (their own timeouts end them) and come back
    as ``work(item, tripped breaker)``, i.e. "not sent: <why>", for the fallback to answer."""
    if not items:
        return []
    breaker = Breaker()
    results: list[Scored | None] = [None] * len(items)
    lock = threading.Lock()
    finished = threading.Event()
    state = {"next": 0, "done": 0}

    def worker() -> None:
        while True:
            with lock:
                i = state["next"]
                state["next"] += 1
            if i >= len(items):
                return
            if cancel.cancelled:
                breaker.trip(cancel.reason or "cancelled")
            try:
                answer = work(items[i], breaker)
            except BaseException as exc:  # a scorer bug must not leave the caller waiting
                breaker.trip(f"{type(exc).__name__}: {exc}")
                answer = work(items[i], breaker)
            with lock:
                results[i] = answer
                state["done"] += 1
                if state["done"] == len(items):
                    finished.set()

    for n in range(max(1, min(concurrency, batch_size, len(items)))):
        threading.Thread(target=worker, name=f"scout-score-{n}", daemon=True).start()
    while not finished.wait(0.05):
        if cancel.cancelled:
            break
    if finished.is_set():
        return [r for r in results if r is not None]
    late = Breaker()
    late.trip(f"{cancel.reason or 'cancelled'}: no answer in time")
    breaker.trip(cancel.reason or "cancelled")
    with lock:
        return [r if r is not None else work(items[i], late) for i, r in enumerate(results)]


def task_provenance(model: str, task: TaskDefinition, prompt_hash: str) -> dict[str, Any]:
    """The provenance every model scorer stamps on its answers."""
    return {"model": model, "task": task.name, "task_version": task.version,
            "prompt_hash": prompt_hash}


def not_sent(scorer: str, source: LabelSource, reason: str, **provenance: object) -> Scored:
    return Scored(rubric=None, scorer=scorer, label_source=source,
                  error=f"not sent: {reason}", **provenance)  # type: ignore[arg-type]


def redact(text: str, *secrets: str | None) -> str:
    """Remove secrets from a message before it reaches an Exchange, a log or an error."""
    for secret in secrets:
        if secret and len(secret) >= 8:
            text = text.replace(secret, "[redacted]")
    return text


class Stopwatch:
    def __init__(self) -> None:
        self.started_at = utc_now()
        self._start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self._start

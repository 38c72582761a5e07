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
from concurrent.futures import ThreadPoolExecutor
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
    """``work`` for every item, in order, ``concurrency`` at a time, ``batch_size`` per batch;
    one breaker for the whole call. Once ``cancel`` fires (the user cancelled, or the question's
    model deadline passed) the breaker trips: items not yet sent come back "not sent"."""
    breaker = Breaker()
    cancel.on_cancel(lambda: breaker.trip(cancel.reason or "cancelled"))

    def guarded(item: T) -> Scored:
        if cancel.cancelled:
            breaker.trip(cancel.reason or "cancelled")
        return work(item, breaker)

    results: list[Scored] = []
    workers = max(1, min(concurrency, batch_size, len(items) or 1))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scout-score") as pool:
        for start in range(0, len(items), batch_size):
            chunk = items[start:start + batch_size]
            results.extend(pool.map(guarded, chunk))
    return results


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

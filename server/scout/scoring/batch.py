"""Bulk offline labelling with Anthropic Message Batches (half price, results within 24 h).

Resumable by design: :meth:`HaikuBatchLabeller.submit` returns the batch id at once and the caller
persists it (the store); later, possibly in another process, :meth:`status` polls and
:meth:`collect` turns the results into one :class:`Scored` per custom id. Items that errored,
expired or were canceled come back with ``rubric=None`` and an ``error`` saying which.
Each request is built by :func:`scout.scoring.anthropic.build_request`, exactly as a live call.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import anthropic

from scout.explore.model import Node, Question
from scout.scoring.anthropic import (
    DEFAULT_MODEL,
    RENDERER,
    build_request,
    make_client,
    read_message,
    resolve_api_key,
    usage_fields,
)
from scout.scoring.model import Exchange, LabelSource, Scored
from scout.scoring.remote import redact, utc_now
from scout.tasks import TaskOutputError, load_task, rubric_from_output, task_inputs

_CUSTOM_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_REQUESTS = 100_000  # the API's limit per batch


class BatchError(RuntimeError):
    """A batch could not be submitted or read; the message says what to do."""


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One node to label. ``custom_id`` is the caller's key (e.g. the store's node id): 1-64
    characters of ``A-Z a-z 0-9 _ -``."""

    custom_id: str
    question: Question
    node: Node


@dataclass(frozen=True, slots=True)
class BatchStatus:
    batch_id: str
    processing_status: str  # "in_progress" | "canceling" | "ended"
    processing: int
    succeeded: int
    errored: int
    canceled: int
    expired: int

    @property
    def ended(self) -> bool:
        return self.processing_status == "ended"


class HaikuBatchLabeller:
    name = "haiku"

    def __init__(self, *, model: str = DEFAULT_MODEL, api_key: str | None = None,
                 base_url: str | None = None, timeout: float = 60.0, max_retries: int = 2,
                 max_tokens: int = 400, task: str = "score_node") -> None:
        self.model = model
        self.max_tokens = max_tokens
        self.task = load_task(task)
        self.prompt_hash = self.task.prompt_hash(RENDERER)
        self._api_key = resolve_api_key(api_key)
        self.client = make_client(api_key=self._api_key, base_url=base_url, timeout=timeout,
                                  max_retries=max_retries)

    def request_for(self, item: BatchItem) -> dict[str, Any]:
        return build_request(self.task, task_inputs(item.question, item.node),
                             model=self.model, max_tokens=self.max_tokens)

    def submit(self, items: Sequence[BatchItem]) -> str:
        """Create the batch; returns its id (persist it to resume later)."""
        if not items:
            raise BatchError("nothing to label: the batch would be empty")
        if len(items) > MAX_REQUESTS:
            raise BatchError(f"{len(items)} items exceed the {MAX_REQUESTS} requests a batch "
                             "may hold: submit them in several batches")
        seen: set[str] = set()
        for item in items:
            if not _CUSTOM_ID.fullmatch(item.custom_id):
                raise BatchError(f"custom_id {item.custom_id!r} must be 1-64 characters of "
                                 "A-Z a-z 0-9 _ -")
            if item.custom_id in seen:
                raise BatchError(f"custom_id {item.custom_id!r} appears twice in one batch")
            seen.add(item.custom_id)
        requests = [{"custom_id": item.custom_id, "params": self.request_for(item)}
                    for item in items]
        try:
            batch = self.client.messages.batches.create(requests=requests)  # type: ignore[arg-type]
        except anthropic.APIError as exc:
            raise BatchError(redact(f"could not create the message batch: {exc}",
                                    self._api_key)) from None
        return batch.id

    def status(self, batch_id: str) -> BatchStatus:
        try:
            batch = self.client.messages.batches.retrieve(batch_id)
        except anthropic.APIError as exc:
            raise BatchError(redact(f"could not read batch {batch_id}: {exc}",
                                    self._api_key)) from None
        counts = batch.request_counts
        return BatchStatus(batch_id=batch.id, processing_status=batch.processing_status,
                           processing=counts.processing, succeeded=counts.succeeded,
                           errored=counts.errored, canceled=counts.canceled,
                           expired=counts.expired)

    def wait(self, batch_id: str, *, poll_seconds: float = 60.0,
             timeout_seconds: float | None = None) -> BatchStatus:
        """Poll until the batch ends (or ``timeout_seconds`` pass; then the last status)."""
        deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
        while True:
            status = self.status(batch_id)
            if status.ended or (deadline is not None and time.monotonic() >= deadline):
                return status
            time.sleep(poll_seconds)

    def collect(self, batch_id: str,
                items: Mapping[str, BatchItem] | None = None) -> dict[str, Scored]:
        """Results by custom id. With ``items`` (custom id -> item) each exchange records the
        exact request; without, it records the batch and custom ids only."""
        status = self.status(batch_id)
        if not status.ended:
            raise BatchError(f"batch {batch_id} is still {status.processing_status} "
                             f"({status.processing} requests processing): collect it later")
        try:
            results = list(self.client.messages.batches.results(batch_id))
        except anthropic.APIError as exc:
            raise BatchError(redact(f"could not read the results of batch {batch_id}: {exc}",
                                    self._api_key)) from None
        scored: dict[str, Scored] = {}
        for entry in results:
            body = entry.model_dump(mode="json", exclude_none=True)
            item = (items or {}).get(entry.custom_id)
            scored[entry.custom_id] = self._scored(batch_id, body, item)
        return scored

    def _scored(self, batch_id: str, body: dict[str, Any], item: BatchItem | None) -> Scored:
        custom_id = body["custom_id"]
        result = body.get("result", {})
        kind = result.get("type")
        request = (self.request_for(item) if item is not None else {})
        exchange = Exchange(backend="anthropic",
                            endpoint=f"/v1/messages/batches/{batch_id}/results",
                            request={"batch_id": batch_id, "custom_id": custom_id,
                                     "params": request},
                            response=body, status=200, error=None, started_at=utc_now(),
                            seconds=0.0)
        provenance: dict[str, Any] = {"model": self.model, "task": self.task.name,
                                      "task_version": self.task.version,
                                      "prompt_hash": self.prompt_hash}
        if kind != "succeeded":
            error = result.get("error", {})
            detail = error.get("error", error) if isinstance(error, dict) else error
            exchange.error = f"batch item {kind}: {detail}"
            return Scored(rubric=None, scorer=self.name, label_source=LabelSource.HAIKU,
                          error=exchange.error, exchanges=[exchange], **provenance)
        message = result.get("message", {})
        scored = Scored(rubric=None, scorer=self.name, label_source=LabelSource.HAIKU,
                        exchanges=[exchange],
                        **usage_fields(self.model, message.get("usage"), batch=True),
                        **provenance)
        inputs = task_inputs(item.question, item.node) if item is not None else None
        try:
            args, _reasoning = read_message(self.task, message, inputs)
            scored.rubric = rubric_from_output(args)
        except TaskOutputError as exc:
            scored.error = f"invalid answer from {self.model}: {exc}"
            exchange.error = scored.error
        return scored

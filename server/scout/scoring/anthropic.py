"""Claude Haiku as the teacher scorer, from the same task definition as FunctionGemma.

The task's tool is offered with forced tool choice, thinking is disabled explicitly (forced tool
choice does not combine with thinking, and newer Haiku models think by default), the task
guidance is the system prompt marked for caching (with the tool it is the stable prefix), and the
user turn is the same ``field: value`` text FunctionGemma sees. Every call records its usage and
its price. Text blocks the model writes next to the tool call are kept verbatim in the exchange
as the teacher's reasoning.

The API key comes from ``ANTHROPIC_API_KEY`` (or the ``api_key`` argument) and the endpoint from
``ANTHROPIC_BASE_URL``; the key is never written to an exchange, a log or an error message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import anthropic

from scout.cancel import NEVER, CancelToken
from scout.explore.model import Node, Question
from scout.scoring.model import Exchange, LabelSource, Scored
from scout.scoring.pricing import cost_usd
from scout.scoring.remote import (
    MAX_BATCH,
    Breaker,
    Stopwatch,
    not_sent,
    redact,
    run_batches,
    task_provenance,
)
from scout.tasks import (
    TaskDefinition,
    TaskOutputError,
    load_task,
    rubric_from_output,
    task_inputs,
    validate_output,
)

DEFAULT_MODEL = "claude-haiku-4-5"
RENDERER = "anthropic-tool/1"


class AnthropicConfigError(RuntimeError):
    """Haiku scoring was asked for but cannot be set up (no key)."""


def resolve_api_key(api_key: str | None = None) -> str:
    key = api_key or os.environ.get("ANTHROPIC_API_KEY")
    if not key:
        raise AnthropicConfigError(
            "Haiku scoring needs an Anthropic API key: export ANTHROPIC_API_KEY (code is sent "
            "to Anthropic only when Haiku scoring or shadowing is turned on)")
    return key


def make_client(*, api_key: str | None, base_url: str | None, timeout: float,
                max_retries: int) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key=resolve_api_key(api_key),
                               base_url=base_url or os.environ.get("ANTHROPIC_BASE_URL") or None,
                               timeout=timeout, max_retries=max_retries)


def build_request(task: TaskDefinition, inputs: Mapping[str, Any], *, model: str,
                  max_tokens: int) -> dict[str, Any]:
    """``messages.create`` parameters for one task input (also a Message Batches ``params``)."""
    return {
        "model": model,
        "max_tokens": max_tokens,
        "system": [{"type": "text", "text": task.guidance,
                    "cache_control": {"type": "ephemeral"}}],
        "tools": [task.anthropic_tool()],
        "tool_choice": {"type": "tool", "name": task.name},
        "thinking": {"type": "disabled"},
        "messages": [{"role": "user", "content": task.user_text(inputs)}],
    }


def read_message(task: TaskDefinition, message: Mapping[str, Any],
                 inputs: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], str]:
    """The validated tool input and the text blocks (teacher reasoning) of a Messages response."""
    blocks = message.get("content") or []
    text = "\n".join(b.get("text", "") for b in blocks if b.get("type") == "text").strip()
    for block in blocks:
        if block.get("type") == "tool_use" and block.get("name") == task.name:
            return validate_output(task, block.get("input") or {}, inputs), text
    kinds = [b.get("type") for b in blocks]
    raise TaskOutputError(
        f"no {task.name} tool_use block in the response (stop_reason "
        f"{message.get('stop_reason')!r}, blocks {kinds})")


def usage_fields(model: str, usage: Mapping[str, Any] | None, *, batch: bool) -> dict[str, Any]:
    usage = usage or {}
    return {"input_tokens": usage.get("input_tokens"),
            "output_tokens": usage.get("output_tokens"),
            "cache_read_tokens": usage.get("cache_read_input_tokens"),
            "cache_write_tokens": usage.get("cache_creation_input_tokens"),
            "cost_usd": cost_usd(model, usage, batch=batch)}


class HaikuScorer:
    """Scores nodes with Claude (Haiku by default) through the Messages API."""

    name = "haiku"

    def __init__(self, *, model: str = DEFAULT_MODEL, api_key: str | None = None,
                 base_url: str | None = None, timeout: float = 30.0, max_retries: int = 2,
                 max_tokens: int = 400, concurrency: int = 4, task: str = "score_node") -> None:
        self.model = model
        self.max_tokens = max_tokens
        self.concurrency = concurrency
        self.task = load_task(task)
        self.prompt_hash = self.task.prompt_hash(RENDERER)
        self._api_key = resolve_api_key(api_key)
        self.client = make_client(api_key=self._api_key, base_url=base_url, timeout=timeout,
                                  max_retries=max_retries)

    def score(self, question: Question, nodes: Sequence[Node], *,
              cancel: CancelToken = NEVER) -> list[Scored]:
        if not nodes:
            return []
        return run_batches(list(nodes), lambda node, breaker: self._score_one(
            question, node, breaker), concurrency=self.concurrency, batch_size=MAX_BATCH,
            cancel=cancel)

    def _score_one(self, question: Question, node: Node, breaker: Breaker) -> Scored:
        provenance = task_provenance(self.model, self.task, self.prompt_hash)
        if breaker.tripped:
            return not_sent(self.name, LabelSource.HAIKU, breaker.reason or "", **provenance)
        inputs = task_inputs(question, node)
        request = build_request(self.task, inputs, model=self.model, max_tokens=self.max_tokens)
        clock = Stopwatch()
        exchange = Exchange(backend="anthropic", endpoint="/v1/messages", request=request,
                            response=None, status=None, error=None,
                            started_at=clock.started_at, seconds=0.0)
        try:
            message = self.client.messages.create(**request)
        except anthropic.APIStatusError as exc:
            # RateLimitError (429), OverloadedError (529), 5xx: the SDK already retried with
            # backoff; stop sending the rest of this call rather than make the editor wait.
            exchange.status = exc.status_code
            exchange.response = _error_body(exc)
            reason = redact(f"anthropic HTTP {exc.status_code} ({type(exc).__name__}): "
                            f"{_error_message(exc)}", self._api_key)
            if isinstance(exc, (anthropic.RateLimitError, anthropic.InternalServerError,
                                anthropic.AuthenticationError, anthropic.PermissionDeniedError,
                                anthropic.NotFoundError)):
                breaker.trip(reason)
            return self._failed(exchange, clock, reason, provenance)
        except anthropic.APITimeoutError:
            reason = "anthropic request timed out (after the client's retries)"
            breaker.trip(reason)
            return self._failed(exchange, clock, reason, provenance)
        except anthropic.APIConnectionError as exc:
            reason = redact(f"anthropic unreachable: {exc}", self._api_key)
            breaker.trip(reason)
            return self._failed(exchange, clock, reason, provenance)

        body = message.model_dump(mode="json", exclude_none=True)
        exchange.response = body
        exchange.status = 200
        exchange.seconds = clock.seconds
        scored = Scored(rubric=None, scorer=self.name, label_source=LabelSource.HAIKU,
                        latency_ms=clock.seconds * 1000, exchanges=[exchange],
                        **usage_fields(self.model, body.get("usage"), batch=False), **provenance)
        try:
            args, _reasoning = read_message(self.task, body, inputs)
            scored.rubric = rubric_from_output(args)
        except TaskOutputError as exc:
            scored.error = f"invalid answer from {self.model}: {exc}"
            exchange.error = scored.error
        return scored

    def _failed(self, exchange: Exchange, clock: Stopwatch, reason: str,
                provenance: dict[str, Any]) -> Scored:
        exchange.error = reason
        exchange.seconds = clock.seconds
        return Scored(rubric=None, scorer=self.name, label_source=LabelSource.HAIKU,
                      error=reason, latency_ms=clock.seconds * 1000, exchanges=[exchange],
                      **provenance)


def _error_body(exc: anthropic.APIStatusError) -> Any:
    try:
        return exc.response.json()
    except ValueError:
        return exc.response.text


def _error_message(exc: anthropic.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
    return exc.message

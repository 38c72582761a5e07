"""FunctionGemma (or any model) served by Ollama, as a scorer.

Default ``mode="raw"``: the prompt is rendered by :mod:`scout.functiongemma` and sent to
``/api/generate`` with ``raw: true``, so Ollama applies no template of its own and the bytes
served are the bytes exported for training. ``mode="chat"`` sends chat messages plus the tool to
``/api/chat`` and lets Ollama's renderer and parser do the work: for stock models only, because
Ollama's ``functiongemma`` renderer sends other bytes than Google's template (see
:data:`CHAT_MODE_CAVEAT`), so a fine-tuned model served that way sees text it was not trained on.

Stops differ by mode. Raw: the call markers (they fire when the engine prints control tokens, as
Ollama 0.13.5-0.29 does) plus what the model prints after its call when they are hidden (Ollama
0.30+: ``response:NAME{``), see :func:`scout.functiongemma.raw_stop_sequences`. Chat: never
``<end_function_call>``: Ollama's parser needs that tag to close the call, and a client stop
string removes it first (the reply then has no tool call and empty content); the chat stops are
``<start_function_response>`` and ``<end_of_turn>``, which follow a closed call.

Deterministic decoding (temperature 0, fixed seed), a ``num_predict`` cap derived from the task's
answer size (:func:`scout.functiongemma.answer_token_budget`: about 90 tokens for score_node; a
stop string on a hidden control token never matches), ``keep_alive`` so the model stays loaded,
an explicit client timeout (the ``ollama`` client's default is none). Latency and token counts
come from Ollama's own counters (nanoseconds).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import ollama
from ollama._client import _parse_host  # the client's own OLLAMA_HOST parsing, to report it

from scout.cancel import NEVER, CancelToken
from scout.explore.model import Node, Question
from scout.functiongemma import (
    FORMAT_VERSION,
    FunctionGemmaParseError,
    answer_token_budget,
    parse_task_output,
    raw_stop_sequences,
    render_prompt,
    to_messages,
)
from scout.functiongemma.format import END_TURN, START_RESPONSE
from scout.scoring.model import Exchange, LabelSource, Scored
from scout.scoring.remote import (
    MAX_BATCH,
    Breaker,
    Stopwatch,
    not_sent,
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

log = logging.getLogger(__name__)

DEFAULT_MODEL = "functiongemma"
MODES = ("raw", "chat")
# Said wherever chat mode is offered (CLI help, settings, README).
CHAT_MODE_CAVEAT = (
    "chat mode lets Ollama's own functiongemma renderer build the prompt, and its bytes differ "
    "from Google's template that raw mode and the training export use: an extra <bos>, its own "
    "line 'You can do function calling with the following functions:', enum and items dropped, "
    "properties in another order. Use it for stock models only, never for a model fine-tuned "
    "on scout's exports")
# Chat stops: after a closed call only (see the module doc).
CHAT_STOP_SEQUENCES = (START_RESPONSE, END_TURN)


@dataclass(frozen=True, slots=True)
class OllamaStatus:
    """What :meth:`OllamaScorer.check` found. ``message`` says what to do when not ``ok``."""

    ok: bool
    host: str
    model: str
    reachable: bool
    model_present: bool
    digest: str | None
    message: str


def _same_model(wanted: str, listed: str | None) -> bool:
    if not listed:
        return False
    if wanted == listed:
        return True
    # "functiongemma" means "functiongemma:latest" to Ollama.
    return ":" not in wanted and listed == f"{wanted}:latest"


class OllamaScorer:
    """Scores nodes with a model served by Ollama. One ``Scored`` per node, in order."""

    name = "ollama"

    def __init__(self, *, host: str | None = None, model: str = DEFAULT_MODEL,
                 mode: str = "raw", timeout: float = 30.0, task: str = "score_node",
                 seed: int = 0, num_predict: int | None = None,
                 keep_alive: str | float = "30m",
                 concurrency: int = 4, batch_size: int = MAX_BATCH) -> None:
        if mode not in MODES:
            raise ValueError(f"ollama mode must be one of {MODES}, got {mode!r}")
        if not timeout or timeout <= 0:
            raise ValueError("an Ollama timeout is required: the client's default waits forever")
        self.host = _parse_host(host or os.environ.get("OLLAMA_HOST"))
        self.model = model
        self.mode = mode
        self.timeout = timeout
        if mode == "chat":
            log.warning("ollama: %s", CHAT_MODE_CAVEAT)
        self.task: TaskDefinition = load_task(task)
        self.stops = raw_stop_sequences(self.task) if mode == "raw" else CHAT_STOP_SEQUENCES
        self.options: dict[str, Any] = {
            "temperature": 0, "seed": seed,
            "num_predict": num_predict or answer_token_budget(self.task),
            "stop": list(self.stops)}
        self.keep_alive = keep_alive
        self.concurrency = concurrency
        self.batch_size = min(batch_size, MAX_BATCH)
        # A short connect timeout: an unreachable host must not hold the editor for `timeout`.
        self.client = ollama.Client(host=self.host,
                                    timeout=httpx.Timeout(timeout, connect=min(timeout, 2.0)))
        self.prompt_hash = self.task.prompt_hash(
            FORMAT_VERSION if mode == "raw" else f"ollama-chat/{model}")
        self._digest: str | None = None
        self._digest_known = False
        self._lock = threading.Lock()
        self._digest_lookup = threading.Lock()

    # ------------------------------------------------------------------ health

    def check(self) -> OllamaStatus:
        """Is the server reachable and the model present? Never raises."""
        try:
            listed = self.client.list()
        except ConnectionError:
            return self._status(False, False, None,
                                f"Ollama is not reachable at {self.host}: start it (`ollama serve`) "
                                "or set OLLAMA_HOST / the scout Ollama host setting")
        except httpx.TimeoutException:
            return self._status(False, False, None,
                                f"Ollama at {self.host} did not answer within {self.timeout}s")
        except ollama.ResponseError as exc:
            return self._status(False, False, None,
                                f"Ollama at {self.host} answered /api/tags with HTTP "
                                f"{exc.status_code}: {exc.error}")
        for entry in listed.models:
            if _same_model(self.model, entry.model):
                with self._lock:
                    self._digest, self._digest_known = entry.digest, True
                return self._status(True, True, entry.digest,
                                    f"Ollama at {self.host} serves {entry.model}")
        return self._status(False, True, None,
                            f"Ollama at {self.host} has no model `{self.model}`: run "
                            f"`ollama pull {self.model}`")

    def _status(self, model_present: bool, reachable: bool, digest: str | None,
                message: str) -> OllamaStatus:
        return OllamaStatus(ok=reachable and model_present, host=self.host, model=self.model,
                            reachable=reachable, model_present=model_present, digest=digest,
                            message=message)

    def model_digest(self) -> str | None:
        """The served model's digest from ``/api/tags``, looked up once per scorer."""
        with self._digest_lookup:  # one lookup even when the first answers arrive together
            with self._lock:
                if self._digest_known:
                    return self._digest
            status = self.check()
            if not status.ok:
                with self._lock:  # do not ask again for every node
                    self._digest_known = True
            return status.digest

    def blob_digest(self) -> str | None:
        """sha256 of the GGUF the model is served from (``/api/show`` names its blob): what
        links a served digest to the ``scout train`` run that produced the file."""
        try:
            shown = self.client.show(self.model)
        except (ConnectionError, httpx.HTTPError, ollama.ResponseError):
            return None
        match = re.search(r"sha256-([0-9a-f]{64})", shown.modelfile or "")
        return match.group(1) if match else None

    # ------------------------------------------------------------------ scoring

    def score(self, question: Question, nodes: Sequence[Node], *,
              cancel: CancelToken = NEVER) -> list[Scored]:
        if not nodes:
            return []
        return run_batches(list(nodes), lambda node, breaker: self._score_one(
            question, node, breaker), concurrency=self.concurrency, batch_size=self.batch_size,
            cancel=cancel)

    def _score_one(self, question: Question, node: Node, breaker: Breaker) -> Scored:
        provenance = task_provenance(self.model, self.task, self.prompt_hash)
        if breaker.tripped:
            return not_sent(self.name, LabelSource.MODEL, breaker.reason or "", **provenance)
        inputs = task_inputs(question, node)
        options = {**self.options, "stop": list(self.stops)}  # each exchange owns its copy
        if self.mode == "raw":
            endpoint = "/api/generate"
            request: dict[str, Any] = {
                "model": self.model, "prompt": render_prompt(self.task, inputs), "raw": True,
                "stream": False, "options": options, "keep_alive": self.keep_alive}
        else:
            endpoint = "/api/chat"
            conversation = to_messages(self.task, inputs)
            # Ollama takes the developer turn as a system message.
            messages = [{**m, "role": "system"} if m["role"] == "developer" else m
                        for m in conversation["messages"]]
            request = {"model": self.model, "messages": messages, "tools": conversation["tools"],
                       "stream": False, "options": options, "keep_alive": self.keep_alive}
        clock = Stopwatch()
        exchange = Exchange(backend="ollama", endpoint=endpoint, request=request, response=None,
                            status=None, error=None, started_at=clock.started_at, seconds=0.0)
        try:
            if self.mode == "raw":
                response = self.client.generate(
                    model=self.model, prompt=request["prompt"], raw=True,
                    options=options, keep_alive=self.keep_alive)
            else:
                response = self.client.chat(
                    model=self.model, messages=messages, tools=conversation["tools"],
                    options=options, keep_alive=self.keep_alive)
        except ConnectionError:
            reason = f"ollama unreachable at {self.host} (connection refused)"
            breaker.trip(reason)
            return self._failed(exchange, clock, reason, provenance)
        except httpx.TimeoutException as exc:
            reason = f"ollama timeout after {self.timeout}s at {self.host} ({type(exc).__name__})"
            breaker.trip(reason)
            return self._failed(exchange, clock, reason, provenance)
        except httpx.TransportError as exc:
            reason = f"ollama transport error at {self.host}: {exc}"
            breaker.trip(reason)
            return self._failed(exchange, clock, reason, provenance)
        except ollama.ResponseError as exc:
            exchange.status = exc.status_code
            exchange.response = exc.error
            if exc.status_code == 404:
                reason = (f"ollama has no model `{self.model}` at {self.host}: run "
                          f"`ollama pull {self.model}` ({exc.error})")
                breaker.trip(reason)
            else:
                reason = f"ollama HTTP {exc.status_code}: {exc.error}"
            return self._failed(exchange, clock, reason, provenance)

        body = response.model_dump(exclude_none=True)
        body.pop("context", None)  # token ids: large and useless for datasets
        exchange.response = body
        exchange.status = 200
        exchange.seconds = clock.seconds
        scored = Scored(rubric=None, scorer=self.name, label_source=LabelSource.MODEL,
                        model_digest=self.model_digest(), exchanges=[exchange],
                        latency_ms=_ms(response.total_duration, clock.seconds),
                        input_tokens=response.prompt_eval_count,
                        output_tokens=response.eval_count, **provenance)
        try:
            args = self._answer(response, inputs)
            scored.rubric = rubric_from_output(args)
        except (FunctionGemmaParseError, TaskOutputError) as exc:
            capped = (response.eval_count is not None
                      and response.eval_count >= self.options["num_predict"])
            hint = (f" (stopped at the num_predict cap of {self.options['num_predict']} tokens)"
                    if capped else "")
            scored.error = f"invalid answer from {self.model}: {exc}{hint}"
            exchange.error = scored.error
        return scored

    def _answer(self, response: Any, inputs: dict[str, Any]) -> dict[str, Any]:
        if self.mode == "raw":
            return parse_task_output(self.task, response.response or "", inputs)
        message = response.message
        for call in message.tool_calls or ():
            if call.function.name == self.task.name:
                return validate_output(self.task, dict(call.function.arguments), inputs)
        # Ollama's parser found no tool call: the call may still be in the text.
        return parse_task_output(self.task, message.content or "", inputs)

    def _failed(self, exchange: Exchange, clock: Stopwatch, reason: str,
                provenance: dict[str, Any]) -> Scored:
        exchange.error = reason
        exchange.seconds = clock.seconds
        return Scored(rubric=None, scorer=self.name, label_source=LabelSource.MODEL,
                      error=reason, latency_ms=clock.seconds * 1000, exchanges=[exchange],
                      **provenance)


def _ms(nanoseconds: int | None, fallback_seconds: float) -> float:
    if nanoseconds:
        return nanoseconds / 1_000_000
    return fallback_seconds * 1000

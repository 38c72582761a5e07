"""Loopback HTTP servers (fakes) speaking Ollama's and Anthropic's wire protocols, started by the tests.

They run on 127.0.0.1 with ephemeral ports in threads, answer with bodies shaped like the real
services' (field names and types from the API references), and record every request so tests can
check what the real ``ollama`` and ``anthropic`` client packages actually sent.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from scout.explore.model import ChangeKind, EdgeKind, Node, Question, SiteFacts, Tag
from scout.functiongemma import render_call
from scout.scoring.model import LabelSource, Rubric, Scored

# --------------------------------------------------------------------------- generic server


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list -> JSON; str/bytes -> as is
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    content_type: str = "application/json"


class Loopback:
    """A threaded HTTP server whose every request goes to ``handler``."""

    def __init__(self, handler: Callable[[Request], Reply]) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls on keep-alive

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(self.command, self.path,
                                  {k.lower(): v for k, v in self.headers.items()},
                                  self.rfile.read(length) if length else b"")
                with outer._lock:
                    outer.requests.append(request)
                reply = outer.handler(request)
                if reply.delay:
                    time.sleep(reply.delay)
                if isinstance(reply.body, (dict, list)):
                    payload = json.dumps(reply.body).encode()
                elif isinstance(reply.body, str):
                    payload = reply.body.encode()
                else:
                    payload = reply.body or b""
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            do_GET = do_POST = do_DELETE = _serve  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.02,),
                                        daemon=True)
        self._thread.start()

    def paths(self) -> list[str]:
        with self._lock:
            return [f"{r.method} {r.path}" for r in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def refused_url() -> str:
    """A loopback URL nothing listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# --------------------------------------------------------------------------- nodes


QUESTION = Question(text="What breaks if I add a variant to LLMKind?", target="LLMKind",
                    change=ChangeKind.ADD_CONSTRUCTOR, tags=(Tag.EXHAUSTIVE, Tag.PATTERN_MATCH))


def make_node(index: int, *, snippet: str | None = None, catch_all: bool = False) -> Node:
    edge = EdgeKind.CATCH_ALL if catch_all else EdgeKind.MATCH_SITE
    return Node(
        path=f"src/Module{index}.hs", line=10 + index,
        hover=f"describe{index} :: LLMKind -> Text",
        snippet=snippet if snippet is not None else (
            f"describe{index} :: LLMKind -> Text\ndescribe{index} k = case k of\n"
            "  Sonnet -> \"s\"\n  Opus -> \"o\"\n  " + ("_ -> \"other\"" if catch_all else
                                                      "Haiku -> \"h\"")),
        facts=SiteFacts(edge=edge, breaks=not catch_all, silent=catch_all,
                        detail="case over LLMKind", symbol="LLMKind"),
        enclosing=f"describe{index}")




def expected_rubric(prompt_text: str) -> dict[str, Any]:
    """What the fake models answer: derived from the node's location, so each node's answer is
    distinct and tests can check that answers come back in order."""
    match = re.search(r"location: src/Module(\d+)\.hs:(\d+)", prompt_text)
    assert match, f"no location in {prompt_text[-300:]!r}"
    index = int(match.group(1))
    catch_all = "_ -> \"other\"" in prompt_text
    return {"relevance": 5 if not catch_all else 4, "risk": 5 if not catch_all else 2,
            "confidence": 1 + index % 5,
            "reasoning": f"Module{index}: " + ("catch-all absorbs the new constructor, "
                                               "behaviour changes silently" if catch_all else
                                               "exhaustive case on LLMKind, must add a case")}


class ConstantScorer:
    """A test-only fallback: one fixed rubric, so a fallback is recognisable in results."""

    name = "constant"

    def __init__(self) -> None:
        self.calls: list[int] = []

    def score(self, question: Question, nodes: list[Node], *, cancel=None) -> list[Scored]:
        self.calls.append(len(nodes))
        return [Scored(rubric=Rubric(2, 2, 1, f"constant guess for {node.location}"),
                       scorer=self.name, label_source=LabelSource.HEURISTIC) for node in nodes]


# --------------------------------------------------------------------------- fake Ollama

OLLAMA_DIGEST = "a3b2c1d4e5f60718293a4b5c6d7e8f9012345678abcdef0123456789abcdef01"


def ollama_tags(models: list[str]) -> dict[str, Any]:
    return {"models": [{
        "name": name, "model": name, "modified_at": "2025-12-18T10:22:04.123456789Z",
        "size": 300_812_544, "digest": OLLAMA_DIGEST,
        "details": {"parent_model": "", "format": "gguf", "family": "gemma3",
                    "families": ["gemma3"], "parameter_size": "268.10M",
                    "quantization_level": "Q8_0"}} for name in models]}


def ollama_generate_body(model: str, text: str, *, eval_count: int = 42) -> dict[str, Any]:
    return {"model": model, "created_at": "2026-11-21T22:30:00.123456Z", "response": text,
            "done": True, "done_reason": "stop", "total_duration": 187_654_321,
            "load_duration": 12_345_678, "prompt_eval_count": 612,
            "prompt_eval_duration": 98_765_432, "eval_count": eval_count,
            "eval_duration": 76_543_210}


class FakeOllama:
    """``/api/tags``, ``/api/show``, ``/api/generate``, ``/api/chat``. ``answer(request_json)``
    returns the model's text (or a Reply for errors)."""

    def __init__(self, answer: Callable[[dict[str, Any]], str | Reply] | None = None,
                 models: tuple[str, ...] = ("functiongemma:latest",)) -> None:
        self.answer = answer or self.correct_answer
        self.models = models
        self.server = Loopback(self.handle)
        self.url = self.server.url

    @staticmethod
    def correct_answer(body: dict[str, Any]) -> str:
        return render_call("score_node", expected_rubric(body["prompt"]))

    def handle(self, request: Request) -> Reply:
        path = request.path
        if request.method == "GET" and path == "/api/tags":
            return Reply(body=ollama_tags(list(self.models)))
        if request.method == "GET" and path == "/api/version":
            return Reply(body={"version": "0.13.5"})
        body = request.json or {}
        model = body.get("model", "")
        if path in ("/api/generate", "/api/chat", "/api/show") and \
                not any(model in (m, m.removesuffix(":latest")) for m in self.models):
            return Reply(404, {"error": f"model '{model}' not found"})
        if path == "/api/show":
            return Reply(body={"modelfile": "FROM functiongemma", "parameters": "",
                               "template": "{{ .Prompt }}",
                               "details": ollama_tags(["x"])["models"][0]["details"],
                               "model_info": {"general.architecture": "gemma3"},
                               "capabilities": ["completion", "tools"],
                               "modified_at": "2025-12-18T10:22:04.123456789Z"})
        if path == "/api/generate":
            outcome = self.answer(body)
            if isinstance(outcome, Reply):
                return outcome
            return Reply(body=ollama_generate_body(model, outcome))
        if path == "/api/chat":
            outcome = self.answer(body)
            if isinstance(outcome, Reply):
                return outcome
            reply = ollama_generate_body(model, "")
            del reply["response"]
            reply["message"] = outcome if isinstance(outcome, dict) else {
                "role": "assistant", "content": outcome}
            return Reply(body=reply)
        return Reply(404, {"error": f"unknown endpoint {request.method} {path}"})

    def close(self) -> None:
        self.server.close()



# --------------------------------------------------------------------------- fake Anthropic

API_KEY = "sk-ant-api03-TESTKEY-do-not-leak-0123456789abcdef"


def anthropic_message(model: str, tool_input: dict[str, Any], *, text: str | None = None,
                      tool_name: str = "score_node") -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if text:
        content.append({"type": "text", "text": text})
    content.append({"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9",
                    "name": tool_name, "input": tool_input})
    return {"id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant",
            "model": model, "content": content, "stop_reason": "tool_use",
            "stop_sequence": None,
            "usage": {"input_tokens": 812, "output_tokens": 96,
                      "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                      "service_tier": "standard"}}


def anthropic_error(status: int, kind: str, message: str, **headers: str) -> Reply:
    return Reply(status, {"type": "error", "error": {"type": kind, "message": message},
                          "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"},
                 headers={"request-id": "req_011CSHoEeqs5C35K2UUqR7Fy", **headers})


class FakeAnthropic:
    """``/v1/messages`` and ``/v1/messages/batches`` (+ ``/results`` as JSONL)."""

    def __init__(self, answer: Callable[[dict[str, Any]], Reply | dict[str, Any]] | None = None,
                 batch_results: Callable[[str, dict[str, Any]], dict[str, Any]] | None = None,
                 polls_before_end: int = 1) -> None:
        self.answer = answer or self.correct_answer
        self.batch_results = batch_results or self.correct_batch_result
        self.polls_before_end = polls_before_end
        self.batches: dict[str, dict[str, Any]] = {}
        self.server = Loopback(self.handle)
        self.url = self.server.url

    @staticmethod
    def correct_answer(body: dict[str, Any]) -> dict[str, Any]:
        return anthropic_message(body["model"],
                                 expected_rubric(body["messages"][0]["content"]))

    @staticmethod
    def correct_batch_result(custom_id: str, params: dict[str, Any]) -> dict[str, Any]:
        return {"type": "succeeded", "message": FakeAnthropic.correct_answer(params)}

    def handle(self, request: Request) -> Reply:
        path = request.path.split("?")[0]
        if request.method == "POST" and path == "/v1/messages":
            outcome = self.answer(request.json)
            return outcome if isinstance(outcome, Reply) else Reply(body=outcome)
        if request.method == "POST" and path == "/v1/messages/batches":
            batch_id = f"msgbatch_01{len(self.batches):022d}"
            self.batches[batch_id] = {"requests": request.json["requests"], "polls": 0}
            return Reply(body=self.batch_body(batch_id))
        match = re.fullmatch(r"/v1/messages/batches/([\w-]+)(/results)?", path)
        if request.method == "GET" and match and match.group(1) in self.batches:
            batch_id = match.group(1)
            if match.group(2):
                lines = [json.dumps({"custom_id": r["custom_id"],
                                     "result": self.batch_results(r["custom_id"], r["params"])})
                         for r in self.batches[batch_id]["requests"]]
                return Reply(body="\n".join(lines) + "\n", content_type="application/binary")
            self.batches[batch_id]["polls"] += 1
            return Reply(body=self.batch_body(batch_id))
        return anthropic_error(404, "not_found_error", f"unknown path {request.path}")

    def batch_body(self, batch_id: str) -> dict[str, Any]:
        batch = self.batches[batch_id]
        ended = batch["polls"] >= self.polls_before_end
        requests = batch["requests"]
        counts = {"processing": 0 if ended else len(requests), "succeeded": 0, "errored": 0,
                  "canceled": 0, "expired": 0}
        if ended:
            for r in requests:
                kind = self.batch_results(r["custom_id"], r["params"])["type"]
                counts[kind] += 1
        return {"id": batch_id, "type": "message_batch",
                "processing_status": "ended" if ended else "in_progress",
                "request_counts": counts, "created_at": "2026-11-21T22:00:00Z",
                "expires_at": "2026-11-22T22:00:00Z", "archived_at": None,
                "cancel_initiated_at": None,
                "ended_at": "2026-11-21T22:05:00Z" if ended else None,
                "results_url": f"{self.url}/v1/messages/batches/{batch_id}/results"
                if ended else None}

    def close(self) -> None:
        self.server.close()

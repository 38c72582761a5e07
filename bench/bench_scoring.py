"""Scoring overhead: what scout adds per node, excluding model time.

1. Per node: render the FunctionGemma prompt, parse and validate an answer, build the rubric and
   the exchange record. Target < 1 ms. Baseline in the same run: json.dumps of the same inputs +
   json.loads of the same rubric (the least any scorer must do).
2. A 50-node batch through OllamaScorer (raw mode, real ``ollama`` client) against a loopback
   server that answers instantly. Target < 100 ms. Baseline in the same run: the same 50 POSTs
   with a bare httpx client from the same number of threads.

Run: .venv/bin/python bench/bench_scoring.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from scout.explore.model import ChangeKind, EdgeKind, Node, Question, SiteFacts, Tag
from scout.functiongemma import parse_task_output, render_call, render_prompt
from scout.scoring.model import Exchange
from scout.scoring.ollama import OllamaScorer
from scout.tasks import load_task, rubric_from_output, task_inputs

QUESTION = Question("What breaks if I add a variant to LLMKind?", "LLMKind",
                    ChangeKind.ADD_CONSTRUCTOR, (Tag.EXHAUSTIVE, Tag.PATTERN_MATCH))
RUBRIC = {"relevance": 5, "risk": 5, "confidence": 4,
          "reasoning": "Exhaustive case on LLMKind without a catch-all: add a Haiku branch."}
ANSWER = render_call("score_node", RUBRIC)


def make_nodes(count: int) -> list[Node]:
    return [Node(path=f"src/Module{i}.hs", line=10 + i, hover=f"describe{i} :: LLMKind -> Text",
                 snippet=(f"describe{i} :: LLMKind -> Text\ndescribe{i} k = case k of\n"
                          "  Sonnet -> \"s\"\n  Opus -> \"o\"\n  Haiku -> \"h\""),
                 facts=SiteFacts(edge=EdgeKind.MATCH_SITE, breaks=True)) for i in range(count)]


def per_node_ours(nodes: list[Node]) -> None:
    task = load_task("score_node")
    for node in nodes:
        inputs = task_inputs(QUESTION, node)
        prompt = render_prompt(task, inputs)
        args = parse_task_output(task, ANSWER, inputs)
        rubric_from_output(args)
        Exchange(backend="ollama", endpoint="/api/generate",
                 request={"model": "functiongemma", "prompt": prompt, "raw": True},
                 response={"response": ANSWER}, status=200, error=None,
                 started_at="2026-11-21T22:00:00Z", seconds=0.0)


def per_node_baseline(nodes: list[Node]) -> None:
    answer = json.dumps(RUBRIC)
    for node in nodes:
        json.dumps(task_inputs(QUESTION, node))
        json.loads(answer)


def median_ms(fn, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


class InstantOllama(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    BODY = json.dumps({"model": "functiongemma", "created_at": "2026-11-21T22:00:00Z",
                       "response": ANSWER, "done": True, "done_reason": "stop",
                       "total_duration": 1000, "prompt_eval_count": 600, "eval_count": 40,
                       "eval_duration": 500}).encode()
    TAGS = json.dumps({"models": [{"name": "functiongemma:latest",
                                   "model": "functiongemma:latest",
                                   "modified_at": "2025-12-18T10:22:04Z", "size": 1,
                                   "digest": "abc123"}]}).encode()

    def log_message(self, *args) -> None:
        pass

    def _reply(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        self._reply(self.TAGS)

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._reply(self.BODY)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    options = parser.parse_args()

    nodes = make_nodes(options.nodes)
    per_node_ours(nodes[:10])  # warm caches (task definition load, regex compilation)
    ours = median_ms(lambda: per_node_ours(nodes), options.runs) / len(nodes)
    base = median_ms(lambda: per_node_baseline(nodes), options.runs) / len(nodes)
    print(f"per node (render+parse+validate+record), median of {options.runs} runs over "
          f"{len(nodes)} nodes: {ours:.4f} ms  (target < 1 ms)")
    print(f"  baseline json.dumps+loads of the same payload: {base:.4f} ms  "
          f"(ratio {ours / base:.1f}x)")

    server = ThreadingHTTPServer(("127.0.0.1", 0), InstantOllama)
    server.daemon_threads = True
    url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    try:
        batch = make_nodes(50)
        scorer = OllamaScorer(host=url, timeout=10, concurrency=options.concurrency)
        assert all(s.rubric is not None for s in scorer.score(QUESTION, batch))  # warm up
        ours_batch = median_ms(lambda: scorer.score(QUESTION, batch), options.runs)

        client = httpx.Client(base_url=url, timeout=10)
        payload = {"model": "functiongemma", "prompt": "x" * 2000, "raw": True, "stream": False}

        def bare_batch() -> None:
            with ThreadPoolExecutor(max_workers=options.concurrency) as pool:
                list(pool.map(lambda _: client.post("/api/generate", json=payload).json(),
                              range(50)))

        bare_batch()
        base_batch = median_ms(bare_batch, options.runs)
        print(f"50-node batch via OllamaScorer (raw, {options.concurrency} threads) against an "
              f"instant loopback server, median of {options.runs}: {ours_batch:.1f} ms  "
              "(target < 100 ms)")
        print(f"  baseline 50 bare httpx POSTs, same threads: {base_batch:.1f} ms  "
              f"(ratio {ours_batch / base_batch:.2f}x)")
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()

"""One deadline for a question's model time: a server that answers too slowly (or trickles
bytes) cannot hold an answer beyond it, for Ollama and Haiku alike; the heuristics answer for
what did not arrive, and say why."""

from __future__ import annotations

import time

from scoring_fakes import QUESTION, ConstantScorer, Reply, expected_rubric, ollama_generate_body

from scout.cancel import CancelToken
from scout.functiongemma import render_call
from scout.scoring.anthropic import HaikuScorer
from scout.scoring.hybrid import HybridScorer
from scout.scoring.ollama import OllamaScorer


def _slow_ollama(body):
    return Reply(body=ollama_generate_body(
        "functiongemma", render_call("score_node", expected_rubric(body["prompt"]))), delay=20)


def test_a_slow_ollama_cannot_outlive_the_deadline(fake_ollama, nodes) -> None:
    server = fake_ollama(_slow_ollama)
    scorer = HybridScorer(OllamaScorer(host=server.url, timeout=60), ConstantScorer())
    started = time.monotonic()
    results = scorer.score(QUESTION, nodes, cancel=CancelToken.with_deadline(0.5))
    elapsed = time.monotonic() - started
    assert elapsed < 5, elapsed  # the per-call timeout (60 s) did not decide
    assert all(r.rubric is not None for r in results)
    assert all("deadline passed" in (r.fallback_reason or "") for r in results)


def test_a_slow_haiku_cannot_outlive_the_deadline(fake_anthropic, nodes) -> None:
    server = fake_anthropic(lambda body: Reply(body={}, delay=20))
    scorer = HaikuScorer(base_url=server.url, timeout=60, max_retries=0)
    started = time.monotonic()
    results = scorer.score(QUESTION, nodes, cancel=CancelToken.with_deadline(0.5))
    assert time.monotonic() - started < 5
    assert all(r.rubric is None and "deadline passed" in r.error for r in results)


def test_answers_before_the_deadline_are_kept(fake_ollama, nodes) -> None:
    def answer(body):
        slow = "Module5.hs" in body["prompt"]
        return Reply(body=ollama_generate_body(
            "functiongemma", render_call("score_node", expected_rubric(body["prompt"]))),
            delay=20 if slow else 0)
    server = fake_ollama(answer)
    scorer = HybridScorer(OllamaScorer(host=server.url, timeout=60, concurrency=2),
                          ConstantScorer())
    results = scorer.score(QUESTION, nodes, cancel=CancelToken.with_deadline(2.0))
    fell_back = [i for i, r in enumerate(results) if r.fallback_reason]
    assert fell_back == [5]
    assert all(r.rubric is not None for r in results)

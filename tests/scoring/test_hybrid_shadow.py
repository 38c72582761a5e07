"""Hybrid (model first, recorded fallback), shadow (teacher in the background) and the factory,
over the loopback fakes."""

from __future__ import annotations

import threading

import pytest
from scoring_fakes import (
    QUESTION,
    ConstantScorer,
    Reply,
    anthropic_error,
    expected_rubric,
    make_node,
    ollama_generate_body,
    refused_url,
)

from scout.functiongemma import render_call
from scout.scoring.anthropic import HaikuScorer
from scout.scoring.factory import ScorerConfigError, build_scorer
from scout.scoring.hybrid import HybridScorer, ShadowResult, ShadowScorer
from scout.scoring.model import LabelSource
from scout.scoring.ollama import OllamaScorer


def test_hybrid_uses_the_model_when_it_answers(fake_ollama, nodes):
    server = fake_ollama()
    fallback = ConstantScorer()
    results = HybridScorer(OllamaScorer(host=server.url, timeout=5), fallback).score(
        QUESTION, nodes)
    assert fallback.calls == []
    assert all(r.scorer == "hybrid" and r.label_source is LabelSource.MODEL for r in results)
    assert all(r.fallback_reason is None for r in results)


def test_hybrid_falls_back_per_invalid_node_with_reason(fake_ollama, nodes):
    def answer(body):
        if "Module4.hs" in body["prompt"]:
            return "I cannot decide."
        return render_call("score_node", expected_rubric(body["prompt"]))

    server = fake_ollama(answer)
    fallback = ConstantScorer()
    results = HybridScorer(OllamaScorer(host=server.url, timeout=5), fallback).score(
        QUESTION, nodes)
    assert fallback.calls == [1]
    backup = results[4]
    assert backup.label_source is LabelSource.HEURISTIC
    assert backup.rubric.reasoning == "constant guess for src/Module4.hs:14"
    assert backup.fallback_reason.startswith("ollama: invalid answer")
    assert "no function call" in backup.fallback_reason
    # the model's failed exchange is kept: it is data too
    assert backup.exchanges[0].endpoint == "/api/generate"
    assert all(r.label_source is LabelSource.MODEL for i, r in enumerate(results) if i != 4)


def test_hybrid_with_no_ollama_at_all(nodes):
    fallback = ConstantScorer()
    results = HybridScorer(OllamaScorer(host=refused_url(), timeout=5), fallback).score(
        QUESTION, nodes)
    assert fallback.calls == [len(nodes)]
    assert all(r.rubric is not None and r.label_source is LabelSource.HEURISTIC
               for r in results)
    assert "unreachable" in results[0].fallback_reason


def test_hybrid_on_timeout(fake_ollama, nodes):
    server = fake_ollama(lambda body: Reply(body=ollama_generate_body("functiongemma", ""),
                                            delay=1.0))
    results = HybridScorer(OllamaScorer(host=server.url, timeout=0.2), ConstantScorer()).score(
        QUESTION, nodes)
    assert all(r.rubric is not None for r in results)
    assert all("timeout" in r.fallback_reason for r in results)


class RaisingScorer:
    name = "broken"

    def score(self, question, nodes, *, cancel=None):
        raise RuntimeError("boom")


def test_hybrid_survives_a_scorer_that_raises(nodes):
    results = HybridScorer(RaisingScorer(), ConstantScorer()).score(QUESTION, nodes)
    assert all(r.rubric is not None for r in results)
    assert results[0].fallback_reason == "broken: broken raised RuntimeError: boom"


def test_shadow_logs_teacher_results_without_touching_the_answer(fake_ollama, fake_anthropic,
                                                                   nodes):
    ollama_server = fake_ollama()
    anthropic_server = fake_anthropic()
    logged: list[ShadowResult] = []
    done = threading.Event()

    def on_shadow(question, shadow_nodes, outcome):
        logged.append(outcome)
        done.set()

    scorer = ShadowScorer(OllamaScorer(host=ollama_server.url, timeout=5),
                          HaikuScorer(base_url=anthropic_server.url, timeout=5), on_shadow)
    answer, future = scorer.score_with_shadow(QUESTION, nodes)
    assert all(r.label_source is LabelSource.MODEL for r in answer)
    outcome = future.result(timeout=10)
    assert done.wait(5)
    assert logged == [outcome]
    assert outcome.error is None
    assert [r.label_source for r in outcome.results] == [LabelSource.HAIKU] * len(nodes)
    assert [r.rubric for r in outcome.results] == [r.rubric for r in answer]
    scorer.close()


def test_shadow_failure_never_affects_the_answer(fake_ollama, fake_anthropic, nodes):
    ollama_server = fake_ollama()
    anthropic_server = fake_anthropic(lambda body: anthropic_error(
        500, "api_error", "Internal server error", **{"retry-after-ms": "1"}))
    scorer = ShadowScorer(OllamaScorer(host=ollama_server.url, timeout=5),
                          HaikuScorer(base_url=anthropic_server.url, timeout=5, max_retries=0),
                          on_shadow=lambda *args: (_ for _ in ()).throw(ValueError("log broke")))
    answer = scorer.score(QUESTION, nodes)
    assert all(r.rubric is not None for r in answer)
    [outcome] = scorer.drain(timeout=10)
    assert all(r.rubric is None and "HTTP 500" in r.error for r in outcome.results[:1])

    raising = ShadowScorer(ConstantScorer(), RaisingScorer())
    answer = raising.score(QUESTION, nodes)
    assert all(r.rubric is not None for r in answer)
    [outcome] = raising.drain(timeout=10)
    assert outcome.results is None and outcome.error == "RuntimeError: boom"
    scorer.close()
    raising.close()


def test_factory_builds_each_scorer(fake_ollama, fake_anthropic, monkeypatch, nodes):
    server = fake_ollama()
    anthropic_server = fake_anthropic()
    monkeypatch.setenv("ANTHROPIC_BASE_URL", anthropic_server.url)
    fallback = ConstantScorer()
    assert build_scorer("heuristic", fallback=fallback) is fallback
    ollama = build_scorer("ollama", fallback=fallback, ollama_host=server.url, timeout=5)
    assert isinstance(ollama, OllamaScorer) and ollama.mode == "raw"
    hybrid = build_scorer("hybrid", fallback=fallback, ollama_host=server.url, timeout=5)
    assert isinstance(hybrid, HybridScorer)
    assert all(r.rubric is not None for r in hybrid.score(QUESTION, nodes))
    haiku = build_scorer("haiku", fallback=fallback, timeout=5)
    assert isinstance(haiku, HaikuScorer) and haiku.model == "claude-haiku-4-5"
    shadowed = build_scorer("hybrid", fallback=fallback, ollama_host=server.url, timeout=5,
                            shadow="haiku")
    assert isinstance(shadowed, ShadowScorer)
    shadowed.score(QUESTION, nodes[:1])
    [outcome] = shadowed.drain(timeout=10)
    assert outcome.results[0].rubric is not None
    shadowed.close()


def test_factory_errors_say_what_to_do(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(ScorerConfigError, match="choose one of heuristic, ollama, haiku"):
        build_scorer("gpt", fallback=ConstantScorer())
    with pytest.raises(ScorerConfigError, match="ANTHROPIC_API_KEY"):
        build_scorer("haiku", fallback=ConstantScorer())
    with pytest.raises(ScorerConfigError, match="mode"):
        build_scorer("ollama", fallback=ConstantScorer(), ollama_mode="weird")
    assert make_node(0).location == "src/Module0.hs:10"

"""HaikuScorer against a loopback server speaking the Messages API, driven by the real SDK."""

from __future__ import annotations

import dataclasses
import json

import pytest
from scoring_fakes import (
    API_KEY,
    QUESTION,
    Reply,
    anthropic_error,
    anthropic_message,
    expected_rubric,
    make_node,
)

from scout.scoring.anthropic import AnthropicConfigError, HaikuScorer
from scout.scoring.model import LabelSource
from scout.tasks import load_task, task_inputs


def _no_key_anywhere(results) -> None:
    dump = json.dumps([dataclasses.asdict(r) for r in results], default=str)
    assert API_KEY not in dump


def test_forced_tool_choice_thinking_disabled_cached_guidance(fake_anthropic, nodes):
    server = fake_anthropic()
    scorer = HaikuScorer(base_url=server.url, timeout=5)
    results = scorer.score(QUESTION, nodes)

    task = load_task("score_node")
    for node, scored in zip(nodes, results, strict=True):
        assert scored.error is None
        user = task.user_text(task_inputs(QUESTION, node))
        assert scored.rubric.as_dict() == expected_rubric(user)
        assert scored.label_source is LabelSource.HAIKU
        assert scored.model == "claude-haiku-4-5"
        assert (scored.input_tokens, scored.output_tokens) == (812, 96)
        assert scored.cost_usd == pytest.approx((812 * 1.0 + 96 * 5.0) / 1e6)
        assert scored.exchanges[0].endpoint == "/v1/messages"
        assert scored.exchanges[0].response["content"][0]["type"] == "tool_use"

    sent = [r for r in server.server.requests if r.path == "/v1/messages"]
    assert len(sent) == len(nodes)
    body = sent[0].json
    assert body["thinking"] == {"type": "disabled"}
    assert body["tool_choice"] == {"type": "tool", "name": "score_node"}
    assert body["tools"] == [task.anthropic_tool()]
    assert body["system"] == [{"type": "text", "text": task.guidance,
                               "cache_control": {"type": "ephemeral"}}]
    assert body["model"] == "claude-haiku-4-5"
    # the key reaches the server (SDK 2.x sends it as a bearer token), and nothing we record
    assert API_KEY in (sent[0].headers.get("x-api-key", "") + sent[0].headers.get(
        "authorization", ""))
    _no_key_anywhere(results)


def test_text_blocks_are_kept_as_teacher_reasoning(fake_anthropic):
    server = fake_anthropic(lambda body: anthropic_message(
        body["model"], expected_rubric(body["messages"][0]["content"]),
        text="The case has no catch-all, so GHC will warn."))
    [scored] = HaikuScorer(base_url=server.url, timeout=5).score(QUESTION, [make_node(0)])
    assert scored.error is None
    assert scored.exchanges[0].response["content"][0] == {
        "type": "text", "text": "The case has no catch-all, so GHC will warn."}


def test_rate_limit_and_overload_are_retried(fake_anthropic):
    replies = [anthropic_error(429, "rate_limit_error", "Number of request tokens has "
                               "exceeded your per-minute rate limit", **{"retry-after-ms": "5"}),
               anthropic_error(529, "overloaded_error", "Overloaded", **{"retry-after-ms": "5"})]

    def answer(body):
        if replies:
            return replies.pop(0)
        return anthropic_message(body["model"], expected_rubric(body["messages"][0]["content"]))

    server = fake_anthropic(answer)
    [scored] = HaikuScorer(base_url=server.url, timeout=5, max_retries=2).score(
        QUESTION, [make_node(3)])
    assert scored.error is None and scored.rubric.confidence == 4
    assert server.server.paths().count("POST /v1/messages") == 3


def test_persistent_overload_stops_the_batch(fake_anthropic, nodes):
    server = fake_anthropic(lambda body: anthropic_error(
        529, "overloaded_error", "Overloaded", **{"retry-after-ms": "5"}))
    results = HaikuScorer(base_url=server.url, timeout=5, max_retries=1,
                          concurrency=1).score(QUESTION, nodes)
    assert all(r.rubric is None for r in results)
    assert "HTTP 529" in results[0].error and "Overloaded" in results[0].error
    assert all(r.error.startswith("not sent:") for r in results[1:])
    assert server.server.paths().count("POST /v1/messages") == 2  # one try + one SDK retry
    _no_key_anywhere(results)


def test_slow_server_times_out(fake_anthropic):
    server = fake_anthropic(lambda body: Reply(body=anthropic_message(
        body["model"], expected_rubric(body["messages"][0]["content"])), delay=1.0))
    [scored] = HaikuScorer(base_url=server.url, timeout=0.2, max_retries=0).score(
        QUESTION, [make_node(0)])
    assert scored.rubric is None and "timed out" in scored.error


def test_invalid_tool_input_is_an_error(fake_anthropic):
    server = fake_anthropic(lambda body: anthropic_message(
        body["model"], {"relevance": 5, "risk": 0, "confidence": 3, "reasoning": "x"}))
    [scored] = HaikuScorer(base_url=server.url, timeout=5).score(QUESTION, [make_node(0)])
    assert scored.rubric is None
    assert "score_node.risk must be in 1..5, got 0" in scored.error
    assert scored.cost_usd is not None  # the call was paid for even if the answer is unusable


def test_bad_request_is_per_node_and_key_is_redacted(fake_anthropic, nodes):
    server = fake_anthropic(lambda body: anthropic_error(
        400, "invalid_request_error", f"bad header x-api-key: {API_KEY}"))
    results = HaikuScorer(base_url=server.url, timeout=5).score(QUESTION, nodes[:2])
    assert all("HTTP 400" in r.error for r in results)
    assert all("[redacted]" in r.error for r in results)
    assert server.server.paths().count("POST /v1/messages") == 2


def test_missing_key_says_what_to_do(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(AnthropicConfigError, match="export ANTHROPIC_API_KEY"):
        HaikuScorer()


def test_base_url_from_environment(fake_anthropic, monkeypatch):
    server = fake_anthropic()
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    [scored] = HaikuScorer(timeout=5).score(QUESTION, [make_node(1)])
    assert scored.error is None

"""OllamaScorer against a loopback server speaking Ollama's API, driven by the real client."""

from __future__ import annotations

import json

import pytest
from scoring_fakes import (
    OLLAMA_DIGEST,
    QUESTION,
    Reply,
    expected_rubric,
    make_node,
    ollama_generate_body,
    refused_url,
)

from scout.functiongemma import (
    answer_token_budget,
    raw_stop_sequences,
    render_call,
    render_prompt,
)
from scout.scoring.model import LabelSource
from scout.scoring.ollama import OllamaScorer
from scout.tasks import load_task, task_inputs


def test_raw_mode_sends_our_rendering_and_reads_answers_in_order(fake_ollama, nodes):
    server = fake_ollama()
    scorer = OllamaScorer(host=server.url, timeout=5, concurrency=3)
    results = scorer.score(QUESTION, nodes)

    assert len(results) == len(nodes)
    task = load_task("score_node")
    for node, scored in zip(nodes, results, strict=True):
        prompt = render_prompt(task, task_inputs(QUESTION, node))
        assert scored.error is None
        assert scored.rubric.as_dict() == expected_rubric(prompt)
        assert scored.label_source is LabelSource.MODEL
        assert scored.model == "functiongemma"
        assert scored.model_digest == OLLAMA_DIGEST
        assert scored.task_version == task.version
        assert scored.prompt_hash == scorer.prompt_hash
        assert scored.latency_ms == pytest.approx(187.654321)  # Ollama's total_duration, in ns
        assert (scored.input_tokens, scored.output_tokens) == (612, 42)
        [exchange] = scored.exchanges
        assert exchange.endpoint == "/api/generate" and exchange.status == 200
        assert exchange.request["prompt"] == prompt
        assert exchange.response["response"].startswith("<start_function_call>call:score_node{")

    generate = [r.json for r in server.server.requests if r.path == "/api/generate"]
    assert len(generate) == len(nodes)
    sent = generate[0]
    # Training bytes == serving bytes: the exact rendered prompt, no template applied by Ollama.
    assert sent["raw"] is True and sent["stream"] is False
    assert sent["options"]["temperature"] == 0
    assert sent["options"]["seed"] == 0
    # the cap follows from the task's answer size, not a constant
    assert sent["options"]["num_predict"] == answer_token_budget(task) < 100
    assert sent["options"]["stop"] == list(raw_stop_sequences(task))
    assert "<end_function_call>" in sent["options"]["stop"]
    assert "<start_function_response>" in sent["options"]["stop"]
    assert "response:score_node{" in sent["options"]["stop"]  # printed when markers are hidden
    assert sent["keep_alive"] == "30m"
    assert {json.dumps(r["prompt"]) for r in generate} == {
        json.dumps(render_prompt(task, task_inputs(QUESTION, n))) for n in nodes}
    # the digest is looked up once, not per node
    assert server.server.paths().count("GET /api/tags") == 1


def test_odd_values_and_missing_markers_are_parsed(fake_ollama):
    odd = ("Tricky: {braces}, commas, \"quotes\", a\nnewline, unicode λ→✓ and a literal "
           "<escape> token in the reasoning")

    def answer(body):
        # escaped numbers, markers dropped by the engine, text around the call
        return ("Here you go call:score_node{confidence:<escape>3<escape>,reasoning:"
                f"<escape>{odd.replace('<escape>', '<' + chr(0x200B) + 'escape>')}<escape>,"
                "relevance:4,risk:<escape>5<escape>} done")

    server = fake_ollama(answer)
    [scored] = OllamaScorer(host=server.url, timeout=5).score(QUESTION, [make_node(1)])
    assert scored.error is None
    assert scored.rubric.as_dict() == {"relevance": 4, "risk": 5, "confidence": 3,
                                       "reasoning": odd}


def test_no_call_is_an_invalid_answer_not_a_default(fake_ollama):
    server = fake_ollama(lambda body: "I think this node is quite risky.")
    [scored] = OllamaScorer(host=server.url, timeout=5).score(QUESTION, [make_node(0)])
    assert scored.rubric is None
    assert "invalid answer" in scored.error and "no function call" in scored.error
    assert scored.exchanges[0].error == scored.error


def test_out_of_range_value_is_reported_precisely(fake_ollama):
    server = fake_ollama(lambda body: render_call(
        "score_node", {"relevance": 9, "risk": 5, "confidence": 4, "reasoning": "x"}))
    [scored] = OllamaScorer(host=server.url, timeout=5).score(QUESTION, [make_node(0)])
    assert scored.rubric is None
    assert "score_node.relevance must be in 1..5, got 9" in scored.error


def test_truncated_output_at_the_token_cap_says_so(fake_ollama):
    def answer(body):
        text = "<start_function_call>call:score_node{confidence:4,reasoning:<escape>Exhaus"
        return Reply(body=ollama_generate_body(body["model"], text, eval_count=92))

    server = fake_ollama(answer)
    [scored] = OllamaScorer(host=server.url, timeout=5).score(QUESTION, [make_node(0)])
    assert scored.rubric is None
    assert "truncated call to score_node" in scored.error
    assert "num_predict cap of 92" in scored.error


def test_connection_refused_fails_fast_for_every_node(nodes):
    scorer = OllamaScorer(host=refused_url(), timeout=5)
    results = scorer.score(QUESTION, nodes)
    assert len(results) == len(nodes)
    assert all(r.rubric is None for r in results)
    assert all("unreachable" in r.error for r in results)
    status = scorer.check()
    assert not status.ok and not status.reachable
    assert "not reachable" in status.message and "OLLAMA_HOST" in status.message


def test_missing_model_is_404_and_names_ollama_pull(fake_ollama, nodes):
    server = fake_ollama(models=("llama3.2:latest",))
    scorer = OllamaScorer(host=server.url, timeout=5, concurrency=1)
    results = scorer.score(QUESTION, nodes)
    assert all(r.rubric is None for r in results)
    assert "`ollama pull functiongemma`" in results[0].error
    assert results[0].exchanges[0].status == 404
    # the rest were not sent once the model was known to be missing
    assert all(r.error.startswith("not sent:") for r in results[1:])
    assert server.server.paths().count("POST /api/generate") == 1
    status = scorer.check()
    assert status.reachable and not status.model_present and not status.ok
    assert "run `ollama pull functiongemma`" in status.message


def test_server_error_500_is_per_node(fake_ollama, nodes):
    calls = []

    def answer(body):
        calls.append(1)
        if "Module1.hs" in body["prompt"]:
            return Reply(500, {"error": "llama runner process has terminated: signal: killed"})
        return FakeAnswer.correct(body)

    server = fake_ollama(answer)
    results = OllamaScorer(host=server.url, timeout=5).score(QUESTION, nodes)
    assert results[1].rubric is None
    assert "HTTP 500" in results[1].error and "llama runner" in results[1].error
    assert all(r.rubric is not None for i, r in enumerate(results) if i != 1)


class FakeAnswer:
    @staticmethod
    def correct(body):
        return render_call("score_node", expected_rubric(body["prompt"]))


def test_slow_server_times_out_and_stops_sending(fake_ollama, nodes):
    server = fake_ollama(lambda body: Reply(body=ollama_generate_body("functiongemma", ""),
                                            delay=1.0))
    scorer = OllamaScorer(host=server.url, timeout=0.2, concurrency=2)
    results = scorer.score(QUESTION, nodes)
    assert all(r.rubric is None for r in results)
    assert "timeout after 0.2s" in results[0].error
    # at most one request per worker went out before the breaker tripped
    assert server.server.paths().count("POST /api/generate") <= 2


def test_health_check_ok_reports_digest(fake_ollama):
    server = fake_ollama()
    status = OllamaScorer(host=server.url, timeout=5).check()
    assert status.ok and status.digest == OLLAMA_DIGEST and status.model == "functiongemma"


def test_ollama_host_env_is_honoured(fake_ollama, monkeypatch):
    server = fake_ollama()
    monkeypatch.setenv("OLLAMA_HOST", server.url)
    scorer = OllamaScorer(timeout=5)
    assert scorer.host == server.url
    assert scorer.check().ok


def test_chat_mode_reads_tool_calls(fake_ollama):
    def answer(body):
        assert body["tools"][0]["function"]["name"] == "score_node"
        assert body["messages"][0]["role"] == "system"
        user = body["messages"][1]["content"]
        return {"role": "assistant", "content": "",
                "tool_calls": [{"function": {"name": "score_node",
                                             "arguments": expected_rubric(user)}}]}

    server = fake_ollama(answer)
    scorer = OllamaScorer(host=server.url, timeout=5, mode="chat")
    [scored] = scorer.score(QUESTION, [make_node(2, catch_all=True)])
    assert scored.error is None
    assert scored.rubric.risk == 2
    assert scored.exchanges[0].endpoint == "/api/chat"
    # Ollama's parser needs <end_function_call>: a stop string on it would remove the call
    [sent] = [r.json for r in server.server.requests if r.path == "/api/chat"]
    assert "<end_function_call>" not in sent["options"]["stop"]
    assert sent["options"]["stop"] == ["<start_function_response>", "<end_of_turn>"]


def test_chat_mode_falls_back_to_text_parsing(fake_ollama):
    server = fake_ollama(lambda body: FakeAnswer.correct(
        {"prompt": body["messages"][1]["content"]}))
    [scored] = OllamaScorer(host=server.url, timeout=5, mode="chat").score(
        QUESTION, [make_node(0)])
    assert scored.error is None and scored.rubric.relevance == 5


def test_batches_of_fifty(fake_ollama):
    server = fake_ollama()
    many = [make_node(i) for i in range(120)]
    results = OllamaScorer(host=server.url, timeout=5, concurrency=8).score(QUESTION, many)
    assert [r.rubric.reasoning.split(":")[0] for r in results] == \
        [f"Module{i}" for i in range(120)]


def test_bad_configuration_is_refused():
    with pytest.raises(ValueError, match="mode"):
        OllamaScorer(mode="completion")
    with pytest.raises(ValueError, match="timeout"):
        OllamaScorer(timeout=0)

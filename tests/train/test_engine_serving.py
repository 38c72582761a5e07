"""The serving path on a real engine: llama.cpp (llama-cpp-python) running a tiny
FunctionGemma-shaped GGUF behind Ollama's wire protocol, the real ``ollama`` client, and
``OllamaScorer`` in raw mode. Both token-type cases: control tokens printed (Ollama
0.13.5-0.29) and hidden (Ollama 0.30+)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scout.functiongemma import answer_token_budget, raw_stop_sequences
from scout.functiongemma.format import FUNCTION_TOKENS
from scout.scoring.ollama import OllamaScorer
from scout.tasks import load_task

TASK = load_task("score_node")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "llm-service"


@pytest.fixture(scope="module")
def exploration():
    from scout.explore.engine import explore
    from scout.explore.question import parse_question
    from scout.haskell.index import WorkspaceIndex

    index = WorkspaceIndex.build(EXAMPLE, use_cache=False)
    return explore(index, parse_question("What breaks if I add a variant to LLMKind?",
                                         budget=8))


def score(engine, model, exploration):
    scorer = OllamaScorer(host=engine.url, model=model, timeout=120, concurrency=1)
    start = len(engine.generated)
    results = scorer.score(exploration.question, exploration.nodes)
    return scorer, results, engine.generated[start:]


def test_printed_control_tokens_stop_at_the_end_of_the_call(engine, exploration):
    scorer, results, generated = score(engine, "tiny-printed", exploration)
    assert len(results) == len(exploration.nodes) == len(generated)
    # The tiny model's answers are poor and some are malformed: each of those is a recorded
    # error with the reason; the ones it got right show how the serving path behaves.
    answered = [r for r in results if r.rubric is not None]
    assert answered, [r.error for r in results]
    for scored, engine_said in zip(results, generated, strict=True):
        assert engine_said["text"].startswith("<start_function_call>")  # markers printed
        if scored.rubric is None:
            assert scored.error.startswith("invalid answer from tiny-printed: ")
            continue
        text = scored.exchanges[0].response["response"]
        # the markers are printed and the stop string on <end_function_call> fired
        assert text.startswith("<start_function_call>call:score_node{")
        assert engine_said["finish_reason"] == "stop"
        assert scored.output_tokens == engine_said["completion_tokens"] < answer_token_budget(TASK)
        assert scored.model_digest == engine.models["tiny-printed:latest"].digest
        assert scored.exchanges[0].request["options"]["stop"] == list(raw_stop_sequences(TASK))


def test_hidden_control_tokens_still_give_answers(engine, exploration):
    """Ollama 0.30+: the turn/function/escape tokens are CONTROL, raw generation prints none of
    them, and stop strings on them never fire; the text arrives as call:NAME{...} with bare
    strings, and the parser reads it."""
    _, results, generated = score(engine, "tiny-hidden", exploration)
    answered = [r for r in results if r.rubric is not None]
    assert answered, [r.error for r in results]
    for scored, engine_said in zip(results, generated, strict=True):
        text = engine_said["text"]
        assert not any(token in text for token in FUNCTION_TOKENS), text
        if scored.rubric is None:
            assert scored.error.startswith("invalid answer from tiny-hidden: ")
        else:
            assert text.startswith("call:score_node{")
            # the model trained by scout ends with <eos> after its (hidden) call
            assert engine_said["completion_tokens"] < answer_token_budget(TASK)


def test_printed_and_hidden_answers_agree(engine, exploration):
    """Same weights, same prompts, greedy decoding: hiding the tokens changes the text, not the
    answer."""
    _, printed, _ = score(engine, "tiny-printed", exploration)
    _, hidden, _ = score(engine, "tiny-hidden", exploration)
    pairs = [(p.rubric, h.rubric) for p, h in zip(printed, hidden, strict=True)
             if p.rubric is not None and h.rubric is not None]
    assert pairs
    for p, h in pairs:
        assert (p.relevance, p.risk, p.confidence) == (h.relevance, h.risk, h.confidence)
        assert p.reasoning == h.reasoning


def test_unknown_model_is_a_recorded_failure(engine, exploration):
    _, results, _ = score(engine, "no-such-model", exploration)
    assert all(r.rubric is None for r in results)
    assert "ollama has no model `no-such-model`" in results[0].error

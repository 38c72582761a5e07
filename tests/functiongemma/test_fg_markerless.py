"""Answers whose control tokens the engine hid (Ollama >= 0.30 raw mode, llama.cpp CONTROL
tokens): no call markers, no ``<escape>``. Parse them, or reject them with the reason; never cut
a value silently."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scout.functiongemma import FunctionGemmaParseError, parse_task_output, render_call
from scout.tasks import load_task

SCORE_NODE = load_task("score_node")


def hide_control_tokens(text: str) -> str:
    """What a llama.cpp engine prints when the turn, function and escape tokens are CONTROL."""
    for token in ("<start_function_call>", "<end_function_call>", "<start_function_response>",
                  "<escape>", "<end_of_turn>"):
        text = text.replace(token, "")
    return text


@pytest.mark.parametrize("reasoning", [
    "Exhaustive case, risk: the new constructor is unmatched",
    "Exhaustive case, risk:5 if nothing changes",
    "Breaks, risk:5,relevance:5 as written",
    "Exhaustive case, relevance: high, confidence: certain",
])
def test_reasoning_mentioning_another_argument_is_not_a_second_argument(reasoning):
    answer = {"confidence": 4, "reasoning": reasoning, "relevance": 5, "risk": 5}
    text = hide_control_tokens(render_call("score_node", answer))
    assert parse_task_output(SCORE_NODE, text) == answer


def test_reasoning_with_an_argument_lookalike_first_in_the_call():
    text = "call:score_node{reasoning:Breaks, risk:5,relevance:5,risk:4,confidence:3}"
    assert parse_task_output(SCORE_NODE, text) == {
        "reasoning": "Breaks, risk:5", "relevance": 5, "risk": 4, "confidence": 3}


@pytest.mark.parametrize("reasoning", [
    "the record update } is incomplete",
    "uses {field and more",
    "closes } and opens {",
    "ends with a brace }",
])
def test_reasoning_last_with_an_unbalanced_brace_is_read_whole(reasoning):
    text = f"call:score_node{{relevance:5,risk:5,confidence:4,reasoning:{reasoning}}}"
    assert parse_task_output(SCORE_NODE, text)["reasoning"] == reasoning.strip()
    # with the response the model imagines after its call, as Ollama 0.30 raw mode prints it
    assert parse_task_output(SCORE_NODE, text + "response:score_node{ok:true}")[
        "reasoning"] == reasoning.strip()


def test_a_stray_brace_followed_by_text_is_rejected_with_the_reason():
    text = ("call:score_node{relevance:5,risk:5,confidence:4,reasoning:the update } is "
            "incomplete} and then the model kept talking")
    with pytest.raises(FunctionGemmaParseError, match=r"unquoted value of 'reasoning' holds a "
                       r"'\}' followed by more text"):
        parse_task_output(SCORE_NODE, text)


def test_a_value_cut_by_the_token_cap_is_truncated_not_guessed():
    with pytest.raises(FunctionGemmaParseError, match="truncated call to score_node"):
        parse_task_output(SCORE_NODE, "call:score_node{confidence:4,reasoning:Exhaustive ma")


REASONING = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="<"),
                    min_size=1, max_size=60).filter(lambda s: s.strip() and s == s.strip())


@settings(max_examples=300, deadline=None)
@given(relevance=st.integers(1, 5), risk=st.integers(1, 5), confidence=st.integers(1, 5),
       reasoning=REASONING, order=st.permutations(["relevance", "risk", "confidence",
                                                   "reasoning"]))
def test_markerless_answers_parse_or_fail_loudly(relevance, risk, confidence, reasoning, order):
    """In any argument order, any reasoning text: the exact answer, or an error with a reason;
    never a different answer."""
    answer = {"relevance": relevance, "risk": risk, "confidence": confidence,
              "reasoning": reasoning}
    body = ",".join(f"{key}:{answer[key]}" for key in order)
    text = f"call:score_node{{{body}}}"
    try:
        parsed = parse_task_output(SCORE_NODE, text)
    except FunctionGemmaParseError as exc:
        assert str(exc)
        return
    if parsed != answer:
        # only where the text itself is ambiguous: the reasoning spells out an argument
        assert any(f",{key}:" in f",{reasoning}".replace(" ", "") for key in answer), parsed

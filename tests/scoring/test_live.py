"""Opt-in tests against a real Ollama (with functiongemma pulled) and the real Anthropic API.

Run with ``pytest -m live``. Each test skips with the reason when its service is not there.
"""

from __future__ import annotations

import os

import pytest
from scoring_fakes import QUESTION, make_node

from scout.scoring.model import LabelSource

pytestmark = pytest.mark.live


def test_real_ollama_functiongemma_scores_a_node():
    from scout.scoring.ollama import OllamaScorer

    model = os.environ.get("SCOUT_OLLAMA_MODEL", "functiongemma")
    scorer = OllamaScorer(model=model, timeout=120)
    status = scorer.check()
    if not status.ok:
        pytest.skip(status.message)
    [scored] = scorer.score(QUESTION, [make_node(0)])
    # A stock 270M model may answer badly; what must hold is that the answer is either a valid
    # rubric or a recorded, precise error, with Ollama's own counters filled in.
    assert scored.label_source is LabelSource.MODEL
    assert scored.rubric is not None or scored.error
    assert scored.model_digest == status.digest
    assert scored.exchanges and scored.exchanges[0].status == 200
    assert scored.output_tokens and scored.latency_ms


def test_real_haiku_scores_a_node():
    if not os.environ.get("ANTHROPIC_API_KEY"):
        pytest.skip("ANTHROPIC_API_KEY is not set")
    from scout.scoring.anthropic import HaikuScorer

    [scored] = HaikuScorer(timeout=60).score(QUESTION, [make_node(0)])
    assert scored.error is None, scored.error
    assert scored.rubric.risk >= 4  # an exhaustive case without a catch-all breaks
    assert scored.cost_usd is not None and scored.cost_usd > 0
    key = os.environ["ANTHROPIC_API_KEY"]
    assert key not in repr(scored)

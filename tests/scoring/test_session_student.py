"""A served model that `scout eval` has not promoted on this codebase: the heuristics answer
at once, and the model's own answers are logged beside theirs in the background (the user never
waits for a model that does not answer first)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from scoring_fakes import Reply, ollama_generate_body

from scout.functiongemma import render_call
from scout.scoring.heuristic import HeuristicScorer
from scout.scoring.hybrid import HybridScorer
from scout.scoring.ollama import OllamaScorer
from scout.scoring.promotion import attach_gate
from scout.session import ScoutSession
from scout.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "llm-service"


def test_the_unpromoted_model_is_shadow_logged_in_the_background(fake_ollama, tmp_path):
    slow = 0.3
    answer = render_call("score_node", {"relevance": 3, "risk": 3, "confidence": 3,
                                        "reasoning": "the model's view"})
    server = fake_ollama(lambda body: Reply(body=ollama_generate_body("functiongemma", answer),
                                            delay=slow))
    db = tmp_path / "scout.db"
    hybrid = HybridScorer(OllamaScorer(host=server.url, timeout=10, concurrency=2),
                          HeuristicScorer())
    attach_gate(hybrid, root=EXAMPLE, db=db, shadow_model=False)
    session = ScoutSession(EXAMPLE, Settings(db=db, cache_dir=tmp_path / "cache", budget=10),
                           scorers=(hybrid, None))
    started = time.perf_counter()
    result = session.ask("What breaks if I add a variant to LLMKind?")
    answered = time.perf_counter() - started
    nodes = len(result.exploration.nodes)
    assert answered < slow * nodes / 2  # not one model call per node before the answer
    assert all(row[0].label_source.value == "heuristic" for row in result.scored)
    assert all(row[0].fallback_reason.startswith("not promoted: ") for row in result.scored)
    assert result.student.state == "pending" and result.student.scorer == "ollama"
    result.wait_logged(30)
    session.drain(timeout=60)
    assert result.student.state == "done", result.student
    session.close()
    rows = sqlite3.connect(db).execute(
        "SELECT label_source, count(*) FROM rubrics GROUP BY 1").fetchall()
    assert dict(rows) == {"heuristic": nodes, "model": nodes}

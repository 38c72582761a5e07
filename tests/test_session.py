"""The session as the CLI and the language server use it: answer first, then log and shadow in
the background; bounded answers; cancellation; the model deadline."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from scout.cancel import Cancelled, CancelToken
from scout.scoring.heuristic import HeuristicScorer
from scout.scoring.model import LabelSource, Rubric, Scored
from scout.session import MAX_RESULTS, ScoutSession
from scout.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "llm-service"
QUESTION = "What breaks if I add a variant to LLMKind?"


class SlowTeacher:
    """A teacher that takes its time and can be told to fail (the session's orchestration is
    under test here; the real Haiku client is tested against a loopback server elsewhere)."""

    name = "haiku"

    def __init__(self, delay: float = 0.3, fail: bool = False) -> None:
        self.delay = delay
        self.fail = fail
        self.started = threading.Event()

    def score(self, question, nodes, *, cancel=None):
        self.started.set()
        time.sleep(self.delay)
        if self.fail:
            raise RuntimeError("teacher down")
        return [Scored(rubric=Rubric(3, 3, 3, "teacher says so"), scorer=self.name,
                       label_source=LabelSource.HAIKU) for _ in nodes]


class DeadlineAwareModel:
    """A model scorer that answers only while its cancel token allows (as run_batches does)."""

    name = "ollama"

    def score(self, question, nodes, *, cancel):
        out = []
        for _ in nodes:
            if cancel.cancelled:
                out.append(Scored(rubric=None, scorer=self.name, label_source=LabelSource.MODEL,
                                  error=f"not sent: {cancel.reason}"))
                continue
            time.sleep(0.05)
            out.append(Scored(rubric=Rubric(4, 4, 4, "model"), scorer=self.name,
                              label_source=LabelSource.MODEL))
        return out


def _session(tmp_path: Path, **kw) -> ScoutSession:
    settings = Settings(db=tmp_path / "scout.db", scorer="heuristic",
                        cache_dir=tmp_path / "cache", **kw.pop("settings", {}))
    return ScoutSession(EXAMPLE, settings, **kw)


def test_answer_then_log_then_shadow_in_the_background(tmp_path: Path) -> None:
    teacher = SlowTeacher()
    events: list[tuple[int, str]] = []
    session = _session(tmp_path, scorers=(HeuristicScorer(), teacher),
                       on_event=lambda key, what: events.append((key, what)))
    started = time.perf_counter()
    result = session.ask(QUESTION)
    assert time.perf_counter() - started < teacher.delay + 5  # did not wait for the teacher
    assert result.shadow.state == "pending"
    outcome = result.wait_logged(timeout=30)
    assert outcome.query_id is not None
    session.drain(timeout=30)
    assert result.shadow.state == "done", result.shadow
    assert all(len(row) == 2 and row[1].label_source is LabelSource.HAIKU
               for row in result.scored)
    session.close()
    db = sqlite3.connect(tmp_path / "scout.db")
    labels = db.execute("SELECT label_source, count(*) FROM rubrics GROUP BY 1").fetchall()
    assert dict(labels) == {"heuristic": len(result.scored), "haiku": len(result.scored)}
    assert [what for _, what in events] == ["answer", "logged", "shadow"]


def test_a_failing_teacher_is_shown_not_hidden(tmp_path: Path) -> None:
    session = _session(tmp_path, scorers=(HeuristicScorer(), SlowTeacher(0.0, fail=True)))
    result = session.ask(QUESTION)
    session.drain(timeout=30)
    assert result.shadow.state == "failed" and "teacher down" in result.shadow.error
    assert all(row[0].rubric is not None for row in result.scored)  # the answer stands
    session.close()


def test_a_locked_database_does_not_hold_the_answer_back(tmp_path: Path) -> None:
    db_path = tmp_path / "scout.db"
    _session(tmp_path).ask(QUESTION).wait_logged(30)  # create it
    blocker = sqlite3.connect(db_path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    session = _session(tmp_path)
    try:
        started = time.perf_counter()
        result = session.ask(QUESTION)
        answered = time.perf_counter() - started
        assert result.log.pending and result.exploration.nodes
        assert answered < 4, answered  # the store's busy timeout alone is 5 s
    finally:
        outcome = result.wait_logged(timeout=120)
        blocker.rollback()
        session.close()
    assert outcome.error and "locked" in outcome.error


def test_answers_kept_are_bounded(tmp_path: Path) -> None:
    session = _session(tmp_path, settings={"log": False})
    question = session.understand(QUESTION)
    keys = [session.ask(question).key for _ in range(MAX_RESULTS + 5)]
    assert len(session.results()) == MAX_RESULTS
    assert session.result(keys[0]) is None and session.result(keys[-1]) is not None
    assert session.clear_results() == MAX_RESULTS and session.results() == []
    session.close()


def test_cancel_stops_the_question(tmp_path: Path) -> None:
    session = _session(tmp_path, settings={"log": False})
    token = CancelToken()
    token.cancel("a newer edit")
    with pytest.raises(Cancelled, match="a newer edit"):
        session.ask(QUESTION, cancel=token)
    session.close()


def test_the_model_deadline_falls_back_with_the_reason(tmp_path: Path) -> None:
    from scout.scoring.hybrid import HybridScorer

    hybrid = HybridScorer(DeadlineAwareModel(), HeuristicScorer())
    session = _session(tmp_path, scorers=(hybrid, None),
                       settings={"log": False, "deadline": 0.2})
    result = session.ask(QUESTION)
    reasons = [row[0].fallback_reason for row in result.scored]
    answered = [r for r in reasons if r is None]
    fell_back = [r for r in reasons if r]
    assert answered and fell_back  # some arrived before the deadline, the rest did not
    assert all("deadline passed" in r for r in fell_back)
    assert all(row[0].rubric is not None for row in result.scored)
    session.close()


def test_hovers_from_the_editor_are_used_and_recorded(tmp_path: Path) -> None:
    session = _session(tmp_path)
    result = session.ask(QUESTION, hovers=lambda nodes: ["LLMKind :: Type"] + [None] *
                         (len(nodes) - 1))
    result.wait_logged(30)
    first = result.exploration.nodes[0]
    assert (first.hover, first.hover_source) == ("LLMKind :: Type", "hls")
    assert result.exploration.nodes[1].hover_source == "index"
    session.close()
    db = sqlite3.connect(tmp_path / "scout.db")
    assert db.execute("SELECT hover_source FROM nodes ORDER BY position LIMIT 2").fetchall() \
        == [("hls",), ("index",)]

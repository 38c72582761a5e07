"""Facts pin and promotion by evidence, with the real ``ollama`` client against a loopback
server and a real SQLite store: the model answers first only after ``scout eval`` measured it on
this codebase and it passed the user's thresholds; the engine's proofs pin the risk."""

from __future__ import annotations

from pathlib import Path

import pytest
from scoring_fakes import OLLAMA_DIGEST, QUESTION, ConstantScorer, make_node

from scout.explore.model import Coverage, Exploration, Target
from scout.functiongemma import render_call
from scout.scoring.hybrid import HybridScorer
from scout.scoring.ollama import OllamaScorer
from scout.scoring.promotion import (
    PromotionGate,
    Thresholds,
    decide,
    disagreements,
    pin_summary,
    record_evaluation,
    who_answers,
)
from scout.store.db import Store


def low_risk_model(fake_ollama):
    """A model that rates every site risk 2, the breaking ones included."""
    return fake_ollama(lambda body: render_call("score_node", {
        "relevance": 4, "risk": 2, "confidence": 3, "reasoning": "probably fine"}))


def record(db: Path, root: Path, nodes, rows) -> Store:
    store = Store.open(db)
    exploration = Exploration(QUESTION, Target("LLMKind", "Types", "data", "src/Types.hs", 3),
                              list(nodes), Coverage(1, 0, len(nodes), len(nodes)))
    store.record(exploration, [[row] for row in rows], root=root)
    return store


def evaluate_as(db: Path, root: Path, student: list[int], teacher: list[int],
                digest: str = OLLAMA_DIGEST) -> None:
    with Store.open(db) as store:
        record_evaluation(store, model="functiongemma", model_digest=digest, root=root,
                          teacher="ghc", nodes=len(student), answered=len(student),
                          student_risks=student, teacher_risks=teacher,
                          report={"kappa": None})


@pytest.fixture
def root(tmp_path) -> Path:
    path = tmp_path / "project"
    path.mkdir()
    return path


def test_facts_pin_raises_the_model_and_logs_its_own_rubric(fake_ollama, nodes, root, tmp_path):
    server = low_risk_model(fake_ollama)
    hybrid = HybridScorer(OllamaScorer(host=server.url, timeout=5), ConstantScorer())
    results = hybrid.score(QUESTION, nodes)
    for node, scored in zip(nodes, results, strict=True):
        assert scored.scorer == "hybrid" and scored.fallback_reason is None
        if node.facts.breaks:  # proved by the engine: never below 4, whatever the model says
            assert scored.rubric.risk == 4
            assert scored.rubric.reasoning == "probably fine"  # the model still ranks/explains
            assert scored.note.startswith("facts pin: functiongemma said risk 2")
            [own] = scored.also
            assert own.rubric.risk == 2 and own.scorer == "functiongemma"
        else:  # a catch-all: the model's word stands
            assert scored.rubric.risk == 2 and scored.note is None and not scored.also
    pinned = sum(node.facts.breaks for node in nodes)
    assert pin_summary([[s] for s in results]).startswith(f"{pinned} site(s)")

    store = record(tmp_path / "scout.db", root, nodes, results)
    rows = store.rows("SELECT scorer, risk, note FROM rubrics ORDER BY id")
    assert len(rows) == len(nodes) + pinned  # the model's own rubric has a row of its own
    assert {row for row in rows if row[0] == "functiongemma"} == {("functiongemma", 2, None)}
    assert disagreements(store) == {OLLAMA_DIGEST: pinned}  # counted, per model digest
    store.close()


def test_an_unevaluated_model_is_shadow_logged_while_the_heuristics_answer(
        fake_ollama, nodes, root, tmp_path):
    server = fake_ollama()
    model = OllamaScorer(host=server.url, timeout=5)
    gate = PromotionGate(root=root, db=tmp_path / "scout.db")
    results = HybridScorer(model, ConstantScorer(), gate).score(QUESTION, nodes)
    assert gate.last.answering == "heuristics"
    assert "has not been evaluated on this codebase" in gate.last.why
    assert "scout eval --scorer ollama --ollama-model functiongemma" in gate.last.why
    for scored in results:
        assert scored.rubric.reasoning.startswith("constant guess")  # the heuristics answered
        assert scored.fallback_reason.startswith("not promoted: model functiongemma@a3b2c1d4e5f6")
        [shadow] = scored.also  # and the model's answer is recorded beside theirs
        assert shadow.rubric is not None and shadow.model_digest == OLLAMA_DIGEST
    store = record(tmp_path / "scout.db", root, nodes, results)
    assert store.rows("SELECT count(*) FROM rubrics WHERE label_source = 'model'")[0][0] == \
        len(nodes)
    store.close()


def test_a_model_that_passed_scout_eval_answers_first(fake_ollama, nodes, root, tmp_path):
    db = tmp_path / "scout.db"
    evaluate_as(db, root, student=[5, 5, 4, 2, 1, 1], teacher=[5, 5, 5, 2, 1, 2])
    server = fake_ollama()
    gate = PromotionGate(root=root, db=db)
    results = HybridScorer(OllamaScorer(host=server.url, timeout=5), ConstantScorer(),
                           gate).score(QUESTION, nodes)
    assert gate.last.answering == "model"
    assert "passed scout eval (agreement 1.00, kappa 0.9" in gate.last.why
    assert all(s.fallback_reason is None and "Module" in s.rubric.reasoning for s in results)
    assert who_answers(OllamaScorer(host=server.url, timeout=5), db=db, root=root)[
        "answering"] == "model"


def test_a_model_below_the_threshold_does_not_answer_until_the_user_lowers_it(
        fake_ollama, root, tmp_path):
    db = tmp_path / "scout.db"
    # agrees on which sites are >= 4 half the time, kappa near zero
    evaluate_as(db, root, student=[5, 1, 5, 1, 3, 3], teacher=[5, 5, 1, 1, 3, 2])
    model = OllamaScorer(host=fake_ollama().url, timeout=5)
    with Store.open(db) as store:
        strict = decide(store, root, model)
        assert strict.answering == "heuristics"
        assert "did not pass: agreement on risk>=4 0.67 < 0.80; kappa" in strict.why
        lenient = decide(store, root, model, Thresholds(min_agreement=0.5, min_kappa=-1.0))
        assert lenient.answering == "model"
        # another codebase, or another digest (a retrained model), is not promoted by it
        assert decide(store, tmp_path, model, Thresholds(0.0, -1.0)).answering == "heuristics"


def test_a_retrained_model_needs_its_own_evaluation(fake_ollama, root, tmp_path):
    db = tmp_path / "scout.db"
    evaluate_as(db, root, student=[5, 5, 1], teacher=[5, 5, 1], digest="0" * 64)
    status = who_answers(OllamaScorer(host=fake_ollama().url, timeout=5), db=db, root=root)
    assert status["answering"] == "heuristics" and "has not been evaluated" in status["why"]


def test_no_model_served_means_heuristics_and_says_so(root, tmp_path):
    from scoring_fakes import refused_url

    status = who_answers(OllamaScorer(host=refused_url(), timeout=5), db=tmp_path / "s.db",
                         root=root)
    assert status == {"answering": "heuristics",
                      "why": "model functiongemma is not being served (no digest)"}


def test_scout_eval_records_the_model_for_promotion(fake_ollama, root, tmp_path, monkeypatch):
    """EvalRecorder (scout eval's hook) stores agreement and kappa per digest and codebase."""
    from types import SimpleNamespace

    from scout.oracle.evaluate import CaseResult, Counts, EvalReport, MutationSpec
    from scout.scoring.promotion import EvalRecorder, latest_evaluation

    model = OllamaScorer(host=fake_ollama().url, timeout=5)
    args = SimpleNamespace(db=tmp_path / "scout.db", promote_min_agreement=0.8,
                           promote_min_kappa=0.6)
    recorder = EvalRecorder(args, model)
    recorder.scorer.score(QUESTION, [make_node(i) for i in range(3)])
    counts = Counts(scorer_risks=[5, 5, 1], teacher_risks=[5, 5, 1])
    case = CaseResult(str(root), MutationSpec("LLMKind", QUESTION.change), counts=counts)
    said: list[str] = []
    recorder.finish(EvalReport("ollama", "ghc", [case]), [root], said.append)
    assert "answered 3/3; passes: it answers first" in said[0]
    with Store.open(tmp_path / "scout.db") as store:
        evaluation = latest_evaluation(store, OLLAMA_DIGEST, root)
        assert (evaluation.agreement, evaluation.kappa, evaluation.teacher) == (1.0, 1.0, "ghc")

"""`scout gen-training` on the bundled example workspace: diversity, balance, misreads,
resuming after an interruption, idempotence, the cost cap, and the ghc teacher with real GHC."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from scout.cancel import Cancelled, CancelToken
from scout.cli import main
from scout.explore.model import ChangeKind, Tag
from scout.generation.generate import GenOptions, GenReport, TrainingRun, summarise
from scout.generation.plan import Workspace, plan
from scout.generation.teachers import build_teacher
from scout.haskell.index import WorkspaceIndex
from scout.store import Store

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "llm-service"
SHAPES = REPO / "tests" / "fixtures" / "oracle" / "shapes"


def options(count: int, *teachers: str, **extra) -> GenOptions:
    return GenOptions(count=count, roots=(EXAMPLE,),
                      teachers=tuple(build_teacher(t) for t in teachers or ("heuristic",)),
                      **extra)


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_plans_are_diverse_and_balanced() -> None:
    ws = Workspace(str(EXAMPLE), WorkspaceIndex.build(EXAMPLE, use_cache=False))
    questions = plan([ws], 45, list(ChangeKind), seed=3)
    assert len(questions) == 45
    changes = Counter(q.reading.change for q in questions)
    assert len(changes) >= 12  # nearly every change kind
    assert len({q.phrasing for q in questions}) >= 25  # many phrasings, not one template
    assert len({q.text for q in questions}) == 45
    assert len({q.target_module for q in questions}) >= 5
    assert len({q.target_kind for q in questions}) >= 6
    assert len({q.budget for q in questions}) >= 3
    risks = Counter(r for q in questions for r in q.risks)
    assert set(risks) == {1, 2, 3, 4, 5}  # safe and irrelevant places are kept
    assert max(risks.values()) < 4 * min(risks.values())
    tags = Counter()
    for q in questions:
        for tag in q.reading.tags:
            tags[tag] += len(q.risks)
    assert set(tags) == set(Tag)
    # The same seed gives the same plan; another seed another one.
    again = plan([Workspace(str(EXAMPLE), ws.index)], 45, list(ChangeKind), seed=3)
    assert [q.text for q in again] == [q.text for q in questions]
    other = plan([Workspace(str(EXAMPLE), ws.index)], 45, list(ChangeKind), seed=4)
    assert [q.text for q in other] != [q.text for q in questions]


def test_interrupted_run_resumes_and_a_finished_one_does_nothing(tmp_path: Path) -> None:
    db = tmp_path / "gen.db"
    token = CancelToken()

    def progress(what: str, done: int, total: int) -> None:
        if what == "labelling" and done == 7:
            token.cancel("test interrupt")

    with Store.open(db, environ={}) as store:
        with pytest.raises(Cancelled):
            TrainingRun(store, options(20), token=token, progress=progress).execute()
    assert rows(db, "SELECT status, count(*) FROM training_items GROUP BY status") == [
        ("done", 7), ("pending", 13)]
    assert rows(db, "SELECT count(*) FROM queries") == [(7,)]

    with Store.open(db, environ={}) as store:
        report = TrainingRun(store, options(20)).execute()
    assert (report.new_in_plan, report.done_now) == (0, 13)
    assert rows(db, "SELECT count(*), count(DISTINCT query_id) FROM training_items "
                    "WHERE status = 'done'") == [(20, 20)]
    assert rows(db, "SELECT count(*) FROM queries") == [(20,)]
    counts = rows(db, "SELECT (SELECT count(*) FROM nodes), (SELECT count(*) FROM rubrics)")

    with Store.open(db, environ={}) as store:  # the same command again: no work at all
        report = TrainingRun(store, options(20)).execute()
    assert (report.new_in_plan, report.done_now, report.catch_up) == (0, 0, 0)
    assert rows(db, "SELECT (SELECT count(*) FROM nodes), (SELECT count(*) FROM rubrics)") \
        == counts

    with Store.open(db, environ={}) as store:  # a larger N extends the same plan
        report = TrainingRun(store, options(26)).execute()
        summary = summarise(store, report.run_id)
    assert (report.new_in_plan, report.done_now) == (6, 6)
    texts = rows(db, "SELECT text FROM training_items")
    assert len(texts) == len(set(texts)) == 26
    assert summary.questions == Counter({"done": 26})
    assert summary.examples == rows(db, "SELECT count(*) FROM nodes")[0][0]
    assert sum(summary.per_risk[r]["heuristic"] for r in summary.per_risk) == summary.examples


def planned(store: Store, count: int, *teachers: str, **extra) -> tuple[TrainingRun, int]:
    """A run whose plan is stored and nothing asked yet."""
    run = TrainingRun(store, options(count, *teachers, **extra))
    run_id = run._run_id()
    run.extend_plan(run_id, [])
    return run, run_id


def test_a_question_another_process_finished_is_not_stored_twice(tmp_path: Path) -> None:
    db = tmp_path / "gen.db"
    with Store.open(db, environ={}) as store:
        run, run_id = planned(store, 2)
        item = run.items(run_id)[0]
        report = GenReport(run_id, run.key)
        run._ask(item, report)
        run._ask(item, report)  # as a second process with the same plan would
    assert report.done_now == 1
    assert rows(db, "SELECT count(*) FROM queries") == [(1,)]


def test_a_misread_is_counted_and_logged_with_the_intended_reading(tmp_path: Path) -> None:
    db = tmp_path / "gen.db"
    with Store.open(db, environ={}) as store:
        run, run_id = planned(store, 4)
        first = run.items(run_id)[0]
        # A text about another change: question understanding reads it otherwise.
        store.transaction(lambda c: c.execute(
            "UPDATE training_items SET text = 'who uses describe?' WHERE id = ?",
            (first.id,)))
        report = run.execute()
    assert report.misread_now >= 1
    (misread, parsed, intended, change, target), = rows(
        db, f"SELECT t.misread, t.parsed, t.intended, q.change, q.target FROM training_items t "
            f"JOIN queries q ON q.id = t.query_id WHERE t.id = {first.id}")
    assert misread == 1
    assert json.loads(parsed)["target"] == "describe"
    assert (change, target) == (first.reading.change.value, first.reading.target)
    assert json.loads(intended)["change"] == first.reading.change.value


def test_cost_is_estimated_and_capped_with_a_paid_teacher(tmp_path: Path, haiku_server) -> None:
    server = haiku_server
    db = tmp_path / "gen.db"
    with Store.open(db, environ={}) as store:
        planner, run_id = planned(store, 5, "heuristic", "haiku", max_cost=1.0)
        cap = planner.estimate(planner.items(run_id)[:3])  # enough for about three questions
        assert cap is not None and cap > 0
        run = TrainingRun(store, options(5, "heuristic", "haiku", max_cost=cap))
        report = run.execute()
        spent = run.spent(report.run_id)
    assert report.estimated_cost is not None and report.estimated_cost > cap
    assert report.stopped and "cost cap" in report.stopped
    assert 0 < report.done_now < 5
    assert 0 < spent <= cap
    haiku = rows(db, "SELECT count(*) FROM rubrics WHERE label_source = 'haiku'")[0][0]
    assert haiku == len(server.server.requests) > 0
    with Store.open(db, environ={}) as store:  # a higher cap continues, nothing is redone
        report = TrainingRun(store, options(5, "heuristic", "haiku", max_cost=1.0)).execute()
    assert report.stopped is None
    assert rows(db, "SELECT count(*) FROM queries") == [(5,)]
    assert rows(db, "SELECT count(*) FROM rubrics WHERE label_source = 'haiku'")[0][0] == \
        len(server.server.requests)


def test_a_label_source_added_later_labels_the_done_questions(tmp_path: Path,
                                                              haiku_server) -> None:
    db = tmp_path / "gen.db"
    with Store.open(db, environ={}) as store:
        TrainingRun(store, options(3)).execute()
        report = TrainingRun(store, options(3, "heuristic", "haiku", max_cost=1.0)).execute()
    assert (report.done_now, report.catch_up) == (0, 3)
    nodes = rows(db, "SELECT count(*) FROM nodes")[0][0]
    assert rows(db, "SELECT label_source, count(*) FROM rubrics GROUP BY label_source") == [
        ("haiku", nodes), ("heuristic", nodes)]


def test_the_student_labels_beside_the_teachers(tmp_path: Path, fake_student) -> None:
    db = tmp_path / "gen.db"
    student = build_teacher("ollama", ollama_host=fake_student.url)
    with Store.open(db, environ={}) as store:
        report = TrainingRun(store, options(3, student=student)).execute()
    nodes = rows(db, "SELECT count(*) FROM nodes")[0][0]
    assert report.labels_now == Counter({"heuristic": nodes, "model": nodes})
    assert rows(db, "SELECT DISTINCT risk, scorer FROM rubrics WHERE label_source = 'model'") \
        == [(3, "ollama")]
    assert any(r.path == "/api/generate" for r in fake_student.server.requests)


def test_cli_requires_a_cap_for_paid_teachers_and_prints_a_summary(tmp_path: Path, capsys
                                                                   ) -> None:
    db = tmp_path / "gen.db"
    assert main(["gen-training", "3", "--root", str(EXAMPLE), "--teacher", "haiku",
                 "--db", str(db)]) == 2
    assert "--max-cost" in capsys.readouterr().err
    assert main(["gen-training", "6", "--root", str(EXAMPLE), "--db", str(db), "--json",
                 "--quiet"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["asked_now"] == 6 and out["examples_now"] > 6
    assert out["summary"]["questions"] == {"done": 6}
    assert set(out["summary"]["per_source"]) == {"heuristic"}
    assert main(["gen-training", "6", "--root", str(EXAMPLE), "--db", str(db)]) == 0
    text = capsys.readouterr().out
    assert "asked now 0" in text and "| risk | heuristic |" in text


@pytest.mark.ghc
def test_the_ghc_teacher_labels_questions_the_oracle_supports(tmp_path: Path) -> None:
    import shutil

    if shutil.which("ghc") is None:
        pytest.skip("needs GHC (apt-get install ghc)")
    db = tmp_path / "gen.db"
    opts = GenOptions(count=8, roots=(SHAPES,), teachers=(
        build_teacher("ghc", oracle_cache=tmp_path / "oracle"), build_teacher("heuristic")),
        changes=(ChangeKind.ADD_CONSTRUCTOR, ChangeKind.REMOVE_FIELD, ChangeKind.ADD_METHOD,
                 ChangeKind.CHANGE_TYPE_SYNONYM))
    with Store.open(db, environ={}) as store:
        report = TrainingRun(store, opts).execute()
        summary = summarise(store, report.run_id)
    assert report.done_now == report.planned > 0
    assert summary.per_source["ghc"] > 0
    # The oracle cannot mutate a type synonym: recorded per question, never silent.
    if any(k.startswith("ghc: the compiler oracle cannot verify") for k in summary.teacher_errors):
        assert summary.per_source["heuristic"] > summary.per_source["ghc"]
    five = rows(db, "SELECT count(*) FROM rubrics WHERE label_source = 'ghc' AND risk = 5 "
                    "AND reasoning LIKE 'GHC:%'")[0][0]
    assert five > 0

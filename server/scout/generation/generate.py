"""``scout gen-training``: grow a labelled dataset from the workspaces' own symbols, overnight.

A run is keyed in the database by its workspaces and seed. Its plan (``training_items``) is
written before any teacher runs, so an interrupted run resumes at the first question not done,
a finished one does nothing again, and asking for more questions extends the same plan. One
question is one transaction: the query, its nodes, every label source's rubrics and the plan
item's "done" are stored together or not at all. A label source added later labels the
questions already done (no question is asked twice).

For each question: the generated text is read back by question understanding and compared
with the structured reading it was made for (same change kind, same target definition, same
nodes); a text read otherwise is counted as a misread, and the question is logged with the
reading it was made for, so its labels stay right. The engine explores; every teacher (and the
student, when given) labels every node; everything goes to the store.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scout.cancel import NEVER, CancelToken
from scout.explore.engine import ExploreError, explore
from scout.explore.model import ChangeKind, Exploration, Node, Question
from scout.explore.question import QuestionError, parse_question
from scout.generation.plan import Balance, PlannedQuestion, Reading, Workspace, plan
from scout.generation.teachers import Teacher, TeacherUnavailable, estimate_cost
from scout.haskell.index import WorkspaceIndex
from scout.scoring.model import Scored
from scout.store import Store
from scout.store.db import node_from_row, now_utc, question_from_row


class GenerationError(Exception):
    """The run cannot start or go on; the message says what to do."""


class _DoneElsewhere(Exception):
    """Another process stored this question first (raised inside its transaction)."""


@dataclass(frozen=True, slots=True)
class GenOptions:
    count: int  # questions this run's plan should hold
    roots: tuple[Path, ...]
    teachers: tuple[Teacher, ...]
    student: Teacher | None = None
    seed: int = 0
    changes: tuple[ChangeKind, ...] = tuple(ChangeKind)
    max_cost: float | None = None  # USD, for paid label sources
    retry_failed: bool = False

    @property
    def label_sources(self) -> tuple[Teacher, ...]:
        return (*self.teachers, *((self.student,) if self.student else ()))


@dataclass(slots=True)
class ItemRow:
    id: int
    position: int
    root: str
    text: str
    phrasing: str
    reading: Reading
    budget: int
    status: str
    query_id: int | None
    predicted: dict[str, Any]
    teacher_errors: dict[str, str]
    target_module: str = ""


@dataclass(slots=True)
class GenReport:
    run_id: int
    key: str
    planned: int = 0  # questions in the plan
    new_in_plan: int = 0  # planned by this invocation
    done_now: int = 0  # questions asked and stored by this invocation
    catch_up: int = 0  # done questions labelled by a label source added later
    failed_now: int = 0
    misread_now: int = 0
    examples_now: int = 0  # nodes stored by this invocation
    labels_now: Counter[str] = field(default_factory=Counter)  # label source -> rubrics
    estimated_cost: float | None = None
    spent_now: float = 0.0
    stopped: str | None = None  # why the run stopped before the plan was done
    seconds: float = 0.0
    exhausted: bool = False  # the workspaces offered fewer questions than asked


Progress = Callable[[str, int, int], None]  # (what, done, total)


def run_key(roots: Sequence[Path], seed: int) -> str:
    payload = json.dumps({"roots": sorted(str(r) for r in roots), "seed": seed})
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


class TrainingRun:
    """One plan in one database. ``execute`` is resumable and idempotent."""

    def __init__(self, store: Store, options: GenOptions, *, token: CancelToken = NEVER,
                 progress: Progress = lambda _what, _done, _total: None,
                 say: Callable[[str], None] = lambda _m: None) -> None:
        self.store = store
        self.options = options
        self.token = token
        self.progress = progress
        self.say = say
        self.roots = tuple(Path(r).resolve() for r in options.roots)
        self.key = run_key(self.roots, options.seed)
        self._workspaces: dict[str, Workspace] = {}

    # -- the plan ----------------------------------------------------------------------------

    def workspace(self, root: str) -> Workspace:
        ws = self._workspaces.get(root)
        if ws is None:
            index = WorkspaceIndex.build(Path(root))
            allowed = None
            ghc = next((t for t in self.options.teachers if t.name == "ghc"), None)
            if ghc is not None:
                allowed = ghc.checked_paths(root)  # type: ignore[attr-defined]
            ws = self._workspaces[root] = Workspace(root, index, allowed)
        return ws

    def _run_id(self) -> int:
        settings = json.dumps({"count": self.options.count,
                               "label_sources": [t.name for t in self.options.label_sources],
                               "changes": [c.value for c in self.options.changes],
                               "max_cost": self.options.max_cost})
        now = now_utc()

        def work(conn: Any) -> int:
            row = conn.execute("SELECT id FROM training_runs WHERE key = ?",
                               (self.key,)).fetchone()
            if row is not None:
                conn.execute("UPDATE training_runs SET settings = ?, updated_at = ? WHERE id = ?",
                             (settings, now, row[0]))
                return int(row[0])
            return int(conn.execute(
                "INSERT INTO training_runs (key, roots, seed, settings, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (self.key, json.dumps([str(r) for r in self.roots]), self.options.seed, settings,
                 now, now)).lastrowid)

        return self.store.transaction(work, "saving a training run")

    def items(self, run_id: int) -> list[ItemRow]:
        rows = self.store.rows(
            "SELECT id, position, root, text, phrasing, intended, budget, status, query_id, "
            "predicted, teacher_errors, target_module FROM training_items WHERE run_id = ? "
            "ORDER BY position", (run_id,))
        return [ItemRow(r[0], r[1], r[2], r[3], r[4], Reading.from_json(json.loads(r[5])), r[6],
                        r[7], r[8], json.loads(r[9] or "{}"), json.loads(r[10] or "{}"),
                        r[11] or "")
                for r in rows]

    def extend_plan(self, run_id: int, existing: list[ItemRow]) -> int:
        """Plan questions up to ``options.count``; returns how many were added."""
        wanted = self.options.count - len(existing)
        if wanted <= 0:
            return 0
        balance = Balance()
        for item in existing:
            balance.add(item.root, item.target_module, item.reading,
                        item.predicted.get("risks", ()))
        workspaces = [self.workspace(str(root)) for root in self.roots]
        self.progress("planning", 0, wanted)
        counted = Counter[str]()

        def picked_one(_question: PlannedQuestion) -> None:
            counted["picked"] += 1
            self.progress("planning", counted["picked"], wanted)

        picked = plan(workspaces, wanted, self.options.changes, seed=self.options.seed,
                      balance=balance, drawn=len(existing), token=self.token,
                      on_pick=picked_one)
        now = now_utc()
        first = len(existing)

        def work(conn: Any) -> None:
            conn.executemany(
                "INSERT INTO training_items (run_id, position, root, text, phrasing, intended, "
                "budget, target_kind, target_module, predicted, status, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
                [(run_id, first + i, q.root, q.text, q.phrasing, json.dumps(q.reading.as_json()),
                  q.budget, q.target_kind, q.target_module, json.dumps(q.predicted()), now, now)
                 for i, q in enumerate(picked)])

        self.store.transaction(work, "saving the training plan")
        return len(picked)

    # -- cost --------------------------------------------------------------------------------

    def estimate(self, items: Sequence[ItemRow]) -> float | None:
        """USD the paid label sources should cost for these questions (None: none is paid)."""
        paid = [t for t in self.options.label_sources if t.paid]
        if not paid:
            return None
        total = 0.0
        for teacher in paid:
            for item in items:
                cost = estimate_cost(teacher.model or "",  # type: ignore[attr-defined]
                                     int(item.predicted.get("nodes", 0)),
                                     int(item.predicted.get("input_chars", 0)))
                if cost is None:
                    raise GenerationError(f"no price is known for {teacher.name} model "
                                          f"{teacher.model!r}: cannot cap its cost")  # type: ignore[attr-defined]
                total += cost
        return total

    def spent(self, run_id: int) -> float:
        """USD already recorded for this plan's questions (every run of it)."""
        row = self.store.rows(
            "SELECT coalesce(sum(r.cost_usd), 0) FROM rubrics r JOIN nodes n ON n.id = r.node_id "
            "JOIN training_items t ON t.query_id = n.query_id WHERE t.run_id = ?", (run_id,))
        return float(row[0][0])

    # -- executing -----------------------------------------------------------------------------

    def execute(self) -> GenReport:
        started = time.monotonic()
        for root in self.roots:
            if not root.is_dir():
                raise GenerationError(f"workspace root {root} is not a directory")
        run_id = self._run_id()
        report = GenReport(run_id, self.key)
        existing = self.items(run_id)
        report.new_in_plan = self.extend_plan(run_id, existing)
        items = self.items(run_id)
        report.planned = len(items)
        report.exhausted = len(items) < self.options.count
        pending = [i for i in items if i.status == "pending"
                   or (i.status == "failed" and self.options.retry_failed)]
        catch_up = [i for i in items if i.status == "done" and self._missing_sources(i)]
        report.estimated_cost = self.estimate(pending)
        spent_before = self.spent(run_id)
        cap = self.options.max_cost
        if report.estimated_cost is not None:
            self.say(f"estimated cost of the paid label sources for {len(pending)} question(s): "
                     f"${report.estimated_cost:.4f}"
                     + (f" (cap ${cap:.2f}, already spent ${spent_before:.4f})"
                        if cap is not None else ""))
        total = len(pending) + len(catch_up)
        self.progress("labelling", 0, total)
        done = 0
        estimated_now = 0.0  # the estimates of the questions asked so far in this run
        try:
            for item in [*pending, *catch_up]:
                self.token.check()
                if cap is not None and report.estimated_cost is not None:
                    # The estimate learns from what was spent: when answers cost more than it
                    # said, the next question is expected to as well (the cap holds).
                    next_cost = self.estimate([item]) or 0.0
                    if estimated_now > 0:
                        next_cost *= max(1.0, report.spent_now / estimated_now)
                    estimated_now += self.estimate([item]) or 0.0
                    if spent_before + report.spent_now + next_cost > cap:
                        report.stopped = (f"the cost cap ${cap:.2f} would be passed: spent "
                                          f"${spent_before + report.spent_now:.4f}, the next "
                                          f"question costs about ${next_cost:.4f}")
                        break
                if item.status == "done":
                    self._catch_up(item, report)
                else:
                    self._ask(item, report)
                done += 1
                self.progress("labelling", done, total)
        finally:
            report.seconds = time.monotonic() - started
        return report

    def _labelled(self, query_id: int) -> dict[str, set[int]]:
        """label source -> ids of the query's nodes it labelled (errors do not count)."""
        out: dict[str, set[int]] = {}
        for source, node_id in self.store.rows(
                "SELECT r.label_source, r.node_id FROM rubrics r JOIN nodes n ON n.id = r.node_id "
                "WHERE n.query_id = ? AND r.relevance IS NOT NULL", (query_id,)):
            out.setdefault(source, set()).add(node_id)
        return out

    def _missing_sources(self, item: ItemRow) -> list[Teacher]:
        """Label sources asked for that have not labelled every node of a done question (and
        did not say why they cannot)."""
        if item.query_id is None:
            return []
        nodes = self.store.rows("SELECT count(*) FROM nodes WHERE query_id = ?",
                                (item.query_id,))[0][0]
        if not nodes:
            return []
        have = self._labelled(item.query_id)
        return [t for t in self.options.label_sources
                if len(have.get(t.label_source, ())) < nodes
                and (t.name not in item.teacher_errors or self.options.retry_failed)]

    def _read_back(self, item: ItemRow, ws: Workspace, intended: Exploration
                   ) -> tuple[dict[str, Any], bool]:
        """How question understanding reads the text, and whether that is another question."""
        try:
            parsed = parse_question(item.text, budget=item.budget)
        except QuestionError as exc:
            return {"error": str(exc)}, True
        reading = {"change": parsed.change.value, "target": parsed.target,
                   "subject": parsed.subject, "tags": [t.value for t in parsed.tags]}
        try:
            theirs = explore(ws.index, parsed)
        except ExploreError as exc:
            return {**reading, "error": str(exc)}, True
        same = (theirs.question.change == intended.question.change
                and theirs.target == intended.target
                and [n.location for n in theirs.nodes] == [n.location for n in intended.nodes])
        return reading, not same

    def _label(self, teacher: Teacher, ws: Workspace, question: Question, reading: Reading,
               nodes: Sequence[Node], errors: dict[str, str]) -> list[Scored] | None:
        try:
            scored = teacher.label(ws, question, reading, nodes, self.token)
        except TeacherUnavailable as exc:
            errors[teacher.name] = str(exc)
            return None
        self.token.check()  # a model scorer stops sending once cancelled: keep nothing partial
        return scored

    def _ask(self, item: ItemRow, report: GenReport) -> None:
        ws = self.workspace(item.root)
        question = item.reading.question(item.text, item.budget)
        try:
            exploration = explore(ws.index, question, cancel=self.token)
        except ExploreError as exc:
            self._fail(item, f"the engine could not explore the intended question: {exc}")
            report.failed_now += 1
            return
        parsed, misread = self._read_back(item, ws, exploration)
        errors: dict[str, str] = {}
        per_node: list[list[Scored]] = [[] for _ in exploration.nodes]
        for teacher in self.options.label_sources:
            self.token.check()
            scored = self._label(teacher, ws, exploration.question, item.reading,
                                 exploration.nodes, errors)
            if scored is None:
                continue
            for row, answer in zip(per_node, scored, strict=True):
                row.append(answer)
        now = now_utc()

        def mark_done(conn: Any, query_id: int) -> None:
            cursor = conn.execute(
                "UPDATE training_items SET status = 'done', query_id = ?, parsed = ?, "
                "misread = ?, teacher_errors = ?, error = NULL, updated_at = ? "
                "WHERE id = ? AND status != 'done'",
                (query_id, json.dumps(parsed), int(misread), json.dumps(errors), now, item.id))
            if cursor.rowcount == 0:
                raise _DoneElsewhere  # rolls the query back: no duplicate

        try:
            self.store.record(exploration, per_node, root=Path(item.root), also=mark_done)
        except _DoneElsewhere:
            self.say(f"question {item.position} was finished by another process meanwhile")
            return
        report.done_now += 1
        report.misread_now += int(misread)
        report.examples_now += len(exploration.nodes)
        self._count(per_node, report)

    def _catch_up(self, item: ItemRow, report: GenReport) -> None:
        """Label a done question's stored nodes with the label sources it lacks."""
        ws = self.workspace(item.root)
        rows = self.store.db.query(
            "SELECT n.id AS node_id, n.path, n.line, n.col, n.end_line, n.enclosing, n.hover, "
            "n.snippet, n.facts, q.text, q.target, q.change, q.tags, q.budget, q.subject "
            "FROM nodes n JOIN queries q ON q.id = n.query_id WHERE n.query_id = ? "
            "ORDER BY n.position", [item.query_id])
        rows = list(rows)
        if not rows:
            return
        question = question_from_row(rows[0])
        nodes = [node_from_row(row) for row in rows]
        errors = dict(item.teacher_errors)
        answers: list[tuple[int, Scored]] = []
        have = self._labelled(int(item.query_id or 0))
        for teacher in self._missing_sources(item):
            errors.pop(teacher.name, None)
            done = have.get(teacher.label_source, set())
            todo = [(row, node) for row, node in zip(rows, nodes, strict=True)
                    if row["node_id"] not in done]
            scored = self._label(teacher, ws, question, item.reading, [n for _, n in todo],
                                 errors)
            if scored is None:
                continue
            answers += [(row["node_id"], s) for (row, _), s in zip(todo, scored, strict=True)]
            report.labels_now[teacher.label_source] += sum(1 for s in scored if s.rubric)
            report.spent_now += sum(s.cost_usd or 0.0 for s in scored)
        if answers:
            self.store.add_scored_many(answers)
        now = now_utc()
        self.store.transaction(lambda conn: conn.execute(
            "UPDATE training_items SET teacher_errors = ?, updated_at = ? WHERE id = ?",
            (json.dumps(errors), now, item.id)), "updating a training item")
        report.catch_up += 1

    def _fail(self, item: ItemRow, error: str) -> None:
        now = now_utc()
        self.store.transaction(lambda conn: conn.execute(
            "UPDATE training_items SET status = 'failed', error = ?, updated_at = ? WHERE id = ?",
            (error, now, item.id)), "updating a training item")

    @staticmethod
    def _count(per_node: Sequence[Sequence[Scored]], report: GenReport) -> None:
        for row in per_node:
            for answer in row:
                if answer.rubric is not None:
                    report.labels_now[str(answer.label_source)] += 1
                report.spent_now += answer.cost_usd or 0.0


# --------------------------------------------------------------------------- summary


@dataclass(slots=True)
class Summary:
    questions: Counter[str]  # status -> count
    misread: int
    misread_by_change: Counter[str]
    per_tag: dict[str, Counter[str]]  # tag -> label source -> labels
    per_risk: dict[int, Counter[str]]  # risk -> label source -> labels
    per_source: Counter[str]
    examples: int  # labelled nodes
    cost: float
    teacher_errors: Counter[str]  # "teacher: first words of the reason" -> questions

    def as_json(self) -> dict[str, Any]:
        return {"questions": dict(self.questions), "misread": self.misread,
                "misread_by_change": dict(self.misread_by_change),
                "per_tag": {k: dict(v) for k, v in sorted(self.per_tag.items())},
                "per_risk": {str(k): dict(v) for k, v in sorted(self.per_risk.items())},
                "per_source": dict(self.per_source), "examples": self.examples,
                "cost_usd": round(self.cost, 6), "teacher_errors": dict(self.teacher_errors)}


def summarise(store: Store, run_id: int) -> Summary:
    statuses = Counter({row[0]: row[1] for row in store.rows(
        "SELECT status, count(*) FROM training_items WHERE run_id = ? GROUP BY status",
        (run_id,))})
    misread_by_change: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    misread = 0
    for intended, flag, teacher_errors in store.rows(
            "SELECT intended, misread, teacher_errors FROM training_items "
            "WHERE run_id = ? AND status = 'done'", (run_id,)):
        if flag:
            misread += 1
            misread_by_change[json.loads(intended)["change"]] += 1
        for teacher, reason in json.loads(teacher_errors or "{}").items():
            errors[f"{teacher}: {reason.split(':', 1)[0][:80]}"] += 1
    per_tag: dict[str, Counter[str]] = {}
    per_risk: dict[int, Counter[str]] = {}
    per_source: Counter[str] = Counter()
    cost = 0.0
    for tags, risk, source, n, spent in store.rows(
            "SELECT q.tags, r.risk, r.label_source, count(*), coalesce(sum(r.cost_usd), 0) "
            "FROM training_items t JOIN queries q ON q.id = t.query_id "
            "JOIN nodes n ON n.query_id = q.id JOIN rubrics r ON r.node_id = n.id "
            "WHERE t.run_id = ? AND r.relevance IS NOT NULL "
            "GROUP BY q.tags, r.risk, r.label_source", (run_id,)):
        for tag in json.loads(tags):
            per_tag.setdefault(tag, Counter())[source] += n
        per_risk.setdefault(int(risk), Counter())[source] += n
        per_source[source] += n
        cost += spent
    examples = store.rows(
        "SELECT count(*) FROM training_items t JOIN nodes n ON n.query_id = t.query_id "
        "WHERE t.run_id = ?", (run_id,))[0][0]
    return Summary(statuses, misread, misread_by_change, per_tag, per_risk, per_source,
                   int(examples), cost, errors)


def summary_table(summary: Summary) -> str:
    sources = sorted(summary.per_source)
    lines = [f"questions: {', '.join(f'{k} {v}' for k, v in sorted(summary.questions.items()))}"
             f"; misread by question understanding: {summary.misread}"
             + (f" ({', '.join(f'{k} {v}' for k, v in summary.misread_by_change.most_common())})"
                if summary.misread else ""),
             f"examples (labelled nodes): {summary.examples}; labels per source: "
             + ", ".join(f"{s} {summary.per_source[s]}" for s in sources)
             + (f"; cost ${summary.cost:.4f}" if summary.cost else "")]

    def table(title: str, rows: dict[Any, Counter[str]]) -> list[str]:
        out = ["", f"| {title} | " + " | ".join(sources) + " |",
               "|---|" + "---|" * len(sources)]
        for key in sorted(rows):
            out.append(f"| {key} | " + " | ".join(str(rows[key].get(s, 0)) for s in sources)
                       + " |")
        return out

    lines += table("tag", summary.per_tag)
    lines += table("risk", summary.per_risk)
    if summary.teacher_errors:
        lines += ["", "label sources that gave no labels for some questions:"]
        lines += [f"  {n} x {reason}" for reason, n in summary.teacher_errors.most_common(10)]
    return "\n".join(lines)

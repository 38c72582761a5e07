"""Who decides what: the engine proves, the model ranks, and the model is promoted by evidence.

**Facts pin** (:func:`pin_facts`): in hybrid mode a model's answer never rates a site the
engine proved breaks (``SiteFacts.breaks``: a non-exhaustive match, a use of a removed name)
below risk 4. The answer given is the model's with its risk raised to 4 and a ``note`` saying so;
the model's own rubric is recorded beside it (``Scored.also``, a row of its own in the store),
and :func:`disagreements` counts those rows: they are the most valuable training signal there is.

**Promotion** (:class:`PromotionGate`): a model answers first only once ``scout eval`` measured it
against a teacher on this codebase and it passed the user's thresholds (agreement on risk >= 4
and quadratic-weighted kappa, :class:`Thresholds`), recorded per model digest in the
``evaluations`` table. Until then the heuristics answer (``fallback_reason`` says why) and the
model's answers are recorded beside theirs (shadow-logged). :func:`who_answers` says which is
answering and why, for the CLI and the language server's status.

``scout eval --scorer ollama`` records the evaluation (:class:`EvalRecorder`); the thresholds are
read when a question is answered, so changing them takes effect at once.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from scout.cancel import NEVER, CancelToken
from scout.explore.model import Node, Question
from scout.scoring.model import LabelSource, Rubric, Scored, Scorer

PIN_RISK = 4
DEFAULT_MIN_AGREEMENT = 0.8
DEFAULT_MIN_KAPPA = 0.6
DEFAULT_MIN_ANSWERED = 0.9


@dataclass(frozen=True, slots=True)
class Thresholds:
    """What a model must reach in ``scout eval`` on a codebase to answer first there."""

    min_agreement: float = DEFAULT_MIN_AGREEMENT  # both risk >= 4, or both < 4
    min_kappa: float = DEFAULT_MIN_KAPPA  # quadratic-weighted, on risk
    min_answered: float = DEFAULT_MIN_ANSWERED  # share of nodes with a valid answer

    def failures(self, evaluation: Evaluation) -> list[str]:
        failed = []
        answered = evaluation.answered / evaluation.nodes if evaluation.nodes else 0.0
        if answered < self.min_answered:
            failed.append(f"answered {answered:.2f} < {self.min_answered:.2f}")
        if evaluation.agreement is None or evaluation.agreement < self.min_agreement:
            failed.append(f"agreement on risk>=4 {_fmt(evaluation.agreement)} < "
                          f"{self.min_agreement:.2f}")
        if evaluation.kappa is None or evaluation.kappa < self.min_kappa:
            failed.append(f"kappa {_fmt(evaluation.kappa)} < {self.min_kappa:.2f}")
        return failed


def _fmt(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.2f}"


@dataclass(frozen=True, slots=True)
class Evaluation:
    id: int
    model: str
    model_digest: str
    root: str
    teacher: str
    nodes: int
    answered: int
    agreement: float | None
    kappa: float | None
    created_at: str


@dataclass(frozen=True, slots=True)
class Decision:
    """Who answers first for this model on this codebase, and why (shown to the user)."""

    answering: str  # "model" | "heuristics"
    why: str
    model: str | None = None
    digest: str | None = None
    evaluation: Evaluation | None = None

    def as_status(self) -> dict[str, str]:
        return {"answering": self.answering, "why": self.why}


# --------------------------------------------------------------------------- metrics


def risk_agreement(student: Sequence[int], teacher: Sequence[int]) -> float | None:
    """Share of pairs on the same side of risk 4 (both >= 4 or both < 4)."""
    if not student or len(student) != len(teacher):
        return None
    same = sum((s >= PIN_RISK) == (t >= PIN_RISK) for s, t in zip(student, teacher, strict=True))
    return same / len(student)


# --------------------------------------------------------------------------- the record


def record_evaluation(store: Any, *, model: str, model_digest: str, root: Path, teacher: str,
                      nodes: int, answered: int, student_risks: Sequence[int],
                      teacher_risks: Sequence[int], report: dict[str, Any],
                      gguf_sha256: str | None = None) -> Evaluation:
    """Store one evaluation of a model on a codebase (and which GGUF that digest serves)."""
    from scout.oracle.evaluate import quadratic_weighted_kappa
    from scout.store.db import now_utc

    agreement = risk_agreement(student_risks, teacher_risks)
    kappa = quadratic_weighted_kappa(list(student_risks), list(teacher_risks))
    created = now_utc()
    codebase = store._describe(Path(root).resolve())

    def work(conn: Any) -> int:
        codebase_id, _ = store._codebase_id(conn, codebase)
        if gguf_sha256 is not None:
            link_served_model_in(conn, model_digest, model, gguf_sha256, created)
        return int(conn.execute(
            "INSERT INTO evaluations (model, model_digest, codebase_id, root, teacher, nodes, "
            "answered, agreement, kappa, report, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (model, model_digest, codebase_id, codebase.root, teacher, nodes, answered,
             agreement, kappa, json.dumps(report), created)).lastrowid or 0)

    evaluation_id = store._write(work, "recording an evaluation")
    return Evaluation(evaluation_id, model, model_digest, codebase.root, teacher, nodes,
                      answered, agreement, kappa, created)


def link_served_model_in(conn: Any, model_digest: str, model: str, gguf_sha256: str | None,
                         seen: str) -> None:
    conn.execute("INSERT INTO served_models (model_digest, model, gguf_sha256, first_seen) "
                 "VALUES (?, ?, ?, ?) ON CONFLICT (model_digest, model) DO UPDATE SET "
                 "gguf_sha256 = coalesce(excluded.gguf_sha256, served_models.gguf_sha256)",
                 (model_digest, model, gguf_sha256, seen))


def latest_evaluation(store: Any, model_digest: str, root: Path) -> Evaluation | None:
    resolved = Path(root).resolve().as_posix()
    rows = store.rows(
        "SELECT id, model, model_digest, root, teacher, nodes, answered, agreement, kappa, "
        "created_at FROM evaluations WHERE model_digest = ? AND root = ? "
        "ORDER BY id DESC LIMIT 1", (model_digest, resolved))
    return Evaluation(*rows[0]) if rows else None


def disagreements(store: Any) -> dict[str, int]:
    """Per model digest: logged nodes the engine proved break that the model rated below 4."""
    rows = store.rows(
        "SELECT coalesce(r.model_digest, r.model, '?'), count(*) FROM rubrics r "
        "JOIN nodes n ON n.id = r.node_id WHERE r.label_source = 'model' "
        "AND r.risk IS NOT NULL AND r.risk < ? AND json_extract(n.facts, '$.breaks') "
        "AND r.note IS NULL GROUP BY 1", (PIN_RISK,))
    return {digest: count for digest, count in rows}


def training_origin(store: Any, model_digest: str) -> dict[str, Any] | None:
    """The training run behind a served model digest: dataset and base, by digest."""
    rows = store.rows(
        "SELECT t.name, t.gguf_sha256, t.dataset_path, t.dataset_digest, t.base_path, "
        "t.base_digest, t.train_examples, t.created_at FROM served_models s "
        "JOIN trained_models t ON t.gguf_sha256 = s.gguf_sha256 WHERE s.model_digest = ? "
        "ORDER BY t.id DESC LIMIT 1", (model_digest,))
    if not rows:
        return None
    keys = ("name", "gguf_sha256", "dataset", "dataset_digest", "base", "base_digest",
            "train_examples", "trained_at")
    return dict(zip(keys, rows[0], strict=True))


# --------------------------------------------------------------------------- deciding


def decide(store: Any | None, root: Path | None, model: Scorer,
           thresholds: Thresholds = Thresholds()) -> Decision:
    """Does ``model`` answer first on ``root``? Never raises: a failure to tell is a reason."""
    name = getattr(model, "model", getattr(model, "name", "model"))
    digest_of = getattr(model, "model_digest", None)
    digest = digest_of() if callable(digest_of) else None
    if digest is None:
        return Decision("heuristics", f"model {name} is not being served (no digest)", name)
    short = digest[:12]
    if store is None or root is None:
        return Decision("heuristics", f"model {name}@{short}: no database to read its "
                        "evaluations from", name, digest)
    evaluation = latest_evaluation(store, digest, root)
    if evaluation is None:
        return Decision("heuristics", f"model {name}@{short} has not been evaluated on this "
                        f"codebase: run `scout eval --scorer ollama --ollama-model {name} "
                        f"--root {root}`", name, digest)
    failed = thresholds.failures(evaluation)
    measured = (f"agreement {_fmt(evaluation.agreement)}, kappa {_fmt(evaluation.kappa)}, "
                f"answered {evaluation.answered}/{evaluation.nodes} against "
                f"{evaluation.teacher} on {evaluation.created_at}")
    if failed:
        return Decision("heuristics", f"model {name}@{short} did not pass: {'; '.join(failed)} "
                        f"({measured})", name, digest, evaluation)
    return Decision("model", f"model {name}@{short} passed scout eval ({measured})", name,
                    digest, evaluation)


def who_answers(model: Scorer | None, *, db: Path | None, root: Path,
                thresholds: Thresholds = Thresholds()) -> dict[str, str]:
    """``{"answering", "why"}`` for a status line (CLI, language server, status bar)."""
    if model is None:
        return {"answering": "heuristics", "why": "no model scorer is configured"}
    from scout.store.db import Store, StoreError

    try:
        store = Store.open(db, workspace=root)
    except StoreError as exc:
        return Decision("heuristics", f"cannot read evaluations: {exc}").as_status()
    try:
        return decide(store, root, model, thresholds).as_status()
    finally:
        store.close()


class PromotionGate:
    """Decides, per ``score`` call, whether the hybrid's model answers first (cached a few
    seconds per digest, so a burst of questions reads the database once)."""

    def __init__(self, *, root: Path, db: Path | None = None,
                 thresholds: Thresholds = Thresholds(), shadow_model: bool = True,
                 cache_seconds: float = 10.0) -> None:
        self.root = Path(root).resolve()
        self.db = db
        self.thresholds = thresholds
        self.shadow_model = shadow_model
        self.cache_seconds = cache_seconds
        self._cached: tuple[float, Decision] | None = None
        self._lock = threading.Lock()
        self.last: Decision | None = None

    def decide(self, model: Scorer) -> Decision:
        with self._lock:
            if self._cached and time.monotonic() - self._cached[0] < self.cache_seconds:
                return self._cached[1]
        from scout.store.db import Store, StoreError

        try:
            store = Store.open(self.db, workspace=self.root)
        except StoreError as exc:
            decision = Decision("heuristics", f"cannot read evaluations: {exc}")
        else:
            try:
                decision = decide(store, self.root, model, self.thresholds)
            finally:
                store.close()
        with self._lock:
            self._cached = (time.monotonic(), decision)
            self.last = decision
        return decision

    def score(self, question: Question, nodes: Sequence[Node], *, model: Scorer,
              fallback: Scorer, model_first: Callable[..., list[Scored]], name: str,
              cancel: CancelToken = NEVER) -> list[Scored]:
        decision = self.decide(model)
        if decision.answering == "model":
            return pin_facts(nodes, model_first(question, nodes, cancel=cancel))
        answers = [replace(s, scorer=name, fallback_reason=f"not promoted: {decision.why}")
                   for s in fallback.score(question, nodes, cancel=cancel)]
        if not self.shadow_model or decision.digest is None:
            return answers  # no model is served: nothing to shadow-log
        try:
            shadow = model.score(question, nodes, cancel=cancel)
        except Exception as exc:  # a scorer must not raise; the heuristics' answers stand
            shadow = [Scored(rubric=None, scorer=getattr(model, "name", "model"),
                             label_source=LabelSource.MODEL, error=f"raised {exc!r}")
                      for _ in nodes]
        for answer, own in zip(answers, shadow, strict=True):
            answer.also.append(own)
        return answers


def attach_gate(scorer: Scorer, *, root: Path, db: Path | None,
                thresholds: Thresholds = Thresholds(),
                shadow_model: bool = True) -> PromotionGate | None:
    """Give a hybrid scorer (possibly inside a shadow wrapper) its promotion gate.
    ``shadow_model=False``: the caller shadow-logs the unpromoted model itself (the session
    does it in the background, so nobody waits for it)."""
    from scout.scoring.hybrid import HybridScorer, ShadowScorer

    inner = scorer.primary if isinstance(scorer, ShadowScorer) else scorer
    if not isinstance(inner, HybridScorer):
        return None
    inner.gate = PromotionGate(root=root, db=db, thresholds=thresholds,
                               shadow_model=shadow_model)
    return inner.gate


# --------------------------------------------------------------------------- the facts pin


def pin_facts(nodes: Sequence[Node], results: list[Scored]) -> list[Scored]:
    """Raise a model's risk to 4 at sites the engine proved break; keep its own rubric beside."""
    pinned = []
    for node, scored in zip(nodes, results, strict=True):
        rubric = scored.rubric
        if (rubric is None or scored.label_source is not LabelSource.MODEL
                or not node.facts.breaks or rubric.risk >= PIN_RISK):
            pinned.append(scored)
            continue
        own = replace(scored, scorer=scored.model or "model", also=[], exchanges=[])
        note = (f"facts pin: {scored.model or 'the model'} said risk {rubric.risk}; the engine "
                f"proved this site breaks ({node.facts.detail or node.facts.edge}), so risk "
                f"{PIN_RISK}")
        pinned.append(replace(
            scored, rubric=Rubric(rubric.relevance, PIN_RISK, rubric.confidence,
                                  rubric.reasoning),
            note=note, also=[*scored.also, own]))
    return pinned


def pin_summary(rows: Sequence[Sequence[Scored]]) -> str | None:
    """One line for the CLI when the facts pin overrode the model in an answer."""
    notes = [row[0].note for row in rows if row and row[0].note
             and row[0].note.startswith("facts pin:")]
    if not notes:
        return None
    return (f"{len(notes)} site(s) the engine proved break were rated below {PIN_RISK} by the "
            f"model; shown at risk {PIN_RISK}, the model's own rubric is logged beside them")


# --------------------------------------------------------------------------- scout eval


def add_promotion_options(p: Any) -> None:
    """Thresholds (for ``scout query`` and ``scout eval``); also settings
    ``promotion.minAgreement`` / ``promotion.minKappa``."""
    group = p.add_argument_group("promotion (who answers first in hybrid mode)")
    group.add_argument("--promote-min-agreement", type=float,
                       help="agreement on risk>=4 with the teacher a model needs in scout eval "
                            f"to answer first (default {DEFAULT_MIN_AGREEMENT})")
    group.add_argument("--promote-min-kappa", type=float,
                       help="quadratic-weighted kappa on risk it needs "
                            f"(default {DEFAULT_MIN_KAPPA})")


def add_eval_model_options(p: Any) -> None:
    """Which model ``scout eval --scorer ollama`` measures (the result is recorded in the eval
    parser's ``--db``)."""
    p.add_argument("--ollama-host", help="Ollama server (default: $OLLAMA_HOST)")
    p.add_argument("--ollama-model", default="functiongemma", help="Ollama model name")
    add_promotion_options(p)


def thresholds_from(source: Any) -> Thresholds:
    """From a Settings value or parsed arguments (unset values take the defaults)."""
    agreement = getattr(source, "promote_min_agreement", None)
    kappa = getattr(source, "promote_min_kappa", None)
    return Thresholds(
        min_agreement=DEFAULT_MIN_AGREEMENT if agreement is None else float(agreement),
        min_kappa=DEFAULT_MIN_KAPPA if kappa is None else float(kappa))


def answering_note(scorer: Scorer) -> str | None:
    """"heuristics (why)" / "model (why)" after a hybrid answer, for the CLI."""
    from scout.scoring.hybrid import HybridScorer, ShadowScorer

    inner = scorer.primary if isinstance(scorer, ShadowScorer) else scorer
    gate = inner.gate if isinstance(inner, HybridScorer) else None
    if gate is None or gate.last is None:
        return None
    return f"{gate.last.answering} ({gate.last.why})"


class _Counting:
    """Counts the scorer's answers and failures while ``scout eval`` runs it."""

    def __init__(self, scorer: Scorer) -> None:
        self.inner = scorer
        self.name = scorer.name
        self.nodes = 0
        self.answered = 0

    def score(self, question: Question, nodes: Sequence[Node], *,
              cancel: CancelToken = NEVER) -> list[Scored]:
        results = self.inner.score(question, nodes, cancel=cancel)
        self.nodes += len(results)
        self.answered += sum(1 for r in results if r.rubric is not None)
        return results


class EvalRecorder:
    """Wraps the scorer ``scout eval`` measures; afterwards records the result per model digest
    and codebase when it is a model served by Ollama, and prints the promotion verdict."""

    def __init__(self, args: Any, scorer: Scorer) -> None:
        self.args = args
        self.counting = _Counting(scorer)
        self.scorer: Scorer = self.counting

    def finish(self, report: Any, roots: Sequence[Path], say: Callable[[str], None]) -> None:
        model = self.counting.inner
        digest_of = getattr(model, "model_digest", None)
        if not callable(digest_of):
            return  # heuristics: nothing to promote
        digest = digest_of()
        if digest is None:
            say("the model's digest is unknown (not served?): evaluation not recorded")
            return
        from scout.store.db import Store, StoreError

        blob = getattr(model, "blob_digest", None)
        gguf = blob() if callable(blob) else None
        thresholds = thresholds_from(self.args)
        try:
            store = Store.open(getattr(self.args, "db", None))
        except StoreError as exc:
            say(f"evaluation not recorded: {exc}")
            return
        try:
            for root in roots:
                cases = [c for c in report.cases if c.root == str(root) and not c.error]
                student = [r for c in cases for r in c.counts.scorer_risks]
                teacher = [r for c in cases for r in c.counts.teacher_risks]
                evaluation = record_evaluation(
                    store, model=model.model, model_digest=digest, root=Path(root),
                    teacher=report.against, nodes=self.counting.nodes,
                    answered=self.counting.answered, student_risks=student,
                    teacher_risks=teacher, report=report.overall().metrics(), gguf_sha256=gguf)
                failed = thresholds.failures(evaluation)
                verdict = ("passes: it answers first in hybrid mode on this codebase"
                           if not failed else "does not pass (" + "; ".join(failed) +
                           "): the heuristics keep answering, the model is shadow-logged")
                say(f"{model.model}@{digest[:12]} on {root}: agreement "
                    f"{_fmt(evaluation.agreement)}, kappa {_fmt(evaluation.kappa)}, answered "
                    f"{evaluation.answered}/{evaluation.nodes}; {verdict}")
        except StoreError as exc:
            say(f"evaluation not recorded: {exc}")
        finally:
            store.close()

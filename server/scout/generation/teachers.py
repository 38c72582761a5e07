"""The label sources a training run can use, behind one small interface.

``heuristic`` (the guidance's rules, free), ``ghc`` (the compiler oracle: one mutation and one
type-check per question, free but slow), ``haiku`` (paid, per node) and the student ``ollama``
(the local model). A teacher that cannot label a question (the oracle does not support the
change kind, the workspace does not type-check, the API key is missing) raises
:class:`TeacherUnavailable` with the reason, which the run records per question; it is never
silently skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from scout.cancel import NEVER, CancelToken
from scout.explore.model import Node, Question
from scout.generation.plan import Reading, Workspace
from scout.scoring.heuristic import HeuristicScorer
from scout.scoring.model import Scored, Scorer
from scout.tasks import load_task

TEACHERS = ("heuristic", "ghc", "haiku")
STUDENTS = ("ollama",)
# A Haiku answer for score_node: a tool call plus a sentence or two of text.
EXPECTED_OUTPUT_TOKENS = 150
CHARS_PER_TOKEN = 3.5


class TeacherUnavailable(Exception):
    """This teacher gives no labels for this question; the message says why."""


class Teacher(Protocol):
    name: str
    label_source: str
    paid: bool

    def label(self, ws: Workspace, question: Question, reading: Reading,
              nodes: Sequence[Node], cancel: CancelToken = NEVER) -> list[Scored]: ...


@dataclass(slots=True)
class ScorerTeacher:
    """A scorer used as a label source: the rules, Haiku, or the student model."""

    name: str
    label_source: str
    scorer: Scorer
    paid: bool = False
    model: str | None = None

    def label(self, ws: Workspace, question: Question, reading: Reading,
              nodes: Sequence[Node], cancel: CancelToken = NEVER) -> list[Scored]:
        return self.scorer.score(question, nodes, cancel=cancel)


@dataclass(slots=True)
class GhcLabels:
    """The compiler as teacher: mutate the reading's target in a scratch copy, type-check,
    label the nodes from what GHC reports (``oracle.teacher.GhcTeacher``)."""

    cache_dir: Path | None = None
    typecheck_cmd: str | None = None
    name: str = "ghc"
    label_source: str = "ghc"
    paid: bool = False
    _oracles: dict[str, object] = field(default_factory=dict)
    _broken: dict[str, str] = field(default_factory=dict)

    def oracle(self, root: str):  # noqa: ANN201 (scout.oracle is imported lazily)
        from scout.oracle.oracle import Oracle, OracleError

        if root in self._broken:
            raise TeacherUnavailable(self._broken[root])
        found = self._oracles.get(root)
        if found is None:
            found = Oracle(Path(root), cache_dir=self.cache_dir, typecheck_cmd=self.typecheck_cmd)
            try:
                found.baseline()
            except OracleError as exc:
                self._broken[root] = f"the workspace cannot be type-checked: {exc}"
                raise TeacherUnavailable(self._broken[root]) from exc
            self._oracles[root] = found
        return found

    def checked_paths(self, root: str) -> frozenset[str] | None:
        """Files GHC checks in this workspace, or None when it cannot check it at all."""
        try:
            oracle = self.oracle(root)
        except TeacherUnavailable:
            return None
        return frozenset(oracle.layout.modules.values())  # type: ignore[attr-defined]

    def label(self, ws: Workspace, question: Question, reading: Reading,
              nodes: Sequence[Node], cancel: CancelToken = NEVER) -> list[Scored]:
        from scout.oracle.mutate import SUPPORTED_CHANGES, MutationError
        from scout.oracle.oracle import OracleError
        from scout.oracle.targets import mutation_for
        from scout.oracle.teacher import GhcTeacher

        if reading.change not in SUPPORTED_CHANGES:
            raise TeacherUnavailable(f"the compiler oracle cannot verify '{reading.change}'")
        oracle = self.oracle(ws.root)
        try:
            mutation = mutation_for(ws.index, reading.mutation_target, reading.change,
                                    reading.subject, question.variant)
            result = oracle.check(mutation)  # type: ignore[attr-defined]
        except (MutationError, OracleError) as exc:
            raise TeacherUnavailable(f"{type(exc).__name__}: {exc}") from exc
        cancel.check()
        return GhcTeacher(result).score(question, nodes, cancel=cancel)


def build_teacher(name: str, *, anthropic_model: str = "claude-haiku-4-5",
                  ollama_host: str | None = None, ollama_model: str = "functiongemma",
                  timeout: float = 30.0, oracle_cache: Path | None = None,
                  typecheck_cmd: str | None = None) -> Teacher:
    """Raises ``scout.scoring.factory.ScorerConfigError`` when a model scorer cannot be built."""
    heuristic = HeuristicScorer()
    if name == "heuristic":
        return ScorerTeacher("heuristic", "heuristic", heuristic)
    if name == "ghc":
        return GhcLabels(cache_dir=oracle_cache, typecheck_cmd=typecheck_cmd)
    from scout.scoring.factory import ScorerConfigError, build_scorer

    if name == "haiku":
        return ScorerTeacher("haiku", "haiku", build_scorer(
            "haiku", fallback=heuristic, anthropic_model=anthropic_model, timeout=timeout),
            paid=True, model=anthropic_model)
    if name == "ollama":
        return ScorerTeacher("ollama", "model", build_scorer(
            "ollama", fallback=heuristic, ollama_host=ollama_host, ollama_model=ollama_model,
            timeout=timeout), model=ollama_model)
    raise ScorerConfigError(f"unknown label source {name!r}: teachers are {', '.join(TEACHERS)}, "
                            f"the student is {', '.join(STUDENTS)}")


def estimate_cost(model: str, nodes: int, input_chars: int) -> float | None:
    """What Haiku answers for ``nodes`` nodes whose inputs total ``input_chars`` characters
    should cost (USD): the guidance and tool are a cached prefix (read at the cache price), the
    inputs are paid in full, each answer at the output price. None when the price is unknown."""
    from scout.scoring.pricing import price_for

    price = price_for(model)
    if price is None:
        return None
    task = load_task("score_node")
    prefix = (len(task.guidance) + len(str(task.anthropic_tool()))) / CHARS_PER_TOKEN
    return (nodes * prefix * price.cache_read + input_chars / CHARS_PER_TOKEN * price.input
            + nodes * EXPECTED_OUTPUT_TOKENS * price.output) / 1_000_000

"""The day-zero scorer: a rubric from the structural facts the engine established.

No keywords: every score follows from ``SiteFacts`` (does it break, is it silent, which relation,
which hop), and the reasoning is the engine's one-sentence statement of the actual fact.
The scale is DESIGN.md section 3: risk 5 = breaking change required, 3 = minor changes,
2 = might need update, 1 = no changes needed.
"""

from __future__ import annotations

from collections.abc import Sequence

from scout.cancel import NEVER, CancelToken
from scout.explore.model import ChangeKind, EdgeKind, Node, Question, SiteFacts
from scout.scoring.model import LabelSource, Rubric, Scored

VERSION = "heuristic-1"

# Breaks that GHC reports as errors (certain) versus warnings or likely type errors.
_CERTAIN_BREAKS = {ChangeKind.ADD_CONSTRUCTOR, ChangeKind.REMOVE_CONSTRUCTOR,
                   ChangeKind.RENAME_CONSTRUCTOR, ChangeKind.REMOVE_FIELD,
                   ChangeKind.RENAME_FIELD, ChangeKind.CHANGE_ARITY, ChangeKind.ADD_METHOD,
                   ChangeKind.REMOVE_EXPORT, ChangeKind.ADD_FIELD}

_SILENT_RISK = {EdgeKind.CATCH_ALL: 3, EdgeKind.ENUMERATION: 3, EdgeKind.DERIVED_INSTANCE: 2,
                EdgeKind.INSTANCE: 3}

_QUIET = {  # edge -> (relevance, risk) when the node neither breaks nor changes silently
    EdgeKind.DEFINITION: (5, 3),
    EdgeKind.INSTANCE: (3, 2),
    EdgeKind.DERIVED_INSTANCE: (3, 1),
    EdgeKind.CONSTRUCTOR_USE: (2, 1),
    EdgeKind.SIGNATURE: (2, 1),
    EdgeKind.TYPE_USE: (2, 1),
    EdgeKind.FIELD_PATTERN: (2, 1),
    EdgeKind.IMPORT: (2, 1),
    EdgeKind.EXPORT: (2, 1),
    EdgeKind.CONSTRAINT_USE: (2, 1),
    EdgeKind.CALLER: (2, 2),
}


def rubric_for(question: Question, facts: SiteFacts) -> Rubric:
    if facts.breaks:
        certain = question.change in _CERTAIN_BREAKS
        if facts.edge in (EdgeKind.RECORD_CONSTRUCT,) and question.change is ChangeKind.ADD_FIELD:
            certain = False  # a missing lazy field is a warning and a runtime error
        return Rubric(relevance=5, risk=5 if certain else 4, confidence=5 if certain else 3,
                      reasoning=_sentence(facts.detail))
    if facts.silent:
        return Rubric(relevance=4, risk=_SILENT_RISK.get(facts.edge, 2), confidence=4,
                      reasoning=_sentence(facts.detail + " (no compile error will point here)"))
    relevance, risk = _QUIET.get(facts.edge, (2, 1))
    if facts.hop >= 2:
        relevance = min(relevance, 2)
    confidence = 4 if facts.edge is not EdgeKind.CALLER else 3
    return Rubric(relevance=relevance, risk=risk, confidence=confidence,
                  reasoning=_sentence(facts.detail))


def _sentence(text: str) -> str:
    text = text.strip() or "Reached by exploration from the target."
    return text if text.endswith((".", "!", "?")) else text + "."


class HeuristicScorer:
    name = "heuristic"

    def score(self, question: Question, nodes: Sequence[Node], *,
              cancel: CancelToken = NEVER) -> list[Scored]:
        return [Scored(rubric=rubric_for(question, node.facts), scorer=self.name,
                       label_source=LabelSource.HEURISTIC, task_version=VERSION,
                       latency_ms=0.0)
                for node in nodes]

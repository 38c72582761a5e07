"""The day-zero scorer: the ``score_node`` guidance applied to the engine's structural facts.

No keywords: every score follows from ``SiteFacts`` (does it break, is it silent, which relation,
which hop) and the change kind, and the reasoning is the engine's one-sentence statement of the
actual fact. The rules below are the guidance of ``tasks/score_node.json`` in executable form:
each :class:`GuidanceRule` names the phrase of the guidance that states it (a test checks every
phrase is in the guidance), so a label this scorer gives is a label the student is told to give.
The export audit checks every teacher's labels against the same rules.

The scale is DESIGN.md section 3: risk 5 = breaking change required, 4 = major refactoring,
3 = minor changes, 2 = might need update, 1 = no changes needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scout.cancel import NEVER, CancelToken
from scout.explore.model import ChangeKind, EdgeKind, Node, Question, SiteFacts
from scout.scoring.model import LabelSource, Rubric, Scored

VERSION = "heuristic-2"  # 2: follows score_node guidance version 2


@dataclass(frozen=True, slots=True)
class GuidanceRule:
    """One statement of the guidance: the rubric it prescribes and the phrase that says so."""

    name: str
    relevance: int
    risk: int
    confidence: int
    says: str  # verbatim in tasks/score_node.json's guidance

    def rubric(self, reasoning: str) -> Rubric:
        return Rubric(self.relevance, self.risk, self.confidence, reasoning)


# Ordered: the first rule that applies to a place is the one the guidance prescribes.
DEFINITION = GuidanceRule("definition", 5, 3, 5, "3 minor changes needed (the definition "
                          "being changed: the edit itself)")
PROVEN_BREAK = GuidanceRule("proven-break", 5, 5, 5, "5 breaking change required (it stops "
                            "compiling or is a non-exhaustive match")
TYPE_REWORK = GuidanceRule("type-rework", 5, 4, 3, "4 major refactoring needed (its types must "
                           "be reworked")
SILENT = GuidanceRule("silent", 4, 2, 4, "2 might need an update (a catch-all, derived "
                      "instance or enumeration that silently changes behaviour")
UNSPECIFIED = GuidanceRule("unspecified-change", 3, 2, 1, "any use when the change is "
                           "unspecified")
FURTHER_HOP = GuidanceRule("further-hop", 2, 2, 2, "a caller two steps away")
HAND_INSTANCE = GuidanceRule("hand-written-instance", 3, 2, 3, "a hand-written instance")
DERIVED = GuidanceRule("derived-instance", 3, 1, 4, "a derived instance the compiler "
                       "regenerates")
LISTING = GuidanceRule("import-export-list", 1, 1, 5, "1 barely relevant (an import or export "
                       "list")
KEEPS_WORKING = GuidanceRule("keeps-working", 2, 1, 4, "1 no changes needed (it keeps working")

RULES: tuple[GuidanceRule, ...] = (DEFINITION, PROVEN_BREAK, TYPE_REWORK, SILENT, UNSPECIFIED,
                                   FURTHER_HOP, HAND_INSTANCE, DERIVED, LISTING, KEEPS_WORKING)
RULES_BY_NAME = {rule.name: rule for rule in RULES}

# Breaks the code shown proves (GHC reports them as errors or as the warnings the oracle
# reads); the other change kinds break through types, which the code shown cannot prove.
CERTAIN_BREAKS = frozenset({
    ChangeKind.ADD_CONSTRUCTOR, ChangeKind.REMOVE_CONSTRUCTOR, ChangeKind.RENAME_CONSTRUCTOR,
    ChangeKind.REMOVE_FIELD, ChangeKind.RENAME_FIELD, ChangeKind.CHANGE_ARITY,
    ChangeKind.ADD_METHOD, ChangeKind.REMOVE_EXPORT, ChangeKind.ADD_FIELD})


def guidance_rule(change: ChangeKind, facts: SiteFacts) -> GuidanceRule:
    """The guidance's rule for a place with these facts under this change."""
    if facts.hop == 0 and not facts.breaks:
        return DEFINITION  # the definition, or the export line an unexport edits
    if facts.breaks:
        certain = change in CERTAIN_BREAKS
        if facts.edge is EdgeKind.RECORD_CONSTRUCT and change is ChangeKind.ADD_FIELD:
            certain = False  # a missing lazy field is a warning and a run-time error
        return PROVEN_BREAK if certain else TYPE_REWORK
    if facts.silent:
        return SILENT
    if change is ChangeKind.CHANGE:
        return UNSPECIFIED
    if facts.hop >= 2:
        return FURTHER_HOP
    if facts.edge is EdgeKind.INSTANCE:
        return HAND_INSTANCE
    if facts.edge is EdgeKind.DERIVED_INSTANCE:
        return DERIVED
    if facts.edge in (EdgeKind.IMPORT, EdgeKind.EXPORT):
        return LISTING
    return KEEPS_WORKING


def rubric_for(question: Question, facts: SiteFacts) -> Rubric:
    rule = guidance_rule(question.change, facts)
    detail = facts.detail
    if rule is SILENT:
        detail += " (no compile error will point here)"
    if facts.assumption:  # the engine could not model the place exactly: "2 a guess from
        # indirect evidence", and the reasoning says what was assumed
        return Rubric(rule.relevance, rule.risk, min(rule.confidence, 2),
                      _sentence(f"{detail.strip().rstrip('.')} (assumed: {facts.assumption})"))
    return rule.rubric(_sentence(detail))


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

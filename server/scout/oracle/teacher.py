"""The ``ghc`` teacher: rubrics for the nodes of an exploration, from the oracle's verdict.

Places GHC reports after the mutation get risk 5 with GHC's message as the reasoning. Places it
does not report get their risk from the ``score_node`` guidance's rules (``scoring.heuristic``),
because "compiles" is not "safe": a catch-all that silently absorbs a new constructor, a derived
Enum or an enumeration still change behaviour (risk 2, "might need an update"). A place in a
module GHC could not check keeps the rules' label with confidence 2, and says so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from scout.cancel import NEVER, CancelToken
from scout.explore.model import ChangeKind, EdgeKind, Node, Question
from scout.oracle.oracle import BreakSite, OracleResult
from scout.scoring.heuristic import DEFINITION, KEEPS_WORKING, SILENT, guidance_rule
from scout.scoring.model import LabelSource, Rubric, Scored

TEACHER_VERSION = "ghc-teacher-2"  # 2: follows score_node guidance version 2
SILENT_RISK = SILENT.risk
_BULLET = re.compile(r"^[\s•]+")


@dataclass(frozen=True, slots=True)
class TeacherVerdict:
    """Why a node got its label: the matching site (if GHC reported one) and the rule used."""

    site: BreakSite | None
    rule: str  # "ghc", "silent", "definition", "unchecked", "no-break", "compiles"


def stands_for(node: Node, site: BreakSite) -> bool:
    """Does the node stand for the break site: same file, and the node's lines (an
    application or declaration spanning several: ``end_line``) overlap the site's span? One
    node may stand for several sites (GHC reports each mismatching argument of a multi-line
    call), and a site for several nodes."""
    return (site.path == node.path and site.span[0] <= (node.end_line or node.line)
            and node.line <= site.span[1])


def site_for(node: Node, sites: Sequence[BreakSite]) -> BreakSite | None:
    """The first break site at a node (the one whose message labels it), if any."""
    return next((site for site in sites if stands_for(node, site)), None)


_INTERNAL_NAMES = (  # names the mutations invent, as a reader of the label should see them
    (re.compile(r"\bScoutAdded\w*"), "the new constructor"),
    (re.compile(r"\bscoutAdded\w*"), "the new member"),
    (re.compile(r"\bscoutOrig_(\w+)"), r"\1"),
    (re.compile(r"\b(?:[A-Z][\w']*\.)*ScoutChanged_\w+"), "the changed type"),
    (re.compile(r"\b(?:[A-Z][\w']*\.)*ScoutRemoved_(\w+)"), r"the type of the removed \1"),
    (re.compile(r"\bscoutP\d+\b"), "p"),
    (re.compile(r"\b(?:ScoutOracleHelpers\.)?ScoutOpaque\b"), "the changed type of"),
    (re.compile(r"\b(?:ScoutOracleHelpers\.)?ScoutSame\s+"), ""),  # `ScoutOpaque ScoutSame a`
    (re.compile(r"\b(?:ScoutOracleHelpers\.)?ScoutSuper\b"), "the new superclass"),
    (re.compile(r"\bScoutRenamed(\w+)"), r"\1 (renamed)"),
    (re.compile(r"\bscoutRenamed_(\w+)"), r"\1 (renamed)"),
)
_DEPRECATED_USE = re.compile(r"In the use of (?:data constructor |type constructor or class )?"
                             r"‘([^’]+)’")


def ghc_message_sentence(reason: str, flag: str | None = None, limit: int = 220) -> str:
    """GHC's message as one or two sentences: the first lines, bullets and layout removed, and
    the oracle's invented names replaced by what they stand for."""
    if flag == "Opt_WarnWarningsDeprecations" and (m := _DEPRECATED_USE.search(reason)):
        return f"GHC: this uses {m.group(1)}, which the change removes; it no longer compiles."
    lines = [_BULLET.sub("", ln).strip() for ln in reason.strip().splitlines()]
    text = " ".join(ln for ln in lines[:2] if ln)
    for pattern, replacement in _INTERNAL_NAMES:
        text = pattern.sub(replacement, text)
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return f"GHC: {text}"


class GhcTeacher:
    """Scores nodes for one question from one oracle result (same workspace, same change)."""

    name = "ghc"

    def __init__(self, result: OracleResult) -> None:
        self.result = result

    def verdict(self, node: Node) -> TeacherVerdict:
        site = site_for(node, self.result.sites)
        if site is not None:
            return TeacherVerdict(site, "ghc")
        if node.facts.edge == EdgeKind.DEFINITION or node.facts.hop == 0:
            return TeacherVerdict(None, "definition")
        if node.path in self.result.unchecked_paths or self._unseen(node) is not None:
            return TeacherVerdict(None, "unchecked")
        if node.facts.silent:
            return TeacherVerdict(None, "silent")
        if node.facts.breaks:
            return TeacherVerdict(None, "no-break")
        return TeacherVerdict(None, "compiles")

    def _unseen(self, node: Node) -> str | None:
        """Why GHC was never asked about this kind of place, outside the defining module."""
        if node.path == self.result.defined_in:
            return None
        return self.result.unseen_edges.get(node.facts.edge.value)

    def rubric(self, node: Node, change: ChangeKind = ChangeKind.CHANGE) -> Rubric:
        v = self.verdict(node)
        detail = node.facts.detail.strip().rstrip(".")
        if v.rule == "ghc" and v.site is not None:
            return Rubric(5, 5, 5, ghc_message_sentence(v.site.reason, v.site.flag))
        if v.rule == "definition":
            return DEFINITION.rubric("The change itself is made here; GHC checks the code that "
                                     "uses it.")
        if v.rule == "unchecked":
            reason = self.result.unchecked_paths.get(node.path) or self._unseen(node) or ""
            rule = guidance_rule(change, node.facts)
            return Rubric(rule.relevance, rule.risk, 2,
                          f"GHC could not check this place ({reason}); "
                          f"the rules say: {detail or 'reached by exploration'}.")
        if v.rule == "silent":
            return SILENT.rubric(f"Compiles, but behaviour changes silently: "
                                 f"{detail or 'no compile error here'}.")
        if v.rule == "no-break":
            return KEEPS_WORKING.rubric("The rules expected a break here, but GHC type-checks it "
                                        "after the change; no update is required.")
        rule = guidance_rule(change, node.facts)  # GHC agrees with the rules: it compiles
        if rule.risk == 1:
            return rule.rubric("GHC type-checks this place after the change; no update is "
                               "needed.")
        return rule.rubric(f"GHC type-checks this place after the change, but "
                           f"{detail or 'it may still need a look'}.")

    def score(self, question: Question, nodes: Sequence[Node], *,
              cancel: CancelToken = NEVER) -> list[Scored]:
        out = []
        for node in nodes:
            try:
                rubric = self.rubric(node, question.change)
                out.append(Scored(rubric=rubric, scorer=self.name, label_source=LabelSource.GHC,
                                  task_version=TEACHER_VERSION, latency_ms=0.0))
            except ValueError as exc:  # a rubric out of range is a bug: surface it per node
                out.append(Scored(rubric=None, scorer=self.name, label_source=LabelSource.GHC,
                                  task_version=TEACHER_VERSION, error=str(exc)))
        return out

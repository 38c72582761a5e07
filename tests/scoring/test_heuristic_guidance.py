"""The heuristic teacher is the score_node guidance applied to the engine's facts: every rule
is stated in the guidance the student reads, and the labels use the whole 1..5 scale."""

from __future__ import annotations

import itertools
from collections import Counter

from scout.explore.model import ChangeKind, EdgeKind, Question, SiteFacts
from scout.scoring.heuristic import RULES, guidance_rule, rubric_for
from scout.tasks import load_task


def test_every_rule_is_stated_in_the_guidance() -> None:
    guidance = load_task("score_node").guidance
    for rule in RULES:
        assert rule.says in guidance, rule.name
    risk_part = guidance.split("Risk:", 1)[1].split("Confidence:", 1)[0]
    for rule in RULES:  # a rule stated under "Risk:" names the risk it gives first
        if rule.says in risk_part and rule.says[0].isdigit():
            assert int(rule.says[0]) == rule.risk, rule.name


def test_labels_use_the_whole_scale_where_the_facts_differ() -> None:
    seen: dict[str, Counter[int]] = {"relevance": Counter(), "risk": Counter(),
                                     "confidence": Counter()}
    for change, edge, breaks, silent, hop in itertools.product(
            ChangeKind, EdgeKind, (False, True), (False, True), (0, 1, 2)):
        facts = SiteFacts(edge, breaks, silent, detail="a fact", hop=hop)
        rubric = rubric_for(Question("q", "T", change, ()), facts)
        for name, counts in seen.items():
            counts[getattr(rubric, name)] += 1
    for name, counts in seen.items():
        assert set(counts) == {1, 2, 3, 4, 5}, name


def test_the_cases_the_guidance_names() -> None:
    def risk(change: ChangeKind, edge: EdgeKind, **kw) -> int:
        return guidance_rule(change, SiteFacts(edge, kw.pop("breaks", False), **kw)).risk

    add = ChangeKind.ADD_CONSTRUCTOR
    assert risk(add, EdgeKind.MATCH_SITE, breaks=True) == 5  # a non-exhaustive match
    assert risk(add, EdgeKind.CATCH_ALL, silent=True) == 2  # silently absorbs: might need update
    assert risk(add, EdgeKind.ENUMERATION, silent=True) == 2
    assert risk(add, EdgeKind.DEFINITION, hop=0) == 3  # the edit itself
    assert risk(ChangeKind.CHANGE_SIGNATURE, EdgeKind.CALL_SITE, breaks=True) == 4  # rework
    assert risk(ChangeKind.ADD_FIELD, EdgeKind.RECORD_CONSTRUCT, breaks=True) == 4
    assert risk(ChangeKind.ADD_FIELD, EdgeKind.CONSTRUCTOR_USE, breaks=True) == 5
    assert risk(add, EdgeKind.SIGNATURE) == 1  # keeps working
    assert risk(ChangeKind.CHANGE, EdgeKind.CALL_SITE) == 2  # unspecified change
    assert risk(ChangeKind.CHANGE_ARITY, EdgeKind.CALLER, hop=2) == 2
    assert guidance_rule(add, SiteFacts(EdgeKind.IMPORT, False)).relevance == 1

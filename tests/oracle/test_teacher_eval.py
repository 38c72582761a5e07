"""The ghc teacher's labels and `scout eval` on a fixture, with real GHC."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oracle.helpers import FIXTURES, expected_cases, needs_ghc
from scout.explore.model import ChangeKind, EdgeKind, Node, SiteFacts
from scout.oracle.cli import main as cli_main
from scout.oracle.evaluate import MutationSpec, quadratic_weighted_kappa, sample_mutations
from scout.oracle.oracle import Oracle
from scout.oracle.targets import mutation_for
from scout.oracle.teacher import GhcTeacher
from scout.scoring.model import LabelSource


def test_quadratic_weighted_kappa() -> None:
    assert quadratic_weighted_kappa([1, 2, 3, 5], [1, 2, 3, 5]) == 1.0
    assert quadratic_weighted_kappa([1, 5], [5, 1]) == -1.0
    # Off by one on one of four: 1 - (1/16) / (sum of expected weighted disagreement).
    k = quadratic_weighted_kappa([1, 2, 4, 5], [1, 2, 5, 5])
    assert k is not None and 0.9 < k < 1.0
    assert quadratic_weighted_kappa([3, 3], [3, 3]) is None  # undefined: no spread
    assert quadratic_weighted_kappa([], []) is None


def test_sampling_is_deterministic_and_resolvable(fixture_index) -> None:
    index = fixture_index("shapes")
    first = sample_mutations(index, per_kind=2, seed=7)
    assert first == sample_mutations(index, per_kind=2, seed=7)
    assert {m.change for m in first} >= {ChangeKind.ADD_CONSTRUCTOR, ChangeKind.ADD_METHOD,
                                          ChangeKind.CHANGE_ARITY, ChangeKind.REMOVE_FIELD}
    # both readings of adding a method, for the same classes
    methods = [(m.target, m.variant) for m in first if m.change is ChangeKind.ADD_METHOD]
    assert {v for _, v in methods} == {"required", "default"}
    assert len({t for t, _ in methods}) * 2 == len(methods)
    for spec in first:  # every sample applies, to the target the engine is asked about
        mutation_for(index, spec.question().target, spec.change, spec.subject, spec.variant)


def node_at(location: str, edge: EdgeKind, *, breaks: bool = False, silent: bool = False,
            hop: int = 1, detail: str = "") -> Node:
    path, line = location.rsplit(":", 1)
    return Node(path, int(line), hover="", snippet="",
                facts=SiteFacts(edge, breaks, silent, detail or f"{edge} at {location}", hop=hop))


@pytest.mark.ghc
@needs_ghc()
def test_ghc_teacher_labels(fixture_index, oracle_cache: Path) -> None:
    index = fixture_index("shapes")
    spec = MutationSpec("Shape", ChangeKind.ADD_CONSTRUCTOR)
    result = Oracle(FIXTURES / "shapes", cache_dir=oracle_cache).check(
        mutation_for(index, spec.target, spec.change))
    nodes = [
        node_at("src/Shapes/Render.hs:13", EdgeKind.MATCH_SITE, breaks=True),
        node_at("src/Shapes/Render.hs:15", EdgeKind.MATCH_SITE, breaks=True),  # inside the case
        node_at("src/Shapes/Types.hs:33", EdgeKind.MATCH_SITE, breaks=True),
        node_at("src/Shapes/Render.hs:20", EdgeKind.CATCH_ALL, silent=True,
                detail="`_` in `isRound` will silently take the new constructor"),
        node_at("src/Shapes/Types.hs:10", EdgeKind.DEFINITION, hop=0),
        node_at("app/Main.hs:7", EdgeKind.CONSTRUCTOR_USE, breaks=True),
        node_at("src/Shapes/Use.hs:23", EdgeKind.SIGNATURE),
        node_at("src/Shapes/Use.hs:24", EdgeKind.CALL_SITE, breaks=True),  # the engine was wrong
    ]
    scored = GhcTeacher(result).score(spec.question(), nodes)
    assert all(s.label_source is LabelSource.GHC and s.scorer == "ghc" for s in scored)
    risks = [s.rubric.risk for s in scored]
    confidences = [s.rubric.confidence for s in scored]
    # The score_node guidance: silent 2, the definition 3, an unchecked module keeps the rules'
    # risk with confidence 2, a break GHC does not see keeps working (1).
    assert risks == [5, 5, 5, 2, 3, 5, 1, 1]
    assert confidences == [5, 5, 5, 4, 5, 2, 4, 4]
    assert scored[0].rubric.reasoning.startswith("GHC: Pattern match(es) are non-exhaustive")
    assert "silently" in scored[3].rubric.reasoning
    assert "could not check" in scored[5].rubric.reasoning  # an executable GHC did not check
    assert "expected a break" in scored[7].rubric.reasoning


@pytest.mark.ghc
@needs_ghc()
def test_scout_eval_on_a_fixture(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 oracle_cache: Path) -> None:
    chosen = [c for c in expected_cases("shapes")
              if (c["change"], c["target"], c["subject"]) in {("add_constructor", "Shape", None),
                                                              ("remove_field", "Config", "cfgName"),
                                                              ("add_method", "Describe", None)}]
    assert len(chosen) == 3
    mutations = tmp_path / "mutations.json"
    mutations.write_text(json.dumps(chosen))
    code = cli_main(["eval", "--against", "ghc", "--scorer", "heuristic", "--root",
                     str(FIXTURES / "shapes"), "--mutations", str(mutations), "--cache-dir",
                     str(oracle_cache), "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["scorer"] == "heuristic" and report["against"] == "ghc"
    # add_method rows name the reading (required: no default, joins the MINIMAL formula)
    assert set(report["kinds"]) == {"add_constructor", "remove_field", "add_method:required"}
    by_change = {c["change"]: c for c in report["cases"]}
    for case in chosen:
        assert sorted(by_change[case["change"]]["site_locations"]) == sorted(case["sites"])
        assert by_change[case["change"]]["error"] is None
    kinds = report["kinds"]
    assert kinds["add_constructor"]["sites"] == 3
    # Grep for constructor names finds every site, and many lines that are not sites.
    assert kinds["add_constructor"]["grep_recall"] == 1.0
    assert kinds["add_constructor"]["grep_precision"] < 0.7
    overall = report["overall"]
    assert overall["mutations"] == 3 and overall["errors"] == 0
    for key in ("recall", "precision", "silent_recall", "grep_recall", "grep_precision"):
        assert overall[key] is None or 0.0 <= overall[key] <= 1.0
    assert overall["kappa"] is not None and -1.0 <= overall["kappa"] <= 1.0

    assert cli_main(["eval", "--root", str(FIXTURES / "shapes"), "--mutations", str(mutations),
                     "--cache-dir", str(oracle_cache)]) == 0
    table = capsys.readouterr().out
    assert table.startswith("scorer heuristic against ghc (3 mutations)")
    assert "recall>=4" in table and "grep prec" in table


@pytest.mark.ghc
@needs_ghc()
def test_eval_records_a_mutation_that_cannot_apply(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str],
                                                   oracle_cache: Path) -> None:
    mutations = tmp_path / "m.json"
    mutations.write_text(json.dumps([{"target": "Named", "change": "add_constructor"}]))
    assert cli_main(["eval", "--root", str(FIXTURES / "shapes"), "--mutations", str(mutations),
                     "--cache-dir", str(oracle_cache), "--json"]) == 0
    case = json.loads(capsys.readouterr().out)["cases"][0]
    assert "newtype" in case["error"] and case["errors"] == 1


def test_ghc_messages_become_readable_reasoning() -> None:
    from scout.oracle.teacher import ghc_message_sentence

    assert ghc_message_sentence(
        "Pattern match(es) are non-exhaustive\nIn a case alternative: Patterns not matched: "
        "ScoutAddedShape", "Opt_WarnIncompletePatterns") == (
        "GHC: Pattern match(es) are non-exhaustive In a case alternative: Patterns not matched: "
        "the new constructor")
    assert ghc_message_sentence(
        "In the use of data constructor ‘Square’\n(imported from Shapes.Types):\nDeprecated: "
        "\"scout oracle: Square is being removed\"", "Opt_WarnWarningsDeprecations") == (
        "GHC: this uses Square, which the change removes; it no longer compiles.")
    long = ghc_message_sentence("• Couldn't match expected type ‘Shapes.Config.ScoutRemoved_cfgSizes’"
                                " with " + "x" * 400, "Opt_WarnDeferredTypeErrors")
    assert "the type of the removed cfgSizes" in long and len(long) <= 225 and long.endswith("…")
    # A field that was the holder's bare parameter: the stand-in's wrapper is not shown.
    assert ghc_message_sentence("• Couldn't match type ‘a’ with ‘ScoutOracleHelpers.ScoutOpaque "
                                "ScoutOracleHelpers.ScoutSame a’") == (
        "GHC: Couldn't match type ‘a’ with ‘the changed type of a’")


@pytest.mark.ghc
@needs_ghc()
def test_eval_goes_on_past_a_root_it_cannot_measure(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str],
                                                    oracle_cache: Path) -> None:
    mutations = tmp_path / "m.json"
    mutations.write_text(json.dumps([{"target": "Mode", "change": "add_constructor"}]))
    assert cli_main(["eval", "--root", str(FIXTURES / "broken"), "--root",
                     str(FIXTURES / "kinds"), "--mutations", str(mutations), "--cache-dir",
                     str(oracle_cache), "--build", "ghc"]) == 0
    table = capsys.readouterr().out
    assert "add_constructor" in table
    assert f"not measured: {FIXTURES / 'broken'}: " in table
    assert "does not type-check before the mutation" in table
    # When no root can be measured, that is the error.
    assert cli_main(["eval", "--root", str(FIXTURES / "broken"), "--mutations", str(mutations),
                     "--cache-dir", str(oracle_cache)]) == 2
    assert "does not type-check" in capsys.readouterr().err


def test_one_node_reaches_every_site_its_lines_cover(tmp_path: Path) -> None:
    """GHC reports each mismatching argument of a multi-line call; the engine gives the call
    one node spanning its lines. Every site the node covers is reached (and flagged), not
    only the first one its label names; a site no node covers is missed."""
    from scout.explore.model import Question
    from scout.haskell.index import WorkspaceIndex
    from scout.oracle.evaluate import score_case
    from scout.oracle.mutate import Mutation
    from scout.oracle.oracle import BreakSite, OracleResult
    from scout.scoring.heuristic import HeuristicScorer

    (tmp_path / "M.hs").write_text("module M where\n\nf :: Int -> String -> Int\nf n _ = n\n\n"
                                   "g = f 1\n      \"abc\"\n\nh = f 2 \"x\"\n")
    index = WorkspaceIndex.build(tmp_path, use_cache=False)
    sites = [BreakSite(f"M.hs:{line}", "M.hs", line, (line, line), "Couldn't match",
                       "error", "Opt_WarnDeferredTypeErrors") for line in (6, 7, 9)]
    result = OracleResult(sites, 1, (), 0.1)
    call = Node("M.hs", 6, "g", "", SiteFacts(EdgeKind.CALL_SITE, True, detail="calls f",
                                             symbol="f"), end_line=7)
    question = Question("give f one more argument", "f", ChangeKind.CHANGE_ARITY, ())
    mutation = Mutation(ChangeKind.CHANGE_ARITY, "f", None, "M.hs", (), "f arity", ("f",))
    case = score_case(str(tmp_path), MutationSpec("f", ChangeKind.CHANGE_ARITY), mutation,
                      result, [call], HeuristicScorer(), question, index)
    assert (case.counts.sites, case.counts.sites_reached, case.counts.sites_flagged) == (3, 2, 2)
    assert case.missed == ["M.hs:9"]
    assert (case.counts.flagged, case.counts.flagged_true) == (1, 1)


@pytest.mark.ghc
@needs_ghc()
def test_a_budget_smaller_than_the_break_sites_is_not_scored_as_missing_them(
        oracle_cache: Path) -> None:
    """The budget is how much an answer shows: the eval measures every node the engine found
    (a removal with more uses than the budget once counted the uses cut as missed)."""
    from scout.oracle.evaluate import evaluate
    from scout.scoring.heuristic import HeuristicScorer

    spec = MutationSpec("Shape", ChangeKind.ADD_CONSTRUCTOR)
    asked: list[int] = []

    def explore_fn(index, question):
        from scout.explore.engine import explore
        asked.append(question.budget)
        return explore(index, question)

    report = evaluate([FIXTURES / "shapes"], HeuristicScorer(), mutations=[spec], budget=1,
                      cache_dir=oracle_cache, explore_fn=explore_fn)
    case = report.cases[0]
    assert case.error is None and len(case.sites) == 3
    assert case.missed == [] and asked[0] == 1 and asked[-1] > 3


def test_import_and_export_lists_outside_the_module_are_unchecked_by_deprecation() -> None:
    """GHC never reports a deprecated name in an import or export list, so a removal read
    from deprecation warnings cannot say whether those lines break: no label there (and no
    false alarm counted), in other modules; the defining module's own lists are checked."""
    from scout.oracle.oracle import OracleResult

    result = OracleResult([], 2, (), 0.1, unseen_edges={"import": "not reported"},
                          defined_in="A.hs")
    teacher = GhcTeacher(result)

    def node(path: str, edge: EdgeKind) -> Node:
        return Node(path, 3, "x", "", SiteFacts(edge, True, detail="uses f", symbol="f"))

    assert teacher.verdict(node("B.hs", EdgeKind.IMPORT)).rule == "unchecked"
    assert "not reported" in teacher.rubric(node("B.hs", EdgeKind.IMPORT)).reasoning
    assert teacher.verdict(node("A.hs", EdgeKind.IMPORT)).rule == "no-break"
    assert teacher.verdict(node("B.hs", EdgeKind.CALL_SITE)).rule == "no-break"

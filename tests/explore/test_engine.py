"""The scout engine: exact site sets per change kind on the bundled example, ranking and
budgets, ambiguity, and agreement with real GHC."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from scout.explore.engine import AmbiguousTarget, UnknownSymbol, explore
from scout.explore.model import ChangeKind, EdgeKind, Question, Tag
from scout.haskell.index import WorkspaceIndex
from scout.scoring.heuristic import HeuristicScorer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ghc_truth import Mutation, added_warning_sites, ghc_available  # noqa: E402

T = "src/LLM/Types.hs"
C = "src/LLM/Config.hs"
P = "src/LLM/Pricing.hs"
R = "src/LLM/Router.hs"
Q = "src/LLM/Query.hs"


def ask(index, target: str, change: ChangeKind, budget: int = 100, text: str = "q"):
    return explore(index, Question(text, target, change, (), budget))


def breaking(ex) -> set[str]:
    return {n.location for n in ex.nodes if n.facts.breaks}


def silent(ex) -> set[str]:
    return {n.location for n in ex.nodes if n.facts.silent}


def high_risk(ex) -> set[str]:
    scored = HeuristicScorer().score(ex.question, ex.nodes)
    return {n.location for n, s in zip(ex.nodes, scored, strict=True) if s.rubric.risk >= 4}


LLMKIND_BREAKS = {f"{C}:40", f"{P}:33", f"{P}:36", "src/LLM/Report.hs:36", f"{R}:57",
                  f"{T}:102", f"{T}:114"}


def test_add_constructor_finds_every_exhaustive_match_and_every_catch_all(example_index):
    ex = ask(example_index, "LLMKind", ChangeKind.ADD_CONSTRUCTOR)
    assert ex.target.qualified == "LLM.Types.LLMKind"
    assert breaking(ex) == LLMKIND_BREAKS
    assert silent(ex) == {f"{C}:59", f"{P}:43", f"{R}:75", f"{R}:81", "src/LLM/Service.hs:43",
                          f"{T}:122", f"{T}:36", f"{T}:86", f"{T}:99"}
    assert high_risk(ex) == LLMKIND_BREAKS
    by_loc = {n.location: n for n in ex.nodes}
    assert "no catch-all" in by_loc[f"{T}:102"].facts.detail
    assert "`other`" in by_loc[f"{R}:75"].facts.detail  # a variable catch-all is named
    assert by_loc[f"{T}:99"].facts.edge is EdgeKind.ENUMERATION  # [minBound .. maxBound]


def test_add_constructor_on_a_type_matched_inside_tuples_where_and_gadts(example_index):
    assert breaking(ask(example_index, "Tier", ChangeKind.ADD_CONSTRUCTOR)) == {
        f"{P}:48", f"{Q}:31"}
    assert breaking(ask(example_index, "Query", ChangeKind.ADD_CONSTRUCTOR)) == {
        f"{Q}:24", f"{Q}:31"}


def test_remove_constructor_breaks_every_use(example_index):
    ex = ask(example_index, "Opus", ChangeKind.REMOVE_CONSTRUCTOR)
    assert breaking(ex) == {f"{C}:40", f"{C}:46", f"{C}:58", f"{P}:35", f"{P}:39", f"{P}:42",
                            f"{P}:50", "src/LLM/Report.hs:38", f"{R}:60", f"{R}:74",
                            f"{R}:80", f"{T}:103", f"{T}:109", f"{T}:117", f"{T}:82"}


def test_add_field_breaks_positional_and_record_constructions(example_index):
    ex = ask(example_index, "Config", ChangeKind.ADD_FIELD)
    assert breaking(ex) == {f"{C}:32", f"{C}:46"}
    by_loc = {n.location: n for n in ex.nodes}
    assert by_loc[f"{C}:56"].facts.edge is EdgeKind.FIELD_PATTERN  # record pattern keeps working
    assert not by_loc[f"{C}:56"].facts.breaks


def test_field_changes_break_every_use_of_the_field(example_index):
    assert breaking(ask(example_index, "requestKind", ChangeKind.REMOVE_FIELD)) == {f"{R}:41"}
    assert breaking(ask(example_index, "dailyBudget", ChangeKind.RENAME_FIELD)) == {
        f"{C}:35", f"{C}:49", f"{R}:48"}


def test_function_arity_and_signature_changes_break_call_sites(example_index):
    ex = ask(example_index, "costOf", ChangeKind.CHANGE_ARITY)
    calls = {f"{P}:86", f"{Q}:35", "src/LLM/Report.hs:33", "src/LLM/Service.hs:35"}
    assert {n.location for n in ex.nodes if n.facts.breaks and not n.facts.assumption} == calls
    # where-bound helpers without a signature take the call's type: their uses may break
    # (GHC reports `billAll`'s use of `step`, not the call inside it)
    inferred = {n.location: n for n in ex.nodes if n.facts.assumption}
    assert set(inferred) == {f"{P}:84", "src/LLM/Report.hs:31"}
    assert "no type signature" in inferred[f"{P}:84"].facts.assumption
    ex = ask(example_index, "inputPrice", ChangeKind.CHANGE_SIGNATURE)
    # a method: its instances' definitions and its callers
    assert {f"{P}:32", f"{P}:45"} <= breaking(ex)


def test_class_changes_break_instances(example_index):
    assert breaking(ask(example_index, "Priced", ChangeKind.ADD_METHOD)) == {f"{P}:32", f"{P}:45"}
    assert breaking(ask(example_index, "Discounted", ChangeKind.ADD_SUPERCLASS)) == {f"{P}:41"}


def test_type_family_synonym_and_export_changes(example_index):
    # `scout oracle --target Rate --change change_type_family` (GHC): Pricing.hs:67, the
    # body of `priceTable :: PriceTable`, a synonym applying Rate to LLMKind (it reduces)
    ex = ask(example_index, "Rate", ChangeKind.CHANGE_TYPE_FAMILY)
    assert breaking(ex) == {f"{P}:66"}
    assert next(n for n in ex.nodes if n.location == f"{P}:66").end_line == 67
    equations = {n.location for n in ex.nodes if n.facts.edge is EdgeKind.TYPE_FAMILY_INSTANCE}
    assert equations == {f"{P}:54", f"{P}:55", f"{P}:56"}  # the change itself (hop 0)
    # GHC for Budget: Config.hs:35 (`dailyBudget = 50`), :46 (`Config Haiku Nothing 1 ..`),
    # Router.hs:53 (`estimate = price kind`), :64, Service.hs:35 (`Answered .. (costOf ..)`):
    # where a value is built as a Double; the selector uses Router.hs:48/68 are the rule's
    # guesses (the value is consumed as a Double), the inferred `go` of :64 is beyond it
    assert breaking(ask(example_index, "Budget", ChangeKind.CHANGE_TYPE_SYNONYM)) == {
        f"{C}:35", f"{C}:46", f"{R}:48", f"{R}:53", f"{R}:68", "src/LLM/Service.hs:35"}
    assert breaking(ask(example_index, "costOf", ChangeKind.REMOVE_EXPORT)) == {
        f"{Q}:13", "src/LLM/Report.hs:15", "src/LLM/Service.hs:15"}


def test_small_budget_keeps_the_breaking_sites_first(example_index):
    ex = ask(example_index, "LLMKind", ChangeKind.ADD_CONSTRUCTOR, budget=7)
    assert {n.location for n in ex.nodes} == LLMKIND_BREAKS
    assert ex.coverage.nodes_kept == 7 and ex.coverage.nodes_found > 7
    assert ex.coverage.files_indexed == 7 and ex.coverage.files_with_errors == 0


def test_exploration_is_deterministic(example_index):
    a = ask(example_index, "LLMKind", ChangeKind.ADD_CONSTRUCTOR, budget=20)
    b = ask(example_index, "LLMKind", ChangeKind.ADD_CONSTRUCTOR, budget=20)
    assert [n.location for n in a.nodes] == [n.location for n in b.nodes]


def test_node_context_has_hover_and_five_line_snippet(example_index):
    ex = ask(example_index, "LLMKind", ChangeKind.ADD_CONSTRUCTOR)
    node = next(n for n in ex.nodes if n.location == f"{T}:102")
    assert node.hover == "modelName :: LLMKind -> ModelName"
    lines = node.snippet.split("\n")
    assert len(lines) == 5 and any(line.startswith("modelName Sonnet") for line in lines)
    definition = next(n for n in ex.nodes if n.facts.edge is EdgeKind.DEFINITION)
    assert definition.hover.startswith("data LLMKind = Sonnet | Opus | Haiku")


def test_unknown_symbol_suggests_close_names(example_index):
    with pytest.raises(UnknownSymbol, match="LLMKind"):
        ask(example_index, "LLMKnd", ChangeKind.ADD_CONSTRUCTOR)


def test_ambiguous_target_is_reported_or_resolved_by_context(make_workspace):
    root = make_workspace({
        "A.hs": "module A where\ndata Mode = On | Off\nf On = 1\nf Off = 0\n",
        "B.hs": "module B where\ndata Mode = Fast | Slow\ng Fast = 1\ng Slow = 2\n",
    })
    index = WorkspaceIndex.build(root, use_cache=False)
    with pytest.raises(AmbiguousTarget) as err:
        ask(index, "Mode", ChangeKind.ADD_CONSTRUCTOR)
    assert "A.Mode" in str(err.value) and "B.Mode" in str(err.value)
    assert breaking(ask(index, "B.Mode", ChangeKind.ADD_CONSTRUCTOR)) == {"B.hs:3"}
    by_text = ask(index, "Mode", ChangeKind.ADD_CONSTRUCTOR, text="add a mode to B.Mode")
    assert by_text.target.module == "B"


def test_broken_files_still_answer(make_workspace):
    root = make_workspace({
        "A.hs": textwrap.dedent("""\
            module A where
            data K = X | Y
            f :: K -> Int
            f X = 1
            f Y = 2
            """),
        "B.hs": "module B where\nimport A\ng k = case k of\n  X -> 1\n  Y -> = 2\n",
    })
    index = WorkspaceIndex.build(root, use_cache=False)
    ex = ask(index, "K", ChangeKind.ADD_CONSTRUCTOR)
    assert "A.hs:4" in breaking(ex)
    assert ex.coverage.files_with_errors == 1


# -- agreement with real GHC ------------------------------------------------------------------

GHC_CASES = [
    ("LLMKind", ChangeKind.ADD_CONSTRUCTOR,
     Mutation(T, "data LLMKind = Sonnet | Opus | Haiku\n",
              "data LLMKind = Sonnet | Opus | Haiku | ScoutNew\n")),
    ("Tier", ChangeKind.ADD_CONSTRUCTOR,
     Mutation(T, "data Tier = Fast | Balanced | Deep\n",
              "data Tier = Fast | Balanced | Deep | ScoutNew\n")),
    ("Query", ChangeKind.ADD_CONSTRUCTOR,
     Mutation(Q, "  Constant :: a -> Query a\n",
              "  Constant :: a -> Query a\n  ScoutNew :: Query Int\n")),
    ("Priced", ChangeKind.ADD_METHOD,
     Mutation(P, "  inputPrice :: a -> Double\n",
              "  inputPrice :: a -> Double\n  scoutNew :: a -> Int\n")),
]


@pytest.mark.ghc
@pytest.mark.skipif(not ghc_available(), reason="GHC is not installed (apt-get install ghc)")
@pytest.mark.parametrize(("target", "change", "mutation"), GHC_CASES,
                         ids=[c[0] + "-" + c[1].value for c in GHC_CASES])
def test_high_risk_set_equals_what_ghc_reports(example_index, example_root, target, change,
                                               mutation):
    truth = added_warning_sites(example_root, mutation)
    assert truth, "the mutation must make GHC warn somewhere"
    ex = ask(example_index, target, change)
    assert high_risk(ex) == truth


def test_questions_carry_tags_into_the_exploration(example_index):
    q = Question("What breaks if I add a variant to LLMKind?", "LLMKind",
                 ChangeKind.ADD_CONSTRUCTOR, (Tag.EXHAUSTIVE, Tag.PATTERN_MATCH), 20)
    assert explore(example_index, q).question.tags == (Tag.EXHAUSTIVE, Tag.PATTERN_MATCH)


# -- which definition a use refers to ---------------------------------------------------------

def test_uses_resolve_through_imports_qualifiers_and_reexports(make_workspace):
    root = make_workspace({
        "A.hs": "module A where\ndata R = R { size :: Int }\nclass C a where\n  m :: a -> Int\n"
                "run :: Int -> Int\nrun x = x\n",
        "B.hs": "module B where\nclass C a where\n  k :: a -> Int\nrun :: Int\nrun = 1\n"
                "size :: [a] -> Int\nsize = length\n",
        "Api.hs": "module Api (module A) where\nimport A\n",
        "UsesA.hs": "module UsesA where\nimport Api\nf r = size r + run 1\n"
                    "instance C Bool where\n  m _ = 1\n",
        "UsesB.hs": "module UsesB where\nimport B\nimport qualified A as QA\n"
                    "g xs = size xs + run + QA.run 2\ninstance C Int where\n  k _ = 2\n",
    })
    index = WorkspaceIndex.build(root, use_cache=False)
    # B's `size` and `run` are other definitions: only A's uses (also through Api) count
    assert breaking(ask(index, "A.size", ChangeKind.REMOVE_FIELD)) == {"UsesA.hs:3"}
    assert breaking(ask(index, "A.run", ChangeKind.CHANGE_ARITY)) == {"UsesA.hs:3", "UsesB.hs:4"}
    # an instance of B.C is not an instance of A.C
    assert breaking(ask(index, "A.C", ChangeKind.ADD_METHOD)) == {"UsesA.hs:4"}
    # importers through a re-exporting module break when A stops exporting
    assert "UsesA.hs:3" in breaking(ask(index, "A.run", ChangeKind.REMOVE_EXPORT))


def test_minimal_pragma_names_where_ghc_warns_and_instances_still_break(make_workspace):
    root = make_workspace({
        "A.hs": "module A where\nclass C a where\n  {-# MINIMAL f #-}\n  f :: a -> Int\n"
                "  g :: a -> Int\n  g = f\n",
        "B.hs": "module B where\nimport A\ninstance C Int where\n  f _ = 1\n",
    })
    index = WorkspaceIndex.build(root, use_cache=False)
    ex = ask(index, "C", ChangeKind.ADD_METHOD)
    # the instance has to get the method: it fails at run time without it, and the pragma
    # decides whether GHC says so there (it names it) or at the class (it leaves it out)
    assert breaking(ex) == {"B.hs:3"}
    assert high_risk(ex) == {"B.hs:3"}
    by_loc = {n.location: n for n in ex.nodes}
    assert "run time" in by_loc["B.hs:3"].facts.detail
    assert "MINIMAL pragma (f, line 3)" in by_loc["B.hs:3"].facts.detail
    pragma = by_loc["A.hs:3"]
    assert pragma.facts.edge is EdgeKind.DEFINITION and "decides" in pragma.facts.detail


def test_same_named_types_in_other_modules_are_not_the_target(make_workspace):
    root = make_workspace({
        "A.hs": "module A where\ndata Grid = Grid | Row\nf Grid = 1\nf Row = 2\n",
        "B.hs": "module B where\ndata Grid = Grid\ng Grid = 1\n",
        "C.hs": "module C where\nimport qualified A\nh A.Grid = 1\nh A.Row = 2\n",
    })
    index = WorkspaceIndex.build(root, use_cache=False)
    assert breaking(ask(index, "A.Grid", ChangeKind.ADD_CONSTRUCTOR)) == {"A.hs:3", "C.hs:3"}


def test_pattern_guards_on_a_parameter_count_as_matches(make_workspace):
    root = make_workspace({"A.hs": textwrap.dedent("""\
        module A where
        data Mode = T | B
        data R = R Mode Int | W Int
        f m x
          | R T i <- m = i
          | R B i <- m = x
          | W r <- m = r
        g m | R T _ <- m, m `seq` True = 1
        g _ = 2
        """)})
    index = WorkspaceIndex.build(root, use_cache=False)
    ex = ask(index, "Mode", ChangeKind.ADD_CONSTRUCTOR)
    assert breaking(ex) == {"A.hs:4"}  # like `f (R T i) x`, `f (R B i) x`, `f (W r) x`


def test_a_match_the_checker_cannot_line_up_is_a_low_confidence_node(make_workspace):
    # clauses with different numbers of patterns (GHC rejects it; the index still sees it)
    root = make_workspace({"A.hs": textwrap.dedent("""\
        module A where
        data K = X | Y
        f :: K -> Int
        f X = 1
        f Y z = 2
        g X = 1
        g y z = 2
        """)})
    index = WorkspaceIndex.build(root, use_cache=False)
    ex = ask(index, "K", ChangeKind.ADD_CONSTRUCTOR)
    by_loc = {n.location: n for n in ex.nodes}
    no_catch_all, catch_all = by_loc["A.hs:4"], by_loc["A.hs:7"]
    assert no_catch_all.facts.breaks and "different numbers of patterns" in (
        no_catch_all.facts.assumption)
    assert catch_all.facts.silent and "catch-all on line 7" in catch_all.facts.assumption
    scored = HeuristicScorer().score(ex.question, [no_catch_all, catch_all])
    assert [s.rubric.confidence for s in scored] == [2, 2]
    assert all("assumed:" in s.rubric.reasoning for s in scored)
    assert scored[0].rubric.risk >= 4


def test_a_field_comes_in_with_its_type_in_an_import_list(make_workspace):
    # `import A (Config (..))`: the record's constructor is `MkConfig`, its field `size`
    root = make_workspace({
        "A.hs": "module A (Config (..)) where\ndata Config = MkConfig { size :: Int }\n",
        "B.hs": "module B where\nimport A (Config (..))\nf :: Config -> Int\nf c = size c\n",
    })
    index = WorkspaceIndex.build(root, use_cache=False)
    assert breaking(ask(index, "size", ChangeKind.REMOVE_FIELD)) == {"B.hs:4"}


def test_reading_a_local_binding_stays_linear_on_long_lines():
    # a long line of words with no binding: nested repeats in the pattern backtracked for
    # minutes on such lines (haskell-aeson, change_field_type)
    import time

    from scout.explore.engine import _local_body
    scope = "f x = y\n  where\n    " + " ".join(["word"] * 40) + " ++ x\n    y = 1"
    start = time.perf_counter()
    assert _local_body(scope, "y", patterns=True) == "1"
    assert _local_body(scope, "z", patterns=True) is None
    assert time.perf_counter() - start < 1.0

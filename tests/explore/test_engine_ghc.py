"""Each class of site the engine reports, on fixture workspaces, against what GHC really reports
after the same change (``tests/fixtures/engine``). A GHC site counts as found when a node the
heuristic scorer rates risk >= 4 covers its line (a node spans [line, end_line]: a multi-line
application); a node at risk >= 4 that covers no GHC site is a false alarm."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from scout.explore.engine import explore
from scout.explore.model import ChangeKind, EdgeKind, Node, Question
from scout.explore.question import method_variant
from scout.haskell.index import WorkspaceIndex
from scout.scoring.heuristic import HeuristicScorer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ghc_truth import DEFER, Mutation, added_warning_sites, ghc_available  # noqa: E402

pytestmark = [pytest.mark.ghc,
              pytest.mark.skipif(not ghc_available(), reason="needs GHC: apt-get install ghc")]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "engine"


def explored(workspace: str, target: str, change: ChangeKind,
             text: str = "q") -> list[tuple[Node, int]]:
    index = WorkspaceIndex.build(FIXTURES / workspace, use_cache=False)
    ex = explore(index, Question(text, target, change, (), 200,
                                 variant=method_variant(text, change)))
    scored = HeuristicScorer().score(ex.question, ex.nodes)
    return [(n, s.rubric.risk) for n, s in zip(ex.nodes, scored, strict=True)]


def compare(nodes: list[tuple[Node, int]], truth: set[str]) -> tuple[set[str], set[str]]:
    """(GHC sites no risky node covers, risky nodes covering no GHC site)."""
    risky = [n for n, risk in nodes if risk >= 4]
    sites = [(s.rsplit(":", 1)[0], int(s.rsplit(":", 1)[1])) for s in truth]

    def covers(n: Node, path: str, line: int) -> bool:
        return n.path == path and n.line <= line <= (n.end_line or n.line)

    missed = {f"{p}:{ln}" for p, ln in sites if not any(covers(n, p, ln) for n in risky)}
    false = {n.location for n in risky if not any(covers(n, p, ln) for p, ln in sites)}
    return missed, false


def silent(nodes: list[tuple[Node, int]]) -> dict[str, Node]:
    return {n.location: n for n, _ in nodes if n.facts.silent}


REC = "src/Rec/Types.hs"
USE = "src/Rec/Use.hs"


def test_a_record_type_gaining_a_constructor_breaks_updates_and_uni_patterns():
    truth = added_warning_sites(FIXTURES / "records", Mutation(
        REC, "  } deriving (Show, Eq)\n", "  }\n  | ScoutNew\n  deriving (Show, Eq)\n"))
    # record updates (one, multi-line, on an expression), a let/where pattern binding, a
    # lambda, a lazy pattern, RecordWildCards and a case
    assert truth == {f"{USE}:{n}" for n in (8, 12, 18, 30, 35, 38, 41, 44, 47)}
    nodes = explored("records", "Config", ChangeKind.ADD_CONSTRUCTOR)
    assert compare(nodes, truth) == (set(), set())
    edges = {n.location: n.facts.edge for n, risk in nodes if risk >= 4}
    assert {loc for loc, e in edges.items() if e is EdgeKind.RECORD_UPDATE} == {
        f"{USE}:8", f"{USE}:12", f"{USE}:18"}
    # selectors used as functions become partial: no warning, a crash at run time
    selectors = {loc for loc, n in silent(nodes).items() if n.facts.edge is EdgeKind.FIELD_ACCESS}
    assert selectors == {f"{USE}:21", f"{USE}:24", f"{USE}:27", f"{USE}:51"}  # not `let size`


def test_record_updates_that_were_already_partial_still_count():
    truth = added_warning_sites(FIXTURES / "records", Mutation(
        REC, "  | Square { side :: Double, radius :: Double }\n",
        "  | Square { side :: Double, radius :: Double }\n  | ScoutNew\n"))
    assert truth == {f"{USE}:57", f"{USE}:60", f"{USE}:63"}  # `s { side = 3 }` was partial
    nodes = explored("records", "Shape", ChangeKind.ADD_CONSTRUCTOR)
    assert compare(nodes, truth) == (set(), set())
    stretch = next(n for n, _ in nodes if n.location == f"{USE}:60")
    assert "already fails on Circle" in stretch.facts.detail


LIB = "src/Calls/Lib.hs"
CALLS = "src/Calls/Use.hs"


def test_an_arity_change_breaks_every_application_with_its_span():
    # the oracle's mutation: the old function renamed, a wrapper taking one more argument
    truth = added_warning_sites(FIXTURES / "calls", [
        Mutation(LIB, "render :: Int -> String -> String\nrender width text",
                 "scoutOrig_render :: Int -> String -> String\nscoutOrig_render width text"),
        Mutation(LIB, "(<+>) :: String", "render _scoutExtraArgument = scoutOrig_render\n"
                                         "(<+>) :: String")], flags=DEFER)
    nodes = explored("calls", "render", ChangeKind.CHANGE_ARITY)
    missed, false = compare(nodes, truth)
    # `inWhere = out` is where GHC reports the error of `out = render 6 "where"`: `out` has
    # no signature, so its uses are reached (with an assumption, lower confidence)
    assert missed == set()
    assert false == set()  # the local `render`s that shadow it are not calls
    inferred = next(n for n, _ in nodes if n.location == f"{CALLS}:35")
    assert inferred.facts.assumption and "uses out" in inferred.facts.detail
    by_line = {n.line: n for n, _ in nodes if n.path == CALLS}
    assert by_line[11].end_line == 13 and by_line[16].end_line == 17  # multi-line calls
    assert by_line[23].facts.edge is EdgeKind.PARTIAL_APPLICATION  # zipWith render …
    assert not any(line in by_line for line in (49, 51, 52, 54, 57))  # shadowed


CLASS = "src/Cls/Class.hs"


def test_a_method_without_default_in_a_class_with_minimal_breaks_instances_and_the_class():
    add = Mutation(CLASS, "  member :: s -> String -> Bool\n",
                   "  member :: s -> String -> Bool\n  scoutNew :: s -> ()\n")
    optional = added_warning_sites(FIXTURES / "classes", add)
    required = added_warning_sites(FIXTURES / "classes", [
        add, Mutation(CLASS, "{-# MINIMAL fetch #-}", "{-# MINIMAL fetch, scoutNew #-}")])
    # the MINIMAL pragma decides where GHC warns: at the class, or at every instance
    assert optional == {f"{CLASS}:4"}
    assert required == {f"{CLASS}:12", f"{CLASS}:17"}
    nodes = explored("classes", "Store", ChangeKind.ADD_METHOD)
    # the instances are where code must be written: risk >= 4 whatever the pragma says
    assert compare(nodes, required) == (set(), set())
    # the class is where the change is made (its definition), the pragma says where GHC warns
    by_loc = {n.location: n for n, _ in nodes}
    assert by_loc[f"{CLASS}:4"].facts.edge is EdgeKind.DEFINITION
    pragma = by_loc[f"{CLASS}:5"]
    assert "MINIMAL" in pragma.facts.detail and pragma.facts.edge is EdgeKind.DEFINITION


def test_a_method_with_a_default_breaks_nothing_and_instances_take_it_silently():
    truth = added_warning_sites(FIXTURES / "classes", Mutation(
        CLASS, "  member :: s -> String -> Bool\n",
        "  member :: s -> String -> Bool\n  scoutNew :: s -> ()\n  scoutNew _ = ()\n"))
    assert truth == set()
    nodes = explored("classes", "Store", ChangeKind.ADD_METHOD,
                     "What breaks if I add a method with a default implementation to Store?")
    assert compare(nodes, truth) == (set(), set())
    assert set(silent(nodes)) == {f"{CLASS}:12", f"{CLASS}:17"}


def test_gadt_matches_complete_by_their_index_break_and_say_so():
    truth = added_warning_sites(FIXTURES / "gadt", Mutation(
        "src/Expr.hs", "  Pair :: Expr a -> Expr b -> Expr (a, b)\n",
        "  Pair :: Expr a -> Expr b -> Expr (a, b)\n  ScoutNew :: Expr a\n"))
    assert truth == {"src/Expr.hs:13", "src/Expr.hs:18", "src/Expr.hs:23"}
    nodes = explored("gadt", "Expr", ChangeKind.ADD_CONSTRUCTOR)
    assert compare(nodes, truth) == (set(), set())
    by_loc = {n.location: n for n, _ in nodes}
    # evalInt omits BoolLit and Pair, which `Expr Int` rules out: complete, not "incomplete"
    for loc in ("src/Expr.hs:13", "src/Expr.hs:18"):
        assert "no catch-all" in by_loc[loc].facts.detail, by_loc[loc].facts.detail
    assert set(silent(nodes)) == {"src/Expr.hs:32"}


def test_cpp_branches_and_latin1_bytes_do_not_hide_sites():
    truth = added_warning_sites(FIXTURES / "preproc", Mutation(
        "src/Pre.hs", "data Mode = Fast | Slow\n", "data Mode = Fast | Slow | ScoutNew\n"))
    assert truth == {"src/Pre.hs:12"}
    nodes = explored("preproc", "Mode", ChangeKind.ADD_CONSTRUCTOR)
    assert compare(nodes, truth) == (set(), set())
    assert set(silent(nodes)) == {"src/Pre.hs:26"}  # the branch GHC compiles has a catch-all


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "llm-service"
PRICING = "src/LLM/Pricing.hs"


@pytest.mark.parametrize("change", [ChangeKind.CHANGE_ARITY, ChangeKind.CHANGE_SIGNATURE])
def test_calls_through_helpers_without_signatures(change):
    wrapper = ("costOf _scoutExtraArgument = scoutOrig_costOf\n"
               if change is ChangeKind.CHANGE_ARITY else
               "newtype ScoutChanged_costOf a = ScoutChanged_costOf a\n"
               "costOf = ScoutChanged_costOf scoutOrig_costOf\n")
    truth = added_warning_sites(EXAMPLE, [
        Mutation(PRICING, "costOf :: LLMKind -> Usage -> Billed Usage\ncostOf kind",
                 "scoutOrig_costOf :: LLMKind -> Usage -> Billed Usage\nscoutOrig_costOf kind"),
        Mutation(PRICING, "-- | The cheapest model among the candidates,",
                 wrapper + "-- | The cheapest model among the candidates,")], flags=DEFER)
    index = WorkspaceIndex.build(EXAMPLE, use_cache=False)
    ex = explore(index, Question("q", "costOf", change, (), 200))
    scored = HeuristicScorer().score(ex.question, ex.nodes)
    missed, false = compare([(n, s.rubric.risk) for n, s in zip(ex.nodes, scored,
                                                                  strict=True)], truth)
    assert missed == set()
    if change is ChangeKind.CHANGE_ARITY:
        # a call with one argument short still type-checks and hands a function to the
        # helper `step`, which has no signature: GHC reports `step`'s use (84), not the call
        # (86); `bump`'s use in Report.hs type-checks all the same
        assert f"{PRICING}:84" in truth and f"{PRICING}:86" not in truth
        assert false == {f"{PRICING}:86", "src/LLM/Report.hs:31"}
    else:  # applying a value of another type fails at the call: nothing flows on
        assert false == set()


INST = "src/Inst/Use.hs"
INST_CLASS = "src/Inst/Class.hs"


def test_instances_with_a_qualified_class_several_lines_or_from_cpp_macros_are_found():
    truth = added_warning_sites(FIXTURES / "instances", Mutation(
        INST_CLASS, "  pretty :: a -> String\n  {-# MINIMAL pretty #-}",
        "  pretty :: a -> String\n  scoutNew :: a -> ()\n  {-# MINIMAL pretty, scoutNew #-}"))
    # `instance C.Pretty Pretty` (a local type named like the class), a head over two lines
    # after a macro for its pragma (reported at its second line), two instances a
    # function-like macro from a local header writes (reported at the macro's line)
    assert truth == {f"{INST}:{n}" for n in (12, 16, 20, 23, 24)}
    nodes = explored("instances", "Inst.Class.Pretty", ChangeKind.ADD_METHOD,
                     "add a method without a default to Pretty")
    assert compare(nodes, truth) == (set(), set())
    overlapping = next(n for n, _ in nodes if n.path == INST and n.line == 19)
    assert overlapping.end_line == 20  # from `instance` to the head GHC reports


def test_an_instance_whose_context_already_implies_the_new_superclass_does_not_break():
    truth = added_warning_sites(FIXTURES / "instances", [
        Mutation(INST_CLASS, "{-# LANGUAGE MultiParamTypeClasses, FlexibleContexts #-}",
                 "{-# LANGUAGE MultiParamTypeClasses, FlexibleContexts, KindSignatures #-}"),
        Mutation(INST_CLASS, "class Container f a where",
                 "class ScoutSuper (f :: * -> *)\nclass ScoutSuper f => Container f a where")],
        flags=DEFER)
    # `Bagged a => Container Bag (Maybe a)`: Bagged's superclass Container Bag a brings it
    assert truth == {f"{INST}:26", f"{INST}:36"}
    nodes = explored("instances", "Container", ChangeKind.ADD_SUPERCLASS)
    assert compare(nodes, truth) == (set(), set())
    given = next(n for n, _ in nodes if n.location == f"{INST}:33")
    assert not given.facts.breaks and "Bagged a" in given.facts.detail


BIND = "src/Bind/Use.hs"


def test_a_do_bind_on_a_type_gaining_a_constructor_needs_monad_fail():
    truth = added_warning_sites(FIXTURES / "binds", Mutation(
        "src/Bind/Types.hs", "data Pair = Pair Int Int", "data Pair = Pair Int Int | ScoutNew"),
        flags=DEFER)
    # a polymorphic monad without MonadFail in its context, State, Either: rejected (and the
    # plain case in `fine` is incomplete)
    assert truth == {f"{BIND}:18", f"{BIND}:28", f"{BIND}:38", f"{BIND}:48"}
    nodes = explored("binds", "Pair", ChangeKind.ADD_CONSTRUCTOR)
    assert compare(nodes, truth) == (set(), set())
    # IO, Maybe, StateT over IO, a context with MonadFail, an inferred type: the bind fails
    # at run time on the new constructor, silently
    assert {loc for loc, n in silent(nodes).items() if n.facts.edge is EdgeKind.MATCH_SITE} \
        == {f"{BIND}:{n}" for n in (8, 13, 23, 33, 42)}
    inferred = silent(nodes)[f"{BIND}:42"]
    assert inferred.facts.assumption  # no signature: the monad is a guess


QTYPES = "src/Q/Types.hs"
QUSE = "src/Q/Use.hs"
QAPI = "src/Q/Api.hs"


def test_qualified_fields_in_record_patterns_are_uses():
    # the oracle's rename: the field deprecated, every use outside its module warns
    truth = added_warning_sites(FIXTURES / "qualified", Mutation(
        QTYPES, "helper :: Int", "{-# DEPRECATED size \"renamed\" #-}\nhelper :: Int"))
    assert truth == {f"{QUSE}:7", f"{QUSE}:13"}  # `T.Config {T.size = s}`, an update
    nodes = explored("qualified", "size", ChangeKind.RENAME_FIELD)
    assert compare(nodes, truth) == (set(), set())


def test_a_name_no_longer_exported_breaks_its_re_exports_qualified_or_not():
    # `import Q.Types (helper)` fails: the import is the site (not its re-export); the
    # re-exports `T.other` and `other` (a whole-module import) are not in scope
    for name, sites in (("helper", {f"{QAPI}:7"}), ("other", {f"{QAPI}:3", "src/Q/All.hs:1"})):
        truth = added_warning_sites(FIXTURES / "qualified", Mutation(
            QTYPES, f", {name}", ""), errors=True)
        assert truth == sites
        nodes = explored("qualified", name, ChangeKind.REMOVE_EXPORT)
        assert compare(nodes, truth) == (set(), set())


FAMILY = "src/Ty/Family.hs"
SYN = "src/Ty/Syn.hs"
_OPAQUE = "\ntype family ScoutOpaque a\n"


def test_a_type_family_change_reaches_where_the_family_reduces():
    # the oracle's mutation: every equation yields an opaque type of the same kind
    truth = added_warning_sites(FIXTURES / "types", [
        Mutation(FAMILY, "{-# LANGUAGE TypeFamilies, FlexibleContexts #-}",
                 "{-# LANGUAGE TypeFamilies, FlexibleContexts, UndecidableInstances #-}"),
        Mutation(FAMILY, "type Elem [a] = a", "type Elem [a] = ScoutOpaque a"),
        Mutation(FAMILY, "type Elem IntBag = Int", "type Elem IntBag = ScoutOpaque Int"),
        Mutation(FAMILY, "firstOf c = [c]\n", "firstOf c = [c]\n" + _OPAQUE)], flags=DEFER)
    # `insert` of both instances (their types apply Elem to the instance's type) and a
    # signature applying it to a known type; not `empty`/`size`, not the polymorphic insertAll
    assert truth == {f"{FAMILY}:13", f"{FAMILY}:21", f"{FAMILY}:30"}
    nodes = explored("types", "Elem", ChangeKind.CHANGE_TYPE_FAMILY)
    assert compare(nodes, truth) == (set(), set())
    by_loc = {n.location: n for n, _ in nodes}
    assert by_loc[f"{FAMILY}:11"].facts.hop == 0  # an equation: the change itself
    assert not by_loc[f"{FAMILY}:25"].facts.breaks  # applies Elem to a variable only


def test_a_synonym_change_reaches_the_code_that_builds_what_it_stood_for():
    truth = added_warning_sites(FIXTURES / "types", [
        Mutation(SYN, "type Name = String", "type Name = ScoutOpaque String"),
        Mutation(SYN, "module Ty.Syn where\n",
                 "{-# LANGUAGE TypeFamilies #-}\nmodule Ty.Syn where\n" + _OPAQUE)],
        flags=DEFER)
    # a literal returned as a Name, given to a field of type Name and to a function taking
    # one; the consumption in `greet` (`n ++ "!"` uses a Name as a String) and in `measure`
    # (a Name handed to `count`, whose signature, with a comment per argument, takes a String)
    assert truth == {f"{SYN}:{n}" for n in (6, 17, 26, 32, 44)}
    nodes = explored("types", "Name", ChangeKind.CHANGE_TYPE_SYNONYM)
    # values typed with Name only pass on (shout, defaultName, bob, register, dave): no
    # alarm; `n ++ "!"` is found by checking the written types with Name opaque
    assert compare(nodes, truth) == (set(), set())


MIX = "src/Ty/Mix.hs"


def _mix_truth(old: str, new: str) -> set[str]:
    return added_warning_sites(FIXTURES / "types", [
        Mutation(MIX, old, new),
        Mutation(MIX, "module Ty.Mix where\n",
                 "{-# LANGUAGE TypeFamilies #-}\nmodule Ty.Mix where\n" + _OPAQUE)],
        flags=DEFER)


def test_a_synonym_change_breaks_where_values_typed_with_it_meet_its_old_expansion():
    truth = _mix_truth("type Tag = String", "type Tag = ScoutOpaque String")
    # a `[Tag]` given to a field written `[String]`; a Grid built by a polymorphic function
    # from `[String]` stored where a Board (a synonym built from Tag) is expected, through a
    # `where` binding, and mixed with a Board in `maybe`; not rename/firstTag/resize, which
    # only pass Tags on
    assert truth == {f"{MIX}:{n}" for n in (19, 22, 25, 29)}
    nodes = explored("types", "Tag", ChangeKind.CHANGE_TYPE_SYNONYM)
    assert compare(nodes, truth) == (set(), set())


def test_a_function_synonym_applied_through_a_local_binding_breaks():
    truth = _mix_truth("type Check = Int -> Bool", "type Check = ScoutOpaque (Int -> Bool)")
    # `c n` where c comes from a where-bound function declared to return a Check; the
    # definition of chooser, which builds the Check from functions
    assert truth == {f"{MIX}:44", f"{MIX}:50"}
    nodes = explored("types", "Check", ChangeKind.CHANGE_TYPE_SYNONYM)
    assert compare(nodes, truth) == (set(), set())


FLD_USE = "src/Fld/Use.hs"


def test_a_field_type_change_reaches_values_built_with_the_old_type():
    # the oracle's mutation: the field's type becomes opaque (its instances kept)
    truth = added_warning_sites(FIXTURES / "fields", [
        Mutation("src/Fld/Types.hs", "data Point = Point { line :: Pos, column :: Pos }",
                 "data Point = Point { line :: ScoutOpaque Pos, column :: Pos }\n"
                 "type family ScoutOpaque a"),
        Mutation("src/Fld/Types.hs", "module Fld.Types where",
                 "{-# LANGUAGE TypeFamilies #-}\nmodule Fld.Types where")], flags=DEFER)
    # built with the old type: `Pos 1` (origin), `Pos (..)` in an update, `Pos n`
    # positionally; used as the old type: `unPos (line p)`, `unPos l` after a pattern
    # `unPos l` in a `where` after a positional pattern `Point l c`, `Point one one` (a
    # variable bound at top level, not by a pattern), `T.line p` read where a local `line`
    # is bound too (a qualified name is never the local one), `Point <$> parsePos n <*> ..`
    # (an action of the old type); not `Point <$> pure undefined`, nor `keep l` (a function
    # taking any type) in `moved`
    assert truth == {"src/Fld/Types.hs:11", f"{FLD_USE}:7", f"{FLD_USE}:14", f"{FLD_USE}:20",
                     f"{FLD_USE}:29", f"{FLD_USE}:35", "src/Fld/Qual.hs:7", f"{FLD_USE}:47"}
    nodes = explored("fields", "line", ChangeKind.CHANGE_FIELD_TYPE)
    assert compare(nodes, truth) == (set(), set())
    by_loc = {n.location: n for n, _ in nodes}
    # `q { line = line p }` and `Point l c` rebuilt from the pattern keep the field's value
    assert not by_loc[f"{FLD_USE}:10"].facts.breaks
    assert f"{FLD_USE}:17" not in {n.location for n, r in nodes if r >= 4}
    assert by_loc[f"{FLD_USE}:13"].end_line == 14  # the pattern, to where `l` is used
    assert by_loc[f"{FLD_USE}:26"].end_line == 29  # `Point l c`, to the `where` using `l`


def test_removing_a_newtypes_field_name_leaves_its_positional_uses_alone():
    # the constructor keeps its one argument: only the selector and record syntax go
    nodes = explored("fields", "unWrap", ChangeKind.REMOVE_FIELD)
    assert not [n.location for n, risk in nodes if risk >= 4]


def test_a_removed_fields_positional_pattern_reaches_the_uses_of_what_it_bound():
    nodes = explored("fields", "line", ChangeKind.REMOVE_FIELD)
    by_loc = {n.location: (n, r) for n, r in nodes}
    node, risk = by_loc[f"{FLD_USE}:26"]  # `describe (Point l c)`: `l` is used on line 29
    assert risk >= 4 and node.end_line == 29
    node, risk = by_loc[f"{FLD_USE}:13"]  # `render Point { line = l, .. }`: and `l` on 14
    assert risk >= 4 and node.end_line == 14


FUN = "src/Ty/Fun.hs"


def test_a_function_synonym_held_by_a_constructor_breaks_where_a_match_applies_it():
    truth = added_warning_sites(FIXTURES / "types", [
        Mutation(FUN, "type Step = Int -> Int", "type Step = ScoutOpaque (Int -> Int)"),
        Mutation(FUN, "module Ty.Fun where\n",
                 "{-# LANGUAGE TypeFamilies #-}\nmodule Ty.Fun where\n" + _OPAQUE)],
        flags=DEFER)
    # `f n` after `run (Machine _ f) n =`; `rename` hands f back, `label` ignores it
    assert truth == {f"{FUN}:9"}
    nodes = explored("types", "Step", ChangeKind.CHANGE_TYPE_SYNONYM)
    assert compare(nodes, truth) == (set(), set())
    by_loc = {n.location: n for n, _ in nodes}
    assert by_loc[f"{FUN}:8"].end_line == 9  # the match, to where it applies f


PAIR = "src/Ty/Pair.hs"


def test_a_synonym_held_by_a_constructor_built_through_a_functor():
    truth = added_warning_sites(FIXTURES / "types", [
        Mutation(PAIR, "type Span = (Int, Int)", "type Span = ScoutOpaque (Int, Int)"),
        Mutation(PAIR, "module Ty.Pair where\n",
                 "{-# LANGUAGE TypeFamilies #-}\nmodule Ty.Pair where\n" + _OPAQUE)],
        flags=DEFER)
    # a tuple mapped over actions, `pure` of a tuple; not `s`, already typed with Span
    assert truth == {f"{PAIR}:8", f"{PAIR}:13"}
    nodes = explored("types", "Span", ChangeKind.CHANGE_TYPE_SYNONYM)
    assert compare(nodes, truth) == (set(), set())


INCLUDED = "internal/instances"  # no .hs: found through the .cabal's include-dirs
INCLUDER = "src/Shape/Inst.hs"


def _include_truth(old: str, new: str) -> set[str]:
    return added_warning_sites(FIXTURES / "include", Mutation("src/Shape/Class.hs", old, new),
                               flags=["-Iinternal"])


def test_code_an_include_brings_is_seen_at_the_included_files_own_lines():
    # two modules include the same file, each keeping its own part (a #define picks it);
    # GHC reports that code at the included file's lines, and the includer's own lines after
    # the include keep their numbers
    truth = _include_truth("  describe :: a -> String\n",
                           "  describe :: a -> String\n  scoutNew :: a -> ()\n")
    assert truth == {f"{INCLUDED}:3", f"{INCLUDED}:6", f"{INCLUDED}:14", f"{INCLUDER}:9"}
    nodes = explored("include", "Describe", ChangeKind.ADD_METHOD)
    assert compare(nodes, truth) == (set(), set())


@pytest.mark.parametrize("change", [ChangeKind.ADD_CONSTRUCTOR, ChangeKind.REMOVE_CONSTRUCTOR])
def test_matches_in_included_code_break_where_ghc_says(change):
    if change is ChangeKind.ADD_CONSTRUCTOR:
        truth = _include_truth("data Colour = Red | Green | Blue\n",
                               "data Colour = Red | Green | Blue | ScoutNew\n")
        assert truth == {f"{INCLUDED}:7", f"{INCLUDER}:13"}
        nodes = explored("include", "Colour", change)
    else:  # a removal, as the oracle measures it: every use of the deprecated constructor
        truth = _include_truth("data Colour = Red | Green | Blue\n",
                               "data Colour = Red | Green | Blue\n{-# DEPRECATED Green \"x\" #-}\n")
        assert truth == {f"{INCLUDED}:9", f"{INCLUDER}:15"}
        nodes = explored("include", "Green", change)
    assert compare(nodes, truth) == (set(), set())


DOLLAR = "src/Fld/Dollar.hs"


@pytest.mark.parametrize(("field", "declared", "expected"), [
    # `Box $ Pos n` builds the old type, `Box $ p` gives it a parameter declared with it,
    # `map Box` and `Box <$> ps` hand it values of the old type; `Box $ unBox b` and
    # `Box (unBox b)` give the field its own value
    # and `Box p` a value bound in a tuple pattern written `(Pos, Int)`
    ("unBox", "unBox :: Pos", {f"{DOLLAR}:10", f"{DOLLAR}:16", f"{DOLLAR}:29",
                               f"{DOLLAR}:35", f"{DOLLAR}:47"}),
    # a lambda after `$`, on the same line or the next; `fmap Run rs`
    ("runIt", "runIt :: Int -> Pos", {f"{DOLLAR}:19", f"{DOLLAR}:23", f"{DOLLAR}:32"}),
])
def test_a_constructor_applied_with_dollar_builds_the_old_type(field, declared, expected):
    truth = added_warning_sites(FIXTURES / "fields", [
        Mutation(DOLLAR, declared, declared.replace(":: ", ":: ScoutOpaque (") + ")"),
        # the same lines: the pragma beside the module header, the family after the code
        Mutation(DOLLAR, "module Fld.Dollar where\n",
                 "{-# LANGUAGE TypeFamilies #-} module Fld.Dollar where\n"),
        Mutation(DOLLAR, "(n + 1)\n", "(n + 1)\n\ntype family ScoutOpaque a\n")],
        flags=DEFER)
    assert truth == expected
    nodes = explored("fields", field, ChangeKind.CHANGE_FIELD_TYPE)
    assert compare(nodes, truth) == (set(), set())


def test_a_constructor_composed_with_a_polymorphic_result_takes_any_type():
    # `pure = Many . pure`: `pure` makes the new type as well as the old (its instances kept)
    nodes = explored("fields", "unMany", ChangeKind.CHANGE_FIELD_TYPE)
    assert f"{DOLLAR}:43" not in {n.location for n, risk in nodes if risk >= 4}


ACT = "src/Calls/Act.hs"


def test_a_bound_result_used_as_a_scrutinee_spans_the_alternatives():
    truth = added_warning_sites(FIXTURES / "calls", [
        Mutation(ACT, "fetch :: IO (Maybe Int)\nfetch =",
                 "scoutOrig_fetch :: IO (Maybe Int)\nscoutOrig_fetch ="),
        Mutation(ACT, "    Just x -> return x\n",
                 "    Just x -> return x\nnewtype ScoutChanged_fetch a = ScoutChanged_fetch a\n"
                 "fetch = ScoutChanged_fetch scoutOrig_fetch\n")], flags=DEFER)
    nodes = explored("calls", "fetch", ChangeKind.CHANGE_SIGNATURE)
    assert compare(nodes, truth) == (set(), set()), truth
    scrutinee = next(n for n, _ in nodes if n.location == f"{ACT}:9")
    assert scrutinee.end_line == 11  # `case mx of` to its last alternative

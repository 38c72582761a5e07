"""RULES pragmas: GHC type-checks both sides of a rewrite rule like code, so the index reads
the references inside them (tree-sitter parses a pragma as one opaque node), at their real
lines, with the `forall` binders as local binders, attributed to the function a rule's
left-hand side rewrites; a rule defines nothing."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from tests.haskell.test_extract_incremental import apply_edit, canonical

from scout.explore.model import ChangeKind, EdgeKind
from scout.haskell import parser as ts
from scout.haskell.extract import extract, extract_incremental
from scout.haskell.model import Role

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ghc_truth import DEFER, Mutation, added_warning_sites, ghc_available  # noqa: E402

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "engine" / "rules"
LIB = "src/Rules/Lib.hs"
USE = "src/Rules/Use.hs"

SOURCE = b'''module M where
f :: Int -> Int
f = id
x = 1
{-# RULES "a" forall x. f x = g x ; "b" [~1] h = k Con
"c" forall (y :: T a) z . -- a comment: not code
      map y (map z xs) = M.map (y . z) xs
  #-}
{-# INLINE [0] f #-}
{-# SPECIALISE f :: Int -> Int #-}
g = 2 ; {-# RULES "one line" forall vars. f vars = unstream (s (fC vars) (fS vars)) #-}
{- RULES "not a pragma" f = notUsed -}
'''


def refs(source: bytes = SOURCE) -> list[tuple[str, int, int, Role, str | None, int]]:
    fi = extract("M.hs", source, ts.parser().parse(source))
    return sorted((r.name, r.line, r.col, r.role, r.enclosing, r.end_line)
                  for r in fi.references.all("M.hs"))


def test_rules_are_read_like_code_at_their_lines_and_columns():
    found = refs()
    lines = SOURCE.decode().split("\n")
    for name, line, col, _, _, _ in found:  # every row points at its name in the source
        assert lines[line - 1][col:col + len(name)] == name, (name, line, col)
    in_rules = {(n, ln, role, encl) for n, ln, _, role, encl, _ in found if ln >= 5}
    assert in_rules == {
        ("f", 5, Role.EXPRESSION, "f"), ("g", 5, Role.EXPRESSION, "f"),
        ("h", 5, Role.EXPRESSION, "h"), ("k", 5, Role.EXPRESSION, "h"),
        ("Con", 5, Role.EXPRESSION, "h"),
        ("T", 6, Role.TYPE, "map"),  # a binder's annotation: a type, not a signature
        ("map", 7, Role.EXPRESSION, "map"), ("xs", 7, Role.EXPRESSION, "map"),
        (".", 7, Role.EXPRESSION, "map"),
        ("f", 11, Role.EXPRESSION, "f"), ("unstream", 11, Role.EXPRESSION, "f"),
        ("s", 11, Role.EXPRESSION, "f"), ("fC", 11, Role.EXPRESSION, "f"),
        ("fS", 11, Role.EXPRESSION, "f"),
    }
    # the forall binders shadow the top-level `x`; `M.map` keeps its qualifier
    assert not any(n in ("x", "y", "z", "vars", "notUsed") for n, *_ in found)
    assert sum(1 for n, ln, *_ in found if n == "map" and ln == 7) == 3
    # applications carry their last line, as in code
    assert {(n, end) for n, ln, _, _, _, end in found if ln == 11} == {
        ("f", 11), ("unstream", 11), ("s", 11), ("fC", 11), ("fS", 11)}


def test_a_multi_line_rule_and_rules_separated_by_layout():
    source = b'''module M where
{-# RULES
"p" forall a.
    p
      a = q a
"r"   r = s
  #-}
'''
    found = {(n, ln, c, e) for n, ln, c, _, e, _ in refs(source)}
    assert found == {("p", 4, 4, "p"), ("q", 5, 10, "p"), ("r", 6, 6, "r"), ("s", 6, 10, "r")}


def test_rules_define_nothing():
    with_rules = extract("M.hs", SOURCE, ts.parser().parse(SOURCE))
    bare = re.sub(rb"\{-# RULES.*?#-\}", lambda m: re.sub(rb"[^\n]", b" ", m[0]), SOURCE,
                  flags=re.S)  # the same lines and columns, without the rules
    assert bare.count(b"RULES") == 1
    without = extract("M.hs", bare, ts.parser().parse(bare))
    assert [(d.name, d.kind, d.span) for d in with_rules.definitions] == \
        [(d.name, d.kind, d.span) for d in without.definitions]
    assert with_rules.match_sites == without.match_sites


@pytest.mark.parametrize("old, new", [
    (b"forall x. f x = g x", b"forall x. f x = g (h x)"),  # an edit inside a rule
    (b"forall x. f x = g x", b"forall x y. f x y = g y"),  # a new binder
    (b'"b" [~1] h = k Con', b'"b" [~1] h = k Con\n"b2" h2 = k2'),  # a rule more, a line more
    (b"x = 1\n", b"x = 1\n\n\n"),  # lines before every rule
    (b"g = 2 ; ", b"g  =  2 ; "),  # columns before a rule on the same line
    (b"{-# INLINE [0] f #-}", b"{-# RULES \"new\" f = w #-}"),  # a pragma becomes RULES
    (b"map y (map z xs)", b"map y (map z"),  # a rule that no longer reads
])
def test_incremental_extraction_of_an_edited_pragma_equals_full_extraction(old, new):
    parser = ts.parser()
    tree = parser.parse(SOURCE)
    fi = extract("M.hs", SOURCE, tree)
    changed = SOURCE.replace(old, new, 1)
    assert changed != SOURCE
    edit = apply_edit(tree, SOURCE, changed)
    new_tree = parser.parse(changed, tree)
    incremental = extract_incremental(fi, SOURCE, changed, new_tree, tree, edit)
    assert canonical(incremental) == canonical(extract("M.hs", changed, new_tree))
    assert canonical(incremental) != canonical(fi)


needs_ghc = pytest.mark.skipif(not ghc_available(), reason="needs GHC: apt-get install ghc")


def _explored(target: str, change: ChangeKind):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "explore"))
    from test_engine_ghc import compare, explored  # noqa: PLC0415
    return explored("rules", target, change), compare


@pytest.mark.ghc
@needs_ghc
def test_an_arity_change_breaks_the_rules_that_apply_the_function_where_ghc_says():
    # the oracle's mutation: the old function renamed, a wrapper taking one more argument;
    # -Winline-rule-shadowing is noise the wrapper adds (the oracle does not read it)
    truth = added_warning_sites(FIXTURE, Mutation(
        LIB, "scale :: Double -> Shape -> Shape\nscale k (Circle r) = Circle (k * r)\n"
             "scale k (Square s) = Square (k * s)\n",
        "scoutOrig_scale :: Double -> Shape -> Shape\n"
        "scoutOrig_scale k (Circle r) = Circle (k * r)\n"
        "scoutOrig_scale k (Square s) = Square (k * s)\n"
        "scale _scoutExtraArgument = scoutOrig_scale\n"),
        flags=[*DEFER, "-Wno-inline-rule-shadowing"])
    # a multi-line rule (at its left-hand side's line), a typed binder, a rule of another
    # function, and an ordinary call
    assert truth == {f"{LIB}:25", f"{LIB}:26", f"{LIB}:49", f"{USE}:7"}
    nodes, compare = _explored("scale", ChangeKind.CHANGE_ARITY)
    assert compare(nodes, truth) == (set(), set())
    edges = {n.location: n.facts.edge for n, risk in nodes if risk >= 4}
    assert edges[f"{LIB}:49"] is EdgeKind.CALL_SITE


@pytest.mark.ghc
@needs_ghc
def test_a_removed_constructor_breaks_the_rules_that_use_it_where_ghc_says():
    # the oracle's removal: the constructor deprecated, every use outside its module warns
    truth = added_warning_sites(FIXTURE, Mutation(
        LIB, "  deriving (Show)\n", "  deriving (Show)\n{-# DEPRECATED Square \"x\" #-}\n"))
    assert truth == {f"{USE}:12"}
    nodes, compare = _explored("Square", ChangeKind.REMOVE_CONSTRUCTOR)
    missed, false = compare(nodes, truth)
    assert missed == set()
    # inside its own module GHC does not warn, but a removal breaks those uses too: the
    # rule `area (Square side) = …` among them
    assert false == {f"{LIB}:{n}" for n in (20, 31, 34, 40)}


STREAM = "src/Rules/Stream.hs"


@pytest.mark.ghc
@needs_ghc
def test_a_synonym_change_breaks_the_rules_whose_written_types_meet_its_expansion():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "explore"))
    from test_engine_ghc import _OPAQUE  # noqa: PLC0415
    truth = added_warning_sites(FIXTURE, [
        Mutation(STREAM, "type Step i o = Stream i -> Stream o",
                 "type Step i o = ScoutOpaque (Stream i -> Stream o)"),
        Mutation(STREAM, "module Rules.Stream where\n",
                 "{-# LANGUAGE TypeFamilies #-}\nmodule Rules.Stream where\n" + _OPAQUE)],
        flags=DEFER)
    # the rule a macro writes on one line (37: through `Source`, a synonym with a forall),
    # a multi-line rule with a typed binder (47), a rule without binders (48), beside code
    assert truth == {f"{STREAM}:{n}" for n in (28, 31, 37, 47, 48, 52, 53)}
    nodes, compare = _explored("Step", ChangeKind.CHANGE_TYPE_SYNONYM)
    assert compare(nodes, truth) == (set(), set())

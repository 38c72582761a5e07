"""What the index models beyond names: local binders that shadow top-level names, the extent of
applications, record updates and lazy patterns as match sites, pattern synonym signatures, GADT
result indices, parameter types (read from signatures) and MINIMAL pragmas."""

from __future__ import annotations

import textwrap

from scout.explore.refine import parameter_types
from scout.haskell import parser as ts
from scout.haskell.extract import extract
from scout.haskell.model import DefKind, FileIndex, MatchKind, PatKind, Role


def index_of(source: str, path: str = "M.hs") -> FileIndex:
    src = textwrap.dedent(source).encode()
    return extract(path, src, ts.parser().parse(src))


def uses(fi: FileIndex, name: str) -> list[tuple[int, Role]]:
    return [(r.line, r.role) for r in fi.references.lookup(name, fi.path)]


def test_local_binders_shadow_top_level_names_in_their_scope_only():
    fi = index_of("""\
        module M where
        run :: Int -> Int
        run x = x
        a run = run 1
        b = go 2 where go y = run y
        c = let run = 3 in run
        d = \\run -> run
        e m = case m of
          Just run -> run
          Nothing -> run 0
        f = do
          run <- pure id
          pure (run 1)
        g = [run | run <- [1, 2]]
        h = go 1
          where
            go n = run n
            run = id
        i r = run r
        (j, run') = (run, 1)
        k = let (run, _) = (1, 2) in run
        """)
    # a parameter, a let, a lambda, a case alternative, a do bind, a comprehension and a
    # where-bound definition shadow `run`; only `i`, `b`'s `go` and the Nothing branch use it
    assert uses(fi, "run") == [(5, Role.EXPRESSION), (10, Role.EXPRESSION),
                               (19, Role.EXPRESSION), (20, Role.EXPRESSION)]


def test_a_qualified_name_is_never_the_local_binder_of_its_name():
    fi = index_of("""\
        module M where
        import qualified N as Q
        f p = do
          let a = Q.run p
          let run = a
          pure (run, Q.run a)
        """)
    # the local `run` shadows `run`, never `Q.run`
    assert uses(fi, "run") == [(4, Role.EXPRESSION), (6, Role.EXPRESSION)]


def test_a_signature_is_read_without_its_comments():
    fi = index_of("""\
        module M where
        run ::
          -- | the parser (a `String -> Int`)
          Parser a -> {- inline -} Int --> String -> -- ^ the input
          Text
        run = undefined
        """)
    [d] = [d for d in fi.definitions if d.name == "run"]
    assert d.signature == "run :: Parser a -> Int --> String -> Text"


def test_record_puns_bind_the_field_name():
    fi = index_of("""\
        {-# LANGUAGE NamedFieldPuns #-}
        module M where
        data R = R { size :: Int }
        f R {size} = size
        g r = size r
        """)
    assert uses(fi, "size") == [(4, Role.RECORD_PATTERN), (5, Role.EXPRESSION)]


def test_references_carry_the_last_line_of_the_application_they_head():
    fi = index_of("""\
        module M where
        f :: Int -> String -> Bool
        f _ _ = True
        g = f 1
              "abc"
        h = map (f 2) ["a"]
        k = M.f
          3 "x"
        l = (3 `f`) "y"
        """)
    assert [(r.line, r.end_line) for r in fi.references.lookup("f", "M.hs")] == [
        (4, 5), (6, 6), (7, 8), (9, 0)]  # an operator in a section heads no application


def test_record_updates_are_match_sites_with_their_fields():
    fi = index_of("""\
        module M where
        data R = R { size :: Int, name :: String }
        f r = r { size = 1 }
        g r = (id r)
          { name = "x"
          , M.size = 2 }
        h = R { size = 1, name = "" }
        """)
    updates = [s for s in fi.match_sites if s.kind is MatchKind.RECORD_UPDATE]
    assert [(s.span.start_line, s.span.start_col, s.fields, s.scrutinee) for s in updates] == [
        (3, 6, ("size",), "r"), (4, 6, ("name", "size"), "(id r)")]
    assert all(s.rows == () and s.enclosing in ("f", "g") for s in updates)


def test_lazy_patterns_are_checked_apart_at_the_enclosing_match():
    fi = index_of("""\
        module M where
        data C = C Int
        f ~(C n) = n
        g (Just ~(C n)) = n
        g Nothing = 0
        h = \\ ~(C n) -> n
        k c = let ~(C n) = c in n
        """)
    lazy = [s for s in fi.match_sites if s.kind is MatchKind.PATTERN_BINDING]
    assert [(s.span.start_line, s.span.start_col, s.rows[0].patterns[0].name) for s in lazy] == [
        (3, 0, "C"), (4, 0, "C"), (6, 4, "C"), (7, 9, "C")]
    g = next(s for s in fi.match_sites if s.kind is MatchKind.FUNCTION and s.name == "g")
    assert g.rows[0].patterns[0].args[0].kind is PatKind.WILD  # `~p` matches anything


def test_a_pattern_synonym_with_a_signature_is_one_definition():
    fi = index_of("""\
        {-# LANGUAGE PatternSynonyms #-}
        module M where
        pattern P, Q :: Maybe Int
        pattern P = Just 1
        pattern Q <- Nothing where
          Q = Nothing
        pattern x :> y = (x, y)
        """)
    syns = [d for d in fi.definitions if d.kind is DefKind.PATTERN_SYNONYM]
    assert [(d.name, d.signature) for d in syns] == [
        ("P", "pattern P, Q :: Maybe Int"), ("Q", "pattern P, Q :: Maybe Int"),
        (":>", "pattern x :> y = (x, y)")]
    assert uses(fi, "Q") == []  # the builder's `Q` is part of the definition


def test_gadt_indices_parameter_types_and_minimal_pragmas():
    fi = index_of("""\
        {-# LANGUAGE GADTs #-}
        module M where
        data Q a where
          A :: Int -> Q Int
          B :: forall a. Show a => a -> Q (Maybe a)
          C, D :: { f :: Int } -> Q Bool
          E :: Q a
        data P = P Int
        run :: (Show a) => Q Int -> (Int -> a) -> a
        run = undefined
        class K a where
          m :: a -> Q a -> Int
          {-# MINIMAL m #-}
        """)
    by = {(d.name, d.kind): d for d in fi.definitions}
    assert [by[(c, DefKind.CONSTRUCTOR)].indices for c in "ABCDE"] == [
        ("Int",), ("(Maybe a)",), ("Bool",), ("Bool",), ("a",)]
    assert by[("P", DefKind.CONSTRUCTOR)].indices is None
    assert parameter_types(by[("run", DefKind.FUNCTION)].signature) == ["Q Int", "(Int -> a)"]
    assert parameter_types(by[("m", DefKind.METHOD)].signature) == ["a", "Q a"]
    assert parameter_types("f :: forall a. (Show a, Eq a) => [a] -> Maybe (a -> b) -> a") == [
        "[a]", "Maybe (a -> b)"]
    assert by[("K", DefKind.CLASS)].minimal == "m" and by[("K", DefKind.CLASS)].minimal_line == 13


def test_a_moved_definition_keeps_every_field_but_its_lines():
    from dataclasses import fields

    fi = index_of("""\
        module M where
        class K a where
          {-# MINIMAL m #-}
          m :: a -> Int
        """)
    (k,) = [d for d in fi.definitions if d.kind is DefKind.CLASS]
    moved = k.moved(3)
    changed = {f.name for f in fields(k) if getattr(k, f.name) != getattr(moved, f.name)}
    assert changed == {"span", "name_span", "minimal_line"}
    assert moved.span.start_line == k.span.start_line + 3 and moved.minimal_line == 6
    assert k.moved(0) == k

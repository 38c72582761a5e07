"""The checker of written types behind synonym changes (explore/typeflow.py), on small
workspaces parsed for real: what it reports, and what it must never report (code it cannot
type in either reading, values typed with the synonym that are only passed on)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from scout.explore.engine import explore
from scout.explore.model import ChangeKind, EdgeKind, Question
from scout.haskell.index import WorkspaceIndex


def mismatch_lines(tmp_path: Path, source: str, synonym: str) -> set[int]:
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / "M.hs").write_text(textwrap.dedent(source))
    index = WorkspaceIndex.build(tmp_path, use_cache=False)
    ex = explore(index, Question("q", synonym, ChangeKind.CHANGE_TYPE_SYNONYM, (), 500))
    return {n.line for n in ex.nodes
            if n.facts.edge is EdgeKind.TYPE_USE and n.facts.breaks}


def test_a_value_typed_with_the_synonym_meeting_its_expansion_is_reported(tmp_path):
    lines = mismatch_lines(tmp_path, """\
        module M where
        type Key = String
        data Box k = Box [k]
        type KeyBox = Box Key
        data Conf = Conf { names :: [String] }
        keys :: [Key]
        keys = []
        conf :: Conf
        conf = Conf { names = keys }
        boxed :: Conf -> KeyBox
        boxed c = Box (names c)
        """, "Key")
    assert lines == {9, 11}


def test_values_only_passed_on_and_code_untyped_in_both_readings_are_not(tmp_path):
    lines = mismatch_lines(tmp_path, """\
        module M where
        type Key = String
        data Box k = Box [k]
        type KeyBox = Box Key
        rename :: Key -> KeyBox -> KeyBox
        rename k (Box ks) = Box (k : ks)
        first :: KeyBox -> Key
        first (Box ks) = head ks
        broken :: Key -> Int
        broken k = k
        unknown :: Key -> KeyBox
        unknown k = libraryThing k
        """, "Key")
    # `broken` fails before the change as well (Key is no Int): the checker's limits and
    # real errors that predate the change are never reported; `libraryThing` has no type
    assert lines == set()


def test_a_local_binding_shadows_a_workspace_name(tmp_path):
    lines = mismatch_lines(tmp_path, """\
        module M where
        type Key = String
        label :: String
        label = "x"
        pick :: Key -> Key
        pick k = label
          where label = k
        tag :: Key -> Key
        tag _ = label
        """, "Key")
    # in `pick`, `label` is the local one, typed with Key; in `tag` the top-level String
    assert lines == {9}


def test_a_claim_read_from_the_codes_shape_yields_to_a_fully_typed_declaration(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "M.hs").write_text(textwrap.dedent("""\
        module M where
        import Data.List (find)
        type Key = String
        data Box k = Box [k]
        type KeyBox = Box Key
        keysOf :: KeyBox -> [Key]
        keysOf (Box ks) = ks
        firstKey :: KeyBox -> Maybe Key
        firstKey b = find (const True) (keysOf b)
        defaultKey :: Maybe Key
        defaultKey = find (const True) ["a"]
        """))
    index = WorkspaceIndex.build(tmp_path, use_cache=False)
    ex = explore(index, Question("q", "Key", ChangeKind.CHANGE_TYPE_SYNONYM, (), 500))
    by_line = {n.line: n for n in ex.nodes if n.facts.edge is EdgeKind.SIGNATURE}
    # `find` returns what it is given: firstKey passes Keys on, defaultKey builds one from a
    # string literal (the shape alone says "built by a library function" for both)
    assert not by_line[8].facts.breaks and "agrees with the new type" in by_line[8].facts.detail
    assert any(n.facts.breaks for n in ex.nodes if 10 <= n.line <= 11)


def test_a_claimed_call_yields_when_the_value_arrives_typed_with_the_synonym(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "M.hs").write_text(textwrap.dedent("""\
        module M where
        import Data.List (find)
        type Key = String
        keysOf :: Int -> [Key]
        keysOf _ = []
        countKey :: Maybe Key -> Int
        countKey _ = 0
        total :: Int -> Int
        total n = countKey (find (const True) (keysOf n)) + n
        """))
    index = WorkspaceIndex.build(tmp_path, use_cache=False)
    ex = explore(index, Question("q", "Key", ChangeKind.CHANGE_TYPE_SYNONYM, (), 500))
    calls = [n for n in ex.nodes if n.facts.edge is EdgeKind.CALL_SITE and n.line == 9]
    # `find` hands on the Keys it is given (a number's `+` leaves the declaration untyped)
    assert calls and not calls[0].facts.breaks


def test_a_claim_stands_where_a_class_constraint_falls_on_the_synonym(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "M.hs").write_text(textwrap.dedent("""\
        module M where
        type Hook = [Int]
        composeAll :: Monoid m => [m] -> m
        composeAll = mconcat
        quiet :: Hook
        quiet = []
        hook :: Hook
        hook = composeAll [quiet, quiet]
        """))
    index = WorkspaceIndex.build(tmp_path, use_cache=False)
    ex = explore(index, Question("q", "Hook", ChangeKind.CHANGE_TYPE_SYNONYM, (), 500))
    by_line = {n.line: n for n in ex.nodes if n.facts.edge is EdgeKind.SIGNATURE}
    # every name is typed, but whether the new type is a Monoid is not written anywhere
    assert by_line[7].facts.breaks

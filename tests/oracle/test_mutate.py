"""Mutations as text edits: what each change kind writes, and the line map back.

Definitions come from the real index (tree-sitter) over small sources; no GHC needed here."""

from __future__ import annotations

from pathlib import Path

import pytest

from scout.explore.model import ChangeKind
from scout.haskell.index import WorkspaceIndex
from scout.oracle.mutate import LineMap, MutationError, TextEdit, apply_edits, offset_of
from scout.oracle.targets import TargetError, mutation_for


def index_of(tmp_path: Path, files: dict[str, str]) -> WorkspaceIndex:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return WorkspaceIndex.build(tmp_path, use_cache=False)


def only_phase_text(mutation, phase: int = 0) -> str:
    return mutation.phases[phase].edits[0].mutated


def test_line_map_after_inserted_and_deleted_lines() -> None:
    text = "a\nb\nc\nd\ne\n"
    edit = apply_edits("M.hs", text, [
        TextEdit(offset_of(text, 1, 1), offset_of(text, 1, 1), "\nX\nY"),  # 2 lines after a
        TextEdit(offset_of(text, 3, 0), offset_of(text, 4, 0), ""),  # delete line c
    ])
    assert edit.mutated == "a\nX\nY\nb\nd\ne\n"
    lm = edit.line_map
    assert lm.to_original(1) == (1, False)
    assert lm.to_original(2) == (1, True)  # X: inserted
    assert lm.to_original(3) == (1, True)  # Y: inserted
    assert lm.to_original(4) == (2, False)  # b
    assert lm.to_original(5) == (4, False)  # d (c was deleted)
    assert lm.to_original(6) == (5, False)
    assert LineMap((), 3).to_original(4) == (4, True)  # beyond the original end


def test_offset_of_counts_utf8_bytes() -> None:
    text = "λx = 1\nfoo\n"
    assert text[offset_of(text, 1, 2):].startswith("x")  # λ is two bytes
    with pytest.raises(MutationError):
        offset_of(text, 9, 0)


def test_add_constructor_regular_and_gadt(tmp_path: Path) -> None:
    idx = index_of(tmp_path, {"T.hs": (
        "module T where\n\ndata Color\n  = Red\n  | Green { shade :: Int }\n  deriving Show\n\n"
        "data Cmd a where\n  Get :: Cmd Int\n  Put :: Int -> Cmd ()\n")})
    m = mutation_for(idx, "Color", ChangeKind.ADD_CONSTRUCTOR)
    assert "  | Green { shade :: Int } | ScoutAddedColor\n  deriving Show" in only_phase_text(m)
    assert m.grep_names == ("Red", "Green")
    g = mutation_for(idx, "Cmd", ChangeKind.ADD_CONSTRUCTOR)
    assert only_phase_text(g).endswith("  Put :: Int -> Cmd ()\n  ScoutAddedCmd :: Cmd a\n")


def test_add_constructor_refuses_newtype(tmp_path: Path) -> None:
    idx = index_of(tmp_path, {"T.hs": "module T where\nnewtype Age = Age Int\n"})
    with pytest.raises(MutationError, match="newtype"):
        mutation_for(idx, "Age", ChangeKind.ADD_CONSTRUCTOR)


def test_remove_constructor_deprecates_then_removes(tmp_path: Path) -> None:
    src = ("module T where\ndata C = A | B Int | D\n\nf :: C -> Int\nf A = 1\nf _ = 2\n")
    idx = index_of(tmp_path, {"T.hs": src})
    m = mutation_for(idx, "C", ChangeKind.REMOVE_CONSTRUCTOR)
    assert m.subject == "D"  # default: the last constructor
    assert len(m.phases) == 1  # D is not used in its own module: no removal phase
    m = mutation_for(idx, "A", ChangeKind.REMOVE_CONSTRUCTOR)
    outside, inside = m.phases
    assert outside.edits[0].mutated.endswith('{-# DEPRECATED A "scout oracle: A is being removed" #-}\n')
    assert outside.recheck_dependents
    assert "data C = B Int | D\n" in inside.edits[0].mutated
    assert inside.only_paths == ("T.hs",)


@pytest.mark.parametrize(("field", "expected"), [
    ("a", "{ b :: Int, c :: String }"),
    ("b", "{ a :: Int, c :: String }"),
    ("c", "{ a, b :: Int }"),
])
def test_remove_field_keeps_the_record_well_formed(tmp_path: Path, field: str, expected: str) -> None:
    src = ("module T where\ndata R = R { a, b :: Int, c :: String }\n\n"
           "g :: R -> Int\ng r = a r + b r + length (c r)\n")
    idx = index_of(tmp_path, {"T.hs": src})
    m = mutation_for(idx, field, ChangeKind.REMOVE_FIELD)
    removal = m.phases[-1].edits[0].mutated
    assert removal.splitlines()[1] == f"data R = R {expected}"


def test_add_field_record_and_positional(tmp_path: Path) -> None:
    idx = index_of(tmp_path, {"T.hs": "module T where\ndata P = P Int Bool\ndata R = R { x :: Int }\n"})
    assert "data P = P Int Bool ()\n" in only_phase_text(mutation_for(idx, "P", ChangeKind.ADD_FIELD))
    assert "data R = R { scoutAddedR :: (),  x :: Int }\n" in only_phase_text(
        mutation_for(idx, "R", ChangeKind.ADD_FIELD))


def test_change_arity_renames_clauses_and_adds_wrapper(tmp_path: Path) -> None:
    src = ("module T (go) where\n\ngo :: Int -> Int\ngo 0 = 0\ngo n = go (n - 1)\n\n"
           "other :: Int\nother = go 3\n")
    idx = index_of(tmp_path, {"T.hs": src})
    m = mutation_for(idx, "go", ChangeKind.CHANGE_ARITY)
    text = only_phase_text(m)
    assert ("scoutOrig_go :: Int -> Int\nscoutOrig_go 0 = 0\nscoutOrig_go n = go (n - 1)\n"
            "go _scoutExtraArgument = scoutOrig_go\n") in text
    assert "other = go 3" in text
    lm = m.phases[0].edits[0].line_map
    assert lm.to_original(6) == (5, True)  # the wrapper line is synthetic
    assert lm.to_original(9) == (8, False)  # `other = go 3` maps back


def test_add_method_uses_every_class_variable(tmp_path: Path) -> None:
    src = "module T where\n\nclass Box f where\n    open :: f a -> a\n\nclass Empty a\n"
    idx = index_of(tmp_path, {"T.hs": src})
    text = only_phase_text(mutation_for(idx, "Box", ChangeKind.ADD_METHOD))
    assert "    open :: f a -> a\n    scoutAddedBox :: scoutP0 f -> ()\n" in text
    empty = only_phase_text(mutation_for(idx, "Empty", ChangeKind.ADD_METHOD))
    assert empty.endswith("class Empty a where\n  scoutAddedEmpty :: scoutP0 a -> ()\n")


def test_remove_export_items_and_errors(tmp_path: Path) -> None:
    idx = index_of(tmp_path, {
        "A.hs": "module A\n  ( foo -- ^ the foo\n  , T(..)\n  , bar\n  ) where\nfoo, bar :: Int\n"
                "foo = 1\nbar = 2\ndata T = T\n",
        "B.hs": "module B where\nbaz :: Int\nbaz = 3\n"})
    assert "  ( T(..)\n  , bar\n  ) where" in only_phase_text(
        mutation_for(idx, "foo", ChangeKind.REMOVE_EXPORT))
    assert "  , T(..)\n  ) where" in only_phase_text(mutation_for(idx, "bar", ChangeKind.REMOVE_EXPORT))
    with pytest.raises(MutationError, match="no export list"):
        mutation_for(idx, "baz", ChangeKind.REMOVE_EXPORT)


def test_unknown_and_unsupported_targets(tmp_path: Path) -> None:
    idx = index_of(tmp_path, {"T.hs": "module T where\ndata C = A | B\n(<+>) :: Int -> Int -> Int\n"
                                      "a <+> b = a + b\n"})
    with pytest.raises(MutationError, match="arity and signature changes apply to functions"):
        mutation_for(idx, "C", ChangeKind.CHANGE_ARITY)
    with pytest.raises(TargetError, match="no symbol named 'Nope'"):
        mutation_for(idx, "Nope", ChangeKind.ADD_CONSTRUCTOR)
    with pytest.raises(MutationError, match="not a type synonym"):
        mutation_for(idx, "C", ChangeKind.CHANGE_TYPE_SYNONYM)
    with pytest.raises(TargetError, match="cannot verify 'change'"):
        mutation_for(idx, "C", ChangeKind.CHANGE)


def test_add_field_survives_a_trailing_haddock_comment(tmp_path: Path) -> None:
    idx = index_of(tmp_path, {"T.hs": "module T where\ndata R = R\n  { a :: Int -- ^ the a\n"
                                      "  , b :: Int -- ^ the b\n  }\n"})
    text = only_phase_text(mutation_for(idx, "R", ChangeKind.ADD_FIELD))
    assert "  { scoutAddedR :: (),  a :: Int -- ^ the a\n  , b :: Int -- ^ the b\n  }\n" in text

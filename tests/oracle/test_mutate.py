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
    # Right after the declaration (a Template Haskell splice below would start another group).
    assert ('data C = A | B Int | D\n\n{-# DEPRECATED A "scout oracle: A is being removed" #-}\n'
            'f :: C -> Int\n') in outside.edits[0].mutated
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
    removal = next(p for p in m.phases if "removal errors" in p.purpose).edits[0].mutated
    assert removal.splitlines()[1] == f"data R = R {expected}"
    # then the uses as a name: the field renamed where declared, the selector uses stay
    names = m.phases[-1]
    assert "as a name" in names.purpose and names.only_paths == ("T.hs",)
    assert f"scoutRenamed_{field}" in names.edits[0].mutated.splitlines()[1]
    assert names.edits[0].mutated.splitlines()[4] == src.splitlines()[4]


def test_a_renamed_field_keeps_its_record_syntax_so_its_uses_as_names_are_reported(
        tmp_path: Path) -> None:
    src = ("{-# LANGUAGE NamedFieldPuns #-}\nmodule T where\ndata R = R { size :: Int }\n"
           "grow :: R -> R\ngrow r = r { size = size r + 1 }\n"
           "get :: R -> Int\nget R { size } = size\n")
    idx = index_of(tmp_path, {"T.hs": src})
    m = mutation_for(idx, "size", ChangeKind.RENAME_FIELD)
    names = m.phases[-1].edits[0].mutated.splitlines()
    assert names[2] == "data R = R { scoutRenamed_size :: Int }"
    assert names[4] == "grow r = r { scoutRenamed_size = size r + 1 }"  # the selector stays
    assert names[6] == "get R { scoutRenamed_size = size } = size"  # a pun keeps its variable


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


@pytest.mark.parametrize("target", ["go", "went"])
def test_a_shared_signature_is_refused_whichever_name_changes(tmp_path: Path,
                                                              target: str) -> None:
    # `go, went :: T`: the wrapper would keep T, and no caller of `went` would break
    src = ("module T where\n\ngo, went :: Int -> Int\ngo n = n\nwent n = n\n\n"
           "other :: Int\nother = went 3\n")
    idx = index_of(tmp_path, {"T.hs": src})
    with pytest.raises(MutationError, match="shares a type signature"):
        mutation_for(idx, target, ChangeKind.CHANGE_ARITY)


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
    # the one resolver refuses a change that cannot apply to the name (issue 13)
    with pytest.raises(MutationError, match="'change_arity' applies to a function or method"):
        mutation_for(idx, "C", ChangeKind.CHANGE_ARITY)
    with pytest.raises(TargetError, match="no symbol named 'Nope'"):
        mutation_for(idx, "Nope", ChangeKind.ADD_CONSTRUCTOR)
    with pytest.raises(MutationError, match="'change_type_synonym' applies to a type synonym"):
        mutation_for(idx, "C", ChangeKind.CHANGE_TYPE_SYNONYM)
    with pytest.raises(TargetError, match="cannot verify 'change'"):
        mutation_for(idx, "C", ChangeKind.CHANGE)


def test_add_field_survives_a_trailing_haddock_comment(tmp_path: Path) -> None:
    idx = index_of(tmp_path, {"T.hs": "module T where\ndata R = R\n  { a :: Int -- ^ the a\n"
                                      "  , b :: Int -- ^ the b\n  }\n"})
    text = only_phase_text(mutation_for(idx, "R", ChangeKind.ADD_FIELD))
    assert "  { scoutAddedR :: (),  a :: Int -- ^ the a\n  , b :: Int -- ^ the b\n  }\n" in text


def _texts(mutation) -> dict[str, str]:
    return {e.path: e.mutated for e in mutation.phases[0].edits}


def test_add_superclass_joins_any_existing_context(tmp_path: Path) -> None:
    idx = index_of(tmp_path, {"src/M/C.hs": (
        "module M.C where\n\nimport Data.List (sort)\n\n"
        "class Show a => One a where\n  one :: a -> Int\n\n"
        "class (Eq a, Ord a) => Two a where\n  two :: a -> Int\n\n"
        "class Three f where\n  three :: f a -> Int\n\n"
        "class () => Four a where\n  four :: a -> Int\n")})
    one = mutation_for(idx, "One", ChangeKind.ADD_SUPERCLASS)
    text = _texts(one)["src/M/C.hs"]
    assert "class (ScoutOracleHelpers.ScoutSuper a, Show a) => One a where" in text
    assert text.startswith("module M.C where\n\nimport qualified ScoutOracleHelpers\n"
                           "import Data.List (sort)\n")
    helper = _texts(one)["src/ScoutOracleHelpers.hs"]
    assert "class ScoutSuper (a :: k)" in helper and "PolyKinds" in helper
    two = _texts(mutation_for(idx, "Two", ChangeKind.ADD_SUPERCLASS))["src/M/C.hs"]
    assert "class (ScoutOracleHelpers.ScoutSuper a, Eq a, Ord a) => Two a where" in two
    three = _texts(mutation_for(idx, "Three", ChangeKind.ADD_SUPERCLASS))["src/M/C.hs"]
    assert "class ScoutOracleHelpers.ScoutSuper f => Three f where" in three
    four = _texts(mutation_for(idx, "Four", ChangeKind.ADD_SUPERCLASS))["src/M/C.hs"]
    assert "class (ScoutOracleHelpers.ScoutSuper a) => Four a where" in four
    # The inserted import is a synthetic line: the class lines map back to their own lines.
    edit = one.phases[0].edits[0]
    assert edit.line_map.to_original(3)[1] is True  # the import: synthetic
    assert edit.line_map.to_original(6) == (5, False)


def test_add_method_readings_and_the_minimal_formula(tmp_path: Path) -> None:
    idx = index_of(tmp_path, {"C.hs": (
        "module C where\n\nclass P a where\n  p :: a -> String\n  q :: a -> String\n"
        "  q = p\n  {-# MINIMAL p | q #-}\n\nclass N a where\n  n :: a -> Int\n")})
    required = mutation_for(idx, "P", ChangeKind.ADD_METHOD)
    text = only_phase_text(required)
    assert "{-# MINIMAL (p | q), scoutAddedP #-}" in text
    assert "  scoutAddedP :: scoutP0 a -> ()" in text and "scoutAddedP = " not in text
    default = only_phase_text(mutation_for(idx, "P", ChangeKind.ADD_METHOD, variant="default"))
    assert "{-# MINIMAL p | q #-}" in default
    assert "  scoutAddedP :: scoutP0 a -> ()\n  scoutAddedP = scoutAddedP" in default
    plain = only_phase_text(mutation_for(idx, "N", ChangeKind.ADD_METHOD))
    assert plain.endswith("  n :: a -> Int\n  scoutAddedN :: scoutP0 a -> ()\n")
    with pytest.raises(MutationError, match="unknown reading 'sometimes'"):
        mutation_for(idx, "N", ChangeKind.ADD_METHOD, variant="sometimes")


def test_type_synonym_and_family_right_hand_sides_become_opaque(tmp_path: Path) -> None:
    idx = index_of(tmp_path, {
        "T.hs": ("{-# LANGUAGE TypeFamilies #-}\nmodule T where\n\n"
                 "type Name = String -- the user's name\n\n"
                 "type Sink i m = forall o. Monad m => (o, i, m ())\n\n"
                 "type family Elem c\ntype instance Elem [a] = a\n\n"
                 "type family Un a where\n  Un (Maybe a) = a -- unwrap\n  Un a = a\n\n"
                 "class Coll c where\n  type Key c\n  key :: c -> Key c\n"),
        "U.hs": ("module U where\nimport T\n\ninstance Coll [a] where\n  type Key [a] = Int\n"
                 "  key = length\n\ntype instance Elem (Maybe a) =\n  a\n")})
    syn = _texts(mutation_for(idx, "Name", ChangeKind.CHANGE_TYPE_SYNONYM))["T.hs"]
    assert "type Name = ScoutOracleHelpers.ScoutOpaque (String) -- the user's name\n" in syn
    poly = _texts(mutation_for(idx, "Sink", ChangeKind.CHANGE_TYPE_SYNONYM))["T.hs"]
    assert ("type Sink i m = forall o. Monad m => ScoutOracleHelpers.ScoutOpaque ((o, i, m ()))"
            in poly)  # an opaque polytype would be impredicative
    fam = mutation_for(idx, "Elem", ChangeKind.CHANGE_TYPE_FAMILY)
    texts = _texts(fam)
    assert "type instance Elem [a] = ScoutOracleHelpers.ScoutOpaque (a)\n" in texts["T.hs"]
    assert texts["T.hs"].startswith("{-# LANGUAGE UndecidableInstances #-}\n")
    assert ("type instance Elem (Maybe a) =\n  ScoutOracleHelpers.ScoutOpaque (a)\n"
            in texts["U.hs"])
    assert "type Key [a] = Int" in texts["U.hs"]  # another family's instance: untouched
    closed = _texts(mutation_for(idx, "Un", ChangeKind.CHANGE_TYPE_FAMILY))["T.hs"]
    assert "  Un (Maybe a) = ScoutOracleHelpers.ScoutOpaque (a) -- unwrap\n" in closed
    assert "  Un a = ScoutOracleHelpers.ScoutOpaque (a)\n" in closed
    assoc = _texts(mutation_for(idx, "Key", ChangeKind.CHANGE_TYPE_FAMILY))
    assert "  type Key [a] = ScoutOracleHelpers.ScoutOpaque (Int)\n" in assoc["U.hs"]
    assert "  type Key c\n" in assoc["T.hs"] if "T.hs" in assoc else True


def test_an_injective_family_is_refused_with_the_reason(tmp_path: Path) -> None:
    # an opaque right-hand side would only violate `| mv -> v` at every equation (a hard
    # error hiding the code that uses the family): nothing the oracle could report is true
    idx = index_of(tmp_path, {"T.hs": (
        "{-# LANGUAGE TypeFamilies, TypeFamilyDependencies #-}\nmodule T where\n"
        "type family Mutable (v :: * -> *) = (mv :: * -> * -> *) | mv -> v\n"
        "type family Plain (v :: * -> *) :: * -> * -> *\n"
        "data V a\ndata MV s a\ntype instance Mutable V = MV\ntype instance Plain V = MV\n")})
    with pytest.raises(MutationError, match="injective"):
        mutation_for(idx, "Mutable", ChangeKind.CHANGE_TYPE_FAMILY)
    plain = _texts(mutation_for(idx, "Plain", ChangeKind.CHANGE_TYPE_FAMILY))["T.hs"]
    assert "type instance Plain V = ScoutOracleHelpers.ScoutOpaque (MV)" in plain


def test_renames_and_field_type_changes(tmp_path: Path) -> None:
    idx = index_of(tmp_path, {"R.hs": (
        "module R where\n\ndata R = R { size :: Int, name :: String } | Q\n\n"
        "def :: R\ndef = R { size = 1, name = \"x\" }\n\nisQ :: R -> Bool\nisQ Q = True\n"
        "isQ _ = False\n")})
    ren = mutation_for(idx, "size", ChangeKind.RENAME_FIELD)
    assert [p.purpose for p in ren.phases] == [
        "uses outside the defining module (deprecation warnings)",
        "uses inside the defining module (rename errors)",
        "uses as a name (selector, wildcard variable) inside the defining module"]
    assert "data R = R { scoutRenamed_size :: Int, name :: String } | Q" in \
        ren.phases[1].edits[0].mutated
    con = mutation_for(idx, "Q", ChangeKind.RENAME_CONSTRUCTOR)
    assert con.summary == "rename constructor Q"
    assert "| ScoutRenamedQ\n" in con.phases[1].edits[0].mutated
    typed = mutation_for(idx, "name", ChangeKind.CHANGE_FIELD_TYPE)
    assert typed.summary == "the type of field name changes"
    assert "name :: (ScoutOracleHelpers.ScoutOpaque (String)) }" in only_phase_text(typed)
    assert typed.phases[0].skip_lines == (("R.hs", 3, 4),)  # the declaration: deriving artifacts
    assert typed.phases[0].counts_coverage


def test_field_types_end_at_commas_outside_comments(tmp_path: Path) -> None:
    idx = index_of(tmp_path, {"S.hs": (
        "module S where\n\ndata S a = S\n  { cur  :: !(Maybe a)   -- ^ focused, if any\n"
        "  , rest :: [a]          -- ^ the others, in order\n  , n    :: Int\n  }\n")})
    typed = only_phase_text(mutation_for(idx, "rest", ChangeKind.CHANGE_FIELD_TYPE))
    assert ("  , rest :: (ScoutOracleHelpers.ScoutOpaque [] (a))          -- ^ the others, in "
            "order\n") in typed
    removed = mutation_for(idx, "cur", ChangeKind.REMOVE_FIELD)
    assert ("  { cur  :: !(ScoutOracleHelpers.ScoutOpaque (Maybe) a)   -- ^ focused, if any\n"
            in removed.phases[1].edits[0].mutated)


def test_a_field_sharing_its_type_changes_alone(tmp_path: Path) -> None:
    idx = index_of(tmp_path, {"J.hs": (
        "module J where\n\ndata Job = Job\n  { jobId, jobPriority, jobRank :: !Int\n"
        "  , jobName :: String\n  }\n")})
    text = only_phase_text(mutation_for(idx, "jobPriority", ChangeKind.CHANGE_FIELD_TYPE))
    assert ("  { jobId :: !Int, jobPriority :: !(ScoutOracleHelpers.ScoutOpaque (Int)), "
            "jobRank :: !Int\n") in text


def test_removing_a_constructor_after_haddock_comments(tmp_path: Path) -> None:
    idx = index_of(tmp_path, {"E.hs": (
        "module E where\n\ndata E\n  = -- | trivial\n    Trivial Int\n  | -- | fancy,\n"
        "    -- more\n    Fancy Int\n  deriving Show\n\nf :: E -> Int\nf (Fancy n) = n\n"
        "f (Trivial n) = n\n")})
    removal = mutation_for(idx, "Fancy", ChangeKind.REMOVE_CONSTRUCTOR)
    text = removal.phases[1].edits[0].mutated
    # The bar before the Haddock comment goes with the constructor: no dangling `|`.
    assert "data E\n  = -- | trivial\n    Trivial Int\n  \n  deriving Show\n" in text
    first = mutation_for(idx, "Trivial", ChangeKind.REMOVE_CONSTRUCTOR).phases[1].edits[0].mutated
    assert "data E\n  = -- | trivial\n    \n    -- more\n    Fancy Int\n  deriving Show\n" in first


def test_a_newtype_field_removal_has_no_arity_phase(tmp_path: Path) -> None:
    idx = index_of(tmp_path, {"N.hs": (
        "module N where\n\nnewtype Z m = Z { getZ :: m Int }\n\nrun :: Z Maybe -> Maybe Int\n"
        "run (Z m) = m\n")})
    phases = [p.purpose for p in mutation_for(idx, "getZ", ChangeKind.REMOVE_FIELD).phases]
    # Its one value stays: `Z m` keeps compiling, so no phase changes the value's type either.
    assert "positional patterns and constructions (arity changes)" not in phases
    assert "positional constructions and patterns (field type changed)" not in phases


def test_removing_a_newtype_field_removes_only_its_name(tmp_path: Path) -> None:
    src = ("module T where\nnewtype N m a = N\n  { runN :: m a -- ^ the value\n  }\n\n"
           "go :: N m a -> m a\ngo = runN\n")
    m = mutation_for(index_of(tmp_path, {"T.hs": src}), "runN", ChangeKind.REMOVE_FIELD)
    assert m.summary == "remove the name of field runN (N keeps its one value)"
    purposes = [p.purpose for p in m.phases]
    assert not any("positional" in p or "arity" in p for p in purposes)  # `N x` still compiles
    removal = next(p for p in m.phases if "removal errors" in p.purpose).edits[0].mutated
    assert removal.startswith("module T where\nnewtype N m a = N\n  (m a)\n\ngo :: N m a")


def test_a_data_field_removal_still_changes_the_arity(tmp_path: Path) -> None:
    src = "module T where\ndata R = R { a :: Int, b :: Int }\n\ng :: R -> Int\ng = a\n"
    m = mutation_for(index_of(tmp_path, {"T.hs": src}), "a", ChangeKind.REMOVE_FIELD)
    assert m.summary == "remove field a"
    assert any("arity" in p.purpose for p in m.phases)


@pytest.mark.parametrize(("decl", "stand_in"), [
    # The holder's last parameter stays an argument of the stand-in (derived Functor works).
    ("data C a = C { f :: Maybe a }", "ScoutOracleHelpers.ScoutOpaque (Maybe) a"),
    ("newtype X a = X { f :: (StateT Int IO a) }",
     "ScoutOracleHelpers.ScoutOpaque (StateT Int IO) a"),
    ("data C a = C { f :: [a] }", "ScoutOracleHelpers.ScoutOpaque [] (a)"),
    ("newtype C a = C { f :: a }",
     "ScoutOracleHelpers.ScoutOpaque ScoutOracleHelpers.ScoutSame a"),
    ("data C a = C { f :: M.Map Int a }", "ScoutOracleHelpers.ScoutOpaque (M.Map Int) a"),
    # Otherwise the whole type goes under the stand-in.
    ("data C a = C { f :: Int -> a }", "ScoutOracleHelpers.ScoutOpaque (Int -> a)"),
    ("data C a = C { f :: Either a Int }", "ScoutOracleHelpers.ScoutOpaque (Either a Int)"),
    ("data C = C { f :: Maybe Int }", "ScoutOracleHelpers.ScoutOpaque (Maybe Int)"),
    # A polymorphic field keeps its quantifier and context outside (no impredicative type).
    ("newtype C m r = C { f :: forall b. Show b => (r -> m b) -> m b }",
     "forall b. Show b => (ScoutOracleHelpers.ScoutOpaque ( (r -> m b) -> m b))"),
])
def test_the_field_type_stand_in_keeps_the_last_parameter_outside(
        tmp_path: Path, decl: str, stand_in: str) -> None:
    idx = index_of(tmp_path, {"T.hs": f"module T where\n{decl}\n"})
    m = mutation_for(idx, "f", ChangeKind.CHANGE_FIELD_TYPE)
    assert f"f :: ({stand_in})" in only_phase_text(m)


def test_the_helper_import_stays_out_of_preprocessor_branches(tmp_path: Path) -> None:
    src = ("{-# LANGUAGE CPP #-}\nmodule T (R(..)) where\n\n#if !MIN_VERSION_base(4,8,0)\n"
           "#ifdef X\nimport A\n#endif\nimport Control.Applicative\n#endif\nimport Data.List\n\n"
           "data R = R { f :: Int }\n")
    text = only_phase_text(mutation_for(index_of(tmp_path, {"T.hs": src}), "f",
                                        ChangeKind.CHANGE_FIELD_TYPE))
    assert "where\n\nimport qualified ScoutOracleHelpers\n#if !MIN_VERSION_base" in text

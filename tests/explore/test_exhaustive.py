"""The pattern-matrix exhaustiveness check: small cases, properties against a brute-force
matcher over every value of bounded depth, and a batch of random matrices judged by real GHC."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from haskell_universe import (
    BOOL,
    COLUMN_TYPES,
    HASKELL_DECLS,
    INT_LITERALS,
    REC,
    T,
    constructors,
    contains,
    first_covering_row,
    haskell_type,
    matches,
    matrices,
    patterns,
    value_at,
    values,
    vectors,
    workspace_lookup,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scout.explore.exhaustive import (
    ConstructorSet,
    MatchShapeError,
    PatternCheckGaveUp,
    analyse_rows,
    builtin_constructor_set,
    missing_patterns,
    render_pattern,
    render_witness,
    verdict_for_added_constructor,
)
from scout.haskell.model import (
    WILDCARD,
    MatchKind,
    MatchRow,
    MatchSite,
    PatKind,
    Pattern,
    Span,
)

W = WILDCARD


def C(name: str, *args: Pattern) -> Pattern:
    return Pattern(PatKind.CON, name, args)


def V(binder: str) -> Pattern:
    return Pattern(PatKind.WILD, binder=binder)


def L(text: str) -> Pattern:
    return Pattern(PatKind.LIT, text)


def R(name: str, **fields: Pattern) -> Pattern:
    return Pattern(PatKind.CON, name, (), tuple(fields.items()))


def rows_of(*patterns: Pattern | tuple[Pattern, ...], guarded: tuple[int, ...] = ()
            ) -> list[MatchRow]:
    out = []
    for i, p in enumerate(patterns, start=1):
        pats = p if isinstance(p, tuple) else (p,)
        out.append(MatchRow(pats, i in guarded, i))
    return out


def site_of(rows: list[MatchRow], kind: MatchKind = MatchKind.CASE) -> MatchSite:
    return MatchSite(kind, "src/M.hs", Span(1, 0, len(rows) + 1, 0), "f", "f", tuple(rows))


LLM = ConstructorSet("LLMKind", (("Sonnet", 0, ()), ("Opus", 0, ()), ("Haiku", 0, ())))
CONFIG = ConstructorSet("Config", (("Config", 3, ("name", "kind", "cost")),))
EXPR = ConstructorSet("Expr", (("Lit", 1, ()), ("Add", 2, ()), ("Neg", 1, ()),
                               ("IfZero", 3, ())))
SETS = [LLM, CONFIG, EXPR]


def lookup(con: str) -> ConstructorSet | None:
    return next((cs for cs in SETS if con in cs.names()), None)


def witnesses(rows: list[MatchRow], lk=lookup) -> list[str]:
    return [render_witness(w) for w in missing_patterns(rows, lk)]


# --- missing patterns ----------------------------------------------------------------------------
def test_every_constructor_listed_is_exhaustive() -> None:
    assert witnesses(rows_of(C("Sonnet"), C("Opus"), C("Haiku"))) == []


def test_missing_constructor_is_the_witness() -> None:
    assert witnesses(rows_of(C("Sonnet"), C("Haiku"))) == ["Opus"]


def test_no_rows_at_all_misses_everything() -> None:
    assert witnesses([]) == ["_"]


def test_wildcard_and_variable_rows_cover() -> None:
    assert witnesses(rows_of(C("Sonnet"), W)) == []
    assert witnesses(rows_of(C("Sonnet"), V("k"))) == []


def test_exhaustive_maybe_column_is_not_reported() -> None:
    # The false positive a single-type check made: a Maybe column needs Maybe's set too.
    assert witnesses(rows_of(C("Nothing"), C("Just", V("x")))) == []
    assert witnesses(rows_of(C("Just", V("x")))) == ["Nothing"]


def test_nested_patterns_are_checked_at_depth() -> None:
    rows = rows_of(C("Just", C("Sonnet")), C("Just", C("Opus")), C("Nothing"))
    assert witnesses(rows) == ["Just Haiku"]
    rows = rows_of(C("Just", C("Just", C("Sonnet"))), C("Just", C("Nothing")), C("Nothing"))
    assert witnesses(rows) == ["Just (Just Opus)", "Just (Just Haiku)"]


def test_either_and_tuples() -> None:
    assert witnesses(rows_of(C("Left", W), C("Right", C("True")))) == ["Right False"]
    rows = rows_of(C("(,)", C("True"), W), C("(,)", W, C("Sonnet")))
    assert witnesses(rows) == ["(False, Opus)", "(False, Haiku)"]
    assert witnesses(rows_of(C("(,,)", W, W, W))) == []


def test_lists() -> None:
    assert witnesses(rows_of(C("[]"), C(":", V("x"), V("xs")))) == []
    rows = rows_of(C("[]"), C(":", V("x"), C("[]")))
    assert witnesses(rows) == ["_ : _ : _"]
    rows = rows_of(C(":", C("Sonnet"), W), C("[]"))
    assert witnesses(rows) == ["Opus : _", "Haiku : _"]


def test_literals_never_cover_their_type() -> None:
    assert witnesses(rows_of(L("0"), L("1"))) == ["_"]
    assert witnesses(rows_of(L("0"), W)) == []
    assert witnesses(rows_of(L('"abc"'), C("[]"), C(":", W, W))) == []
    assert witnesses(rows_of(L('"abc"'), C("[]"))) == ["_ : _"]


def test_multi_column_function_group() -> None:
    both = [MatchRow((C("True"), C("True")), False, 1), MatchRow((W, W), False, 2)]
    assert witnesses(both) == []
    rows = [MatchRow((C("True"), W), False, 1), MatchRow((W, C("Sonnet")), False, 2)]
    assert witnesses(rows) == ["False Opus", "False Haiku"]


def test_guarded_rows_do_not_cover() -> None:
    rows = rows_of(C("Sonnet"), C("Opus"), C("Haiku"), guarded=(2,))
    assert witnesses(rows) == ["Opus"]
    assert witnesses(rows_of(W, guarded=(1,))) == ["_"]


def test_opaque_covers_nothing() -> None:
    rows = rows_of(Pattern(PatKind.OPAQUE, "view -> Just x"), C("Nothing"))
    assert witnesses(rows) == ["Just _"]


def test_records_map_fields_to_positions() -> None:
    all_kinds = rows_of(R("Config", kind=C("Sonnet")), R("Config", kind=C("Opus")),
                        R("Config", kind=C("Haiku")))
    assert witnesses(all_kinds) == []
    rows = rows_of(R("Config", kind=C("Sonnet"), cost=L("0")), R("Config", kind=C("Opus")))
    assert witnesses(rows) == ["Config _ Haiku _", "Config _ Sonnet _"]
    assert witnesses(rows_of(R("Config"))) == []  # `Config {}` / `Config {..}`
    mixed = rows_of(C("Config", W, C("Sonnet"), W), R("Config", kind=C("Opus")),
                    R("Config", kind=C("Haiku")))
    assert witnesses(mixed) == []


def test_record_with_a_field_the_index_does_not_know_covers_nothing() -> None:
    analysis = analyse_rows(rows_of(R("Config", colour=C("Sonnet"))), lookup)
    assert not analysis.exhaustive
    assert any("no field colour" in a for a in analysis.assumptions)


def test_record_patterns_on_external_constructor_use_the_named_fields() -> None:
    rows = rows_of(R("Ext", on=C("True")), R("Ext", on=C("False")))
    assert witnesses(rows) == []
    assert witnesses(rows_of(R("Ext", on=C("True")))) == ["Ext False"]


def test_gadt_like_set_with_mixed_arities() -> None:
    rows = rows_of(C("Lit", V("n")), C("Add", V("a"), V("b")), C("Neg", C("Lit", L("0"))),
                   C("Neg", V("e")), C("IfZero", V("c"), V("t"), V("e")))
    assert witnesses(rows) == []
    rows = rows_of(C("Lit", V("n")), C("Add", W, W), C("Neg", C("Lit", W)))
    assert witnesses(rows) == ["IfZero _ _ _", "Neg (Add _ _)", "Neg (Neg _)",
                               "Neg (IfZero _ _ _)"]


def test_gadt_index_refinement_is_not_modelled() -> None:
    # `evalInt :: Expr Int -> Int` may omit a Bool-indexed constructor; we cannot know that,
    # so the site looks already incomplete and adding a constructor does not "break" it.
    gadt = ConstructorSet("E", (("IntE", 1, ()), ("BoolE", 1, ()), ("AddE", 2, ())))
    rows = rows_of(C("IntE", W), C("AddE", W, W))
    verdict = verdict_for_added_constructor(site_of(rows), "E", lambda c: gadt
                                            if c in gadt.names() else None)
    assert verdict is not None
    assert verdict.already_incomplete and not verdict.breaks
    assert verdict.missing_before == ("BoolE _",)


def test_unknown_external_type_assumes_the_named_constructors_are_complete() -> None:
    analysis = analyse_rows(rows_of(C("Foo", W), C("Bar")), lambda c: None)
    assert analysis.exhaustive
    assert any("assumed the constructors the match names are the complete set" in a
               for a in analysis.assumptions)
    nested = analyse_rows(rows_of(C("Foo", C("Just", W)), C("Bar")), lambda c: None)
    assert [render_witness(w) for w in nested.witnesses] == ["Foo Nothing"]


def test_unknown_constructor_in_a_known_column_covers_nothing() -> None:
    # e.g. a pattern synonym without a COMPLETE pragma next to real constructors.
    analysis = analyse_rows(rows_of(C("Sonnet"), C("Opus"), C("Big")), lookup)
    assert [render_witness(w) for w in analysis.witnesses] == ["Haiku"]
    assert any("Big in a column of type LLMKind" in a for a in analysis.assumptions)


def test_workspace_name_among_unknown_constructors_is_a_name_clash() -> None:
    # pandoc defines its own `Table`; the column is pandoc-types' Block, matched in full.
    table = ConstructorSet("LuaThing", (("Table", 0, ()), ("Other", 0, ())))

    def lk(c: str) -> ConstructorSet | None:
        return table if c in table.names() else None

    rows = rows_of(C("Para", W), C("Plain", W), C("Table", W, W), C("Div", W, W))
    analysis = analyse_rows(rows, lk)
    assert analysis.exhaustive
    assert any("name clash with an external type" in a for a in analysis.assumptions)
    assert verdict_for_added_constructor(site_of(rows), "LuaThing", lk) is None
    # …but a real LuaThing match still counts, pattern synonyms beside it or not.
    verdict = verdict_for_added_constructor(site_of(rows_of(C("Table"), C("Other"), C("Syn"))),
                                            "LuaThing", lk)
    assert verdict is not None and verdict.breaks


def test_qualified_constructor_names() -> None:
    assert witnesses(rows_of(C("M.Just", W), C("Data.Maybe.Nothing"))) == []
    assert witnesses(rows_of(C("T.Sonnet"), C("T.Opus"))) == ["Haiku"]


def test_index_arity_disagreeing_with_every_pattern_trusts_the_patterns() -> None:
    wrong = ConstructorSet("K", (("K1", 2, ()), ("K2", 0, ())))
    analysis = analyse_rows(rows_of(C("K1", W), C("K2")),
                            lambda c: wrong if c in wrong.names() else None)
    assert analysis.exhaustive
    assert any("trusted the patterns" in a for a in analysis.assumptions)


def test_workspace_lookup_wins_over_the_prelude_table() -> None:
    own = ConstructorSet("Maybe", (("Nothing", 0, ()), ("Just", 1, ()), ("Both", 2, ())))
    assert [render_witness(w) for w in missing_patterns(
        rows_of(C("Nothing"), C("Just", W)), lambda c: own if c in own.names() else None)
    ] == ["Both _ _"]


def test_lookup_answer_that_omits_the_constructor_is_ignored_and_recorded() -> None:
    analysis = analyse_rows(rows_of(C("Sonnet"), C("Opus")), lambda c: CONFIG)
    assert analysis.exhaustive  # fell back to "unknown type", which assumes completeness
    assert any("does not list it" in a for a in analysis.assumptions)


def test_rows_of_different_widths_are_rejected() -> None:
    rows = [MatchRow((W,), False, 1), MatchRow((W, W), False, 2)]
    with pytest.raises(MatchShapeError, match="line 1: 1, line 2: 2"):
        missing_patterns(rows, lookup)


def test_witness_limit() -> None:
    big = ConstructorSet("Big", tuple((f"K{i}", 0, ()) for i in range(40)))
    rows = rows_of(C("K0"))
    found = missing_patterns(rows, lambda c: big if c in big.names() else None,
                             max_witnesses=5)
    assert [render_witness(w) for w in found] == ["K1", "K2", "K3", "K4", "K5"]


def test_step_budget_gives_up_loudly() -> None:
    width = 12
    rows = [MatchRow(tuple(C("True") if j == i else W for j in range(width)), False, i)
            for i in range(width)]
    rows.append(MatchRow(tuple(C("False") for _ in range(width)), False, width))
    assert missing_patterns(rows, lookup) == []  # decidable with the default budget
    with pytest.raises(PatternCheckGaveUp, match="gave up after 20 steps"):
        missing_patterns(rows, lookup, max_steps=20)
    verdict = verdict_for_added_constructor(site_of(rows, MatchKind.FUNCTION), "Bool", lookup,
                                            max_steps=20)
    assert verdict is not None and not verdict.decided
    assert any("gave up" in a for a in verdict.assumptions)


def test_wide_exhaustive_matrix_finishes() -> None:
    # Every combination of 10 Bool columns with the last row a catch-all: the memo keeps
    # the search linear in the number of distinct sub-matrices.
    width = 10
    rows = [MatchRow(tuple(C("True") if (i >> j) & 1 else C("False") for j in range(width)),
                     False, i) for i in range(2 ** width)]
    assert missing_patterns(rows, lookup) == []


# --- verdicts for an added constructor ------------------------------------------------------------
def test_verdict_full_enumeration_breaks() -> None:
    verdict = verdict_for_added_constructor(site_of(rows_of(C("Sonnet"), C("Opus"), C("Haiku"))),
                                            "LLMKind", lookup)
    assert verdict is not None
    assert verdict.breaks and not verdict.already_incomplete
    assert verdict.absorbed_by_lines == ()
    assert verdict.witnesses == ("<new LLMKind constructor>",)


def test_verdict_names_the_new_constructor_when_given() -> None:
    verdict = verdict_for_added_constructor(
        site_of(rows_of(C("Just", C("Sonnet")), C("Just", C("Opus")), C("Just", C("Haiku")),
                        C("Nothing"))), "LLMKind", lookup, new_constructor="Gemini")
    assert verdict is not None and verdict.breaks
    assert verdict.witnesses == ("Just Gemini",)


def test_verdict_catch_all_absorbs() -> None:
    verdict = verdict_for_added_constructor(site_of(rows_of(C("Sonnet"), V("other"))),
                                            "LLMKind", lookup)
    assert verdict is not None
    assert not verdict.breaks and not verdict.already_incomplete
    assert verdict.absorbed_by_lines == (2,)
    assert verdict.witnesses == ()


def test_verdict_nested_catch_all_absorbs() -> None:
    rows = rows_of(C("Just", C("Sonnet")), C("Just", W), C("Nothing"))
    verdict = verdict_for_added_constructor(site_of(rows), "LLMKind", lookup)
    assert verdict is not None and not verdict.breaks
    assert verdict.absorbed_by_lines == (2,)


def test_verdict_guarded_catch_all_neither_covers_nor_absorbs() -> None:
    rows = rows_of(C("Sonnet"), C("Opus"), C("Haiku"), W, guarded=(4,))
    verdict = verdict_for_added_constructor(site_of(rows), "LLMKind", lookup)
    assert verdict is not None and verdict.breaks
    assert verdict.absorbed_by_lines == ()


def test_verdict_already_incomplete_still_lists_the_new_constructor() -> None:
    verdict = verdict_for_added_constructor(site_of(rows_of(C("Sonnet"), C("Opus"))),
                                            "LLMKind", lookup)
    assert verdict is not None
    assert not verdict.breaks and verdict.already_incomplete
    assert verdict.missing_before == ("Haiku",)
    assert verdict.witnesses == ("<new LLMKind constructor>",)


def test_verdict_none_when_site_does_not_scrutinise_the_type() -> None:
    assert verdict_for_added_constructor(site_of(rows_of(C("Just", W), C("Nothing"))),
                                         "LLMKind", lookup) is None
    assert verdict_for_added_constructor(site_of(rows_of(W)), "LLMKind", lookup) is None


def test_verdict_accepts_a_qualified_type_name() -> None:
    verdict = verdict_for_added_constructor(site_of(rows_of(C("Sonnet"), W)), "Types.LLMKind",
                                            lookup)
    assert verdict is not None and verdict.absorbed_by_lines == (2,)


def test_verdict_multi_column_partial_absorption() -> None:
    # f Sonnet True = …; f _ False = …; f Opus _ = …; f Haiku _ = …
    rows = [MatchRow((C("Sonnet"), C("True")), False, 1),
            MatchRow((W, C("False")), False, 2),
            MatchRow((C("Opus"), W), False, 3),
            MatchRow((C("Haiku"), W), False, 4)]
    verdict = verdict_for_added_constructor(site_of(rows, MatchKind.FUNCTION), "LLMKind", lookup)
    assert verdict is not None
    assert verdict.breaks
    assert verdict.witnesses == ("<new LLMKind constructor> True",)
    assert verdict.absorbed_by_lines == (2,)


def test_verdict_row_shadowed_by_earlier_catch_all_does_not_absorb() -> None:
    rows = rows_of(C("Sonnet"), W, V("late"))
    verdict = verdict_for_added_constructor(site_of(rows), "LLMKind", lookup)
    assert verdict is not None and verdict.absorbed_by_lines == (2,)


def test_verdict_for_record_field_of_the_type() -> None:
    rows = rows_of(R("Config", kind=C("Sonnet")), R("Config", kind=C("Opus")),
                   R("Config", kind=C("Haiku")))
    verdict = verdict_for_added_constructor(site_of(rows), "LLMKind", lookup)
    assert verdict is not None and verdict.breaks
    assert verdict.witnesses == ("Config _ <new LLMKind constructor> _",)


def test_verdict_for_a_prelude_type() -> None:
    # Nobody adds to Bool, but the mechanics are type-agnostic.
    verdict = verdict_for_added_constructor(site_of(rows_of(C("True"), C("False"))), "Bool",
                                            lookup)
    assert verdict is not None and verdict.breaks


def test_verdict_rejects_inconsistent_rows() -> None:
    rows = [MatchRow((C("Sonnet"),), False, 1), MatchRow((W, W), False, 2)]
    with pytest.raises(MatchShapeError):
        verdict_for_added_constructor(site_of(rows), "LLMKind", lookup)


# --- rendering --------------------------------------------------------------------------------
@pytest.mark.parametrize(("pattern", "text"), [
    (W, "_"),
    (V("x"), "x"),
    (L("-1"), "-1"),
    (C("Nothing"), "Nothing"),
    (C("Just", C("Just", W)), "Just (Just _)"),
    (C("(,)", C("Just", W), W), "(Just _, _)"),
    (C("()"), "()"),
    (C("[]"), "[]"),
    (C(":", V("x"), C(":", V("y"), C("[]"))), "[x, y]"),
    (C(":", V("x"), V("xs")), "x : xs"),
    (C("Just", C(":", W, W)), "Just (_ : _)"),
    (C(":|", V("x"), V("xs")), "x :| xs"),
    (C("Just", C(":|", W, W)), "Just (_ :| _)"),
    (C(":|"), "(:|)"),
    (R("Config", kind=C("Opus"), cost=L("0")), "Config {kind = Opus, cost = 0}"),
    (R("Config"), "Config {}"),
    (Pattern(PatKind.OPAQUE, "view -> Just x"), "view -> Just x"),
    (C("Just", Pattern(PatKind.OPAQUE, "view -> x")), "Just (view -> x)"),
])
def test_render_pattern(pattern: Pattern, text: str) -> None:
    assert render_pattern(pattern) == text


def test_render_witness_parenthesises_columns() -> None:
    assert render_witness((C("Just", W), C("Sonnet"))) == "(Just _) Sonnet"
    assert render_witness((C("Just", W),)) == "Just _"


def test_builtin_sets() -> None:
    assert builtin_constructor_set("(,,,)") == ConstructorSet("(,,,)", (("(,,,)", 4, ()),))
    bool_set = builtin_constructor_set("True")
    assert bool_set is not None and bool_set.names() == ("False", "True")
    assert builtin_constructor_set("Sonnet") is None


# --- properties against brute force -----------------------------------------------------------
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                             suppress_health_check=[HealthCheck.too_slow])


def brute_force_exhaustive(columns, rows, *, extended: bool = False) -> bool:
    return all(first_covering_row(rows, v) is not None
               for v in vectors(columns, extended=extended))


@PROPERTY_SETTINGS
@given(matrices())
def test_property_agrees_with_brute_force(matrix) -> None:
    columns, rows = matrix
    analysis = analyse_rows(rows, workspace_lookup)
    assert analysis.exhaustive == brute_force_exhaustive(columns, rows)


@PROPERTY_SETTINGS
@given(matrices())
def test_property_witnesses_are_real(matrix) -> None:
    columns, rows = matrix
    if not rows:  # an empty case: one column, unknown type
        assert missing_patterns(rows, workspace_lookup) == [(W,)]
        return
    for witness in missing_patterns(rows, workspace_lookup):
        instances = [v for v in vectors(columns)
                     if all(matches(p, x) for p, x in zip(witness, v, strict=True))]
        assert instances, f"witness {render_witness(witness)} matches no value"
        assert any(first_covering_row(rows, v) is None for v in instances), (
            f"every value of witness {render_witness(witness)} is covered")


@PROPERTY_SETTINGS
@given(matrices(), st.data())
def test_property_all_wildcard_row_is_always_exhaustive(matrix, data) -> None:
    columns, rows = matrix
    position = data.draw(st.integers(0, len(rows)))
    catch_all = MatchRow(tuple(W for _ in columns), False, 99)
    assert missing_patterns(rows[:position] + [catch_all] + rows[position:],
                            workspace_lookup) == []


@PROPERTY_SETTINGS
@given(matrices(), st.data())
def test_property_adding_rows_never_breaks_exhaustiveness(matrix, data) -> None:
    columns, rows = matrix
    if missing_patterns(rows, workspace_lookup):
        return
    extra = [MatchRow(tuple(data.draw(patterns(ty)) for ty in columns), data.draw(st.booleans()),
                      50)]
    position = data.draw(st.integers(0, len(rows)))
    assert missing_patterns(rows[:position] + extra + rows[position:], workspace_lookup) == []


@PROPERTY_SETTINGS
@given(matrices(), st.randoms(use_true_random=False))
def test_property_row_order_does_not_change_exhaustiveness(matrix, rnd) -> None:
    _, rows = matrix
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    assert (missing_patterns(rows, workspace_lookup) == []) == (
        missing_patterns(shuffled, workspace_lookup) == [])


def _t_positions(rows):
    """Paths where some row names a constructor of T: (column, ((constructor, arg), …))."""
    found = set()

    def walk(p, col, path):
        if p.kind is not PatKind.CON:
            return
        if p.name in ("A", "B", "C"):
            found.add((col, path))
        if p.fields is not None:
            layout = ("fa", "fb")
            for f, sub in p.fields:
                walk(sub, col, path + ((p.name, layout.index(f)),))
        for j, sub in enumerate(p.args):
            walk(sub, col, path + ((p.name, j),))

    for row in rows:
        for col, p in enumerate(row.patterns):
            walk(p, col, ())
    return found


@PROPERTY_SETTINGS
@given(matrices())
def test_property_verdict_agrees_with_brute_force(matrix) -> None:
    columns, rows = matrix
    site = site_of(rows, MatchKind.FUNCTION)
    verdict = verdict_for_added_constructor(site, "T", workspace_lookup, new_constructor="D")
    positions = _t_positions(rows)
    if not positions:
        assert verdict is None
        return
    assert verdict is not None and verdict.decided
    before = brute_force_exhaustive(columns, rows)
    after = brute_force_exhaustive(columns, rows, extended=True)
    assert verdict.already_incomplete == (not before)
    assert verdict.breaks == (before and not after)
    assert bool(verdict.witnesses) == (not after)
    absorbing = set()
    for v in vectors(columns, extended=True):
        if not any(value_at(v[col], steps) is not None and value_at(v[col], steps)[0] == "D"
                   for col, steps in positions):
            continue
        row = first_covering_row(rows, v)
        if row is not None:
            absorbing.add(row.line)
    assert set(verdict.absorbed_by_lines) == absorbing


def test_universe_enumerates_the_fresh_constructor() -> None:
    assert ("D", ()) in values(T, extended=True)
    assert any(contains(v, "D") for v in values(REC, extended=True))
    assert len(values(BOOL)) == 2


# --- real GHC ----------------------------------------------------------------------------------
def _random_pattern(rng: random.Random, ty, depth: int = 2) -> Pattern:
    if ty[0] == "Int":
        return W if rng.random() < 0.4 else L(rng.choice(INT_LITERALS))
    if depth == 0 or rng.random() < 0.3:
        return W
    con, arg_types = rng.choice(constructors(ty))
    if con == ":" and depth < 2:
        return W
    if con == "Rec" and rng.random() < 0.5:
        chosen = [f for f in ("fa", "fb") if rng.random() < 0.6]
        return R("Rec", **{f: _random_pattern(rng, T if f == "fa" else BOOL, depth - 1)
                          for f in chosen})
    return C(con, *(_random_pattern(rng, a, depth - 1) for a in arg_types))


def _random_matrix(rng: random.Random):
    columns = tuple(rng.choice(COLUMN_TYPES) for _ in range(rng.randint(1, 3)))
    rows = []
    for i in range(rng.randint(1, 6)):
        pats = tuple(_random_pattern(rng, ty) for ty in columns)
        rows.append(MatchRow(pats, rng.random() < 0.15, i + 1))
    if rng.random() < 0.5:
        # Complete half of them with the missing patterns our checker reports, so explicit
        # full enumerations (the ones a new constructor breaks) are common; GHC judges them.
        for _ in range(3):
            found = missing_patterns(rows, workspace_lookup, max_witnesses=4)
            rows += [MatchRow(w, False, len(rows) + 1) for w in found]
    return columns, rows


def _haskell_module(matrices_: list, extended: bool) -> tuple[str, list[tuple[int, int]]]:
    lines = ["module M where", ""]
    lines += HASKELL_DECLS.format(extra=" | D" if extended else "").splitlines()
    spans = []
    for n, (columns, rows) in enumerate(matrices_):
        lines.append("")
        start = len(lines) + 1
        sig = " -> ".join(haskell_type(ty) for ty in columns)
        lines.append(f"f{n} :: {sig} -> Int")
        for row in rows:
            args = " ".join(render_pattern(p) if p.kind is PatKind.WILD and not p.binder
                            else f"({render_pattern(p)})" for p in row.patterns)
            guard = " | g" if row.guarded else ""
            lines.append(f"f{n} {args}{guard} = 0")
        spans.append((start, len(lines)))
    return "\n".join(lines) + "\n", spans


def _ghc_incomplete(source: str, spans: list[tuple[int, int]], workdir: Path) -> set[int]:
    path = workdir / "M.hs"
    path.write_text(source)
    proc = subprocess.run(
        ["ghc", "-fno-code", "-w", "-Wincomplete-patterns", "-fmax-pmcheck-models=1000",
         "-outputdir", str(workdir / "out"), str(path)],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    flagged = set()
    for m in re.finditer(r"M\.hs:(\d+):\d+.*warning:.*\[-Wincomplete-patterns\]", proc.stderr):
        line = int(m.group(1))
        flagged.update(n for n, (a, b) in enumerate(spans) if a <= line <= b)
    return flagged


@pytest.mark.ghc
@pytest.mark.skipif(shutil.which("ghc") is None, reason="needs GHC: apt-get install ghc")
def test_agrees_with_ghc_on_random_matrices(tmp_path: Path) -> None:
    rng = random.Random(20261121)
    generated = [_random_matrix(rng) for _ in range(250)]
    source_before, spans = _haskell_module(generated, extended=False)
    source_after, spans_after = _haskell_module(generated, extended=True)
    ghc_before = _ghc_incomplete(source_before, spans, tmp_path)
    ghc_after = _ghc_incomplete(source_after, spans_after, tmp_path)
    assert 30 < len(ghc_before) < 220, "the generator should produce both outcomes"
    assert len(ghc_after - ghc_before) > 20, "many matrices must break when D is added"

    ours_before, ours_after, disagreements = set(), set(), []
    for n, (_, rows) in enumerate(generated):
        if missing_patterns(rows, workspace_lookup):
            ours_before.add(n)
        verdict = verdict_for_added_constructor(site_of(rows, MatchKind.FUNCTION), "T",
                                                workspace_lookup, new_constructor="D")
        incomplete_after = (n in ours_before) if verdict is None else (
            verdict.breaks or verdict.already_incomplete)
        if incomplete_after:
            ours_after.add(n)
        if (n in ours_before) != (n in ghc_before) or incomplete_after != (n in ghc_after):
            disagreements.append(source_before.splitlines()[spans[n][0] - 1: spans[n][1]])
    assert not disagreements, disagreements[:3]
    assert ours_before == ghc_before and ours_after == ghc_after


# --- the lookup over a real index -----------------------------------------------------------
def test_constructor_lookup_prefers_the_type_in_scope(tmp_path) -> None:
    from scout.explore.exhaustive import constructor_lookup
    from scout.haskell.index import WorkspaceIndex

    (tmp_path / "A.hs").write_text("module A where\ndata Dir = U | D | L | R\n")
    (tmp_path / "B.hs").write_text("module B where\ndata Flip = U Int | D\n")
    (tmp_path / "C.hs").write_text(
        "module C where\nimport B\n\nf :: Flip -> Int\nf (U n) = n\nf D = 0\n")
    (tmp_path / "Rec.hs").write_text(
        "module Rec where\ndata P = P { px :: Int, py :: Int } | Q\n")
    index = WorkspaceIndex.build(tmp_path, use_cache=False)
    in_a = constructor_lookup(index, path="A.hs")("U")
    assert in_a == ConstructorSet("Dir", (("U", 0, ()), ("D", 0, ()), ("L", 0, ()),
                                          ("R", 0, ())))
    in_c = constructor_lookup(index, path="C.hs")("U")
    assert in_c == ConstructorSet("Flip", (("U", 1, ()), ("D", 0, ())))
    assert constructor_lookup(index)("P") == ConstructorSet("P", (("P", 2, ("px", "py")),
                                                                  ("Q", 0, ())))
    assert constructor_lookup(index)("Nope") is None
    site = next(s for s in index.files["C.hs"].match_sites if s.name == "f")
    verdict = verdict_for_added_constructor(site, "Flip",
                                            constructor_lookup(index, path=site.path))
    assert verdict is not None and verdict.breaks
    assert verdict_for_added_constructor(site, "Dir",
                                         constructor_lookup(index, path=site.path)) is None

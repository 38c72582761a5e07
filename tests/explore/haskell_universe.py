"""A small universe of Haskell types for testing the exhaustiveness checker three ways:
hypothesis strategies that draw well-typed pattern matrices, a brute-force matcher over every
value of bounded depth (the reference semantics), and Haskell source rendering so GHC itself
can judge the same matrices.

Types are tuples: ("T",), ("Maybe", ("T",)), ("Tuple", a, b), ("List", a), ("Int",) …
``T`` is the type the tests extend with a fresh constructor ``D``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence

from hypothesis import strategies as st

from scout.explore.exhaustive import ConstructorSet
from scout.haskell.model import WILDCARD, MatchRow, PatKind, Pattern

Ty = tuple

T: Ty = ("T",)
BOOL: Ty = ("Bool",)
INT: Ty = ("Int",)
U: Ty = ("U",)
REC: Ty = ("Rec",)

WORKSPACE_SETS = {
    "T": ConstructorSet("T", (("A", 0, ()), ("B", 0, ()), ("C", 0, ()))),
    "U": ConstructorSet("U", (("P", 1, ()), ("Q", 0, ()), ("R", 2, ()))),
    "Rec": ConstructorSet("Rec", (("Rec", 2, ("fa", "fb")),)),
}
HASKELL_DECLS = """\
data T = A | B | C{extra}
data U = P T | Q | R T T
data Rec = Rec {{ fa :: T, fb :: Bool }}

g :: Bool
g = True
{{-# NOINLINE g #-}}
"""
INT_LITERALS = ("0", "1", "2")
INT_OTHER = "99"  # a value no generated literal matches


def workspace_lookup(con: str) -> ConstructorSet | None:
    for cs in WORKSPACE_SETS.values():
        if con in cs.names():
            return cs
    return None


def constructors(ty: Ty, *, extended: bool = False) -> list[tuple[str, tuple[Ty, ...]]]:
    """(constructor, argument types) of a type; ``extended`` adds ``D`` to ``T``."""
    head = ty[0]
    if head == "T":
        return [("A", ()), ("B", ()), ("C", ())] + ([("D", ())] if extended else [])
    if head == "U":
        return [("P", (T,)), ("Q", ()), ("R", (T, T))]
    if head == "Rec":
        return [("Rec", (T, BOOL))]
    if head == "Bool":
        return [("False", ()), ("True", ())]
    if head == "Maybe":
        return [("Nothing", ()), ("Just", (ty[1],))]
    if head == "Either":
        return [("Left", (ty[1],)), ("Right", (ty[2],))]
    if head == "Tuple":
        return [("(,)", (ty[1], ty[2]))]
    if head == "List":
        return [("[]", ()), (":", (ty[1], ty))]
    raise ValueError(ty)


def haskell_type(ty: Ty) -> str:
    head = ty[0]
    if head in ("T", "U", "Rec", "Bool", "Int"):
        return head
    if head == "Maybe":
        return f"(Maybe {haskell_type(ty[1])})"
    if head == "Either":
        return f"(Either {haskell_type(ty[1])} {haskell_type(ty[2])})"
    if head == "Tuple":
        return f"({haskell_type(ty[1])}, {haskell_type(ty[2])})"
    if head == "List":
        return f"[{haskell_type(ty[1])}]"
    raise ValueError(ty)


COLUMN_TYPES: tuple[Ty, ...] = (
    T, T, U, REC, BOOL, INT, ("Maybe", T), ("Either", T, BOOL), ("Tuple", T, BOOL),
    ("List", T), ("Maybe", U),
)


# --- hypothesis strategies ---------------------------------------------------------------------
def patterns(ty: Ty, depth: int = 2) -> st.SearchStrategy[Pattern]:
    """Well-typed patterns of ``ty`` (wildcards, variables, literals, constructors, records)."""
    wild = st.sampled_from([WILDCARD, Pattern(PatKind.WILD, binder="x")])
    if ty[0] == "Int":
        return st.one_of(wild, st.sampled_from([Pattern(PatKind.LIT, lit)
                                                for lit in INT_LITERALS]))
    if depth == 0:
        return wild
    options = [wild]
    for con, arg_types in constructors(ty):
        if con == ":" and depth < 2:
            continue  # keep list spines short so brute force stays exhaustive over them
        options.append(st.tuples(*(patterns(a, depth - 1) for a in arg_types)).map(
            lambda args, con=con: Pattern(PatKind.CON, con, args)))
        if con == "Rec":
            options.append(st.lists(st.sampled_from(["fa", "fb"]), unique=True).flatmap(
                lambda names, depth=depth: st.tuples(
                    *(patterns(T if n == "fa" else BOOL, depth - 1) for n in names)).map(
                        lambda subs, names=names: Pattern(
                            PatKind.CON, "Rec", (), tuple(zip(names, subs, strict=True))))))
    return st.one_of(*options)


@st.composite
def matrices(draw: st.DrawFn, max_columns: int = 2, max_rows: int = 6
             ) -> tuple[tuple[Ty, ...], list[MatchRow]]:
    columns = tuple(draw(st.lists(st.sampled_from(COLUMN_TYPES), min_size=1,
                                  max_size=max_columns)))
    n_rows = draw(st.integers(0, max_rows))
    rows = []
    for i in range(n_rows):
        pats = tuple(draw(patterns(ty)) for ty in columns)
        rows.append(MatchRow(pats, draw(st.booleans()) and draw(st.booleans()), i + 1))
    return columns, rows


# --- brute-force reference semantics -----------------------------------------------------------
Value = tuple  # (constructor, args) or ("#", literal)


def values(ty: Ty, depth: int = 4, *, extended: bool = False) -> list[Value]:
    """Every value of ``ty`` up to ``depth`` (lists up to 3 elements, Int as 4 samples)."""
    if ty[0] == "Int":
        return [("#", lit) for lit in INT_LITERALS + (INT_OTHER,)]
    out = []
    for con, arg_types in constructors(ty, extended=extended):
        if arg_types and depth == 0:
            continue
        arg_values = [values(a, depth - 1, extended=extended) for a in arg_types]
        out.extend((con, args) for args in itertools.product(*arg_values))
    return out


def matches(p: Pattern, v: Value) -> bool:
    if p.kind is PatKind.WILD:
        return True
    if p.kind is PatKind.LIT:
        return v == ("#", p.name)
    if p.kind is PatKind.OPAQUE:
        return False
    if v[0] != p.name:
        return False
    if p.fields is not None:
        layout = WORKSPACE_SETS["Rec"].constructors[0][2]
        return all(matches(sub, v[1][layout.index(f)]) for f, sub in p.fields)
    return all(matches(a, x) for a, x in zip(p.args, v[1], strict=True))


def row_matches(row: MatchRow, vector: Sequence[Value]) -> bool:
    return all(matches(p, v) for p, v in zip(row.patterns, vector, strict=True))


def vectors(columns: Sequence[Ty], *, extended: bool = False) -> Iterator[tuple[Value, ...]]:
    return itertools.product(*(values(ty, extended=extended) for ty in columns))


def first_covering_row(rows: Sequence[MatchRow], vector: Sequence[Value]) -> MatchRow | None:
    """The row that takes a value when every guard fails (guards are opaque to GHC)."""
    for row in rows:
        if not row.guarded and row_matches(row, vector):
            return row
    return None


def contains(v: Value, con: str) -> bool:
    return v[0] == con or (v[0] != "#" and any(contains(a, con) for a in v[1]))


def value_at(v: Value, steps: Sequence[tuple[str, int]]) -> Value | None:
    for con, j in steps:
        if v[0] != con:
            return None
        v = v[1][j]
    return v

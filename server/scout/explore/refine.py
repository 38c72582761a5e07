"""GADT index refinement: constructors a match never needs, because the scrutinee's type index
rules them out (`evalInt :: Expr Int -> Int` need not match `BoolLit :: Bool -> Expr Bool`).

GHC's checker knows the scrutinee's type; the index knows only what is written. Where the type
can be read (a clause group whose function has a signature, a `case` on one of its parameters),
each constructor of a GADT whose result index cannot unify with the scrutinee's is added as a
synthetic row (``line`` 0, never reported) that covers it: a value built with it cannot reach
the match. Type texts are compared structurally, conservatively: a type variable, a type synonym
or family, or anything unreadable counts as compatible, so refinement only ever removes
constructors that are certainly impossible.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from scout.haskell.model import (
    WILDCARD,
    Definition,
    MatchKind,
    MatchRow,
    MatchSite,
    PatKind,
    Pattern,
)

_TOKEN = re.compile(r"\s*([A-Za-z_][\w'.]*|\(\)|\[\]|->|[()\[\],!~]|\S)")

_Type = tuple  # (head, args): head "" for a variable, "(,)"/"[]"/"->" for built-in shapes


def parse_type(text: str, *, named: bool = False) -> _Type | None:
    """A written type as (head, args); None when it cannot be read. With ``named``, a type
    variable's head is its name after a quote (`'a`), applied or not (for unification);
    without, every variable is the anonymous "" and an applied one is unknown."""
    try:
        tokens = [m.group(1) for m in _TOKEN.finditer(text)]
        ty, pos = _application(tokens, 0, named)
        return ty if pos == len(tokens) else None
    except (IndexError, ValueError):
        return None


def _application(tokens: list[str], pos: int, named: bool = False) -> tuple[_Type, int]:
    head, pos = _atom(tokens, pos, named)
    args: list[_Type] = []
    while pos < len(tokens) and tokens[pos] not in (")", "]", ",", "->"):
        arg, pos = _atom(tokens, pos, named)
        args.append(arg)
    if pos < len(tokens) and tokens[pos] == "->":
        result, pos = _application(tokens, pos + 1, named)
        return ("->", (_apply(head, args), result)), pos
    return _apply(head, args), pos


def _apply(head: _Type, args: list[_Type]) -> _Type:
    if not args:
        return head
    name, inner = head
    return (name, (*inner, *args)) if name else ("", ())  # applied variable: unknown


def _atom(tokens: list[str], pos: int, named: bool = False) -> tuple[_Type, int]:
    tok = tokens[pos]
    if tok in ("!", "~"):
        return _atom(tokens, pos + 1, named)
    if tok == "(":
        items: list[_Type] = []
        pos += 1
        while tokens[pos] != ")":
            item, pos = _application(tokens, pos, named)
            items.append(item)
            if tokens[pos] == ",":
                pos += 1
        pos += 1
        if len(items) == 1:
            return items[0], pos
        return ("(" + "," * (len(items) - 1) + ")", tuple(items)), pos
    if tok == "[":
        item, pos = _application(tokens, pos + 1, named)
        if tokens[pos] != "]":
            raise ValueError("list type")
        return ("[]", (item,)), pos + 1
    if tok in ("()", "[]"):
        return (tok, ()), pos + 1
    if tok[0].isupper():
        return (tok.rsplit(".", 1)[-1], ()), pos + 1
    if tok[0].islower() or tok[0] == "_":
        return ("'" + tok if named else "", ()), pos + 1  # a type variable
    raise ValueError(f"unexpected {tok!r}")


def parameter_types(signature: str | None) -> list[str]:
    """The parameter types of a written signature (`f :: C a => A -> (B -> c) -> R` ->
    ["A", "(B -> c)"]): its context and `forall` dropped, split at top-level arrows."""
    if not signature or "::" not in signature:
        return []
    ty = re.sub(r"^\s*forall\b[^.]*\.", "", signature.split("::", 1)[1])
    parts = split_arrows(ty, contexts=True)
    return parts[:-1]


def surface(text: str) -> list[bool]:
    """For each character of ``text``: is it on the surface, outside every bracket pair and
    string literal? (A bracket belongs to what it encloses.) The one scanner for splitting
    types and expressions at their top level."""
    out, depth, i = [False] * len(text), 0, 0
    while i < len(text):
        ch = text[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == '"':
            j = text.find('"', i + 1)
            i = j if j > 0 else len(text)
        elif depth == 0:
            out[i] = True
        i += 1
    return out


def split_arrows(text: str, *, contexts: bool = False) -> list[str]:
    """A function type's parts at its top-level `->` (`A -> (B -> c) -> R` -> ["A", "(B ->
    c)", "R"]); with ``contexts``, a top-level `C a =>` is dropped with what precedes it."""
    top = surface(text)
    out, start, i = [], 0, 0
    while i < len(text):
        if top[i] and contexts and text.startswith("=>", i):
            out, start = [], i + 2  # a context: what follows is the type
            i += 1
        elif top[i] and text.startswith("->", i):
            out.append(text[start:i])
            start = i + 2
            i += 1
        i += 1
    out.append(text[start:])
    return [p.strip() for p in out]


def compatible(a: _Type | None, b: _Type | None, flexible: Callable[[str], bool]) -> bool:
    """Can the two types be the same? ``flexible(name)``: a synonym or family (anything)."""
    if a is None or b is None or not a[0] or not b[0]:
        return True
    if a[0] != b[0]:
        return flexible(a[0]) or flexible(b[0])
    if len(a[1]) != len(b[1]):
        return True
    return all(compatible(x, y, flexible) for x, y in zip(a[1], b[1], strict=True))


def impossible_constructors(param: str, constructors: Sequence[Definition],
                            flexible: Callable[[str], bool]) -> list[Definition]:
    """The GADT constructors whose result index cannot be ``param``'s (`Expr Int`)."""
    ty = parse_type(param)
    if ty is None or not ty[0]:
        return []
    out = []
    for con in constructors:
        if con.indices is None or len(con.indices) != len(ty[1]):
            continue
        if not all(compatible(parse_type(index), arg, flexible)
                   for index, arg in zip(con.indices, ty[1], strict=True)):
            out.append(con)
    return out


def refined(site: MatchSite, column_types: Sequence[str | None],
            constructors_of: Callable[[str], Sequence[Definition]],
            flexible: Callable[[str], bool]) -> MatchSite:
    """``site`` with a covering row for every constructor its columns' types rule out."""
    width = len(site.rows[0].patterns) if site.rows else 0
    extra: list[MatchRow] = []
    for col, param in enumerate(column_types[:width]):
        if not param:
            continue
        ty = parse_type(param)
        if ty is None or not ty[0]:
            continue
        for con in impossible_constructors(param, constructors_of(ty[0]), flexible):
            pats = [WILDCARD] * width
            pats[col] = Pattern(PatKind.CON, con.name, (WILDCARD,) * (con.arity or 0))
            extra.append(MatchRow(tuple(pats), False, 0))
    if not extra:
        return site
    return MatchSite(site.kind, site.path, site.span, site.enclosing, site.name,
                     site.rows + tuple(extra), site.scrutinee, site.fields)


def scrutinee_types(site: MatchSite, function: Definition | None,
                    clauses: MatchSite | None) -> list[str | None]:
    """The written type of each column of ``site``, where it can be read: the parameters of
    a clause group's signature, or of the parameter a `case` scrutinises."""
    parameters = parameter_types(function.signature) if function is not None else []
    if not parameters:
        return []
    if site.kind is MatchKind.FUNCTION:
        return list(parameters)
    if site.kind is MatchKind.CASE and clauses is not None and site.scrutinee:
        rows = [r for r in clauses.rows if 0 < r.line <= site.span.start_line]
        if rows:
            for col, p in enumerate(rows[-1].patterns):
                if p.kind is PatKind.WILD and p.binder == site.scrutinee:
                    return [parameters[col]] if col < len(parameters) else []
    return []

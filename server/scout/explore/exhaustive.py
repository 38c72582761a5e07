"""Pattern-match exhaustiveness over the index's match sites (Maranget, "Warnings for pattern
matching", JFP 2007): missing-pattern witnesses, and what adding a constructor does to a site.

The check runs over every column and every nested position of a site's rows. Column types are
not known from the index, so they are inferred from the constructors a column names: each one
is looked up (``lookup(con) -> ConstructorSet | None``, the index's answer) and then in a small
built-in table of Prelude types. Rules, and the assumptions where the index cannot know better:

- A row with a guard (other than ``otherwise``/``True``, which the index strips) may fall
  through, so it covers nothing (GHC treats guards the same way).
- A literal never covers its type; an OPAQUE pattern (view pattern, n+k, splice) covers nothing.
- A record pattern is mapped onto constructor positions by field name; missing fields match
  anything.
- A constructor whose type is unknown (defined in an external library, or a pattern synonym):
  the constructors its column names are assumed to be the type's complete set. The code
  compiles, so this is almost always right; it is wrong for an external sum type matched only
  partially, and for pattern synonyms without a COMPLETE pragma. Such assumptions are recorded
  in ``MatrixAnalysis.assumptions`` / ``AddConstructorVerdict.assumptions``.
- A column naming more unknown constructors than constructors of the workspace type its other
  names belong to is taken as an external type whose constructor shares a workspace name (a
  name clash, e.g. pandoc's own ``Table`` next to pandoc-types' ``Para``): all its names are
  then treated like unknown ones.
- When the index's arity for a constructor disagrees with how every pattern uses it, the
  patterns win (the code compiles); the disagreement is recorded.
- GADT type refinement is not modelled: a match that omits constructors impossible at its index
  type looks incomplete here (``already_incomplete``), so adding a constructor never "breaks" it.

The witness search is exponential in the worst case, so it is memoised, stops after
``max_witnesses`` witnesses, and gives up (recorded, never silently) after ``max_steps`` steps.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from scout.haskell.model import (
    Definition,
    DefKind,
    FileIndex,
    MatchRow,
    MatchSite,
    PatKind,
    Pattern,
)

__all__ = [
    "AddConstructorVerdict",
    "AddedConstructorVerdicts",
    "ConstructorLookup",
    "ConstructorSet",
    "MatrixAnalysis",
    "MatchShapeError",
    "PatternCheckGaveUp",
    "PRELUDE_CONSTRUCTOR_SETS",
    "analyse_rows",
    "builtin_constructor_set",
    "constructor_lookup",
    "missing_patterns",
    "render_pattern",
    "render_witness",
    "verdict_for_added_constructor",
]

DEFAULT_MAX_WITNESSES = 8
DEFAULT_MAX_STEPS = 200_000


@dataclass(frozen=True, slots=True)
class ConstructorSet:
    """The complete constructor list of one type: (name, arity, record field names) each."""

    type_name: str
    constructors: tuple[tuple[str, int, tuple[str, ...]], ...]

    def names(self) -> tuple[str, ...]:
        return tuple(c[0] for c in self.constructors)


ConstructorLookup = Callable[[str], "ConstructorSet | None"]


def _set(type_name: str, *cons: tuple[str, int]) -> ConstructorSet:
    return ConstructorSet(type_name, tuple((n, a, ()) for n, a in cons))


_PRELUDE_SETS = (
    _set("Bool", ("False", 0), ("True", 0)),
    _set("Maybe", ("Nothing", 0), ("Just", 1)),
    _set("Either", ("Left", 1), ("Right", 1)),
    _set("Ordering", ("LT", 0), ("EQ", 0), ("GT", 0)),
    _set("()", ("()", 0)),
    _set("[]", ("[]", 0), (":", 2)),
    _set("NonEmpty", (":|", 2)),
)
#: Prelude constructor name -> its type's constructor set (tuples are computed from the name).
PRELUDE_CONSTRUCTOR_SETS: dict[str, ConstructorSet] = {
    name: cs for cs in _PRELUDE_SETS for name in cs.names()}

_TUPLE_NAME = re.compile(r"\((,+)\)")
# Names that can only mean the built-in type, whatever the workspace defines.
_SYNTACTIC_NAMES = frozenset({"()", "[]", ":"})
_QUALIFIER = re.compile(r"^(?:[A-Z][\w']*\.)+(?=[^.\s])")


def builtin_constructor_set(con: str) -> ConstructorSet | None:
    """The built-in set for a Prelude constructor or a tuple constructor ``(,)``, ``(,,)``…"""
    m = _TUPLE_NAME.fullmatch(con)
    if m:
        return ConstructorSet(con, ((con, len(m.group(1)) + 1, ()),))
    return PRELUDE_CONSTRUCTOR_SETS.get(con)


_TYPE_KINDS = (DefKind.DATA, DefKind.NEWTYPE, DefKind.TYPE_INSTANCE)  # incl. data instances


class _Index(Protocol):
    files: Mapping[str, FileIndex]

    def definitions(self, name: str, kinds: Iterable[DefKind] | None = None
                    ) -> list[Definition]: ...


def constructor_lookup(index: _Index, *, path: str | None = None) -> ConstructorLookup:
    """A lookup over a ``WorkspaceIndex``'s definitions (memoised per lookup object).

    A constructor name several workspace types define (``U``/``D`` in xmonad-contrib's layout
    modules) resolves, when ``path`` names the file holding the match, to the type of that
    file's own module, else of a module it imports, else to the first type that lists it.
    """
    cache: dict[str, ConstructorSet | None] = {}
    here = index.files.get(path) if path is not None else None
    preferred = ({here.module} | {i.module for i in here.imports}) if here is not None else set()

    def type_set(tdef: Definition) -> ConstructorSet:
        entries = []
        for sibling in tdef.constructors:
            defs = index.definitions(sibling, (DefKind.CONSTRUCTOR,))
            sdef = next((d for d in defs if d.parent == tdef.name and d.module == tdef.module),
                        defs[0] if defs else None)
            arity = sdef.arity if sdef is not None and sdef.arity is not None else 0
            entries.append((sibling, arity, sdef.fields if sdef is not None else ()))
        return ConstructorSet(tdef.name, tuple(entries))

    def lookup(con: str) -> ConstructorSet | None:
        if con in cache:
            return cache[con]
        owners = []
        for cdef in index.definitions(con, (DefKind.CONSTRUCTOR,)):
            owners.extend(t for t in index.definitions(cdef.parent or "", _TYPE_KINDS)
                          if con in t.constructors and t.module == cdef.module)
        owners.sort(key=lambda t: (here is None or t.module != here.module,
                                   t.module not in preferred))
        found = type_set(owners[0]) if owners else None
        cache[con] = found
        return found

    return lookup


def _bare(name: str) -> str:
    """``M.Just`` -> ``Just``; operators and special names are left alone."""
    return _QUALIFIER.sub("", name) if name[:1].isupper() else name


class MatchShapeError(ValueError):
    """The rows of a site do not have the same number of patterns."""


class PatternCheckGaveUp(RuntimeError):
    """The witness search exceeded its step budget (a pathological matrix)."""


@dataclass(frozen=True, slots=True)
class MatrixAnalysis:
    """The outcome of checking one pattern matrix.

    ``witnesses``: value vectors no row matches (empty = exhaustive), at most ``max_witnesses``.
    ``assumptions``: every place the check had to assume something (see module docstring).
    """

    witnesses: tuple[tuple[Pattern, ...], ...]
    assumptions: tuple[str, ...] = ()

    @property
    def exhaustive(self) -> bool:
        return not self.witnesses


@dataclass(frozen=True, slots=True)
class AddConstructorVerdict:
    """What adding one fresh constructor to a type does to one match site.

    ``breaks``: exhaustive before, not after (GHC would warn with -Wincomplete-patterns).
    ``already_incomplete``: the site already missed patterns before the change.
    ``absorbed_by_lines``: lines of unguarded rows that would silently take the new constructor
    (a wildcard/variable at a position of that type, also nested: ``Just _``).
    ``witnesses``: rendered patterns the new constructor leaves unmatched.
    ``decided``: False when the search gave up (then ``breaks`` is False and ``assumptions``
    says why); the engine should report such a site as uncertain, not as safe.
    ``absorbed_rows``: the same rows as ``absorbed_by_lines``, as indices into ``site.rows``.
    """

    breaks: bool
    already_incomplete: bool
    absorbed_by_lines: tuple[int, ...]
    witnesses: tuple[str, ...]
    missing_before: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()
    decided: bool = True
    absorbed_rows: tuple[int, ...] = ()


# --- internal pattern form -------------------------------------------------------------------
# Plain tuples hash and compare fast, which the memo tables need:
#   None                   wildcard
#   (0, name, args)        constructor, args positional
#   (1, text)              literal
#   (2,)                   opaque
_CON, _LIT, _OPAQUE = 0, 1, 2
_OPAQUE_PAT = (_OPAQUE,)

_IPat = tuple | None
_Row = tuple[_IPat, ...]


@dataclass(frozen=True, slots=True)
class _ConInfo:
    name: str
    arity: int
    fields: tuple[str, ...]
    type_name: str | None  # None: type unknown
    siblings: tuple[str, ...]  # the complete set of the type, in declaration order


@dataclass(slots=True)
class _Usage:
    arities: set[int]
    record_fields: list[str]
    as_record: bool = False


class _Checker:
    """One analysis: resolved constructors, memo tables and the step budget live here."""

    def __init__(self, lookup: ConstructorLookup | None, patterns: Iterable[Pattern], *,
                 max_witnesses: int, max_steps: int,
                 fresh: tuple[str, str] | None = None) -> None:
        self._lookup = lookup
        self._limit = max(1, max_witnesses)
        self._max_steps = max_steps
        self._steps = 0
        self._fresh = fresh  # (type name, fresh constructor name)
        self._infos: dict[str, _ConInfo] = {}
        # heads -> (complete constructor set, the column's workspace/Prelude type or None)
        self._sig_memo: dict[frozenset[str], tuple[tuple[_ConInfo, ...] | None, str | None]] = {}
        self._missing_memo: dict[tuple[tuple[_Row, ...], _Row], list[_Row]] = {}
        self._useful_memo: dict[tuple[tuple[_Row, ...], _Row], bool] = {}
        self._usage: dict[str, _Usage] = {}
        self._assumptions: dict[str, None] = {}  # ordered set
        self._note_usage(patterns)

    # -- bookkeeping --
    @property
    def assumptions(self) -> tuple[str, ...]:
        return tuple(self._assumptions)

    def _assume(self, text: str) -> None:
        self._assumptions[text] = None

    def _tick(self) -> None:
        self._steps += 1
        if self._steps > self._max_steps:
            raise PatternCheckGaveUp(
                f"pattern check gave up after {self._max_steps} steps (matrix too large)")

    def _note_usage(self, patterns: Iterable[Pattern]) -> None:
        stack = list(patterns)
        while stack:
            p = stack.pop()
            if p.kind is not PatKind.CON or not p.name:
                continue
            u = self._usage.setdefault(_bare(p.name), _Usage(set(), []))
            if p.fields is not None:
                u.as_record = True
                for fname, sub in p.fields:
                    fname = _bare(fname)
                    if fname not in u.record_fields:
                        u.record_fields.append(fname)
                    stack.append(sub)
            else:
                u.arities.add(len(p.args))
                stack.extend(p.args)

    # -- constructor resolution --
    def info(self, name: str) -> _ConInfo:
        found = self._infos.get(name)
        if found is None:
            self._resolve(name)
            found = self._infos[name]
        return found

    def _lookup_set(self, name: str) -> ConstructorSet | None:
        if name in _SYNTACTIC_NAMES or _TUPLE_NAME.fullmatch(name):
            return builtin_constructor_set(name)
        if self._lookup is not None:
            cs = self._lookup(name)
            if cs is not None:
                if name in cs.names():
                    return cs
                self._assume(f"index lookup for {name} returned type {cs.type_name}, which "
                             f"does not list it: treated {name} as of unknown type")
        return builtin_constructor_set(name)

    def _resolve(self, name: str) -> None:
        cs = self._lookup_set(name)
        if cs is None:
            usage = self._usage.get(name, _Usage(set(), []))
            if usage.arities:
                arity, fields = max(usage.arities), ()
            else:  # only ever used as a record: its fields are the names the patterns use
                arity, fields = len(usage.record_fields), tuple(usage.record_fields)
            self._infos[name] = _ConInfo(name, arity, fields, None, (name,))
            return
        entries = list(cs.constructors)
        if self._fresh is not None and _same_type(cs.type_name, self._fresh[0]):
            # The fresh constructor goes first so its witnesses survive the witness limit.
            entries.insert(0, (self._fresh[1], 0, ()))
        siblings = tuple(e[0] for e in entries)
        for con, arity, fields in entries:
            if con in self._infos:
                continue
            usage = self._usage.get(con)
            if usage and usage.arities and arity not in usage.arities:
                if len(usage.arities) == 1:
                    used = next(iter(usage.arities))
                    self._assume(f"index says {con} has {arity} fields, patterns use {used}: "
                                 "trusted the patterns")
                    arity, fields = used, (fields if len(fields) == used else ())
            self._infos[con] = _ConInfo(con, arity, tuple(fields), cs.type_name, siblings)

    def signature(self, heads: Iterable[str]) -> tuple[_ConInfo, ...] | None:
        """The complete constructor set of a column whose patterns name ``heads``."""
        return self._column(heads)[0]

    def column_type(self, heads: Iterable[str]) -> str | None:
        """The type of a column whose patterns name ``heads``; None when unknown."""
        return self._column(heads)[1]

    def _column(self, heads: Iterable[str]) -> tuple[tuple[_ConInfo, ...] | None, str | None]:
        key = frozenset(heads)
        if key in self._sig_memo:
            return self._sig_memo[key]
        if not key:
            self._sig_memo[key] = (None, None)
            return None, None
        column_type = None
        by_type: dict[str, list[str]] = {}
        unknown: list[str] = []
        for name in sorted(key):
            info = self.info(name)
            if info.type_name is None:
                unknown.append(name)
            else:
                by_type.setdefault(info.type_name, []).append(name)
        best = max(by_type, key=lambda t: (len(by_type[t]), t)) if by_type else None
        if best is not None and len(unknown) > len(by_type[best]):
            # Mostly constructors the index does not know, plus a workspace name: the name
            # clashes with an external type's constructor (pandoc's own `Table` next to
            # pandoc-types' `Para`, `BlockQuote` …).
            self._assume(f"{', '.join(by_type[best])} (of {best}) matched next to more "
                         f"constructors of unknown type ({', '.join(unknown[:3])}…): assumed a "
                         "name clash with an external type whose named constructors are "
                         "complete")
            sig = tuple(self.info(n) for n in sorted(key))
        elif best is not None:
            others = [n for t, names in by_type.items() if t != best for n in names] + unknown
            if others:
                self._assume(f"{', '.join(others)} in a column of type {best}: treated as "
                             "covering nothing (pattern synonym or name clash)")
            sig = tuple(self.info(n) for n in self.info(by_type[best][0]).siblings)
            column_type = best
        else:
            self._assume(f"type of {', '.join(unknown)} unknown: assumed the constructors "
                         "the match names are the complete set")
            sig = tuple(self.info(n) for n in unknown)
        self._sig_memo[key] = (sig, column_type)
        return sig, column_type

    # -- normalisation --
    def normalise(self, p: Pattern) -> _IPat:
        if p.kind is PatKind.WILD:
            return None
        if p.kind is PatKind.LIT:
            return (_LIT, p.name or "")
        if p.kind is PatKind.OPAQUE or not p.name:
            return _OPAQUE_PAT
        name = _bare(p.name)
        info = self.info(name)
        if p.fields is not None:
            subs = [(_bare(f), self.normalise(sp)) for f, sp in p.fields]
            if all(sp is None for _, sp in subs):
                return (_CON, name, (None,) * info.arity)
            if len(info.fields) != info.arity:
                self._assume(f"record pattern on {name} whose field positions are unknown: "
                             "treated as covering nothing")
                return _OPAQUE_PAT
            args: list[_IPat] = [None] * info.arity
            for fname, sp in subs:
                if fname not in info.fields:
                    self._assume(f"{name} has no field {fname} in the index: record pattern "
                                 "treated as covering nothing")
                    return _OPAQUE_PAT
                args[info.fields.index(fname)] = sp
            return (_CON, name, tuple(args))
        if len(p.args) != info.arity:
            self._assume(f"{name} used with {len(p.args)} arguments and {info.arity} elsewhere: "
                         "that pattern treated as covering nothing")
            return _OPAQUE_PAT
        return (_CON, name, tuple(self.normalise(a) for a in p.args))

    # -- the matrix algorithms --
    def _heads(self, rows: Sequence[_Row]) -> dict[str, None]:
        heads: dict[str, None] = {}
        for row in rows:
            p = row[0]
            if p is not None and p[0] == _CON:
                heads[p[1]] = None
        return heads

    @staticmethod
    def _specialise(rows: Sequence[_Row], con: _ConInfo) -> tuple[_Row, ...]:
        out = []
        wild_args = (None,) * con.arity
        for row in rows:
            p = row[0]
            if p is None:
                out.append(wild_args + row[1:])
            elif p[0] == _CON and p[1] == con.name:
                out.append(p[2] + row[1:])
        return tuple(out)

    @staticmethod
    def _default(rows: Sequence[_Row]) -> tuple[_Row, ...]:
        return tuple(row[1:] for row in rows if row[0] is None)

    def missing(self, rows: tuple[_Row, ...], q: _Row) -> list[_Row]:
        """Up to the witness limit, instances of ``q`` that no row matches (Maranget's
        witness search generalised to a query vector; all wildcards = "is it exhaustive?")."""
        if not rows:
            return [q]
        if not q:
            return []
        key = (rows, q)
        cached = self._missing_memo.get(key)
        if cached is not None:
            return cached
        self._tick()
        h, tail = q[0], q[1:]
        out: list[_Row] = []
        if h is not None and h[0] == _CON:
            self._collect(out, self.info(h[1]), rows, h[2] + tail)
        elif h is not None and h[0] == _LIT:
            same = tuple(r[1:] for r in rows if r[0] is None or r[0] == h)
            out = [(h,) + w for w in self.missing(same, tail)]
        else:  # a wildcard (an opaque query pattern stands for any value too)
            heads = self._heads(rows)
            sig = self.signature(heads)
            complete = sig is not None and all(c.name in heads for c in sig)
            if not complete:
                rest = self.missing(self._default(rows), tail)
                if not rest:
                    # The wildcard rows cover everything, so every constructor is covered.
                    self._missing_memo[key] = out
                    return out
                firsts: list[_IPat] = [None] if sig is None else [
                    (_CON, c.name, (None,) * c.arity) for c in sig if c.name not in heads]
                out = [(f,) + w for f in firsts for w in rest][: self._limit]
            for con in sig or ():
                if len(out) >= self._limit:
                    break
                if con.name in heads:  # present constructors: search below them too
                    self._collect(out, con, rows, (None,) * con.arity + tail)
        del out[self._limit:]
        self._missing_memo[key] = out
        return out

    def _collect(self, out: list[_Row], con: _ConInfo, rows: tuple[_Row, ...],
                 sub_q: _Row) -> None:
        a = con.arity
        for w in self.missing(self._specialise(rows, con), sub_q):
            if len(out) >= self._limit:
                return
            out.append(((_CON, con.name, w[:a]),) + w[a:])

    def useful(self, rows: tuple[_Row, ...], q: _Row) -> bool:
        """Does some value match ``q`` and no row of ``rows``? (Maranget's U)."""
        if not rows:
            return True
        if not q:
            return False
        key = (rows, q)
        cached = self._useful_memo.get(key)
        if cached is not None:
            return cached
        self._tick()
        h = q[0]
        if h is None or h[0] == _OPAQUE:
            heads = self._heads(rows)
            sig = self.signature(heads)
            if sig is not None and all(c.name in heads for c in sig):
                result = any(self.useful(self._specialise(rows, c), (None,) * c.arity + q[1:])
                             for c in sig)
            else:
                result = self.useful(self._default(rows), q[1:])
        elif h[0] == _CON:
            result = self.useful(self._specialise(rows, self.info(h[1])), h[2] + q[1:])
        else:  # a literal: only the same literal or a wildcard matches it
            result = self.useful(tuple(r[1:] for r in rows if r[0] is None or r[0] == h),
                                 q[1:])
        self._useful_memo[key] = result
        return result


def _same_type(a: str, b: str) -> bool:
    return a == b or a.rsplit(".", 1)[-1] == b.rsplit(".", 1)[-1]


def _all_patterns(rows: Sequence[MatchRow]) -> list[Pattern]:
    return [p for r in rows for p in r.patterns]


def _check_shape(rows: Sequence[MatchRow]) -> int:
    widths = {len(r.patterns) for r in rows}
    if len(widths) > 1:
        lines = ", ".join(f"line {r.line}: {len(r.patterns)}" for r in rows)
        raise MatchShapeError(
            f"match rows have different numbers of patterns ({lines}); the site was extracted "
            "inconsistently, re-index the file or report it")
    return widths.pop() if widths else 1


def _covering_rows(checker: _Checker, rows: Sequence[MatchRow]) -> tuple[_Row, ...]:
    return tuple(tuple(checker.normalise(p) for p in r.patterns) for r in rows if not r.guarded)


def _to_pattern(p: _IPat) -> Pattern:
    if p is None:
        return Pattern(PatKind.WILD)
    if p[0] == _CON:
        return Pattern(PatKind.CON, p[1], tuple(_to_pattern(a) for a in p[2]))
    if p[0] == _LIT:
        return Pattern(PatKind.LIT, p[1])
    return Pattern(PatKind.OPAQUE)


def analyse_rows(rows: Sequence[MatchRow], lookup: ConstructorLookup | None, *,
                 max_witnesses: int = DEFAULT_MAX_WITNESSES,
                 max_steps: int = DEFAULT_MAX_STEPS) -> MatrixAnalysis:
    """Missing patterns of a match, with the assumptions the check made.

    Raises ``MatchShapeError`` for rows of different widths and ``PatternCheckGaveUp`` when the
    search exceeds ``max_steps``.
    """
    width = _check_shape(rows)
    checker = _Checker(lookup, _all_patterns(rows), max_witnesses=max_witnesses,
                       max_steps=max_steps)
    witnesses = checker.missing(_covering_rows(checker, rows), (None,) * width)
    return MatrixAnalysis(tuple(tuple(_to_pattern(p) for p in w) for w in witnesses),
                          checker.assumptions)


def missing_patterns(rows: Sequence[MatchRow], lookup: ConstructorLookup | None, *,
                     max_witnesses: int = DEFAULT_MAX_WITNESSES,
                     max_steps: int = DEFAULT_MAX_STEPS) -> list[tuple[Pattern, ...]]:
    """Witnesses of non-exhaustiveness (one pattern per column); ``[]`` means exhaustive."""
    return list(analyse_rows(rows, lookup, max_witnesses=max_witnesses,
                             max_steps=max_steps).witnesses)


_Path = tuple[int, tuple[tuple[str, int], ...]]


def _heads_at(rows: Iterable[_Row], col: int, steps: tuple[tuple[str, int], ...]) -> set[str]:
    """Constructors the rows name at one path (rows that take another branch are skipped)."""
    heads = set()
    for row in rows:
        p = row[col]
        for con, j in steps:
            if p is None or p[0] != _CON or p[1] != con:
                p = None
                break
            p = p[2][j]
        if p is not None and p[0] == _CON:
            heads.add(p[1])
    return heads


def _positions_of_type(checker: _Checker, rows: Sequence[_Row], type_name: str) -> set[_Path]:
    """Paths (column, constructor/argument steps) where the rows match on constructors of the
    type: every row's pattern at such a path has that type."""
    found: set[_Path] = set()

    def walk(p: _IPat, col: int, path: tuple[tuple[str, int], ...]) -> None:
        if p is None or p[0] != _CON:
            return
        info = checker.info(p[1])
        if info.type_name is not None and _same_type(info.type_name, type_name):
            found.add((col, path))
        for j, sub in enumerate(p[2]):
            walk(sub, col, path + ((p[1], j),))

    for row in rows:
        for col, p in enumerate(row):
            walk(p, col, ())
    # Keep a path only if its column really is of that type (not a name clash, see signature).
    return {path for path in found
            if _same_type(checker.column_type(_heads_at(rows, *path)) or "\0", type_name)}


def _place(p: _IPat, steps: tuple[tuple[str, int], ...], fresh: _IPat,
           checker: _Checker) -> _IPat | bool:
    """``p`` narrowed to values with ``fresh`` at ``steps``; False if ``p`` cannot match that."""
    if not steps:
        return fresh if p is None else False
    con, j = steps[0]
    if p is None:
        args: list[_IPat] = [None] * checker.info(con).arity
    elif p[0] == _CON and p[1] == con:
        args = list(p[2])
    else:
        return False
    inner = _place(args[j], steps[1:], fresh, checker)
    if inner is False:
        return False
    args[j] = inner
    return (_CON, con, tuple(args))


def _has_opaque(p: _IPat) -> bool:
    return p is not None and (p[0] == _OPAQUE or (p[0] == _CON and any(map(_has_opaque, p[2]))))


def verdict_for_added_constructor(site: MatchSite, type_name: str,
                                  lookup: ConstructorLookup | None, *,
                                  new_constructor: str | None = None,
                                  max_witnesses: int = DEFAULT_MAX_WITNESSES,
                                  max_steps: int = DEFAULT_MAX_STEPS
                                  ) -> AddConstructorVerdict | None:
    """What adding a fresh constructor to ``type_name`` does to ``site``.

    ``None`` when the site does not match on that type's constructors anywhere (no pattern
    names one, or only in a column judged to be a name clash, see ``signature``). ``new_constructor`` names the fresh constructor in witnesses
    (default ``<new TYPE constructor>``). Raises ``MatchShapeError`` on inconsistent rows.
    """
    rows = site.rows
    width = _check_shape(rows)
    patterns = _all_patterns(rows)
    fresh_name = new_constructor or f"<new {type_name.rsplit('.', 1)[-1]} constructor>"
    after = _Checker(lookup, patterns, max_witnesses=max_witnesses, max_steps=max_steps,
                     fresh=(type_name, fresh_name))
    normalised = [tuple(after.normalise(p) for p in r.patterns) for r in rows]
    positions = sorted(_positions_of_type(after, normalised, type_name))
    if not positions:
        return None
    before = _Checker(lookup, patterns, max_witnesses=max_witnesses, max_steps=max_steps)
    try:
        missing_before = before.missing(_covering_rows(before, rows), (None,) * width)
        fresh_witnesses, absorbed = _fresh_constructor_effects(
            after, rows, normalised, positions, fresh_name, max_witnesses)
        absorbed_lines = tuple(sorted({rows[i].line for i in absorbed}))
    except PatternCheckGaveUp as gave_up:
        return AddConstructorVerdict(
            False, False, (), (), (),
            tuple(dict.fromkeys(before.assumptions + after.assumptions + (str(gave_up),))),
            decided=False)
    return AddConstructorVerdict(
        # Before exhaustive, so every value left unmatched after the change holds the fresh one.
        breaks=not missing_before and bool(fresh_witnesses),
        already_incomplete=bool(missing_before),
        absorbed_by_lines=absorbed_lines,
        witnesses=tuple(render_witness(tuple(map(_to_pattern, w))) for w in fresh_witnesses),
        missing_before=tuple(render_witness(tuple(map(_to_pattern, w)))
                             for w in missing_before),
        assumptions=tuple(dict.fromkeys(before.assumptions + after.assumptions)),
        absorbed_rows=absorbed,
    )


class AddedConstructorVerdicts:
    """``verdict_for_added_constructor`` for the sites of one file, memoised by the shape of a
    site's rows: binder names, right-hand sides and lines never change a verdict, and real
    modules repeat shapes (`f A = …; f B = …` over and over), so a module with thousands of
    match sites costs one check per distinct shape. One instance per (file's lookup, type)."""

    def __init__(self, type_name: str, lookup: ConstructorLookup | None, *,
                 new_constructor: str | None = None) -> None:
        self.type_name = type_name
        self.lookup = lookup
        self.new_constructor = new_constructor
        self._memo: dict[tuple, AddConstructorVerdict | None | MatchShapeError] = {}

    def verdict(self, site: MatchSite) -> AddConstructorVerdict | None:
        """As ``verdict_for_added_constructor(site, …)``; raises ``MatchShapeError`` too."""
        key = tuple((tuple(map(_shape, r.patterns)), r.guarded) for r in site.rows)
        found = self._memo.get(key, _MISSING)
        if found is _MISSING:
            try:
                found = verdict_for_added_constructor(site, self.type_name, self.lookup,
                                                      new_constructor=self.new_constructor)
            except MatchShapeError as err:
                found = err
            self._memo[key] = found
        if isinstance(found, MatchShapeError):
            raise found
        if found is None or not found.absorbed_rows:
            return found
        lines = tuple(sorted({site.rows[i].line for i in found.absorbed_rows}))
        return found if lines == found.absorbed_by_lines else replace(
            found, absorbed_by_lines=lines)


_MISSING = object()


def _shape(p: Pattern) -> tuple | None:
    """A pattern without what cannot change a verdict (binder names, opaque text)."""
    kind = p.kind
    if kind is PatKind.WILD:
        return None
    if kind is PatKind.LIT:
        return (1, p.name)
    if kind is PatKind.OPAQUE:
        return (2,)
    return (0, p.name, tuple(map(_shape, p.args)),
            None if p.fields is None else tuple((f, _shape(sub)) for f, sub in p.fields))


def _fresh_constructor_effects(checker: _Checker, rows: Sequence[MatchRow],
                               normalised: Sequence[_Row], positions: Sequence[_Path],
                               fresh_name: str, limit: int
                               ) -> tuple[list[_Row], tuple[int, ...]]:
    """Witnesses holding the fresh constructor, and the indices of rows that would take it.

    Only ``positions`` count, where the rows match on the type's constructors: elsewhere the
    site merely binds a value of the type without looking at it.
    """
    fresh: _IPat = (_CON, fresh_name, ())
    width = len(normalised[0]) if normalised else 1
    covering = tuple(n for r, n in zip(rows, normalised, strict=True) if not r.guarded)
    witnesses: dict[_Row, None] = {}
    for col, steps in positions:
        query = _place(None, steps, fresh, checker)
        if query is False:  # cannot happen: a wildcard accepts any placement
            continue
        q = (None,) * col + (query,) + (None,) * (width - col - 1)
        for w in checker.missing(covering, q):
            witnesses[w] = None
        if len(witnesses) >= limit:
            break
    earlier: list[_Row] = []  # unguarded rows above: a value they match never gets further
    taken: list[int] = []
    for i, (row, norm) in enumerate(zip(rows, normalised, strict=True)):
        if row.guarded or any(map(_has_opaque, norm)):
            # May fall through, so never a silent catch-all. An unguarded row with an opaque
            # part still goes into ``earlier``, where that part matches nothing.
            if not row.guarded:
                earlier.append(norm)
            continue
        for col, steps in positions:
            placed = _place(norm[col], steps, fresh, checker)
            if placed is False:
                continue
            q = norm[:col] + (placed,) + norm[col + 1:]
            if checker.useful(tuple(earlier), q):
                taken.append(i)
                break
        earlier.append(norm)
    return list(witnesses)[:limit], tuple(taken)


# --- rendering -------------------------------------------------------------------------------
def _is_operator(name: str) -> bool:
    if name.startswith("<") and name.endswith(">"):
        return False  # a placeholder such as ``<new T constructor>``
    return bool(name) and not (name[0].isalnum() or name[0] in "_([")


def _render(p: Pattern, atomic: bool) -> str:
    if p.kind is PatKind.WILD:
        return p.binder or "_"
    if p.kind is PatKind.LIT:
        return p.name or "<literal>"
    if p.kind is PatKind.OPAQUE:
        return f"({p.name})" if p.name and atomic and " " in p.name else (p.name or "<opaque>")
    name = p.name or "?"
    if p.fields is not None:
        inner = ", ".join(f"{f} = {_render(sub, False)}" for f, sub in p.fields)
        return f"{name} {{{inner}}}" if inner else f"{name} {{}}"
    args = p.args
    tuple_name = _TUPLE_NAME.fullmatch(name)
    if tuple_name and len(args) == len(tuple_name.group(1)) + 1:
        return "(" + ", ".join(_render(a, False) for a in args) + ")"
    if name == ":" and len(args) == 2:
        elements, tail = [args[0]], args[1]
        while tail.kind is PatKind.CON and tail.name == ":" and len(tail.args) == 2:
            elements.append(tail.args[0])
            tail = tail.args[1]
        if tail.kind is PatKind.CON and tail.name == "[]" and not tail.args:
            return "[" + ", ".join(_render(e, False) for e in elements) + "]"
        text = " : ".join(_render(e, True) for e in elements) + " : " + _render(tail, True)
        return f"({text})" if atomic else text
    if _is_operator(name):
        if len(args) == 2:
            text = f"{_render(args[0], True)} {name} {_render(args[1], True)}"
            return f"({text})" if atomic else text
        name = f"({name})"
    if not args:
        return name
    text = name + " " + " ".join(_render(a, True) for a in args)
    return f"({text})" if atomic else text


def render_pattern(p: Pattern) -> str:
    """Haskell source for one pattern (``Just _``, ``(x : _)``, ``(A, _)``, ``C {f = 1}``)."""
    return _render(p, False)


def render_witness(patterns: Sequence[Pattern]) -> str:
    """One missing-pattern vector as GHC prints it: a single pattern, or the patterns of a
    function's clause separated by spaces."""
    if len(patterns) == 1:
        return _render(patterns[0], False)
    return " ".join(_render(p, True) for p in patterns)

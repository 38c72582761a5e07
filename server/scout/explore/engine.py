"""From a question to every place the change can reach: deterministic, index-only, budgeted.

"The scheme traverses, the model judges": this module finds places and establishes structural
facts about them (``SiteFacts``); scorers only rank and explain. The order is fixed: candidates
are collected per relation, merged per (file, line), ranked (breaking > silent > definition >
others, then hop, then relation weight, then position) and cut to the budget, so a small budget
keeps the sites that break.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

from scout.cancel import NEVER, CancelToken
from scout.explore import typeflow
from scout.explore.context import ContextReader
from scout.explore.exhaustive import (
    AddedConstructorVerdicts,
    ConstructorLookup,
    MatchShapeError,
    constructor_lookup,
)
from scout.explore.model import (
    ChangeKind,
    Coverage,
    EdgeKind,
    Exploration,
    Node,
    Question,
    SiteFacts,
    Target,
    adds_method_with_default,
)
from scout.explore.question import refine_for_target
from scout.explore.refine import (
    parameter_types,
    refined,
    scrutinee_types,
    split_arrows,
    surface,
)
from scout.explore.resolve import (  # noqa: F401  (re-exported: the engine's errors)
    AmbiguousTarget,
    ExploreError,
    UnknownSymbol,
    resolve_target,
)
from scout.haskell.index import IndexSnapshot, WorkspaceIndex, gc_paused
from scout.haskell.model import (
    Definition,
    DefKind,
    Import,
    MatchKind,
    MatchSite,
    PatKind,
    Reference,
    Role,
)

# Relation weights: lower is explored/kept first among nodes of equal severity.
_EDGE_RANK = {edge: i for i, edge in enumerate((
    EdgeKind.MATCH_SITE, EdgeKind.INSTANCE, EdgeKind.CALL_SITE, EdgeKind.RECORD_CONSTRUCT,
    EdgeKind.CONSTRUCTOR_USE, EdgeKind.FIELD_PATTERN, EdgeKind.RECORD_UPDATE,
    EdgeKind.FIELD_ACCESS, EdgeKind.TYPE_FAMILY_INSTANCE, EdgeKind.IMPORT, EdgeKind.CATCH_ALL,
    EdgeKind.DERIVED_INSTANCE, EdgeKind.ENUMERATION, EdgeKind.DEFINITION,
    EdgeKind.PARTIAL_APPLICATION, EdgeKind.SIGNATURE, EdgeKind.TYPE_USE,
    EdgeKind.CONSTRAINT_USE, EdgeKind.EXPORT, EdgeKind.CALLER))}

# Derived classes whose behaviour changes silently with the constructor set.
_SILENT_DERIVED = {
    "Enum": "[minBound ..], succ and toEnum now include the new constructor",
    "Bounded": "maxBound (or minBound) may now be the new constructor",
    "Show": "show output gains a new value that consumers may not parse",
    "Read": "read accepts a new value",
    "Ord": "the new constructor's position changes comparisons and sorted order",
    "Eq": "equality now distinguishes the new constructor",
    "Generic": "generic encodings (JSON, binary) gain a new tag",
    "ToJSON": "the JSON encoding gains a new tag that clients must accept",
    "FromJSON": "the JSON decoder accepts a new tag",
    "Hashable": "hashes gain a new case",
    "Data": "generic traversals see a new constructor",
    "Ix": "array indices over the type shift",
}


# Which silent effect to name first when one deriving clause has several.
_SILENT_ORDER = ("Enum", "Bounded", "ToJSON", "FromJSON", "Generic", "Show", "Read", "Ix", "Ord",
                 "Hashable", "Data", "Eq")


@dataclass(slots=True)
class _Candidate:
    path: str
    line: int
    facts: SiteFacts
    enclosing: str | None
    col: int = 0
    end_line: int | None = None  # an application spanning lines: its last line


class Explorer:
    """One question against one index. Create one per question (cheap); holds only caches."""

    def __init__(self, index: IndexSnapshot, question: Question,
                 cancel: CancelToken = NEVER) -> None:
        self.index = index
        self.question = question
        self.cancel = cancel
        self.context = ContextReader(index)
        self._lookups: dict[str, ConstructorLookup] = {}
        self._exporters: dict[tuple[str, str], frozenset[str]] = {}
        # Per-file answers, so a module with thousands of uses costs linear time.
        self._own_names: dict[str, frozenset[str]] = {}
        self._refers: dict[tuple[str, str | None, int], bool] = {}  # (path, qualifier, id(d))
        self._visible: dict[tuple[str, int], bool] = {}
        self._functions: dict[str, dict[str, Definition]] = {}
        self._refs: dict[str, list[Reference]] = {}
        self._heads: dict[tuple[str, int, int, str], Reference | None] = {}

    # -- constructor sets for the exhaustiveness check --------------------------------
    def lookup_for(self, path: str) -> ConstructorLookup:
        """Constructor sets as seen from one file (its module and imports decide clashes)."""
        found = self._lookups.get(path)
        if found is None:
            found = self._lookups[path] = constructor_lookup(self.index, path=path)
        return found

    def references(self, name: str) -> list[Reference]:
        """Every use of ``name`` in the workspace (read once per question)."""
        found = self._refs.get(name)
        if found is None:
            found = self._refs[name] = self.index.references(name)
        return found

    # -- the exploration ---------------------------------------------------------------
    def run(self) -> Exploration:
        # Exploring a busy type allocates tens of thousands of small acyclic objects that live
        # until the end; the cyclic GC would rescan the whole decoded index for each batch.
        with gc_paused():
            return self._run()

    def _run(self) -> Exploration:
        target_def = resolve_target(self.index, self.question)
        refined = refine_for_target(self.question, target_def.kind.value)
        if refined != self.question:  # e.g. "change the type of cost" where cost is a field
            self.question = refined
            target_def = resolve_target(self.index, refined)
        target = Target(target_def.name, target_def.module, target_def.kind.value,
                        target_def.path, target_def.name_span.start_line)
        candidates = list(self._definition(target_def))
        candidates.extend(_checked(self._relations(target_def), self.cancel))
        merged = _merge(candidates)
        ranked = sorted(merged, key=_rank)
        kept = ranked[: self.question.budget]
        nodes = [self._node(c) for c in kept]
        stats = self.index.stats()
        coverage = Coverage(files_indexed=stats.files,
                            files_with_errors=len(stats.files_with_errors),
                            nodes_found=len(merged), nodes_kept=len(nodes))
        return Exploration(self.question, target, nodes, coverage)

    def _node(self, c: _Candidate) -> Node:
        return Node(path=c.path, line=c.line, hover=self.context.hover(c.path, c.line, c.enclosing),
                    snippet=self.context.snippet(c.path, c.line), facts=c.facts,
                    enclosing=c.enclosing, col=c.col,
                    end_line=c.end_line if c.end_line and c.end_line > c.line else None)

    def _definition(self, d: Definition) -> Iterator[_Candidate]:
        yield _Candidate(d.path, d.name_span.start_line,
                         SiteFacts(EdgeKind.DEFINITION, False, detail=(
                             f"the definition of {d.name}: the change itself is made here"),
                                   symbol=d.name, hop=0), d.name)

    def _relations(self, d: Definition) -> Iterator[_Candidate]:
        change = self.question.change
        if change is ChangeKind.ADD_CONSTRUCTOR:
            yield from self._add_constructor(d)
        elif change in (ChangeKind.REMOVE_CONSTRUCTOR, ChangeKind.RENAME_CONSTRUCTOR):
            yield from self._remove_constructor(d)
        elif change is ChangeKind.ADD_FIELD:
            yield from self._add_field(d)
        elif change in (ChangeKind.REMOVE_FIELD, ChangeKind.RENAME_FIELD,
                        ChangeKind.CHANGE_FIELD_TYPE):
            yield from self._field_change(d)
        elif change in (ChangeKind.CHANGE_SIGNATURE, ChangeKind.CHANGE_ARITY):
            yield from self._function_change(d)
        elif change in (ChangeKind.ADD_METHOD, ChangeKind.ADD_SUPERCLASS):
            yield from self._class_change(d)
        elif change is ChangeKind.CHANGE_TYPE_FAMILY:
            yield from self._type_family_change(d)
        elif change is ChangeKind.CHANGE_TYPE_SYNONYM:
            yield from self._synonym_change(d)
        elif change is ChangeKind.REMOVE_EXPORT:
            yield from self._remove_export(d)
        else:
            yield from self._generic(d)

    # -- add a constructor -------------------------------------------------------------
    def _add_constructor(self, t: Definition) -> Iterator[_Candidate]:
        cons = t.constructors
        type_name = t.name
        seen_sites: set[tuple[str, int, int]] = set()
        con_defs = [c for name in cons for c in self.index.definitions(
            name, (DefKind.CONSTRUCTOR,)) if c.module == t.module]
        verdicts: dict[str, AddedConstructorVerdicts] = {}  # per file: its lookup, its memo
        gadt = any(c.indices is not None for c in con_defs)
        for site in self.index.match_sites_mentioning(cons):
            seen_sites.add((site.path, site.span.start_line, site.span.start_col))
            named = site.constructors
            if not any(c.name in named and self._visible_in(site.path, c) for c in con_defs):
                continue  # another type's constructors of the same name
            memo = verdicts.get(site.path)
            if memo is None:
                memo = verdicts[site.path] = AddedConstructorVerdicts(
                    type_name, self.lookup_for(site.path))
            try:
                verdict = memo.verdict(self._gadt_refined(site) if gadt else site)
            except MatchShapeError as err:
                yield from self._unmodelled_site(site, type_name, str(err))
                continue
            if verdict is None:
                continue
            where = _site_name(site)
            if site.kind is MatchKind.DO_BIND:
                if verdict.decided and verdict.breaks:
                    yield self._failable_bind(site, type_name)
                continue
            if not verdict.decided:
                yield from self._unmodelled_site(site, type_name, "; ".join(
                    verdict.assumptions[-1:]) or "the pattern check gave up")
                continue
            if verdict.breaks or verdict.already_incomplete:
                detail = _no_catch_all(site, type_name)
                if verdict.already_incomplete and not verdict.breaks:
                    detail = (f"{_site_phrase(site, type_name)} is already incomplete; "
                              "the new constructor is unmatched too")
                yield _Candidate(site.path, site.span.start_line, SiteFacts(
                    EdgeKind.MATCH_SITE, True, detail=detail, symbol=type_name,
                    missing=verdict.witnesses or verdict.missing_before),
                                 site.enclosing, site.span.start_col)
            for i in verdict.absorbed_rows:
                if i >= len(site.rows):
                    continue  # a row the GADT refinement added
                row = site.rows[i]
                binder = _catch_all_name(row.patterns)
                yield _Candidate(site.path, row.line, SiteFacts(
                    EdgeKind.CATCH_ALL, False, silent=True, detail=(
                        f"`{binder}` in {where} will silently take the new {type_name} "
                        "constructor: check that its answer is right for it"),
                    symbol=type_name), site.enclosing)
        yield from self._synonym_catch_alls(t, seen_sites)
        yield from self._record_updates(t)
        yield from self._field_selectors(t)
        yield from self._derived_instances(t)
        yield from self._instances_of_type(t)
        yield from self._enumerations(t)
        yield from self._constructor_expressions(t)
        yield from self._type_uses(t, hop=1)

    def _gadt_refined(self, site: MatchSite) -> MatchSite:
        """The site with the GADT constructors its scrutinee's written type rules out
        covered (see ``refine``); unchanged when that type cannot be read."""
        functions = self._top_functions(site.path)
        if site.kind is MatchKind.FUNCTION:
            if site.name is None or site.name != site.enclosing:
                return site  # a where-bound helper: its type is not in the index
            function, clauses = functions.get(site.name), None
        elif site.kind is MatchKind.CASE and site.enclosing:
            function = functions.get(site.enclosing)
            clauses = next((s for s in self.index.files[site.path].match_sites
                            if s.kind is MatchKind.FUNCTION and s.name == site.enclosing
                            and s.span.start_line <= site.span.start_line <= s.span.end_line),
                           None)
        else:
            return site
        columns = scrutinee_types(site, function, clauses)
        if not any(columns):
            return site
        return refined(site, columns, self._constructors_of, self._flexible_type)

    def _constructors_of(self, type_name: str) -> list[Definition]:
        out = []
        for t in self.index.definitions(type_name, (DefKind.DATA, DefKind.NEWTYPE)):
            out.extend(c for name in t.constructors
                       for c in self.index.definitions(name, (DefKind.CONSTRUCTOR,))
                       if c.module == t.module and c.parent == t.name)
        return out

    def _flexible_type(self, name: str) -> bool:
        """A synonym or family: a written type naming it may be anything."""
        return bool(self.index.definitions(name, (DefKind.TYPE_SYNONYM, DefKind.TYPE_FAMILY,
                                                  DefKind.DATA_FAMILY)))

    def _top_functions(self, path: str) -> dict[str, Definition]:
        functions = self._functions.get(path)
        if functions is None:
            fi = self.index.summaries.get(path)
            functions = self._functions[path] = {}
            for d in fi.definitions if fi else ():
                if d.kind is DefKind.FUNCTION:
                    functions.setdefault(d.name, d)
        return functions

    def _unmodelled_site(self, site: MatchSite, type_name: str,
                         why: str) -> Iterator[_Candidate]:
        """A match the checker cannot model exactly still names the type's constructors: it
        becomes a node whose facts say what was assumed (scorers lower their confidence)."""
        phrase = _site_phrase(site, type_name)
        catch_alls = [r for r in site.rows
                      if not r.guarded and all(p.kind is PatKind.WILD for p in r.patterns)]
        if catch_alls:
            row = catch_alls[0]
            assumption = (f"the rows of {phrase} could not be checked exactly ({why}); "
                          f"assumed the catch-all on line {row.line} takes the new constructor")
            yield _Candidate(site.path, row.line, SiteFacts(
                EdgeKind.CATCH_ALL, False, silent=True, detail=(
                    f"`{_catch_all_name(row.patterns)}` in {_site_name(site)} probably takes "
                    f"the new {type_name} constructor silently"), symbol=type_name,
                assumption=assumption), site.enclosing)
            return
        assumption = (f"the rows of {phrase} could not be checked exactly ({why}); assumed "
                      "they name the constructors one by one, so the new one is unmatched")
        yield _Candidate(site.path, site.span.start_line, SiteFacts(
            EdgeKind.MATCH_SITE, True, detail=(
                f"{phrase} names {type_name}'s constructors and has no catch-all: it probably "
                "needs a case for the new one"), symbol=type_name, assumption=assumption),
                         site.enclosing, site.span.start_col)

    def _failable_bind(self, site: MatchSite, type_name: str) -> _Candidate:
        """A do-bind whose pattern can fail once the type has another constructor: it calls
        the monad's ``fail``. That needs ``MonadFail``: where the monad has none (a
        polymorphic ``m`` whose context does not give it, ``Either``, ``State``...), GHC
        rejects the bind; where it has one (``IO``, ``Maybe``, parsers), the bind fails at
        run time, silently. The monad is read from the enclosing declaration's signature."""
        fn = self._top_functions(site.path).get(site.enclosing or "")
        verdict, why = self._monad_fails(fn.signature if fn is not None else None)
        what = f"the do-bind of {type_name} in {_site_name(site)}"
        if verdict is False:
            return _Candidate(site.path, site.span.start_line, SiteFacts(
                EdgeKind.MATCH_SITE, True, detail=(
                    f"{what} can fail once {type_name} has another constructor, and {why}: "
                    "GHC rejects it (no MonadFail)"), symbol=type_name,
                missing=(f"<new {type_name} constructor>",)), site.enclosing,
                              site.span.start_col, site.span.end_line)
        return _Candidate(site.path, site.span.start_line, SiteFacts(
            EdgeKind.MATCH_SITE, False, silent=True, detail=(
                f"{what} can fail once {type_name} has another constructor: {why}, so it "
                "compiles and calls `fail` at run time on the new constructor"),
            symbol=type_name, assumption="" if verdict else (
                f"the monad of {what} could not be read from a signature; assumed it has "
                "MonadFail")), site.enclosing, site.span.start_col, site.span.end_line)

    def _monad_fails(self, signature: str | None) -> tuple[bool | None, str]:
        """Does the monad a signature's result runs in have ``MonadFail``? (True, why) when
        it does, (False, why) when it does not, (None, why) when it cannot be told."""
        if not signature:
            return None, "the declaration has no signature (GHC infers MonadFail)"
        context, result = _result_type(signature)
        head, args = (result[0], result[1:]) if result else ("", [])
        for _ in range(4):  # through transformers and synonyms to the monad that decides
            if not head:
                return None, "its monad could not be read"
            if head[0].islower():
                given = self._gives_monad_fail(context, head)
                return (True, f"its context gives MonadFail {head}") if given else (
                    False, f"the monad `{head}` is polymorphic and its context has no "
                           "MonadFail")
            bare = "[]" if head.startswith("[") else _bare_class(head)
            if bare in _FAIL_MONADS:
                return True, f"{bare} has MonadFail"
            if bare in _NO_FAIL_MONADS:
                return False, f"{bare} has no MonadFail instance"
            if bare in _TRANSFORMERS and len(args) >= 2:  # `ReaderT r m a`: m decides
                inner = _split_top(args[-2], " ")
                head, args = inner[0].strip("()"), inner[1:]
                continue
            if self._has_instance("MonadFail", bare):
                return True, f"{bare} has a MonadFail instance"
            synonym = next(iter(self.index.definitions(bare, (DefKind.TYPE_SYNONYM,))), None)
            if synonym is not None and synonym.signature and "=" in synonym.signature:
                rhs = _split_top(synonym.signature.split("=", 1)[1], " ")
                head, args = (rhs[0].strip("()"), [*rhs[1:], *args]) if rhs else ("", [])
                continue
            if self.index.definitions(bare, (DefKind.DATA, DefKind.NEWTYPE)):
                return False, f"{bare} has no MonadFail instance in the workspace"
            return None, f"whether {bare} has MonadFail is not known"
        return None, "its monad could not be read"

    def _gives_monad_fail(self, context: list[list[str]], var: str) -> bool:
        """Does a context give ``MonadFail var``, directly or through a workspace class's
        superclasses?"""
        todo = [c[0] for c in context if len(c) > 1 and _type_text(c[-1]) == var]
        seen: set[str] = set()
        while todo:
            name = _bare_class(todo.pop())
            if name == "MonadFail":
                return True
            if name in seen:
                continue
            seen.add(name)
            for d in self.index.definitions(name, (DefKind.CLASS,)):
                todo.extend(d.superclasses)
        return False

    def _has_instance(self, cls: str, type_name: str) -> bool:
        return any(d.parent == cls and type_name in d.instance_types
                   for kind in (DefKind.INSTANCE, DefKind.DERIVED_INSTANCE)
                   for d in self.index.definitions_of_kind(kind))

    def _fields_of(self, t: Definition) -> tuple[list[Definition], dict[str, Definition]]:
        """The type's constructors (in its module) and its record fields by name."""
        cons = [c for name in t.constructors for c in self.index.definitions(
            name, (DefKind.CONSTRUCTOR,)) if c.module == t.module and c.parent == t.name]
        fields: dict[str, Definition] = {}
        for con in cons:
            for fname in con.fields:
                for fdef in self.index.definitions(fname, (DefKind.FIELD,)):
                    if fdef.module == t.module and fdef.parent == con.name:
                        fields.setdefault(fname, fdef)
        return cons, fields

    def _record_updates(self, t: Definition) -> Iterator[_Candidate]:
        """`r { f = x }` on the type: partial once a constructor without ``f`` exists, which
        GHC reports with -Wincomplete-record-updates at the update (and it crashes at run
        time on the new constructor). A new constructor is assumed to have none of the
        fields."""
        cons, fields = self._fields_of(t)
        if not fields:
            return
        paths = sorted({p for f in fields for p in self.index.files_referencing(f)})
        for path in paths:
            fi = self.index.files[path]
            # the file's update rows per field, by line: one lookup per field and file
            rows: dict[str, dict[int, list[Reference]]] = {}
            for site in fi.match_sites:
                if site.kind is not MatchKind.RECORD_UPDATE or not fields.keys() & set(
                        site.fields):
                    continue
                ours = []
                for f in site.fields:
                    if f not in fields:
                        continue
                    by_line = rows.get(f)
                    if by_line is None:
                        by_line = rows[f] = {}
                        for r in fi.references.lookup(f, path):
                            if r.role is Role.RECORD_UPDATE:
                                by_line.setdefault(r.line, []).append(r)
                    if any(self._refers_to(r, fields[f])
                           for line in range(site.span.start_line, site.span.end_line + 1)
                           for r in by_line.get(line, ())):
                        ours.append(f)
                if not ours:
                    continue
                partial = [c.name for c in cons if not set(ours) <= set(c.fields)]
                names = ", ".join(ours)
                detail = (f"record update of {names} on {site.scrutinee or 'a value'} in "
                          f"{_site_name(site)} becomes partial: it fails at run time on the new "
                          f"{t.name} constructor (-Wincomplete-record-updates)")
                if partial:
                    detail += f"; it already fails on {', '.join(partial)}"
                yield _Candidate(path, site.span.start_line, SiteFacts(
                    EdgeKind.RECORD_UPDATE, True, detail=detail, symbol=ours[0],
                    missing=(f"<new {t.name} constructor>", *partial)),
                                 site.enclosing, site.span.start_col)

    def _field_selectors(self, t: Definition) -> Iterator[_Candidate]:
        """A field used as a function (`size c`, `map size xs`, `c.size`) becomes a partial
        selector: no compile error, a crash on the new constructor."""
        _, fields = self._fields_of(t)
        for fname, fdef in sorted(fields.items()):
            for ref in self.references(fname):
                if ref.role is not Role.EXPRESSION or not self._refers_to(ref, fdef):
                    continue
                yield _Candidate(ref.path, ref.line, SiteFacts(
                    EdgeKind.FIELD_ACCESS, False, silent=True, detail=(
                        f"{ref.enclosing or 'this code'} uses the field {fname} as a function: "
                        f"it fails at run time on the new {t.name} constructor, with no "
                        "compile error"), symbol=fname), ref.enclosing, ref.col)

    def _synonym_catch_alls(self, t: Definition,
                            seen: set[tuple[str, int, int]]) -> Iterator[_Candidate]:
        """Matches on pattern synonyms of the type (`pattern Flagship = Opus`) are invisible
        to the constructor check; their catch-all rows absorb a new constructor too."""
        all_synonyms = {d.name for d in self.index.definitions_of_kind(DefKind.PATTERN_SYNONYM)}
        if not all_synonyms:
            return
        synonyms = {ref.enclosing for con in t.constructors for ref in self.references(con)
                    if ref.enclosing in all_synonyms}
        if not synonyms:
            return
        for site in self.index.match_sites_mentioning(synonyms):
            if (site.path, site.span.start_line, site.span.start_col) in seen:
                continue
            for row in site.rows:
                if not row.guarded and all(p.kind is PatKind.WILD for p in row.patterns):
                    binder = _catch_all_name(row.patterns)
                    yield _Candidate(site.path, row.line, SiteFacts(
                        EdgeKind.CATCH_ALL, False, silent=True, detail=(
                            f"`{binder}` in {_site_name(site)} will silently take the new "
                            f"{t.name} constructor (the match uses pattern synonyms)"),
                        symbol=t.name), site.enclosing)

    def _derived_instances(self, t: Definition) -> Iterator[_Candidate]:
        """One node per deriving clause, naming every class whose behaviour changes."""
        clauses: dict[tuple[str, int], list[str]] = {}
        for d in self.index.definitions_of_kind(DefKind.DERIVED_INSTANCE):
            if t.name in d.instance_types and d.module == t.module or (
                    d.standalone and t.name in d.instance_types):
                clauses.setdefault((d.path, d.span.start_line), []).append(d.parent or d.name)
        for (path, line), classes in sorted(clauses.items()):
            effects = [_SILENT_DERIVED[cls] for cls in _SILENT_ORDER if cls in classes]
            names = ", ".join(classes)
            detail = (f"derived {names} for {t.name} change with no compile error: {effects[0]}"
                      if effects else
                      f"derived {names} for {t.name} is regenerated for the new constructor")
            enumerates = any(cls in ("Enum", "Bounded") for cls in classes)
            yield _Candidate(path, line, SiteFacts(
                EdgeKind.ENUMERATION if enumerates else EdgeKind.DERIVED_INSTANCE, False,
                silent=bool(effects), detail=detail, symbol=names), t.name)

    def _instances_of_type(self, t: Definition) -> Iterator[_Candidate]:
        for d in self.index.definitions_of_kind(DefKind.INSTANCE):
            if t.name not in d.instance_types:
                continue
            cls = d.parent or d.name
            silent = cls in _SILENT_DERIVED
            yield _Candidate(d.path, d.span.start_line, SiteFacts(
                EdgeKind.INSTANCE, False, silent=silent, detail=(
                    f"instance {cls} {t.name} is written by hand: its methods must give the new "
                    "constructor a meaning" if silent else
                    f"instance {cls} {t.name} may need a case for the new constructor"),
                symbol=cls), d.signature)

    def _enumerations(self, t: Definition) -> Iterator[_Candidate]:
        """`[minBound ..]`, `[minBound .. maxBound]`, `enumFrom` inside declarations whose type
        mentions the target: they silently grow with a new constructor."""
        for name in ("minBound", "maxBound", "enumFrom", "enumFromTo", "universe"):
            for ref in self.references(name):
                if ref.role is not Role.EXPRESSION:
                    continue
                encl = self._enclosing_def(ref)
                if encl is None or t.name not in (encl.mentions or ()):
                    if not self._line_mentions(ref.path, ref.line, t.name):
                        continue
                yield _Candidate(ref.path, ref.line, SiteFacts(
                    EdgeKind.ENUMERATION, False, silent=True, detail=(
                        f"`{name}` in {ref.enclosing or 'this declaration'} enumerates "
                        f"{t.name}: the new constructor joins the list without a compile error"),
                    symbol=name), ref.enclosing)

    def _constructor_expressions(self, t: Definition) -> Iterator[_Candidate]:
        for con in t.constructors:
            cdef = next((c for c in self.index.definitions(con, (DefKind.CONSTRUCTOR,))
                         if c.module == t.module), None)
            for ref in self.references(con):
                if cdef is not None and not self._refers_to(ref, cdef):
                    continue
                if ref.role in (Role.EXPRESSION, Role.RECORD_CONSTRUCT):
                    yield _Candidate(ref.path, ref.line, SiteFacts(
                        EdgeKind.CONSTRUCTOR_USE, False, detail=(
                            f"builds {con} in {ref.enclosing or 'this declaration'}; unaffected "
                            f"unless it should use the new constructor"),
                        symbol=con, hop=1), ref.enclosing, ref.col)

    # -- remove / rename a constructor -------------------------------------------------
    def _remove_constructor(self, c: Definition) -> Iterator[_Candidate]:
        verb = "removed" if self.question.change is ChangeKind.REMOVE_CONSTRUCTOR else "renamed"
        punned = bool(self.index.definitions(c.name, _TYPE_NAMESPACE))  # `data T = T …`
        for ref in self.references(c.name):
            if ref.role in _TYPE_ROLES or not self._refers_to(ref, c):
                continue  # a type of the same name, not the constructor
            if punned and ref.role in (Role.IMPORT, Role.EXPORT) and self._names_type(ref):
                continue
            edge, what = {
                Role.PATTERN: (EdgeKind.MATCH_SITE, "matches on"),
                Role.RECORD_PATTERN: (EdgeKind.MATCH_SITE, "matches on"),
                Role.RECORD_CONSTRUCT: (EdgeKind.RECORD_CONSTRUCT, "builds"),
                Role.IMPORT: (EdgeKind.IMPORT, "imports"),
                Role.EXPORT: (EdgeKind.EXPORT, "exports"),
            }.get(ref.role, (EdgeKind.CONSTRUCTOR_USE, "uses"))
            yield _Candidate(ref.path, ref.line, SiteFacts(
                edge, True, detail=(f"{ref.enclosing or _module_of(self.index, ref.path)} "
                                    f"{what} {c.name}, which is {verb}: this no longer compiles"),
                symbol=c.name), ref.enclosing, ref.col)
        parent = next(iter(self.index.definitions(c.parent or "", (DefKind.DATA,
                                                                    DefKind.NEWTYPE))), None)
        if parent is not None and self.question.change is ChangeKind.REMOVE_CONSTRUCTOR:
            yield from self._derived_instances(parent)

    def _names_type(self, ref: Reference) -> bool:
        """Does an import/export entry on the reference's line name only the type (`T(..)`),
        not the constructor of the same name (`T(T)`)?"""
        fi = self.index.summaries.get(ref.path)
        if fi is None:
            return False
        if ref.role is Role.EXPORT:
            return any(ex.line == ref.line and ex.name == ref.name
                       and ref.name not in ex.children for ex in fi.exports or ())
        above = [imp for imp in fi.imports if imp.line <= ref.line]
        if not above:
            return False
        imp = max(above, key=lambda i: i.line)  # the import the line belongs to
        return imp.names is not None and imp.names.count(ref.name) == 1

    # -- fields ------------------------------------------------------------------------
    def _record_constructors(self, d: Definition) -> list[Definition]:
        if d.kind is DefKind.CONSTRUCTOR:
            return [d]
        return [c for name in d.constructors for c in self.index.definitions(
            name, (DefKind.CONSTRUCTOR,)) if c.module == d.module]

    def _add_field(self, d: Definition) -> Iterator[_Candidate]:
        for con in self._record_constructors(d):
            for ref in self.references(con.name):
                if not self._refers_to(ref, con):
                    continue
                if ref.role in (Role.EXPRESSION, Role.PATTERN):
                    what = ("builds" if ref.role is Role.EXPRESSION else "matches")
                    yield _Candidate(ref.path, ref.line, SiteFacts(
                        EdgeKind.CONSTRUCTOR_USE if ref.role is Role.EXPRESSION
                        else EdgeKind.MATCH_SITE, True, detail=(
                            f"{ref.enclosing or 'this code'} {what} {con.name} positionally: "
                            "it needs one more argument for the new field"),
                        symbol=con.name), ref.enclosing, ref.col)
                elif ref.role is Role.RECORD_CONSTRUCT:
                    yield _Candidate(ref.path, ref.line, SiteFacts(
                        EdgeKind.RECORD_CONSTRUCT, True, detail=(
                            f"{ref.enclosing or 'this code'} builds {con.name} with record "
                            "syntax: the new field is missing (-Wmissing-fields; an error if "
                            "it is strict)"), symbol=con.name), ref.enclosing, ref.col)
                elif ref.role is Role.RECORD_PATTERN:
                    yield _Candidate(ref.path, ref.line, SiteFacts(
                        EdgeKind.FIELD_PATTERN, False, detail=(
                            f"record pattern on {con.name} in {ref.enclosing or 'this code'} "
                            "keeps working"), symbol=con.name), ref.enclosing, ref.col)
        t = d if d.kind is not DefKind.CONSTRUCTOR else next(iter(self.index.definitions(
            d.parent or "", (DefKind.DATA, DefKind.NEWTYPE))), None)
        if t is not None:
            for der in self.index.definitions_of_kind(DefKind.DERIVED_INSTANCE):
                if t.name in der.instance_types:
                    cls = der.parent or der.name
                    yield _Candidate(der.path, der.span.start_line, SiteFacts(
                        EdgeKind.DERIVED_INSTANCE, False, silent=cls in ("Show", "Read",
                                                                        "Generic", "ToJSON",
                                                                        "FromJSON"),
                        detail=f"derived {cls} {t.name} now includes the new field",
                        symbol=cls), t.name)

    def _field_change(self, f: Definition) -> Iterator[_Candidate]:
        change = self.question.change
        verb = {ChangeKind.REMOVE_FIELD: "is removed", ChangeKind.RENAME_FIELD: "is renamed",
                ChangeKind.CHANGE_FIELD_TYPE: "changes type"}[change]
        for ref in self.references(f.name):
            if ref.role in (Role.TYPE, Role.SIGNATURE) or not self._refers_to(ref, f):
                continue
            edge = {Role.RECORD_CONSTRUCT: EdgeKind.RECORD_CONSTRUCT,
                    Role.RECORD_UPDATE: EdgeKind.RECORD_UPDATE,
                    Role.RECORD_PATTERN: EdgeKind.FIELD_PATTERN,
                    Role.IMPORT: EdgeKind.IMPORT, Role.EXPORT: EdgeKind.EXPORT,
                    }.get(ref.role, EdgeKind.FIELD_ACCESS)
            breaks, end = True, None
            if change is ChangeKind.CHANGE_FIELD_TYPE:
                breaks = self._takes_old_type(ref, f)
                if ref.role is Role.RECORD_PATTERN:
                    value = _field_value(self._text_between(ref.path, ref.line, ref.col,
                                                            ref.line + 8))
                    if value and not re.fullmatch(r"[a-z_][\w']*", value.strip()):
                        breaks = value.strip() != "_"  # it matches the old type's shape
                    else:
                        end = self._pattern_uses(ref, f)
                        breaks = end is not None
            elif change is ChangeKind.REMOVE_FIELD and ref.role is Role.RECORD_PATTERN:
                end = self._pattern_uses(ref, f)  # the value goes: its uses go with it
            yield _Candidate(ref.path, ref.line, SiteFacts(
                edge, breaks, detail=(f"{ref.enclosing or 'this code'} uses field {f.name}, "
                                      f"which {verb}" + (": this no longer compiles"
                                                        if change is not
                                                        ChangeKind.CHANGE_FIELD_TYPE else
                                                        ": the value's type must match")),
                symbol=f.name), ref.enclosing, ref.col, end)
        cons = [c for c in self.index.definitions(f.parent or "", (DefKind.CONSTRUCTOR,))
                if c.module == f.module]
        # a newtype keeps its one field: removing its name leaves positional uses alone
        newtype = any(t.kind is DefKind.NEWTYPE for c in cons
                      for t in self.index.definitions(c.parent or "", (DefKind.NEWTYPE,))
                      if t.module == c.module)
        if change is ChangeKind.REMOVE_FIELD and not newtype:
            for con in cons:
                for ref in self.references(con.name):
                    if ref.role in (Role.EXPRESSION, Role.PATTERN) and self._refers_to(ref, con):
                        # a pattern binds the removed field's value: its uses go with it
                        end = ref.last_line
                        if ref.role is Role.EXPRESSION and not ref.end_line:
                            # `C <$> a <*> b`: one operand too many, wherever it is
                            operands = self._applicative_arguments(ref, con.name)
                            if operands:
                                end = max(end, operands[-1][1])
                        if ref.role is Role.PATTERN and f.name in con.fields:
                            uses = self._positional_binding(ref, con, con.fields.index(f.name))
                            if uses is not None and uses[1] is not None:
                                end = max(end, uses[1])
                        yield _Candidate(ref.path, ref.line, SiteFacts(
                            EdgeKind.CONSTRUCTOR_USE, True, detail=(
                                f"{ref.enclosing or 'this code'} uses {con.name} positionally: "
                                "it has one argument fewer"), symbol=con.name),
                                         ref.enclosing, ref.col, end)
        if change is ChangeKind.CHANGE_FIELD_TYPE:
            for con in cons:
                if f.name not in con.fields:
                    continue
                at = con.fields.index(f.name)
                for ref in self.references(con.name):
                    if ref.role is Role.PATTERN and self._refers_to(ref, con):
                        # `C a l c`: a nested pattern matches the old type's shape; a variable
                        # takes the new type, and its uses are what must fit
                        found = self._positional_binding(ref, con, at)
                        if found is None:
                            continue
                        shape, end = found
                        if shape or end is not None:
                            yield _Candidate(ref.path, ref.line, SiteFacts(
                                EdgeKind.CONSTRUCTOR_USE, True, detail=(
                                    f"{ref.enclosing or 'this code'} matches {con.name} "
                                    f"positionally: the value it binds for {f.name} has the new "
                                    "type" + ("" if shape else ", and is used as the old one")),
                                symbol=con.name), ref.enclosing, ref.col,
                                             max(ref.line, end or 0))
                        continue
                    if ref.role is Role.EXPRESSION and not ref.end_line \
                            and self._refers_to(ref, con):
                        # `C <$> a <*> b`: the operand at the field's position yields its value
                        operands = self._applicative_arguments(ref, con.name)
                        if at < len(operands) and (
                                self._concrete_action(operands[at][0])
                                or self._old_type_inside(ref, operands[at][0], f)):
                            yield _Candidate(ref.path, ref.line, SiteFacts(
                                EdgeKind.CONSTRUCTOR_USE, True, detail=(
                                    f"{ref.enclosing or 'this code'} builds {con.name} through "
                                    f"a functor: its operand for {f.name} yields the old type"),
                                symbol=con.name), ref.enclosing, ref.col, operands[at][1])
                        if operands:
                            continue
                        # `C $ v` (v often a lambda on the next lines): v is the first field
                        given = self._dollar_argument(ref, con.name)
                        if given is not None:
                            if at == 0 and self._old_type_value(ref, given[0], f,
                                                                (con.name, at)):
                                yield _Candidate(ref.path, ref.line, SiteFacts(
                                    EdgeKind.CONSTRUCTOR_USE, True, detail=(
                                        f"{ref.enclosing or 'this code'} builds {con.name} "
                                        f"positionally: its argument for {f.name} has the old "
                                        "type"), symbol=con.name), ref.enclosing, ref.col,
                                                 given[1])
                            continue
                        # heading no application (`pure = C`, `map C xs`, `C . f`): C is
                        # handed on as a function whose argument type changes, unless what
                        # feeds it makes any type (`C . pure`: the new one too)
                        if self._composed_with_polymorphic(ref, con.name):
                            continue
                        yield _Candidate(ref.path, ref.line, SiteFacts(
                            EdgeKind.CONSTRUCTOR_USE, True, detail=(
                                f"{ref.enclosing or 'this code'} passes {con.name} as a "
                                f"function: it now takes the new type for {f.name}"),
                            symbol=con.name), ref.enclosing, ref.col)
                        continue
                    if ref.role is not Role.EXPRESSION or not ref.end_line \
                            or not self._refers_to(ref, con):
                        continue
                    args = _call_arguments(self._text_between(ref.path, ref.line, ref.col,
                                                              ref.last_line), con.name)
                    if at >= len(args) or not self._old_type_value(ref, args[at], f,
                                                                     (con.name, at)):
                        continue
                    yield _Candidate(ref.path, ref.line, SiteFacts(
                        EdgeKind.CONSTRUCTOR_USE, True, detail=(
                            f"{ref.enclosing or 'this code'} builds {con.name} positionally: its "
                            f"argument for {f.name} has the old type"), symbol=con.name),
                                     ref.enclosing, ref.col, ref.last_line)

    def _takes_old_type(self, ref: Reference, f: Definition) -> bool:
        """Does this use of a field whose type changes need the old type? A selector's use
        and a value given in record syntax do (unless the value is the field's own, read
        from another record); a record pattern only binds it (its uses are what must fit),
        an import or export list only names it."""
        if ref.role in (Role.IMPORT, Role.EXPORT):
            return False
        if ref.role is Role.RECORD_PATTERN:
            return False  # see _pattern_uses: the bound value's uses are what must fit
        if ref.role in (Role.RECORD_CONSTRUCT, Role.RECORD_UPDATE):
            value = _field_value(self._text_between(ref.path, ref.line, ref.col, ref.line + 8))
            return value is None or self._old_type_value(ref, value, f)
        lines = self.context.lines(ref.path)
        before = lines[ref.line - 1][:ref.col] if 0 < ref.line <= len(lines) else ""
        if re.search(r"(?<![\w'.])" + re.escape(f.name) + r"\s*=\s*\(?\s*$", before):
            return False  # `r { f = f s }`: the field's own value, given back to it
        consumer = re.search(r"([a-zA-Z_][\w'.]*)\s*(?:\$|\(|\.)\s*\(?\s*$", before)
        if consumer and consumer.group(1).rpartition(".")[2] in _CLASS_CONSUMERS:
            return False  # handed to a class method the new type is taken to have too
        after = lines[ref.line - 1][ref.col + len(ref.name):] if 0 < ref.line <= len(lines) \
            else ""
        if consumer and f.parent and consumer.group(1).rpartition(".")[2] == f.parent \
                and re.search(r"(?:\$|\()\s*$", before) \
                and re.match(r"\s+[a-z_][\w']*\s*(?:\)|$)", after):
            return False  # `C $ f r`, `C (f r)`: the field's own value, given back to C
        return True

    def _old_type_value(self, ref: Reference, value: str, f: Definition,
                        position: tuple[str, int] | None = None) -> bool:
        """Is a value given to the field built with its old type, rather than read from the
        field itself: `f r`, or a variable bound from the field (`C {f = v}`, a pun or a
        wildcard, or the same position of a positional pattern, ``position``: (constructor,
        index))?"""
        kind, head, _ = _expression_head(value)
        if kind == "name" and head.rpartition(".")[2] == f.name:
            return False
        var = value.strip()
        if kind == "name" and re.fullmatch(r"[a-z_][\w']*", var):
            if var == f.name:
                return False  # a pun or a wildcard's variable: the field's own value
            encl = self.context.enclosing(ref.path, ref.line)
            scope = self._declaration_text(encl) if encl is not None else ""
            if encl is not None and (position is not None or ref.role in (
                    Role.RECORD_CONSTRUCT, Role.RECORD_UPDATE)):
                # the use itself (`f = v`, `C a v` in this construction) binds nothing: blank
                # its name
                lines = scope.split("\n")
                k = ref.line - encl.span.start_line
                if 0 <= k < len(lines):
                    lines[k] = lines[k][:ref.col] + " " * len(ref.name) + lines[k][
                        ref.col + len(ref.name):]
                    scope = "\n".join(lines)
            if re.search(r"(?<![\w'.])" + re.escape(f.name) + r"\s*=\s*" + re.escape(var)
                         + r"(?![\w'])", scope):
                return False
            if position is not None:
                con, at = position
                if re.search(r"(?<![\w'.])" + re.escape(con) + r"\s+(?:\S+\s+){" + str(at)
                             + r"}" + re.escape(var) + r"(?![\w'])", scope):
                    return False
                declared = self._parameter_type(ref, var)
                if declared is not None:  # a parameter: its written type decides
                    return _type_text(declared) == _type_text(f.signature.split("::", 1)[-1]
                                                              if f.signature else "")
                return self._built_variable(var, scope)
        return True

    def _parameter_type(self, ref: Reference, var: str) -> str | None:
        """The written type of ``var`` when it is a parameter of the equation around ``ref``
        in a declaration with a signature (a variable pattern, or one inside a tuple pattern
        whose written type is a tuple), else None."""
        encl = self.context.enclosing(ref.path, ref.line)
        if encl is None or not encl.signature:
            return None
        lines = self.context.lines(ref.path)
        for i in range(min(ref.line, len(lines)), encl.span.start_line - 1, -1):
            head = lines[i - 1]
            if re.match(re.escape(encl.name) + r"(?![\w'])", head):  # the equation's head
                args = _call_arguments(head, encl.name)
                types = _parameter_types(encl.signature)
                for arg, ty in zip(args, types, strict=False):
                    if arg == var:
                        return ty
                    parts, tys = _tuple_parts(arg), _tuple_parts(ty)
                    if parts and len(parts) == len(tys) and var in parts:
                        return tys[parts.index(var)]
                return None
        return None

    def _built_variable(self, var: str, scope: str) -> bool:
        """Is a variable given positionally built as the old type: bound (`let`/`where`, a
        pattern binding too) to a literal, a list or a constructor's value, or a top-level
        definition whose written type is concrete (`pos1 :: Pos`)? A parameter, a do bind's
        result or a value computed by a function may already follow the new type."""
        body = _local_body(scope, var, patterns=True)
        if body is not None:
            kind, head, _ = _expression_head(body)
            return kind in ("literal", "lambda") or (kind == "name" and head[:1].isupper()) \
                or (kind == "operator" and head in (":", "++"))
        if _binds(scope, var):
            return False
        typed = [d for d in self.index.definitions(var, (DefKind.FUNCTION,)) if d.signature]
        return bool(typed) and all(
            "->" not in d.signature.split("::", 1)[-1]
            and not re.search(r"(?<![\w'.])[a-z_][\w']*", d.signature.split("::", 1)[-1])
            for d in typed)

    def _pattern_uses(self, ref: Reference, f: Definition) -> int | None:
        """For a record pattern binding the field (`C {f = v}`, `C {f}`): the last line where
        the bound variable is used in the rest of the declaration, or None when unused."""
        value = _field_value(self._text_between(ref.path, ref.line, ref.col, ref.line + 8))
        var = value.strip() if value else f.name
        if not re.fullmatch(r"[a-z_][\w']*", var):
            return None
        line = self.context.lines(ref.path)[ref.line - 1] if ref.line else ""
        close = line.find("}", ref.col)
        return self._variable_uses(ref, var, close + 1 if close >= 0 else len(line))

    def _positional_binding(self, ref: Reference, con: Definition, at: int, *,
                            applied: bool = False) -> tuple[bool, int | None] | None:
        """For a positional pattern `C a b c` (``ref``, one line): what it puts at argument
        ``at``: (True, None) for a nested pattern (it matches the old type's shape),
        (False, last line where the variable bound there is used, or None); None when the
        argument cannot be read (`_`, missing, on another line). With ``applied``, only the
        uses that apply the variable as a function count (`f x`, `f $ x`, `g . f`)."""
        lines = self.context.lines(ref.path)
        if not 0 < ref.line <= len(lines):
            return None
        text = lines[ref.line - 1][ref.col:]
        args = _call_arguments(text, con.name)
        if at >= len(args):
            return None
        arg = args[at].strip()
        if arg == "_" or arg.startswith("_"):
            return None
        if not re.fullmatch(r"[a-z][\w']*", arg):
            return True, None  # a literal, a constructor, a nested pattern
        # the argument's position: after the constructor and the arguments before it
        m = re.match(r"(?:[A-Z][\w']*\.)*" + re.escape(con.name) + r"\s+" +
                     "".join(re.escape(a) + r"\s+" for a in args[:at]) + re.escape(arg), text)
        if m is None:
            return None
        # handed back to the same field (`C a v c`, `r { f = v }`) it keeps its type: no use
        given = [re.compile(r"(?<![\w'.])" + re.escape(con.name) + r"\s+(?:\S+\s+){" + str(at)
                            + r"}" + re.escape(arg) + r"(?![\w'])")]
        if at < len(con.fields) and con.fields[at]:
            given.append(re.compile(r"(?<![\w'.])" + re.escape(con.fields[at]) + r"\s*=\s*"
                                    + re.escape(arg) + r"(?![\w'])"))
        use = None
        if not applied:  # a use handed to a polymorphic parameter follows the new type
            word = re.compile(r"(?<![\w'.])" + re.escape(arg) + r"(?![\w'])")
            return False, self._variable_uses(ref, arg, ref.col + m.end(), given,
                                              keep=lambda before: not self._polymorphic_slot(
                                                  before), word=word)
        if applied:
            v = re.escape(arg)
            use = re.compile(r"(?<![\w'.])" + v + r"\s+(?:\$|[\w(\[\"'])(?!\w*\s*=[^=])"
                             r"|(?<![\w'.])" + v + r"\s+\.\s|\s\.\s+" + v + r"(?![\w'.])")
        return False, self._variable_uses(ref, arg, ref.col + m.end(), given, use)

    def _polymorphic_slot(self, before: str) -> bool:
        """Is the value that follows ``before`` (the text of its line up to it) an argument
        of a function that takes any type there: a class consumer (`show`), or a workspace
        function whose parameter at that position is a type variable (`walkM f x`, `walkM ::
        (a -> m a) -> b -> m b`)?"""
        head = re.split(r"(?:<-|=|\$|\(|,|\[|[!#%&*+/<>?@^|~:-]{1,3})\s*(?=[^\s])",
                        before.rstrip())[-1] if before.strip() else ""
        words = _call_arguments(head.strip() + " ", head.strip().split(" ")[0]) \
            if head.strip() else []
        name = head.strip().split(" ")[0].rpartition(".")[2] if head.strip() else ""
        if not name or not re.fullmatch(r"[a-z_][\w']*", name):
            return False
        if name in _CLASS_CONSUMERS:
            return True
        typed = [d for d in self.index.definitions(name, (DefKind.FUNCTION, DefKind.METHOD))
                 if d.signature]
        at = len(words)
        if not typed:
            return False
        for d in typed:
            params = _parameter_types(d.signature or "")
            if at >= len(params) or re.match(r"[a-z_]", params[at].strip("( ")) is None \
                    or " " in params[at].strip("() "):
                return False
        return True

    def _variable_uses(self, ref: Reference, var: str, after: int,
                       given: Sequence[re.Pattern] = (),
                       use: re.Pattern | None = None,
                       keep: Callable[[str], bool] | None = None,
                       word: re.Pattern | None = None) -> int | None:
        """The last line where ``var``, bound by a pattern at ``ref`` (its line's text from
        column ``after`` on), is used in the rest of the clause (its guards, body and
        `where`), or None when unused; text matching ``given`` is no use, and ``use`` (when
        given) says what a use is."""
        encl = self.context.enclosing(ref.path, ref.line)
        if encl is None:
            return None
        lines = self.context.lines(ref.path)
        word = word or use or re.compile(r"(?<![\w'.])" + re.escape(var) + r"(?![\w'])")
        last = None
        for i in range(ref.line, min(encl.span.end_line, ref.line + 40, len(lines)) + 1):
            text = lines[i - 1]
            if i == ref.line:
                text = text[after:]
            elif re.match(r"\S", text):
                break  # the next clause or declaration
            for pattern in given:
                text = pattern.sub("", text)
            if any(keep is None or keep(text[:m.start()]) for m in word.finditer(text)):
                last = i
        return last

    def _composed_with_polymorphic(self, ref: Reference, name: str) -> bool:
        """`C . pure`, `C . fromIntegral`: composed with a function whose result is any type
        with the class's instances (which the new type is taken to keep)."""
        lines = self.context.lines(ref.path)
        text = lines[ref.line - 1][ref.col:] if 0 < ref.line <= len(lines) else ""
        m = re.match(r"(?:[A-Z][\w']*\.)*" + re.escape(name) + r"\s*\.\s*(?:[A-Z][\w']*\.)*"
                     r"([a-z_][\w']*)", text)
        return m is not None and m.group(1) in _POLYMORPHIC_RESULTS

    def _old_type_inside(self, ref: Reference, operand: str, f: Definition) -> bool:
        """Is ``operand`` a parameter written as a functor of the field's old type (`[T]`,
        `Maybe T`, `m T`)?"""
        var = operand.strip()
        if not re.fullmatch(r"[a-z_][\w']*", var) or not f.signature:
            return False
        declared = self._parameter_type(ref, var)
        if declared is None:
            return False
        old, t = _type_text(f.signature.split("::", 1)[-1]), _type_text(declared)
        return t == f"[{old}]" or (" " in t and _type_text(_split_top(t, " ")[-1]) == old)

    def _dollar_argument(self, ref: Reference, name: str) -> tuple[str, int] | None:
        """For a constructor applied with `$` (`C $ v`, `C $` with v on the next lines): v's
        first line of text and v's last line (the lines indented under the use: a lambda's
        body, where GHC reports what no longer fits); None when the use is not one."""
        lines = self.context.lines(ref.path)
        encl = self.context.enclosing(ref.path, ref.line)
        if encl is None or not 0 < ref.line <= len(lines):
            return None
        first = lines[ref.line - 1]
        m = re.match(r"(?:[A-Z][\w']*\.)*" + re.escape(name) + r"\s*\$(?![!$#%&*+./<=>?@^|~:-])"
                     r"\s*(.*)$", first[ref.col:])
        if m is None:
            return None
        last = _block_end(lines, ref.line, encl.span.end_line)
        value = m.group(1).strip() or next(
            (t.strip() for t in lines[ref.line:last] if t.strip()), "")
        return (value, last) if value else None

    def _applicative_arguments(self, ref: Reference, name: str) -> list[tuple[str, int]]:
        """For a constructor applied through a functor (`C <$> a <*> b`, operands on the
        lines that follow): each operand with its last line; [] when the use is not one."""
        lines = self.context.lines(ref.path)
        encl = self.context.enclosing(ref.path, ref.line)
        if encl is None or not 0 < ref.line <= len(lines):
            return []
        first = lines[ref.line - 1]
        m = re.match(r"(?:[A-Z][\w']*\.)*" + re.escape(name) + r"\s*<\$>", first[ref.col:])
        if m is None:
            return []
        last = _block_end(lines, ref.line, min(ref.line + 20, encl.span.end_line))
        body = "\n".join([first[ref.col + m.end():], *lines[ref.line:last]])
        args: list[tuple[str, int]] = []
        depth, start, i = 0, 0, 0
        while i < len(body):
            ch = body[i]
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth -= 1
                if depth < 0:
                    break
            elif ch == '"':
                j = body.find('"', i + 1)
                i = j if j > 0 else len(body)
            elif depth == 0 and ch == ",":
                break
            elif depth == 0 and (op := _OPERATOR.match(body, i)):
                if op.group(0) == "<*>":
                    end = len(body[:i].rstrip())
                    args.append((body[start:i], ref.line + body[:end].count("\n")))
                    i = start = op.end()
                    continue
                if op.group(0) in ("<|>", "$", ">>=", ">>", "=<<", "<&>", "<>", "`seq`"):
                    break
                i = op.end()
                continue
            elif depth == 0 and re.match(r"(?<![\w'])(?:where|then|else|of|in)\b", body[i:]) \
                    and (i == 0 or not re.match(r"[\w']", body[i - 1])):
                break
            i += 1
        end = i
        while end > start and body[end - 1].isspace():
            end -= 1
        args.append((body[start:end], ref.line + body[:end].count("\n")))
        return [(a.strip(), line) for a, line in args if a.strip()]

    def _yields_expansion(self, path: str, action: str, info: _Synonym) -> bool:
        """Does an operand of `C <$> a <*> b` yield a value built as what a synonym stood for:
        a tuple or a constructor mapped over actions (`(,,) <$> x <*> y`), `pure` of such a
        value, or a workspace action of a concrete type not written with the synonym? A
        library action (`arbitrary`) takes whatever type the field now has."""
        kind, head, args = _expression_head(action)
        if kind == "operator" and head in ("<$>", "<$") and args:
            if re.fullmatch(r"\(\s*,[\s,]*\)", args[0].strip()):
                return True  # a tuple's constructor
            fkind, fhead, _ = _expression_head(args[0])
            return fkind == "literal" or (fkind == "name" and fhead.rpartition(".")[2][:1]
                                           .isupper())
        if kind == "name" and head in ("pure", "return") and args:
            return self._built_as_expansion(path, args[0], info) is True
        if kind == "name" and self._concrete_action(action):
            return not any(_mentions_any(_result_text(d.signature or ""), info.names)
                           for d in self.index.definitions(head.rpartition(".")[2],
                                                           (DefKind.FUNCTION,)))
        return False

    def _concrete_action(self, arg: str) -> bool:
        """Is an operand of `C <$> a <*> b` an action whose result is a concrete type, read
        from a workspace function's signature (`arbInlines :: Int -> Gen [Inline]`)? A class
        method or library action (`arbitrary`) takes whatever type the field now has."""
        kind, head, _ = _expression_head(arg)
        if kind != "name":
            return False
        typed = [d for d in self.index.definitions(head.rpartition(".")[2],
                                                   (DefKind.FUNCTION,)) if d.signature]
        return bool(typed) and all(
            not re.search(r"(?<![\w'.])[a-z_][\w']*", _result_text(d.signature or ""))
            for d in typed)

    # -- functions ---------------------------------------------------------------------
    def _function_change(self, fn: Definition) -> Iterator[_Candidate]:
        arity = self.question.change is ChangeKind.CHANGE_ARITY
        for ref in self.references(fn.name):
            if not self._refers_to(ref, fn):
                continue
            if ref.role is Role.EXPRESSION:
                if ref.end_line:  # it heads an application
                    detail = (f"{ref.enclosing or 'this code'} calls {fn.name}: "
                              + ("it must pass the new argument" if arity else
                                 "its arguments or result must fit the new type"))
                    edge = EdgeKind.CALL_SITE
                else:
                    detail = (f"{ref.enclosing or 'this code'} uses {fn.name} without applying "
                              "it (as a value, an operator or a section): "
                              + ("what receives it must expect one more argument"
                                 if arity else "what receives it must accept the new type"))
                    edge = EdgeKind.PARTIAL_APPLICATION
                yield _Candidate(ref.path, ref.line, SiteFacts(
                    edge, True, detail=detail, symbol=fn.name), ref.enclosing, ref.col,
                                 ref.last_line)
            elif ref.role in (Role.IMPORT, Role.EXPORT):
                yield _Candidate(ref.path, ref.line, SiteFacts(
                    EdgeKind.IMPORT if ref.role is Role.IMPORT else EdgeKind.EXPORT, False,
                    detail=f"names {fn.name} in an import/export list; unaffected",
                    symbol=fn.name), ref.enclosing)
        if fn.kind is DefKind.METHOD:
            for inst in self.index.definitions_of_kind(DefKind.INSTANCE):
                if (inst.parent == fn.parent and fn.name in inst.implemented
                        and self._instance_of(inst, fn)):
                    yield _Candidate(inst.path, inst.span.start_line, SiteFacts(
                        EdgeKind.INSTANCE, True, detail=(
                            f"{inst.signature or 'an instance'} implements {fn.name}: its "
                            "definition must follow the new type"), symbol=fn.name),
                                     inst.signature)
        uses = [ref for ref in self.references(fn.name)
                if ref.role is Role.EXPRESSION and self._refers_to(ref, fn)]
        # With one more argument, a call still type-checks and hands a function on; with an
        # unrelated type, applying it fails right there and only an unapplied use flows on.
        flowing = uses if arity else [ref for ref in uses if not ref.end_line]
        yield from self._inferred_locals(fn, flowing)
        # further hop: callers of the functions that call the target. A caller without a
        # signature has its type inferred from the call, so its own uses change type too.
        callers: dict[tuple[str, str], Definition] = {}
        inferred_from = {id(ref) for ref in flowing}
        for ref in uses:
            if ref.enclosing and ref.enclosing != fn.name:
                caller = self._top_functions(ref.path).get(ref.enclosing)
                if caller is not None:
                    callers.setdefault((caller.path, caller.name), caller)
        flows = {(ref.path, ref.enclosing) for ref in uses if id(ref) in inferred_from}
        for (path, name), caller in sorted(callers.items()):
            inferred = caller.signature is None and (path, name) in flows
            for ref in self.references(name):
                if (ref.role is not Role.EXPRESSION or ref.enclosing == name
                        or not self._refers_to(ref, caller)):
                    continue
                if inferred:
                    yield _Candidate(ref.path, ref.line, SiteFacts(
                        EdgeKind.CALLER, True, detail=(
                            f"calls {name}, whose type is inferred from its call of "
                            f"{fn.name}: its type changes with it"), symbol=name, hop=2,
                        assumption=(f"{name} has no type signature, so the change of {fn.name} "
                                    f"reaches its callers (GHC reports where the new type "
                                    "does not fit)")),
                                     ref.enclosing, ref.col, ref.last_line)
                else:
                    yield _Candidate(ref.path, ref.line, SiteFacts(
                        EdgeKind.CALLER, False, detail=(
                            f"calls {name}, which calls {fn.name}: affected only if "
                            f"{name}'s own type changes too"), symbol=name, hop=2),
                                     ref.enclosing, ref.col)

    def _inferred_locals(self, fn: Definition,
                         uses: list[Reference]) -> Iterator[_Candidate]:
        """A `let`/`where` binding (or a do block's `x <-`) without a signature that holds a
        call of ``fn`` takes its type from the call: where the binding is used, GHC often
        reports the change (not at the call). The binding and its scope are read from the
        text and its layout (the index keeps no local binders)."""
        monadic = self.question.change is not ChangeKind.CHANGE_ARITY
        for ref in uses:
            found = self._local_binding(ref, monadic)
            if found is None:
                continue
            name, line, first, last = found
            lines = self.context.lines(ref.path)
            word = re.compile(r"(?<![\w'.])" + re.escape(name) + r"(?![\w'])")
            if any(re.match(r"\s*" + re.escape(name) + r"\s*::", lines[i - 1])
                   for i in range(first, last + 1)):
                continue  # it has a signature: its type does not follow the call
            for i in range(first, min(last, len(lines)) + 1):
                if i == line or not word.search(lines[i - 1]):
                    continue
                end = None
                if re.search(r"\bcase\s+" + re.escape(name) + r"\s+of\s*$", lines[i - 1]):
                    # the scrutinee: GHC reports at the alternatives' patterns, below it
                    end = _block_end(lines, i, last)
                yield _Candidate(ref.path, i, SiteFacts(
                    EdgeKind.CALLER, True, detail=(
                        f"uses {name}, which is bound to a call of {fn.name} on line {line}: "
                        "its type changes with it"), symbol=name, hop=2,
                    assumption=(f"{name} has no type signature, so it takes the new type of "
                                f"{fn.name}'s call; assumed its uses no longer fit")),
                                 ref.enclosing, 0, end)

    def _local_binding(self, ref: Reference, monadic: bool) -> tuple[str, int, int, int] | None:
        """The local binding whose right-hand side holds ``ref``: its name, its line and the
        lines of its scope (a do bind's or `let`'s: the lines after it indented at least as
        far; a `where`'s: the whole top-level declaration). None at top level, and for a do
        bind unless ``monadic`` (a call one argument short is no action: the bind itself
        fails and the bound name's type is free)."""
        top = self._top_functions(ref.path).get(ref.enclosing or "")
        if top is None:
            return None
        lines = self.context.lines(ref.path)
        if not 0 < ref.line <= len(lines):
            return None

        def depth(text: str) -> int:
            return len(text) - len(text.lstrip())

        indent = depth(lines[ref.line - 1])  # the least indentation from the call's line up
        for i in range(ref.line, top.span.start_line, -1):  # never the top-level line itself
            text = lines[i - 1]
            if i != ref.line and (not text.strip() or depth(text) >= indent):
                continue
            # the innermost binding: the last head before the call on its own line
            heads = [m for m in _BINDING.finditer(text if i != ref.line else text[:ref.col])
                     if m.start() == 0 or text[:m.start()].rstrip().endswith(
                         ("do", "let", "where", ";", "{"))]
            column = heads[-1].start(1) if heads else 0
            # a binding's right-hand side goes on with lines indented past its name
            if heads and (i == ref.line or indent > column):
                name = heads[-1].group(1)
                if name == top.name:
                    return None
                before = text[:heads[-1].start(1)].rstrip()
                do_bind = "<-" in text[heads[-1].end(1):heads[-1].end()]
                if do_bind and not monadic:
                    return None
                if do_bind or before.endswith("let"):
                    # the rest of the block: statements at the `let` (or the bound name)
                    if before.endswith("let"):
                        column = len(before) - 3
                    end = i
                    for j in range(i + 1, min(top.span.end_line, len(lines)) + 1):
                        if lines[j - 1].strip() and depth(lines[j - 1]) < column:
                            break
                        end = j
                    return name, i, i, end
                return name, i, top.span.start_line, top.span.end_line
            if i != ref.line:
                indent = depth(text)
        return None

    # -- classes -----------------------------------------------------------------------
    def _class_change(self, cls: Definition) -> Iterator[_Candidate]:
        adding_method = self.question.change is ChangeKind.ADD_METHOD
        if adding_method and adds_method_with_default(self.question):
            yield from self._method_with_default(cls)
            return
        minimal = cls.minimal is not None
        if adding_method and minimal:
            # The change is made at the class (its definition node); the pragma decides where
            # GHC says so: at the class while it leaves the method out ("does not require"),
            # at every instance without it once it names it.
            yield _Candidate(cls.path, cls.minimal_line or cls.name_span.start_line, SiteFacts(
                EdgeKind.DEFINITION, False, detail=(
                    f"the MINIMAL pragma of {cls.name} ({cls.minimal}) decides where GHC warns "
                    "about the new method, which has no default: at the class while the pragma "
                    "leaves it out, at every instance without it once the pragma names it"),
                symbol=cls.name, hop=0), cls.name)
        for kind in (DefKind.INSTANCE, DefKind.DERIVED_INSTANCE):
            for inst in self.index.definitions_of_kind(kind):
                if inst.parent != cls.name or not self._instance_of(inst, cls):
                    continue
                head = inst.signature or f"instance {cls.name}"
                if adding_method and minimal:
                    # The instance must get the method: calling it there fails at run time.
                    # Whether GHC says so here depends on the MINIMAL pragma.
                    where = (f"line {cls.minimal_line}" if cls.minimal_line is not None
                             else f"{cls.name}'s declaration")
                    yield self._instance_candidate(inst, SiteFacts(
                        EdgeKind.INSTANCE if kind is DefKind.INSTANCE
                        else EdgeKind.DERIVED_INSTANCE, True, detail=(
                            f"{head} does not define the new method, which has no default: "
                            "calling it there fails at run time; GHC warns here "
                            "(-Wmissing-methods) only if the MINIMAL pragma "
                            f"({cls.minimal}, {where}) is made to require it"),
                        symbol=cls.name, missing=("<new method>",)), head)
                elif adding_method:
                    anyclass = kind is DefKind.DERIVED_INSTANCE
                    detail = (f"{head} must define the new method (no default): "
                              "-Wmissing-methods" if not anyclass else
                              f"{head} derives {cls.name}: the new method needs a default")
                    yield self._instance_candidate(inst, SiteFacts(
                        EdgeKind.INSTANCE if not anyclass else EdgeKind.DERIVED_INSTANCE, True,
                        detail=detail, symbol=cls.name), head)
                elif (given := self._provides_superclass(inst, cls)) is not None:
                    yield self._instance_candidate(inst, SiteFacts(
                        EdgeKind.INSTANCE, False, detail=(
                            f"{head}: its context's {given} already provides the new "
                            f"superclass (it has {cls.name} for the same type among its own "
                            "superclasses)"), symbol=cls.name), head)
                else:
                    yield self._instance_candidate(inst, SiteFacts(
                        EdgeKind.INSTANCE, True, detail=(
                            f"{head} needs an instance of the new superclass for the same type"),
                        symbol=cls.name), head)
        for ref in self.references(cls.name):
            if ref.role is Role.CONTEXT and self._refers_to(ref, cls):
                yield _Candidate(ref.path, ref.line, SiteFacts(
                    EdgeKind.CONSTRAINT_USE, False, detail=(
                        f"{ref.enclosing or 'this declaration'} has a {cls.name} constraint; "
                        "it keeps working" if adding_method else
                        f"{ref.enclosing or 'this declaration'} has a {cls.name} constraint, "
                        "which now implies the superclass"), symbol=cls.name),
                                 ref.enclosing)

    def _method_with_default(self, cls: Definition) -> Iterator[_Candidate]:
        """A new method with a default: nothing fails to compile (GHC says nothing); every
        instance silently takes the default, which must be right for its type."""
        for kind in (DefKind.INSTANCE, DefKind.DERIVED_INSTANCE):
            for inst in self.index.definitions_of_kind(kind):
                if inst.parent != cls.name or not self._instance_of(inst, cls):
                    continue
                head = inst.signature or f"instance {cls.name}"
                yield self._instance_candidate(inst, SiteFacts(
                    EdgeKind.INSTANCE if kind is DefKind.INSTANCE else EdgeKind.DERIVED_INSTANCE,
                    False, silent=True, detail=(
                        f"{head} silently takes the new method's default implementation: "
                        "check that it is right for this type"), symbol=cls.name), head)
        for ref in self.references(cls.name):
            if ref.role is Role.CONTEXT and self._refers_to(ref, cls):
                yield _Candidate(ref.path, ref.line, SiteFacts(
                    EdgeKind.CONSTRAINT_USE, False, detail=(
                        f"{ref.enclosing or 'this declaration'} has a {cls.name} constraint; "
                        "it keeps working"), symbol=cls.name), ref.enclosing)

    # -- type families and synonyms ----------------------------------------------------
    def _type_family_change(self, tf: Definition) -> Iterator[_Candidate]:
        """A family's equations change: code relies on them where the family *reduces*, that
        is, where it is applied to a known type: the methods of instances for such types
        (`instance Stream [a]`: `take1_ :: s -> Maybe (Token s, s)` at `s = [a]`), and
        signatures that apply it to one (`Token String`). A signature applying it to type
        variables only (`satisfy :: (Token s -> Bool) -> m (Token s)`) never reduces it, so
        an equation's change cannot reach it. The equations are where the change is made."""
        for inst in self.index.definitions(tf.name, (DefKind.TYPE_INSTANCE,)):
            yield _Candidate(inst.path, inst.span.start_line, SiteFacts(
                EdgeKind.TYPE_FAMILY_INSTANCE, False, detail=(
                    f"{inst.signature or 'an equation of ' + tf.name}: an equation the change "
                    "rewrites"), symbol=tf.name, hop=0), tf.name)
        yield from self._instance_methods_relying_on(tf)
        # a synonym that applies the family to a known type reduces it wherever it is used
        reducing = [s for s in self.index.definitions_of_kind(DefKind.TYPE_SYNONYM)
                    if tf.name in s.mentions and _applied_to_known_type(
                        (s.signature or "").partition("=")[2], tf.name)]
        for syn in reducing:
            for ref in self.references(syn.name):
                fn = self._top_functions(ref.path).get(ref.enclosing or "")
                if ref.role is Role.SIGNATURE and fn is not None and self._refers_to(ref, syn):
                    yield self._declaration_candidate(ref, fn, SiteFacts(
                        EdgeKind.SIGNATURE, True, detail=(
                            f"the type of {ref.enclosing} is {syn.name}, which applies "
                            f"{tf.name} to a known type: its definition relies on the equation "
                            "that changes"), symbol=tf.name, hop=2))
        for ref in self.references(tf.name):
            if ref.role is not Role.SIGNATURE or not self._refers_to(ref, tf):
                continue
            fn = self._top_functions(ref.path).get(ref.enclosing or "")
            reduces = fn is not None and _applied_to_known_type(
                self._signature_text(fn, ref), tf.name)
            yield self._declaration_candidate(ref, fn, SiteFacts(
                EdgeKind.SIGNATURE, reduces, detail=(
                    f"the type of {ref.enclosing or 'this declaration'} applies {tf.name} to a "
                    "known type: its definition relies on the equation that changes"
                    if reduces else
                    f"the type of {ref.enclosing or 'this declaration'} applies {tf.name} to "
                    "type variables only: no equation is used here"), symbol=tf.name))

    def _instance_methods_relying_on(self, d: Definition) -> Iterator[_Candidate]:
        """The methods of instances for known types (not a bare type variable) whose class
        declares them with a type applying the family ``d`` to the class's parameter at that
        type, or whose body calls a function whose signature mentions it: at the instance's
        types, the method's code relies on the family's equation."""
        # (class, method) -> the positions of the class's parameters the method's type
        # applies ``d`` to (it reduces where the instance's type there is known)
        methods: dict[tuple[str, str], set[int] | None] = {}
        for m in self.index.definitions_of_kind(DefKind.METHOD):
            if d.name not in m.mentions or m.parent is None:
                continue
            params = self._class_params(m.parent)
            at = {params.index(a) for a in _family_arguments(m.signature or "", d.name)
                  if a in params}
            if at:
                methods[(m.parent, m.name)] = at
        helpers = {f.name for f in self.index.definitions_of_kind(DefKind.FUNCTION)
                   if d.name in f.mentions}
        classes = {c for c, _ in methods}
        for inst in self.index.definitions_of_kind(DefKind.INSTANCE):
            if inst.parent not in classes and not helpers:
                continue
            _, head = _constraints(inst.signature or "")
            known = {i for i, a in enumerate(head[1:])
                     if not re.fullmatch(r"[a-z_][\w']*", _type_text(a))}
            if not known:
                continue  # an instance for every type: nothing is known to reduce
            # the class's own positions of the family's argument: where a helper the methods
            # call could reduce it too (any known position when the class does not say)
            about = set().union(*(p or set() for (c, _), p in methods.items()
                                  if c == inst.parent))
            helped = bool(helpers) and (not about or bool(about & known))
            for name, (first, last) in self._method_clauses(inst).items():
                positions = methods.get((inst.parent, name), set())
                by_class = positions is None or bool(positions & known)
                calls = [] if by_class or not helped else [
                    h for h in helpers if self._mentions_in_lines(inst.path, first, last, h)]
                if not by_class and not calls:
                    continue
                why = (f"{inst.parent}'s {name} is declared with {d.name}" if by_class else
                       f"it calls {calls[0]}, whose type mentions {d.name}")
                yield _Candidate(inst.path, first, SiteFacts(
                    EdgeKind.INSTANCE, True, detail=(
                        f"{name} in {inst.signature or 'an instance'} relies on what {d.name} "
                        f"stands for at this instance's types ({why})"), symbol=d.name),
                                 inst.signature, end_line=last if last > first else None)

    def _methods_returning(self, alias: Definition, info: _Synonym,
                           what: str) -> Iterator[_Candidate]:
        """The implementations (in instances, and a class's defaults) of the methods a class
        declares as returning the synonym, whose body builds the value as the type the
        synonym stood for (see ``_built_as_expansion``)."""
        methods = {(m.parent, m.name) for m in self.index.definitions_of_kind(DefKind.METHOD)
                   if alias.name in m.mentions and m.parent
                   and _returns(m.signature or "", alias.name)}
        if not methods:
            return
        owners = [d for kind in (DefKind.INSTANCE, DefKind.CLASS)
                  for d in self.index.definitions_of_kind(kind)
                  if (d.parent if kind is DefKind.INSTANCE else d.name) in {c for c, _ in methods}]
        lines_of = self.context.lines
        for owner in owners:
            cls = owner.parent if owner.kind is DefKind.INSTANCE else owner.name
            for name, (first, last) in self._method_clauses(owner).items():
                if (cls, name) not in methods:
                    continue
                text = "\n".join(lines_of(owner.path)[first - 1:last])
                built = self._built_as_expansion(owner.path, _first_body(text), info, text)
                if built is False:
                    continue
                yield _Candidate(owner.path, first, SiteFacts(
                    EdgeKind.INSTANCE, True, detail=(
                        f"{name} in {owner.signature or cls} returns {what} and builds it as the "
                        "type the synonym stood for: it must agree with the new type"),
                    symbol=alias.name, assumption="" if built else (
                        f"the body of {name} could not be read")), owner.signature,
                                 end_line=last if last > first else None)

    def _class_params(self, name: str) -> list[str]:
        """A class's type parameters, in order (`class (Stream s) => MonadParsec e s m | m ->
        e s` -> [e, s, m])."""
        for c in self.index.definitions(name, (DefKind.CLASS,)):
            _, head = _constraints((c.signature or "").split("|", 1)[0])
            return [_type_text(p).split("::")[0].strip() for p in head[1:]]
        return []

    def _method_clauses(self, inst: Definition) -> dict[str, tuple[int, int]]:
        """The lines of each method an instance implements (first clause to last line), read
        from the instance's layout: a method starts at the body's indentation with its name."""
        lines = self.context.lines(inst.path)
        implemented = inst.implemented or inst.defaults  # an instance's, a class's defaults
        body = [i for i in range(inst.span.start_line + 1, min(inst.span.end_line,
                                                                  len(lines)) + 1)
                if lines[i - 1].strip() and not lines[i - 1].lstrip().startswith(("--", "{-"))]
        if not body:
            if implemented and 0 < inst.span.start_line <= len(lines):
                line = inst.span.start_line  # `instance C T where { f = ... }` on one line
                return {m: (line, line) for m in implemented}
            return {}
        indent = min(len(lines[i - 1]) - len(lines[i - 1].lstrip()) for i in body)
        found: dict[str, tuple[int, int]] = {}
        current: str | None = None
        for i in body:
            text = lines[i - 1]
            if len(text) - len(text.lstrip()) == indent:
                m = re.match(r"\s*(\([^)]*\)|[a-z_][\w']*)", text)
                name = m.group(1).strip("()") if m else None
                if name in implemented:
                    current = name
                    first = found.get(name, (i, i))[0]
                    found[name] = (first, i)
                    continue
                if not (m and name == current) and not text.lstrip().startswith("|"):
                    current = None
                    continue
            if current is not None:
                found[current] = (found[current][0], i)
        return found

    def _mentions_in_lines(self, path: str, first: int, last: int, name: str) -> bool:
        word = re.compile(r"(?<![\w'.])" + re.escape(name) + r"(?![\w'])")
        lines = self.context.lines(path)
        return any(word.search(lines[i - 1]) for i in range(first, min(last, len(lines)) + 1))

    def _signature_text(self, fn: Definition | None, ref: Reference) -> str:
        if fn is not None and fn.signature:
            return fn.signature
        lines = self.context.lines(ref.path)
        return lines[ref.line - 1] if 0 < ref.line <= len(lines) else ""

    def _declaration_candidate(self, ref: Reference, fn: Definition | None,
                               facts: SiteFacts) -> _Candidate:
        """A node for a declaration whose signature the reference is in: from the signature
        to the end of the definition it types (GHC reports in the body what the type makes
        the code rely on)."""
        end = None
        if fn is not None and fn.span.end_line > ref.line:
            end = fn.span.end_line
        return _Candidate(ref.path, ref.line, facts, ref.enclosing, ref.col, end)

    def _synonym_change(self, syn: Definition) -> Iterator[_Candidate]:
        """A synonym stands for another type: code relies on what it stood for where a value
        typed with it is built or used as that type. That needs types to tell exactly; the
        engine flags, for the synonym and the synonyms that are it under another name
        (`type Sink i m r = Conduit i Void m r`): the definitions typed with it (signature to
        the end of the body, where GHC reports), the instance methods a class declares with
        it, the uses of fields and positional constructors holding it, and the calls of
        functions that take it, as places to rework."""
        aliases = self._aliases(syn)
        rhs = (syn.signature or "").split("=", 1)[1] if "=" in (syn.signature or "") else ""
        rhs = re.sub(r"^\s*forall\b[^.]*\.", "", rhs).rpartition("=>")[2]
        words = _split_top(_type_text(rhs), " ")
        info = _Synonym(frozenset(a.name for a in aliases),
                        _bare_class(words[0]) if words else "", len(split_arrows(rhs)) > 1)
        found, complete, passed = self._synonym_mismatches(syn)
        flagged = {(c.path, line) for c in found
                   for line in range(c.line, (c.end_line or c.line) + 1)}
        for alias in aliases:
            for c in self._synonym_uses(alias, syn, info):
                yield self._checked_claim(c, flagged, complete, passed)
        yield from found

    def _checked_claim(self, c: _Candidate, flagged: set[tuple[str, int]],
                       complete: dict[str, list[tuple[int, int]]],
                       passed: dict[str, set[int]]) -> _Candidate:
        """A break read from the shape of the code, kept unless the checker of written types
        says otherwise: it typed the whole declaration it is in, consistently before the
        change and without a mismatch at it after; or, for a value handed to a function or
        constructor on one line, it saw that value arrive typed with the synonym itself."""
        if not c.facts.breaks:
            return c
        last = c.end_line or c.line
        if any((c.path, line) in flagged for line in range(c.line, last + 1)):
            return c
        handed_on = c.facts.edge in (EdgeKind.CALL_SITE, EdgeKind.CONSTRUCTOR_USE) \
            and last == c.line and c.line in passed.get(c.path, ())
        if not handed_on and not any(first <= c.line and last <= end
                                     for first, end in complete.get(c.path, ())):
            return c
        return replace(c, facts=replace(c.facts, breaks=False, detail=(
            f"{c.facts.detail.rstrip('.')}; but every written type in this declaration "
            "agrees with the new type: no change needed here")))

    def _synonym_mismatches(self, syn: Definition) -> tuple[
            list[_Candidate], dict[str, list[tuple[int, int]]], dict[str, set[int]]]:
        """Expressions whose written types agree only through the synonym's expansion (see
        ``typeflow``): the declarations that use a name whose type mentions the synonym, or a
        synonym built from it (`type WindowSet = StackSet WorkspaceId ...`), checked with the
        synonym expanded and opaque."""
        types = {syn.name}
        changed = True
        while changed:  # the synonyms whose right-hand side mentions it, transitively
            changed = False
            for other in self.index.definitions_of_kind(DefKind.TYPE_SYNONYM):
                if other.name not in types and types & set(other.mentions):
                    types.add(other.name)
                    changed = True
        names = {d.name for kind in (DefKind.FUNCTION, DefKind.METHOD, DefKind.FIELD,
                                     DefKind.CONSTRUCTOR)
                 for d in self.index.definitions_of_kind(kind) if types & set(d.mentions)}
        checker = typeflow.Checker(self.index, self._resolve_value, syn.name,
                                   self._resolve_type)
        lines: dict[str, set[int]] = {}
        for name in sorted(names | types):
            for ref in self.references(name):
                if ref.role not in (Role.IMPORT, Role.EXPORT):
                    lines.setdefault(ref.path, set()).add(ref.line)
        found: list[_Candidate] = []
        complete: dict[str, list[tuple[int, int]]] = {}
        passed: dict[str, set[int]] = {}
        for path in sorted(lines):
            self.cancel.check()
            # the text GHC checks: a macro can expand to declarations and rules
            source = self.index.code(path) or b""
            report = typeflow.mismatches(checker, path, source, lines[path])
            complete[path] = report.complete
            passed[path] = report.passed
            for m in report.mismatches:
                encl = self.context.enclosing(path, m.line)
                found.append(_Candidate(path, m.line, SiteFacts(
                    EdgeKind.TYPE_USE, True, detail=(
                        f"`{m.text}` type-checks only through what {syn.name} stood for: its "
                        "written types meet the synonym's old expansion here"),
                    symbol=syn.name), encl.name if encl is not None else None,
                    end_line=m.end_line if m.end_line > m.line else None))
        return found, complete, passed

    def _resolve_type(self, path: str, name: str) -> Definition | None:
        """The one workspace type (or synonym) an unqualified type name written in ``path``
        refers to, or None."""
        found = [d for d in self.index.definitions(name, _TYPE_NAMESPACE)
                 if self._resolves_to(path, None, d) or self._visible_in(path, d)]
        return found[0] if len(found) == 1 else None

    def _resolve_value(self, path: str, qualifier: str | None, name: str) -> Definition | None:
        """The one workspace definition a value name (function, method, field, constructor)
        refers to in ``path``, or None (a library name, or several candidates)."""
        found = [d for d in self.index.definitions(name, (
            DefKind.FUNCTION, DefKind.METHOD, DefKind.FIELD, DefKind.CONSTRUCTOR))
            if d.parent is None or d.kind is not DefKind.FUNCTION]
        found = [d for d in found if self._resolves_to(path, qualifier, d)]
        return found[0] if len(found) == 1 else None

    def _aliases(self, syn: Definition) -> list[Definition]:
        """The synonym and the synonyms whose right-hand side is it, applied (transitively):
        a synonym that only mentions it inside another type (`type WindowSet = StackSet
        WorkspaceId ...`) is not one."""
        found = [syn]
        names = {syn.name}
        changed = True
        while changed:
            changed = False
            for other in self.index.definitions_of_kind(DefKind.TYPE_SYNONYM):
                if other.name in names or not other.signature or "=" not in other.signature:
                    continue
                rhs = re.sub(r"^\s*forall\b[^.]*\.", "", other.signature.split("=", 1)[1])
                rhs = rhs.rpartition("=>")[2]
                head = _split_top(rhs, " ")
                if head and _bare_class(_type_text(head[0]).split(" ")[0]) in names:
                    found.append(other)
                    names.add(other.name)
                    changed = True
        return found

    def _synonym_uses(self, alias: Definition, syn: Definition,
                      info: _Synonym) -> Iterator[_Candidate]:
        what = syn.name if alias is syn else f"{alias.name} (which is {syn.name})"
        takers: list[Definition] = []
        for ref in self.references(alias.name):
            if ref.role not in (Role.SIGNATURE, Role.TYPE) or not self._refers_to(ref, alias):
                continue
            fn = self._top_functions(ref.path).get(ref.enclosing or "")
            if ref.role is Role.SIGNATURE and fn is not None:
                if fn.signature and _takes_argument_of(fn.signature, alias.name):
                    takers.append(fn)
                returns = bool(fn.signature) and _returns(fn.signature or "", alias.name)
                text = self._declaration_text(fn)
                built = self._built_as_expansion(fn.path, _first_body(text), info,
                                                 text) if returns else False
                if built is False and not returns:
                    built = self._consumes(fn, text, alias, info)
                yield self._declaration_candidate(ref, fn, SiteFacts(
                    EdgeKind.SIGNATURE, built is not False, detail=(
                        f"{ref.enclosing} returns {what} and builds it as the type the synonym "
                        "stood for: its definition must agree with the new type"
                        if built is not False else
                        f"{ref.enclosing} is typed with {what} but only passes such values "
                        "on: it follows the synonym"), symbol=syn.name, assumption=(
                        f"{ref.enclosing}'s body could not be read" if built is None else "")))
                continue
            edge = EdgeKind.SIGNATURE if ref.role is Role.SIGNATURE else EdgeKind.TYPE_USE
            yield _Candidate(ref.path, ref.line, SiteFacts(edge, False, detail=(
                f"the type of {ref.enclosing or 'this declaration'} mentions {what}: it "
                "changes with the synonym, the code that uses it is what must agree"),
                symbol=syn.name), ref.enclosing, ref.col)
        yield from self._methods_returning(alias, info, what)
        for fdef in self.index.definitions_of_kind(DefKind.FIELD):
            if alias.name not in fdef.mentions or not self._visible_in(fdef.path, alias):
                continue
            for ref in self.references(fdef.name):
                if ref.role in (Role.TYPE, Role.SIGNATURE, Role.IMPORT, Role.EXPORT,
                                Role.RECORD_PATTERN) or not self._refers_to(ref, fdef):
                    continue
                if ref.role in (Role.RECORD_CONSTRUCT, Role.RECORD_UPDATE):
                    value = _field_value(self._text_between(ref.path, ref.line, ref.col,
                                                            ref.line + 8))
                    encl = self.context.enclosing(ref.path, ref.line)
                    scope = self._declaration_text(encl) if encl is not None else ""
                    if value is None or self._built_as_expansion(ref.path, value, info,
                                                                 scope) is False:
                        continue  # a value typed with the synonym: it follows it
                yield _Candidate(ref.path, ref.line, SiteFacts(
                    EdgeKind.FIELD_ACCESS, True, detail=(
                        f"{ref.enclosing or 'this code'} uses the field {fdef.name}, whose type "
                        f"mentions {what}: the value must agree with the new type"),
                    symbol=fdef.name), ref.enclosing, ref.col, ref.last_line)
        for con in self.index.definitions_of_kind(DefKind.CONSTRUCTOR):
            if alias.name not in con.mentions or not self._visible_in(con.path, alias):
                continue
            if con.fields:  # a record built positionally: the fields' own types say where
                typed = {f.name for f in self.index.definitions_of_kind(DefKind.FIELD)
                         if f.parent == con.name and f.module == con.module
                         and alias.name in f.mentions}
                positions = [i for i, f in enumerate(con.fields) if f in typed]
            else:
                positions = _field_positions(con.signature or "", con.name, alias.name)
            for ref in self.references(con.name):
                if ref.role is Role.PATTERN and info.function and self._refers_to(ref, con):
                    # `C _ f`: f holds what stood for a function; applying it relies on that
                    ends = [found[1] for i in positions
                            if (found := self._positional_binding(ref, con, i, applied=True))
                            and not found[0] and found[1] is not None]
                    if ends:
                        yield _Candidate(ref.path, ref.line, SiteFacts(
                            EdgeKind.CONSTRUCTOR_USE, True, detail=(
                                f"{ref.enclosing or 'this code'} matches {con.name}, which "
                                f"holds {what}, and applies the value as the function it stood "
                                "for: it must agree with the new type"), symbol=con.name),
                                         ref.enclosing, ref.col, max(ends))
                    continue
                if ref.role is Role.EXPRESSION and not ref.end_line \
                        and self._refers_to(ref, con):
                    # `C <$> a <*> b`: an operand that yields a value built as the expansion
                    operands = self._applicative_arguments(ref, con.name)
                    built = [operands[i][1] for i in positions if i < len(operands)
                             and self._yields_expansion(ref.path, operands[i][0], info)]
                    if built:
                        yield _Candidate(ref.path, ref.line, SiteFacts(
                            EdgeKind.CONSTRUCTOR_USE, True, detail=(
                                f"{ref.enclosing or 'this code'} builds {con.name}, which "
                                f"holds {what}, through a functor from a value built as the "
                                "type it stood for: it must agree with the new type"),
                            symbol=con.name), ref.enclosing, ref.col, max(built))
                    continue
                if ref.role is not Role.EXPRESSION or not ref.end_line \
                        or not self._refers_to(ref, con):
                    continue
                args = _call_arguments(self._text_between(ref.path, ref.line, ref.col,
                                                          ref.last_line), con.name)
                caller = self.context.enclosing(ref.path, ref.line)
                scope = self._declaration_text(caller) if caller is not None else ""
                if not any(self._built_as_expansion(ref.path, args[i], info, scope) is True
                           for i in positions if i < len(args)):
                    continue
                yield _Candidate(ref.path, ref.line, SiteFacts(
                    EdgeKind.CONSTRUCTOR_USE, True, detail=(
                        f"{ref.enclosing or 'this code'} builds {con.name}, which holds {what}, "
                        "from a value built as the type it stood for: it must agree with the "
                        "new type"), symbol=con.name), ref.enclosing, ref.col, ref.last_line)
        for fn in takers:
            positions = _argument_positions(fn.signature or "", alias.name)
            for ref in self.references(fn.name):
                if ref.role is not Role.EXPRESSION or not ref.end_line \
                        or not self._refers_to(ref, fn):
                    continue
                args = _call_arguments(self._text_between(ref.path, ref.line, ref.col,
                                                          ref.last_line), fn.name)
                given = [args[i] for i in positions if i < len(args)]
                caller = self.context.enclosing(ref.path, ref.line)
                scope = self._declaration_text(caller) if caller is not None else ""
                verdicts = [self._built_as_expansion(ref.path, a, info, scope) for a in given]
                if not any(v is True for v in verdicts):
                    continue  # values typed with the synonym are passed on: they follow it
                yield _Candidate(ref.path, ref.line, SiteFacts(
                    EdgeKind.CALL_SITE, True, detail=(
                        f"{ref.enclosing or 'this code'} calls {fn.name}, which takes {what}, "
                        "with a value built as the type it stood for: it must agree with the "
                        "new type"), symbol=fn.name), ref.enclosing, ref.col, ref.last_line)

    def _consumes(self, fn: Definition, text: str, alias: Definition,
                  info: _Synonym) -> bool:
        """Does a definition taking the synonym hand a parameter of that type to a workspace
        function expecting what the synonym stood for (`runParser' p = runIdentity .
        runParserT' p`, where `runParserT'` takes a `ParsecT`)?"""
        if not info.head or info.function:
            return False
        head = text.split("\n", 1)[0] if "::" not in text.split("\n", 1)[0] else \
            next((ln for ln in text.split("\n")[1:] if ln.startswith(fn.name)), "")
        params = _call_arguments(head.split("=", 1)[0], fn.name)
        mine = {params[i] for i in _argument_positions(fn.signature or "", alias.name)
                if i < len(params) and re.fullmatch(r"[a-z_][\w']*", params[i])}
        if not mine:
            return False
        body = _first_body(text)
        for m in re.finditer(r"(?<![\w'.])(?:[A-Z][\w']*\.)*([a-z_][\w']*)", body):
            callee = m.group(1)
            if callee in mine:
                continue
            args = _call_arguments(body[m.start():], m.group(0))
            at = [i for i, a in enumerate(args) if a in mine]
            if not at:
                continue
            for d in self.index.definitions(callee, (DefKind.FUNCTION, DefKind.METHOD)):
                types = _parameter_types(d.signature or "")
                if any(i < len(types) and _type_head(types[i]) == info.head
                       and not _mentions_any(types[i], info.names) for i in at):
                    return True
        return False

    def _declaration_text(self, fn: Definition) -> str:
        lines = self.context.lines(fn.path)
        return "\n".join(lines[fn.span.start_line - 1:fn.span.end_line])

    def _text_between(self, path: str, line: int, col: int, last: int) -> str:
        lines = self.context.lines(path)
        if not 0 < line <= len(lines):
            return ""
        text = "\n".join(lines[line - 1:max(line, last)])
        return text[col:]

    def _built_as_expansion(self, path: str, expr: str, info: _Synonym,
                            scope: str = "", depth: int = 0) -> bool | None:
        """Is an expression's value built as the type a synonym stood for, rather than taken
        from something typed with the synonym? Built: a lambda, a literal, a tuple, a do
        block, a constructor, a library function, a workspace function whose declared result
        is a concrete type other than the synonym. Taken: a function returning the synonym, a
        parameter. Polymorphic plumbing (`return`, `const`, `$`, a workspace function whose
        result is a type variable) is as its arguments are. ``scope``: the text of the
        declaration the expression is in (a `where`/`let` name is read through its body).
        None when it cannot be read."""
        kind, head, args = _expression_head(expr)
        if kind is None or depth > 4:
            return None
        if kind in ("lambda", "literal", "do"):
            return True
        if info.function:  # a composition, `const x`, `flip f` build a new function
            bare_expr = _type_text(_PRAGMA_OR_COMMENT.sub(" ", expr))
            if "." in _split_operators(bare_expr)[1::2] or head in ("const", "flip"):
                return True
        bare = head.rpartition(".")[2] if kind == "name" else head
        if kind == "name" and bare[:1].isupper():
            return True  # a constructor builds a value of its own type
        if kind == "name" and "." not in head and scope:
            body = _local_body(scope, bare)
            if body is not None:
                return self._built_as_expansion(path, body, info, scope, depth + 1)
            if _binds(scope, bare):
                return False  # a parameter or a bound result: typed as the code says

        def through_arguments() -> bool | None:
            found = [self._built_as_expansion(path, a, info, scope, depth + 1) for a in args]
            if any(v is True for v in found):
                return True
            return False if found and all(v is False for v in found) else None

        defs = self.index.definitions(bare, (DefKind.FUNCTION, DefKind.METHOD, DefKind.FIELD))
        typed = [d for d in defs if d.signature]
        if typed:
            results = [_result_text(d.signature or "") for d in typed]
            if any(_mentions_any(r, info.names) for r in results):
                return False
            if any(re.search(r"(?<![\w'.])[a-z_][\w']*", r) for r in results):
                return through_arguments()  # polymorphic: what it is given decides
            return True
        if defs or self.index.definitions(bare):
            return None
        return through_arguments() if bare in _PLUMBING else True

    def _type_uses(self, d: Definition, *, hop: int,
                   risky: bool = False) -> Iterator[_Candidate]:
        name = d.name
        for ref in self.references(name):
            if ref.role not in (Role.SIGNATURE, Role.TYPE) or not self._refers_to(ref, d):
                continue
            edge = EdgeKind.SIGNATURE if ref.role is Role.SIGNATURE else EdgeKind.TYPE_USE
            detail = (f"the type of {ref.enclosing or 'this declaration'} mentions {name}"
                      + (": it must agree with the new definition" if risky else
                         "; a signature alone needs no change"))
            yield _Candidate(ref.path, ref.line, SiteFacts(edge, risky, detail=detail,
                                                           symbol=name, hop=hop),
                             ref.enclosing, ref.col)

    # -- exports -----------------------------------------------------------------------
    def _remove_export(self, d: Definition) -> Iterator[_Candidate]:
        module = d.module
        home = d.path
        fi = self.index.summaries.get(d.path)
        if fi and fi.included_by:  # code an `#include` brings: the includer exports it
            home = next((p for p in fi.included_by
                         if self.index.module_of(p) == module), fi.included_by[0])
            fi = self.index.summaries.get(home)
        if fi and fi.exports:
            for ex in fi.exports:
                if ex.name == d.name or d.name in ex.children:
                    yield _Candidate(home, ex.line, SiteFacts(
                        EdgeKind.EXPORT, False, detail=(
                            f"the export of {d.name} from {module}, which is removed"),
                        symbol=d.name, hop=0), None)
        exporters = self.exporters(d)
        for path, other in sorted(self.index.summaries.items()):
            if path == d.path:
                continue
            for imp in other.imports:
                if imp.module not in exporters:
                    continue
                if imp.names is not None and not imp.hiding:
                    # line 0: an included file's entry inherits the import (its includer has
                    # the line, and the site)
                    if d.name in imp.names and imp.line:
                        yield _Candidate(path, imp.line, SiteFacts(
                            EdgeKind.IMPORT, True, detail=(
                                f"{other.module} imports {d.name} from {module} by name: the "
                                "import fails"), symbol=d.name), None)
                    continue
                if imp.hiding and imp.names and d.name in imp.names:
                    continue
                for ref in self.index.files[path].references.lookup(d.name, path):
                    if ref.role is Role.IMPORT:
                        continue
                    if ref.qualifier and ref.qualifier not in (imp.alias, imp.module):
                        continue
                    if not ref.qualifier and imp.qualified:
                        continue
                    if ref.role is Role.EXPORT:  # `module N (f)` / `(M.f)`: a re-export
                        if d.name in self._own_bindings(path):
                            continue  # the module exports its own `f`
                        yield _Candidate(path, ref.line, SiteFacts(
                            EdgeKind.EXPORT, True, detail=(
                                f"{other.module} re-exports {d.name} imported from {module}: "
                                "not in scope once it is no longer exported"),
                            symbol=d.name), None, ref.col)
                        continue
                    yield _Candidate(path, ref.line, SiteFacts(
                        EdgeKind.CALL_SITE, True, detail=(
                            f"{ref.enclosing or other.module} uses {d.name} imported from "
                            f"{module}: not in scope once it is no longer exported"),
                        symbol=d.name), ref.enclosing, ref.col)

    # -- anything else -----------------------------------------------------------------
    def _generic(self, d: Definition) -> Iterator[_Candidate]:
        names = [d.name]
        if d.kind in (DefKind.DATA, DefKind.NEWTYPE):
            names.extend(d.constructors)
        for name in names:
            target = d if name == d.name else next(
                (c for c in self.index.definitions(name, (DefKind.CONSTRUCTOR,))
                 if c.module == d.module), d)
            for ref in self.references(name):
                if ref.role in (Role.IMPORT, Role.EXPORT) or not self._refers_to(ref, target):
                    continue
                edge = {Role.PATTERN: EdgeKind.MATCH_SITE, Role.SIGNATURE: EdgeKind.SIGNATURE,
                        Role.TYPE: EdgeKind.TYPE_USE, Role.CONTEXT: EdgeKind.CONSTRAINT_USE,
                        Role.INSTANCE_HEAD: EdgeKind.INSTANCE,
                        Role.DERIVING: EdgeKind.DERIVED_INSTANCE,
                        Role.RECORD_CONSTRUCT: EdgeKind.RECORD_CONSTRUCT,
                        Role.RECORD_UPDATE: EdgeKind.RECORD_UPDATE,
                        Role.RECORD_PATTERN: EdgeKind.FIELD_PATTERN,
                        }.get(ref.role, EdgeKind.CALL_SITE)
                yield _Candidate(ref.path, ref.line, SiteFacts(
                    edge, False, detail=(f"{ref.enclosing or 'this code'} uses {name}; whether "
                                         "it breaks depends on the change"), symbol=name),
                                 ref.enclosing, ref.col)

    # -- helpers -----------------------------------------------------------------------
    def exporters(self, d: Definition) -> frozenset[str]:
        """Modules through which ``d`` can be imported: its own, and every module that
        re-exports it (`module X (module M)` or naming it), transitively."""
        key = (d.module, d.name)
        found = self._exporters.get(key)
        if found is not None:
            return found
        names = {d.name} | self._owners(d)
        result = {d.module}
        changed = True
        while changed:
            changed = False
            for summary in self.index.summaries.values():
                if summary.module in result or not summary.exports:
                    continue
                sources = {imp.module for imp in summary.imports} & result
                if not sources:
                    continue
                own = self._own_bindings(summary.path)
                # naming it re-exports it, unless the module defines that name itself
                reexports = any(
                    (ex.name.startswith("module ") and ex.name[7:] in sources | {
                        imp.alias for imp in summary.imports if imp.module in sources})
                    or (ex.name in names or d.name in ex.children) and ex.name not in own
                    for ex in summary.exports)
                if reexports:
                    result.add(summary.module)
                    changed = True
        found = self._exporters[key] = frozenset(result)
        return found

    def _owners(self, d: Definition) -> frozenset[str]:
        """The type or class a member belongs to (a field: its constructor's type, which is
        what an import or export list names: `T(..)`), and its direct parent."""
        if d.kind not in _MEMBER_KINDS or not d.parent:
            return frozenset()
        owners = {d.parent}
        if d.kind is DefKind.FIELD:
            owners.update(c.parent for c in self.index.definitions(
                d.parent, (DefKind.CONSTRUCTOR,)) if c.module == d.module and c.parent)
        return frozenset(owners)

    def _own_bindings(self, path: str) -> frozenset[str]:
        """Names the file itself binds at top level (instances and modules bind nothing)."""
        found = self._own_names.get(path)
        if found is None:
            fi = self.index.summaries.get(path)
            found = self._own_names[path] = frozenset(
                x.name for x in (fi.definitions if fi else ()) if x.kind not in _NOT_BINDINGS)
        return found

    def _refers_to(self, ref: Reference, d: Definition) -> bool:
        """Does this use of the name refer to ``d``? Qualified uses must go through an import
        of a module that exports ``d``; unqualified ones need such an import (respecting import
        lists and `hiding`) and no definition of their own with that name. (Local binders that
        shadow the name are not references at all: the index drops those uses.)"""
        key = (ref.path, ref.qualifier, id(d))
        found = self._refers.get(key)
        if found is None:
            found = self._refers[key] = self._resolves_to(ref.path, ref.qualifier, d)
        return found

    def _resolves_to(self, path: str, qualifier: str | None, d: Definition) -> bool:
        fi = self.index.summaries.get(path)
        if fi is None:
            return False
        exporters = self.exporters(d)
        if qualifier:
            return any(imp.module in exporters for imp in fi.imports
                       if qualifier in (imp.alias, imp.module))
        if path == d.path:
            return True
        if d.name in self._own_bindings(path):
            return False  # the file's own top-level definition of that name
        owners = self._owners(d)
        return any(imp.module in exporters and not imp.qualified
                   and _imports_name(imp, d, owners) for imp in fi.imports)

    def _instance_of(self, inst: Definition, d: Definition) -> bool:
        """Is ``inst`` an instance of ``d``'s class? The class is named in the head as the
        file's imports see it, qualified or not (`instance G.MVector MVector a`)."""
        head = self._instance_head(inst)
        qualifier = head.qualifier if head is not None else None
        return self._refers_to(Reference(d.name, qualifier, inst.path, inst.span.start_line, 0,
                                         Role.INSTANCE_HEAD, None), d)

    def _instance_head(self, inst: Definition) -> Reference | None:
        """The use of the class's name in an instance's head (or deriving clause): its
        qualifier, and its line, where GHC reports the instance (a head written over several
        lines, `instance {-# OVERLAPS #-}\n  (C a) => C [a]`, ends there)."""
        key = (inst.path, inst.span.start_line, inst.span.start_col, inst.parent or inst.name)
        if key in self._heads:
            return self._heads[key]
        name = inst.parent or inst.name
        fi = self.index.files.get(inst.path)
        found = None
        if fi is not None:
            found = min((r for r in fi.references.lookup(name, inst.path)
                         if r.role in (Role.INSTANCE_HEAD, Role.DERIVING)
                         and inst.span.start_line <= r.line <= inst.span.end_line
                         and (r.line, r.col) >= (inst.span.start_line, inst.span.start_col)),
                        key=lambda r: (r.line, r.col), default=None)
        self._heads[key] = found
        return found

    def _provides_superclass(self, inst: Definition, cls: Definition) -> str | None:
        """The constraint of the instance's context that already gives it the superclass a
        question adds to ``cls`` (which constrains the class's first parameter): one whose
        class has ``cls`` at the instance's own first type among its superclasses, directly
        or through theirs (`class (G.Vector Vector a) => Unbox a`, then `instance Unbox a =>
        G.Vector Vector (Complex a)` is given the superclass of `G.Vector Vector`). None when
        no constraint does, or the head cannot be read."""
        context, head = _constraints(inst.signature or "")
        if len(head) < 2:
            return None
        wanted = _type_text(head[1])
        seen: set[tuple[str, tuple[str, ...]]] = set()
        todo = [(c, c, 0) for c in context]
        while todo:
            constraint, given, depth = todo.pop()
            name, args = _bare_class(constraint[0]), tuple(_type_text(a) for a in constraint[1:])
            if (name, args) in seen or depth > 4:
                continue
            seen.add((name, args))
            if name == cls.name and args and args[0] == wanted:
                return " ".join(given)
            for d in self.index.definitions(name, (DefKind.CLASS,)):
                supers, own = _constraints(d.signature or "")
                params = [_type_text(p).strip("()").split("::")[0].strip() for p in own[1:]]
                binding = dict(zip(params, args, strict=False))
                for sup in supers:
                    todo.append(([sup[0], *(_substituted(a, binding) for a in sup[1:])],
                                 given, depth + 1))
        return None

    def _instance_candidate(self, inst: Definition, facts: SiteFacts,
                            enclosing: str | None) -> _Candidate:
        """The node of an instance: from its first line to its head's, where GHC reports it."""
        head = self._instance_head(inst)
        end = head.line if head is not None and head.line > inst.span.start_line else None
        return _Candidate(inst.path, inst.span.start_line, facts, enclosing, end_line=end)

    def _visible_in(self, path: str, d: Definition) -> bool:
        """Can code in ``path`` name ``d`` at all (qualified or not)?"""
        if path == d.path:
            return True
        key = (path, id(d))
        found = self._visible.get(key)
        if found is None:
            fi = self.index.summaries.get(path)
            if fi is None or d.name in self._own_bindings(path):
                found = False
            else:
                exporters = self.exporters(d)
                owners = self._owners(d)
                found = any(imp.module in exporters and _imports_name(imp, d, owners)
                            for imp in fi.imports)
            self._visible[key] = found
        return found

    def _enclosing_def(self, ref: Reference) -> Definition | None:
        return self._top_functions(ref.path).get(ref.enclosing) if ref.enclosing else None

    def _line_mentions(self, path: str, line: int, name: str) -> bool:
        lines = self.context.lines(path)
        return 0 < line <= len(lines) and name in lines[line - 1]


_MEMBER_KINDS = (DefKind.CONSTRUCTOR, DefKind.FIELD, DefKind.METHOD)
_TYPE_NAMESPACE = (DefKind.DATA, DefKind.NEWTYPE, DefKind.TYPE_SYNONYM, DefKind.CLASS,
                   DefKind.TYPE_FAMILY, DefKind.DATA_FAMILY)
# Roles in which a capitalised name can only be a type or class
_TYPE_ROLES = (Role.TYPE, Role.SIGNATURE, Role.CONTEXT, Role.INSTANCE_HEAD, Role.DERIVING)
# `name args = …` (optionally after `let`/`where`), or `name <- …` in a do block: a binding's
# head (not `==`, `=<<`, `=>`)
_BINDING = re.compile(r"\s*(?:let\s+|where\s+)?([a-z_][\w']*)(?:(?:\s+[\w'@~!(),:\[\]_]+)*"
                      r"\s*=(?![=<>])|\s*<-)(?!.*?\b(?:do|let)\s+[a-z_][\w']*\s*(?:<-|=))")
_NOT_BINDINGS = (DefKind.INSTANCE, DefKind.DERIVED_INSTANCE, DefKind.TYPE_INSTANCE,
                 DefKind.MODULE)


# Monads with a MonadFail instance in base and the common libraries, monads without one, and
# transformers whose MonadFail is their inner monad's.
_FAIL_MONADS = frozenset({"IO", "Maybe", "[]", "ReadP", "ReadPrec", "Q", "ParsecT", "Parsec",
                          "MaybeT", "ListT", "Get", "Parser", "P", "ResourceT"})
_NO_FAIL_MONADS = frozenset({"Identity", "State", "Reader", "Writer", "RWS", "ST", "Either",
                             "Except", "Cont", "(->)"})
_TRANSFORMERS = frozenset({"ReaderT", "StateT", "WriterT", "ExceptT", "RWST", "IdentityT",
                           "ContT", "LoggingT", "NoLoggingT"})


def _result_type(signature: str) -> tuple[list[list[str]], list[str]]:
    """A signature's context and the type words of its final result: `f :: (Monad m) => a ->
    m (Maybe b)` -> ([["Monad", "m"]], ["m", "(Maybe b)"])."""
    text = _PRAGMA_OR_COMMENT.sub(" ", signature)
    text = text.split("::", 1)[1] if "::" in text else text
    text = re.sub(r"^\s*forall\b[^.]*\.", "", text)
    context, rest = _context_split(text)
    parts = split_arrows(rest)
    result = _type_text(parts[-1]) if parts else ""
    return context, _split_top(result, " ")


def _applied_to_known_type(signature: str, family: str) -> bool:
    """Does the signature apply ``family`` to a type that is not a type variable (so that an
    equation reduces it)? `Token String -> Bool` yes; `Token s -> m (Token s)` no."""
    text = _PRAGMA_OR_COMMENT.sub(" ", signature)
    text = text.split("::", 1)[1] if "::" in text else text
    for m in re.finditer(r"(?<![\w'.])(?:[A-Z][\w']*\.)*" + re.escape(family) + r"(?![\w'])",
                         text):
        arg = _next_type_word(text, m.end())
        if arg and not re.fullmatch(r"[a-z_][\w']*", _type_text(arg)):
            return True
    return False


def _field_value(text: str) -> str | None:
    """The value given to a field in record syntax (`name = value, ...` / `}`), from the
    field's name on."""
    m = re.match(r"[\w'.]+\s*=(?!=)", text)
    if m is None:
        return None
    rest = text[m.end():]
    depth = 0
    for i, ch in enumerate(rest):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                return rest[:i].strip()
            depth -= 1
        elif ch == "," and depth == 0:
            return rest[:i].strip()
    return rest.strip()


def _local_body(scope: str, name: str, *, patterns: bool = False) -> str | None:
    """The right-hand side of a `where`/`let` binding of ``name`` in a declaration's text (its
    first line and the lines indented past it), or None; with ``patterns``, also of a pattern
    binding that binds it (`x:xs = ...`, `(a, b) = ...`)."""
    lines = scope.split("\n")
    # one character class, not nested repeats: those backtrack exponentially on a long line
    lead = r"[\w'(\[,:~!\s]*?(?<![\w'])" if patterns else ""
    for i, line in enumerate(lines[1:], start=1):
        m = re.match(r"(\s*)(?:where\s+|let\s+)?" + lead + re.escape(name)
                     + r"\b[^=\n]*?(?<![=<>/])=(?![=>])(.*)", line)
        if m is None:
            continue
        indent = len(m.group(1))
        body = [m.group(2)]
        for more in lines[i + 1:]:
            if more.strip() and len(more) - len(more.lstrip()) <= indent:
                break
            body.append(more)
        return "\n".join(body).strip()
    return None


def _binds(scope: str, name: str) -> bool:
    """Does a declaration's text bind ``name`` as a parameter, a lambda's, a do block's or a
    case alternative's variable?"""
    word = r"(?<![\w'.])" + re.escape(name) + r"(?![\w'])"
    # a clause's head: from a line at the declaration's own indentation to its `=` (which
    # may sit on a later line); a `where`/`let` binding's, on its line
    heads = [m.group(1) for m in re.finditer(r"^(\S[^=]*?)(?<![=<>/])=(?![=>])", scope, re.M)]
    heads += [m.group(1) for m in re.finditer(r"^\s+([^=\n]*?)(?<![=<>/|])=(?![=>])", scope,
                                              re.M)]
    heads += [m.group(1) for m in re.finditer(r"^\s*([^=\n]+)\n\s*[=|](?![=>])", scope, re.M)]
    return bool(any(re.search(word, h) and not re.match(r"\s*" + word, h) for h in heads)
                or re.search(word + r"[\w\s,'()\[\]:@~!]*<-", scope)
                or re.search(r"\\[^\n>]*" + word + r"[^\n>]*->", scope)
                or re.search(r"^\s*(?:[A-Z(\[_]|" + word + r")[^\n=\\]*?" + word
                             + r"[^\n=\\]*?->", scope, re.M))


class _Synonym(NamedTuple):
    """What the engine knows of a changed synonym: its names (with the synonyms that are it),
    the head of the type it stood for (`ParsecT` for `Parsec e s = ParsecT e s Identity`), and
    whether that type is a function's."""

    names: frozenset[str]
    head: str
    function: bool


# Library functions that only need a class instance of what they are given (numbers,
# text): a new type is taken to keep the old one's instances
_CLASS_CONSUMERS = frozenset({"fromIntegral", "fi", "realToFrac", "toInteger", "show", "print",
                              "shows", "toEnum", "fromEnum", "succ", "pred", "max", "min",
                              "abs", "negate", "compare", "hash", "rnf", "seq"})

# Functions whose result is any type with a class's instances (the caller picks it)
_POLYMORPHIC_RESULTS = frozenset({"pure", "return", "mempty", "fromIntegral", "realToFrac",
                                  "toEnum", "fromInteger", "fromRational", "read", "def",
                                  "coerce"})

# Library functions and operators that pass on what they are given (polymorphic plumbing)
_PLUMBING = frozenset({"return", "pure", "const", "id", "fmap", "liftM", "liftIO", "io", "lift",
                       "maybe", "fromMaybe", "flip", "seq", "fromJust", "head", "last", "fst",
                       "snd", "<$>", "<$", "<>", "mappend", "<|>", "$!", "either", "foldr",
                       "foldl", "asks", "gets", "<*", "*>", "<*>", ">>", "<$!>"})


def _result_text(signature: str) -> str:
    text = _PRAGMA_OR_COMMENT.sub(" ", signature)
    text = text.split("::", 1)[1] if "::" in text else text
    parts = split_arrows(text.rpartition("=>")[2])
    return parts[-1] if parts else ""


def _mentions_any(text: str, names: frozenset[str]) -> bool:
    return any(re.search(r"(?<![\w'.])(?:[A-Z][\w']*\.)*" + re.escape(n) + r"(?![\w'])", text)
               for n in names)


def _parameter_types(signature: str) -> list[str]:
    return parameter_types(_PRAGMA_OR_COMMENT.sub(" ", signature))


def _type_head(t: str) -> str:
    words = _split_top(_type_text(t), " ")
    return _bare_class(words[0]) if words else ""


def _field_positions(signature: str, constructor: str, name: str) -> list[int]:
    """The positions of a positional constructor's fields whose type mentions ``name``
    (`C (ConduitT i o m r) (StreamConduitT i o m r)`, or GADT `C :: A -> B -> T`)."""
    if "::" in signature:
        return _argument_positions(signature, name)
    words = _split_top(_PRAGMA_OR_COMMENT.sub(" ", signature), " ")
    at = next((i for i, w in enumerate(words) if w == constructor), -1)
    fields = [w.lstrip("!~") for w in words[at + 1:]] if at >= 0 else []
    return [i for i, f in enumerate(fields) if _mentions_any(f, frozenset({name}))]


def _returns(signature: str, name: str) -> bool:
    """Does a signature's final result mention ``name``?"""
    text = _PRAGMA_OR_COMMENT.sub(" ", signature)
    text = text.split("::", 1)[1] if "::" in text else text
    parts = split_arrows(text.rpartition("=>")[2])
    word = re.compile(r"(?<![\w'.])(?:[A-Z][\w']*\.)*" + re.escape(name) + r"(?![\w'])")
    return bool(parts) and bool(word.search(parts[-1]))


def _argument_positions(signature: str, name: str) -> list[int]:
    """The argument positions (0-based) whose type mentions ``name``."""
    text = _PRAGMA_OR_COMMENT.sub(" ", signature)
    text = text.split("::", 1)[1] if "::" in text else text
    word = re.compile(r"(?<![\w'.])(?:[A-Z][\w']*\.)*" + re.escape(name) + r"(?![\w'])")
    return [i for i, part in enumerate(split_arrows(text.rpartition("=>")[2])[:-1])
            if word.search(part)]


_OPERATOR = re.compile(r"[!#$%&*+./<=>?@\\^|~:-]+|`[^`]+`")


def _first_body(declaration: str) -> str:
    """The right-hand side of a declaration's first clause (its first guard's), up to a
    `where`."""
    top = surface(declaration)
    for i, ch in enumerate(declaration):
        if top[i] and ch == "=" and declaration[i - 1:i] not in ("=", "<", ">", "/") \
                and declaration[i + 1:i + 2] not in ("=", ">"):
            rest = declaration[i + 1:]
            rest = re.split(r"\n\s*(?:\||[a-z_][\w']*\s.*?=)", rest, maxsplit=1)[0]
            return re.split(r"\bwhere\b", rest, maxsplit=1)[0].strip()
    return ""


def _expression_head(expr: str) -> tuple[str | None, str, list[str]]:
    """What builds an expression's value, and from what: ("lambda" | "literal" | "do", "",
    []), ("operator", op, operands) for a top-level operator other than `$` and `.`,
    ("name", f, arguments) for an application of f (through `$` and `.`: what follows is one
    more argument), or (None, "", []) when unreadable."""
    expr = _PRAGMA_OR_COMMENT.sub(" ", expr).strip()
    for _ in range(8):
        if not expr:
            return None, "", []
        if expr[0] == "\\":
            return "lambda", "", []
        if re.match(r"do\b", expr):
            return "do", "", []
        if re.match(r"(?:if|case|let)\b", expr):
            return None, "", []
        if expr[0] in "[\"'" or expr[0].isdigit():
            return "literal", "", []
        pieces = _split_operators(expr)
        ops = [p for p in pieces[1::2] if p not in ("$", ".")]
        if ops:
            return "operator", ops[0].strip("`"), [p.strip() for p in pieces[0::2]]
        first = pieces[0].strip()
        if first.startswith("("):
            inner = _next_type_word(first, 0)
            if inner == first and _balanced(first[1:-1]) and len(pieces) == 1:
                if len(_split_top(first[1:-1], ",")) > 1 or not first[1:-1].strip():
                    return "literal", "", []
                if _OPERATOR.fullmatch(first[1:-1].strip()):
                    return "operator", first[1:-1].strip(), []
                expr = first[1:-1].strip()
                continue
            return None, "", []
        m = re.match(r"(?:[A-Z][\w']*\.)*[A-Za-z_][\w']*", first)
        if m is None:
            return None, "", []
        args = _call_arguments(first, m.group(0))
        if len(pieces) > 1:
            args.append("".join(pieces[2:]).strip())
        return "name", m.group(0), args
    return None, "", []


def _split_operators(expr: str) -> list[str]:
    """An expression split at its top-level operators: [operand, op, operand, ...]."""
    top = surface(expr)
    out, start, i = [], 0, 0
    while i < len(expr):
        if top[i] and (m := _OPERATOR.match(expr, i)) \
                and m.group(0) not in ("\\", "@", "~", "-", "=") \
                and not _qualifier_dot(expr, i, m.group(0)):
            out += [expr[start:i], m.group(0)]
            i = start = m.end()
            continue
        i += 1
    out.append(expr[start:])
    return out


def _qualifier_dot(expr: str, at: int, op: str) -> bool:
    """Is the `.` at ``at`` the one of a qualified name (`W.float`), not composition?"""
    if op != "." or at + 1 >= len(expr) or not (expr[at + 1].isalpha() or expr[at + 1] == "_"):
        return False
    word = re.search(r"[\w']+$", expr[:at])
    return word is not None and word.group(0)[:1].isupper()


def _call_arguments(text: str, name: str) -> list[str]:
    """The arguments of an application of ``name`` at the start of ``text``: its words at
    the top level, up to an operator or the end of the application."""
    m = re.match(r"(?:[A-Z][\w']*\.)*" + re.escape(name), text)
    if m is None:
        return []
    rest = text[m.end():]
    args, i = [], 0
    while i < len(rest):
        ch = rest[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "([":
            word = _next_type_word(rest, i)
            if not word:
                break
            args.append(word)
            i += len(word)
            continue
        if ch == '"':
            j = rest.find('"', i + 1)
            args.append(rest[i:j + 1] if j > 0 else rest[i:])
            i = j + 1 if j > 0 else len(rest)
            continue
        w = re.match(r"(?:[A-Z][\w']*\.)*[A-Za-z_0-9][\w']*", rest[i:])
        if w is None or w.group(0) in ("where", "in", "of", "then", "else", "do"):
            break
        args.append(w.group(0))
        i += w.end()
    return args


def _takes_argument_of(signature: str, name: str) -> bool:
    """Does a function's signature have ``name`` in an argument (not only its result)?"""
    text = _PRAGMA_OR_COMMENT.sub(" ", signature)
    text = text.split("::", 1)[1] if "::" in text else text
    text = text.rpartition("=>")[2]
    word = re.compile(r"(?<![\w'.])(?:[A-Z][\w']*\.)*" + re.escape(name) + r"(?![\w'])")
    return any(word.search(part) for part in split_arrows(text)[:-1])


def _family_arguments(signature: str, family: str) -> list[str]:
    """The first argument of each application of ``family`` in a signature (`Proxy s ->
    NonEmpty (Token s) -> String` -> ["s"])."""
    text = _PRAGMA_OR_COMMENT.sub(" ", signature)
    text = text.split("::", 1)[1] if "::" in text else text
    return [_type_text(arg) for m in re.finditer(
        r"(?<![\w'.])(?:[A-Z][\w']*\.)*" + re.escape(family) + r"(?![\w'])", text)
        if (arg := _next_type_word(text, m.end()))]


def _next_type_word(text: str, at: int) -> str:
    """The type word starting after ``at`` (spaces skipped): a name, or a bracketed group;
    "" when an operator, a bracket closing or the end comes first."""
    while at < len(text) and text[at].isspace():
        at += 1
    if at < len(text) and text[at] in "([":
        depth = 0
        for i in range(at, len(text)):
            depth += text[i] in "(["
            depth -= text[i] in ")]"
            if depth == 0:
                return text[at:i + 1]
        return ""
    m = re.match(r"[A-Za-z_][\w'.]*", text[at:])
    return m.group(0) if m else ""


# Pragmas and block comments; a line comment's marker only (the index keeps declarations on
# one line, so where a `-- ^` comment ends is lost: its words stay, as noise between types)
_PRAGMA_OR_COMMENT = re.compile(r"\{-.*?-\}|--+\s*[|^$*]?", re.S)


def _constraints(head: str) -> tuple[list[list[str]], list[str]]:
    """A class or instance head's context and head as type words: `instance (Unbox a, Eq a)
    => G.Vector Vector (Complex a) where ...` -> ([["Unbox", "a"], ["Eq", "a"]], ["G.Vector",
    "Vector", "(Complex a)"])."""
    text = _PRAGMA_OR_COMMENT.sub(" ", head)
    text = re.sub(r"^\s*(?:class|instance)\b", "", text)
    where = re.search(r"\bwhere\b", text)
    if where:
        text = text[:where.start()]
    context, rest = _context_split(text)
    return context, _split_top(rest, " ")


def _context_split(text: str) -> tuple[list[list[str]], str]:
    """A type's (or head's) context as the words of each constraint, and what follows it:
    `(Monad m, Show a) => m a` -> ([["Monad", "m"], ["Show", "a"]], " m a")."""
    context_text, arrow, rest = text.rpartition("=>")
    if not arrow:
        return [], text
    inner = context_text.strip()
    if inner.startswith("(") and inner.endswith(")") and _balanced(inner[1:-1]):
        inner = inner[1:-1]
    return [words for part in _split_top(inner, ",") if (words := _split_top(part, " "))], rest


def _block_end(lines: Sequence[str], line: int, last: int) -> int:
    """The last non-blank line of what is indented under ``line`` (a lambda's body, a case's
    alternatives, operands on the lines below), looking no further than ``last``: the next
    line indented no deeper ends it (the next statement, binding or clause)."""
    head = lines[line - 1]
    indent = len(head) - len(head.lstrip())
    end = line
    for k in range(line + 1, min(last, len(lines)) + 1):
        text = lines[k - 1]
        if text.strip():
            if len(text) - len(text.lstrip()) <= indent:
                break
            end = k
    return end


def _tuple_parts(text: str) -> list[str]:
    """The components of a tuple written `(a, b)` (a pattern or a type), else []."""
    t = text.strip()
    if not (t.startswith("(") and t.endswith(")")) or not _balanced(t[1:-1]):
        return []
    parts = [p.strip() for p in _split_top(t[1:-1], ",")]
    return parts if len(parts) > 1 else []


def _split_top(text: str, sep: str) -> list[str]:
    """``text`` split at ``sep`` outside brackets; empty pieces dropped."""
    top = surface(text)
    out, start = [], 0
    for i, ch in enumerate(text):
        if top[i] and (ch == sep or (sep == " " and ch.isspace())):
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return [p.strip() for p in out if p.strip()]


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += ch in "([{"
        depth -= ch in ")]}"
        if depth < 0:
            return False
    return depth == 0


def _type_text(t: str) -> str:
    """A type written as one word, compared by text: spaces and outer parentheses normalised,
    module qualifiers dropped (`(G.Complex  a)` -> `Complex a`)."""
    t = " ".join(t.split())
    while t.startswith("(") and t.endswith(")") and _balanced(t[1:-1]):
        t = t[1:-1].strip()
    return re.sub(r"\b(?:[A-Z][\w']*\.)+(?=[A-Za-z_])", "", t)


def _bare_class(name: str) -> str:
    return name.rpartition(".")[2]


def _substituted(t: str, binding: dict[str, str]) -> str:
    return re.sub(r"(?<![\w'.])[a-z_][\w']*", lambda m: (
        f"({binding[m.group(0)]})" if m.group(0) in binding else m.group(0)), t)


def _imports_name(imp: Import, d: Definition, owners: frozenset[str] = frozenset()) -> bool:
    """Does this import bring ``d``'s name into scope? `T(..)` brings T's members (``owners``:
    the type or class ``d`` belongs to, see ``Explorer._owners``)."""
    if imp.names is None:
        return True
    listed = d.name in imp.names or bool(owners.intersection(imp.names))
    return not listed if imp.hiding else listed


def _site_phrase(site: MatchSite, type_name: str) -> str:
    """How a person names the site: "case on LLMKind in `label`", "the clauses of `f`"."""
    where = _site_name(site)
    if site.kind is MatchKind.FUNCTION:
        return f"the clauses of {where} on {type_name}"
    kind = {MatchKind.CASE: "case", MatchKind.LAMBDA_CASE: "\\case", MatchKind.LAMBDA: "lambda",
            MatchKind.PATTERN_BINDING: "pattern binding", MatchKind.DO_BIND: "do-bind",
            MatchKind.RECORD_UPDATE: "record update"}[site.kind]
    return f"{kind} on {type_name} in {where}"


def _no_catch_all(site: MatchSite, type_name: str) -> str:
    if site.kind in (MatchKind.PATTERN_BINDING, MatchKind.LAMBDA):
        return (f"{_site_phrase(site, type_name)} matches one shape only: it fails at run time "
                "on the new constructor (-Wincomplete-uni-patterns); match it with a case")
    added = "a clause" if site.kind is MatchKind.FUNCTION else "an alternative"
    verb = "have" if site.kind is MatchKind.FUNCTION else "has"
    return (f"{_site_phrase(site, type_name)} {verb} no catch-all: add {added} for the new "
            "constructor")


def _site_name(site: MatchSite) -> str:
    name = site.name or site.enclosing
    return f"`{name}`" if name else "this declaration"


def _catch_all_name(patterns: Iterable) -> str:
    for p in patterns:
        if getattr(p, "binder", None):
            return p.binder
    return "_"


def _module_of(index: WorkspaceIndex, path: str) -> str:
    return index.module_of(path) or path


def _severity(f: SiteFacts) -> int:
    return 0 if f.breaks else 1 if f.silent else 2 if f.edge is EdgeKind.DEFINITION else 3


def _rank(c: _Candidate) -> tuple:
    f = c.facts
    return (_severity(f), f.hop, _EDGE_RANK.get(f.edge, 99), c.path, c.line)


def _merge(candidates: list[_Candidate]) -> list[_Candidate]:
    """One node per (file, line): the most severe fact about that line wins; its span reaches
    the last line of every application of the same severity that starts on that line."""
    best: dict[tuple[str, int], _Candidate] = {}
    ends: dict[tuple[str, int, int], int] = {}
    for c in candidates:
        key = (c.path, c.line)
        cur = best.get(key)
        if cur is None or _rank(c) < _rank(cur):
            best[key] = c
        if c.end_line:
            sev = (c.path, c.line, _severity(c.facts))
            ends[sev] = max(ends.get(sev, 0), c.end_line)
    out = []
    for (path, line), c in best.items():
        end = ends.get((path, line, _severity(c.facts)))
        if end is not None and end != c.end_line:
            c = _Candidate(c.path, c.line, c.facts, c.enclosing, c.col, end)
        out.append(c)
    return out


def _checked(items: Iterable[_Candidate], cancel: CancelToken) -> Iterator[_Candidate]:
    """``items``, stopping (``Cancelled``) soon after ``cancel`` fires."""
    for i, item in enumerate(items):
        if i % 64 == 0:
            cancel.check()
        yield item


def explore(index: WorkspaceIndex | IndexSnapshot, question: Question, *,
            cancel: CancelToken = NEVER) -> Exploration:
    """Every place ``question``'s change can reach, ranked and cut to its budget. Works on one
    snapshot of the index from start to end, whatever edits arrive meanwhile."""
    return Explorer(index.snapshot(), question, cancel).run()

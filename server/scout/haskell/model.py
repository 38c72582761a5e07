"""Typed results of indexing: what one Haskell file defines, references and pattern-matches.

Everything here is plain data (picklable, no tree-sitter objects) so the index can be built in
worker processes and cached on disk. Lines are 1-based, columns 0-based (byte offsets in the line).
Paths are workspace-relative POSIX paths.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import NamedTuple


class Span(NamedTuple):
    # A NamedTuple, not a dataclass: hundreds of thousands are unpickled from the cache, and a
    # frozen slots dataclass unpickles through a Python-level __setstate__ (~10x slower).
    start_line: int
    start_col: int
    end_line: int
    end_col: int


class DefKind(StrEnum):
    MODULE = "module"
    DATA = "data"
    NEWTYPE = "newtype"
    CONSTRUCTOR = "constructor"
    FIELD = "field"
    TYPE_SYNONYM = "type_synonym"
    TYPE_FAMILY = "type_family"
    DATA_FAMILY = "data_family"
    TYPE_INSTANCE = "type_instance"
    CLASS = "class"
    METHOD = "method"
    INSTANCE = "instance"
    DERIVED_INSTANCE = "derived_instance"
    FUNCTION = "function"
    PATTERN_SYNONYM = "pattern_synonym"


TYPE_LIKE = frozenset({DefKind.DATA, DefKind.NEWTYPE, DefKind.TYPE_SYNONYM, DefKind.TYPE_FAMILY,
                       DefKind.DATA_FAMILY, DefKind.CLASS})


@dataclass(slots=True)
class Definition:
    """A named thing a file defines.

    ``parent`` links a constructor to its type, a field to its constructor, a method to its class,
    an instance to its class. ``signature`` is the text shown as hover (declaration head or type
    signature). The tuple fields are only filled for the kinds they make sense for.
    """

    name: str
    kind: DefKind
    module: str
    path: str
    span: Span
    name_span: Span
    parent: str | None = None
    signature: str | None = None
    constructors: tuple[str, ...] = ()  # DATA / NEWTYPE: constructor names in order
    fields: tuple[str, ...] = ()  # CONSTRUCTOR: record field names in order
    arity: int | None = None  # CONSTRUCTOR: number of fields; FUNCTION: patterns in first clause
    methods: tuple[str, ...] = ()  # CLASS: declared methods
    defaults: tuple[str, ...] = ()  # CLASS: methods with a default implementation
    superclasses: tuple[str, ...] = ()  # CLASS
    minimal: str | None = None  # CLASS: the {-# MINIMAL … #-} formula, when the class has one
    minimal_line: int | None = None  # CLASS: the line of that pragma
    instance_types: tuple[str, ...] = ()  # INSTANCE / DERIVED_INSTANCE / TYPE_INSTANCE: head types
    implemented: tuple[str, ...] = ()  # INSTANCE: methods it defines
    mentions: tuple[str, ...] = ()  # type/class names in its signature or fields
    deriving_strategy: str | None = None  # DERIVED_INSTANCE: stock/newtype/anyclass/via
    standalone: bool = False  # DERIVED_INSTANCE: `deriving instance ...`
    clauses: int = 0  # FUNCTION: number of clauses in the group
    # CONSTRUCTOR in GADT syntax: the arguments of its result type (`Query Int` -> ("Int",))
    indices: tuple[str, ...] | None = None

    def moved(self, lines: int) -> Definition:
        """The same definition ``lines`` lines later (an edit above it added them)."""
        s, n = self.span, self.name_span
        return Definition(
            self.name, self.kind, self.module, self.path,
            Span(s.start_line + lines, s.start_col, s.end_line + lines, s.end_col),
            Span(n.start_line + lines, n.start_col, n.end_line + lines, n.end_col),
            self.parent, self.signature, self.constructors, self.fields, self.arity,
            self.methods, self.defaults, self.superclasses, self.minimal,
            self.minimal_line + lines if self.minimal_line else self.minimal_line,
            self.instance_types, self.implemented, self.mentions, self.deriving_strategy,
            self.standalone, self.clauses, self.indices)


class Role(IntEnum):
    """How a name is used at a reference site."""

    EXPRESSION = 0
    PATTERN = 1
    TYPE = 2
    IMPORT = 3
    EXPORT = 4
    INSTANCE_HEAD = 5
    DERIVING = 6
    RECORD_CONSTRUCT = 7  # constructor or field inside `C { f = e }`
    RECORD_UPDATE = 8  # field inside `r { f = e }`
    RECORD_PATTERN = 9  # field inside a pattern `C { f = p }`
    CONTEXT = 10  # class in a constraint context `(C a) =>`
    SIGNATURE = 11  # name in a type signature's type (refined TYPE)


class Reference(NamedTuple):
    # A NamedTuple: a query over a busy name builds tens of thousands of these, and a frozen
    # dataclass costs several times more to construct.
    name: str
    qualifier: str | None  # module alias used, e.g. "M" for M.size
    path: str
    line: int
    col: int
    role: Role
    enclosing: str | None  # name of the top-level declaration the use sits in
    # last line of the application the name heads (`f a\n  b` -> line + 1); 0 when it heads
    # none (a bare name: passed as a value, an operator, a pattern, a type)
    end_line: int = 0

    @property
    def last_line(self) -> int:
        return max(self.line, self.end_line)


class PatKind(IntEnum):
    WILD = 0  # `_`, a variable, or anything that matches everything (irrefutable)
    CON = 1  # constructor application, tuples, lists, unit
    LIT = 2  # literal: never covers its type
    OPAQUE = 3  # view patterns, n+k, splices: treated as matching an unknown subset


@dataclass(frozen=True, slots=True)
class Pattern:
    """A pattern reduced to what exhaustiveness needs.

    Tuples are constructor ``(,)``/``(,,)``…, lists use ``[]`` and ``:``, unit is ``()``.
    A record pattern ``C {f = p}`` has ``fields`` set (named sub-patterns; missing fields match
    anything) and ``args`` empty. ``binder`` keeps the variable name of a WILD (for reasoning).
    """

    kind: PatKind
    name: str | None = None
    args: tuple[Pattern, ...] = ()
    fields: tuple[tuple[str, Pattern], ...] | None = None
    binder: str | None = None


WILDCARD = Pattern(PatKind.WILD)


class MatchKind(StrEnum):
    CASE = "case"
    LAMBDA_CASE = "lambda_case"
    FUNCTION = "function"  # a clause group of one function (top-level, where, let, instance)
    LAMBDA = "lambda"
    PATTERN_BINDING = "pattern_binding"  # `let (A x) = …` / `where Just y = …`, and `~p`
    RECORD_UPDATE = "record_update"  # `r { f = e }`: no rows; ``fields`` names the fields
    # `C x <- e` in a do block: it fails through the monad's `fail` (MonadFail) when the
    # pattern does not match, not with an incomplete-pattern warning
    DO_BIND = "do_bind"


class MatchRow(NamedTuple):  # NamedTuples: created, moved and unpickled by the thousand
    patterns: tuple[Pattern, ...]
    guarded: bool  # has guards other than `otherwise`/`True`: the row may fall through
    line: int


class MatchSite(NamedTuple):
    kind: MatchKind
    path: str
    span: Span  # GHC reports case at `case`, a function group at its first clause
    enclosing: str | None  # top-level declaration containing it
    name: str | None  # function name for FUNCTION groups
    rows: tuple[MatchRow, ...]
    scrutinee: str | None = None  # text of the scrutinee for CASE (the record for updates)
    fields: tuple[str, ...] = ()  # RECORD_UPDATE: the fields updated

    @property
    def constructors(self) -> frozenset[str]:
        """Every constructor named anywhere in the rows (any column, any depth)."""
        found: set[str] = set()
        stack = [p for row in self.rows for p in row.patterns]
        pop, push, add, con = stack.pop, stack.extend, found.add, PatKind.CON
        while stack:
            p = pop()
            if p.kind is con:  # only constructor patterns have sub-patterns
                if p.name:
                    add(p.name)
                if p.args:
                    push(p.args)
                if p.fields:
                    push([sub for _, sub in p.fields])
        return frozenset(found)

    @property
    def has_catch_all(self) -> bool:
        """A row whose patterns are all wildcards/variables and unguarded."""
        return any(not r.guarded and all(p.kind is PatKind.WILD for p in r.patterns)
                   for r in self.rows)


class Import(NamedTuple):  # NamedTuple: cheap to unpickle by the thousand
    module: str
    qualified: bool
    alias: str | None
    names: tuple[str, ...] | None  # None: everything; with ``hiding``: names hidden
    hiding: bool
    line: int


class Export(NamedTuple):  # NamedTuple: cheap to unpickle by the thousand
    name: str  # a name, or "module X" for a module re-export
    qualifier: str | None
    with_children: bool  # T(..) or T(A, B)
    children: tuple[str, ...]
    line: int


class ParseProblem(NamedTuple):  # NamedTuple: cheap to unpickle by the thousand
    line: int
    col: int
    message: str  # "syntax error near …" / "missing …"


_ROLES = tuple(Role)  # Role(i) costs a Python call; indexing this does not


class RefsTable:
    """References of one file, stored compactly: building millions of small objects is the
    cost that dominates indexing, so rows live in an ``array`` and become ``Reference`` objects
    only when a query asks for a name.

    Row layout (7 ints): name id, qualifier id (-1: none), line, col, role, enclosing id (-1),
    last line of the application the name heads (0 when it heads none).
    """

    __slots__ = ("names", "data", "_by_name")
    WIDTH = 7

    def __init__(self, names: list[str] | None = None, data: array | None = None) -> None:
        self.names: list[str] = names if names is not None else []
        self.data: array = data if data is not None else array("i")
        self._by_name: dict[str, list[int]] | None = None

    def __getstate__(self) -> tuple[list[str], bytes]:
        return (self.names, self.data.tobytes())

    def __setstate__(self, state: tuple[list[str], bytes]) -> None:
        self.names = state[0]
        self.data = array("i")
        self.data.frombytes(state[1])
        self._by_name = None

    def __len__(self) -> int:
        return len(self.data) // self.WIDTH

    def name_set(self) -> set[str]:
        return set(self.names)

    def _index(self) -> dict[str, list[int]]:
        if self._by_name is None:
            by: dict[str, list[int]] = {}
            d, w = self.data, self.WIDTH
            names = self.names
            for row in range(0, len(d), w):
                by.setdefault(names[d[row]], []).append(row)
            self._by_name = by
        return self._by_name

    def lookup(self, name: str, path: str) -> list[Reference]:
        rows = self._index().get(name)
        if not rows:
            return []
        d, names, roles = self.data, self.names, _ROLES
        out = []
        for r in rows:
            q, enc = d[r + 1], d[r + 5]
            out.append(Reference(name, names[q] if q >= 0 else None, path, d[r + 2], d[r + 3],
                                 roles[d[r + 4]], names[enc] if enc >= 0 else None, d[r + 6]))
        return out

    def all(self, path: str) -> list[Reference]:
        return [ref for name in self._index() for ref in self.lookup(name, path)]


@dataclass(slots=True)
class FileIndex:
    """Everything the index knows about one file."""

    path: str
    module: str
    digest: str  # blake2b of the raw bytes: cache key
    lines: int
    definitions: list[Definition] = field(default_factory=list)
    references: RefsTable = field(default_factory=RefsTable)
    match_sites: list[MatchSite] = field(default_factory=list)
    imports: list[Import] = field(default_factory=list)
    exports: list[Export] | None = None  # None: no export list (everything exported)
    problems: list[ParseProblem] = field(default_factory=list)
    language: str = "haskell"  # "haskell", "literate" or "hsc"
    # Files whose code this file `#include`s (CPP): each is indexed as its own entry
    includes: tuple[str, ...] = ()
    # Set on the entry of an `#include`d file: the files that include it, whose module,
    # imports and exports its code has (its lines are its own)
    included_by: tuple[str, ...] = ()
    # What an incremental re-extraction of this file needs (extract.py's private state); only
    # set by the extractor in this process, never pickled with the body or the summary.
    incremental: object | None = field(default=None, repr=False, compare=False)


@dataclass(slots=True)
class FileSummary:
    """What the index needs of every file up front (definitions, imports, exports, the names it
    references). The rest of a ``FileIndex`` (reference rows, match sites) is kept pickled and
    decoded only for files a query touches: that keeps warm starts and memory small."""

    path: str
    module: str
    digest: str
    lines: int
    language: str
    definitions: list[Definition]
    imports: list[Import]
    exports: list[Export] | None
    problems: list[ParseProblem]
    ref_names: list[str]
    reference_count: int
    match_site_count: int
    includes: tuple[str, ...] = ()
    included_by: tuple[str, ...] = ()

    @classmethod
    def of(cls, fi: FileIndex) -> FileSummary:
        return cls(fi.path, fi.module, fi.digest, fi.lines, fi.language, fi.definitions,
                   fi.imports, fi.exports, fi.problems, fi.references.names,
                   len(fi.references), len(fi.match_sites), fi.includes, fi.included_by)

    def with_body(self, references: RefsTable, match_sites: list[MatchSite]) -> FileIndex:
        return FileIndex(path=self.path, module=self.module, digest=self.digest,
                         lines=self.lines, definitions=self.definitions, references=references,
                         match_sites=match_sites, imports=self.imports, exports=self.exports,
                         problems=self.problems, language=self.language,
                         includes=self.includes, included_by=self.included_by)


@dataclass(frozen=True, slots=True)
class SkippedFile:
    path: str
    reason: str  # "binary", "not UTF-8", "larger than N bytes", "unreadable: …"


@dataclass(frozen=True, slots=True)
class IndexStats:
    files: int
    lines: int
    definitions: int
    references: int
    match_sites: int
    files_with_errors: tuple[str, ...]
    skipped: tuple[SkippedFile, ...]
    seconds: float
    cached_files: int = 0

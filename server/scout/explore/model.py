"""Typed results of understanding a question and exploring from its target."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from scout.settings import BUDGET_PRESETS  # noqa: F401  (re-exported)


class Tag(StrEnum):
    """The binding tag vocabulary (DESIGN.md section 3): exact spelling on output."""

    EXHAUSTIVE = "Exhaustive"
    PATTERN_MATCH = "PatternMatch"
    TYPE_FAMILY = "TypeFamily"
    CONSTRAINT = "Constraint"
    DATA_TYPE = "DataType"
    TYPE_ALIAS = "TypeAlias"
    FUNCTION = "Function"
    MODULE = "Module"


class ChangeKind(StrEnum):
    ADD_CONSTRUCTOR = "add_constructor"
    REMOVE_CONSTRUCTOR = "remove_constructor"
    RENAME_CONSTRUCTOR = "rename_constructor"
    ADD_FIELD = "add_field"
    REMOVE_FIELD = "remove_field"
    RENAME_FIELD = "rename_field"
    CHANGE_FIELD_TYPE = "change_field_type"
    CHANGE_SIGNATURE = "change_signature"
    CHANGE_ARITY = "change_arity"
    ADD_METHOD = "add_method"
    ADD_SUPERCLASS = "add_superclass"
    CHANGE_TYPE_FAMILY = "change_type_family"
    CHANGE_TYPE_SYNONYM = "change_type_synonym"
    REMOVE_EXPORT = "remove_export"
    CHANGE = "change"  # generic: phrasing not understood, target still resolved


DEFAULT_BUDGET = BUDGET_PRESETS["medium"]


@dataclass(frozen=True, slots=True)
class Question:
    """A question as understood: text, target symbol, kind of change, tags, budget.

    ``target`` is the name as asked (possibly qualified, ``Types.LLMKind``); ``subject`` is an
    optional second name the change is about (the constructor to remove, the field to rename).
    """

    text: str
    target: str
    change: ChangeKind
    tags: tuple[Tag, ...]
    budget: int = DEFAULT_BUDGET
    subject: str | None = None


class EdgeKind(StrEnum):
    """Why exploration reached a node: the relation from the previous hop."""

    DEFINITION = "definition"
    MATCH_SITE = "match_site"  # a case/function group matching the target's constructors
    CATCH_ALL = "catch_all"  # a match whose `_`/variable row absorbs a new constructor silently
    CONSTRUCTOR_USE = "constructor_use"  # constructor used as an expression
    RECORD_CONSTRUCT = "record_construct"
    RECORD_UPDATE = "record_update"
    FIELD_ACCESS = "field_access"
    FIELD_PATTERN = "field_pattern"
    INSTANCE = "instance"
    DERIVED_INSTANCE = "derived_instance"
    ENUMERATION = "enumeration"  # [minBound ..], [x ..] over an Enum/Bounded type
    SIGNATURE = "signature"  # a type signature mentioning the target
    TYPE_USE = "type_use"  # other type positions (fields, instance contexts, synonyms)
    CALL_SITE = "call_site"
    PARTIAL_APPLICATION = "partial_application"
    EXPORT = "export"
    IMPORT = "import"
    CALLER = "caller"  # a further hop: uses of a function whose type mentions the target
    TYPE_FAMILY_INSTANCE = "type_family_instance"
    CONSTRAINT_USE = "constraint_use"


@dataclass(frozen=True, slots=True)
class SiteFacts:
    """What the engine established about a node, structurally. Scorers read these.

    ``breaks``: the change makes this place fail to compile (or, for warnings GHC gives with
    ``-Wincomplete-patterns``/``-Wmissing-methods``, warn). ``silent``: behaviour changes with no
    compile error (catch-all, derived Enum/Bounded/Show, serialisation, enumerations).
    """

    edge: EdgeKind
    breaks: bool
    silent: bool = False
    detail: str = ""  # one short human sentence naming the actual fact
    symbol: str | None = None  # the name used at the site (constructor, field, function)
    missing: tuple[str, ...] = ()  # e.g. constructors not matched, methods not implemented
    hop: int = 1  # 0 = the definition itself, 1 = direct use, 2+ = further hops


@dataclass(frozen=True, slots=True)
class Node:
    """One place the change can reach, with the context shown to scorers and users."""

    path: str  # workspace-relative POSIX path
    line: int  # 1-based
    hover: str  # enclosing declaration or signature
    snippet: str  # 5 lines around the node
    facts: SiteFacts
    enclosing: str | None = None
    end_line: int | None = None
    col: int = 0
    hover_source: str = "index"  # "index": the declaration text; "hls": HLS's inferred type

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True, slots=True)
class Coverage:
    files_indexed: int
    files_with_errors: int
    nodes_found: int
    nodes_kept: int


@dataclass(frozen=True, slots=True)
class Target:
    """The definition a question resolved to."""

    name: str
    module: str
    kind: str  # haskell.model.DefKind value
    path: str
    line: int

    @property
    def qualified(self) -> str:
        return f"{self.module}.{self.name}" if self.module else self.name


@dataclass(slots=True)
class Exploration:
    question: Question
    target: Target
    nodes: list[Node] = field(default_factory=list)
    coverage: Coverage = Coverage(0, 0, 0, 0)

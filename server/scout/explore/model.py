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
class Reading:
    """How a question was understood, kept with the query: what the user wrote, the reading
    chosen and why. Logged and exported (the ``parse_question`` task), so understanding
    itself becomes training data.

    ``kind``/``module`` name the definition the reading chose when the question was read
    against a workspace (the resolver then picks exactly that one); ``context`` holds the
    question's other names (containers, modules, types), which decide between definitions of
    one name; ``lexicon`` is the excerpt of the workspace's names the reading looked at
    (``"LLMKind: data LLM.Types"``), the input of the ``parse_question`` task.
    """

    asked: str
    method: str  # "structured", "text" (no workspace) or "text+lexicon"
    how: str  # one line: the cues and the target's kind that decided
    kind: str | None = None
    module: str | None = None
    context: tuple[str, ...] = ()
    new_name: str | None = None  # the member being added or the new name of a rename
    new_type: str | None = None  # Haskell type written in the question ("Maybe Day")
    lexicon: tuple[str, ...] = ()
    variant: str | None = None  # add_method: "required" | "default" as the text says

    def as_dict(self) -> dict[str, object]:
        return {"asked": self.asked, "method": self.method, "how": self.how,
                "kind": self.kind, "module": self.module, "context": list(self.context),
                "new_name": self.new_name, "new_type": self.new_type,
                "lexicon": list(self.lexicon), "variant": self.variant}


@dataclass(frozen=True, slots=True)
class Question:
    """A question as understood: text, target symbol, kind of change, tags, budget.

    ``target`` is the definition the change is made to, by name (possibly qualified,
    ``Types.LLMKind``): the type a constructor or field is added to, the class a method or
    superclass is added to, but the constructor or field itself when it is removed, renamed or
    retyped (the type is then context). ``subject`` is the member the change is about: the new
    constructor/field/method/superclass when one is named, or the member itself.
    """

    text: str
    target: str
    change: ChangeKind
    tags: tuple[Tag, ...]
    budget: int = DEFAULT_BUDGET
    subject: str | None = None
    # How free text was read (None for questions built in code); not part of equality.
    reading: Reading | None = field(default=None, compare=False)
    # The reading of add_method: "required" (no default; it joins the MINIMAL formula: every
    # instance must define it) or "default" (a default implementation every instance silently
    # takes); None when the question does not say (read as required).
    variant: str | None = None


METHOD_REQUIRED = "required"
METHOD_DEFAULT = "default"
METHOD_VARIANTS = (METHOD_REQUIRED, METHOD_DEFAULT)


def adds_method_with_default(question: Question) -> bool:
    """Does the question add a method *with* a default implementation ("add a method with a
    default to C", ``variant="default"``)? Then instances silently take the default and GHC
    reports nothing; otherwise the method has none (every instance must define it)."""
    return question.change is ChangeKind.ADD_METHOD and question.variant == METHOD_DEFAULT


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
    # What the engine had to assume because it could not model the site exactly (a match
    # whose rows it cannot line up, a search that gave up); scorers lower their confidence.
    assumption: str = ""


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

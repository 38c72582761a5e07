"""One parsed Haskell file -> ``FileIndex``: definitions, references, match sites, imports, exports.

Cost is the design constraint (FACTS.md: creating a Python object per reference, not parsing,
dominates). So:
- references come from ONE compiled query whose captures are identifiers plus the "region" nodes
  that decide their role (patterns, types, contexts, imports...); a single sweep assigns each
  identifier the role of its innermost region. No Python-side walk of the whole tree.
- references are stored as rows of ints (``RefsTable``), not objects.
- definitions and match sites walk only declaration heads and pattern subtrees (small).
"""

from __future__ import annotations

import hashlib
import re
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from operator import attrgetter, itemgetter
from typing import NamedTuple

from tree_sitter import Node, QueryCursor, Tree

from scout.haskell import parser as ts
from scout.haskell.model import (
    WILDCARD,
    Definition,
    DefKind,
    Export,
    FileIndex,
    Import,
    MatchKind,
    MatchRow,
    MatchSite,
    ParseProblem,
    PatKind,
    Pattern,
    RefsTable,
    Role,
    Span,
)

EXTRACTOR_VERSION = "11"

# Region captures decide the role of identifiers inside them; the innermost region wins.
(_R_PATTERN, _R_TYPE, _R_SIG, _R_CONTEXT, _R_DERIVING, _R_IHEAD, _R_IMPORT, _R_EXPORT, _R_EXPR,
 _R_BINDPAT) = range(10)
_REGION_CODES = {
    "r.pattern": _R_PATTERN,
    "r.type": _R_TYPE,
    "r.sig": _R_SIG,
    "r.context": _R_CONTEXT,
    "r.deriving": _R_DERIVING,
    "r.ihead": _R_IHEAD,
    "r.import": _R_IMPORT,
    "r.export": _R_EXPORT,
    "r.expr": _R_EXPR,
    "r.bindpat": _R_BINDPAT,  # the pattern of a pattern binding `(a, b) = …`
}

REFERENCE_QUERY = r"""
(name) @id.name
(constructor) @id.con
(constructor_operator) @id.con
(variable) @id.var
(operator) @id.var
(qualified module: (module) @qmod)
(patterns) @r.pattern
(function (infix) @r.pattern)
(pattern_synonym) @r.pattern
(alternative pattern: (_) @r.pattern)
(bind pattern: (_) @r.pattern !match)
(bind pattern: (_) @r.bindpat match: (_))
(generator pattern: (_) @r.pattern)
(pattern_guard pattern: (_) @r.pattern)
(view_pattern expression: (_) @r.expr)
(signature type: (_) @r.sig)
(data_type) @r.type
(newtype) @r.type
(type_synonym) @r.type
(type_family) @r.type
(type_instance) @r.type
(data_family) @r.type
(class patterns: (_) @r.type)
(class fundeps: (_) @r.type)
(context context: (_) @r.context)
(deriving) @r.deriving
(deriving_instance) @r.deriving
(instance name: (_) @r.ihead)
(instance patterns: (_) @r.ihead)
(imports) @r.import
(exports) @r.export
(record expression: (_)) @rec.expr
(field_pattern field: (field_name) @rec.pattern)
(field_pattern field: (qualified) @rec.pattern)
(record constructor: (_) @rec.pattern)
(projection field: (field_name) @rec.project)
(field_name (variable) @skip.field)
(function name: (_) @skip.def.fn)
(bind name: (_) @skip.def)
(signature name: (_) @skip.sig)
(signature names: (binding_list (_) @skip.sig))
(field_pattern !pattern field: (field_name (variable) @bind.pun))
(field_pattern !pattern field: (qualified id: (field_name (variable) @bind.pun)))
(function) @scope
(bind match: (_)) @scope
(lambda) @scope
(alternative) @scope
(let_in) @scope
(do) @scope
(list_comprehension) @scope
(apply) @app
(pragma) @pragma
"""

_NAME_ROLES = {_R_CONTEXT: Role.CONTEXT, _R_DERIVING: Role.DERIVING, _R_IHEAD: Role.INSTANCE_HEAD,
               _R_SIG: Role.SIGNATURE}
_CON_ROLES = {_R_PATTERN: Role.PATTERN, _R_BINDPAT: Role.PATTERN, _R_TYPE: Role.TYPE, _R_SIG: Role.TYPE,
              _R_CONTEXT: Role.TYPE, _R_IHEAD: Role.TYPE, _R_DERIVING: Role.TYPE}
_VAR_SKIP_REGIONS = frozenset({_R_PATTERN, _R_BINDPAT, _R_TYPE, _R_SIG, _R_CONTEXT, _R_IHEAD, _R_DERIVING})


_FIRST = itemgetter(0)


MATCH_QUERY = r"""
(case) @case
(lambda_case) @lambda_case
(lambda) @lambda
(function match: (_)) @function
(bind pattern: (_)) @pattern_bind
"""

_DECL_KINDS_WITH_NAMES = {"function", "bind", "signature"}
_TRIVIAL_GUARDS = {"otherwise", "True"}
_WS = re.compile(r"\s+")


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _span(node: Node) -> Span:
    s, e = node.start_point, node.end_point
    return Span(s[0] + 1, s[1], e[0] + 1, e[1])


def _text(node: Node | None) -> str:
    if node is None:
        return ""
    return node.text.decode("utf-8", "replace")


# A string literal (kept as it is), a line comment (`-- ...`, `-- | ...`, `-- ^ ...`, not an
# operator such as `-->`) or a block comment other than a pragma (both dropped).
_COMMENT_OR_STRING = re.compile(r'("(?:\\.|[^"\\\n])*")|--+(?![!#$%&*+./<=>?@\\^|~:\-])[^\n]*'
                                r"|\{-(?!#).*?-\}", re.S)


def _one_line(text: str, limit: int = 300) -> str:
    """A declaration's text on one line, without its comments (a signature documenting each
    argument, `-- | Parser to run`, would otherwise read as part of the next type)."""
    if "-" in text:
        text = _COMMENT_OR_STRING.sub(lambda m: m.group(1) or " ", text)
    flat = _WS.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _ident(node: Node | None) -> str | None:
    """The plain name of an identifier-ish node (qualified ids keep only the id)."""
    if node is None:
        return None
    t = node.type
    if t in ("name", "constructor", "variable", "operator", "constructor_operator"):
        return _text(node)
    if t == "qualified":
        return _ident(node.child_by_field_name("id"))
    if t in ("prefix_id", "infix_id", "parens", "field_name", "prefix"):
        for c in node.named_children:
            found = _ident(c)
            if found:
                return found
    return None


def _names_in(node: Node | None, kinds: Iterable[str] = ("name",)) -> tuple[str, ...]:
    """Identifiers of the given node types under ``node``, in order, deduplicated."""
    if node is None:
        return ()
    wanted = set(kinds)
    out: list[str] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type in wanted:
            out.append(_text(n))
            continue
        stack.extend(reversed(n.named_children))
    return tuple(dict.fromkeys(out))


_COMMENTS = frozenset({"comment", "haddock", "pragma", "cpp"})


@dataclass(slots=True)
class _Part:
    """One top-level declaration (or the header: everything before the declarations) as
    extracted on its own. Nothing in a part depends on another part; ``_link`` joins them into
    a ``FileIndex`` (function clauses into groups, signatures onto functions), and an edit
    re-extracts only the parts it touches (``extract_incremental``)."""

    start: int  # byte range of its node (the header: from 0)
    end: int
    first_row: int  # 0-based rows of its node
    last_row: int
    node_type: str
    top_name: str | None = None  # the declaration that encloses the uses inside it
    # A syntax error inside: error recovery can change such a subtree without tree-sitter
    # reporting a changed range, so it is never reused.
    broken: bool = False
    defs: list[Definition] = field(default_factory=list)  # complete definitions
    fn: tuple | None = None  # function/bind: (name, node type, arity, span, name span)
    sigs: tuple = ()  # a signature: ((name, text, type names), ...)
    psigs: tuple = ()  # a pattern synonym signature: ((name, text), ...)
    syn: tuple | None = None  # a pattern synonym: (name, span, name span, text)
    sites: list[MatchSite] = field(default_factory=list)  # its own match sites, in order
    clause: tuple | None = None  # a top-level function clause: (rows, lazy patterns)
    # local binders whose scope is this whole declaration (parameters, `where` names):
    # ((name id, start byte), ...); an edit inside its body that leaves them alone re-extracts
    # only the touched sub-expression (``_reextract_inside``)
    binds: tuple = ()
    exports: list[Export] | None = None  # the header only
    imports: list[Import] = field(default_factory=list)  # the header only
    module: str = ""  # the header only


# every field of a part after its byte range, in order (a part moved by bytes only keeps them;
# dataclasses.replace costs several times more, once per declaration after an edit)
_part_fields = attrgetter(*[f.name for f in fields(_Part)][2:])


@dataclass(slots=True)
class _State:
    """What ``extract_incremental`` needs of the previous extraction of a file."""

    parts: list[_Part]
    bounds: list[int]  # parts[i]'s reference rows are rows bounds[i] .. bounds[i+1]
    name_ids: dict[bytes, int]  # the interning table of the file's reference names
    raw_names: list[bytes]
    names: list[str]  # raw_names decoded (the RefsTable's names)
    source: bytes  # what was extracted
    full_names: int = 0  # names in the table after the last full extraction
    broken: tuple[int, ...] = ()  # indices of the parts with a syntax error
    data: array = field(default_factory=lambda: array("i"))  # the RefsTable's rows


class _Extractor:
    """Extracts parts: the header, and declarations in batches (one query per batch)."""

    def __init__(self, path: str, source: bytes, tree: Tree, module: str = "",
                 name_ids: dict[bytes, int] | None = None,
                 raw_names: list[bytes] | None = None) -> None:
        self.path = path
        self.source = source
        self.tree = tree
        self.root = tree.root_node
        self.module = module
        self.defs: list[Definition] = []  # the current part's
        self.def_name_bytes: set[int] = set()  # start bytes of defining occurrences
        # Names are interned as bytes (shared by every part of the file), decoded at the end.
        self.name_ids: dict[bytes, int] = name_ids if name_ids is not None else {}
        self.raw_names: list[bytes] = raw_names if raw_names is not None else []

    def intern(self, b: bytes) -> int:
        i = self.name_ids.get(b)
        if i is None:
            i = self.name_ids[b] = len(self.raw_names)
            self.raw_names.append(b)
        return i

    # -- definitions -------------------------------------------------------------------
    def add(self, name: str | None, kind: DefKind, node: Node, name_node: Node | None,
            **extra: object) -> Definition | None:
        if not name:
            return None
        nn = name_node or node
        d = Definition(name=name, kind=kind, module=self.module, path=self.path, span=_span(node),
                       name_span=_span(nn), **extra)  # type: ignore[arg-type]
        self.defs.append(d)
        if name_node is not None:
            self.exclude(name_node)
        return d

    def exclude(self, name_node: Node) -> None:
        """Mark a defining occurrence so the reference sweep does not count it as a use."""
        self.def_name_bytes.add(name_node.start_byte)
        for leaf in _leaves(name_node):
            self.def_name_bytes.add(leaf.start_byte)

    def header_part(self, end: int) -> _Part:
        """Everything before the declarations: pragmas, the module header, imports."""
        part = _Part(0, end, 0, 0, "header")
        self.defs = part.defs
        for child in self.root.named_children:
            if child.start_byte >= end:
                break
            part.broken = part.broken or child.has_error
            if child.type == "header":
                mod = child.child_by_field_name("module")
                self.module = _text(mod)
                if mod is not None:
                    self.add(self.module, DefKind.MODULE, child, mod)
                ex = child.child_by_field_name("exports")
                if ex is not None:
                    part.exports = self._exports(ex)
            elif child.type == "imports":
                for imp in child.named_children:
                    if imp.type == "import":
                        part.imports.append(self._import(imp))
        if not self.module:
            self.module = "Main"
        part.module = self.module
        part.last_row = self.source.count(b"\n", 0, end)
        return part

    def _exports(self, node: Node) -> list[Export]:
        out = []
        for e in node.named_children:
            line = e.start_point[0] + 1
            if e.type == "module_export":
                out.append(Export("module " + _text(e.child_by_field_name("module")), None, False,
                                  (), line))
            elif e.type == "export":
                target = (e.child_by_field_name("type") or e.child_by_field_name("variable")
                          or e.child_by_field_name("operator"))
                qual = None
                if target is not None and target.type == "qualified":
                    qual = _text(target.child_by_field_name("module")).rstrip(".")
                children = e.child_by_field_name("children")
                kids: tuple[str, ...] = ()
                if children is not None:
                    kids = tuple(_text(c) if c.type == "all_names" else (_ident(c) or _text(c))
                                 for c in children.named_children)
                out.append(Export(_ident(target) or _text(target), qual, children is not None,
                                  kids, line))
        return out

    def _import(self, node: Node) -> Import:
        module = _text(node.child_by_field_name("module"))
        alias_node = node.child_by_field_name("alias")
        qualified = hiding = False
        for c in node.children:
            if not c.is_named:
                if c.type == "qualified":
                    qualified = True
                elif c.type == "hiding":
                    hiding = True
        names_node = node.child_by_field_name("names")
        names: tuple[str, ...] | None = None
        if names_node is not None:
            collected = []
            for item in names_node.named_children:
                target = (item.child_by_field_name("type") or item.child_by_field_name("variable")
                          or item.child_by_field_name("operator"))
                name = _ident(target)
                if name:
                    collected.append(name)
                children = item.child_by_field_name("children")
                if children is not None:
                    collected.extend(_ident(c) or _text(c) for c in children.named_children
                                     if c.type != "all_names")
            names = tuple(collected)
        return Import(module, qualified, _text(alias_node) if alias_node is not None else None,
                      names, hiding, node.start_point[0] + 1)

    def decl_part(self, d: Node) -> _Part:
        """One top-level declaration's definitions (functions and pattern synonyms wait for
        ``_link``, which groups clauses and attaches signatures)."""
        t = d.type
        part = _Part(d.start_byte, d.end_byte, d.start_point[0], d.end_point[0], t,
                     broken=d.has_error)
        self.defs = part.defs
        name: str | None = None
        if t in ("function", "bind"):
            nn = self._function_name_node(d)
            name = _ident(nn)
            arity = 0
            if t == "function":
                pats = d.child_by_field_name("patterns")
                arity = pats.named_child_count if pats is not None else 2  # infix: 2 operands
            if name:
                if nn is not d:
                    self.exclude(nn)
                part.fn = (name, t, arity, _span(d), _span(nn))
        elif t == "signature":
            sig_text = _one_line(_text(d))
            names = self._signature_names(d)
            mentions = _names_in_sig(sig_text)
            part.sigs = tuple((_text(nn), sig_text, mentions) for nn in names)
            for nn in names:
                self.exclude(nn)
            name = _ident(names[0]) if names else None
        elif t in ("data_type", "newtype"):
            name = self._data(d)
        elif t == "data_instance":
            inner = next((c for c in d.named_children if c.type in ("data_type", "newtype")),
                         None)
            if inner is not None:
                name = self._data(inner, instance=True)
        elif t == "type_synonym":
            name = self._simple(d, DefKind.TYPE_SYNONYM)
        elif t == "type_family":
            name = self._simple(d, DefKind.TYPE_FAMILY)
        elif t == "data_family":
            name = self._simple(d, DefKind.DATA_FAMILY)
        elif t == "type_instance":
            n = d.child_by_field_name("name")
            name = _ident(n)
            self.add(name, DefKind.TYPE_INSTANCE, d, None, parent=name,
                     signature=_one_line(_text(d)),
                     instance_types=_names_in(d.child_by_field_name("patterns")))
        elif t == "class":
            name = self._class(d)
        elif t == "instance":
            name = self._instance(d)
        elif t == "deriving_instance":
            name = self._standalone_deriving(d)
        elif t == "pattern_synonym":
            name = self._pattern_synonym(d, part)
        elif t == "foreign_import":
            sig = d.child_by_field_name("signature")
            if sig is not None and self._signature_names(sig):
                nn = self._signature_names(sig)[0]
                name = _text(nn)
                self.add(name, DefKind.FUNCTION, d, nn, signature=_one_line(_text(sig)),
                         mentions=_names_in(sig.child_by_field_name("type")))
        part.top_name = name
        return part

    def _signature_names(self, sig: Node) -> list[Node]:
        n = sig.child_by_field_name("name")
        if n is not None:
            return [n]
        names = sig.child_by_field_name("names")
        if names is not None:
            return [c for c in names.named_children]
        return []

    def _function_name_node(self, d: Node) -> Node:
        n = d.child_by_field_name("name")
        if n is not None:
            return n
        for c in d.named_children:  # infix definition `a <+> b = …`: the operator is the name
            if c.type == "infix":
                op = c.child_by_field_name("operator")
                if op is not None:
                    return op
        return d

    def _function_name(self, d: Node) -> str | None:
        return _ident(self._function_name_node(d))

    def _simple(self, d: Node, kind: DefKind) -> str | None:
        nn = d.child_by_field_name("name")
        name = _ident(nn)
        self.add(name, kind, d, nn, signature=_one_line(_text(d)),
                 mentions=_names_in(d.child_by_field_name("type")))
        return name

    def _data(self, d: Node, instance: bool = False) -> str | None:
        nn = d.child_by_field_name("name")
        type_name = _ident(nn)
        if not type_name:
            return None
        kind = DefKind.NEWTYPE if d.type == "newtype" else DefKind.DATA
        constructors: list[str] = []
        con_defs: list[Definition] = []
        cons_node = d.child_by_field_name("constructors")
        con_nodes: list[Node] = []
        if cons_node is not None:
            con_nodes = list(cons_node.named_children)
        single = d.child_by_field_name("constructor")
        if single is not None:
            con_nodes = [single]
        for c in con_nodes:
            for cdef in self._constructor(c, type_name):
                constructors.append(cdef.name)
                con_defs.append(cdef)
        # the declaration head (before `=` / `where`) is the hover; whole text if short
        # the declaration is its own hover when short; else its head (before `=` / `where`)
        if d.end_point[0] - d.start_point[0] < 6:
            signature = _one_line(_text(d))
        else:
            end = cons_node.start_byte if cons_node is not None else d.end_byte
            signature = _one_line(self.source[d.start_byte:end].decode("utf-8", "replace")
                                  .rstrip().rstrip("=").rstrip())
        if instance:
            self.add(type_name, DefKind.TYPE_INSTANCE, d, None, parent=type_name,
                     signature=signature, constructors=tuple(constructors),
                     instance_types=_names_in(d.child_by_field_name("patterns")))
        else:
            self.add(type_name, kind, d, nn, signature=signature,
                     constructors=tuple(constructors))
        for der in d.children_by_field_name("deriving"):
            self._deriving_clause(der, type_name)
        return type_name

    def _constructor(self, c: Node, type_name: str) -> list[Definition]:
        out: list[Definition] = []
        if c.type == "data_constructor":
            c = c.child_by_field_name("constructor") or c
        if c.type == "gadt_constructor":
            # `names` first: tree-sitter also answers `name` with the first of `D, E :: …`
            several = c.child_by_field_name("names")
            names = (list(several.named_children) if several is not None
                     else [n for n in (c.child_by_field_name("name"),) if n is not None])
            ty = c.child_by_field_name("type")
            fields: tuple[str, ...] = ()
            arity = 0
            result: Node | None = None
            if ty is not None and ty.type == "record":
                fields = self._fields(ty.child_by_field_name("fields"), names and _text(names[0]))
                arity = len(fields)
                result = ty.child_by_field_name("type")
            elif ty is not None:
                inner = ty.child_by_field_name("type") or ty
                arity = _arrow_arity(inner)
                result = _arrow_result(inner)
            indices = _type_arguments(result)
            for n in names:
                d = self.add(_ident(n), DefKind.CONSTRUCTOR, c, n, parent=type_name,
                             signature=_one_line(_text(c)), fields=fields, arity=arity,
                             mentions=_names_in(ty), indices=indices)
                if d:
                    out.append(d)
            return out
        nn = c.child_by_field_name("name")
        fields = ()
        if c.type == "infix":
            nn = c.child_by_field_name("operator")
            arity = 2
        elif c.type == "record":
            fields = self._fields(c.child_by_field_name("fields"), _ident(nn))
            arity = len(fields)
        elif c.type == "newtype_constructor":
            f = c.child_by_field_name("field")
            if f is not None and f.type == "record":
                fields = self._fields(f, _ident(nn))
            arity = 1
        else:  # prefix
            arity = len(c.children_by_field_name("field"))
        d = self.add(_ident(nn), DefKind.CONSTRUCTOR, c, nn, parent=type_name,
                     signature=_one_line(_text(c)), fields=fields, arity=arity,
                     mentions=_names_in(c))
        if d:
            out.append(d)
        return out

    def _fields(self, fields_node: Node | None, con: str | None) -> tuple[str, ...]:
        if fields_node is None:
            return ()
        names: list[str] = []
        holders = [fields_node] if fields_node.type == "field" else fields_node.named_children
        for field_node in holders:
            if field_node.type != "field":
                continue
            ty = field_node.child_by_field_name("type")
            for fn in field_node.children_by_field_name("name"):
                fname = _ident(fn)
                if fname:
                    names.append(fname)
                    self.add(fname, DefKind.FIELD, field_node, fn.named_children[0]
                             if fn.named_child_count else fn, parent=con,
                             signature=_one_line(_text(field_node)), mentions=_names_in(ty))
        return tuple(names)

    def _deriving_clause(self, der: Node, type_name: str) -> None:
        strategy_node = der.child_by_field_name("strategy")
        strategy = _text(strategy_node) if strategy_node is not None else None
        if der.child_by_field_name("via") is not None:
            strategy = "via"
        classes = der.child_by_field_name("classes")
        for cls_node in _class_heads(classes):
            self.add(_ident(cls_node), DefKind.DERIVED_INSTANCE, der, None,
                     parent=_ident(cls_node), instance_types=(type_name,),
                     signature=f"deriving {_text(cls_node)} for {type_name}",
                     deriving_strategy=strategy)

    def _standalone_deriving(self, d: Node) -> str | None:
        nn = d.child_by_field_name("name")
        cls = _ident(nn)
        types = _names_in(d.child_by_field_name("patterns"))
        strategy = None
        for c in d.named_children:
            if c.type == "deriving_strategy":
                strategy = _text(c)
            elif c.type == "via":
                strategy = "via"
        self.add(cls, DefKind.DERIVED_INSTANCE, d, None, parent=cls, instance_types=types,
                 signature=_one_line(_text(d)), deriving_strategy=strategy, standalone=True)
        return cls

    def _class(self, d: Node) -> str | None:
        nn = d.child_by_field_name("name")
        name = _ident(nn)
        supers = tuple(n for n in _names_in(d.child_by_field_name("context")))
        methods: list[str] = []
        defaults: list[str] = []
        body = d.child_by_field_name("declarations")
        method_defs: list[tuple[Node, Node, str]] = []
        if body is not None:
            for decl in body.named_children:
                if decl.type == "signature":
                    for sn in self._signature_names(decl):
                        m = _ident(sn)
                        if m:
                            methods.append(m)
                            method_defs.append((decl, sn, m))
                elif decl.type in ("function", "bind"):
                    m = self._function_name(decl)
                    if m and m not in defaults:
                        defaults.append(m)
                    self.exclude(self._function_name_node(decl))
                elif decl.type in ("type_family", "data_family"):
                    self._simple(decl, DefKind.TYPE_FAMILY if decl.type == "type_family"
                                 else DefKind.DATA_FAMILY)
        head = self._head_text(d, body)
        minimal = minimal_line = None
        for part in [*d.named_children, *(body.named_children if body is not None else ())]:
            if part.type == "pragma" and "MINIMAL" in _text(part):
                minimal = _one_line(_text(part)).removeprefix("{-#").removesuffix("#-}").strip()
                minimal = minimal.removeprefix("MINIMAL").strip()
                minimal_line = part.start_point[0] + 1
        self.add(name, DefKind.CLASS, d, nn, signature=_one_line(head), methods=tuple(methods),
                 defaults=tuple(defaults), superclasses=supers, minimal=minimal,
                 minimal_line=minimal_line)
        for decl, sn, m in method_defs:
            ty = decl.child_by_field_name("type")
            self.add(m, DefKind.METHOD, decl, sn, parent=name, signature=_one_line(_text(decl)),
                     mentions=_names_in(ty), arity=_arrow_arity(ty) if ty is not None else None)
        return name

    def _head_text(self, d: Node, body: Node | None) -> str:
        """`class … where` / `instance … where` without the body (cheap: no full-text copy)."""
        end = body.start_byte if body is not None else d.end_byte
        head = self.source[d.start_byte:end].decode("utf-8", "replace")
        return head.rsplit(" where", 1)[0] if head.rstrip().endswith("where") else head

    def _instance(self, d: Node) -> str | None:
        nn = d.child_by_field_name("name")
        cls = _ident(nn)
        types = _names_in(d.child_by_field_name("patterns"))
        implemented: list[str] = []
        body = d.child_by_field_name("declarations")
        if body is not None:
            for decl in body.named_children:
                if decl.type in ("function", "bind"):
                    m = self._function_name(decl)
                    if m and m not in implemented:
                        implemented.append(m)
                    self.exclude(self._function_name_node(decl))
                elif decl.type == "signature":  # InstanceSigs
                    for sn in self._signature_names(decl):
                        self.exclude(sn)
                elif decl.type == "type_instance":  # an associated type's equation
                    family = _ident(decl.child_by_field_name("name"))
                    self.add(family, DefKind.TYPE_INSTANCE, decl, None, parent=family,
                             signature=_one_line(_text(decl)),
                             instance_types=_names_in(decl.child_by_field_name("patterns")))
        head = self._head_text(d, body)
        self.add(cls, DefKind.INSTANCE, d, None, parent=cls, instance_types=types,
                 signature=_one_line(head), implemented=tuple(implemented),
                 mentions=_names_in(d.child_by_field_name("context")))
        return f"instance {cls} {' '.join(types)}".strip() if cls else None

    def _pattern_synonym(self, d: Node, part: _Part) -> str | None:
        """`pattern P :: T` records the signature of P (no definition of its own: the
        equation is the one definition); `pattern P x = …` / `pattern P <- … where P = …`
        defines P (``_link`` gives it its signature)."""
        eq = d.named_children[0] if d.named_child_count else None
        if eq is None:
            return None
        syn = eq.child_by_field_name("synonym")
        if syn is None:
            return None
        if eq.type == "signature":
            heads = list(syn.named_children) if syn.type == "binding_list" else [syn]
            text = _one_line(_text(d))
            found = []
            for h in heads:
                if _ident(h):
                    found.append((_ident(h), text))
                    self.exclude(h)
            part.psigs = tuple(found)
            return _ident(heads[0]) if heads else None
        head = _synonym_head(syn)
        name = _ident(head)
        cons = eq.child_by_field_name("constructors")  # `where P … = …`: P's builder clauses
        if cons is not None:
            for clause in cons.named_children:
                builder = _synonym_head(clause.child_by_field_name("pattern"))
                if builder is not None and _ident(builder) == name:
                    self.exclude(builder)
        if name and head is not None:
            self.exclude(head)
            part.syn = (name, _span(d), _span(head), _one_line(_text(d)))
        return name

    # -- references and match sites, for a batch of consecutive parts ----------------------
    def captures(self, start: int | None = None, end: int | None = None
                 ) -> dict[str, list[Node]]:
        """One query over the tree (or the bytes ``start``..``end``) serves references and
        match sites."""
        cursor = QueryCursor(ts.query(REFERENCE_QUERY + MATCH_QUERY))
        if start is None or end is None:
            return cursor.captures(self.root)
        cursor.set_byte_range(start, end)
        caps = cursor.captures(self.root)
        return {k: [n for n in v if start <= n.start_byte < end] for k, v in caps.items()}

    def batch(self, parts: list[_Part], caps: dict[str, list[Node]]
              ) -> tuple[array, list[int]]:
        """Reference rows and match sites of consecutive ``parts`` from their captures: the
        rows (all parts', in order) and each part's first row (plus the end)."""
        starts_of = [p.start for p in parts]
        names_of = [p.top_name for p in parts]
        log: list[tuple[int, int, tuple[int, int]]] = []
        data, starts = self.references(caps, starts_of, names_of, log=log)
        for prag in caps.get("pragma", ()):
            rule_rows = self.rule_rows(prag)
            if rule_rows:  # the pragma holds no other rows: its rules' go where it starts
                at = bisect_left(starts, prag.start_byte)
                width = RefsTable.WIDTH
                data[at * width:at * width] = rule_rows
                starts[at:at] = array("q", [prag.start_byte]) * (len(rule_rows) // width)
        if log:
            by_range = {(p.start, p.end): p for p in parts}
            for name, at, scope in log:
                part = by_range.get(scope)
                if part is not None:
                    part.binds += ((name, at - part.start),)
        bounds = [0] * (len(parts) + 1)
        width = RefsTable.WIDTH
        rows = len(data) // width
        for i, s in enumerate(starts_of[1:], start=1):
            bounds[i] = bisect_left(starts, s)
        bounds[-1] = rows
        for start, site in self.match_sites(caps, parts, starts_of, names_of):
            parts[max(0, bisect_right(starts_of, start) - 1)].sites.append(site)
        return data, bounds

    def references(self, caps: dict[str, list[Node]], top_starts: list[int],
                   top_names: list[str | None], *,
                   binders: dict[int, list[tuple[int, int]]] | None = None,
                   log: list[tuple[int, int, tuple[int, int]]] | None = None,
                   within: tuple[int, int] | None = None) -> tuple[array, array]:
        """Reference rows (and their start bytes) of the identifiers in ``caps``
        (only those starting ``within`` a byte range, when given). ``binders``: local binders
        known from outside (name id -> scopes), added to; ``log``: gets (name id, start byte,
        scope) of every local binder found."""
        regions: list[tuple[int, int, int]] = []
        for cap, code in _REGION_CODES.items():
            for n in caps.get(cap, ()):
                regions.append((n.start_byte, -n.end_byte, code))
        regions.sort()
        qualifier_at: dict[int, str] = {}  # id start byte -> module qualifier text
        qual_start: dict[int, int] = {}  # id start byte -> start of the qualified name
        for m in caps.get("qmod", ()):
            sib = m.next_named_sibling
            if sib is not None:
                qualifier_at[sib.start_byte] = _text(m).rstrip(".")
                qual_start[sib.start_byte] = m.start_byte
        special: dict[int, int] = {}  # start byte -> forced role
        for rec in caps.get("rec.expr", ()):
            # `C { f = e }` constructs, `r { f = e }` updates: the head decides
            head = rec.child_by_field_name("expression")
            construct = head is not None and (
                head.type == "constructor" or (head.type == "qualified" and _ident(head) and
                                               _ident(head)[0].isupper()))
            if construct:
                for c in _leaves(head):
                    special[c.start_byte] = Role.RECORD_CONSTRUCT
            role = Role.RECORD_CONSTRUCT if construct else Role.RECORD_UPDATE
            for upd in rec.children_by_field_name("field"):
                fname = upd.child_by_field_name("field")
                if fname is not None:
                    for c in _leaves(fname):
                        special[c.start_byte] = role
        for cap, role in (("rec.pattern", Role.RECORD_PATTERN),
                          ("rec.project", Role.EXPRESSION)):
            for n in caps.get(cap, ()):
                for c in _leaves(n):
                    special[c.start_byte] = role

        idents: list[tuple[int, int, Node]] = []
        for cap, kind in (("id.name", 0), ("id.con", 1), ("id.var", 2)):
            for n in caps.get(cap, ()):
                idents.append((n.start_byte, kind, n))
        if within is not None:
            idents = [i for i in idents if within[0] <= i[0] < within[1]]
        idents.sort(key=_FIRST)
        # field names outside record syntax, and local definitions (where/let) are not uses;
        # local definitions and pattern variables bind names in a scope (shadowing)
        field_name_vars = {n.start_byte for n in caps.get("skip.field", ())}
        local_defs: dict[int, int] = {}  # start byte -> 1: function clause name, 0: bind name
        # 1: the name sits in its own clause/binding, a scope of its own: its scope is the next
        for cap, own_scope in (("skip.def.fn", 1), ("skip.def", 1), ("skip.sig", -1)):
            for n in caps.get(cap, ()):
                for leaf in ((n,) if n.type == "variable" else _leaves(n)):
                    field_name_vars.add(leaf.start_byte)
                    if own_scope >= 0:
                        local_defs[leaf.start_byte] = own_scope
        puns = {n.start_byte for n in caps.get("bind.pun", ())}
        scopes = sorted((n.start_byte, -n.end_byte) for n in caps.get("scope", ()))
        # the last line of the application each head starts (`f a\n  b`: the line of b)
        app_end: dict[int, int] = {}
        for n in caps.get("app", ()):
            b, row = n.start_byte, n.end_point[0]
            if app_end.get(b, -1) < row:
                app_end[b] = row
        for ident, qualified in qual_start.items():  # `M.f x`: the application starts at M.
            if qualified in app_end:
                app_end[ident] = app_end[qualified]

        intern = self.intern
        data = array("i")
        starts = array("q")  # start byte of each row, for the shadowing pass
        if binders is None:
            binders = {}  # name id -> scopes (start, end byte)
        top_ids = [intern(n.encode()) if n else -1 for n in top_names]
        qual_ids = {start: intern(q.encode()) for start, q in qualifier_at.items()}
        defining = self.def_name_bytes
        src = self.source
        # Region nodes nest (they are tree nodes), so the stack stays ordered by end byte
        # and its top, after popping ended regions, is the innermost region.
        stack: list[tuple[int, int]] = [(1 << 62, -1)]  # (end byte, code)
        ri = 0
        nregions = len(regions)
        scope_of = _Scopes(scopes).around
        no_role = -1
        skip_var_regions = _VAR_SKIP_REGIONS
        expression = Role.EXPRESSION
        for start, kind, node in idents:
            while ri < nregions and regions[ri][0] <= start:
                region_start, neg_end, code = regions[ri]
                while stack[-1][0] <= region_start:
                    stack.pop()
                stack.append((-neg_end, code))
                ri += 1
            while stack[-1][0] <= start:
                stack.pop()
            region = stack[-1][1]
            if start in defining:
                continue
            role = special.get(start, no_role)
            if role != no_role:
                if start in puns:  # `C {size}` binds size
                    scope = scope_of(start, 0)
                    if scope is not None:
                        name_id = intern(src[start:node.end_byte])
                        binders.setdefault(name_id, []).append(scope)
                        if log is not None:
                            log.append((name_id, start, scope))
            elif region == _R_IMPORT:
                role = Role.IMPORT
            elif region == _R_EXPORT:
                role = Role.EXPORT
            elif kind == 0:  # types and classes
                role = _NAME_ROLES.get(region, Role.TYPE)
            elif kind == 1:  # constructors
                role = _CON_ROLES.get(region, Role.EXPRESSION)
            else:  # variables and operators
                own = local_defs.get(start)
                if region == _R_BINDPAT:
                    own = 1  # `(a, b) = …` binds a and b around the binding, not inside it
                if own is not None or region == _R_PATTERN and start not in field_name_vars:
                    # a local binder: its scope is the innermost scope around it (for a local
                    # function's name, the one around its own clause)
                    scope = scope_of(start, own or 0)
                    if scope is not None:
                        name_id = intern(src[start:node.end_byte])
                        binders.setdefault(name_id, []).append(scope)
                        if log is not None:
                            log.append((name_id, start, scope))
                    continue
                if region in skip_var_regions or start in field_name_vars:
                    continue  # binders, type variables, field names outside record syntax
                role = expression
            end = node.end_byte
            enc = bisect_right(top_starts, start) - 1
            row, col = node.start_point
            data.extend((intern(src[start:end]), qual_ids.get(start, -1), row + 1, col, role,
                         top_ids[enc] if enc >= 0 else -1,
                         app_end.get(start, -1) + 1))
            starts.append(start)
        if binders:
            data, starts = _drop_shadowed(data, starts, binders, expression)
        return data, starts

    def rule_rows(self, pragma: Node) -> array:
        """Reference rows of the rules of a RULES pragma (none for another pragma), at their
        lines, each attributed to the function its left-hand side rewrites."""
        out = array("i")
        width = RefsTable.WIDTH
        for rule in rules(self.source, pragma.start_byte, pragma.end_byte):
            tree = ts.parser().parse(rule.snippet)
            sides = rule_sides(tree, rule)
            if sides is None:
                continue
            sub = _Extractor(self.path, rule.snippet, tree, self.module, self.name_ids,
                             self.raw_names)
            binders = {self.intern(b): [(0, len(rule.snippet))] for b in rule.binders}
            rows, _ = sub.references(sub.captures(), [0], [_rule_head(sides[1])],
                                     binders=binders)
            for i in range(0, len(rows), width):
                if rows[i + 4] == _SIGNATURE:  # a binder's `(x :: T)`: no declaration's type
                    rows[i + 4] = _TYPE
                rows[i + 2] += rule.row0
                rows[i + 3] -= _RULE_PAD
                if rows[i + 6]:
                    rows[i + 6] += rule.row0
            out.extend(rows)
        return out

    # -- match sites ---------------------------------------------------------------------
    def match_sites(self, caps: dict[str, list[Node]], parts: list[_Part],
                    top_starts: list[int], top_names: list[str | None]
                    ) -> list[tuple[int, MatchSite]]:
        """Match sites with their start bytes, in order; a top-level function clause becomes
        its part's ``clause`` (``_link`` groups the clauses of one function)."""
        self.top_starts, self.top_names = top_starts, top_names
        sites: list[tuple[int, MatchSite]] = []
        for n in caps.get("case", ()):
            alts = n.child_by_field_name("alternatives")
            scrut = n.named_children[0] if n.named_child_count else None
            self._alt_site(sites, MatchKind.CASE, n, alts,
                           _one_line(_text(scrut), 80) if scrut is not None and
                           scrut.type != "alternatives" else None)
        for n in caps.get("lambda_case", ()):
            self._alt_site(sites, MatchKind.LAMBDA_CASE, n,
                           n.child_by_field_name("alternatives"), None)
        for n in caps.get("lambda", ()):
            pats = n.child_by_field_name("patterns")
            if pats is None:
                continue
            lazy: list[Pattern] = []
            line = n.start_point[0] + 1
            row = MatchRow(tuple(pattern(p, lazy) for p in pats.named_children), False, line)
            site = MatchSite(MatchKind.LAMBDA, self.path, _span(n), self._enclosing(n), None,
                             (row,))
            sites.append((n.start_byte, site))
            _lazy_sites(sites, n.start_byte, site, lazy, line)
        for n in caps.get("pattern_bind", ()):
            parent = n.parent
            do_bind = parent is not None and parent.type == "do"
            if parent is None or not do_bind and parent.type not in ("local_binds",
                                                                     "declarations"):
                continue
            pat = n.child_by_field_name("pattern")
            lazy = []
            p = pattern(pat, lazy)
            line = n.start_point[0] + 1
            # a do-bind desugars to `fail` (MonadFail), not an incomplete-pattern warning
            site = MatchSite(MatchKind.DO_BIND if do_bind else MatchKind.PATTERN_BINDING,
                             self.path, _span(pat) if do_bind else _span(n),
                             self._enclosing(n), None, (MatchRow((p,), False, line),))
            if p.kind is not PatKind.WILD:
                sites.append((n.start_byte, site))
            if not do_bind:
                _lazy_sites(sites, n.start_byte, site, lazy, line)
        for n in caps.get("rec.expr", ()):
            head = n.child_by_field_name("expression")
            if _constructs(head):
                continue
            fields = []
            for upd in n.children_by_field_name("field"):
                fname = _ident(upd.child_by_field_name("field"))
                if fname:
                    fields.append(fname)
            if fields:  # GHC reports a partial update at the start of the whole expression
                sites.append((n.start_byte, MatchSite(
                    MatchKind.RECORD_UPDATE, self.path, _span(n), self._enclosing(n), None, (),
                    _one_line(_text(head), 80), tuple(fields))))
        clauses = {p.start: p for p in parts if p.node_type == "function"}
        local = []
        for fn in caps.get("function", ()):
            part = clauses.get(fn.start_byte)
            if part is None:
                local.append(fn)
            else:
                lazy: list[Pattern] = []
                part.clause = (tuple(self._clause_rows(fn, lazy)), tuple(lazy))
        sites.extend(self._function_groups(local))
        sites.sort(key=_site_order)
        return sites

    def _alt_site(self, sites: list[tuple[int, MatchSite]], kind: MatchKind, node: Node,
                  alts: Node | None, scrutinee: str | None) -> None:
        rows = []
        lazy_rows: list[tuple[list[Pattern], int]] = []
        if alts is not None:
            for alt in alts.named_children:
                if alt.type != "alternative":
                    continue
                lazy: list[Pattern] = []
                p = pattern(alt.child_by_field_name("pattern"), lazy)
                line = alt.start_point[0] + 1
                rows.append(MatchRow((p,), _guarded(alt), line))
                if lazy:
                    lazy_rows.append((lazy, line))
        site = MatchSite(kind, self.path, _span(node), self._enclosing(node), None, tuple(rows),
                         scrutinee)
        sites.append((node.start_byte, site))
        for lazy, line in lazy_rows:
            _lazy_sites(sites, node.start_byte, site, lazy, line)

    def _function_groups(self, functions: Iterable[Node]) -> list[tuple[int, MatchSite]]:
        """Clause groups of local functions (`where`/`let`): each clause is its own `function`
        node, so consecutive same-name siblings are grouped."""
        groups: list[list[Node]] = []
        group_of_last: dict[int, list[Node]] = {}  # node id of a group's last clause -> group
        for fn in sorted(functions, key=lambda x: x.start_byte):
            name = self._function_name(fn)
            prev = fn.prev_named_sibling
            while prev is not None and prev.type in _COMMENTS:
                prev = prev.prev_named_sibling
            group = group_of_last.pop(prev.id, None) if prev is not None else None
            if group is None or self._function_name(group[0]) != name:
                group = []
                groups.append(group)
            group.append(fn)
            group_of_last[fn.id] = group
        sites: list[tuple[int, MatchSite]] = []
        for clauses in groups:
            rows: list[MatchRow] = []
            lazy: list[Pattern] = []
            for fn in clauses:
                rows.extend(self._clause_rows(fn, lazy))
            first, last = clauses[0], clauses[-1]
            span = Span(first.start_point[0] + 1, first.start_point[1], last.end_point[0] + 1,
                        last.end_point[1])
            site = MatchSite(MatchKind.FUNCTION, self.path, span, self._enclosing(first),
                             self._function_name(first), tuple(rows))
            sites.append((first.start_byte, site))
            if lazy:
                _lazy_sites(sites, first.start_byte, site, lazy, span.start_line)
        return sites

    def _clause_rows(self, fn: Node, lazy: list[Pattern]) -> list[MatchRow]:
        pats = fn.child_by_field_name("patterns")
        if pats is not None:
            pat_nodes = list(pats.named_children)
        else:
            inf = next((c for c in fn.named_children if c.type == "infix"), None)
            pat_nodes = ([inf.child_by_field_name("left_operand"),
                          inf.child_by_field_name("right_operand")] if inf else [])
        patterns = tuple(pattern(p, lazy) for p in pat_nodes)
        if _guarded(fn):
            return _pattern_guard_rows(fn, patterns)
        return [MatchRow(patterns, False, fn.start_point[0] + 1)]

    def _enclosing(self, node: Node) -> str | None:
        i = bisect_right(self.top_starts, node.start_byte) - 1
        return self.top_names[i] if i >= 0 else None

    # -- problems -----------------------------------------------------------------------
    def problems(self) -> list[ParseProblem]:
        if not self.root.has_error:
            return []
        out = []
        caps = QueryCursor(ts.query("(ERROR) @error (MISSING) @missing")).captures(self.root)
        for n in caps.get("error", ()):
            snippet = _one_line(_text(n), 40)
            out.append(ParseProblem(n.start_point[0] + 1, n.start_point[1],
                                    f"syntax error near {snippet!r}"))
        for n in caps.get("missing", ()):
            out.append(ParseProblem(n.start_point[0] + 1, n.start_point[1],
                                    f"missing {n.type}"))
        out.sort(key=lambda p: (p.line, p.col))
        return out


class _Scopes:
    """Binding scopes (tree nodes: nested or disjoint) and, for a position, the innermost ones
    around it: from the last scope starting at or before it, up its enclosing scopes."""

    __slots__ = ("starts", "ends", "parents")

    def __init__(self, scopes: list[tuple[int, int]]) -> None:  # (start, -end), sorted
        self.starts = [s for s, _ in scopes]
        self.ends = [-e for _, e in scopes]
        self.parents = parents = [-1] * len(scopes)
        open_: list[int] = []
        for i, start in enumerate(self.starts):
            while open_ and self.ends[open_[-1]] <= start:
                open_.pop()
            parents[i] = open_[-1] if open_ else -1
            open_.append(i)

    def around(self, pos: int, skip: int) -> tuple[int, int] | None:
        """The innermost scope containing ``pos`` after skipping ``skip`` of them."""
        i = bisect_right(self.starts, pos) - 1
        ends, parents = self.ends, self.parents
        while i >= 0:
            if ends[i] > pos:
                if not skip:
                    return self.starts[i], ends[i]
                skip -= 1
            i = parents[i]
        return None


def _drop_shadowed(data: array, starts: array, binders: dict[int, list[tuple[int, int]]],
                   expression: int) -> tuple[array, array]:
    """Rows of uses that a local binder of the same name shadows (a parameter, a `where`
    or `let` definition, a case alternative's variable) refer to that binder, not to any
    top-level definition: drop them (and their start bytes). A qualified use (`M.x`) never
    names a local binder, so it is always kept."""
    # Scopes are tree nodes (nested or disjoint): per name, their union as sorted disjoint
    # intervals answers "is this use inside one?" with one bisection.
    merged: dict[int, tuple[list[int], list[int]]] = {}
    for name, scopes in binders.items():
        scopes.sort()
        lo: list[int] = []
        hi: list[int] = []
        for s, e in scopes:
            if hi and s < hi[-1]:
                if e > hi[-1]:
                    hi[-1] = e
            else:
                lo.append(s)
                hi.append(e)
        merged[name] = (lo, hi)
    width = RefsTable.WIDTH
    dropped = []
    for i in range(0, len(data), width):
        found = merged.get(data[i])
        if found is None or data[i + 4] != expression or data[i + 1] != -1:
            continue
        at = starts[i // width]
        k = bisect_right(found[0], at) - 1
        if k >= 0 and at < found[1][k]:
            dropped.append(i // width)
    if not dropped:
        return data, starts
    kept, kept_starts = array("i"), array("q")
    prev = 0
    for row in dropped:
        kept.extend(data[prev * width:row * width])
        kept_starts.extend(starts[prev:row])
        prev = row + 1
    kept.extend(data[prev * width:])
    kept_starts.extend(starts[prev:])
    return kept, kept_starts


# -- RULES pragmas --------------------------------------------------------------------------
# GHC type-checks both sides of a rewrite rule like code, but tree-sitter parses a pragma as one
# opaque node. Each rule is parsed again on its own: its text, with everything around it blanked
# on the same lines (so rows and columns map back by a constant), rewritten into a binding
# `_r=(binders , lhs , rhs)` of the same length: `"name" [phase] forall` becomes `_r=(`, the
# binders' `.` and the rule's `=` become commas, and `)` closes it after the right-hand side.
# The binders stay in place (`(x :: T)` is a typed expression: its type is read as in code) and
# shadow top-level names across the whole rule.
_RULES_PRAGMA = re.compile(rb"\{-#\s*RULES\b", re.I)
_SYMBOL = frozenset(b"!#$%&*+./<=>?@\\^|-~:")
_IDENT_START = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_IDENT = _IDENT_START | frozenset(b"0123456789'")
_CHAR_LIT = re.compile(rb"'(?:\\[^']{1,10}|[^'\\\n])'")
_SIGNATURE, _TYPE = int(Role.SIGNATURE), int(Role.TYPE)
_BLANK = re.compile(rb"[^\n]")
_RULE_PAD = 4  # columns added before every line of a rule's text: room for `_r=(`


def _pragma_tokens(src: bytes, i: int, end: int) -> list[tuple[int, int, bytes, int]]:
    """(start, end, kind, depth) of the tokens of ``src[i:end]``: kind is b'"' for a string,
    b'v' for an identifier or number, b'o' for an operator, else the bracket or punctuation
    itself; comments and character literals are skipped (depth: brackets open before it)."""
    out: list[tuple[int, int, bytes, int]] = []
    depth = 0
    while i < end:
        c = src[i]
        if c in b" \t\r\n\f\v":
            i += 1
        elif c == 0x22:  # "
            j = i + 1
            while j < end and src[j] not in b'"\n':
                j += 2 if src[j] == 0x5C else 1
            out.append((i, min(j + 1, end), b'"', depth))
            i = j + 1
        elif src.startswith(b"{-", i):
            nest, j = 1, i + 2
            while j < end and nest:
                if src.startswith(b"{-", j):
                    nest, j = nest + 1, j + 2
                elif src.startswith(b"-}", j):
                    nest, j = nest - 1, j + 2
                else:
                    j += 1
            i = j
        elif c in _IDENT:
            j = i + 1
            while j < end and src[j] in _IDENT:
                j += 1
            out.append((i, j, b"v", depth))
            i = j
        elif c == 0x27 and (m := _CHAR_LIT.match(src, i, end)):  # 'x'
            i = m.end()
        elif c in _SYMBOL:
            j = i + 1
            while j < end and src[j] in _SYMBOL:
                j += 1
            if j - i >= 2 and src[i:j].strip(b"-") == b"":  # a line comment
                nl = src.find(b"\n", j, end)
                i = end if nl < 0 else nl
                continue
            out.append((i, j, b"o", depth))
            i = j
        else:
            if c in b")]}":
                depth -= 1
            out.append((i, i + 1, bytes((c,)), depth))
            if c in b"([{":
                depth += 1
            i += 1
    return out


def _rules(src: bytes, start: int, end: int) -> list[tuple[int, int, int, int, int]]:
    """The rules of the pragma ``src[start:end]``, as byte positions: (rule start, where its
    binders start, its binders' `.` (-1: none), its `=`, its end); a rule that cannot be read
    is left out."""
    m = _RULES_PRAGMA.match(src, start, end)
    if m is None:
        return []
    close = src.rfind(b"#-}", m.end(), end)
    toks = _pragma_tokens(src, m.end(), close if close >= 0 else end)
    # a rule starts at a name string at depth 0: the first, one after `;`, or one that
    # starts a line once the rule before it has its `=` (GHC's layout of rules)
    groups: list[list[tuple[int, int, bytes, int]]] = [[]]
    seen_eq = False
    for t in toks:
        s, e, kind, depth = t
        if depth == 0 and kind == b";":
            groups.append([])
            seen_eq = False
            continue
        if (depth == 0 and kind == b'"' and seen_eq and groups[-1]
                and src.rfind(b"\n", groups[-1][-1][1], s) >= 0
                and not src[src.rfind(b"\n", 0, s) + 1:s].strip()):
            groups.append([])
            seen_eq = False
        if depth == 0 and kind == b"o" and src[s:e] == b"=":
            seen_eq = True
        groups[-1].append(t)
    out = []
    for g in groups:
        if len(g) < 3 or g[0][2] != b'"':
            continue
        k = 1
        if g[k][2] == b"[":  # the phase
            while k < len(g) and not (g[k][2] == b"]" and g[k][3] == 0):
                k += 1
            k += 1
        dot = -1
        while k < len(g) and g[k][2] == b"v" and src[g[k][0]:g[k][1]] == b"forall":
            # binders up to `.` (a second forall: the first bound type variables)
            k += 1
            binders = k
            while k < len(g) and not (g[k][3] == 0 and g[k][2] == b"o"
                                      and src[g[k][0]:g[k][1]] == b"."):
                k += 1
            if k >= len(g):
                break
            dot = g[k][0]
            k += 1
        if k >= len(g):
            continue
        body = g[binders][0] if dot >= 0 else g[k][0]
        eq = next((t[0] for t in g[k:] if t[3] == 0 and t[2] == b"o" and src[t[0]:t[1]] == b"="),
                  -1)
        if eq < 0 or eq == g[k][0] or eq == g[-1][0]:
            continue
        out.append((g[0][0], body, dot, eq, g[-1][1]))
    return out


class Rule(NamedTuple):
    """One rule of a RULES pragma as code: ``snippet`` parses as `_r=(binders , lhs , rhs)`
    (`_r=(lhs , rhs)` without binders), its row k is the file's row ``row0 + k``, its columns
    the file's plus ``_RULE_PAD``."""

    snippet: bytes
    row0: int  # 0-based
    binders: tuple[bytes, ...]  # the term variables its `forall` binds
    has_forall: bool


def rules(src: bytes, start: int, end: int) -> list[Rule]:
    """The rules of the pragma ``src[start:end]`` (none for another pragma)."""
    if not _RULES_PRAGMA.match(src, start, end):
        return []
    out = []
    for rule_start, body, dot, eq, rule_end in _rules(src, start, end):
        line0 = src.rfind(b"\n", 0, rule_start) + 1
        text = bytearray(_BLANK.sub(b" ", src[line0:body]) + src[body:rule_end])
        text[eq - line0] = 0x2C  # `=` -> `,`
        if dot >= 0:
            text[dot - line0] = 0x2C
        # every line moves _RULE_PAD columns right; `_r=(` ends where the rule's body starts
        # (the first text left: all before it is blank)
        lines = [b" " * _RULE_PAD + ln for ln in bytes(text).split(b"\n")]
        first = next(i for i, ln in enumerate(lines) if ln.strip())
        col = len(lines[first]) - len(lines[first].lstrip())
        lines[first] = lines[first][:col - 4] + b"_r=(" + lines[first][col:]
        out.append(Rule(b"\n".join(lines) + b")\n", src.count(b"\n", 0, line0),
                        tuple(_rule_binders(src, body, dot)) if dot >= 0 else (), dot >= 0))
    return out


def rule_sides(tree: Tree, rule: Rule) -> tuple[Node | None, Node, Node] | None:
    """The binders (None without `forall`), left- and right-hand side of a rule's parsed
    ``snippet``; None when it does not read as one."""
    if tree.root_node.has_error:
        return None
    decls = _declarations(tree)
    if decls is None or decls.named_child_count != 1:
        return None
    match = decls.named_children[0].child_by_field_name("match")
    tup = match.child_by_field_name("expression") if match is not None else None
    if tup is None or tup.type != "tuple":
        return None
    elements = tup.children_by_field_name("element")
    if len(elements) != (3 if rule.has_forall else 2):
        return None
    return (elements[0] if rule.has_forall else None), elements[-2], elements[-1]


def _rule_binders(src: bytes, body: int, dot: int) -> list[bytes]:
    """The term variables a rule's `forall` binds: `x`, or `(x :: T)`."""
    toks = _pragma_tokens(src, body, dot)
    return [src[s:e] for k, (s, e, kind, depth) in enumerate(toks)
            if kind == b"v" and src[s] in _IDENT_START and not src[s:e][:1].isupper()
            and (depth == 0 or depth == 1 and k and toks[k - 1][2] == b"(")]


def _rule_head(node: Node | None) -> str | None:
    """The name a rule's left-hand side applies: the function it rewrites."""
    while node is not None:
        t = node.type
        if t == "apply":
            node = node.child_by_field_name("function")
        elif t == "parens":
            node = node.child_by_field_name("expression")
        elif t == "infix":
            node = node.child_by_field_name("operator")
        else:
            return _ident(node)
    return None


def _leaves(node: Node) -> list[Node]:
    out = []
    stack = [node]
    while stack:
        n = stack.pop()
        if n.child_count == 0 or n.type in ("variable", "operator", "name", "constructor"):
            if n.is_named:
                out.append(n)
            continue
        stack.extend(n.named_children)
    return out


def _synonym_head(syn: Node | None) -> Node | None:
    """The name node of a pattern synonym's left-hand side (`P x`, `x :> y`, `R{a, b}`)."""
    while syn is not None and syn.type == "apply":
        syn = syn.child_by_field_name("function")
    if syn is None:
        return None
    if syn.type == "infix":
        return syn.child_by_field_name("operator")
    if syn.type == "record":
        return syn.child_by_field_name("constructor")
    return syn


def _names_in_sig(sig: str | None) -> tuple[str, ...]:
    if not sig:
        return ()
    _, _, ty = sig.partition("::")
    return tuple(dict.fromkeys(re.findall(r"(?<![\w'.])([A-Z][\w']*)", ty)))


def _strip_quantifiers(ty: Node | None) -> Node | None:
    while ty is not None and ty.type in ("context", "forall", "parens", "prefix") \
            and ty.child_by_field_name("type") is not None:
        if ty.type == "parens" and ty.child_by_field_name("type").type not in (
                "context", "forall", "function", "linear_function"):
            break  # `(Maybe a)` is a type, not a wrapper around an arrow
        ty = ty.child_by_field_name("type")
    return ty


def _arrow_result(ty: Node | None) -> Node | None:
    ty = _strip_quantifiers(ty)
    while ty is not None and ty.type in ("function", "linear_function"):
        ty = _strip_quantifiers(ty.child_by_field_name("result"))
    return ty


def _type_arguments(ty: Node | None) -> tuple[str, ...] | None:
    """`Q Int (Maybe a)` -> ("Int", "(Maybe a)"); None when ``ty`` is not an application."""
    if ty is None:
        return None
    args: list[str] = []
    while ty is not None and ty.type == "apply":
        args.append(_one_line(_text(ty.child_by_field_name("argument")), 120))
        ty = ty.child_by_field_name("constructor")
    args.reverse()
    return tuple(args)


def _arrow_arity(ty: Node | None) -> int:
    """Number of arguments in a function type ``a -> b -> c`` (2), ignoring contexts/foralls."""
    n = 0
    while ty is not None:
        if ty.type in ("context", "forall", "parens") and ty.child_by_field_name("type"):
            ty = ty.child_by_field_name("type")
            continue
        if ty.type in ("function", "linear_function"):
            n += 1
            ty = ty.child_by_field_name("result")
            continue
        break
    return n


def _class_heads(classes: Node | None) -> list[Node]:
    if classes is None:
        return []
    if classes.type in ("name", "qualified"):
        return [classes]
    out = []
    for c in classes.named_children:
        if c.type in ("name", "qualified"):
            out.append(c)
        elif c.type == "apply":  # `deriving (ToJSON via X)` / applied classes
            head = c.child_by_field_name("constructor")
            if head is not None:
                out.append(head)
        elif c.type in ("parens", "tuple"):
            out.extend(_class_heads(c))
    return out


def _guarded(node: Node) -> bool:
    """True if every right-hand side of a clause/alternative is behind a non-trivial guard."""
    matches = node.children_by_field_name("match")
    if not matches:
        return False
    for m in matches:
        guards = m.child_by_field_name("guards")
        if guards is None:
            return False
        texts = [_text(g).strip() for g in guards.named_children]
        if all(t in _TRIVIAL_GUARDS for t in texts):
            return False
    return True


def _pattern_guard_rows(fn: Node, patterns: tuple[Pattern, ...]) -> list[MatchRow]:
    """A guarded clause as GHC's checker sees it: a guard that is exactly one pattern guard on
    a parameter (`f m | C x <- m = …`) matches like `f (C x) = …`; any other guard may fail."""
    rows = []
    for m in fn.children_by_field_name("match"):
        line = m.start_point[0] + 1
        guards = m.child_by_field_name("guards")
        parts = guards.named_children if guards is not None else []
        row = MatchRow(patterns, True, line)
        if len(parts) == 1 and parts[0].type == "pattern_guard":
            scrutinee = parts[0].child_by_field_name("expression")
            name = _text(scrutinee) if scrutinee is not None and scrutinee.type == "variable" else ""
            for i, p in enumerate(patterns):
                if p.kind is PatKind.WILD and p.binder == name:
                    refined = pattern(parts[0].child_by_field_name("pattern"))
                    row = MatchRow(patterns[:i] + (refined,) + patterns[i + 1:], False, line)
                    break
        rows.append(row)
    return rows or [MatchRow(patterns, True, fn.start_point[0] + 1)]


_TUPLE_NAMES = {n: "(" + "," * (n - 1) + ")" for n in range(2, 16)}


def _constructs(head: Node | None) -> bool:
    """Is `head { f = e }` a construction (a constructor head) rather than an update?"""
    if head is None:
        return False
    if head.type == "constructor":
        return True
    if head.type == "qualified":
        name = _ident(head)
        return bool(name) and name[0].isupper()
    return False


def _lazy_sites(sites: list[tuple[int, MatchSite]], start: int, site: MatchSite,
                lazy: Sequence[Pattern], line: int) -> None:
    """A lazy pattern `~p` matches anything where it stands, and GHC checks ``p`` on its own
    as a pattern binding (-Wincomplete-uni-patterns), reported at the enclosing match."""
    for p in lazy:
        if p.kind is not PatKind.WILD:
            sites.append((start, MatchSite(MatchKind.PATTERN_BINDING, site.path, site.span,
                                           site.enclosing, site.name,
                                           (MatchRow((p,), False, line),))))


def _site_order(item: tuple[int, MatchSite]) -> tuple[int, int]:
    span = item[1].span
    return span.start_line, span.start_col


def pattern(node: Node | None, lazy: list[Pattern] | None = None) -> Pattern:
    """A tree-sitter pattern subtree reduced to the exhaustiveness model. The inner patterns
    of lazy patterns (`~p`, which match anything) are appended to ``lazy`` when given."""
    if node is None:
        return WILDCARD
    t = node.type
    if t == "wildcard":
        return WILDCARD
    if t == "variable":
        return Pattern(PatKind.WILD, binder=_text(node))
    if t in ("constructor", "constructor_operator"):
        return Pattern(PatKind.CON, _text(node))
    if t == "qualified":
        inner = node.child_by_field_name("id")
        return pattern(inner, lazy)
    if t in ("parens", "strict", "signature", "pattern"):
        inner = node.child_by_field_name("pattern") or (
            node.named_children[0] if node.named_child_count else None)
        if t == "signature":
            inner = node.child_by_field_name("pattern") or node.child_by_field_name("expression")
        return pattern(inner, lazy)
    if t == "irrefutable":  # ~p never fails to match; GHC checks p apart
        inner_lazy = pattern(node.child_by_field_name("pattern"), lazy)
        if lazy is not None:
            lazy.append(inner_lazy)
        return WILDCARD
    if t == "as":
        return pattern(node.child_by_field_name("pattern"), lazy)
    if t == "apply":
        args: list[Pattern] = []
        head = node
        while head is not None and head.type == "apply":
            args.append(pattern(head.child_by_field_name("argument"), lazy))
            head = head.child_by_field_name("function")
        args.reverse()
        inner_head = pattern(head, lazy)
        if inner_head.kind is not PatKind.CON:
            return Pattern(PatKind.OPAQUE, _text(node))
        return Pattern(PatKind.CON, inner_head.name, tuple(args))
    if t == "infix":
        op = node.child_by_field_name("operator")
        name = _ident(op)
        if op is not None and op.type in ("constructor_operator", "qualified", "infix_id") and name:
            return Pattern(PatKind.CON, name,
                           (pattern(node.child_by_field_name("left_operand"), lazy),
                            pattern(node.child_by_field_name("right_operand"), lazy)))
        return Pattern(PatKind.OPAQUE, _text(node))
    if t in ("tuple", "unboxed_tuple"):
        elems = [pattern(c, lazy) for c in node.named_children]
        if len(elems) == 1:
            return elems[0]
        return Pattern(PatKind.CON, _TUPLE_NAMES.get(len(elems), "(,)"), tuple(elems))
    if t == "unit":
        return Pattern(PatKind.CON, "()")
    if t == "list":
        elems = [pattern(c, lazy) for c in node.named_children]
        result = Pattern(PatKind.CON, "[]")
        for e in reversed(elems):
            result = Pattern(PatKind.CON, ":", (e, result))
        return result
    if t in ("literal", "negation", "string", "integer", "char", "float"):
        return Pattern(PatKind.LIT, _text(node))
    if t == "record":
        con = pattern(node.child_by_field_name("constructor"), lazy)
        fields: list[tuple[str, Pattern]] = []
        for fp in node.children_by_field_name("field"):
            fname = _ident(fp.child_by_field_name("field"))
            sub = fp.child_by_field_name("pattern")
            if fname:
                fields.append((fname, pattern(sub, lazy) if sub is not None else WILDCARD))
        return Pattern(PatKind.CON, con.name, (), tuple(fields))
    return Pattern(PatKind.OPAQUE, _one_line(_text(node), 60))


class Edit(NamedTuple):
    """One text edit as tree-sitter is told it (bytes, 0-based rows)."""

    start_byte: int
    old_end_byte: int
    new_end_byte: int
    start_row: int
    old_end_row: int
    new_end_row: int
    old_end_col: int = -1  # columns of the end points: text after the edit on its last line
    new_end_col: int = -2  # moves by their difference (unknown: it moves)

    def keeps_columns_of(self, part: _Part) -> bool:
        """Does a declaration starting at or after the edit's end keep its columns?"""
        return part.first_row > self.old_end_row or (
            part.first_row == self.old_end_row and self.old_end_col == self.new_end_col)


def extract(path: str, source: bytes, tree: Tree, *, language: str = "haskell") -> FileIndex:
    """Build the ``FileIndex`` of one parsed file. Never raises on odd trees: what cannot be
    understood is skipped, and syntax errors are reported in ``problems``."""
    ex = _Extractor(path, source, tree)
    decls = _declarations(tree)
    header = ex.header_part(decls.start_byte if decls is not None else len(source))
    parts = [header] + [ex.decl_part(d) for d in (decls.named_children if decls else ())]
    data, bounds = ex.batch(parts, ex.captures())
    state = _State(parts, bounds, ex.name_ids, ex.raw_names, [], source, len(ex.raw_names))
    return _link(ex, parts, data, bounds, state, ex.problems(), language, None)


def extract_incremental(previous: FileIndex, old_source: bytes, source: bytes, tree: Tree,
                        old_tree: Tree, edit: Edit, *, language: str = "haskell",
                        file_digest: str | None = None) -> FileIndex:
    """The ``FileIndex`` of ``source`` (parsed incrementally into ``tree`` from ``old_tree``,
    edited by ``edit``), re-extracting only the declarations the edit or tree-sitter's changed
    ranges touch; every other declaration's definitions, reference rows and match sites are
    reused, shifted by the lines the edit added or removed. Equal to ``extract`` on the same
    tree (tests check it on random edits of real files); falls back to it when the header
    changes (or is not parsed as a header any more), or when ``previous`` is not the extraction
    of ``old_source``. A declaration with a syntax error is a part like any other.
    ``file_digest``: the digest to record (the raw file's, when the caller has it), else the
    digest of ``source``."""
    state = previous.incremental
    if (not isinstance(state, _State) or state.source is not old_source
            and state.source != old_source) or len(state.raw_names) > 2 * state.full_names + 256:
        # (names of edited-away identifiers accumulate in the interning table: start afresh)
        return extract(previous.path, source, tree, language=language)
    decls = _declarations(tree)
    header = state.parts[0]
    if (decls is None or edit.start_byte < header.end or decls.start_byte != header.end
            or header.broken):
        return extract(previous.path, source, tree, language=language)
    dbyte = edit.new_end_byte - edit.old_end_byte
    drow = edit.new_end_row - edit.old_end_row
    touched = sorted([(r.start_byte, r.end_byte) for r in old_tree.changed_ranges(tree)]
                     + [(edit.start_byte, max(edit.new_end_byte, edit.start_byte + 1))])
    nodes = decls.named_children
    plan = _plan_contiguous(state, nodes, touched, edit, dbyte)
    if plan is None:
        plan = _plan_each(state, nodes, touched, edit, dbyte)
    if plan and nodes and isinstance(plan[-1], int) and max(e for _, e in touched) > \
            nodes[-1].end_byte:
        # the last declaration's rows hold what follows it to the end of the file (a syntax
        # error after the declarations): an edit there extracts it again
        plan[-1] = nodes[-1]
    ex = _Extractor(previous.path, source, tree, header.module, dict(state.name_ids),
                    list(state.raw_names))
    width = RefsTable.WIDTH
    parts: list[_Part] = [header]
    data = array("i")
    bounds = [0]

    def take(rows: array, lo: int, hi: int, shift: int) -> None:
        """Rows lo..hi of ``rows`` (one or many parts'), ``shift`` lines later."""
        piece = rows[lo * width:hi * width]
        if shift:
            _shift_rows(piece, shift)
        data.extend(piece)

    take(state.data, state.bounds[0], state.bounds[1], 0)
    bounds.append(state.bounds[1])
    i = 0
    while i < len(plan):
        item = plan[i]
        if isinstance(item, int):
            # a run of reused parts with consecutive old indices, moved alike: one block
            moved = item > 0 and bool(dbyte or drow)
            first = j = abs(item)
            i += 1
            while i < len(plan) and isinstance(plan[i], int) and abs(plan[i]) == j + 1 and (
                    plan[i] > 0) == (item > 0):  # type: ignore[operator]
                j += 1
                i += 1
            base = len(data) // width - state.bounds[first]
            for k in range(first, j + 1):
                old_part = state.parts[k]
                if moved and drow:
                    old_part = _shifted(old_part, dbyte, drow)
                elif moved:  # the same lines: only byte offsets move
                    old_part = _Part(old_part.start + dbyte, old_part.end + dbyte,
                                     *_part_fields(old_part))
                parts.append(old_part)
                bounds.append(state.bounds[k + 1] + base)
            take(state.data, state.bounds[first], state.bounds[j + 1], drow if moved else 0)
            continue
        j = i
        while j < len(plan) and not isinstance(plan[j], int):
            j += 1
        if j == i + 1:  # one declaration: maybe only an expression inside it changed
            inside = _reextract_inside(ex, state, item, touched, edit, dbyte, drow)  # type: ignore[arg-type]
            if inside is not None:
                part, rows = inside
                parts.append(part)
                data.extend(rows)
                bounds.append(len(data) // width)
                i = j
                continue
        fresh = [ex.decl_part(d) for d in nodes[i:j]]  # type: ignore[arg-type]
        # up to the next declaration: a zero-width node error recovery put at a declaration's
        # end belongs to that declaration, as in a full extraction
        until = nodes[j].start_byte if j < len(nodes) else len(source) + 1
        rows, fresh_bounds = ex.batch(fresh, ex.captures(fresh[0].start, until))
        base = len(data) // width
        parts.extend(fresh)
        bounds.extend(b + base for b in fresh_bounds[1:])
        take(rows, 0, fresh_bounds[-1], 0)
        i = j
    fi = _link(ex, parts, data, bounds,
               _State(parts, bounds, ex.name_ids, ex.raw_names, state.names, source,
                      state.full_names), ex.problems(), language, file_digest)
    return fi


_Plan = list  # per declaration: an old part's index (negative: it stays, positive: it moves
#               with the edit) or the node to extract


def _plan_contiguous(state: _State, nodes: list[Node], touched: list[tuple[int, int]],
                     edit: Edit, dbyte: int) -> _Plan | None:
    """The usual plan in O(log n) checks: every declaration before the touched bytes is the
    old one at the same index, every declaration after them the old one as far from the end;
    None when the old and new declarations do not line up that way (then ``_plan_each``)."""
    old = state.parts
    lo = min(s for s, _ in touched)
    hi = max(e for _, e in touched)
    first = bisect_right(nodes, lo, key=lambda n: n.end_byte)  # nodes[:first] end before
    last = bisect_left(nodes, hi, key=lambda n: n.start_byte)  # nodes[last:] start after
    last = max(last, first)
    after = len(nodes) - last
    old_after = len(old) - after  # index of the old part matching nodes[last]
    if old_after < 1 + first or old_after > len(old):
        return None

    def same(node: Node, part: _Part, shift: int) -> bool:
        return (node.start_byte == part.start + shift and node.end_byte == part.end + shift
                and node.type == part.node_type)

    if first and (not same(nodes[first - 1], old[first], 0)
                  or old[first].end > edit.start_byte or not same(nodes[0], old[1], 0)):
        return None
    if after:
        moved = old[old_after]
        if (not same(nodes[last], moved, dbyte) or not same(nodes[-1], old[-1], dbyte)
                or moved.start < edit.old_end_byte or not edit.keeps_columns_of(moved)):
            return None
    plan: _Plan = ([-(k + 1) for k in range(first)] + list(nodes[first:last])
                   + list(range(old_after, old_after + after)))
    for k in state.broken:  # a declaration with a syntax error is always extracted again
        at = k - 1 if k <= first else k - old_after + last
        if 0 <= at < len(plan) and isinstance(plan[at], int):
            plan[at] = nodes[at]
    return plan


def _plan_each(state: _State, nodes: list[Node], touched: list[tuple[int, int]],
               edit: Edit, dbyte: int) -> _Plan:
    """The plan by matching every declaration with the old ones by position and kind."""
    reusable: dict[tuple[int, int, str], int] = {}
    for i, part in enumerate(state.parts[1:], start=1):
        if part.broken:
            continue
        if part.end <= edit.start_byte:
            reusable[(part.start, part.end, part.node_type)] = -i
        elif part.start >= edit.old_end_byte and edit.keeps_columns_of(part):
            reusable[(part.start + dbyte, part.end + dbyte, part.node_type)] = i
    plan: _Plan = []
    for d in nodes:
        start, end = d.start_byte, d.end_byte
        hit = any(s < end and start < e for s, e in touched)
        found = None if hit else reusable.get((start, end, d.type))
        plan.append(found if found is not None else d)
    return plan


# What the chunk an edit re-extracts inside a declaration never descends into: binding scopes
# (a binder inside could reach uses outside the chunk) and match sites (their rows and spans
# would change around the chunk); a record update is a match site, a record construction not.
_OPAQUE = frozenset({"function", "bind", "lambda", "alternative", "alternatives", "let_in", "do",
                     "list_comprehension", "case", "lambda_case", "local_binds", "ERROR"})
# Names a reference is read from whole (`M.x`, `` `M.op` ``): a run never goes inside one
# (typing in its qualifier would re-extract only the module part, and keep the old row).
_NAMES = frozenset({"qualified", "infix_id"})
# Declarations smaller than this are extracted again whole (the bookkeeping would cost more).
SUB_DECLARATION_BYTES = 4096


def _chunk(d: Node, lo: int, hi: int) -> tuple[Node, Node] | None:
    """The first and last of a run of siblings inside ``d``'s right-hand side covering the
    bytes ``lo``..``hi``, as deep as the run can go without entering an ``_OPAQUE`` node."""
    kids = d.children_by_field_name("match")
    found = None
    while kids:
        i = bisect_right(kids, lo, key=lambda n: n.start_byte) - 1
        j = bisect_left(kids, hi, key=lambda n: n.end_byte)
        if i < 0 or j >= len(kids):
            break
        first, last = kids[i], kids[j]
        found = first, last
        if i != j or first.type in _OPAQUE or first.type in _NAMES:
            break
        if first.type == "record" and not _constructs(first.child_by_field_name("expression")):
            break
        kids = first.named_children
    return found


def _reextract_inside(ex: _Extractor, state: _State, d: Node, touched: list[tuple[int, int]],
                      edit: Edit, dbyte: int, drow: int) -> tuple[_Part, array] | None:
    """A big function or binding ``d`` whose old extraction is reused around the one
    sub-expression the edit and the changed ranges touch (a run of siblings in its right-hand
    side, see ``_chunk``): that run's references and match sites are extracted again, the old
    rows and sites before it are kept, those after it moved. None when that would not equal
    extracting ``d`` again: the declaration is small, broken or a pattern binding, or a local
    binder in the run reaches outside it (or did), or the old declaration does not line up."""
    start, end = d.start_byte, d.end_byte
    lo = min(s for s, _ in touched)
    hi = max(e for _, e in touched)
    if (end - start < SUB_DECLARATION_BYTES or lo < start or hi > end or d.has_error
            or d.type not in ("function", "bind") or d.child_by_field_name("pattern") is not None
            or edit.old_end_col < 0):
        return None
    k = bisect_left(state.parts, start, lo=1, key=lambda p: p.start)
    if k >= len(state.parts):
        return None
    old = state.parts[k]
    if (old.start != start or old.end + dbyte != end or old.node_type != d.type or old.broken
            or old.fn is None):
        return None
    run = _chunk(d, lo, hi)
    if run is None:
        return None
    cs, ce = run[0].start_byte, run[1].end_byte
    if ce - cs > (end - start) // 2 or cs > edit.start_byte or ce < edit.new_end_byte:
        return None
    old_ce = ce - dbyte
    if any(cs <= start + at < old_ce for _, at in old.binds):
        return None  # a parameter or `where` name was inside the old run
    first_point = (run[0].start_point[0], run[0].start_point[1])
    end_row, end_col = run[1].end_point
    if end_row == edit.new_end_row:  # text after the edit on its line moved sideways
        old_end_point = (end_row - drow, end_col - edit.new_end_col + edit.old_end_col)
    else:
        old_end_point = (end_row - drow, end_col)
    dcol = edit.new_end_col - edit.old_end_col if edit.old_end_row == old_end_point[0] else 0

    cursor = QueryCursor(ts.query(REFERENCE_QUERY + MATCH_QUERY))
    cursor.set_byte_range(cs, ce)
    caps = cursor.captures(ex.root)  # also the nodes around the run: its regions and scopes
    part = ex.decl_part(d)
    if part.fn is None or part.fn[0] != old.fn[0]:
        return None
    binders = {name: [(start, end)] for name, _ in old.binds}
    log: list[tuple[int, int, tuple[int, int]]] = []
    rows, _ = ex.references(caps, [start], [part.top_name], binders=binders, log=log,
                            within=(cs, ce))
    if any(scope[0] < cs or scope[1] > ce for _, _, scope in log):
        return None  # a binder in the run reaches outside it
    inner = {key: [n for n in nodes if cs <= n.start_byte < ce] for key, nodes in caps.items()}
    sites = [site for _, site in ex.match_sites(inner, [], [start], [part.top_name])]
    if d.type == "function" and d.child_by_field_name("match") is not None:
        lazy: list[Pattern] = []
        part.clause = (tuple(ex._clause_rows(d, lazy)), tuple(lazy))

    width = RefsTable.WIDTH
    lo_row, hi_row = state.bounds[k], state.bounds[k + 1]
    old_rows = state.data

    def key(r: int) -> tuple[int, int]:
        at = (lo_row + r) * width
        return old_rows[at + 2] - 1, old_rows[at + 3]

    n = hi_row - lo_row
    a = bisect_left(range(n), first_point, key=key)
    b = bisect_left(range(n), old_end_point, key=key)
    out = old_rows[lo_row * width:(lo_row + a) * width]
    if drow:  # applications around the run end lower: their heads' last lines move
        for at in range(0, len(out), width):
            if out[at + 6] > first_point[0]:
                out[at + 6] = _application_end(ex.root, out[at + 2] - 1, out[at + 3],
                                               out[at + 1] != -1) + 1
    out.extend(rows)
    after = old_rows[(lo_row + b) * width:hi_row * width]
    if drow:
        _shift_rows(after, drow)
    if dcol:
        for at in range(0, len(after), width):
            if after[at + 2] - 1 - drow != old_end_point[0]:
                break
            after[at + 3] += dcol
    out.extend(after)

    kept: list[MatchSite] = []
    for m in old.sites:  # none contains the run: each is before, inside or after it
        at = (m.span.start_line - 1, m.span.start_col)
        if at < first_point:
            kept.append(m)
        elif at >= old_end_point:
            kept.append(_moved_site(m, drow, old_end_point[0], dcol) if drow or dcol else m)
    split = bisect_left(kept, first_point,
                        key=lambda m: (m.span.start_line - 1, m.span.start_col))
    part.sites = kept[:split] + sites + kept[split:]
    part.binds = tuple((name, at + dbyte if start + at >= old_ce else at)
                       for name, at in old.binds)
    return part, out


def _shift_rows(rows: array, drow: int) -> None:
    """Reference rows moved ``drow`` lines: their line, and the last line of the application
    each heads (0: none). Strided slices, so the loop over rows runs in C."""
    width = RefsTable.WIDTH
    rows[2::width] = array("i", map(drow.__add__, rows[2::width]))
    rows[6::width] = array("i", [x + drow if x else 0 for x in rows[6::width]])


def _application_end(root: Node, row: int, col: int, qualified: bool) -> int:
    """The last row of the applications the identifier at (row, col) heads (as
    ``references`` computes it: -1 for none)."""
    node = root.named_descendant_for_point_range((row, col), (row, col + 1))
    if node is None:
        return -1

    def applications(n: Node) -> int:
        at, last = n.start_byte, -1
        while n is not None and n.start_byte == at:
            if n.type == "apply" and n.end_point[0] > last:
                last = n.end_point[0]
            n = n.parent
        return last

    own = applications(node)
    if qualified:
        q = node
        while q is not None and q.type != "qualified":
            q = q.parent
        if q is not None:
            outer = applications(q)
            if outer >= 0:
                return outer
    return own


def _declarations(tree: Tree) -> Node | None:
    return next((c for c in tree.root_node.named_children if c.type == "declarations"), None)


def _shifted(part: _Part, dbyte: int, drow: int) -> _Part:
    """A reused part that moved: every position ``drow`` lines (and ``dbyte`` bytes) later.
    (Run for every declaration after a line added or removed: no closures, nothing built for
    what a part does not have.)"""
    fn = part.fn
    if fn is not None:
        s, n = fn[3], fn[4]
        fn = (fn[0], fn[1], fn[2], Span(s[0] + drow, s[1], s[2] + drow, s[3]),
              Span(n[0] + drow, n[1], n[2] + drow, n[3]))
    syn = part.syn
    if syn is not None:
        s, n = syn[1], syn[2]
        syn = (syn[0], Span(s[0] + drow, s[1], s[2] + drow, s[3]),
               Span(n[0] + drow, n[1], n[2] + drow, n[3]), syn[3])
    clause = part.clause
    if clause is not None:
        clause = (tuple([MatchRow(r[0], r[1], r[2] + drow) for r in clause[0]]), clause[1])
    return _Part(part.start + dbyte, part.end + dbyte, part.first_row + drow,
                 part.last_row + drow, part.node_type, part.top_name, part.broken,
                 [d.moved(drow) for d in part.defs] if part.defs else [], fn, part.sigs,
                 part.psigs, syn,
                 [_moved_site(m, drow) for m in part.sites] if part.sites else [], clause,
                 part.binds)


def _moved_site(m: MatchSite, drow: int, row: int = -1, dcol: int = 0) -> MatchSite:
    """A match site ``drow`` lines later; its span's ends on the 0-based old ``row`` also
    ``dcol`` columns further (text after an edit on the edit's last line)."""
    s = m.span
    span = Span(s[0] + drow, s[1] + dcol if s[0] - 1 == row else s[1],
                s[2] + drow, s[3] + dcol if s[2] - 1 == row else s[3])
    rows = tuple([MatchRow(r[0], r[1], r[2] + drow if r[2] else 0) for r in m.rows]) \
        if drow else m.rows
    return MatchSite(m.kind, m.path, span, m.enclosing, m.name, rows, m.scrutinee, m.fields)


def _link(ex: _Extractor, parts: list[_Part], data: array, bounds: list[int], state: _State,
          problems: list[ParseProblem], language: str, file_digest: str | None) -> FileIndex:
    """Join a file's parts: consecutive clauses of one function become one definition and one
    match site, signatures attach to the functions and pattern synonyms they name (a later
    signature too, as GHC allows)."""
    header = parts[0]
    module, path = header.module, ex.path
    defs: list[Definition] = []
    ordered: list[MatchSite | list[MatchSite]] = []  # a clause group's slot is a list
    sigs: dict[str, tuple[str, tuple[str, ...]]] = {}
    psigs: dict[str, str] = {}
    functions: list[Definition] = []
    synonyms: list[Definition] = []
    group: Definition | None = None  # the function whose clauses may continue
    run: list[_Part] = []  # the clause parts of that function's match site
    slot: list[MatchSite] = []

    def close_run() -> None:
        if not run:
            return
        first, last = run[0], run[-1]
        rows = tuple(r for p in run for r in p.clause[0])  # type: ignore[index]
        span = Span(first.fn[3].start_line, first.fn[3].start_col,  # type: ignore[index]
                    last.fn[3].end_line, last.fn[3].end_col)  # type: ignore[index]
        site = MatchSite(MatchKind.FUNCTION, path, span, first.top_name,
                         first.fn[0], rows)  # type: ignore[index]
        slot.append(site)
        lazy = [p for part in run for p in part.clause[1]]  # type: ignore[index]
        for p in lazy:
            if p.kind is not PatKind.WILD:
                slot.append(MatchSite(MatchKind.PATTERN_BINDING, path, span, site.enclosing,
                                      site.name, (MatchRow((p,), False, span.start_line),)))
        run.clear()

    for part in parts:
        if part.node_type in _COMMENTS:
            continue
        fn = part.fn
        if fn is not None and fn[1] == "function" and group is not None and group.name == fn[0]:
            group.clauses += 1
            group.span = Span(group.span.start_line, group.span.start_col, fn[3].end_line,
                              fn[3].end_col)
        elif fn is not None:
            name, kind, arity, span, name_span = fn
            sig = sigs.get(name)
            d = Definition(name, DefKind.FUNCTION, module, path, span, name_span,
                           signature=sig[0] if sig else None, arity=arity, clauses=1,
                           mentions=sig[1] if sig else ())
            defs.append(d)
            functions.append(d)
            group = d if kind == "function" else None
        else:
            group = None
        # A clause whose function name could not be read (broken code) starts no group.
        clause = part.clause is not None and fn is not None
        if clause and run and run[-1].fn[0] == fn[0]:  # type: ignore[index]
            run.append(part)
        else:
            if run:
                close_run()
            if clause:
                slot = []
                ordered.append(slot)
                run.append(part)
        for name, text, mentions in part.sigs:
            sigs[name] = (text, mentions)
        for name, text in part.psigs:
            psigs[name] = text
        if part.syn is not None:
            name, span, name_span, text = part.syn
            d = Definition(name, DefKind.PATTERN_SYNONYM, module, path, span, name_span,
                           signature=psigs.get(name) or text)
            defs.append(d)
            synonyms.append(d)
        defs.extend(part.defs)
        ordered.extend(part.sites)
    close_run()
    for d in functions:  # signatures may follow their function in odd code
        if d.signature is None and d.name in sigs:
            d.signature, d.mentions = sigs[d.name]
    for d in synonyms:
        if d.name in psigs:
            d.signature = psigs[d.name]
    sites: list[MatchSite] = []
    for item in ordered:
        if isinstance(item, list):
            sites.extend(item)
        else:
            sites.append(item)
    state.broken = tuple(i for i, p in enumerate(parts) if p.broken and i)
    if len(state.names) < len(ex.raw_names):
        state.names = state.names + [b.decode("utf-8", "replace")
                                     for b in ex.raw_names[len(state.names):]]
    source = ex.source
    fi = FileIndex(path=path, module=module, digest=file_digest or digest(source),
                   lines=source.count(b"\n") + (0 if source.endswith(b"\n") or not source else 1),
                   definitions=defs, references=RefsTable(state.names, data),
                   match_sites=sites, imports=header.imports, exports=header.exports,
                   problems=problems, language=language)
    state.data = data
    fi.incremental = state
    return fi

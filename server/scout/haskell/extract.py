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
from bisect import bisect_right
from collections.abc import Iterable

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

EXTRACTOR_VERSION = "4"

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
(record constructor: (_) @rec.pattern)
(projection field: (field_name) @rec.project)
(field_name (variable) @skip.field)
(function name: (_) @skip.def.fn)
(bind name: (_) @skip.def)
(signature name: (_) @skip.sig)
(signature names: (binding_list (_) @skip.sig))
(field_pattern !pattern field: (field_name (variable) @bind.pun))
(function) @scope
(bind match: (_)) @scope
(lambda) @scope
(alternative) @scope
(let_in) @scope
(do) @scope
(list_comprehension) @scope
(apply) @app
"""

_NAME_ROLES = {_R_CONTEXT: Role.CONTEXT, _R_DERIVING: Role.DERIVING, _R_IHEAD: Role.INSTANCE_HEAD,
               _R_SIG: Role.SIGNATURE}
_CON_ROLES = {_R_PATTERN: Role.PATTERN, _R_BINDPAT: Role.PATTERN, _R_TYPE: Role.TYPE, _R_SIG: Role.TYPE,
              _R_CONTEXT: Role.TYPE, _R_IHEAD: Role.TYPE, _R_DERIVING: Role.TYPE}
_VAR_SKIP_REGIONS = frozenset({_R_PATTERN, _R_BINDPAT, _R_TYPE, _R_SIG, _R_CONTEXT, _R_IHEAD, _R_DERIVING})


def _first(item: tuple[int, int, Node]) -> int:
    return item[0]


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


def _one_line(text: str, limit: int = 300) -> str:
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


class _Extractor:
    def __init__(self, path: str, source: bytes, tree: Tree) -> None:
        self.path = path
        self.source = source
        self.tree = tree
        self.root = tree.root_node
        self.module = ""
        self.defs: list[Definition] = []
        self.def_name_bytes: set[int] = set()  # start bytes of defining occurrences
        self.top_starts: list[int] = []
        self.top_names: list[str | None] = []
        self._caps: dict[str, list[Node]] | None = None

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

    def header(self) -> tuple[list[Export] | None, list[Import]]:
        exports: list[Export] | None = None
        imports: list[Import] = []
        for child in self.root.named_children:
            if child.type == "header":
                mod = child.child_by_field_name("module")
                self.module = _text(mod)
                if mod is not None:
                    self.add(self.module, DefKind.MODULE, child, mod)
                ex = child.child_by_field_name("exports")
                if ex is not None:
                    exports = self._exports(ex)
            elif child.type == "imports":
                for imp in child.named_children:
                    if imp.type == "import":
                        imports.append(self._import(imp))
        if not self.module:
            self.module = "Main"
        return exports, imports

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

    def declarations(self) -> None:
        decls = next((c for c in self.root.named_children if c.type == "declarations"), None)
        if decls is None:
            return
        pending_sigs: dict[str, str] = {}
        pending_params: dict[str, tuple[str, ...]] = {}
        pattern_sigs: dict[str, str] = {}
        prev_fn: Definition | None = None
        for d in decls.named_children:
            self.top_starts.append(d.start_byte)
            t = d.type
            name: str | None = None
            if t in ("function", "bind"):
                name = self._function_name(d)
                if prev_fn is not None and prev_fn.name == name and t == "function":
                    prev_fn.clauses += 1
                    prev_fn.span = Span(prev_fn.span.start_line, prev_fn.span.start_col,
                                        d.end_point[0] + 1, d.end_point[1])
                    self.exclude(self._function_name_node(d))
                    self.top_names.append(name)
                    continue
                prev_fn = self._function(d, name, pending_sigs, pending_params)
                self.top_names.append(name)
                continue
            prev_fn = None
            if t == "signature":
                sig_text = _one_line(_text(d))
                params = _arrow_params(d.child_by_field_name("type"))
                for nn in self._signature_names(d):
                    pending_sigs[_text(nn)] = sig_text
                    pending_params[_text(nn)] = params
                    self.exclude(nn)
                name = _ident(self._signature_names(d)[0]) if self._signature_names(d) else None
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
                name = self._pattern_synonym(d, pattern_sigs)
            elif t == "foreign_import":
                sig = d.child_by_field_name("signature")
                if sig is not None and self._signature_names(sig):
                    nn = self._signature_names(sig)[0]
                    name = _text(nn)
                    self.add(name, DefKind.FUNCTION, d, nn, signature=_one_line(_text(sig)),
                             mentions=_names_in(sig.child_by_field_name("type")))
            self.top_names.append(name)
        # signatures may follow their function in odd code; attach late ones too
        for definition in self.defs:
            if definition.kind is DefKind.FUNCTION and definition.signature is None:
                sig = pending_sigs.get(definition.name)
                if sig:
                    definition.signature = sig
                    definition.mentions = _names_in_sig(sig)
                    definition.parameters = pending_params.get(definition.name, ())
            elif (definition.kind is DefKind.PATTERN_SYNONYM
                  and definition.name in pattern_sigs
                  and definition.signature != pattern_sigs[definition.name]):
                definition.signature = pattern_sigs[definition.name]

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

    def _function(self, d: Node, name: str | None, sigs: dict[str, str],
                  params: dict[str, tuple[str, ...]]) -> Definition | None:
        arity = 0
        if d.type == "function":
            pats = d.child_by_field_name("patterns")
            arity = pats.named_child_count if pats is not None else 2  # infix: two operands
        sig = sigs.get(name or "")
        nn = self._function_name_node(d)
        return self.add(name, DefKind.FUNCTION, d, nn if nn is not d else None, signature=sig,
                        arity=arity, clauses=1, mentions=_names_in_sig(sig),
                        parameters=params.get(name or "", ()) if sig else ())

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
                     mentions=_names_in(ty), arity=_arrow_arity(ty) if ty is not None else None,
                     parameters=_arrow_params(ty))
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
        head = self._head_text(d, body)
        self.add(cls, DefKind.INSTANCE, d, None, parent=cls, instance_types=types,
                 signature=_one_line(head), implemented=tuple(implemented),
                 mentions=_names_in(d.child_by_field_name("context")))
        return f"instance {cls} {' '.join(types)}".strip() if cls else None

    def _pattern_synonym(self, d: Node, sigs: dict[str, str]) -> str | None:
        """`pattern P :: T` records the signature of P (no definition of its own: the
        equation is the one definition); `pattern P x = …` / `pattern P <- … where P = …`
        defines P."""
        eq = d.named_children[0] if d.named_child_count else None
        if eq is None:
            return None
        syn = eq.child_by_field_name("synonym")
        if syn is None:
            return None
        if eq.type == "signature":
            heads = list(syn.named_children) if syn.type == "binding_list" else [syn]
            text = _one_line(_text(d))
            for h in heads:
                if _ident(h):
                    sigs[_ident(h)] = text
                    self.exclude(h)
            return _ident(heads[0]) if heads else None
        head = _synonym_head(syn)
        name = _ident(head)
        cons = eq.child_by_field_name("constructors")  # `where P … = …`: P's builder clauses
        if cons is not None:
            for clause in cons.named_children:
                builder = _synonym_head(clause.child_by_field_name("pattern"))
                if builder is not None and _ident(builder) == name:
                    self.exclude(builder)
        self.add(name, DefKind.PATTERN_SYNONYM, d, head,
                 signature=sigs.get(name or "") or _one_line(_text(d)))
        return name

    # -- references ---------------------------------------------------------------------
    def captures(self) -> dict[str, list[Node]]:
        # one traversal of the tree serves references and match sites
        if self._caps is None:
            self._caps = QueryCursor(ts.query(REFERENCE_QUERY + MATCH_QUERY)).captures(self.root)
        return self._caps

    def references(self) -> RefsTable:
        caps = self.captures()
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
        idents.sort(key=_first)
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
        head_start = qual_start

        # Names are interned as bytes and decoded once each at the end.
        name_ids: dict[bytes, int] = {}
        raw_names: list[bytes] = []

        def intern(b: bytes) -> int:
            i = name_ids.get(b)
            if i is None:
                i = name_ids[b] = len(raw_names)
                raw_names.append(b)
            return i

        data = array("i")
        starts = array("q")  # start byte of each row, for the shadowing pass
        binders: dict[int, list[tuple[int, int]]] = {}  # name id -> scopes (start, end byte)
        top_starts = self.top_starts
        top_ids = [intern(n.encode()) if n else -1 for n in self.top_names]
        qual_ids = {start: intern(q.encode()) for start, q in qualifier_at.items()}
        defining = self.def_name_bytes
        src = self.source
        # Region nodes nest (they are tree nodes), so the stack stays ordered by end byte
        # and its top, after popping ended regions, is the innermost region. Scopes likewise.
        stack: list[tuple[int, int]] = [(1 << 62, -1)]  # (end byte, code)
        scope_stack: list[tuple[int, int]] = [(1 << 62, -1)]  # (end byte, start byte)
        ri = si = 0
        nregions, nscopes = len(regions), len(scopes)
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
            while si < nscopes and scopes[si][0] <= start:
                scope_start, neg_end = scopes[si]
                while scope_stack[-1][0] <= scope_start:
                    scope_stack.pop()
                scope_stack.append((-neg_end, scope_start))
                si += 1
            while scope_stack[-1][0] <= start:
                scope_stack.pop()
            region = stack[-1][1]
            if start in defining:
                continue
            role = special.get(start, no_role)
            if role != no_role:
                if start in puns and len(scope_stack) > 1:  # `C {size}` binds size
                    binders.setdefault(intern(src[start:node.end_byte]), []).append(
                        (scope_stack[-1][1], scope_stack[-1][0]))
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
                    depth = len(scope_stack) - 1 - (own or 0)
                    if depth > 0:
                        end_b, start_b = scope_stack[depth]
                        binders.setdefault(intern(src[start:node.end_byte]), []).append(
                            (start_b, end_b))
                    continue
                if region in skip_var_regions or start in field_name_vars:
                    continue  # binders, type variables, field names outside record syntax
                role = expression
            end = node.end_byte
            enc = bisect_right(top_starts, start) - 1
            row, col = node.start_point
            data.extend((intern(src[start:end]), qual_ids.get(start, -1), row + 1, col, role,
                         top_ids[enc] if enc >= 0 else -1,
                         app_end.get(head_start.get(start, start), -1) + 1))
            starts.append(start)
        if binders:
            data = _drop_shadowed(data, starts, binders, expression)
        names = [b.decode("utf-8", "replace") for b in raw_names]
        return RefsTable(names, data)

    # -- match sites --------------------------------------------------------------------
    def match_sites(self) -> list[MatchSite]:
        caps = self.captures()
        sites: list[MatchSite] = []
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
            sites.append(site)
            _lazy_sites(sites, site, lazy, line)
        for n in caps.get("pattern_bind", ()):
            parent = n.parent
            if parent is None or parent.type not in ("local_binds", "declarations"):
                continue  # do-binds desugar to `fail`, not an incomplete-pattern warning
            pat = n.child_by_field_name("pattern")
            lazy = []
            p = pattern(pat, lazy)
            line = n.start_point[0] + 1
            site = MatchSite(MatchKind.PATTERN_BINDING, self.path, _span(n),
                             self._enclosing(n), None, (MatchRow((p,), False, line),))
            if p.kind is not PatKind.WILD:
                sites.append(site)
            _lazy_sites(sites, site, lazy, line)
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
                sites.append(MatchSite(MatchKind.RECORD_UPDATE, self.path, _span(n),
                                       self._enclosing(n), None, (),
                                       _one_line(_text(head), 80), tuple(fields)))
        sites.extend(self._function_groups(caps.get("function", ())))
        sites.sort(key=lambda s: (s.span.start_line, s.span.start_col))
        return sites

    def _alt_site(self, sites: list[MatchSite], kind: MatchKind, node: Node, alts: Node | None,
                  scrutinee: str | None) -> None:
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
        sites.append(site)
        for lazy, line in lazy_rows:
            _lazy_sites(sites, site, lazy, line)

    def _function_groups(self, functions: Iterable[Node]) -> list[MatchSite]:
        # Each clause is its own `function` node: group consecutive same-name siblings.
        groups: list[list[Node]] = []
        group_of_last: dict[int, list[Node]] = {}  # node id of a group's last clause -> group
        for fn in sorted(functions, key=lambda x: x.start_byte):
            name = self._function_name(fn)
            prev = fn.prev_named_sibling
            while prev is not None and prev.type in ("comment", "haddock", "pragma", "cpp"):
                prev = prev.prev_named_sibling
            group = group_of_last.pop(prev.id, None) if prev is not None else None
            if group is None or self._function_name(group[0]) != name:
                group = []
                groups.append(group)
            group.append(fn)
            group_of_last[fn.id] = group
        sites: list[MatchSite] = []
        for clauses in groups:
            rows = []
            lazy: list[Pattern] = []
            for fn in clauses:
                pats = fn.child_by_field_name("patterns")
                if pats is not None:
                    pat_nodes = list(pats.named_children)
                else:
                    inf = next((c for c in fn.named_children if c.type == "infix"), None)
                    pat_nodes = ([inf.child_by_field_name("left_operand"),
                                  inf.child_by_field_name("right_operand")] if inf else [])
                patterns = tuple(pattern(p, lazy) for p in pat_nodes)
                guarded = _guarded(fn)
                rows.extend(_pattern_guard_rows(fn, patterns) if guarded else
                            [MatchRow(patterns, False, fn.start_point[0] + 1)])
            first, last = clauses[0], clauses[-1]
            span = Span(first.start_point[0] + 1, first.start_point[1], last.end_point[0] + 1,
                        last.end_point[1])
            site = MatchSite(MatchKind.FUNCTION, self.path, span, self._enclosing(first),
                             self._function_name(first), tuple(rows))
            sites.append(site)
            if lazy:
                _lazy_sites(sites, site, lazy, span.start_line)
        return sites

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


def _drop_shadowed(data: array, starts: array, binders: dict[int, list[tuple[int, int]]],
                   expression: int) -> array:
    """Rows of uses that a local binder of the same name shadows (a parameter, a `where`
    or `let` definition, a case alternative's variable) refer to that binder, not to any
    top-level definition: drop them."""
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
    kept = array("i")
    keep_from = 0
    for i in range(0, len(data), width):
        found = merged.get(data[i])
        if found is None or data[i + 4] != expression:
            continue
        at = starts[i // width]
        k = bisect_right(found[0], at) - 1
        if k >= 0 and at < found[1][k]:
            kept.extend(data[keep_from:i])
            keep_from = i + width
    if keep_from == 0:
        return data
    kept.extend(data[keep_from:])
    return kept


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


def _arrow_params(ty: Node | None) -> tuple[str, ...]:
    """Parameter types of a function type, as written on one line (contexts dropped)."""
    out: list[str] = []
    ty = _strip_quantifiers(ty)
    while ty is not None and ty.type in ("function", "linear_function"):
        out.append(_one_line(_text(ty.child_by_field_name("parameter")), 120))
        ty = _strip_quantifiers(ty.child_by_field_name("result"))
    return tuple(out)


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


def _lazy_sites(sites: list[MatchSite], site: MatchSite, lazy: list[Pattern],
                line: int) -> None:
    """A lazy pattern `~p` matches anything where it stands, and GHC checks ``p`` on its own
    as a pattern binding (-Wincomplete-uni-patterns), reported at the enclosing match."""
    for p in lazy:
        if p.kind is not PatKind.WILD:
            sites.append(MatchSite(MatchKind.PATTERN_BINDING, site.path, site.span,
                                   site.enclosing, site.name, (MatchRow((p,), False, line),)))


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


def extract(path: str, source: bytes, tree: Tree, *, language: str = "haskell") -> FileIndex:
    """Build the ``FileIndex`` of one parsed file. Never raises on odd trees: what cannot be
    understood is skipped, and syntax errors are reported in ``problems``."""
    ex = _Extractor(path, source, tree)
    exports, imports = ex.header()
    ex.declarations()
    refs = ex.references()
    return FileIndex(path=path, module=ex.module, digest=digest(source),
                     lines=source.count(b"\n") + (0 if source.endswith(b"\n") or not source else 1),
                     definitions=ex.defs, references=refs, match_sites=ex.match_sites(),
                     imports=imports, exports=exports, problems=ex.problems(),
                     language=language)

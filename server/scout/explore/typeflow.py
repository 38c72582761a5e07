"""Where a changed type synonym's old expansion is relied on: a small checker of written types.

GHC reports a synonym change (`type WorkspaceId = String` made a type of its own) where a value
typed with the synonym meets a place typed with what it stood for, or the reverse: a field
declared `[String]` given a `[WorkspaceId]`, a `StackSet` built by a polymorphic function from
`String`s stored where a `WindowSet` (a synonym built from `WorkspaceId`) is expected. Telling
those places from the ones where values typed with the synonym are only passed on takes types.

This module infers the types of a declaration's expressions from what is written: the
workspace's signatures, fields and constructors, a small table of Prelude functions, literals,
and the local bindings (`let`/`where`, lambdas, generators, do binds), with unification over
type variables. Every unknown name has a fresh type, so what cannot be read never conflicts. A
declaration is checked twice, once with the synonym expanded (as before the change) and once
with it opaque (after); an application that fails only in the second is a site. Failures in both
are this checker's own limits (type classes, rank-n types, missing library signatures) and are
never reported, which is what keeps its precision.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from typing import NamedTuple

from scout.explore.refine import parse_type
from scout.haskell import parser
from scout.haskell.extract import Rule, rule_sides, rules
from scout.haskell.model import Definition, DefKind

_FORALL = re.compile(r"\s*forall\s+([a-z_][\w'\s]*)\.")

Type = tuple  # (head, args): see refine.parse_type(named=True); "'v" heads are variables

UNKNOWN: Type = ("", ())

# Prelude functions whose types the checker uses (monomorphic in the container: a Foldable
# function used on a map fails in both readings and is never reported)
_PRELUDE = {
    "$": "(a -> b) -> a -> b", "$!": "(a -> b) -> a -> b", "&": "a -> (a -> b) -> b",
    ".": "(b -> c) -> (a -> b) -> a -> c", "++": "[a] -> [a] -> [a]", ":": "a -> [a] -> [a]",
    "map": "(a -> b) -> [a] -> [b]", "const": "a -> b -> a", "id": "a -> a",
    "flip": "(a -> b -> c) -> b -> a -> c", "maybe": "b -> (a -> b) -> Maybe a -> b",
    "fromMaybe": "a -> Maybe a -> a", "zip": "[a] -> [b] -> [(a, b)]",
    "take": "Int -> [a] -> [a]", "drop": "Int -> [a] -> [a]", "repeat": "a -> [a]",
    "replicate": "Int -> a -> [a]", "reverse": "[a] -> [a]", "filter": "(a -> Bool) -> [a] -> [a]",
    "show": "a -> [Char]", "fst": "(a, b) -> a", "snd": "(a, b) -> b", "head": "[a] -> a",
    "last": "[a] -> a", "Just": "a -> Maybe a", "Nothing": "Maybe a", "True": "Bool",
    "False": "Bool", "not": "Bool -> Bool", "&&": "Bool -> Bool -> Bool",
    "||": "Bool -> Bool -> Bool", "==": "a -> a -> Bool", "/=": "a -> a -> Bool",
    "zipWith": "(a -> b -> c) -> [a] -> [b] -> [c]", "words": "[Char] -> [[Char]]",
    "unwords": "[[Char]] -> [Char]", "lines": "[Char] -> [[Char]]",
    "unlines": "[[Char]] -> [Char]", "either": "(a -> c) -> (b -> c) -> Either a b -> c",
    "Left": "a -> Either a b", "Right": "b -> Either a b", "uncurry": "(a -> b -> c) -> (a, b) -> c",
    "curry": "((a, b) -> c) -> a -> b -> c", "return": "a -> m a", "pure": "a -> m a",
    ">>=": "m a -> (a -> m b) -> m b", ">>": "m a -> m b -> m b", "=<<": "(a -> m b) -> m a -> m b",
    "fromJust": "Maybe a -> a", "lookup": "a -> [(a, b)] -> Maybe b",
    "foldr": "(a -> b -> b) -> b -> [a] -> b", "foldl": "(b -> a -> b) -> b -> [a] -> b",
    "concat": "[[a]] -> [a]", "concatMap": "(a -> [b]) -> [a] -> [b]",
    "elem": "a -> [a] -> Bool", "notElem": "a -> [a] -> Bool", "null": "[a] -> Bool",
    "length": "[a] -> Int", "unzip": "[(a, b)] -> ([a], [b])", "when": "Bool -> m () -> m ()",
    "unless": "Bool -> m () -> m ()", "fmap": "(a -> b) -> f a -> f b",
    "<$>": "(a -> b) -> f a -> f b", "mapM_": "(a -> m b) -> [a] -> m ()",
    "forM_": "[a] -> (a -> m b) -> m ()", "mapM": "(a -> m b) -> [a] -> m [b]",
    "forM": "[a] -> (a -> m b) -> m [b]", "sequence_": "[m a] -> m ()",
    "find": "(a -> Bool) -> [a] -> Maybe a", "any": "(a -> Bool) -> [a] -> Bool",
    "all": "(a -> Bool) -> [a] -> Bool", "mapMaybe": "(a -> Maybe b) -> [a] -> [b]",
    "catMaybes": "[Maybe a] -> [a]", "isJust": "Maybe a -> Bool",
    "isNothing": "Maybe a -> Bool", "listToMaybe": "[a] -> Maybe a",
    "maybeToList": "Maybe a -> [a]",
}

# The class-constrained type variables of the Prelude functions above (`(==) :: Eq a => ...`)
_PRELUDE_CLASSES = {"==": "a", "/=": "a", "elem": "a", "notElem": "a", "show": "a",
                    "lookup": "a", "return": "m", "pure": "m", ">>=": "m", ">>": "m",
                    "=<<": "m", "fmap": "f", "<$>": "f", "mapM_": "m", "forM_": "m",
                    "mapM": "m", "forM": "m", "sequence_": "m", "when": "m", "unless": "m"}


def _context_variables(signature: str) -> set[str]:
    """The type variables a signature's class context constrains (`(Monoid m, Eq a) =>`)."""
    text = re.sub(r"\{-.*?-\}|--[^\n]*", " ", signature).split("::", 1)[-1]
    text = re.sub(r"\bforall\b[^.]*\.", " ", text)
    if "=>" not in text:
        return set()
    return set(re.findall(r"(?<![\w'.])[a-z_][\w']*", text.rpartition("=>")[0]))


# Synonyms from base that code writes in place of their expansion
_BASE_SYNONYMS = {"String": ((), ("[]", (("Char", ()),))),
                  "FilePath": ((), ("[]", (("Char", ()),)))}

# Operator fixities (GHC's defaults for those not listed: infixl 9)
_FIXITY = {"$": (0, "r"), "$!": (0, "r"), "&": (1, "l"), ">>=": (1, "l"), ">>": (1, "l"),
           "=<<": (1, "r"), "||": (2, "r"), "&&": (3, "r"), "==": (4, "n"), "/=": (4, "n"),
           "<": (4, "n"), ">": (4, "n"), "<=": (4, "n"), ">=": (4, "n"), "<$>": (4, "l"),
           "<$": (4, "l"), "<*>": (4, "l"), "*>": (4, "l"), "<*": (4, "l"), ":": (5, "r"),
           "++": (5, "r"), "+": (6, "l"), "-": (6, "l"), "<>": (6, "r"), "*": (7, "l"),
           "/": (7, "l"), ".": (9, "r"), "!!": (9, "l"), "\\\\": (5, "n"), ".|.": (5, "l")}


class Report(NamedTuple):
    """What checking one file found: the mismatches, and the spans (first line, last line,
    a signature's included) of the declarations whose every name had a known type, where no
    mismatch means the code agrees with the change (as far as written types tell)."""

    mismatches: list[Mismatch]
    complete: list[tuple[int, int]]
    passed: set[int]  # lines where a value typed with the synonym is given where it is wanted


class Mismatch(NamedTuple):
    """An expression whose type agrees with its place only through the synonym's expansion."""

    line: int
    end_line: int
    text: str




class Checker:
    """Infers the types of expressions in one workspace, the changed synonym expanded or not.

    ``resolve(path, qualifier, name)`` is the definition a name refers to in a file, or None
    when that is not one definition of the workspace."""

    def __init__(self, index, resolve: Callable[[str, str | None, str], Definition | None],
                 synonym: str,
                 resolve_type: Callable[[str, str], Definition | None]) -> None:
        self.index = index
        self.resolve = resolve
        self.resolve_type = resolve_type
        self.synonym = synonym
        self.opaque = False
        self._fresh = itertools.count()
        self._synonyms: dict[tuple[str, str | None, bool], tuple[tuple[str, ...], Type] | None] = {}
        self._declared: dict[tuple[int, bool], Type | None] = {}
        self._prelude = {n: self.expand(t, None) if (t := parse_type(p, named=True)) else None
                         for n, p in _PRELUDE.items()}
        self.subst: dict[str, Type] = {}
        self.approximated = False  # a unification this checker does not model was let pass

    # -- types ---------------------------------------------------------------------------
    def fresh(self) -> Type:
        return (f"'_{next(self._fresh)}", ())

    def instantiate(self, t: Type, names: dict[str, Type] | None = None) -> Type:
        names = {} if names is None else names

        def go(t: Type) -> Type:
            head, args = t
            if head.startswith("'") and not head.startswith("'_"):  # not an inferred one
                new = names.setdefault(head, self.fresh())
                return (new[0], tuple(go(a) for a in args))
            return (head, tuple(go(a) for a in args))
        return go(t)

    def synonym_of(self, name: str, path: str | None) -> tuple[tuple[str, ...], Type] | None:
        """A synonym's parameters and right-hand side, as seen from ``path`` (the file whose
        text names it): a workspace synonym it can see, or one of base's."""
        key = (name, path, self.opaque)
        if key in self._synonyms:
            return self._synonyms[key]
        found = _BASE_SYNONYMS.get(name)
        d = self.resolve_type(path, name) if path is not None else None
        if d is not None:
            found = None
            if d.kind is DefKind.TYPE_SYNONYM and d.signature and "=" in d.signature:
                lhs, rhs = d.signature.split("=", 1)
                params = tuple(w for w in lhs.split()[2:] if re.fullmatch(r"[a-z_][\w']*", w))
                # `type P m o = forall i. C i o m ()`: i is a type variable of its own, fresh
                # at each use (as GHC instantiates it where P is a result); renamed apart
                # from the variables of the signature that uses P
                bound = _FORALL.match(rhs)
                if bound is not None:
                    rhs = rhs[bound.end():]
                body = parse_type(rhs, named=True) if "forall" not in rhs else None
                if body is not None and bound is not None:
                    body = _substituted(body, {"'" + v: (f"'{v}~{name}", ())
                                               for v in bound.group(1).split()})
                if body is not None:
                    found = (tuple("'" + p for p in params), self.expand(body, d.path))
        self._synonyms[key] = found
        return found

    def expand(self, t: Type, path: str | None, depth: int = 0) -> Type:
        """``t`` (written in ``path``) with its synonyms expanded, the changed one too unless
        the checker reads it as opaque."""
        head, args = t
        args = tuple(self.expand(a, path, depth + 1) for a in args)
        if not (head.startswith("'") or head == "") and depth < 12 \
                and not (self.opaque and head == self.synonym):
            syn = self.synonym_of(head, path)
            if syn is not None and len(args) >= len(syn[0]):
                params, body = syn
                binding = dict(zip(params, args[:len(params)], strict=False))
                h, inner = _substituted(body, binding)
                return (h, inner + args[len(params):])
        return (head, args)

    def walk(self, t: Type) -> Type:
        head, args = t
        while head.startswith("'") and head in self.subst:
            h, a = self.subst[head]
            head, args = h, a + args
        return (head, args)

    def unify(self, a: Type, b: Type, depth: int = 0) -> bool:
        a, b = self.walk(a), self.walk(b)
        if depth > 40:
            self.approximated = True
            return True
        if a == b or a == UNKNOWN or b == UNKNOWN:
            return True
        (ha, xa), (hb, xb) = a, b
        if ha.startswith("'") or hb.startswith("'"):
            if not ha.startswith("'"):
                (ha, xa), (hb, xb) = (hb, xb), (ha, xa)
            if len(xa) > len(xb):
                self.approximated = True  # a variable applied to more: not modelled
                return True
            k = len(xb) - len(xa)
            target = (hb, xb[:k])
            if target != (ha, ()):
                if _occurs(ha, target, self):
                    return True
                self.subst[ha] = target
            return all(self.unify(x, y, depth + 1) for x, y in zip(xa, xb[k:], strict=True))
        if ha != hb or len(xa) != len(xb):
            return False
        return all(self.unify(x, y, depth + 1) for x, y in zip(xa, xb, strict=True))

    def declared(self, d: Definition) -> Type | None:
        """The type of a name defined in the workspace, as written (None: unreadable)."""
        key = (id(d), self.opaque)
        if key in self._declared:
            return self._declared[key]
        found: Type | None = None
        sig = d.signature or ""
        if d.kind in (DefKind.FUNCTION, DefKind.METHOD) and "::" in sig:
            found = _signature_type(sig)
        elif d.kind is DefKind.FIELD and "::" in sig:
            record = self._record_type(d.parent)
            field = _signature_type(sig)
            if record is not None and field is not None:
                found = ("->", (record, field))
        elif d.kind is DefKind.CONSTRUCTOR:
            found = self._constructor_type(d)
        found = self.expand(found, d.path) if found is not None else None
        self._declared[key] = found
        return found

    def _record_type(self, constructor: str | None) -> Type | None:
        for con in self.index.definitions(constructor or "", (DefKind.CONSTRUCTOR,)):
            return self._data_type(con)
        return None

    def _data_type(self, con: Definition) -> Type | None:
        for t in self.index.definitions(con.parent or "", (DefKind.DATA, DefKind.NEWTYPE)):
            words = re.sub(r"\{-.*?-\}", " ", (t.signature or "")).split("=", 1)[0].split()
            if "::" in words or "=>" in words:
                return None
            params = [w for w in words[2:] if re.fullmatch(r"[a-z_][\w']*", w)]
            return (t.name, tuple(("'" + p, ()) for p in params))
        return None

    def _constructor_type(self, con: Definition) -> Type | None:
        result = self._data_type(con)
        sig = re.sub(r"\{-.*?-\}", " ", con.signature or "")
        if result is None or "forall" in sig or "=>" in sig or "::" in sig and not con.fields:
            return None
        if con.fields:
            types = []
            for f in con.fields:
                fdef = next((x for x in self.index.definitions(f, (DefKind.FIELD,))
                             if x.parent == con.name and x.module == con.module), None)
                t = _signature_type(fdef.signature or "") if fdef is not None else None
                if t is None:
                    return None
                types.append(t)
        else:
            rest = sig.strip()
            rest = rest[len(con.name):] if rest.startswith(con.name) else None
            if rest is None:
                return None
            parsed = parse_type("X " + rest.replace("!", " "), named=True)
            if parsed is None:
                return None
            types = list(parsed[1])
        t = result
        for arg in reversed(types):
            t = ("->", (arg, t))
        return t


def _signature_type(sig: str) -> Type | None:
    """A signature's type, its context dropped; a rank-n `forall` is read as if the type
    were rank 1 (its variables shared by the uses in one declaration)."""
    text = re.sub(r"\{-.*?-\}|--[^\n]*", " ", sig).split("::", 1)[-1]
    text = re.sub(r"\bforall\b[^.]*\.", " ", text)
    text = text.rpartition("=>")[2] if text.count("=>") == 1 or "(" not in text.split(
        "=>")[0] else text
    return parse_type(text, named=True) if "=>" not in text else None


def _substituted(t: Type, binding: dict[str, Type]) -> Type:
    head, args = t
    args = tuple(_substituted(a, binding) for a in args)
    if head in binding:
        h, inner = binding[head]
        return (h, inner + args)
    return (head, args)


def _occurs(var: str, t: Type, checker: Checker, depth: int = 0) -> bool:
    head, args = checker.walk(t)
    if head == var:
        return True
    return depth < 30 and any(_occurs(var, a, checker, depth + 1) for a in args)


class _Local(NamedTuple):
    """A local function or variable binding, inferred where it is used."""

    node: object
    scope: _Scope


class _Scope:
    """Local names: a type, or a binding node inferred at each use (a local function)."""

    def __init__(self, parent: _Scope | None = None) -> None:
        self.parent = parent
        self.names: dict[str, Type | _Local] = {}

    def get(self, name: str):
        s: _Scope | None = self
        while s is not None:
            if name in s.names:
                return s.names[name]
            s = s.parent
        return None


class _Infer:
    """One pass over one declaration in one reading (expanded or opaque)."""

    def __init__(self, checker: Checker, path: str, source: bytes) -> None:
        self.c = checker
        self.path = path
        self.source = source
        self.failed: dict[int, Mismatch] = {}
        self.depth = 0
        self.complete = True  # every name and construct had a known type
        self.passed: set[int] = set()  # lines handing on a value typed with the synonym
        self.constrained: list[Type] = []  # types a class constraint applies to

    def text(self, node) -> str:
        return node.text.decode("utf-8", "replace")

    def fail(self, node) -> None:
        line = node.start_point[0] + 1
        if line not in self.failed:
            self.failed[line] = Mismatch(line, node.end_point[0] + 1,
                                         " ".join(self.text(node).split())[:80])

    def unify_at(self, node, a: Type, b: Type) -> None:
        if not self.c.unify(a, b):
            self.fail(node)

    # -- names -------------------------------------------------------------------------
    def name_type(self, node, scope: _Scope) -> Type:
        text = self.text(node).strip("()` ")
        qualifier, _, name = text.rpartition(".") if node.type == "qualified" else ("", "", text)
        if not qualifier:
            local = scope.get(name)
            if isinstance(local, _Local):
                return self.local_function(local, scope)
            if local is not None:
                return self.c.instantiate(local)
        d = self.c.resolve(self.path, qualifier or None, name)
        if d is not None:
            t = self.c.declared(d)
            if t is None:
                return self.c.fresh()
            names: dict[str, Type] = {}
            t = self.c.instantiate(t, names)
            self.constrain(names, _context_variables(d.signature or ""))
            return t
        if d is None and not qualifier and name in self.c._prelude \
                and not self.c.index.definitions(name):
            t = self.c._prelude[name]
            if t is None:
                return self.c.fresh()
            names = {}
            t = self.c.instantiate(t, names)
            self.constrain(names, _PRELUDE_CLASSES.get(name, ()))
            return t
        self.complete = False
        return self.c.fresh()

    def constrain(self, names: dict[str, Type], variables) -> None:
        """Remember the fresh types of a signature's class-constrained variables: one that
        ends up holding the synonym needs an instance this checker cannot see."""
        self.constrained.extend(names["'" + v] for v in variables if "'" + v in names)

    def instances_unknown(self) -> bool:
        return any(_occurs(self.c.synonym, t, self.c) for t in self.constrained)

    def local_function(self, binding, scope: _Scope) -> Type:
        """A local function's type at one use: its clause inferred with fresh parameters."""
        node, own_scope = binding
        if self.depth > 6:
            self.complete = False
            return self.c.fresh()
        self.depth += 1
        try:
            inner = _Scope(own_scope)
            params = [p for c in node.children if c.type == "patterns" for p in c.named_children]
            types = [self.c.fresh() for _ in params]
            for p, t in zip(params, types, strict=True):
                self.bind_pattern(p, t, inner)
            result = self.rhs(node, inner)
            for t in reversed(types):
                result = ("->", (t, result))
            return result
        finally:
            self.depth -= 1

    # -- patterns ----------------------------------------------------------------------
    def bind_pattern(self, node, t: Type, scope: _Scope) -> None:
        kind = node.type
        if kind == "variable":
            scope.names[self.text(node)] = t
        elif kind == "tuple":
            items = node.named_children
            parts = tuple(self.c.fresh() for _ in items)
            self.c.unify(t, ("(" + "," * (len(items) - 1) + ")", parts))
            for p, pt in zip(items, parts, strict=True):
                self.bind_pattern(p, pt, scope)
        elif kind in ("parens", "strict", "lazy", "irrefutable"):
            for p in node.named_children:
                self.bind_pattern(p, t, scope)
        elif kind == "apply" or kind in ("constructor", "qualified") \
                and self.text(node).rpartition(".")[2][:1].isupper():
            args, head = [], node
            while head.type == "apply" and len(head.named_children) == 2:
                args.insert(0, head.named_children[1])
                head = head.named_children[0]
            con = self.c.resolve(self.path, None, self.text(head).rpartition(".")[2]) \
                if head.type in ("constructor", "qualified") else None
            ct = self.c.declared(con) if con is not None else None
            ct = self.c.instantiate(ct) if ct is not None else None
            parts = []
            while ct is not None and len(parts) < len(args) and self.c.walk(ct)[0] == "->":
                arg, ct = self.c.walk(ct)[1]
                parts.append(arg)
            if ct is not None and len(parts) == len(args) and self.c.walk(ct)[0] != "->":
                self.c.unify(t, ct)
            else:
                parts = [self.c.fresh() for _ in args]
            for p, pt in zip(args, parts, strict=True):
                self.bind_pattern(p, pt, scope)
        elif kind == "record":
            self.record_pattern(node, t, scope)
        elif kind == "as":
            kids = node.named_children
            if kids:
                self.bind_pattern(kids[0], t, scope)
            for p in kids[1:]:
                self.bind_pattern(p, t, scope)
        else:
            for v in _descendants(node, "variable"):
                scope.names[self.text(v)] = self.c.fresh()

    def record_pattern(self, node, t: Type, scope: _Scope) -> None:
        """`C {f = p, g, ..}`: each field's pattern (a pun, or every field for `..`) takes
        the field's type at the record's type."""
        kids = node.named_children
        con_node = node.child_by_field_name("constructor")
        con = self.c.resolve(self.path, None, self.text(con_node).rpartition(".")[2]) \
            if con_node is not None else None
        record = self.c._data_type(con) if con is not None else None
        record = self.c.instantiate(record) if record is not None else self.c.fresh()
        self.c.unify(t, record)

        def field_type(name: str) -> Type:
            fdef = self.c.resolve(self.path, None, name)
            ft = self.c.declared(fdef) if fdef is not None and fdef.kind is DefKind.FIELD \
                else None
            if ft is None:
                return self.c.fresh()
            record_t, value_t = self.c.instantiate(ft)[1]
            self.c.unify(record_t, record)
            return value_t
        named = set()
        for fp in kids:
            if fp.type != "field_pattern":
                continue
            if any(k.type == "wildcard" for k in fp.named_children):
                for f in (con.fields if con is not None else ()):
                    if f not in named:
                        scope.names[f] = field_type(f)
                continue
            fname = fp.child_by_field_name("field")
            pat = fp.child_by_field_name("pattern")
            if fname is None:
                continue
            name = self.text(fname).rpartition(".")[2]
            named.add(name)
            if pat is None:
                scope.names[name] = field_type(name)
            else:
                self.bind_pattern(pat, field_type(name), scope)

    # -- bindings ----------------------------------------------------------------------
    def local_binds(self, node, scope: _Scope) -> None:
        """Bring `let`/`where` bindings into scope: functions with parameters are inferred at
        each use, a variable's body once (lazily: bindings may refer to each other)."""
        declared = {}
        for b in node.named_children:
            if b.type == "signature":  # a local signature gives the binding's type
                name, t = b.child_by_field_name("name"), b.child_by_field_name("type")
                parsed = _signature_type(":: " + self.text(t)) if t is not None else None
                if name is not None and parsed is not None:
                    declared[self.text(name)] = self.c.expand(parsed, self.path)
        for b in node.named_children:
            name = b.child_by_field_name("name")
            if name is not None and self.text(name) in declared:
                scope.names[self.text(name)] = declared[self.text(name)]
            elif b.type == "function":
                name = b.child_by_field_name("name")
                if name is not None:
                    scope.names[self.text(name)] = _Local(b, scope)
            elif b.type == "bind":
                name = b.child_by_field_name("name")
                if name is not None:
                    scope.names[self.text(name)] = _Local(b, scope)
                else:
                    pat = b.child_by_field_name("pattern")
                    if pat is not None:
                        t = self.rhs(b, scope)
                        self.bind_pattern(pat, t, scope)

    def rhs(self, node, scope: _Scope) -> Type:
        """The type of a binding's right-hand side (guards and `where` included)."""
        inner = _Scope(scope)
        for c in node.named_children:
            if c.type == "local_binds":
                self.local_binds(c, inner)
        result = self.c.fresh()
        for c in node.named_children:
            if c.type == "match":
                for m in c.named_children:
                    if m.type == "guards":
                        for g in m.named_children:
                            self.expr(g, inner)
                        continue
                    self.unify_at(m, result, self.expr(m, inner))
        return result

    # -- expressions -------------------------------------------------------------------
    def expr(self, node, scope: _Scope) -> Type:
        kind = node.type
        c = self.c
        if kind in ("variable", "qualified", "constructor", "operator"):
            return self.name_type(node, scope)
        if kind == "literal":
            inner = node.named_children[0].type if node.named_children else ""
            if inner == "string":
                return ("[]", (("Char", ()),))
            if inner == "char":
                return ("Char", ())
            self.complete = False  # a number: its type is a class's choice
            return c.fresh()
        if kind == "parens":
            kids = node.named_children
            return self.expr(kids[0], scope) if len(kids) == 1 else c.fresh()
        if kind == "apply":
            f, x = node.named_children[0], node.named_children[-1]
            return self.apply(node, self.expr(f, scope), self.expr(x, scope))
        if kind == "infix":
            return self.infix(node, scope)
        if kind == "tuple":
            items = [self.expr(k, scope) for k in node.named_children]
            return ("(" + "," * (len(items) - 1) + ")", tuple(items))
        if kind == "list":
            elem = c.fresh()
            for k in node.named_children:
                self.unify_at(k, elem, self.expr(k, scope))
            return ("[]", (elem,))
        if kind == "let_in":
            inner = _Scope(scope)
            body = None
            for k in node.named_children:
                if k.type == "local_binds":
                    self.local_binds(k, inner)
                else:
                    body = k
            return self.expr(body, inner) if body is not None else c.fresh()
        if kind == "lambda":
            inner = _Scope(scope)
            pats = node.child_by_field_name("patterns")
            types = []
            for p in (pats.named_children if pats is not None else []):
                t = c.fresh()
                types.append(t)
                self.bind_pattern(p, t, inner)
            body = node.child_by_field_name("expression")
            result = self.expr(body, inner) if body is not None else c.fresh()
            for t in reversed(types):
                result = ("->", (t, result))
            return result
        if kind == "list_comprehension":
            inner = _Scope(scope)
            head = node.named_children[0] if node.named_children else None
            for q in node.named_children[1:]:
                for g in q.named_children if q.type == "qualifiers" else [q]:
                    self.qualifier(g, inner)
            return ("[]", (self.expr(head, inner) if head is not None else c.fresh(),))
        if kind == "record":
            return self.record(node, scope)
        if kind == "conditional":
            kids = node.named_children
            result = c.fresh()
            for k in kids[1:]:
                self.unify_at(k, result, self.expr(k, scope))
            if kids:
                self.expr(kids[0], scope)
            return result
        if kind == "do":
            return self.do(node, scope)
        if kind == "case":
            kids = node.named_children
            scrutinee = self.expr(kids[0], scope) if kids and kids[0].type != \
                "alternatives" else c.fresh()
            result = c.fresh()
            for alts in kids:
                if alts.type != "alternatives":
                    continue
                for alt in alts.named_children:
                    inner = _Scope(scope)
                    pat = alt.child_by_field_name("pattern")
                    if pat is not None:
                        self.bind_pattern(pat, scrutinee, inner)
                    self.unify_at(alt, result, self.rhs(alt, inner))
            return result
        if kind == "multi_way_if":
            result = c.fresh()
            for m in node.named_children:
                for part in m.named_children:
                    if part.type == "guards":
                        for g in part.named_children:
                            self.expr(g, scope)
                    else:
                        self.unify_at(part, result, self.expr(part, scope))
            return result
        # anything else: its parts are still checked, its own type is unknown
        self.complete = False
        for k in node.named_children:
            self.expr(k, scope)
        return c.fresh()

    def apply(self, node, f: Type, x: Type) -> Type:
        c = self.c
        f = c.walk(f)
        if f[0] == "->":
            arg, result = f[1]
            if c.opaque and _occurs(c.synonym, arg, c) and _occurs(c.synonym, x, c):
                # the value comes typed with the synonym where it is expected
                self.passed.add(node.start_point[0] + 1)
            self.unify_at(node, arg, x)
            return result
        result = c.fresh()
        if f[0].startswith("'"):
            c.unify(f, ("->", (x, result)))
        elif f[0]:
            self.fail(node)  # a value of a known type that is not a function, applied
        return result

    def infix(self, node, scope: _Scope) -> Type:
        if len(node.named_children) != 3:  # e.g. a comment inside: its parts only
            for k in node.named_children:
                self.expr(k, scope)
            return self.c.fresh()
        operands, ops = [], []
        stack = [node]
        while stack:  # flatten the chain (tree-sitter nests it without fixities)
            n = stack.pop()
            if n.type == "infix" and len(n.named_children) == 3:
                left, op, right = n.named_children
                stack.append(right)
                stack.append(op)
                stack.append(left)
            else:
                (ops if len(operands) > len(ops) else operands).append(n)
        return self.resolve_fixity(operands, ops, scope)

    def resolve_fixity(self, operands: list, ops: list, scope: _Scope) -> Type:
        if not ops:
            return self.expr(operands[0], scope)
        # split at the loosest operator (rightmost for left-associative, else leftmost)
        prec = [_FIXITY.get(self.text(o).strip("`"), (9, "l")) for o in ops]
        low = min(p for p, _ in prec)
        at = [i for i, (p, _) in enumerate(prec) if p == low]
        i = at[-1] if prec[at[0]][1] == "l" else at[0]
        left = self.resolve_fixity(operands[:i + 1], ops[:i], scope)
        right = self.resolve_fixity(operands[i + 1:], ops[i + 1:], scope)
        op = ops[i]
        name = self.text(op).strip("`")
        if name == "$" and not self.c.resolve(self.path, None, "$"):
            return self.apply(operands[i + 1], left, right)
        t = self.name_type(op, scope)
        site = operands[i + 1]
        return self.apply(site, self.apply(operands[i], t, left), right)

    def qualifier(self, node, scope: _Scope) -> None:
        if node.type == "generator":
            kids = node.named_children
            if len(kids) == 2:
                elem = self.c.fresh()
                self.unify_at(kids[1], ("[]", (elem,)), self.expr(kids[1], scope))
                self.bind_pattern(kids[0], elem, scope)
        elif node.type in ("let", "local_binds"):
            for k in node.named_children:
                if k.type == "local_binds":
                    self.local_binds(k, scope)
            if node.type == "local_binds":
                self.local_binds(node, scope)
        else:
            self.expr(node, scope)

    def record(self, node, scope: _Scope) -> Type:
        kids = node.named_children
        if not kids:
            return self.c.fresh()
        base = kids[0]
        if base.type in ("constructor", "qualified") and self.text(base)[-1:].isalpha() \
                and self.text(base).rpartition(".")[2][:1].isupper():
            con = self.c.resolve(self.path, None, self.text(base).rpartition(".")[2])
            result = self.c._data_type(con) if con is not None else None
            result = self.c.instantiate(result) if result is not None else self.c.fresh()
        else:  # an update may change the record's type parameters (`c { hook = h }`)
            before = self.expr(base, scope)
            head = self.c.walk(before)
            result = (head[0], tuple(self.c.fresh() for _ in head[1])) \
                if head[0] and not head[0].startswith("'") else self.c.fresh()
        for upd in kids[1:]:
            if upd.type != "field_update":
                continue
            parts = upd.named_children
            if len(parts) < 2:
                continue
            fname = self.text(parts[0]).strip()
            qualifier, _, bare = fname.rpartition(".")
            fdef = self.c.resolve(self.path, qualifier or None, bare)
            value = self.expr(parts[-1], scope)
            t = self.c.declared(fdef) if fdef is not None and fdef.kind is DefKind.FIELD \
                else None
            if t is None:
                continue
            record_t, field_t = self.c.instantiate(t)[1]
            self.c.unify(record_t, result)
            self.unify_at(upd, field_t, value)
        return result

    def do(self, node, scope: _Scope) -> Type:
        inner = _Scope(scope)
        monad = self.c.fresh()
        last = self.c.fresh()
        for stmt in node.named_children:
            if stmt.type == "bind":
                kids = stmt.named_children
                if len(kids) == 2:
                    a = self.c.fresh()
                    t = self.expr(kids[1], inner)
                    self.c.unify(t, (monad[0], (a,)))
                    self.bind_pattern(kids[0], a, inner)
            elif stmt.type == "let":
                for k in stmt.named_children:
                    if k.type == "local_binds":
                        self.local_binds(k, inner)
            elif stmt.type == "exp":
                for k in stmt.named_children:
                    last = self.expr(k, inner)
            else:
                last = self.expr(stmt, inner)
        return last


def _descendants(node, kind: str) -> Iterator:
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == kind:
            yield n
        stack.extend(n.children)


def mismatches(checker: Checker, path: str, source: bytes, lines: set[int]) -> Report:
    """The expressions of the top-level declarations covering ``lines`` in one file that
    type-check with the synonym expanded and fail with it opaque."""
    tree = parser.parser().parse(source)
    decls = next((c for c in tree.root_node.named_children if c.type == "declarations"), None)
    if decls is None:
        return Report([], [], set())
    signatures: dict[str, Type] = {}
    named: set[str] = set()
    signature_line: dict[str, int] = {}
    for d in decls.named_children:
        if d.type == "signature":
            name = d.child_by_field_name("name")
            t = d.child_by_field_name("type")
            if name is not None:
                signature_line.setdefault(name.text.decode(), d.start_point[0] + 1)
            if any(d.start_point[0] < ln <= d.end_point[0] + 1 for ln in lines) \
                    and name is not None:
                named.add(name.text.decode())  # its definition is typed with the synonym
            if name is not None and t is not None:
                parsed = _signature_type(":: " + t.text.decode("utf-8", "replace"))
                if parsed is not None:
                    signatures[name.text.decode()] = parsed
    found: dict[int, Mismatch] = {}
    complete: list[tuple[int, int]] = []
    passed: set[int] = set()
    for d in _checked_declarations(decls):
        first, last = d.start_point[0] + 1, d.end_point[0] + 1
        name = d.child_by_field_name("name")
        if not any(first <= ln <= last for ln in lines) \
                and (name is None or name.text.decode() not in named):
            continue
        results = []
        whole = True
        for opaque in (False, True):
            checker.opaque = opaque
            checker.subst = {}
            checker.approximated = False
            run = _Infer(checker, path, source)
            try:
                _check_declaration(run, d, signatures)
            except RecursionError:
                run.failed, run.complete = {}, False
            if checker.approximated or (opaque and run.instances_unknown()):
                run.complete = False
            results.append(run.failed)
            whole = whole and run.complete and (opaque or not run.failed)
            if opaque:
                passed |= run.passed - set(run.failed) - set(results[0])
        for line, m in results[1].items():
            if line not in results[0]:
                found.setdefault(line, m)
        if whole and name is not None:
            complete.append((min(first, signature_line.get(name.text.decode(), first)), last))
    for d in decls.named_children:
        if d.type == "pragma" and any(d.start_point[0] < ln <= d.end_point[0] + 1
                                      for ln in lines):
            for rule in rules(source, d.start_byte, d.end_byte):
                _check_rule(checker, path, rule, found, passed)
    return Report(sorted(found.values()), complete, passed)


def _check_rule(checker: Checker, path: str, rule: Rule, found: dict[int, Mismatch],
                passed: set[int]) -> None:
    """A rewrite rule type-checks as code: its two sides have one type, its `forall`
    binders one type each (the written one when annotated). Lines are the file's."""
    tree = parser.parser().parse(rule.snippet)
    sides = rule_sides(tree, rule)
    if sides is None:
        return
    binders, lhs, rhs = sides
    results = []
    for opaque in (False, True):
        checker.opaque = opaque
        checker.subst = {}
        checker.approximated = False
        run = _Infer(checker, path, rule.snippet)
        scope = _Scope()
        for b in rule.binders:
            scope.names[b.decode("utf-8", "replace")] = checker.fresh()
        try:
            for sig in (_descendants(binders, "signature") if binders is not None else ()):
                var, t = sig.child_by_field_name("expression"), sig.child_by_field_name("type")
                written = _signature_type(":: " + run.text(t)) if t is not None else None
                if var is not None and var.type == "variable" and written is not None:
                    run.unify_at(sig, run.name_type(var, scope),
                                 checker.instantiate(checker.expand(written, path)))
            run.unify_at(rhs, run.expr(lhs, scope), run.expr(rhs, scope))
        except RecursionError:
            run.failed = {}
        results.append(run.failed)
        if opaque:
            passed |= {ln + rule.row0 for ln in run.passed - set(run.failed) - set(results[0])}
    for line, m in results[1].items():
        if line not in results[0]:
            found.setdefault(line + rule.row0, m._replace(line=line + rule.row0,
                                                          end_line=m.end_line + rule.row0))


def _checked_declarations(decls) -> Iterator:
    for d in decls.named_children:
        if d.type in ("function", "bind"):
            yield d
        elif d.type == "instance":
            for body in d.named_children:
                if body.type == "instance_declarations":
                    yield from (m for m in body.named_children if m.type in ("function", "bind"))


def _check_declaration(run: _Infer, d, signatures: dict[str, Type]) -> None:
    scope = _Scope()
    name = d.child_by_field_name("name")
    declared = signatures.get(name.text.decode()) if name is not None else None
    t = run.c.instantiate(run.c.expand(declared, run.path)) if declared is not None else None
    params = [p for c in d.children if c.type == "patterns" for p in c.named_children]
    for p in params:
        if t is not None and run.c.walk(t)[0] == "->":
            arg, t = run.c.walk(t)[1]
            run.bind_pattern(p, arg, scope)
        else:
            if t is not None and run.c.walk(t)[0] and not run.c.walk(t)[0].startswith("'"):
                run.fail(d)  # more parameters than the declared type has arrows
            t = None
            run.bind_pattern(p, run.c.fresh(), scope)
    result = run.rhs(d, scope)
    if t is not None:
        body = next((c for c in d.named_children if c.type == "match"), d)
        run.unify_at(body, t, result)

"""What GHC's front end sees of a file that goes through a preprocessor, with line numbers kept.

- CPP (`{-# LANGUAGE CPP #-}`, and `.hsc` files, whose conditionals hsc2hs passes on): each
  `#if`/`#ifdef`/`#ifndef`/`#elif`/`#else` chain keeps the one branch the preprocessor would keep
  and blanks the others, and every directive line is blanked. Conditions are evaluated like cpp
  does (an undefined name is 0), with the macros a Debian GHC build defines
  (``__GLASGOW_HASKELL__``, ``MIN_VERSION_base``, the host OS and architecture) and the file's
  own `#define`s; ``MIN_VERSION_<package>`` of other packages are taken as true (a recent
  dependency). A condition this evaluator cannot read keeps its first branch, which is also what
  tree-sitter-haskell does on its own. Macro expansion in code is not performed.
- hsc2hs: the `#{…}` / `#keyword …` constructs (`#const`, `#size`, `#peek`, `#type`, …) become
  `undefined` (a term and, lowercase, a type variable: both parse), directive lines are blanked.
- A stray byte that is not UTF-8 (Latin-1 in a comment, which GHC accepts) becomes `?`, so byte
  offsets, columns and line numbers stay those of the file.

Every transformation keeps the number of lines; blanked lines become empty.
"""

from __future__ import annotations

import re

# Which compiler the oracle and Debian provide (GHC 9.0.2, base 4.15.1.0).
GHC_VERSION = (9, 0, 2, 0)
BASE_VERSION = (4, 15, 1, 0)
BUILTIN_MACROS: dict[str, int] = {
    "__GLASGOW_HASKELL__": GHC_VERSION[0] * 100 + GHC_VERSION[1],
    "linux_HOST_OS": 1, "x86_64_HOST_ARCH": 1, "__LINE__": 0,
}
# Traditional cpp (what GHC runs) sees a directive only with its `#` in the first column.
_DIRECTIVE = re.compile(rb"^#[ \t]*(if|ifdef|ifndef|elif|else|endif|define|undef|include|"
                        rb"error|warning|line|pragma)\b(.*)$")
_CPP_PRAGMA = re.compile(rb"\{-#\s*LANGUAGE\b[^#]*\bCPP\b", re.S)


def uses_cpp(raw: bytes) -> bool:
    return bool(_CPP_PRAGMA.search(raw[:20000]))


def repair_utf8(raw: bytes) -> tuple[bytes, int]:
    """``raw`` with every byte that is not part of valid UTF-8 replaced by ``?``, and how
    many were replaced."""
    try:
        raw.decode("utf-8")
        return raw, 0
    except UnicodeDecodeError:
        pass
    out = bytearray()
    bad = 0
    i = 0
    while i < len(raw):
        try:
            raw[i:].decode("utf-8")
            out += raw[i:]
            break
        except UnicodeDecodeError as exc:
            out += raw[i:i + exc.start] + b"?" * (exc.end - exc.start)
            bad += exc.end - exc.start
            i += exc.end
    return bytes(out), bad


_DIRECTIVE_AT = re.compile(rb"#[ \t]*(?:if|ifdef|ifndef|elif|else|endif|define|undef|include|"
                           rb"error|warning|line|pragma)\b")


def _directive_starts(raw: bytes) -> list[int]:
    """Offsets of the directive lines (a `#` in the first column), found with bytes.find."""
    out = [0] if _DIRECTIVE_AT.match(raw) else []
    at = raw.find(b"\n#")
    while at != -1:
        if _DIRECTIVE_AT.match(raw, at + 1):
            out.append(at + 1)
        at = raw.find(b"\n#", at + 1)
    return out


def select_branches(raw: bytes, *, defines: dict[str, int] | None = None) -> bytes:
    """Blank the branches the C preprocessor would drop and every directive line (only the
    directive lines are looked at: the text between them is copied or blanked whole)."""
    starts = _directive_starts(raw)
    if not starts:
        return raw
    macros: dict[str, int] = dict(BUILTIN_MACROS)
    macros.update(defines or {})
    # a stack of (this branch is kept, some branch of the chain was taken, parent kept)
    stack: list[tuple[bool, bool, bool]] = []
    keep = True
    out: list[bytes] = []
    pos = 0  # everything before pos is in out
    for start in starts:
        if start < pos:
            continue  # inside the continuation lines of the previous directive
        segment = raw[pos:start]
        out.append(segment if keep else b"\n" * segment.count(b"\n"))
        # the directive and its continuation lines
        end = raw.find(b"\n", start)
        while end != -1 and raw[end - 1:end] == b"\\":
            end = raw.find(b"\n", end + 1)
        end = len(raw) if end == -1 else end
        text = raw[start:end].replace(b"\\\n", b" ")
        out.append(b"\n" * raw.count(b"\n", start, end))
        pos = end
        d = _DIRECTIVE.match(text)
        if d is None:
            continue
        word, rest = d.group(1), _strip_comment(d.group(2)).strip()
        if word in (b"if", b"ifdef", b"ifndef"):
            if word == b"if":
                value = bool(_evaluate(rest, macros))
            else:
                name = rest.split()[0].decode("latin-1") if rest.split() else ""
                value = (name in macros) == (word == b"ifdef")
            stack.append((keep and value, value, keep))
            keep = keep and value
        elif word == b"elif" and stack:
            _, taken, parent = stack.pop()
            value = not taken and bool(_evaluate(rest, macros))
            stack.append((parent and value, taken or value, parent))
            keep = parent and value
        elif word == b"else" and stack:
            _, taken, parent = stack.pop()
            stack.append((parent and not taken, True, parent))
            keep = parent and not taken
        elif word == b"endif" and stack:
            _, _, parent = stack.pop()
            keep = parent
        elif keep and word == b"define":
            parts = rest.split(None, 1)
            if parts:
                name_m = re.match(rb"[A-Za-z_]\w*", parts[0])
                if name_m:
                    value_text = parts[1] if len(parts) > 1 else b"1"
                    macros[name_m.group(0).decode("latin-1")] = _evaluate(value_text, macros,
                                                                          default=1)
        elif keep and word == b"undef":
            macros.pop(rest.decode("latin-1").strip(), None)
    segment = raw[pos:]
    out.append(segment if keep else b"\n" * segment.count(b"\n"))
    return b"".join(out)


def _strip_comment(text: bytes) -> bytes:
    text = re.sub(rb"/\*.*?\*/", b" ", text)
    return text.split(b"//", 1)[0] if b"//" in text and b"://" not in text else text


# -- condition evaluation ---------------------------------------------------------------------
_TOKEN = re.compile(rb"\s*(?:(\d+)[uUlL]*|([A-Za-z_]\w*)|(&&|\|\||==|!=|<=|>=|<<|>>|[-+*/%<>!()~,?:]))")


class _Unreadable(ValueError):
    pass


def _evaluate(text: bytes, macros: dict[str, int], *, default: int = 1) -> int:
    """The value of a `#if` condition; ``default`` when it cannot be read (the first branch is
    then kept, as tree-sitter-haskell would)."""
    try:
        tokens = _tokens(text)
        parser = _Expr(tokens, macros)
        value = parser.ternary()
        if parser.pos != len(tokens):
            raise _Unreadable("trailing tokens")
        return value
    except (_Unreadable, ZeroDivisionError, RecursionError):
        return default


def _tokens(text: bytes) -> list[bytes]:
    out = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise _Unreadable(text[pos:pos + 10].decode("latin-1"))
        out.append(m.group(m.lastindex).strip())
        pos = m.end()
    return out


def _version_at_least(actual: tuple[int, ...], wanted: list[int]) -> int:
    return int(tuple(actual[:len(wanted)]) >= tuple(wanted))


class _Expr:
    """A C preprocessor expression over ints (precedence climbing)."""

    _BINARY = [(b"||",), (b"&&",), (b"==", b"!="), (b"<", b">", b"<=", b">="),
               (b"<<", b">>"), (b"+", b"-"), (b"*", b"/", b"%")]

    def __init__(self, tokens: list[bytes], macros: dict[str, int]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.macros = macros

    def peek(self) -> bytes | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: bytes | None = None) -> bytes:
        tok = self.peek()
        if tok is None or (expected is not None and tok != expected):
            raise _Unreadable(f"expected {expected!r}")
        self.pos += 1
        return tok

    def ternary(self) -> int:
        cond = self.binary(0)
        if self.peek() == b"?":
            self.take()
            a = self.ternary()
            self.take(b":")
            b = self.ternary()
            return a if cond else b
        return cond

    def binary(self, level: int) -> int:
        if level == len(self._BINARY):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek() in self._BINARY[level]:
            op = self.take()
            right = self.binary(level + 1)
            left = _apply(op, left, right)
        return left

    def unary(self) -> int:
        tok = self.peek()
        if tok == b"!":
            self.take()
            return int(not self.unary())
        if tok == b"-":
            self.take()
            return -self.unary()
        if tok == b"+":
            self.take()
            return self.unary()
        if tok == b"~":
            self.take()
            return ~self.unary()
        return self.atom()

    def atom(self) -> int:
        tok = self.take()
        if tok == b"(":
            value = self.ternary()
            self.take(b")")
            return value
        if tok.isdigit():
            return int(tok)
        if not (tok[:1].isalpha() or tok[:1] == b"_"):
            raise _Unreadable(f"unexpected {tok!r}")
        name = tok.decode("latin-1")
        if name == "defined":
            parens = self.peek() == b"("
            if parens:
                self.take()
            target = self.take().decode("latin-1")
            if parens:
                self.take(b")")
            return int(target in self.macros)
        if self.peek() == b"(" and name.startswith("MIN_VERSION_"):
            self.take()
            args = [self.ternary()]
            while self.peek() == b",":
                self.take()
                args.append(self.ternary())
            self.take(b")")
            if name == "MIN_VERSION_GLASGOW_HASKELL":
                return _version_at_least(GHC_VERSION, args)
            if name == "MIN_VERSION_base":
                return _version_at_least(BASE_VERSION, args)
            return 1  # another package: assume the recent version Debian ships
        if self.peek() == b"(":
            raise _Unreadable(f"function-like macro {name}")
        return self.macros.get(name, 0)


def _apply(op: bytes, a: int, b: int) -> int:
    if op == b"||":
        return int(bool(a) or bool(b))
    if op == b"&&":
        return int(bool(a) and bool(b))
    if op == b"==":
        return int(a == b)
    if op == b"!=":
        return int(a != b)
    if op == b"<":
        return int(a < b)
    if op == b">":
        return int(a > b)
    if op == b"<=":
        return int(a <= b)
    if op == b">=":
        return int(a >= b)
    if op == b"<<":
        return a << b
    if op == b">>":
        return a >> b
    if op == b"+":
        return a + b
    if op == b"-":
        return a - b
    if op == b"*":
        return a * b
    if op == b"/":
        return int(a / b)
    return a % b


# -- hsc2hs ----------------------------------------------------------------------------------
_HSC_KEYWORDS = (b"const", b"const_str", b"size", b"alignment", b"peek", b"poke", b"ptr",
                 b"offset", b"type", b"enum", b"let", b"def", b"include", b"define", b"undef",
                 b"error", b"warning", b"if", b"ifdef", b"ifndef", b"elif", b"else", b"endif",
                 b"cinclude")
_HSC_INLINE = re.compile(rb"#\{[^}]*\}|#(?:" + b"|".join(_HSC_KEYWORDS) + rb")\b[^\n]*")


def neutralise_hsc(raw: bytes) -> bytes:
    """An `.hsc` file as Haskell: conditionals selected like CPP, directive lines blanked,
    inline constructs replaced by `undefined` (line numbers kept)."""
    text = select_branches(raw)
    lines = text.split(b"\n")
    for i, line in enumerate(lines):
        if line.lstrip().startswith(b"#") and not line.lstrip().startswith((b"#{", b"##")):
            # a directive line (`#include`, `#def`, `#let`, …): not Haskell
            stripped = line.lstrip()[1:].lstrip()
            if any(stripped.startswith(k) for k in _HSC_KEYWORDS):
                lines[i] = b""
                continue
        if b"#" in line:
            line = _HSC_INLINE.sub(_undefined, line)
            lines[i] = line.replace(b"##", b"#")
    return b"\n".join(lines)


def _undefined(m: re.Match[bytes]) -> bytes:
    return b"(undefined)"

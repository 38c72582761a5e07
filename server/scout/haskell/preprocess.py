"""What GHC's front end sees of a file that goes through a preprocessor, with line numbers kept.

- CPP (`{-# LANGUAGE CPP #-}`, and `.hsc` files, whose conditionals hsc2hs passes on): each
  `#if`/`#ifdef`/`#ifndef`/`#elif`/`#else` chain keeps the one branch the preprocessor would keep
  and blanks the others, and every directive line is blanked. Conditions are evaluated like cpp
  does (an undefined name is 0), with the macros a Debian GHC build defines
  (``__GLASGOW_HASKELL__``, ``MIN_VERSION_base``, the host OS and architecture) and the file's
  own `#define`s; ``MIN_VERSION_<package>`` of other packages are taken as true (a recent
  dependency). A condition this evaluator cannot read keeps its first branch, which is also what
  tree-sitter-haskell does on its own. `#include "file"` reads the file's `#define`s when an
  ``include`` reader finds it (a local header: beside the file, up the tree, in an `include/`
  folder or a folder the package's `.cabal` names in `include-dirs`). Its text is not spliced
  into the including file (that would move every line after it): when what cpp would keep of
  it is code, not only directives, that code (branches selected with the macros of the include
  point, expanded, its own lines kept) is handed to ``spliced`` under the included file's path,
  which the index reads as the including module's code at the included file's own lines (GHC
  reports it there too, through cpp's line markers). An include already being read (a cycle)
  is skipped, nesting stops at 8 levels, and a header over 1 MB is not read.
- Macros the file (or a local header) defines are expanded in code, as cpp does: object-like
  ones (`#define OVERLAPS {-# OVERLAPPING #-}`) and function-like ones
  (`deriveNewtypeInstances(Unbox a, Sum a, ...)`, whose body may hold whole declarations). An
  expansion sits on the line of the macro's name, followed by as many empty lines as its
  arguments spanned, so later lines keep their numbers (GHC reports code from a macro at the
  line of its use too). Nothing is expanded inside string literals.
- hsc2hs: the `#{…}` / `#keyword …` constructs (`#const`, `#size`, `#peek`, `#type`, …) become
  `undefined` (a term and, lowercase, a type variable: both parse), directive lines are blanked.
- A stray byte that is not UTF-8 (Latin-1 in a comment, which GHC accepts) becomes `?`, so byte
  offsets, columns and line numbers stay those of the file.

Every transformation keeps the number of lines; blanked lines become empty.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path

# Which compiler the oracle and Debian provide (GHC 9.0.2, base 4.15.1.0).
GHC_VERSION = (9, 0, 2, 0)
BASE_VERSION = (4, 15, 1, 0)
BUILTIN_MACROS: dict[str, int] = {
    "__GLASGOW_HASKELL__": GHC_VERSION[0] * 100 + GHC_VERSION[1],
    "linux_HOST_OS": 1, "x86_64_HOST_ARCH": 1, "__LINE__": 0,
    # GHC's MachDeps.h (`#include "MachDeps.h"`) on a 64-bit host
    "WORD_SIZE_IN_BITS": 64, "SIZEOF_HSWORD": 8, "SIZEOF_HSINT": 8, "SIZEOF_HSPTR": 8,
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


# An include reader: the file cpp finds for the name written, as (workspace-relative path,
# bytes), or only its bytes, or None when not found.
IncludeReader = Callable[[str], "tuple[str, bytes] | bytes | None"]
_MAX_INCLUDE_DEPTH = 8


class _Macros:
    """What the directives so far define: values for conditions, bodies for expansion."""

    def __init__(self, defines: dict[str, int] | None) -> None:
        self.values: dict[str, int] = dict(BUILTIN_MACROS)
        self.values.update(defines or {})
        # name -> (parameters or None for an object-like macro, body)
        self.bodies: dict[str, tuple[tuple[str, ...] | None, bytes]] = {}
        self._pattern: re.Pattern[bytes] | None = None

    def define(self, rest: bytes) -> None:
        m = re.match(rb"([A-Za-z_]\w*)(\(([^)]*)\))?", rest)
        if m is None:
            return
        name = m.group(1).decode("latin-1")
        # C comments go; `//` stays (a Haskell operator in a body: `v // updates`)
        body = re.sub(rb"/\*.*?\*/", b" ", rest[m.end():]).strip()
        params = None
        if m.group(2) is not None:  # `NAME(` with no space: function-like
            params = tuple(p.strip().decode("latin-1") for p in m.group(3).split(b",")
                           if p.strip())
        else:
            self.values[name] = _evaluate(body or b"1", self.values, default=1)
        self.bodies[name] = (params, body)
        self._pattern = None

    def undefine(self, name: str) -> None:
        self.values.pop(name, None)
        if self.bodies.pop(name, None) is not None:
            self._pattern = None

    def pattern(self) -> re.Pattern[bytes] | None:
        if self._pattern is None and self.bodies:
            names = sorted(self.bodies, key=len, reverse=True)
            self._pattern = re.compile(rb"(?<![\w'])(" + b"|".join(
                re.escape(n.encode("latin-1")) for n in names) + rb")(?![\w'])")
        return self._pattern


def select_branches(raw: bytes, *, defines: dict[str, int] | None = None,
                    include: IncludeReader | None = None,
                    spliced: dict[str, bytes] | None = None) -> bytes:
    """Blank the branches the C preprocessor would drop and every directive line (only the
    directive lines are looked at: the text between them is copied or blanked whole), and
    expand the macros defined so far in the code kept (see the module docstring).
    ``include`` reads a `#include`d file by the name written, or returns None; ``spliced``
    receives, by path, the code of included files that hold code (first include wins)."""
    macros = _Macros(defines)
    return _run_directives(raw, macros, include, 0, keep_text=True, spliced=spliced,
                           reading=())


def _blank_c_comments(text: bytes) -> bytes:
    """``text`` with C comments (a header's licence: cpp removes them) blanked, lines and
    columns kept."""
    return re.sub(rb"/\*.*?\*/", lambda m: re.sub(rb"[^\n]", b" ", m.group(0)), text,
                  flags=re.S)


def _has_code(text: bytes) -> bool:
    """Is there anything but white space and C comments (a header's licence) in ``text``?"""
    return bool(re.sub(rb"/\*.*?\*/", b"", text, flags=re.S).strip())


def _run_directives(raw: bytes, macros: _Macros, include: IncludeReader | None, depth: int,
                    *, keep_text: bool, spliced: dict[str, bytes] | None = None,
                    reading: tuple[str, ...] = ()) -> bytes:
    starts = _directive_starts(raw)
    if not starts:
        return _expand(raw, macros) if keep_text else b""
    # a stack of (this branch is kept, some branch of the chain was taken, parent kept)
    stack: list[tuple[bool, bool, bool]] = []
    keep = True
    out: list[bytes] = []
    pos = 0  # everything before pos is in out

    def text(segment: bytes) -> None:
        if keep_text:
            out.append(_expand(segment, macros) if keep else b"\n" * segment.count(b"\n"))

    for start in starts:
        if start < pos:
            continue  # inside the continuation lines of the previous directive
        text(raw[pos:start])
        # the directive and its continuation lines
        end = raw.find(b"\n", start)
        while end != -1 and raw[end - 1:end] == b"\\":
            end = raw.find(b"\n", end + 1)
        end = len(raw) if end == -1 else end
        line = raw[start:end].replace(b"\\\n", b" ")
        if keep_text:
            out.append(b"\n" * raw.count(b"\n", start, end))
        pos = end
        d = _DIRECTIVE.match(line)
        if d is None:
            continue
        word, rest = d.group(1), _strip_comment(d.group(2)).strip()
        if word in (b"if", b"ifdef", b"ifndef"):
            if word == b"if":
                value = bool(_evaluate(rest, macros.values))
            else:
                name = rest.split()[0].decode("latin-1") if rest.split() else ""
                value = (name in macros.values or name in macros.bodies) == (word == b"ifdef")
            stack.append((keep and value, value, keep))
            keep = keep and value
        elif word == b"elif" and stack:
            _, taken, parent = stack.pop()
            value = not taken and bool(_evaluate(rest, macros.values))
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
            macros.define(d.group(2).strip())
        elif keep and word == b"undef":
            macros.undefine(rest.decode("latin-1").strip())
        elif keep and word == b"include" and include is not None \
                and depth < _MAX_INCLUDE_DEPTH:
            m = re.match(rb'"([^"]+)"|<([^>]+)>', rest)
            name = (m.group(1) or m.group(2)).decode("latin-1") if m else ""
            found = include(name) if m else None
            path, data = found if isinstance(found, tuple) else (name, found)
            if data is not None and path not in reading:  # its definitions count from here on
                text_kept = _run_directives(
                    repair_utf8(data)[0], macros, include, depth + 1,
                    keep_text=spliced is not None, spliced=spliced, reading=(*reading, path))
                if spliced is None:
                    pass
                elif _has_code(text_kept):  # the first include point that keeps code wins
                    if not spliced.get(path):
                        spliced[path] = _blank_c_comments(text_kept)
                else:  # macros only: no code of its own, but its edits change the includer's
                    spliced.setdefault(path, b"")
    text(raw[pos:])
    return b"".join(out)


MAX_HEADER_BYTES = 1_000_000
_MAX_CABAL_BYTES = 1_000_000
_INCLUDE_DIRS = re.compile(r"^[ \t]*include-dirs[ \t]*:(.*(?:\n[ \t]+[^:\n]*(?=\n|$))*)",
                           re.M | re.I)


def cabal_include_dirs(root: Path, folder: Path) -> list[Path]:
    """The `include-dirs` (every stanza's) of the `.cabal` file(s) in the nearest folder from
    ``folder`` up to ``root`` that has one, as folders inside ``root``."""
    while True:
        try:
            cabals = sorted(p for p in folder.glob("*.cabal") if p.is_file())
        except OSError:
            cabals = []
        if cabals:
            break
        if folder == root or root not in folder.parents:
            return []
        folder = folder.parent
    out: list[Path] = []
    for cabal in cabals:
        try:
            if cabal.stat().st_size > _MAX_CABAL_BYTES:
                continue
            text = cabal.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for m in _INCLUDE_DIRS.finditer(text):
            for d in re.split(r"[\s,]+", re.sub(r"--[^\n]*", "", m.group(1))):
                d = d.strip().strip('"')
                if d and not d.startswith("/") and ".." not in Path(d).parts \
                        and folder / d not in out:
                    out.append(folder / d)
    return out


def header_reader(root: Path, rel: str, texts: Mapping[str, bytes] | None = None
                  ) -> IncludeReader:
    """Reads `#include`d files of the workspace file ``rel`` as cpp would find them with the
    include paths a Cabal package gives: the including file's folder, then each folder up to
    the workspace root and its `include/` folder, then the package's `include-dirs` (from the
    nearest `.cabal` file). Answers (workspace-relative path, bytes), the bytes from ``texts``
    (editors' texts by path) when it holds the file; never outside the root (symlinks
    resolved); None when not found or over ``MAX_HEADER_BYTES``."""
    root = root.resolve()
    start = (root / rel).parent
    cabal_dirs: list[Path] | None = None

    def found(candidate: Path) -> tuple[str, bytes] | None:
        try:
            if not candidate.is_file() or candidate.stat().st_size > MAX_HEADER_BYTES:
                return None
            real = candidate.resolve()
            if root not in real.parents:
                return None
            path = real.relative_to(root).as_posix()
            if texts and path in texts:
                return path, texts[path]
            return path, real.read_bytes()
        except (OSError, ValueError):
            return None

    def read(name: str) -> tuple[str, bytes] | None:
        nonlocal cabal_dirs
        if name.startswith("/") or ".." in Path(name).parts:
            return None
        folder = start
        while True:
            for candidate in (folder / name, folder / "include" / name):
                hit = found(candidate)
                if hit is not None:
                    return hit
            if folder == root or root not in folder.parents:
                break
            folder = folder.parent
        if cabal_dirs is None:
            cabal_dirs = cabal_include_dirs(root, start)
        for folder in cabal_dirs:
            hit = found(folder / name)
            if hit is not None:
                return hit
        return None

    return read


# -- macro expansion ----------------------------------------------------------------------
_MAX_EXPANSION_DEPTH = 16
_MAX_ARGUMENT_LINES = 30


def _expand(text: bytes, macros: _Macros, depth: int = 0,
            hidden: frozenset[str] = frozenset()) -> bytes:
    """``text`` with the defined macros expanded (lines kept: see the module docstring)."""
    pattern = macros.pattern()
    if pattern is None or depth > _MAX_EXPANSION_DEPTH:
        return text
    out: list[bytes] = []
    pos = 0
    for m in pattern.finditer(text):
        if m.start() < pos:
            continue  # inside the arguments of a call just expanded
        name = m.group(1).decode("latin-1")
        if name in hidden or _in_string(text, m.start()):
            continue
        params, body = macros.bodies[name]
        end = m.end()
        if params is not None:
            call = _arguments(text, m.end())
            if call is None:
                continue  # a function-like macro's name without arguments is left alone
            args, end = call
            body = _substitute(body, params, args)
        expansion = _expand(body, macros, depth + 1, hidden | {name})
        out.append(text[pos:m.start()])
        out.append(expansion.replace(b"\n", b" "))
        out.append(b"\n" * text.count(b"\n", m.end(), end))  # the lines the arguments took
        pos = end
    if not out:
        return text
    out.append(text[pos:])
    return b"".join(out)


def _in_string(text: bytes, at: int) -> bool:
    """Is offset ``at`` inside a string literal on its line (an odd number of unescaped
    double quotes before it)?"""
    line_start = text.rfind(b"\n", 0, at) + 1
    before = text[line_start:at].replace(b'\\\\', b"").replace(b'\\"', b"").replace(b"'\"'", b"")
    return before.count(b'"') % 2 == 1


def _arguments(text: bytes, at: int) -> tuple[list[bytes], int] | None:
    """The arguments of a macro call whose `(` follows ``at`` (spaces allowed): split at
    top-level commas, and the offset after the `)`. None without a `(` or a closing `)`
    within a few lines."""
    i = at
    while i < len(text) and text[i] in b" \t":
        i += 1
    if i >= len(text) or text[i] != ord("("):
        return None
    depth, args, start, lines = 0, [], i + 1, 0
    for j in range(i, len(text)):
        ch = text[j]
        if ch == ord("\n"):
            lines += 1
            if lines > _MAX_ARGUMENT_LINES:
                return None
        elif ch in b"([{":
            depth += 1
        elif ch in b")]}":
            depth -= 1
            if depth == 0:
                args.append(text[start:j])
                return [a.strip() for a in args], j + 1
        elif ch == ord(",") and depth == 1:
            args.append(text[start:j])
            start = j + 1
    return None


def _substitute(body: bytes, params: tuple[str, ...], args: list[bytes]) -> bytes:
    """The body with each parameter replaced by its argument (whole identifiers only)."""
    if not params:
        return body
    values = {p.encode("latin-1"): (args[k] if k < len(args) else b"")
              for k, p in enumerate(params)}
    return re.sub(rb"[A-Za-z_]\w*", lambda m: values.get(m.group(0), m.group(0)), body)


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

"""Text mutations of a target definition, one per change kind, with a line map back.

A mutation is one or more *phases*; each phase is a set of edited files plus the GHC flags that
let the type-check continue past the breakage:

- add constructor: ``| ScoutAdded<T>`` after the last constructor; the non-exhaustive matches warn.
- remove constructor / field: phase 1 marks it ``{-# DEPRECATED ... #-}`` so every use outside its
  module warns (a real removal would stop every downstream module); phase 2 really removes it and
  keeps only the errors inside its own module (GHC never warns about deprecations there).
- add field: ``()``-typed field on every constructor, with ``-fdefer-type-errors``.
- change arity / signature: the original clauses are renamed ``scoutOrig_<f>`` and a wrapper with
  one more argument (arity) or an opaque result (signature) takes the name, with deferred errors.
- rename constructor / field: as a removal outside the defining module (deprecation warnings),
  and a real rename inside it (the renamer's errors).
- change field type: the field's type T becomes ``ScoutOpaque (T)`` (below), deferred errors;
  the new type is taken to keep T's class instances, so only uses relying on T itself count.
  When T's last argument is the holder's last type parameter (``m a``), the stand-in stays an
  application to it (``ScoutOpaque m a``), so instances derived over it still derive.
- remove field: from a newtype only the field's *name* can go (it holds exactly one value):
  the selector and record syntax break, positional uses do not.
- add method, two readings: *required* (no default; when the class has a ``MINIMAL`` pragma the
  method joins its formula, so every instance lacking it warns with ``-Wmissing-methods``) and
  *default* (optional, with a default: nothing warns, every instance silently takes the default).
- add superclass: a fresh, instance-less class becomes a superclass; every instance fails
  (deferred "No instance for ... arising from the superclasses").
- change type synonym / type family: the synonym's right-hand side, or every equation and instance
  of the family, becomes ``ScoutOpaque (old)``, a kind-preserving type family with no equations,
  so every place that relied on what the type was stops type-checking (deferred errors). It is
  injective, as a real new type is: a variable that occurs only under it is still determined
  (``parse :: Ord e => Parsec e s a -> ..`` passes its ambiguity check).
- remove export: the item leaves the module's export list.

The stand-in superclass and ``ScoutOpaque`` live in a small helper module written beside the
target module's source root (``ScoutOracleHelpers``) and imported qualified.

Edits are made on the original text; ``LineMap`` maps lines of the edited file back.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from scout.explore.model import (  # noqa: F401  (the readings are re-exported)
    METHOD_DEFAULT,
    METHOD_REQUIRED,
    METHOD_VARIANTS,
    ChangeKind,
)
from scout.explore.refine import surface
from scout.haskell.model import Definition, DefKind, Span

DEFER_TYPE_ERRORS = ("-fdefer-type-errors", "-fdefer-out-of-scope-variables")
# For a real removal inside the defining module: out-of-scope names must stay renamer errors,
# reported all at once; deferred, they would wait for a type-check that renamer errors about
# record fields or constructors prevent. (Deferral flags do not force GHC to re-check.)
RENAMER_ERRORS = ("-fno-defer-out-of-scope-variables",)
SUPPORTED_CHANGES = (
    ChangeKind.ADD_CONSTRUCTOR, ChangeKind.REMOVE_CONSTRUCTOR, ChangeKind.RENAME_CONSTRUCTOR,
    ChangeKind.ADD_FIELD, ChangeKind.REMOVE_FIELD, ChangeKind.RENAME_FIELD,
    ChangeKind.CHANGE_FIELD_TYPE, ChangeKind.CHANGE_ARITY, ChangeKind.CHANGE_SIGNATURE,
    ChangeKind.ADD_METHOD, ChangeKind.ADD_SUPERCLASS, ChangeKind.CHANGE_TYPE_FAMILY,
    ChangeKind.CHANGE_TYPE_SYNONYM, ChangeKind.REMOVE_EXPORT,
)
# The two readings of "add a method" (``Question.variant``), defined with the question:
# required (no default; joins the MINIMAL formula when there is one) or default (optional: a
# default implementation, nothing warns). GHC's answer depends on which one is meant.
HELPER_MODULE = "ScoutOracleHelpers"
HELPER_SOURCE = (
    "{-# LANGUAGE PolyKinds, KindSignatures, TypeFamilies, TypeFamilyDependencies #-}\n"
    "-- Written by scout's oracle into a scratch copy only: a superclass nothing has an\n"
    "-- instance of, and a type family with no equations (a kind-preserving opaque type),\n"
    "-- injective as a real new type is (its arguments follow from it).\n"
    f"module {HELPER_MODULE} (ScoutSuper, ScoutOpaque, ScoutSame) where\n"
    "class ScoutSuper (a :: k)\n"
    "type family ScoutOpaque (x :: k) = (r :: k) | r -> x\n"
    "newtype ScoutSame a = ScoutSame a\n")


class MutationError(Exception):
    """The change cannot be applied to this target as written; the message says why."""


@dataclass(frozen=True, slots=True)
class TextEdit:
    start: int  # character offsets into the original text
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class LineMap:
    """Maps 1-based lines of an edited file to lines of the original.

    ``origin[i]`` is the original line of edited line ``i + 1``: the line of its first
    non-blank character that comes from the original text; negative when the whole line is
    text the mutation inserted (then it holds minus the nearest original line above)."""

    origin: tuple[int, ...]
    original_lines: int

    def to_original(self, line: int) -> tuple[int, bool]:
        """(original line, synthetic?) for a line of the edited file."""
        if 1 <= line <= len(self.origin):
            value = self.origin[line - 1]
            return abs(value), value < 0
        last = abs(self.origin[-1]) if self.origin else 0
        return last + line - len(self.origin), True


@dataclass(frozen=True, slots=True)
class FileEdit:
    path: str  # workspace-relative
    original: str
    mutated: str
    line_map: LineMap


@dataclass(frozen=True, slots=True)
class Phase:
    """One type-check of the mutated workspace.

    ``recheck_dependents``: bump the mtime of every module depending on the edited one, because
    GHC 9.0 does not recompile importers when only a DEPRECATED pragma changed; with
    ``recheck_only_mentioning``, only those whose text contains that name (a module that never
    spells the name cannot use it).
    ``only_paths``: keep only diagnostics in these files. ``message_must_mention``: keep only
    diagnostics whose message matches this regex (e.g. the constructor's name)."""

    edits: tuple[FileEdit, ...]
    flags: tuple[str, ...] = ()
    recheck_dependents: bool = False
    recheck_only_mentioning: str | None = None  # limit that to modules whose text has this name
    only_paths: tuple[str, ...] | None = None
    message_must_mention: str | None = None
    skip_paths: tuple[str, ...] = ()
    ignore_flags: tuple[str, ...] = ()  # diagnostics with these GHC reasons are not sites
    skip_lines: tuple[tuple[str, int, int], ...] = ()  # (path, first, last): not sites there
    # The changed type stands for one that keeps the old type's class instances: a missing
    # instance of the stand-in (``ScoutOpaque``) is no site, unless a literal needs it.
    instances_kept: bool = False
    counts_coverage: bool = True  # modules this phase could not check are reported as skipped
    # After this phase: replace the pattern uses GHC reported for (constructor, arity) and run
    # again, because renamer errors in patterns hide the uses in expressions.
    stub_constructor: tuple[str, int] | None = None
    # After this phase: give the positional patterns of this constructor that GHC rejected for
    # their arity (hard errors, which stop every module downstream) the extra `_`, and run
    # again, so the modules behind them are checked too (``with_padded_patterns``).
    pad_constructor: str | None = None
    pad_first: bool = False  # the extra slot is the first field (records), else the last
    # A hard error in this phase that is no site (not about the changed name: an `.hs-boot`
    # whose roles no longer match, say) means the uses it is there to show were never
    # checked: the modules of ``only_paths`` are then
    # reported as partly checked, so what GHC did not say there is not taken as "no break".
    partial_on_error: bool = False
    purpose: str = ""


@dataclass(frozen=True, slots=True)
class Mutation:
    change: ChangeKind
    target: str
    subject: str | None
    path: str  # the file the target is defined in
    phases: tuple[Phase, ...]
    summary: str  # e.g. "add constructor ScoutAddedShape to Shape"
    grep_names: tuple[str, ...]  # names a grep baseline would search for


# ---------------------------------------------------------------------------------------------
# Text helpers


def offset_of(text: str, line: int, byte_col: int) -> int:
    """Character offset of (1-based line, 0-based byte column) in ``text``."""
    starts = _line_starts(text)
    if not 1 <= line <= len(starts):
        raise MutationError(f"line {line} is outside the file ({len(starts)} lines)")
    start = starts[line - 1]
    end = text.find("\n", start)
    line_text = text[start:] if end < 0 else text[start:end]
    prefix = line_text.encode("utf-8")[:byte_col].decode("utf-8", "ignore")
    return start + len(prefix)


def span_offsets(text: str, span: Span) -> tuple[int, int]:
    return offset_of(text, span.start_line, span.start_col), offset_of(text, span.end_line,
                                                                       span.end_col)


def _line_starts(text: str) -> list[int]:
    starts = [0]
    starts += [m.end() for m in re.finditer("\n", text)]
    if starts[-1] == len(text) and len(starts) > 1:
        starts.pop()
    return starts


def apply_edits(path: str, text: str, edits: Sequence[TextEdit]) -> FileEdit:
    ordered = sorted(edits, key=lambda e: e.start)
    for first, second in zip(ordered, ordered[1:], strict=False):
        if second.start < first.end:
            raise MutationError(f"overlapping edits in {path}")
    # Segments of the edited text: (text, original offset of its first char, or None if new).
    segments: list[tuple[str, int | None]] = []
    cursor = 0
    for e in ordered:
        segments.append((text[cursor:e.start], cursor))
        segments.append((e.text, None))
        cursor = e.end
    segments.append((text[cursor:], cursor))
    mutated = "".join(seg for seg, _ in segments)
    starts = _line_starts(text)
    origin: list[int] = []
    pending_line_origin: int | None = None  # first original non-blank char on the current line
    nearest = 1
    for seg, orig_start in segments:
        for i, ch in enumerate(seg):
            if ch == "\n":
                origin.append(pending_line_origin if pending_line_origin is not None else -nearest)
                pending_line_origin = None
                continue
            if orig_start is not None and pending_line_origin is None and not ch.isspace():
                pending_line_origin = bisect.bisect_right(starts, orig_start + i)
                nearest = pending_line_origin
    if not mutated.endswith("\n"):
        origin.append(pending_line_origin if pending_line_origin is not None else -nearest)
    original_lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    return FileEdit(path, text, mutated, LineMap(tuple(origin), original_lines))


def _word(name: str) -> str:
    return r"(?<![\w'])" + re.escape(name) + r"(?![\w'])"


def _members(members: Sequence[Definition], kind: DefKind, parent: str) -> list[Definition]:
    found = [m for m in members if m.kind == kind and m.parent == parent]
    return sorted(found, key=lambda d: (d.span.start_line, d.span.start_col))


def _decl_text(text: str, d: Definition) -> tuple[int, int, str]:
    start, end = span_offsets(text, d.span)
    return start, end, text[start:end]


def _is_gadt(text: str, type_def: Definition) -> bool:
    _, _, decl = _decl_text(text, type_def)
    head = decl.split("=", 1)[0]
    return bool(re.search(r"\bwhere\b", head))


def _type_head_vars(decl: str, keyword: str, name: str) -> list[str]:
    """Type variables of ``data T a (b :: K)`` / ``class C a b``, in order."""
    m = re.search(keyword + r"\s+(?:.*=>\s*)?" + re.escape(name) + r"\b(.*?)(?:=|\bwhere\b|\||$)",
                  decl, re.S)
    if not m:
        return []
    params = re.sub(r"::[^)]*\)", ")", m.group(1))
    return re.findall(r"(?<![\w'])([a-z_][\w']*)", params)


# ---------------------------------------------------------------------------------------------
# Change kinds


def add_constructor(type_def: Definition, text: str, members: Sequence[Definition]) -> Mutation:
    if type_def.kind == DefKind.NEWTYPE:
        raise MutationError(f"{type_def.name} is a newtype: it has exactly one constructor; make it "
                            "a `data` type before adding a constructor")
    if type_def.kind != DefKind.DATA:
        raise MutationError(f"{type_def.name} is a {type_def.kind}, not a data type: add a "
                            "constructor to a `data` declaration")
    new = f"ScoutAdded{type_def.name}"
    cons = _members(members, DefKind.CONSTRUCTOR, type_def.name)
    if not cons:
        raise MutationError(f"{type_def.name} has no constructors in the index: an empty data type "
                            "cannot be extended by the oracle")
    last = cons[-1]
    _, end = span_offsets(text, last.span)
    if _is_gadt(text, type_def):
        _, _, decl = _decl_text(text, type_def)
        args = " ".join(_type_head_vars(decl, "data", type_def.name))
        line_start = text.rfind("\n", 0, offset_of(text, last.span.start_line, 0) + 1) + 1
        indent = re.match(r"[ \t]*", text[line_start:]).group(0) or "  "
        insert = f"\n{indent}{new} :: {type_def.name}{(' ' + args) if args else ''}"
        end = text.find("\n", end) if text.find("\n", end) >= 0 else len(text)
    else:
        insert = f" | {new}"
    edit = apply_edits(type_def.path, text, [TextEdit(end, end, insert)])
    return Mutation(ChangeKind.ADD_CONSTRUCTOR, type_def.name, new, type_def.path,
                    (Phase((edit,), purpose="non-exhaustive matches warn"),),
                    f"add constructor {new} to {type_def.name}",
                    tuple(c.name for c in cons))


def _deprecate(path: str, text: str, d: Definition) -> FileEdit:
    """``{-# DEPRECATED name .. #-}`` on the line after the declaration of ``d``: in the same
    declaration group (a Template Haskell splice further down starts another one, and a
    pragma there "lacks an accompanying binding", a hard error)."""
    name = d.name
    pragma = f'{{-# DEPRECATED {name} "scout oracle: {name} is being removed" #-}}\n'
    _, last = _declaration_lines(text, d.name_span.start_line)
    starts = _line_starts(text)
    if last < len(starts):
        return apply_edits(path, text, [TextEdit(starts[last], starts[last], pragma)])
    sep = "" if text.endswith("\n") else "\n"
    return apply_edits(path, text, [TextEdit(len(text), len(text), sep + pragma)])


def remove_constructor(type_def: Definition, text: str, members: Sequence[Definition],
                       subject: str | None, *, rename: bool = False) -> Mutation:
    """Remove (or, with ``rename``, rename) one constructor: the uses outside its module from
    deprecation warnings, the uses inside it from the renamer's errors."""
    cons = _members(members, DefKind.CONSTRUCTOR, type_def.name)
    if type_def.kind == DefKind.CONSTRUCTOR:  # the target is the constructor itself
        cons = [type_def]
        subject = type_def.name
    if not cons:
        raise MutationError(f"{type_def.name} has no constructors to remove")
    if subject is None:
        subject = cons[-1].name
    victim = next((c for c in cons if c.name == subject), None)
    if victim is None:
        raise MutationError(f"{subject} is not a constructor of {type_def.name} (constructors: "
                            f"{', '.join(c.name for c in cons)})")
    outside = Phase((_deprecate(victim.path, text, victim),), recheck_dependents=True,
                    recheck_only_mentioning=subject,
                    message_must_mention=r"data constructor\s+\S" + re.escape(subject) + r"\W",
                    purpose="uses outside the defining module (deprecation warnings)")
    phases = [outside]
    start, end = span_offsets(text, victim.span)
    if rename:
        removal = _rename_at(text, victim, f"ScoutRenamed{subject}")
    else:
        clean = _strip_comments_keep_length(text)  # `| -- | Haddock` before a constructor
        bar_before = re.search(r"\|\s*$", clean[:start])
        if bar_before:
            removal = TextEdit(bar_before.start(), end, "")
        else:
            bar_after = re.match(r"\s*\|[ \t]*", clean[end:])
            removal = TextEdit(start, end + bar_after.end() if bar_after else end, "")
    mentions = len(re.findall(_word(subject), text))
    verb = "rename" if rename else "remove"
    if mentions > 1:  # used in its own module beyond the declaration
        phases.append(Phase((apply_edits(victim.path, text, [removal]),), flags=RENAMER_ERRORS,
                            only_paths=(victim.path,), message_must_mention=_word(subject),
                            counts_coverage=False,
                            stub_constructor=(subject, victim.arity or len(victim.fields)),
                            purpose=f"uses inside the defining module ({verb} errors)"))
    change = ChangeKind.RENAME_CONSTRUCTOR if rename else ChangeKind.REMOVE_CONSTRUCTOR
    return Mutation(change, type_def.name if type_def.kind != DefKind.CONSTRUCTOR
                    else (type_def.parent or type_def.name), subject, victim.path, tuple(phases),
                    f"{verb} constructor {subject}", (subject,))


def _rename_at(text: str, d: Definition, new_name: str) -> TextEdit:
    """Replace the name of a definition where it is declared."""
    start, end = span_offsets(text, d.name_span)
    if text[start:end] != d.name:
        raise MutationError(f"cannot find the name {d.name} at its declaration "
                            f"({d.path}:{d.name_span.start_line})")
    return TextEdit(start, end, new_name)


def without_pattern_uses(phase: Phase, spans: Sequence[tuple[int, int, int, int]]) -> Phase | None:
    """The follow-up of an in-module removal: the constructor's pattern occurrences GHC reported
    (``spans``: 1-based line/column, end column exclusive, in the edited text) become a
    stand-in constructor of a fresh type (a deferred type error on a line already reported),
    so the module type-checks far enough to report the uses in expressions."""
    if phase.stub_constructor is None or not spans or len(phase.edits) != 1:
        return None
    name, arity = phase.stub_constructor
    if not re.fullmatch(r"[A-Z][\w']*", name):
        return None  # constructor operators: no stand-in
    edit = phase.edits[0]
    stand_in = f"ScoutStub_{name}"
    text = edit.mutated
    pieces, cursor = [], 0
    for line, start_col, end_line, end_col in sorted(set(spans)):
        if end_line != line:
            continue
        start = offset_of(text, line, 0) + start_col - 1
        end = offset_of(text, line, 0) + end_col - 1
        if start < cursor or not re.fullmatch(r"(?:[A-Z][\w']*\.)*" + re.escape(name),
                                              text[start:end]):
            continue
        pieces += [text[cursor:start], stand_in]
        cursor = end
    if not pieces:
        return None
    pieces.append(text[cursor:])
    fields = " ()" * arity
    declaration = f"data {stand_in} = {stand_in}{fields}\n"
    mutated = "".join(pieces)
    mutated += ("" if mutated.endswith("\n") else "\n") + declaration
    # Same-line replacements and one line appended: the edited lines keep their numbers, so
    # the line map of the removal still applies (the appended line maps as synthetic).
    follow = FileEdit(edit.path, edit.original, mutated, edit.line_map)
    return Phase((follow,), flags=DEFER_TYPE_ERRORS, only_paths=phase.only_paths,
                 message_must_mention=phase.message_must_mention, counts_coverage=False,
                 partial_on_error=True,
                 purpose="uses in expressions inside the defining module")


def with_padded_patterns(phase: Phase, errors: Sequence[tuple[str, int, int]],
                         read: Callable[[str], str]) -> Phase | None:
    """The follow-up of an arity phase: every positional pattern GHC rejected (``errors``: path,
    line and 1-based column where the slot goes: after the constructor's name when the extra
    slot is the first field, else the exclusive end of the pattern) gets one more ``_`` there,
    on the same line, so line numbers do not move; ``read`` gives the original text of a file
    the phase did not edit."""
    if phase.pad_constructor is None or not errors:
        return None
    current = {e.path: e for e in phase.edits}
    by_path: dict[str, list[tuple[int, int]]] = {}
    for path, line, end_col in errors:
        by_path.setdefault(path, []).append((line, end_col))
    edits = dict(current)
    for path, spots in by_path.items():
        base = current.get(path)
        try:
            text = base.mutated if base is not None else read(path)
        except (OSError, UnicodeDecodeError):
            continue
        pieces, cursor = [], 0
        for line, end_col in sorted(set(spots)):
            at = offset_of(text, line, 0) + end_col - 1
            if at < cursor:
                continue
            pieces += [text[cursor:at], " _"]
            cursor = at
        mutated = "".join(pieces) + text[cursor:]
        if base is not None:
            edits[path] = FileEdit(path, base.original, mutated, base.line_map)
        else:
            edits[path] = FileEdit(path, text, mutated, apply_edits(path, text, []).line_map)
    if edits == current:
        return None
    return Phase(tuple(edits.values()), flags=phase.flags, counts_coverage=False,
                 ignore_flags=phase.ignore_flags, pad_constructor=phase.pad_constructor,
                 pad_first=phase.pad_first,
                 purpose=phase.purpose + " (rejected patterns padded)")


def _record_braces(text: str, con: Definition) -> tuple[int, int] | None:
    start, end, decl = _decl_text(text, con)
    decl = _strip_comments_keep_length(decl)  # `{-# UNPACK #-}` is no record brace
    open_at = decl.find("{")
    close_at = decl.rfind("}")
    if open_at < 0 or close_at < open_at:
        return None
    return start + open_at, start + close_at


def _constructors_for_field_change(target: Definition, members: Sequence[Definition]
                                   ) -> list[Definition]:
    if target.kind == DefKind.CONSTRUCTOR:
        return [target]
    if target.kind in (DefKind.DATA, DefKind.NEWTYPE):
        cons = _members(members, DefKind.CONSTRUCTOR, target.name)
        if cons:
            return cons
    raise MutationError(f"{target.name} is a {target.kind}: fields belong to a data type or "
                        "constructor; ask about the type or its constructor")


def _add_slot(text: str, con: Definition, field: str) -> TextEdit:
    """One more ``()`` field on a constructor: named in a record, positional otherwise."""
    braces = _record_braces(text, con)
    if braces:
        # First in the record: after the last field a trailing `-- ^` comment would swallow it.
        inner = _strip_comments_keep_length(text[braces[0] + 1:braces[1]])
        sep = ", " if inner.strip() else " "
        at = braces[0] + 1
        return TextEdit(at, at, f" {field} :: (){sep}")
    _, end, decl = _decl_text(text, con)
    if "::" in decl:
        raise MutationError(f"{con.name} is a GADT constructor: the oracle adds fields to "
                            "Haskell 98 and record constructors only")
    return TextEdit(end, end, " ()")


def add_field(target: Definition, text: str, members: Sequence[Definition]) -> Mutation:
    if target.kind == DefKind.NEWTYPE:
        raise MutationError(f"{target.name} is a newtype: it holds exactly one field; make it "
                            "`data` before adding a field")
    cons = _constructors_for_field_change(target, members)
    type_name = target.parent if target.kind == DefKind.CONSTRUCTOR else target.name
    field = f"scoutAdded{type_name}"
    edits = [_add_slot(text, con, field) for con in cons]
    edit = apply_edits(cons[0].path, text, edits)
    names = tuple(dict.fromkeys([*(c.name for c in cons), *(f for c in cons for f in c.fields)]))
    return Mutation(ChangeKind.ADD_FIELD, target.name, field, cons[0].path,
                    (Phase((edit,), flags=DEFER_TYPE_ERRORS,
                           purpose="constructions and positional patterns break"),),
                    f"add field {field} :: () to {', '.join(c.name for c in cons)}", names)


def _field_of(target: Definition, members: Sequence[Definition],
              subject: str | None) -> Definition:
    if target.kind == DefKind.FIELD:
        return target
    cons = _constructors_for_field_change(target, members)
    fields = [f for c in cons for f in _members(members, DefKind.FIELD, c.name)]
    if not fields:
        raise MutationError(f"{target.name} has no record fields")
    subject = subject or fields[-1].name
    found = [f for f in fields if f.name == subject]
    if not found:
        raise MutationError(f"{subject} is not a record field of {target.name}")
    return found[0]


def rename_field(target: Definition, text: str, members: Sequence[Definition],
                 subject: str | None,
                 record_uses: Sequence[tuple[int, int]] = ()) -> Mutation:
    """Every use of the field's name breaks; positional uses of the constructor do not."""
    field_def = _field_of(target, members, subject)
    name = field_def.name
    phases = [Phase((_deprecate(field_def.path, text, field_def),), recheck_dependents=True,
                    recheck_only_mentioning=name, message_must_mention=_word(name),
                    purpose="uses outside the defining module (deprecation warnings)")]
    if len(re.findall(_word(name), text)) > 1:
        renamed = apply_edits(field_def.path, text,
                              [_rename_at(text, field_def, f"scoutRenamed_{name}")])
        phases.append(Phase((renamed,), flags=RENAMER_ERRORS, only_paths=(field_def.path,),
                            message_must_mention=_word(name), counts_coverage=False,
                            purpose="uses inside the defining module (rename errors)"))
        phases += _field_expression_phase(text, field_def, record_uses)
    return Mutation(ChangeKind.RENAME_FIELD, target.name, name, field_def.path, tuple(phases),
                    f"rename field {name}", (name,))


def change_field_type(target: Definition, text: str, members: Sequence[Definition],
                      subject: str | None) -> Mutation:
    """The field gets a fresh type (deriving the usual stock classes): every construction,
    update, pattern and selector use that relied on the old type breaks, in every module."""
    field_def = _field_of(target, members, subject)
    phase = _positional_phase(text, field_def, counts_coverage=True,
                              last_param=_last_type_param(field_def, members, text),
                              purpose="every use that relied on the field's old type")
    return Mutation(ChangeKind.CHANGE_FIELD_TYPE, target.name, field_def.name, field_def.path,
                    (phase,), f"the type of field {field_def.name} changes", (field_def.name,))


def remove_field(target: Definition, text: str, members: Sequence[Definition],
                 subject: str | None,
                 record_uses: Sequence[tuple[int, int]] = ()) -> Mutation:
    """Remove a record field. From a data constructor the value goes: every use of the name
    breaks, and so does every positional construction and pattern (the arity changes). A
    newtype holds exactly one value, so removing its field can only mean removing the field's
    *name* (``N { f :: T }`` becomes ``N T``): the selector and the record syntax break,
    positional uses (``N x``) do not."""
    field_def = _field_of(target, members, subject)
    subject = field_def.name
    outside = Phase((_deprecate(field_def.path, text, field_def),), recheck_dependents=True,
                    recheck_only_mentioning=subject,
                    message_must_mention=_word(subject),
                    purpose="uses outside the defining module (deprecation warnings)")
    owner = next((c for c in members if c.kind == DefKind.CONSTRUCTOR
                  and c.name == field_def.parent and c.path == field_def.path), None)
    owner_type = owner and next((t for t in members if t.name == owner.parent and t.kind in (
        DefKind.DATA, DefKind.NEWTYPE) and t.path == owner.path), None)
    phases = [outside]
    if owner_type is not None and owner_type.kind == DefKind.NEWTYPE:
        removal = _newtype_unnamed(text, owner, field_def)
        how = f"remove the name of field {subject} ({owner.name} keeps its one value)"
    else:
        removal = _field_removal(text, field_def)
        how = f"remove field {subject}"
        # Positional constructions (`C a b c`) never name the field: with the field's type
        # changed, the uses that relied on its value show.
        phases.append(_positional_phase(
            text, field_def, last_param=_last_type_param(field_def, members, text)))
        if owner is not None:
            # Every positional pattern and construction of the constructor breaks when its
            # arity changes, whatever the value's type: one slot more shows them as one slot
            # fewer would.
            arity = apply_edits(field_def.path, text,
                                [_add_slot(text, owner, f"scoutArity_{subject}")])
            phases.append(Phase((arity,), flags=DEFER_TYPE_ERRORS, counts_coverage=False,
                                ignore_flags=("Opt_WarnMissingFields",),
                                pad_constructor=owner.name,
                                pad_first=_record_braces(text, owner) is not None,
                                purpose="positional patterns and constructions (arity changes)"))
    if len(re.findall(_word(subject), text)) > 1:
        phases.append(Phase((apply_edits(field_def.path, text, removal),), flags=RENAMER_ERRORS,
                            only_paths=(field_def.path,), message_must_mention=_word(subject),
                            counts_coverage=False,
                            purpose="uses inside the defining module (removal errors)"))
        phases += _field_expression_phase(text, field_def, record_uses)
    return Mutation(ChangeKind.REMOVE_FIELD, target.name, subject, field_def.path, tuple(phases),
                    how, (subject,))


def _newtype_unnamed(text: str, con: Definition, field_def: Definition) -> list[TextEdit]:
    """``N { f :: T }`` -> ``N (T)``: the newtype's one field loses its name, keeps its type
    (comments inside the braces, such as a ``-- ^`` Haddock note, go with the name)."""
    braces = _record_braces(text, con)
    if braces is None:
        raise MutationError(f"cannot find the record braces of {con.name}")
    open_at, close_at = braces
    inner = _strip_comments_keep_length(text[open_at + 1:close_at])
    colons = inner.find("::")
    if colons < 0 or field_def.name not in inner[:colons]:
        raise MutationError(f"cannot read the field {field_def.name} of newtype {con.name}")
    field_type = " ".join(inner[colons + 2:].split())
    return [TextEdit(open_at, close_at + 1, f"({field_type})")]


def _field_expression_phase(text: str, field_def: Definition,
                            record_uses: Sequence[tuple[int, int]]) -> list[Phase]:
    """Inside the defining module, a renamed or removed field's record syntax is a renamer
    error, and renamer errors stop GHC before it reports the names used as expressions (the
    selector `f r`, a variable `RecordWildCards` brought): this phase renames the field where
    it is declared and in its record syntax (``record_uses``: 1-based line, 0-based column in
    ``text``; a pun `C {f}` becomes `C {new = f}`), so the rest type-checks and every
    expression use of the old name is reported (deferred out-of-scope variables). Nothing
    when the module has no record syntax to rename and no expression use."""
    name = field_def.name
    new = f"scoutRenamed_{name}"
    edits = [_rename_at(text, field_def, new)]
    for line, col in sorted(set(record_uses)):
        try:
            at = offset_of(text, line, col)
        except MutationError:
            continue
        if text[at:at + len(name)] != name or re.match(r"[\w']", text[at + len(name):][:1]):
            continue  # not the name here (a line the preprocessor rewrote): leave it
        after = text[at + len(name):].lstrip(" \t")
        pun = after[:1] in (",", "}")
        edits.append(TextEdit(at, at + len(name), f"{new} = {name}" if pun else new))
    try:
        renamed = apply_edits(field_def.path, text, edits)
    except MutationError:
        return []
    return [Phase((renamed,), flags=DEFER_TYPE_ERRORS, only_paths=(field_def.path,),
                  message_must_mention=r"not in scope:\s*‘?" + re.escape(name) + r"’?(?![\w'])",
                  counts_coverage=False,
                  purpose="uses as a name (selector, wildcard variable) inside the defining "
                          "module")]


def _last_type_param(field_def: Definition, members: Sequence[Definition],
                     text: str) -> str | None:
    """The last type parameter of the data type or newtype that holds the field, if any."""
    con = next((c for c in members if c.kind == DefKind.CONSTRUCTOR
                and c.name == field_def.parent and c.path == field_def.path), None)
    owner = con and next((t for t in members if t.name == con.parent and t.kind in (
        DefKind.DATA, DefKind.NEWTYPE) and t.path == con.path), None)
    if owner is None:
        return None
    keyword = "newtype" if owner.kind == DefKind.NEWTYPE else "data"
    params = _type_head_vars(_strip_comments_keep_length(_decl_text(text, owner)[2]), keyword,
                             owner.name)
    return params[-1] if params else None


def _opaque_field_type(written: str, last_param: str | None) -> str:
    """The stand-in for a field's new type: ``ScoutOpaque (T)``. When the holder's last type
    parameter ``a`` is the field type's last argument (``m a``, ``[a]``, ``a``), the stand-in
    stays an application to it (``ScoutOpaque m a``), as a real new type would be: derived
    instances over that parameter (``deriving Functor``, newtype-derived ``Monad``) still
    derive, where under the family they would be hard errors hiding the whole module."""
    opaque = f"{HELPER_MODULE}.ScoutOpaque"
    body = written.strip()
    # `forall b. C b => T`: the quantifier and context stay outside (an opaque polytype would
    # be impredicative, a hard error at the declaration that hides the whole module).
    quantified = re.match(r"\(?\s*forall\b[^.]*\.", body)
    if quantified and (not body.startswith("(") or _enclosed(body)):
        inner = body[1:-1] if body.startswith("(") else body
        head = re.match(r"\s*forall\b[^.]*\.", inner)
        rest = inner[head.end():]
        top = surface(rest)
        arrow = next((i for i in range(len(rest) - 1) if top[i] and rest.startswith("=>", i)),
                     -1)
        context = rest[:arrow + 2] if arrow >= 0 else ""
        rest = rest[arrow + 2:] if arrow >= 0 else rest
        return f"({head.group(0).strip()}{context} {_opaque_field_type(rest, None)})"
    if last_param is not None:
        # `(m a)` is `m a`; `(a) (b)` and the tuple `(a, b)` are not one parenthesised type.
        while _enclosed(body) and "," not in "".join(
                ch for ch, top in zip(body[1:-1], surface(body[1:-1]), strict=True) if top):
            body = body[1:-1].strip()
        word = re.compile(r"(?<![\w'])" + re.escape(last_param) + r"(?![\w'])")
        top = surface(body)
        # On the surface: no arrow, context, quantifier or type operator (a qualified name's
        # dot is none), so the type is one application `H t1 .. tn`.
        bare = re.sub(r"(?<=[\w'])\.(?=\w)", "",
                      "".join(ch for ch, t in zip(body, top, strict=True) if t))
        gaps = [i for i, ch in enumerate(body) if top[i] and ch.isspace()]
        if body == last_param:
            return f"({opaque} {HELPER_MODULE}.ScoutSame {body})"
        if _enclosed(body, "[]") and word.search(body[1:-1]):
            return f"({opaque} [] ({body[1:-1].strip()}))"
        if gaps and not re.search(r"[!#$%&*+./<=>?@\\^|~:-]|\bforall\b", bare):
            head, last = body[:gaps[-1]].strip(), body[gaps[-1]:].strip()
            if word.search(last) and not word.search(head):
                return f"({opaque} ({head}) {last})"
    return f"({opaque} ({written}))"


def _enclosed(text: str, brackets: str = "()") -> bool:
    """``text`` is one bracketed group (``(m a)``, not ``(a) (b)`` nor ``(a) -> b``)."""
    return (len(text) >= 2 and text[0] == brackets[0] and text[-1] == brackets[1]
            and not any(surface(text)))


def _positional_phase(text: str, field_def: Definition, *, counts_coverage: bool = False,
                      last_param: str | None = None,
                      purpose: str = "positional constructions and patterns (field type "
                                     "changed)") -> Phase:
    """Give the field a different type, ``ScoutOpaque (T)``: kind-preserving (the type's
    variables keep their kinds) and with no instances, so every construction, pattern and
    selector use that relied on ``T`` stops type-checking (deferred errors). Positional
    constructions (``C a b c``) never name the field: this is how a removal sees them.
    Instances derived on the record itself fail too: an artifact of the stand-in type having
    no instances, so the declaration's own lines are not counted."""
    scan = _strip_comments_keep_length(text)  # a comma in a `-- ^` comment ends nothing
    start = offset_of(text, field_def.name_span.start_line, field_def.name_span.start_col)
    type_at = scan.index("::", start) + 2
    depth, end = 0, len(text)
    for i in range(type_at, len(text)):
        ch = scan[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                end = i
                break
            depth -= 1
        elif ch == "," and depth == 0:
            end = i
            break
    while end > type_at and scan[end - 1].isspace():
        end -= 1
    # Strictness and UNPACK pragmas stay outside: `!(ScoutOpaque (T))`.
    prefix = re.match(r"(?:\s|!|~)*", scan[type_at:end])
    body_at = type_at + (prefix.end() if prefix else 0)
    if body_at >= end:
        raise MutationError(f"cannot read the type of field {field_def.name}")
    opaque = _opaque_field_type(text[body_at:end], last_param)
    name_end = start + len(field_def.name)
    before = re.search(r"(?<=[{,])\s*(?:[a-z_][\w']*\s*,\s*)+$", scan[:start])
    after = re.match(r"(?:\s*,\s*[a-z_][\w']*)+", scan[name_end:type_at - 2])
    if before or after:
        # `a, b, c :: T` with b changing: `a :: T, b :: ScoutOpaque (T), c :: T` (same order).
        list_at = before.start() + len(before.group(0)) - len(before.group(0).lstrip()) \
            if before else start
        names = re.findall(r"[a-z_][\w']*", scan[list_at:type_at - 2])
        typed = [f"{n} :: {text[type_at:body_at].strip()}"
                 f"{opaque if n == field_def.name else text[body_at:end]}" for n in names]
        edits = [TextEdit(list_at, end, ", ".join(typed))]
    else:
        edits = [TextEdit(body_at, end, opaque)]
    edits.append(_import_helpers(text, field_def.path))
    edit = apply_edits(field_def.path, text, edits)
    first, last = _declaration_lines(text, field_def.name_span.start_line)
    # The defining module is read too: its selector uses now return the changed type, while a
    # real removal (the last phase) stops at the first renamer error about a record field.
    return Phase((edit, _helper_edit(field_def)), flags=DEFER_TYPE_ERRORS,
                 counts_coverage=counts_coverage, skip_lines=((field_def.path, first, last),),
                 instances_kept=True, purpose=purpose)


def _declaration_lines(text: str, line: int) -> tuple[int, int]:
    """First and last line of the top-level declaration holding ``line``: from the last line
    starting in column 0 at or above it, to the line before the next one below it."""
    lines = text.split("\n")
    first = line
    while first > 1 and not re.match(r"\S", lines[first - 1]):
        first -= 1
    last = line
    while last < len(lines) and not re.match(r"[^\s-]", lines[last]):
        last += 1
    return first, last


def _field_removal(text: str, field_def: Definition) -> list[TextEdit]:
    """Delete one field from ``{ a, b :: T, c :: U }`` keeping the others well-formed."""
    name_at = offset_of(text, field_def.name_span.start_line, field_def.name_span.start_col)
    text = _strip_comments_keep_length(text)  # offsets unchanged; commas in comments ignored
    open_at = text.rfind("{", 0, name_at)
    depth, close_at = 0, -1
    for i in range(open_at, len(text)):
        ch = text[i]
        depth += ch in "{([" and 1 or 0
        depth -= ch in "})]" and 1 or 0
        if depth == 0:
            close_at = i
            break
    if open_at < 0 or close_at < 0:
        raise MutationError(f"cannot find the record braces around field {field_def.name}")
    # Segments between depth-1 commas.
    segments: list[tuple[int, int]] = []
    depth, seg_start = 0, open_at + 1
    for i in range(open_at + 1, close_at):
        ch = text[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            segments.append((seg_start, i))
            seg_start = i + 1
    segments.append((seg_start, close_at))
    index = next((k for k, (a, b) in enumerate(segments) if a <= name_at < b), None)
    if index is None:
        raise MutationError(f"cannot locate field {field_def.name} in its record")
    a, b = segments[index]
    has_type = "::" in text[a:b]
    if not has_type:  # `f, g :: T`: drop `f,`
        return [TextEdit(a, segments[index + 1][0], "")]
    if index > 0 and "::" not in text[segments[index - 1][0]:segments[index - 1][1]]:
        # `e, f :: T`: drop `, f` and keep the shared type.
        return [TextEdit(segments[index - 1][1], text.index("::", a), " ")]
    if index > 0:
        return [TextEdit(segments[index - 1][1], len(text[:b].rstrip()), "")]
    if len(segments) > 1:
        return [TextEdit(a, segments[1][0], "")]
    return [TextEdit(a, b, " ")]


def _function_edits(fn: Definition, text: str, wrapper: str) -> FileEdit:
    if fn.kind != DefKind.FUNCTION:
        raise MutationError(f"{fn.name} is a {fn.kind}: arity and signature changes apply to "
                            "functions")
    if fn.parent is not None:
        raise MutationError(f"{fn.name} is defined inside {fn.parent}: the oracle changes "
                            "top-level functions only")
    if not re.fullmatch(r"[a-z_][\w']*", fn.name):
        raise MutationError(f"{fn.name} is an operator: the oracle changes named functions only")
    name_re = re.compile(r"^" + re.escape(fn.name) + r"(?![\w'])", re.M)
    # `f, g :: T` with the target after the first name: renaming g's clauses would leave T
    # on the wrapper, and its callers would see no change at all
    shared = re.compile(r"^(?:[a-z_][\w']*\s*,\s*)+" + re.escape(fn.name) + r"(?![\w'])\s*[,:]",
                        re.M)
    if shared.search(text):
        raise MutationError(f"{fn.name} shares a type signature with other names: split "
                            "the signature first")
    edits: list[TextEdit] = []
    for m in name_re.finditer(text):
        rest = text[m.end():text.find("\n", m.end()) if "\n" in text[m.end():] else len(text)]
        if re.match(r"\s*,", rest):
            raise MutationError(f"{fn.name} shares a type signature with other names: split "
                                "the signature first")
        edits.append(TextEdit(m.start(), m.end(), f"scoutOrig_{fn.name}"))
    if not edits:
        raise MutationError(f"no top-level clause of {fn.name} starts a line in {fn.path}")
    end_line_end = text.find("\n", offset_of(text, fn.span.end_line, 0))
    at = len(text) if end_line_end < 0 else end_line_end
    last_clause = max(e.end for e in edits)
    at = max(at, text.find("\n", last_clause) if text.find("\n", last_clause) >= 0 else len(text))
    edits.append(TextEdit(at, at, "\n" + wrapper))
    return apply_edits(fn.path, text, edits)


def change_arity(fn: Definition, text: str) -> Mutation:
    wrapper = f"{fn.name} _scoutExtraArgument = scoutOrig_{fn.name}"
    edit = _function_edits(fn, text, wrapper)
    return Mutation(ChangeKind.CHANGE_ARITY, fn.name, None, fn.path,
                    (Phase((edit,), flags=DEFER_TYPE_ERRORS,
                           purpose="calls and partial applications break"),),
                    f"{fn.name} takes one more (first) argument", (fn.name,))


def change_signature(fn: Definition, text: str) -> Mutation:
    box = f"ScoutChanged_{fn.name}"
    wrapper = f"newtype {box} a = {box} a\n{fn.name} = {box} scoutOrig_{fn.name}"
    edit = _function_edits(fn, text, wrapper)
    return Mutation(ChangeKind.CHANGE_SIGNATURE, fn.name, None, fn.path,
                    (Phase((edit,), flags=DEFER_TYPE_ERRORS,
                           purpose="every use of the old type breaks"),),
                    f"the type of {fn.name} changes", (fn.name,))


def _class_head(cls: Definition, text: str, why: str) -> tuple[int, int, str, list[str]]:
    """(start, end, text) of a class declaration and its type variables, or a MutationError."""
    if cls.kind != DefKind.CLASS:
        raise MutationError(f"{cls.name} is a {cls.kind}, not a class: {why}")
    start, end, decl = _decl_text(text, cls)
    params = _type_head_vars(decl, "class", cls.name)
    if not params:
        raise MutationError(f"cannot read the type variables of class {cls.name}")
    return start, end, decl, params


def add_method(cls: Definition, text: str, variant: str | None = None) -> Mutation:
    """Add a method to a class, in one of two readings (``variant``): ``required`` (default:
    no default implementation; a ``MINIMAL`` pragma, when the class has one, gets the method
    added to its formula, otherwise GHC would accept every instance without it) or ``default``
    (optional, with a default implementation: every instance compiles and silently takes it)."""
    variant = variant or METHOD_REQUIRED
    if variant not in METHOD_VARIANTS:
        raise MutationError(f"unknown reading {variant!r} of adding a method: use one of "
                            f"{', '.join(METHOD_VARIANTS)}")
    start, end, decl, params = _class_head(cls, text, "methods are added to classes")
    method = f"scoutAdded{cls.name}"
    # `p a -> q b -> ()`: mentions every class variable, whatever its kind, without imports.
    wrappers = [f"scoutP{i} {v}" for i, v in enumerate(params)]
    signature = f"{method} :: {' -> '.join(wrappers)} -> ()"
    head = re.search(r"\bwhere\b", _strip_comments_keep_length(decl))
    body_lines = [ln for ln in decl[head.end():].splitlines() if ln.strip()] if head else []
    indent = (re.match(r"[ \t]*", body_lines[0]).group(0) or "  ") if body_lines else "  "
    members = [signature]
    if variant == METHOD_DEFAULT:
        members.append(f"{method} = {method}")  # a default that needs nothing in scope
    lines = "".join(f"\n{indent}{m}" for m in members)
    edits = [TextEdit(end, end, lines if head else " where" + lines)]
    minimal = re.search(r"\{-#\s*MINIMAL\b(.*?)#-\}", decl, re.S)
    if variant == METHOD_REQUIRED and minimal is not None:
        formula = minimal.group(1).strip()
        joined = f"({formula}), {method}" if formula else method
        edits.append(TextEdit(start + minimal.start(1), start + minimal.end(1), f" {joined} "))
        how = f"without default, joining the MINIMAL formula of {cls.name}"
    elif variant == METHOD_REQUIRED:
        how = f"without default to {cls.name}"
    else:
        how = f"with a default to {cls.name}"
    edit = apply_edits(cls.path, text, edits)
    purpose = ("instances without the method warn" if variant == METHOD_REQUIRED
               else "instances take the default: nothing should warn")
    return Mutation(ChangeKind.ADD_METHOD, cls.name, method, cls.path,
                    (Phase((edit,), purpose=purpose),), f"add method {method} {how}",
                    (cls.name,))


def helper_module_path(d: Definition) -> str:
    """Where the helper module goes: the source root of the module defining ``d``."""
    stem = d.path.rsplit(".", 1)[0]
    tail = (d.module or "").replace(".", "/")
    if tail and (stem == tail or stem.endswith("/" + tail)):
        root = stem[: len(stem) - len(tail)].rstrip("/")
    else:
        root = d.path.rpartition("/")[0]
    return f"{root}/{HELPER_MODULE}.hs" if root else f"{HELPER_MODULE}.hs"


def _helper_edit(d: Definition) -> FileEdit:
    return apply_edits(helper_module_path(d), "", [TextEdit(0, 0, HELPER_SOURCE)])


def _import_helpers(text: str, path: str) -> TextEdit:
    """``import qualified ScoutOracleHelpers`` as a line of its own before the first import (or
    after the module header): the import is qualified, so it clashes with nothing."""
    clean = _strip_comments_keep_length(text)
    first_import = re.search(r"^import\b", clean, re.M)
    line = f"import qualified {HELPER_MODULE}\n"
    if first_import:
        # Not inside a preprocessor conditional (`#if !MIN_VERSION_base(4,8,0)` around an
        # import): the branch may be dropped. Before the outermost one still open there.
        opened: list[int] = []
        for m in re.finditer(r"^[ \t]*#[ \t]*(if|ifdef|ifndef|endif)\b", clean[:first_import.start()],
                             re.M):
            if m.group(1) == "endif":
                if opened:
                    opened.pop()
            else:
                opened.append(m.start())
        at = opened[0] if opened else first_import.start()
        return TextEdit(at, at, line)
    header = re.search(r"^module\s+[A-Z][\w.']*", clean, re.M)
    where = re.compile(r"\bwhere\b").search(clean, header.end()) if header else None
    if where is None:
        raise MutationError(f"{path} has neither a module header nor imports: the oracle "
                            "cannot add the import it needs")
    eol = clean.find("\n", where.end())
    at = len(text) if eol < 0 else eol + 1
    return TextEdit(at, at, line if eol >= 0 else "\n" + line)


def _pragma_at_top(pragma: str) -> TextEdit:
    return TextEdit(0, 0, f"{{-# LANGUAGE {pragma} #-}}\n")


def _depth0(text: str, start: int, end: int, token: str) -> int:
    """Offset of ``token`` at bracket depth 0 in ``text[start:end]`` (comments stripped), or -1."""
    clean = _strip_comments_keep_length(text[start:end])
    depth = 0
    for i, ch in enumerate(clean):
        if depth == 0 and clean.startswith(token, i) and not (
                token == "=" and (clean[i + 1:i + 2] in ("=", ">")
                                  or clean[i - 1:i] in ("=", "<", ">", "/"))):
            return start + i
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
    return -1


def _wrap_opaque(text: str, rhs_start: int, rhs_end: int) -> list[TextEdit]:
    """``RHS`` -> ``ScoutOracleHelpers.ScoutOpaque (RHS)``, leaving trailing comments outside."""
    clean = _strip_comments_keep_length(text[rhs_start:rhs_end])
    body = clean.rstrip()
    lead = len(clean) - len(clean.lstrip())
    if not body.strip():
        raise MutationError("an empty right-hand side cannot be changed")
    return [TextEdit(rhs_start + lead, rhs_start + lead, f"{HELPER_MODULE}.ScoutOpaque ("),
            TextEdit(rhs_start + len(body), rhs_start + len(body), ")")]


def add_superclass(cls: Definition, text: str) -> Mutation:
    """A fresh superclass nothing has an instance of: every instance of the class breaks."""
    start, end, decl, params = _class_head(cls, text, "superclasses belong to classes")
    clean = _strip_comments_keep_length(decl)
    head_end = re.search(r"\bwhere\b|\|", clean)
    head_end_at = start + (head_end.start() if head_end else len(decl))
    keyword = re.match(r"\s*class\b", clean)
    if keyword is None:
        raise MutationError(f"cannot find the `class` keyword of {cls.name}")
    after_kw = start + keyword.end()
    arrow = _depth0(text, after_kw, head_end_at, "=>")
    constraint = f"{HELPER_MODULE}.ScoutSuper {params[0]}"
    edits = [_import_helpers(text, cls.path)]
    if arrow < 0:
        edits.append(TextEdit(after_kw, after_kw, f" {constraint} =>"))
    else:
        ctx = text[after_kw:arrow]
        inner = ctx.strip()
        if inner.startswith("(") and _depth0(text, after_kw + ctx.index("(") + 1, arrow,
                                             ")") == after_kw + len(ctx.rstrip()) - 1:
            at = after_kw + ctx.index("(") + 1
            sep = ", " if inner[1:-1].strip() else ""
            edits.append(TextEdit(at, at, f"{constraint}{sep}"))
        else:
            lead = len(ctx) - len(ctx.lstrip())
            edits += [TextEdit(after_kw + lead, after_kw + lead, f"({constraint}, "),
                      TextEdit(after_kw + len(ctx.rstrip()), after_kw + len(ctx.rstrip()), ")")]
    edit = apply_edits(cls.path, text, edits)
    return Mutation(ChangeKind.ADD_SUPERCLASS, cls.name, "ScoutSuper", cls.path,
                    (Phase((edit, _helper_edit(cls)), flags=DEFER_TYPE_ERRORS,
                           purpose="every instance needs an instance of the new superclass"),),
                    f"add a superclass (with no instances) to {cls.name}", (cls.name,))


def change_type_synonym(syn: Definition, text: str) -> Mutation:
    """The synonym stands for an opaque type of the same kind: every place that relied on what
    it expanded to stops type-checking."""
    if syn.kind != DefKind.TYPE_SYNONYM:
        raise MutationError(f"{syn.name} is a {syn.kind}, not a type synonym")
    start, end = span_offsets(text, syn.span)
    name_end = span_offsets(text, syn.name_span)[1]
    eq = _depth0(text, name_end, end, "=")
    if eq < 0:
        raise MutationError(f"cannot find the `=` of type synonym {syn.name}")
    rhs_at = eq + 1
    # `type C m r = forall o. Monad m => T o m r`: the quantifier and the context stay
    # outside (an opaque polytype would be impredicative).
    rhs = _strip_comments_keep_length(text[rhs_at:end])
    forall = re.match(r"\s*forall\b[^.]*\.", rhs)
    if forall:
        rhs_at += forall.end()
    arrow = _depth0(text, rhs_at, end, "=>")
    if arrow >= 0:
        rhs_at = arrow + 2
    edits = [_import_helpers(text, syn.path), *_wrap_opaque(text, rhs_at, end)]
    edit = apply_edits(syn.path, text, edits)
    return Mutation(ChangeKind.CHANGE_TYPE_SYNONYM, syn.name, None, syn.path,
                    (Phase((edit, _helper_edit(syn)), flags=DEFER_TYPE_ERRORS,
                           instances_kept=True,
                           purpose="every use that relied on the expansion breaks"),),
                    f"type {syn.name} stands for a different type", (syn.name,))


def _equation_rhs(text: str, name: str, region: tuple[int, int], heads: str) -> list[TextEdit]:
    """Wrap the right-hand side of every equation in ``text[region]`` whose line matches
    ``heads`` (a regex anchored at the start of a line, after the indentation)."""
    a, b = region
    clean = _strip_comments_keep_length(text)
    edits: list[TextEdit] = []
    starts = [a + m.end(1) for m in re.finditer(r"^([ \t]*)" + heads, clean[a:b], re.M)]
    for k, eq_start in enumerate(starts):
        line_start = clean.rfind("\n", 0, eq_start) + 1
        indent = eq_start - line_start
        # The equation ends where a line starts at its indentation or less (or the region ends).
        stop = b
        for m in re.finditer(r"\n([ \t]*)(\S)", clean[eq_start:b]):
            if len(m.group(1)) <= indent:
                stop = eq_start + m.start()
                break
        if k + 1 < len(starts):
            stop = min(stop, starts[k + 1])
        eq = _depth0(text, eq_start, stop, "=")
        if eq < 0:
            continue  # a declaration without a right-hand side (`type F a` in a class)
        edits += _wrap_opaque(text, eq + 1, stop)
    return edits


def change_type_family(fam: Definition, text: str, sources: dict[str, str]) -> Mutation:
    """Every equation of the family (closed equations, ``type instance``s, associated instances
    and defaults, in every file) now yields an opaque type: whatever relied on a reduction
    breaks. ``sources``: path -> text of the other files that mention the family."""
    if fam.kind == DefKind.DATA_FAMILY:
        raise MutationError(f"{fam.name} is a data family: the oracle changes type families "
                            "(their equations), not data instances")
    if fam.kind != DefKind.TYPE_FAMILY:
        raise MutationError(f"{fam.name} is a {fam.kind}, not a type family")
    start, end = span_offsets(text, fam.span)
    head = re.split(r"\bwhere\b", _strip_comments_keep_length(text[start:end]), maxsplit=1)[0]
    if re.search(r"=\s*\(?\s*[a-z_][\w']*[^|=]*\|\s*[a-z_][\w']*(?:\s+[a-z_][\w']*)*\s*->",
                 head):
        raise MutationError(f"{fam.name} is an injective type family: an opaque stand-in for "
                            "its equations would only violate the injectivity annotation (an "
                            "error at every equation, hiding the code that uses it), so the "
                            "oracle cannot model this change")
    name = re.escape(fam.name)
    edits: list[FileEdit] = []
    for path, body in sorted({**sources, fam.path: text}.items()):
        file_edits: list[TextEdit] = []
        if path == fam.path:
            start, end = span_offsets(body, fam.span)
            decl = _strip_comments_keep_length(body[start:end])
            where = re.search(r"\bwhere\b", decl)
            if re.match(r"\s*type\s+family\b", decl) and where:  # closed: equations inside
                file_edits += _equation_rhs(body, fam.name, (start + where.end(), end),
                                            r"(?:[A-Z][\w.']*\.)?" + name + r"(?![\w'])")
        # `type instance F ..= ..` and associated instances/defaults `type F .. = ..`
        # (`type family F` does not match: the name must follow `type` or `type instance`).
        heads = r"type\s+(?:instance\s+)?(?:[A-Z][\w.']*\.)?" + name + r"(?![\w'])"
        file_edits += _equation_rhs(body, fam.name, (0, len(body)), heads)
        if not file_edits:
            continue
        file_edits += [_pragma_at_top("UndecidableInstances"), _import_helpers(body, path)]
        edits.append(apply_edits(path, body, _dedupe(file_edits)))
    if not edits:
        raise MutationError(f"type family {fam.name} has no equations or instances in the "
                            "workspace: changing it breaks nothing the oracle can see")
    return Mutation(ChangeKind.CHANGE_TYPE_FAMILY, fam.name, None, fam.path,
                    (Phase((*edits, _helper_edit(fam)), flags=DEFER_TYPE_ERRORS,
                           instances_kept=True,
                           purpose="whatever relied on the family's reductions breaks"),),
                    f"every equation of {fam.name} yields a different type", (fam.name,))


def _dedupe(edits: list[TextEdit]) -> list[TextEdit]:
    return sorted(set(edits), key=lambda e: (e.start, e.end, e.text))


def _strip_comments_keep_length(text: str) -> str:
    out = re.sub(r"\{-.*?-\}", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text, flags=re.S)
    return re.sub(r"--[^\n]*", lambda m: " " * len(m.group(0)), out)


def remove_export(target: Definition, text: str) -> Mutation:
    clean = _strip_comments_keep_length(text)
    header = re.search(r"^module\s+[A-Z][\w.']*\s*", clean, re.M)
    if not header or not clean[header.end():].startswith("("):
        raise MutationError(f"module {target.module} has no export list (it exports everything): "
                            "add an export list before asking what removing an export breaks")
    open_at = header.end()
    depth, items, item_start, close_at = 0, [], open_at + 1, -1
    for i in range(open_at, len(clean)):
        ch = clean[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                close_at = i
                items.append((item_start, i))
                break
        elif ch == "," and depth == 1:
            items.append((item_start, i))
            item_start = i + 1
    if close_at < 0:
        raise MutationError(f"cannot read the export list of {target.module}")
    head_re = re.compile(r"\s*(?:type\s+|pattern\s+)?\(?\s*([^\s(),]+)")
    hits = [k for k, (a, b) in enumerate(items)
            if (m := head_re.match(clean[a:b])) and m.group(1) == target.name]
    if not hits:
        inside = re.search(r"\(\s*[^)]*" + _word(target.name), clean[open_at + 1:close_at])
        where = " (it is exported as part of a type's or class's item)" if inside else ""
        raise MutationError(f"{target.name} is not an item of {target.module}'s export list"
                            f"{where}")
    edits = []
    for k in hits:
        a, b = items[k]
        if k + 1 < len(items):
            edits.append(TextEdit(a, items[k + 1][0], ""))  # the item and its comma
        elif k > 0:
            edits.append(TextEdit(items[k - 1][1], b, ""))
        else:
            edits.append(TextEdit(a, b, ""))
    edit = apply_edits(target.path, text, edits)
    return Mutation(ChangeKind.REMOVE_EXPORT, target.name, None, target.path,
                    (Phase((edit,), flags=DEFER_TYPE_ERRORS,
                           purpose="importers lose the name"),),
                    f"{target.module} stops exporting {target.name}", (target.name,))


def plan_mutation(change: ChangeKind, target: Definition, text: str,
                  members: Sequence[Definition] = (), subject: str | None = None,
                  variant: str | None = None,
                  sources: dict[str, str] | None = None,
                  record_uses: Sequence[tuple[int, int]] = ()) -> Mutation:
    """The mutation for a change kind. ``members``: the target's constructors and fields (for
    types), as the index returns them; ``subject``: which constructor/field, when it matters;
    ``variant``: the reading of adding a method (``required`` or ``default``); ``sources``:
    the other files a type family's instances may live in (path -> text); ``record_uses``:
    where the field's name is used in record syntax in its own file (line, column)."""
    if change == ChangeKind.ADD_CONSTRUCTOR:
        return add_constructor(target, text, members)
    if change in (ChangeKind.REMOVE_CONSTRUCTOR, ChangeKind.RENAME_CONSTRUCTOR):
        return remove_constructor(target, text, members, subject,
                                  rename=change == ChangeKind.RENAME_CONSTRUCTOR)
    if change == ChangeKind.ADD_FIELD:
        return add_field(target, text, members)
    if change == ChangeKind.REMOVE_FIELD:
        return remove_field(target, text, members, subject, record_uses)
    if change == ChangeKind.RENAME_FIELD:
        return rename_field(target, text, members, subject, record_uses)
    if change == ChangeKind.CHANGE_FIELD_TYPE:
        return change_field_type(target, text, members, subject)
    if change == ChangeKind.CHANGE_ARITY:
        return change_arity(target, text)
    if change == ChangeKind.CHANGE_SIGNATURE:
        return change_signature(target, text)
    if change == ChangeKind.ADD_METHOD:
        return add_method(target, text, variant)
    if change == ChangeKind.ADD_SUPERCLASS:
        return add_superclass(target, text)
    if change == ChangeKind.CHANGE_TYPE_SYNONYM:
        return change_type_synonym(target, text)
    if change == ChangeKind.CHANGE_TYPE_FAMILY:
        return change_type_family(target, text, dict(sources or {}))
    if change == ChangeKind.REMOVE_EXPORT:
        return remove_export(target, text)
    raise MutationError(_unsupported(change))


def _unsupported(change: ChangeKind) -> str:
    return (f"the oracle cannot verify '{change}' yet; it supports: "
            f"{', '.join(c.value for c in SUPPORTED_CHANGES)}")

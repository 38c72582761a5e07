"""From a target name to the mutation to try, through the project's one target resolver.

The definition comes from ``scout.explore.resolve`` (the resolver ``scout query`` and the language
server use), so ``scout oracle``, ``scout eval`` and ``scout query`` always change the same
definition for the same question. This module only adds what a text mutation needs: the
target's constructors and fields, its file's text and, for a type family, the other files that
mention it.
"""

from __future__ import annotations

from dataclasses import dataclass

from scout.explore.model import ChangeKind, Question
from scout.explore.resolve import ExploreError
from scout.explore.resolve import resolve_target as resolve_definition
from scout.haskell.index import WorkspaceIndex
from scout.haskell.model import Definition, DefKind, Role
from scout.oracle.mutate import SUPPORTED_CHANGES, Mutation, MutationError, plan_mutation


class TargetError(MutationError):
    """The target name does not resolve to one definition the change applies to."""


@dataclass(frozen=True, slots=True)
class ResolvedTarget:
    definition: Definition
    # The file's data types and newtypes, constructors and fields (a field's owner type decides
    # what removing it means).
    members: tuple[Definition, ...]
    text: str


def resolve_target(index: WorkspaceIndex, name: str, change: ChangeKind,
                   subject: str | None = None) -> ResolvedTarget:
    if change not in SUPPORTED_CHANGES:
        raise TargetError(f"the oracle cannot verify '{change}': it supports "
                          f"{', '.join(c.value for c in SUPPORTED_CHANGES)}")
    question = Question(text=f"{change.value} {name}", target=name, change=change, tags=(),
                        subject=subject)
    try:
        target = resolve_definition(index, question)
    except ExploreError as exc:
        raise TargetError(str(exc)) from exc
    fi = index.files[target.path]
    members = tuple(d for d in fi.definitions if d.kind in (
        DefKind.DATA, DefKind.NEWTYPE, DefKind.CONSTRUCTOR, DefKind.FIELD))
    try:
        text = (index.root / target.path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TargetError(f"cannot read {target.path}: {exc}") from exc
    return ResolvedTarget(target, members, text)


def mutation_for(index: WorkspaceIndex, name: str, change: ChangeKind,
                 subject: str | None = None, variant: str | None = None) -> Mutation:
    resolved = resolve_target(index, name, change, subject)
    target = resolved.definition
    sources: dict[str, str] = {}
    if change is ChangeKind.CHANGE_TYPE_FAMILY:
        for path in index.files_referencing(target.name):
            if path != target.path:
                try:
                    sources[path] = (index.root / path).read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError):
                    continue  # a file GHC reads but we cannot: its instances stay unchanged
    record_uses: list[tuple[int, int]] = []
    if change in (ChangeKind.RENAME_FIELD, ChangeKind.REMOVE_FIELD):
        field = next((m for m in resolved.members if m.kind is DefKind.FIELD
                      and m.name == (subject or target.name)), None)
        if field is not None:
            record_uses = [(r.line, r.col) for r in
                           index.files[field.path].references.lookup(field.name, field.path)
                           if r.role in (Role.RECORD_CONSTRUCT, Role.RECORD_UPDATE,
                                         Role.RECORD_PATTERN)]
    return plan_mutation(change, target, resolved.text, resolved.members, subject, variant,
                         sources, record_uses)

"""Resolve a target name through the workspace index into the mutation to try."""

from __future__ import annotations

from dataclasses import dataclass

from scout.explore.model import ChangeKind
from scout.haskell.index import WorkspaceIndex
from scout.haskell.model import Definition, DefKind
from scout.oracle.mutate import Mutation, MutationError, plan_mutation

TYPE_KINDS = (DefKind.DATA, DefKind.NEWTYPE)
EXPORTABLE = (DefKind.FUNCTION, DefKind.DATA, DefKind.NEWTYPE, DefKind.CLASS,
              DefKind.TYPE_SYNONYM, DefKind.TYPE_FAMILY, DefKind.DATA_FAMILY,
              DefKind.PATTERN_SYNONYM)

_WANTED: dict[ChangeKind, tuple[DefKind, ...]] = {
    ChangeKind.ADD_CONSTRUCTOR: (*TYPE_KINDS, DefKind.CONSTRUCTOR),
    ChangeKind.REMOVE_CONSTRUCTOR: (DefKind.CONSTRUCTOR, *TYPE_KINDS),
    ChangeKind.ADD_FIELD: (*TYPE_KINDS, DefKind.CONSTRUCTOR),
    ChangeKind.REMOVE_FIELD: (DefKind.FIELD, *TYPE_KINDS, DefKind.CONSTRUCTOR),
    ChangeKind.CHANGE_ARITY: (DefKind.FUNCTION,),
    ChangeKind.CHANGE_SIGNATURE: (DefKind.FUNCTION,),
    ChangeKind.ADD_METHOD: (DefKind.CLASS,),
    ChangeKind.REMOVE_EXPORT: EXPORTABLE,
}


class TargetError(MutationError):
    """The target name does not resolve to one definition the change applies to."""


@dataclass(frozen=True, slots=True)
class ResolvedTarget:
    definition: Definition
    members: tuple[Definition, ...]  # constructors and their fields, for types
    text: str


def resolve_target(index: WorkspaceIndex, name: str, change: ChangeKind) -> ResolvedTarget:
    module, _, bare = name.rpartition(".") if "." in name and name[0].isupper() else ("", "", name)
    if module and not bare:
        module, bare = "", name
    wanted = _WANTED.get(change)
    if wanted is None:
        raise TargetError(f"the oracle cannot verify '{change}'")
    found = [d for d in index.definitions(bare, wanted) if not module or d.module == module]
    if change in (ChangeKind.CHANGE_ARITY, ChangeKind.CHANGE_SIGNATURE):
        found = [d for d in found if d.parent is None]
    if not found:
        others = sorted({str(d.kind) for d in index.definitions(bare)})
        hint = f" (it is a {', '.join(others)})" if others else " (no definition in the index)"
        raise TargetError(f"{name} is not something '{change}' applies to{hint}: expected a "
                          f"{' or '.join(k.value for k in wanted)}")
    # Prefer the kind listed first: `Config` the type over `Config` the constructor.
    found.sort(key=lambda d: (wanted.index(d.kind), d.path, d.span.start_line))
    best = [d for d in found if d.kind == found[0].kind]
    if len({(d.module, d.path) for d in best}) > 1:
        where = ", ".join(f"{d.module}.{d.name} ({d.path}:{d.span.start_line})" for d in best)
        raise TargetError(f"{name} is defined in several modules: {where}; qualify it "
                          "(Module.Name)")
    target = best[0]
    if target.kind == DefKind.CONSTRUCTOR and change in (ChangeKind.ADD_CONSTRUCTOR,):
        parent = [d for d in index.definitions(target.parent or "", TYPE_KINDS)
                  if d.path == target.path]
        if parent:
            target = parent[0]
    fi = index.files[target.path]
    members = tuple(d for d in fi.definitions if d.kind in (DefKind.CONSTRUCTOR, DefKind.FIELD))
    text = (index.root / target.path).read_text(encoding="utf-8")
    return ResolvedTarget(target, members, text)


def mutation_for(index: WorkspaceIndex, name: str, change: ChangeKind,
                 subject: str | None = None) -> Mutation:
    resolved = resolve_target(index, name, change)
    return plan_mutation(change, resolved.definition, resolved.text, resolved.members, subject)

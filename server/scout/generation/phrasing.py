"""Question texts the way people type them, for a structured reading the generator intends.

Every change kind has several phrasings: full questions and terse notes, with and without a
question mark, capitalised or not, names bare or in backticks, the type named or only the
member. ``{t}`` is the target as the question names it, ``{s}`` the member (constructor, field)
and ``{m}`` the target's module. The generator keeps the structured reading next to the text, so
when question understanding reads a text differently the misread is counted, not mislabelled.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from scout.explore.model import ChangeKind

C = ChangeKind

PHRASINGS: dict[ChangeKind, tuple[str, ...]] = {
    C.ADD_CONSTRUCTOR: (
        "What breaks if I add a variant to {t}?",
        "what breaks if i add a constructor to {t}",
        "If I add a new constructor to `{t}`, what needs updating?",
        "adding a case to {t} - what breaks?",
        "impact of adding a new alternative to {t}",
        "add a constructor to {t}",
        "is it safe to add another constructor to {t}?",
        "I want to extend {t} with one more constructor. Which code breaks?",
        "what do I need to change if {t} gets a new constructor",
        "new variant in {t}: what breaks",
    ),
    C.REMOVE_CONSTRUCTOR: (
        "What breaks if I remove the {s} constructor?",
        "remove {s} from {t}",
        "what breaks if I delete the constructor {s} of {t}",
        "drop the {s} case from {t} - what breaks?",
        "is it safe to remove the {s} constructor?",
        "if we get rid of constructor {s}, what fails to compile",
        "What breaks if I remove the constructor `{s}` from `{t}`?",
    ),
    C.RENAME_CONSTRUCTOR: (
        "What breaks if I rename the constructor {s}?",
        "rename constructor {s}",
        "what has to change if I rename {s} in {t}",
        "renaming the {s} constructor of {t}: what breaks?",
        "I'd like to rename constructor `{s}`, where is it used",
    ),
    C.ADD_FIELD: (
        "What breaks if I add a field to {t}?",
        "add a new field to the {t} record",
        "what breaks if I add a record field to {t}",
        "if I add a field to `{t}`, what do I need to update?",
        "impact of adding a field to {t}",
        "adding one more field to {t}",
    ),
    C.REMOVE_FIELD: (
        "What breaks if I remove the field {s}?",
        "remove field {s} from {t}",
        "drop the {s} field - what breaks?",
        "is it safe to delete the field {s} from {t}?",
        "what uses the record field `{s}` if I remove it",
    ),
    C.RENAME_FIELD: (
        "What breaks if I rename the field {s}?",
        "rename field {s} in {t}",
        "renaming the record field {s}: what breaks",
        "if I rename the `{s}` field of {t}, what has to change?",
    ),
    C.CHANGE_FIELD_TYPE: (
        "What breaks if I change the type of the field {s}?",
        "change the type of field {s} in {t}",
        "if the field {s} gets a different type, what breaks",
        "what breaks when I change the field type of `{s}`",
    ),
    C.CHANGE_SIGNATURE: (
        "What breaks if I change the type of {t}?",
        "change the signature of {t}",
        "what breaks if I change the type signature of `{t}`",
        "if {t} returns a different type, what breaks?",
        "new type signature for {t}: impact?",
        "changing the type of function {t}",
    ),
    C.CHANGE_ARITY: (
        "What breaks if {t} takes one more argument?",
        "what breaks if I add a parameter to {t}",
        "if {t} needs an extra argument, what breaks",
        "{t} takes another argument - what breaks?",
        "add an argument to `{t}`",
        "What breaks if the function {t} gets one more parameter?",
    ),
    C.ADD_METHOD: (
        "What breaks if I add a method to {t}?",
        "add a method to the {t} class",
        "what breaks if I add a new method to type class `{t}`",
        "new method in class {t} without a default - what breaks?",
        "adding a class method to {t}",
    ),
    C.ADD_SUPERCLASS: (
        "What breaks if I add a superclass to {t}?",
        "add a superclass to class {t}",
        "what breaks if {t} gets a new superclass constraint",
        "adding a superclass to `{t}`: impact?",
    ),
    C.CHANGE_TYPE_FAMILY: (
        "What breaks if I change the type family {t}?",
        "change type family {t}",
        "what breaks if I modify the type family `{t}`",
        "if I change the type family {t}, which instances break?",
    ),
    C.CHANGE_TYPE_SYNONYM: (
        "What breaks if I change the type synonym {t}?",
        "change the type alias {t}",
        "what breaks if I change the type synonym `{t}`",
        "if I redefine the type alias {t}, what breaks",
    ),
    C.REMOVE_EXPORT: (
        "What breaks if I stop exporting {t}?",
        "unexport {t}",
        "what breaks if {m} no longer exports {t}",
        "stop exporting `{t}` from {m}",
        "is it safe to remove {t} from the export list of {m}?",
        "What breaks if I remove {t} from the exports?",
    ),
    C.CHANGE: (
        "What breaks if I change {t}?",
        "what depends on {t}",
        "I'm refactoring {t}, what could break?",
        "if I change `{t}`, what is affected",
        "who uses {t}?",
    ),
}


@dataclass(frozen=True, slots=True)
class Phrasing:
    text: str
    template: str  # "<change>/<index>": which phrasing was used, for the summary

    @property
    def change(self) -> str:
        return self.template.split("/", 1)[0]


def phrase(change: ChangeKind, target: str, subject: str | None, module: str,
           rng: random.Random) -> Phrasing:
    """One text for the reading (change, target, subject), drawn with ``rng``."""
    options = PHRASINGS[change]
    choices = [i for i, template in enumerate(options) if subject or "{s}" not in template]
    index = rng.choice(choices)
    template = options[index]
    if "{m}" in template and module and target.startswith(module + "."):
        target = target[len(module) + 1:]  # "M no longer exports f", not "... exports M.f"
    text = template.format(t=target, s=subject or target, m=module or "its module")
    return Phrasing(text, f"{change.value}/{index}")

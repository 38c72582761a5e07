"""Choosing the questions of a training run: every change kind over the workspaces' own symbols,
balanced across tags, risk levels, codebases and modules, with varied budgets and phrasings.

Candidates are (change, target) pairs read off the index: every data type can gain a
constructor, every constructor can be removed or renamed, every field removed, renamed or
retyped, every top-level function can change type or arity, every class gain a method or a
superclass, every family and synonym change, every exported name stop being exported, anything
change in an unspecified way. Selection is greedy and deterministic (seeded): the next question
is of the change kind whose tags have the fewest examples so far; among a few candidates of that
kind from the least-used codebases and modules, the one whose nodes (explored now, labelled by
the guidance's rules) best fill the thin tag and risk bins wins. Exploration is cheap and
deterministic, so the plan knows how many nodes each question brings before any teacher runs:
that is what the cost of a paid teacher is estimated from.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from scout.cancel import NEVER, CancelToken
from scout.explore.engine import ExploreError, explore
from scout.explore.model import BUDGET_PRESETS, ChangeKind, Node, Question, Tag
from scout.explore.question import default_tags
from scout.generation.phrasing import phrase
from scout.haskell.index import WorkspaceIndex
from scout.haskell.model import Definition, DefKind
from scout.scoring.heuristic import guidance_rule
from scout.tasks import load_task, task_inputs

C = ChangeKind
PLAIN_NAME = re.compile(r"[A-Za-z_][\w']*")
CANDIDATES_PER_PICK = 3
EXPLORE_BUDGET = BUDGET_PRESETS["high"]
# Budgets people use: mostly the presets, sometimes a number of their own.
BUDGET_CHOICES = (("low", 0.25), ("medium", 0.35), ("high", 0.25), ("number", 0.15))


@dataclass(frozen=True, slots=True)
class Reading:
    """The structured question a generated text is meant to ask.

    ``target`` is what the engine explores from (for a removed or renamed member, the member
    itself); ``mutation_target`` is what the compiler oracle mutates (the member's type for a
    constructor); ``owner`` is the type a member belongs to, as a question would name it."""

    change: ChangeKind
    target: str
    subject: str | None
    mutation_target: str
    owner: str
    tags: tuple[Tag, ...]

    def question(self, text: str, budget: int) -> Question:
        return Question(text, self.target, self.change, self.tags, budget, self.subject)

    def as_json(self) -> dict[str, Any]:
        return {"change": self.change.value, "target": self.target, "subject": self.subject,
                "mutation_target": self.mutation_target, "owner": self.owner,
                "tags": [t.value for t in self.tags]}

    @staticmethod
    def from_json(data: dict[str, Any]) -> Reading:
        return Reading(ChangeKind(data["change"]), data["target"], data.get("subject"),
                       data["mutation_target"], data.get("owner") or data["target"],
                       tuple(Tag(t) for t in data["tags"]))


@dataclass(frozen=True, slots=True)
class Candidate:
    root: str
    reading: Reading
    module: str
    kind: str  # the target's definition kind
    path: str


@dataclass(frozen=True, slots=True)
class PlannedQuestion:
    root: str
    reading: Reading
    text: str
    phrasing: str
    budget: int
    target_kind: str
    target_module: str
    risks: tuple[int, ...]  # the guidance's risk for each node, in order (the prediction)
    input_chars: int = 0  # size of the nodes' task inputs: what a paid teacher is charged for

    def predicted(self) -> dict[str, Any]:
        return {"nodes": len(self.risks), "risks": list(self.risks),
                "input_chars": self.input_chars}


@dataclass(frozen=True, slots=True)
class Workspace:
    """One codebase of a run. ``allowed_paths``: only targets defined in these files (the
    files the compiler checks, when the ghc teacher is on); None for all."""

    root: str
    index: WorkspaceIndex
    allowed_paths: frozenset[str] | None = None


@dataclass(slots=True)
class Balance:
    """Examples so far per tag, risk, codebase, module and change kind (planned ones count)."""

    tags: Counter[str] = field(default_factory=Counter)
    risks: Counter[int] = field(default_factory=Counter)
    roots: Counter[str] = field(default_factory=Counter)
    modules: Counter[tuple[str, str]] = field(default_factory=Counter)
    changes: Counter[str] = field(default_factory=Counter)
    asked: set[tuple[str, str, str, str | None]] = field(default_factory=set)

    def add(self, root: str, module: str, reading: Reading, risks: Sequence[int]) -> None:
        for tag in reading.tags:
            self.tags[tag.value] += len(risks)
        self.risks.update(risks)
        self.roots[root] += 1
        self.modules[(root, module)] += 1
        self.changes[reading.change.value] += 1
        self.asked.add(_key(root, reading))

    def gain(self, reading: Reading, risks: Sequence[int]) -> float:
        """How much these examples even out the tag and risk counts (concave: thin bins gain
        most), per square root of their number: a question with a hundred places in the
        fullest bin must not outbid one whose few places fill a thin one (seeds 0-7 on the
        example: worst max/min risk ratio 5.0 without the discount, 3.2 with it). Every risk
        level and every tag of the change count."""
        added = Counter(risks)
        score = 0.0
        for level in range(1, 6):
            before = self.risks.get(level, 0)
            score += math.sqrt(before + added.get(level, 0)) - math.sqrt(before)
        for tag in reading.tags:
            before = self.tags.get(tag.value, 0)
            score += math.sqrt(before + len(risks)) - math.sqrt(before)
        return score / math.sqrt(max(1, len(risks)))


def _key(root: str, reading: Reading) -> tuple[str, str, str, str | None]:
    return (root, reading.change.value, reading.target, reading.subject)


def input_chars(question: Question, nodes: Sequence[Node]) -> int:
    """Characters of the ``score_node`` inputs of these nodes, as every backend sends them."""
    task = load_task("score_node")
    return sum(len(task.user_text(task_inputs(question, node))) for node in nodes)


# --------------------------------------------------------------------------- candidates


def candidates(ws: Workspace, changes: Iterable[ChangeKind]) -> dict[ChangeKind, list[Candidate]]:
    """Every (change, target) the workspace offers, per change kind, in a stable order."""
    index = ws.index
    wanted = set(changes)
    defs = sorted((d for d in index.all_definitions()
                   if ws.allowed_paths is None or d.path in ws.allowed_paths),
                  key=lambda d: (d.path, d.span.start_line, d.name, d.kind.value))
    modules_of: dict[str, set[str]] = {}
    for d in index.all_definitions():
        modules_of.setdefault(d.name, set()).add(d.module)
    exported = {(fi.path, e.name) for fi in index.summaries.values() for e in fi.exports or ()}

    def name(d: Definition) -> str:
        if len(modules_of.get(d.name, ())) > 1 and d.module:
            return f"{d.module}.{d.name}"
        return d.name

    def owner_type(con: Definition) -> Definition | None:
        return next((t for t in index.definitions(con.parent or "", (DefKind.DATA, DefKind.NEWTYPE))
                     if t.module == con.module), None)

    out: dict[ChangeKind, list[Candidate]] = {change: [] for change in wanted}

    def add(change: ChangeKind, d: Definition, target: str, subject: str | None = None,
            mutation_target: str | None = None, owner: str | None = None) -> None:
        if change not in wanted or not PLAIN_NAME.fullmatch(d.name):
            return
        reading = Reading(change, target, subject, mutation_target or target, owner or target,
                          default_tags(change, target))
        out[change].append(Candidate(ws.root, reading, d.module, d.kind.value, d.path))

    for d in defs:
        kind = d.kind
        if kind is DefKind.DATA and d.constructors:
            add(C.ADD_CONSTRUCTOR, d, name(d))
            if len(d.constructors) == 1:
                add(C.ADD_FIELD, d, name(d))
        elif kind is DefKind.CONSTRUCTOR:
            parent = owner_type(d)
            if parent is None:
                continue
            subject = d.name
            if len(parent.constructors) >= 2:
                add(C.REMOVE_CONSTRUCTOR, d, subject, subject, name(parent), name(parent))
            add(C.RENAME_CONSTRUCTOR, d, subject, subject, name(parent), name(parent))
        elif kind is DefKind.FIELD:
            con = next((c for c in index.definitions(d.parent or "", (DefKind.CONSTRUCTOR,))
                        if c.module == d.module), None)
            parent = owner_type(con) if con is not None else None
            owner = name(parent) if parent is not None else (d.parent or d.name)
            for change in (C.REMOVE_FIELD, C.RENAME_FIELD, C.CHANGE_FIELD_TYPE):
                add(change, d, name(d), d.name, name(d), owner)
        elif kind is DefKind.FUNCTION and d.parent is None:
            add(C.CHANGE_SIGNATURE, d, name(d))
            add(C.CHANGE_ARITY, d, name(d))
        elif kind is DefKind.CLASS:
            add(C.ADD_METHOD, d, name(d))
            add(C.ADD_SUPERCLASS, d, name(d))
        elif kind in (DefKind.TYPE_FAMILY, DefKind.DATA_FAMILY):
            add(C.CHANGE_TYPE_FAMILY, d, name(d))
        elif kind is DefKind.TYPE_SYNONYM:
            add(C.CHANGE_TYPE_SYNONYM, d, name(d))
        if (kind in (DefKind.FUNCTION, DefKind.DATA, DefKind.NEWTYPE, DefKind.CLASS,
                     DefKind.TYPE_SYNONYM) and d.parent is None
                and (d.path, d.name) in exported):
            add(C.REMOVE_EXPORT, d, name(d))
        if kind in (DefKind.DATA, DefKind.NEWTYPE, DefKind.CLASS, DefKind.FUNCTION,
                    DefKind.TYPE_SYNONYM) and d.parent is None:
            add(C.CHANGE, d, name(d))
    return out


# --------------------------------------------------------------------------- selection


def draw_budget(rng: random.Random) -> int:
    roll, acc = rng.random(), 0.0
    for choice, weight in BUDGET_CHOICES:
        acc += weight
        if roll < acc:
            return rng.randint(5, 60) if choice == "number" else BUDGET_PRESETS[choice]
    return BUDGET_PRESETS["medium"]


class Planner:
    """Draws balanced questions from several workspaces; deterministic for a seed and the
    sequence of earlier picks (so a plan extended later continues the same way)."""

    def __init__(self, workspaces: Sequence[Workspace], changes: Iterable[ChangeKind], *,
                 seed: int, balance: Balance | None = None, drawn: int = 0) -> None:
        self.workspaces = {ws.root: ws for ws in workspaces}
        self.balance = balance or Balance()
        # One generator per plan position would be overkill; one seeded by (seed, how many were
        # drawn before) keeps an extended plan independent of how it was chunked.
        self.rng = random.Random(f"scout-gen:{seed}:{drawn}")
        self.pools: dict[ChangeKind, list[Candidate]] = {}
        for ws in workspaces:
            for change, found in candidates(ws, changes).items():
                self.pools.setdefault(change, []).extend(found)
        for change in sorted(self.pools, key=lambda c: c.value):
            pool = [c for c in self.pools[change]
                    if _key(c.root, c.reading) not in self.balance.asked]
            random.Random(f"scout-gen:{seed}:{change.value}").shuffle(pool)
            self.pools[change] = pool

    def available(self) -> dict[str, int]:
        return {change.value: len(pool) for change, pool in sorted(self.pools.items())
                if pool}

    def _next_change(self) -> ChangeKind | None:
        live = [change for change, pool in self.pools.items() if pool]
        if not live:
            return None
        tags = self.balance.tags
        changes = self.balance.changes
        return min(live, key=lambda c: (min(tags.get(t.value, 0) for t in default_tags(c)),
                                        changes.get(c.value, 0), c.value))

    def _shortlist(self, change: ChangeKind) -> list[Candidate]:
        pool = self.pools[change]
        roots, modules = self.balance.roots, self.balance.modules
        order = sorted(range(len(pool)), key=lambda i: (roots.get(pool[i].root, 0),
                                                        modules.get((pool[i].root,
                                                                     pool[i].module), 0), i))
        return [pool[i] for i in order[:CANDIDATES_PER_PICK]]

    def next(self) -> PlannedQuestion | None:
        """The next question, or None when no candidate is left."""
        while True:
            change = self._next_change()
            if change is None:
                return None
            budget = draw_budget(self.rng)
            best: tuple[float, Candidate, tuple[int, ...], int] | None = None
            for cand in self._shortlist(change):
                risks, chars = self._explore(cand, budget)
                if not risks:
                    self.pools[change].remove(cand)  # unresolvable or nothing reached
                    continue
                gain = self.balance.gain(cand.reading, risks)
                if best is None or gain > best[0]:
                    best = (gain, cand, risks, chars)
            if best is None:
                continue
            _, cand, risks, chars = best
            self.pools[change].remove(cand)
            wording = phrase(change, cand.reading.owner if cand.reading.subject else
                             cand.reading.target, cand.reading.subject, cand.module, self.rng)
            self.balance.add(cand.root, cand.module, cand.reading, risks)
            return PlannedQuestion(cand.root, cand.reading, wording.text, wording.template,
                                   budget, cand.kind, cand.module, risks,
                                   chars + len(risks) * len(wording.text))

    def _explore(self, cand: Candidate, budget: int) -> tuple[tuple[int, ...], int]:
        index = self.workspaces[cand.root].index
        question = cand.reading.question("", budget)
        try:
            exploration = explore(index, question)
        except ExploreError:
            return (), 0
        change = exploration.question.change  # as the engine refined it
        risks = tuple(guidance_rule(change, node.facts).risk for node in exploration.nodes)
        return risks, input_chars(question, exploration.nodes)


def plan(workspaces: Sequence[Workspace], count: int, changes: Iterable[ChangeKind], *,
         seed: int, balance: Balance | None = None, drawn: int = 0,
         token: CancelToken = NEVER,
         on_pick: Callable[[PlannedQuestion], None] = lambda _q: None) -> list[PlannedQuestion]:
    """Up to ``count`` new questions (fewer when the workspaces run out of candidates)."""
    planner = Planner(workspaces, changes, seed=seed, balance=balance, drawn=drawn)
    out: list[PlannedQuestion] = []
    while len(out) < count:
        token.check()
        picked = planner.next()
        if picked is None:
            break
        out.append(picked)
        on_pick(picked)
    return out

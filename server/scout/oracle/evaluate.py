"""``scout eval``: measure a scorer against the compiler on real mutations.

For each mutation (given, or sampled deterministically from the workspace's types, classes and
functions) the oracle says which places break; the engine explores the same question; the scorer
under test and the ``ghc`` teacher score the engine's nodes. Per change kind:

- recall of risk >= 4: break sites GHC reports that the scorer flags with risk >= 4 (a site the
  engine never reached counts as missed; when the engine finds more nodes than the budget
  keeps, the question is asked again with a budget that keeps them all);
- precision of risk >= 4: nodes flagged >= 4 that GHC reports (nodes in modules GHC could not
  check, and the definition itself, where the change is made, are left out);
- silent-site recall: nodes the teacher calls silent (compile, behaviour changes) that the
  scorer gives at least the guidance's silent risk (2);
- quadratic-weighted kappa between the scorer's and the teacher's risk (missed sites count as
  scorer risk 1 against teacher risk 5);
- a grep baseline: whole-word grep for the changed names, its recall and precision over the
  same break sites.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scout.cancel import NEVER, CancelToken
from scout.explore.model import ChangeKind, Node, Question
from scout.explore.question import default_tags
from scout.haskell.index import WorkspaceIndex
from scout.haskell.model import Definition, DefKind, Role
from scout.oracle.mutate import (
    METHOD_DEFAULT,
    METHOD_REQUIRED,
    METHOD_VARIANTS,
    SUPPORTED_CHANGES,
    Mutation,
    MutationError,
)
from scout.oracle.oracle import BreakSite, Oracle, OracleError, OracleResult
from scout.oracle.targets import mutation_for
from scout.oracle.teacher import SILENT_RISK, GhcTeacher, stands_for
from scout.scoring.model import Scorer

FLAG_RISK = 4
SILENT_FLAG_RISK = SILENT_RISK  # the guidance's "might need an update"
EVAL_BUDGET = 100

_PHRASES = {
    ChangeKind.ADD_CONSTRUCTOR: "add a constructor to {t}",
    ChangeKind.REMOVE_CONSTRUCTOR: "remove the constructor {s} from {t}",
    ChangeKind.RENAME_CONSTRUCTOR: "rename the constructor {s} of {t}",
    ChangeKind.ADD_FIELD: "add a field to {t}",
    ChangeKind.REMOVE_FIELD: "remove the field {s} from {t}",
    ChangeKind.RENAME_FIELD: "rename the field {s} of {t}",
    ChangeKind.CHANGE_FIELD_TYPE: "change the type of the field {s} of {t}",
    ChangeKind.CHANGE_ARITY: "give {t} one more argument",
    ChangeKind.CHANGE_SIGNATURE: "change the type of {t}",
    ChangeKind.ADD_METHOD: "add a method without a default implementation to {t}",
    ChangeKind.ADD_SUPERCLASS: "add a superclass to {t}",
    ChangeKind.CHANGE_TYPE_FAMILY: "change the type family {t} and its instances",
    ChangeKind.CHANGE_TYPE_SYNONYM: "change the type synonym {t}",
    ChangeKind.REMOVE_EXPORT: "stop exporting {t}",
}
_DEFAULT_METHOD_PHRASE = "add a method with a default implementation to {t}"
# Changes about one member (constructor, field) of the target: the engine explores from it.
MEMBER_CHANGES = (ChangeKind.REMOVE_CONSTRUCTOR, ChangeKind.RENAME_CONSTRUCTOR,
                  ChangeKind.REMOVE_FIELD, ChangeKind.RENAME_FIELD, ChangeKind.CHANGE_FIELD_TYPE)


@dataclass(frozen=True, slots=True)
class MutationSpec:
    target: str
    change: ChangeKind
    subject: str | None = None
    variant: str | None = None  # add_method: "required" (default) or "default"

    @staticmethod
    def from_dict(d: dict) -> MutationSpec:
        try:
            variant = d.get("variant")
            if variant is not None and variant not in METHOD_VARIANTS:
                raise ValueError(f"variant {variant!r} is not one of {METHOD_VARIANTS}")
            return MutationSpec(str(d["target"]), ChangeKind(d["change"]), d.get("subject"),
                                variant)
        except (KeyError, ValueError) as exc:
            raise ValueError(f"a mutation needs 'target' and a 'change' among "
                             f"{', '.join(c.value for c in SUPPORTED_CHANGES)}: got {d!r}") from exc

    @property
    def label(self) -> str:
        """The row of the eval table: the change kind, with the reading for add_method."""
        if self.change is ChangeKind.ADD_METHOD:
            return f"add_method:{self.variant or METHOD_REQUIRED}"
        return self.change.value

    def question(self, budget: int = EVAL_BUDGET) -> Question:
        phrase = (_DEFAULT_METHOD_PHRASE if self.variant == METHOD_DEFAULT
                  else _PHRASES.get(self.change, "change {t}"))
        text = "What breaks if I " + phrase.format(t=self.target,
                                                   s=self.subject or "a constructor") + "?"
        # The engine explores a removal, rename or type change from the member itself.
        target = self.target
        if self.change in MEMBER_CHANGES and self.subject and \
                self.target.rpartition(".")[2] != self.subject:
            target = self.subject  # asked about a type's member: explore from the member
        variant = (self.variant or METHOD_REQUIRED) if self.change is ChangeKind.ADD_METHOD \
            else None
        return Question(text, target, self.change, default_tags(self.change, target), budget,
                        self.subject, variant=variant)


def load_mutations(path: Path) -> list[MutationSpec]:
    """A JSON list of ``{target, change, subject?}``, or an object with such a "mutations" list
    (the fixtures' expected.json files qualify)."""
    data = json.loads(path.read_text())
    items = data.get("mutations") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ValueError(f"{path}: expected a JSON list of mutations or {{\"mutations\": [...]}}")
    return [MutationSpec.from_dict(item) for item in items]


# ---------------------------------------------------------------------------------------------
# Sampling


def sample_mutations(index: WorkspaceIndex, *, per_kind: int = 2, seed: int = 0,
                     kinds: Sequence[ChangeKind] = SUPPORTED_CHANGES,
                     checked_paths: Iterable[str] | None = None) -> list[MutationSpec]:
    """Deterministic sample: candidates sorted by place, then ``per_kind`` drawn with a seeded
    generator per kind. ``checked_paths`` limits targets to files the type-check covers."""
    allowed = set(checked_paths) if checked_paths is not None else None
    defs = sorted((d for d in index.all_definitions()
                   if allowed is None or d.path in allowed),
                  key=lambda d: (d.path, d.span.start_line, d.name))
    counts: dict[str, int] = {}
    for d in defs:
        counts[d.name] = counts.get(d.name, 0) + 1

    def name_of(d: Definition) -> str:
        return qualified(d.name, d.module)

    def qualified(name: str, module: str) -> str:
        return name if counts.get(name, 0) <= 1 or not module else f"{module}.{name}"

    def used_elsewhere(d: Definition) -> bool:
        return any(p != d.path for p in index.files_referencing(d.name))

    exported: set[tuple[str, str]] = set()
    for fi in index.files.values():
        for e in fi.exports or ():
            exported.add((fi.path, e.name))

    instances_of: dict[str, int] = {}
    for kind in (DefKind.INSTANCE, DefKind.DERIVED_INSTANCE):
        for inst in index.definitions_of_kind(kind):
            if inst.parent:
                instances_of[inst.parent] = instances_of.get(inst.parent, 0) + 1

    def updated(d: Definition) -> bool:
        """A record update of one of the type's fields somewhere (it becomes partial)."""
        fields = {f for c in d.constructors
                  for cd in index.definitions(c, (DefKind.CONSTRUCTOR,)) if cd.path == d.path
                  for f in cd.fields}
        return any(r.role is Role.RECORD_UPDATE for f in sorted(fields)
                   for r in index.references(f))

    out: list[MutationSpec] = []
    for kind in kinds:
        cands: list[MutationSpec] = []
        for d in defs:
            if kind == ChangeKind.ADD_CONSTRUCTOR:
                # Types nothing matches on (or updates) cannot break: they would measure nothing.
                if d.kind == DefKind.DATA and d.constructors and (
                        index.match_sites_mentioning(d.constructors) or updated(d)):
                    cands.append(MutationSpec(name_of(d), kind))
            elif kind == ChangeKind.REMOVE_CONSTRUCTOR:
                if (d.kind == DefKind.DATA and len(d.constructors) >= 2
                        and index.match_sites_mentioning(d.constructors)):
                    # the constructor, qualified when its name is not unique: the question
                    # is asked about it
                    cands += [MutationSpec(qualified(c, d.module), kind, c)
                              for c in d.constructors]
            elif kind == ChangeKind.RENAME_CONSTRUCTOR:
                if d.kind == DefKind.CONSTRUCTOR and d.parent and used_elsewhere(d):
                    cands.append(MutationSpec(name_of(d), kind, d.name))
            elif kind == ChangeKind.ADD_FIELD:
                if d.kind == DefKind.DATA and len(d.constructors) == 1:
                    cands.append(MutationSpec(name_of(d), kind))
            elif kind in (ChangeKind.REMOVE_FIELD, ChangeKind.RENAME_FIELD,
                          ChangeKind.CHANGE_FIELD_TYPE):
                if d.kind == DefKind.FIELD and used_elsewhere(d):
                    cands.append(MutationSpec(name_of(d), kind, d.name))
            elif kind in (ChangeKind.CHANGE_ARITY, ChangeKind.CHANGE_SIGNATURE):
                if (d.kind == DefKind.FUNCTION and d.parent is None and used_elsewhere(d)
                        and re.fullmatch(r"[a-z_][\w']*", d.name)):
                    cands.append(MutationSpec(name_of(d), kind))
            elif kind in (ChangeKind.ADD_METHOD, ChangeKind.ADD_SUPERCLASS):
                if d.kind == DefKind.CLASS and instances_of.get(d.name):
                    cands.append(MutationSpec(name_of(d), kind))
            elif kind == ChangeKind.CHANGE_TYPE_FAMILY:
                if d.kind == DefKind.TYPE_FAMILY and used_elsewhere(d):
                    cands.append(MutationSpec(name_of(d), kind))
            elif kind == ChangeKind.CHANGE_TYPE_SYNONYM:
                if d.kind == DefKind.TYPE_SYNONYM and used_elsewhere(d):
                    cands.append(MutationSpec(name_of(d), kind))
            elif kind == ChangeKind.REMOVE_EXPORT:
                if (d.kind == DefKind.FUNCTION and d.parent is None and (d.path, d.name) in exported
                        and used_elsewhere(d)):
                    cands.append(MutationSpec(name_of(d), kind))
        rng = random.Random(f"scout-eval:{seed}:{kind.value}")
        picked = rng.sample(cands, min(per_kind, len(cands)))
        if kind == ChangeKind.ADD_METHOD:  # both readings of the same classes
            picked = [MutationSpec(s.target, kind, s.subject, v) for s in picked
                      for v in METHOD_VARIANTS]
        out += picked
    return out


# ---------------------------------------------------------------------------------------------
# Metrics


def quadratic_weighted_kappa(a: Sequence[int], b: Sequence[int], k: int = 5) -> float | None:
    """Cohen's kappa with quadratic weights on 1..k ratings; None when undefined."""
    n = len(a)
    if n == 0 or n != len(b):
        return None
    observed = [[0.0] * k for _ in range(k)]
    for x, y in zip(a, b, strict=True):
        observed[x - 1][y - 1] += 1
    hist_a = [sum(row) for row in observed]
    hist_b = [sum(observed[i][j] for i in range(k)) for j in range(k)]
    num = den = 0.0
    for i in range(k):
        for j in range(k):
            w = (i - j) ** 2 / (k - 1) ** 2
            num += w * observed[i][j]
            den += w * hist_a[i] * hist_b[j] / n
    if den == 0:
        return None
    return 1 - num / den


@dataclass(slots=True)
class Counts:
    mutations: int = 0
    errors: int = 0
    sites: int = 0
    sites_flagged: int = 0  # break sites the scorer gave risk >= 4
    sites_reached: int = 0  # break sites the engine produced a node for
    flagged: int = 0  # nodes the scorer gave risk >= 4 (in checked modules)
    flagged_true: int = 0
    silent: int = 0
    silent_flagged: int = 0
    grep_hits: int = 0
    grep_true_hits: int = 0
    grep_sites: int = 0
    scorer_risks: list[int] = field(default_factory=list)
    teacher_risks: list[int] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, other: Counts) -> None:
        for name in ("mutations", "errors", "sites", "sites_flagged", "sites_reached", "flagged",
                     "flagged_true", "silent", "silent_flagged", "grep_hits", "grep_true_hits",
                     "grep_sites", "seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.scorer_risks += other.scorer_risks
        self.teacher_risks += other.teacher_risks

    def metrics(self) -> dict[str, float | int | None]:
        def ratio(x: int, y: int) -> float | None:
            return round(x / y, 4) if y else None

        kappa = quadratic_weighted_kappa(self.scorer_risks, self.teacher_risks)
        return {
            "mutations": self.mutations, "errors": self.errors, "sites": self.sites,
            "recall": ratio(self.sites_flagged, self.sites),
            "precision": ratio(self.flagged_true, self.flagged),
            "engine_reach": ratio(self.sites_reached, self.sites),
            "silent_sites": self.silent,
            "silent_recall": ratio(self.silent_flagged, self.silent),
            "kappa": None if kappa is None else round(kappa, 4),
            "grep_recall": ratio(self.grep_sites, self.sites),
            "grep_precision": ratio(self.grep_true_hits, self.grep_hits),
            "seconds": round(self.seconds, 2),
        }


@dataclass(slots=True)
class CaseResult:
    root: str
    spec: MutationSpec
    summary: str = ""
    counts: Counts = field(default_factory=Counts)
    sites: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)  # break sites the scorer did not flag
    # per missed site: GHC's reason and flag, and whether the engine reached it at all
    missed_detail: list[dict] = field(default_factory=list)
    false_alarm_detail: list[dict] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)
    error: str | None = None

    def as_json(self) -> dict:
        return {"root": self.root, "target": self.spec.target, "change": self.spec.change.value,
                "subject": self.spec.subject, "variant": self.spec.variant, "summary": self.summary, "error": self.error,
                "site_locations": self.sites, "missed": self.missed,
                "missed_detail": self.missed_detail,
                "false_alarm_detail": self.false_alarm_detail,
                "false_alarms": self.false_alarms,
                **self.counts.metrics()}


@dataclass(slots=True)
class EvalReport:
    scorer: str
    against: str
    cases: list[CaseResult]
    root_errors: dict[str, str] = field(default_factory=dict)  # root -> why nothing was measured

    def by_kind(self) -> dict[str, Counts]:
        out: dict[str, Counts] = {}
        for case in self.cases:
            out.setdefault(case.spec.label, Counts()).add(case.counts)
        return dict(sorted(out.items()))

    def overall(self) -> Counts:
        total = Counts()
        for case in self.cases:
            total.add(case.counts)
        return total

    def as_json(self) -> dict:
        return {"scorer": self.scorer, "against": self.against,
                "kinds": {k: c.metrics() for k, c in self.by_kind().items()},
                "overall": self.overall().metrics(), "root_errors": self.root_errors,
                "cases": [c.as_json() for c in self.cases]}

    def table(self) -> str:
        header = ("change", "muts", "err", "sites", "recall>=4", "prec>=4", "reach", "silent",
                  "silent rec", "kappa", "grep rec", "grep prec")
        rows = [header]

        def fmt(v: object) -> str:
            return "-" if v is None else (f"{v:.2f}" if isinstance(v, float) else str(v))

        for name, counts in [*self.by_kind().items(), ("all", self.overall())]:
            m = counts.metrics()
            rows.append((name, *(fmt(m[k]) for k in ("mutations", "errors", "sites", "recall",
                                                     "precision", "engine_reach", "silent_sites",
                                                     "silent_recall", "kappa", "grep_recall",
                                                     "grep_precision"))))
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        title = f"scorer {self.scorer} against {self.against} ({len(self.cases)} mutations)"
        failed = [f"not measured: {root}: {why.splitlines()[0]}"
                  for root, why in self.root_errors.items()]
        return title + "\n" + "\n".join(lines + failed)


def grep_hits(index: WorkspaceIndex, names: Iterable[str]) -> set[tuple[str, int]]:
    """Lines a whole-word grep for any of the names finds, over the indexed files."""
    words = [n for n in names if n]
    if not words:
        return set()
    pattern = re.compile(r"(?<![\w'])(?:" + "|".join(re.escape(w) for w in words) + r")(?![\w'])")
    hits: set[tuple[str, int]] = set()
    for path in index.files:
        for number, line in enumerate(index.source_lines(path), start=1):
            if pattern.search(line):
                hits.add((path, number))
    return hits


def score_case(root: str, spec: MutationSpec, mutation: Mutation, result: OracleResult,
               nodes: Sequence[Node], scorer: Scorer, question: Question,
               index: WorkspaceIndex) -> CaseResult:
    """Compare one scorer with the teacher on one mutation's nodes."""
    case = CaseResult(root, spec, mutation.summary)
    c = case.counts
    c.mutations = 1
    c.seconds = result.seconds
    teacher = GhcTeacher(result)
    verdicts = [teacher.verdict(n) for n in nodes]
    teacher_scores = teacher.score(question, nodes)
    scored = scorer.score(question, nodes)
    risks: list[int | None] = [s.rubric.risk if s.rubric else None for s in scored]
    sites = result.sites
    case.sites = [s.location for s in sites]
    c.sites = len(sites)
    for site in sites:
        # every node that stands for the site reaches it (not only those it labels first)
        at_site = [i for i, n in enumerate(nodes) if stands_for(n, site)]
        if at_site:
            c.sites_reached += 1
        if any((risks[i] or 0) >= FLAG_RISK for i in at_site):
            c.sites_flagged += 1
        else:
            case.missed.append(site.location)
            case.missed_detail.append({
                "location": site.location, "flag": site.flag, "reached": bool(at_site),
                "risks": [risks[i] for i in at_site],
                "reason": " ".join(site.reason.split())[:300]})
        if not at_site:  # the engine never reached it: scorer says 1, the truth says 5
            c.scorer_risks.append(1)
            c.teacher_risks.append(5)
    for i, (node, verdict) in enumerate(zip(nodes, verdicts, strict=True)):
        risk, truth = risks[i], teacher_scores[i].rubric
        if risk is not None and truth is not None:
            c.scorer_risks.append(risk)
            c.teacher_risks.append(truth.risk)
        if verdict.rule == "silent":
            c.silent += 1
            c.silent_flagged += int((risk or 0) >= SILENT_FLAG_RISK)
        # Precision leaves out nodes in modules GHC could not check and the definition itself
        # (hop 0: the change is made there; GHC reports the code that uses it).
        if (risk or 0) >= FLAG_RISK and verdict.rule not in ("unchecked", "definition"):
            c.flagged += 1
            if verdict.rule == "ghc":
                c.flagged_true += 1
            else:
                case.false_alarms.append(node.location)
                case.false_alarm_detail.append({
                    "location": node.location, "edge": node.facts.edge.value,
                    "rule": verdict.rule, "detail": node.facts.detail})
    hits = {h for h in grep_hits(index, mutation.grep_names) if h[0] not in result.unchecked_paths}
    c.grep_hits = len(hits)
    c.grep_true_hits = sum(1 for h in hits if _in_any(h, sites))
    c.grep_sites = sum(1 for s in sites if any(s.covers(p, ln) for p, ln in hits))
    return case


def _in_any(hit: tuple[str, int], sites: Sequence[BreakSite]) -> bool:
    return any(s.covers(*hit) for s in sites)


def evaluate(roots: Sequence[Path], scorer: Scorer, *,
             mutations: Sequence[MutationSpec] | None = None, per_kind: int = 2, seed: int = 0,
             kinds: Sequence[ChangeKind] = SUPPORTED_CHANGES, cache_dir: Path | None = None,
             typecheck_cmd: str | None = None, budget: int = EVAL_BUDGET, build: str = "auto",
             explore_fn: Callable[[WorkspaceIndex, Question], object] | None = None,
             progress: Callable[[str], None] | None = None,
             cancel: CancelToken = NEVER) -> EvalReport:
    """Run every mutation on every root. A mutation that cannot be applied or explored is a
    recorded error (shown in the table), never a silent skip. A workspace whose baseline does
    not type-check cannot be measured: it is recorded in ``root_errors`` (shown under the table)
    and the other roots go on; when no root can be measured, the ``OracleError`` is raised. The
    oracle and the engine resolve the same question's target through the one resolver."""
    from scout.explore.engine import explore as default_explore
    from scout.explore.resolve import ExploreError

    explore_fn = explore_fn or default_explore
    cases: list[CaseResult] = []
    root_errors: dict[str, str] = {}
    first_error: OracleError | None = None
    for root in roots:
        index = WorkspaceIndex.build(Path(root))
        oracle = Oracle(Path(root), cache_dir=cache_dir, typecheck_cmd=typecheck_cmd,
                        index=index, build=build)
        try:
            oracle.baseline(cancel)  # fail early and clearly when it does not type-check
        except OracleError as exc:
            root_errors[str(root)] = str(exc)
            first_error = first_error or exc
            if progress:
                progress(f"{root}: not measured: {str(exc).splitlines()[0]}")
            continue
        if progress:
            progress(f"{root}: {oracle.how}")
        specs = list(mutations) if mutations is not None else sample_mutations(
            index, per_kind=per_kind, seed=seed, kinds=kinds,
            checked_paths=oracle.layout.modules.values())
        for spec in specs:
            cancel.check()
            if progress:
                progress(f"{root}: {spec.label} {spec.target}"
                         + (f" ({spec.subject})" if spec.subject else ""))
            question = spec.question(budget)
            try:
                mutation = mutation_for(index, question.target, spec.change, spec.subject,
                                        spec.variant)
                result = oracle.check(mutation, cancel)
                exploration = explore_fn(index, question)
                coverage = getattr(exploration, "coverage", None)
                found = getattr(coverage, "nodes_found", 0)
                if found > getattr(coverage, "nodes_kept", found):
                    # The budget is how much an answer shows, not how far the engine reaches:
                    # measured with every node it found, a change with more break sites than
                    # the budget is not scored as missing the ones cut.
                    question = spec.question(found)
                    exploration = explore_fn(index, question)
            except (MutationError, OracleError, ExploreError) as exc:  # recorded, shown
                case = CaseResult(str(root), spec, error=f"{type(exc).__name__}: {exc}")
                case.counts.mutations = 1
                case.counts.errors = 1
                cases.append(case)
                continue
            nodes = list(getattr(exploration, "nodes", []))
            cases.append(score_case(str(root), spec, mutation, result, nodes, scorer, question,
                                    index))
    if first_error is not None and len(root_errors) == len(roots):
        raise first_error
    return EvalReport(getattr(scorer, "name", type(scorer).__name__), "ghc", cases, root_errors)

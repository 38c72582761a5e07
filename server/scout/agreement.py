"""``scout eval --agreement``: how far label sources agree on the same nodes.

For each pair of label sources that labelled the same nodes (the student against each teacher,
each teacher against ``ghc``, ...), on one rubric field (risk by default): exact and within-one
agreement, quadratic-weighted kappa, Gwet's AC1, Spearman's rank correlation, the 5x5 confusion
matrix, and precision / recall / F1 of "risk >= 4" with the better-ranked source as the truth;
overall and per tag. Each source's latest label of a node is the one compared.

Orientation: in a pair (A, B), B is the reference: the source ranked higher in
``export.select.DEFAULT_PRIORITY`` (human > ghc > haiku > heuristic), the student ``model``
last. Rows of the confusion matrix are A's values 1..5, columns B's.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scout.export.select import DEFAULT_PRIORITY
from scout.oracle.evaluate import quadratic_weighted_kappa
from scout.store import Store, StoreError, resolve_db_path

SCALE = 5
FIELDS = ("risk", "relevance", "confidence")
FLAG = 4  # "risk >= 4": the places a user must look at
RANK = (*DEFAULT_PRIORITY, "model")


# --------------------------------------------------------------------------- metrics


def exact_agreement(a: Sequence[int], b: Sequence[int]) -> float | None:
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a) if a else None


def within_one(a: Sequence[int], b: Sequence[int]) -> float | None:
    return sum(abs(x - y) <= 1 for x, y in zip(a, b, strict=True)) / len(a) if a else None


def gwet_ac1(a: Sequence[int], b: Sequence[int], k: int = SCALE) -> float | None:
    """Gwet's AC1 for two raters on k nominal categories 1..k:
    (pa - pe) / (1 - pe), pe = sum_q pi_q (1 - pi_q) / (k - 1), pi_q the mean share of q."""
    n = len(a)
    if n == 0 or n != len(b):
        return None
    pa = sum(x == y for x, y in zip(a, b, strict=True)) / n
    pe = 0.0
    for q in range(1, k + 1):
        pi = (sum(1 for x in a if x == q) + sum(1 for y in b if y == q)) / (2 * n)
        pe += pi * (1 - pi)
    pe /= k - 1
    return (pa - pe) / (1 - pe) if pe != 1 else None


def _ranks(values: Sequence[int]) -> list[float]:
    """1-based ranks, ties sharing their average rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for m in range(i, j + 1):
            ranks[order[m]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(a: Sequence[int], b: Sequence[int]) -> float | None:
    """Spearman's rho: Pearson's correlation of the (tie-averaged) ranks; None when either side
    is constant."""
    n = len(a)
    if n < 2 or n != len(b):
        return None
    ra, rb = _ranks(a), _ranks(b)
    ma, mb = sum(ra) / n, sum(rb) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb, strict=True))
    va = sum((x - ma) ** 2 for x in ra)
    vb = sum((y - mb) ** 2 for y in rb)
    return cov / math.sqrt(va * vb) if va and vb else None


def confusion(a: Sequence[int], b: Sequence[int], k: int = SCALE) -> list[list[int]]:
    """``m[i][j]``: how often A said i+1 where B said j+1."""
    m = [[0] * k for _ in range(k)]
    for x, y in zip(a, b, strict=True):
        m[x - 1][y - 1] += 1
    return m


def flag_scores(predicted: Sequence[int], truth: Sequence[int],
                threshold: int = FLAG) -> dict[str, float | None]:
    """Precision, recall and F1 of "value >= threshold", ``truth`` as the reference."""
    tp = sum(p >= threshold and t >= threshold for p, t in zip(predicted, truth, strict=True))
    fp = sum(p >= threshold and t < threshold for p, t in zip(predicted, truth, strict=True))
    fn = sum(p < threshold and t >= threshold for p, t in zip(predicted, truth, strict=True))
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = (2 * precision * recall / (precision + recall)
          if precision is not None and recall is not None and precision + recall else None)
    return {"precision": precision, "recall": recall, "f1": f1}


@dataclass(frozen=True, slots=True)
class PairMetrics:
    n: int
    exact: float | None
    within_one: float | None
    kappa: float | None
    ac1: float | None
    spearman: float | None
    precision: float | None
    recall: float | None
    f1: float | None
    confusion: list[list[int]]

    @staticmethod
    def of(a: Sequence[int], b: Sequence[int]) -> PairMetrics:
        flags = flag_scores(a, b)
        return PairMetrics(len(a), exact_agreement(a, b), within_one(a, b),
                           quadratic_weighted_kappa(a, b, SCALE), gwet_ac1(a, b), spearman(a, b),
                           flags["precision"], flags["recall"], flags["f1"], confusion(a, b))

    def as_json(self) -> dict[str, Any]:
        def r(v: float | None) -> float | None:
            return None if v is None else round(v, 4)

        return {"n": self.n, "exact": r(self.exact), "within_one": r(self.within_one),
                "kappa": r(self.kappa), "ac1": r(self.ac1), "spearman": r(self.spearman),
                "precision_ge4": r(self.precision), "recall_ge4": r(self.recall),
                "f1_ge4": r(self.f1), "confusion": self.confusion}


# --------------------------------------------------------------------------- reading the store


@dataclass(frozen=True, slots=True)
class PairReport:
    source: str  # A: the one measured
    reference: str  # B: the truth for precision / recall
    overall: PairMetrics
    per_tag: dict[str, PairMetrics]

    def as_json(self) -> dict[str, Any]:
        return {"source": self.source, "reference": self.reference,
                "overall": self.overall.as_json(),
                "per_tag": {tag: m.as_json() for tag, m in sorted(self.per_tag.items())}}


def _rank(source: str) -> int:
    return RANK.index(source) if source in RANK else len(RANK)


def latest_labels(store: Store, field: str) -> tuple[dict[str, dict[int, int]], dict[int, list]]:
    """source -> node id -> the source's latest value of ``field``; node id -> its tags."""
    if field not in FIELDS:
        raise ValueError(f"--field must be one of {FIELDS}, got {field!r}")
    labels: dict[str, dict[int, int]] = {}
    tags: dict[int, list] = {}
    rows = store.rows(
        f"SELECT r.node_id, r.label_source, r.{field}, q.tags FROM rubrics r "
        "JOIN nodes n ON n.id = r.node_id JOIN queries q ON q.id = n.query_id "
        f"WHERE r.task = 'score_node' AND r.{field} IS NOT NULL ORDER BY r.id")
    for node_id, source, value, tag_json in rows:
        labels.setdefault(source, {})[node_id] = int(value)  # later rows win
        if node_id not in tags:
            tags[node_id] = json.loads(tag_json)
    return labels, tags


def agreement(store: Store, field: str = "risk") -> list[PairReport]:
    labels, tags = latest_labels(store, field)
    sources = sorted(labels, key=lambda s: (_rank(s), s))
    out = []
    for i, reference in enumerate(sources):
        for source in sources[i + 1:]:
            shared = sorted(set(labels[source]) & set(labels[reference]))
            if not shared:
                continue
            a = [labels[source][n] for n in shared]
            b = [labels[reference][n] for n in shared]
            by_tag: dict[str, tuple[list[int], list[int]]] = {}
            for node, x, y in zip(shared, a, b, strict=True):
                for tag in tags.get(node) or ["(no tags)"]:
                    pair = by_tag.setdefault(tag, ([], []))
                    pair[0].append(x)
                    pair[1].append(y)
            out.append(PairReport(source, reference, PairMetrics.of(a, b),
                                  {t: PairMetrics.of(x, y) for t, (x, y) in by_tag.items()}))
    return out


# --------------------------------------------------------------------------- output


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def table(reports: Sequence[PairReport], field: str) -> str:
    header = ("pair (A vs reference B)", "tag", "n", "exact", "±1", "qw-kappa", "AC1",
              "spearman", f"P({field}>=4)", f"R({field}>=4)", f"F1({field}>=4)")
    rows = [header]
    for report in reports:
        name = f"{report.source} vs {report.reference}"
        for tag, m in [("all", report.overall), *sorted(report.per_tag.items())]:
            rows.append((name, tag, str(m.n), _fmt(m.exact), _fmt(m.within_one),
                         _fmt(m.kappa), _fmt(m.ac1), _fmt(m.spearman), _fmt(m.precision),
                         _fmt(m.recall), _fmt(m.f1)))
            name = ""
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    out = [f"agreement on {field} (rows of each confusion matrix: A's value, columns: B's)",
           *lines]
    for report in reports:
        out += ["", f"{report.source} vs {report.reference}: confusion on {field}",
                "      " + " ".join(f"B={j:<4}" for j in range(1, SCALE + 1))]
        for i, row in enumerate(report.overall.confusion, start=1):
            out.append(f"A={i}  " + " ".join(f"{v:<6}" for v in row))
    return "\n".join(out)


def plot(reports: Sequence[PairReport], field: str, path: Path) -> None:
    """One confusion matrix per pair, as a PNG."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise RuntimeError("--plot needs matplotlib: pip install 'semantic-scout[plot]'") from exc
    count = max(1, len(reports))
    figure, axes = plt.subplots(1, count, figsize=(4.2 * count, 4.2), squeeze=False)
    for ax, report in zip(axes[0], reports, strict=False):
        matrix = report.overall.confusion
        ax.imshow(matrix, cmap="Blues")
        for i in range(SCALE):
            for j in range(SCALE):
                ax.text(j, i, str(matrix[i][j]), ha="center", va="center", fontsize=8)
        ax.set_xticks(range(SCALE), [str(v) for v in range(1, SCALE + 1)])
        ax.set_yticks(range(SCALE), [str(v) for v in range(1, SCALE + 1)])
        ax.set_xlabel(f"{report.reference} {field}")
        ax.set_ylabel(f"{report.source} {field}")
        kappa = report.overall.kappa
        ax.set_title(f"{report.source} vs {report.reference}\nn={report.overall.n}, "
                     f"qw-kappa={_fmt(kappa)}", fontsize=9)
    if not reports:
        axes[0][0].text(0.5, 0.5, "no pair of label sources shares a node", ha="center")
        axes[0][0].axis("off")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def run_agreement(args: argparse.Namespace) -> int:
    """``scout eval --agreement``: exit 0 (even when no pair shares a node: it says so),
    2 for bad options, 3 when the database is missing or unusable."""
    field = getattr(args, "field", None) or "risk"
    try:
        resolved = resolve_db_path(getattr(args, "db", None))
    except StoreError as exc:
        print(f"scout eval: {exc}", file=sys.stderr)
        return 3
    if not resolved.path.exists():
        print(f"scout eval: no database at {resolved.path} (from {resolved.source}); pass "
              "--db PATH", file=sys.stderr)
        return 3
    try:
        with Store.open(resolved.path) as store:
            reports = agreement(store, field)
    except StoreError as exc:
        print(f"scout eval: {exc}", file=sys.stderr)
        return 3
    except ValueError as exc:
        print(f"scout eval: error: {exc}", file=sys.stderr)
        return 2
    if getattr(args, "plot", None):
        try:
            plot(reports, field, Path(args.plot))
        except (RuntimeError, OSError) as exc:
            print(f"scout eval: {exc}", file=sys.stderr)
            return 2
    if args.json:
        print(json.dumps({"field": field, "database": str(resolved.path),
                          "pairs": [r.as_json() for r in reports]}))
    elif reports:
        print(table(reports, field))
    else:
        print(f"no two label sources labelled the same node in {resolved.path}")
    return 0

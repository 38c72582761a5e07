"""The paraphrase suite: questions written as people type them, with the expected reading.

``dev.jsonl`` is the development set; ``holdout.jsonl`` was written first and kept out of
development (its failures were not looked at until the end); ``holdout2.jsonl`` was written
after that, in other voices, and evaluated once. One JSON object per line:

- ``{"ws", "q", "target", "change"}``: the question must read as ``change`` on ``target``
  (``Module.name``; operators as ``Module.(op)``);
- ``{"ws", "q", "ambiguous": ["Module.name:kind", ...]}``: the question must be reported as
  ambiguous between exactly these definitions.

Workspaces: the bundled example, the test fixtures, ``shop`` (written for these tests) and
two Debian projects (``python bench/fetch_debian.py xmonad haskell-megaparsec``).
Run ``python tests/questions/report.py`` for accuracy per change kind.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from scout.explore.question import Interpretation, interpret
from scout.haskell.index import WorkspaceIndex

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DEBIAN = REPO / "bench" / ".cache" / "debian"
WORKSPACES: dict[str, Path] = {
    "llm": REPO / "examples" / "llm-service",
    "shop": HERE / "workspaces" / "shop",
    "shapes": REPO / "tests" / "fixtures" / "oracle" / "shapes",
    "queue": REPO / "tests" / "fixtures" / "oracle" / "plain",
    "xmonad": DEBIAN / "xmonad",
    "megaparsec": DEBIAN / "haskell-megaparsec",
}
DEBIAN_WORKSPACES = frozenset({"xmonad", "megaparsec"})
SETS = ("dev", "holdout", "holdout2")


@dataclass(frozen=True, slots=True)
class Case:
    set: str
    line: int
    ws: str
    q: str
    target: str | None = None
    change: str | None = None
    ambiguous: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.set}:{self.line}:{self.ws}"

    @property
    def kind(self) -> str:
        return self.change or "ambiguous"


def load(which: str) -> list[Case]:
    out = []
    path = HERE / f"{which}.jsonl"
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        out.append(Case(which, n, row["ws"], row["q"], row.get("target"), row.get("change"),
                        tuple(row.get("ambiguous", ()))))
    return out


def available(ws: str) -> bool:
    root = WORKSPACES[ws]
    if ws in DEBIAN_WORKSPACES:
        return (root / ".scout-fetched").exists()
    return root.is_dir()


def build(ws: str, cache_dir: Path | None = None) -> WorkspaceIndex:
    return WorkspaceIndex.build(WORKSPACES[ws], cache_dir=cache_dir,
                                use_cache=cache_dir is not None)


def _qualified(module: str, name: str) -> str:
    bare = name if name[:1].isalnum() or name[:1] == "_" else f"({name})"
    return f"{module}.{bare}"


@dataclass(frozen=True, slots=True)
class Outcome:
    case: Case
    ok: bool
    got: str  # what the reading was, for the report

    def __str__(self) -> str:
        expected = (f"ambiguous {list(self.case.ambiguous)}" if self.case.ambiguous
                    else f"{self.case.change} {self.case.target}")
        return f"{self.case.id} {self.case.q!r}: expected {expected}, got {self.got}"


def judge(case: Case, answer: Interpretation) -> Outcome:
    if answer.status == "ok":
        assert answer.question is not None and answer.definition is not None
        d = answer.definition
        got_target = _qualified(d.module, d.name)
        got = f"{answer.question.change.value} {got_target} ({d.kind.value})"
        ok = (not case.ambiguous and answer.question.change.value == case.change
              and got_target == case.target)
        return Outcome(case, ok, got)
    if answer.status == "ambiguous":
        got_set = sorted(f"{_qualified(d.module, d.name)}:{d.kind.value}"
                         for d in answer.candidates)
        return Outcome(case, bool(case.ambiguous) and got_set == sorted(case.ambiguous),
                       f"ambiguous {got_set}")
    return Outcome(case, False, f"{answer.status}: {answer.message}")


def run(cases: list[Case], indexes: dict[str, WorkspaceIndex]) -> Iterator[Outcome]:
    for case in cases:
        yield judge(case, interpret(indexes[case.ws], case.q))

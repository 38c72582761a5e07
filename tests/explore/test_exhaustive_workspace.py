"""The checker on real extracted match sites: index the example workspace, add a constructor
to each of its sum and record types, and compare the sites the checker says break with the
incomplete-pattern warnings GHC adds."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from scout.explore.exhaustive import constructor_lookup, verdict_for_added_constructor
from scout.haskell.index import WorkspaceIndex
from scout.haskell.model import DefKind

pytestmark = [pytest.mark.ghc,
              pytest.mark.skipif(shutil.which("ghc") is None,
                                 reason="needs GHC: apt-get install ghc")]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "llm-service"
ROOTS = ["src/LLM/Service.hs", "src/LLM/Query.hs", "src/LLM/Report.hs"]
PATTERN_WARNING = re.compile(r"^(?P<path>\S+\.hs):(?P<line>\d+):\d+: warning: "
                             r"\[-Wincomplete(?:-uni)?-patterns\]", re.M)
FRESH = "ScoutFresh"


def ghc_pattern_warnings(root: Path) -> set[str]:
    proc = subprocess.run(
        ["ghc", "--make", "-fno-code", "-fforce-recomp", "-isrc", "-Wincomplete-patterns",
         "-Wincomplete-uni-patterns", "-outputdir", str(root / ".out"), *ROOTS],
        cwd=root, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return {f"{m['path']}:{m['line']}" for m in PATTERN_WARNING.finditer(proc.stderr)}


@pytest.fixture(scope="module")
def index() -> WorkspaceIndex:
    return WorkspaceIndex.build(EXAMPLE, use_cache=False)


def extendable_types(index: WorkspaceIndex) -> list[str]:
    """Data types declared with ``=`` (not GADT syntax) that some match site scrutinises."""
    names = []
    for d in index.definitions_of_kind(DefKind.DATA):
        lines = index.source_lines(d.path)[d.span.start_line - 1: d.span.end_line]
        if not d.constructors or " where" in " ".join(lines):
            continue
        if index.match_sites_mentioning(d.constructors):
            names.append(d.name)
    return sorted(names)


def test_example_has_enough_types_to_judge(index: WorkspaceIndex) -> None:
    assert {"LLMKind", "Tier", "Role", "Config"} <= set(extendable_types(index))


def test_breaking_sites_equal_ghc_warnings(index: WorkspaceIndex, tmp_path: Path) -> None:
    lookup = constructor_lookup(index)
    before = ghc_pattern_warnings(_copy(tmp_path / "before"))
    assert before == set(), "the example is warning-free"
    mismatches, judged = {}, {}
    for type_name in extendable_types(index):
        definition = index.definitions(type_name, (DefKind.DATA,))[0]
        ours = set()
        for site in index.match_sites_mentioning(definition.constructors):
            verdict = verdict_for_added_constructor(site, type_name, lookup,
                                                    new_constructor=FRESH)
            if verdict is not None and verdict.breaks:
                ours.add(f"{site.path}:{site.span.start_line}")
        workspace = _copy(tmp_path / type_name)
        _add_constructor(workspace, index, type_name)
        ghc = ghc_pattern_warnings(workspace) - before
        judged[type_name] = len(ghc)
        if ours != ghc:
            mismatches[type_name] = {"missed": sorted(ghc - ours), "extra": sorted(ours - ghc)}
    assert not mismatches
    assert judged["LLMKind"] == 7  # the README's list
    assert sum(judged.values()) > 15


def test_llmkind_catch_alls(index: WorkspaceIndex) -> None:
    lookup = constructor_lookup(index)
    absorbing = {}
    for site in index.match_sites_mentioning(index.constructors_of("LLMKind") or ()):
        verdict = verdict_for_added_constructor(site, "LLMKind", lookup)
        if verdict is not None and verdict.absorbed_by_lines:
            absorbing[site.name or site.enclosing] = verdict
    # The README's list of silent absorbers that pattern-match on LLMKind constructors
    # (isFlagship matches the pattern synonym Flagship, not a constructor).
    assert {"contextWindow", "discount", "escalate", "retryPolicy", "fallbackFor",
            "outcomeText"} <= set(absorbing)
    assert not any(v.breaks for v in absorbing.values())


def _copy(dest: Path) -> Path:
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns(".scout*", "dist*"))
    return dest


def _add_constructor(workspace: Path, index: WorkspaceIndex, type_name: str) -> None:
    """Append ``| ScoutFresh`` right after the last constructor, on the same line, so no line
    number moves."""
    definition = index.definitions(type_name, (DefKind.DATA,))[0]
    last = next(d for d in index.definitions(definition.constructors[-1],
                                             (DefKind.CONSTRUCTOR,))
                if d.parent == type_name)
    path = workspace / definition.path
    lines = path.read_text().split("\n")
    row, col = last.span.end_line - 1, last.span.end_col
    lines[row] = lines[row][:col] + f" | {FRESH}" + lines[row][col:]
    path.write_text("\n".join(lines))

"""The oracle's stand-ins against real GHC: a changed type or field breaks what the real change
would break and nothing else (a higher-kinded synonym's signatures keep passing their ambiguity
check; a newtype's field removal leaves positional uses alone; a record deriving Functor over
the changed field's parameter is still type-checked; a module whose first import sits in a
dropped preprocessor branch still sees the stand-in)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from oracle.helpers import FIXTURES, expected_cases, needs_ghc, tree_digest
from scout.explore.model import ChangeKind
from scout.haskell.index import WorkspaceIndex
from scout.oracle.oracle import Oracle, OracleError
from scout.oracle.targets import mutation_for

pytestmark = [pytest.mark.ghc, needs_ghc()]

STANDINS = FIXTURES / "standins"
CASES = expected_cases("standins")


@pytest.fixture(scope="module")
def index() -> WorkspaceIndex:
    return WorkspaceIndex.build(STANDINS, use_cache=False)


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory, index: WorkspaceIndex) -> Oracle:
    return Oracle(STANDINS, cache_dir=tmp_path_factory.mktemp("standins-cache"), index=index,
                  build="ghc")


@pytest.mark.parametrize("case", CASES, ids=[f"{c['change']}-{c['target']}" for c in CASES])
def test_exact_break_sites(case: dict, index: WorkspaceIndex, oracle: Oracle) -> None:
    before = tree_digest(STANDINS)
    mutation = mutation_for(index, case["target"], ChangeKind(case["change"]), case.get("subject"))
    result = oracle.check(mutation)
    locations = sorted(s.location for s in result.sites)
    assert locations == sorted(case["sites"])
    assert not set(case.get("not_sites", ())) & set(locations)
    assert result.skipped_modules == ()  # every module was checked to the end
    if "summary" in case:
        assert result.summary == case["summary"]
    assert tree_digest(STANDINS) == before


def test_a_stand_in_ghc_never_saw_is_an_error_not_an_empty_answer(tmp_path: Path) -> None:
    """When the edited module cannot see the helper module (here: the import GHC reads is
    taken away), the oracle says so instead of answering "nothing breaks"."""
    root = tmp_path / "standins"
    shutil.copytree(STANDINS, root)
    index = WorkspaceIndex.build(root, use_cache=False)
    mutation = mutation_for(index, "content", ChangeKind.CHANGE_FIELD_TYPE, "content")
    phase = mutation.phases[0]
    edit = next(e for e in phase.edits if e.path == "src/Stand/Core.hs")
    hidden = edit.mutated.replace("import qualified ScoutOracleHelpers\n",
                                  "-- import qualified ScoutOracleHelpers\n")
    assert hidden != edit.mutated
    broken = dataclasses.replace(mutation, phases=(dataclasses.replace(
        phase, edits=tuple(dataclasses.replace(e, mutated=hidden) if e is edit else e
                           for e in phase.edits)),))
    oracle = Oracle(root, cache_dir=tmp_path / "cache", index=index, build="ghc")
    with pytest.raises(OracleError, match="did not apply"):
        oracle.check(broken)


def test_a_synonym_in_an_instance_head_is_no_site_and_leaves_the_module_partly_checked(
        index: WorkspaceIndex, oracle: Oracle) -> None:
    # `instance Count Names`: GHC rejects a type family there (a hard error), a real new type
    # would be accepted; what the module would report after it stays unknown
    mutation = mutation_for(index, "Names", ChangeKind.CHANGE_TYPE_SYNONYM, None)
    result = oracle.check(mutation)
    assert "src/Stand/Heads.hs:10" not in {s.location for s in result.sites}
    assert "src/Stand/Heads.hs" in result.unchecked_paths

"""Every change kind against real GHC, through ``cabal build --offline`` and through
``ghc --make``: exact site sets on the kinds fixture (record updates, lazy pattern bindings and
lambdas, MINIMAL in both readings of adding a method, superclasses, type families, synonyms,
renames, field types); cabal's fallback with its reason; the layout following new modules and
``.cabal`` edits; cancellation killing GHC; the one walker's rules."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from pathlib import Path

import pytest

from oracle.helpers import FIXTURES, expected_cases, needs_ghc, tree_digest
from scout.cancel import Cancelled, CancelToken
from scout.explore.model import ChangeKind
from scout.haskell.index import WorkspaceIndex
from scout.oracle.mutate import SUPPORTED_CHANGES
from scout.oracle.oracle import Oracle, default_cache_dir
from scout.oracle.targets import mutation_for

pytestmark = [pytest.mark.ghc, needs_ghc()]

KINDS = FIXTURES / "kinds"
CASES = expected_cases("kinds")
needs_cabal = pytest.mark.skipif(shutil.which("cabal") is None,
                                 reason="cabal is not on PATH: apt-get install cabal-install")
BUILDS = [pytest.param("cabal", marks=needs_cabal), "ghc"]


def _case_id(case: dict) -> str:
    return "-".join(str(case[k]) for k in ("change", "target", "subject", "variant")
                    if case.get(k))


@pytest.fixture(scope="module")
def kinds_index() -> WorkspaceIndex:
    return WorkspaceIndex.build(KINDS, use_cache=False)


@pytest.fixture(scope="module")
def oracles(tmp_path_factory: pytest.TempPathFactory, kinds_index: WorkspaceIndex):
    cache = tmp_path_factory.mktemp("kinds-cache")
    made: dict[str, Oracle] = {}

    def get(build: str) -> Oracle:
        if build not in made:
            made[build] = Oracle(KINDS, cache_dir=cache / build, index=kinds_index, build=build)
        return made[build]

    return get


def test_the_kinds_fixture_covers_every_change_kind_and_both_method_readings() -> None:
    assert {ChangeKind(c["change"]) for c in CASES} == set(SUPPORTED_CHANGES)
    assert {c.get("variant") for c in CASES if c["change"] == "add_method"} >= {"required",
                                                                                "default"}


@pytest.mark.parametrize("build", BUILDS)
@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_exact_break_sites(case: dict, build: str, kinds_index: WorkspaceIndex, oracles) -> None:
    before = tree_digest(KINDS)
    oracle = oracles(build)
    mutation = mutation_for(kinds_index, case["target"], ChangeKind(case["change"]),
                            case.get("subject"), case.get("variant"))
    result = oracle.check(mutation)
    assert sorted(s.location for s in result.sites) == sorted(case["sites"])
    assert {s.module for s in result.skipped_modules} == set(case.get("skipped", ()))
    for location, flag in case.get("flags", {}).items():
        assert next(s.flag for s in result.sites if s.location == location) == flag
    assert ("cabal build --offline (Debian's packages)" in result.how) == (build == "cabal")
    assert tree_digest(KINDS) == before


def test_messages_name_what_changed(kinds_index: WorkspaceIndex, oracles) -> None:
    oracle = oracles("ghc")
    required = oracle.check(mutation_for(kinds_index, "Pretty", ChangeKind.ADD_METHOD))
    assert required.summary == ("add method scoutAddedPretty without default, joining the "
                                "MINIMAL formula of Pretty")
    assert all("No explicit implementation for" in s.reason and "scoutAddedPretty" in s.reason
               for s in required.sites)
    superclass = oracle.check(mutation_for(kinds_index, "Plain", ChangeKind.ADD_SUPERCLASS))
    assert "No instance for (ScoutOracleHelpers.ScoutSuper Box)" in superclass.sites[0].reason
    from scout.oracle.teacher import ghc_message_sentence

    sentence = ghc_message_sentence(superclass.sites[0].reason)
    assert "the new superclass Box" in sentence and "Scout" not in sentence


def _copy(tmp_path: Path, name: str = "kinds") -> Path:
    root = tmp_path / name
    shutil.copytree(FIXTURES / name, root)
    return root


def _add_module(root: Path, module: str, source: str) -> None:
    """Write src/Kinds/<module>.hs and list it in kinds.cabal."""
    (root / "src" / "Kinds" / f"{module}.hs").write_text(source)
    cabal = root / "kinds.cabal"
    cabal.write_text(cabal.read_text().replace(
        "Kinds.More\n", f"Kinds.More\n                      Kinds.{module}\n"))


@needs_cabal
def test_cabal_failure_falls_back_to_ghc_with_the_reason(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    cabal = root / "kinds.cabal"
    cabal.write_text(cabal.read_text().replace("build-depends:    base >=4 && <5",
                                               "build-depends:    base >=4 && <5, "
                                               "scout-no-such-package"))
    oracle = Oracle(root, cache_dir=tmp_path / "cache")
    index = WorkspaceIndex.build(root, use_cache=False)
    result = oracle.check(mutation_for(index, "Mode", ChangeKind.ADD_CONSTRUCTOR))
    assert [s.location for s in result.sites] == ["src/Kinds/Use.hs:42"]
    assert "ghc --make (cabal build --offline failed: " in result.how
    assert "scout-no-such-package" in result.how
    # The .cabal file is fixed: the next check goes back to cabal.
    cabal.write_text(cabal.read_text().replace(", scout-no-such-package", ""))
    again = oracle.check(mutation_for(index, "Mode", ChangeKind.ADD_CONSTRUCTOR))
    assert "cabal build --offline (Debian's packages)" in again.how
    assert [s.location for s in again.sites] == ["src/Kinds/Use.hs:42"]


@needs_cabal
def test_cabal_runs_use_a_private_config_without_hackage(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    oracle = Oracle(root, cache_dir=tmp_path / "cache", build="cabal")
    oracle.baseline()
    config = (tmp_path / "cache" / "cabal" / "config").read_text()
    assert not re.search(r"^\s*repository\b", config, re.M) and "hackage" not in config
    assert not list((tmp_path / "cache" / "work").glob("kinds-*/")), "scratch left behind"


@pytest.mark.parametrize("build", BUILDS)
def test_new_modules_and_cabal_edits_are_seen(tmp_path: Path, build: str) -> None:
    root = _copy(tmp_path)
    index = WorkspaceIndex.build(root, use_cache=False)
    oracle = Oracle(root, cache_dir=tmp_path / "cache", index=index, build=build)
    first = oracle.check(mutation_for(index, "Mode", ChangeKind.ADD_CONSTRUCTOR))
    assert [s.location for s in first.sites] == ["src/Kinds/Use.hs:42"]
    _add_module(root, "Extra", "module Kinds.Extra (slowName) where\nimport Kinds.Core\n\n"
                "slowName :: Mode -> String\nslowName m = case m of\n  Fast -> \"fast\"\n"
                "  Slow -> \"slow\"\n")
    second = oracle.check(mutation_for(index, "Mode", ChangeKind.ADD_CONSTRUCTOR))
    assert [s.location for s in second.sites] == ["src/Kinds/Extra.hs:5", "src/Kinds/Use.hs:42"]
    assert "Kinds.Extra" in oracle.layout.modules


def test_cancelling_kills_ghc_and_removes_the_scratch(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    # A type-check that would run for ages: the type doubles in size at every composition.
    _add_module(root, "Slow", "module Kinds.Slow where\n\nslow :: ()\nslow = let f0 x = (x, x); "
                "f1 = f0 . f0; f2 = f1 . f1; f3 = f2 . f2; f4 = f3 . f3; f5 = f4 . f4 "
                "in f5 () `seq` ()\n")
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    token = CancelToken()
    oracle = Oracle(root, cache_dir=tmp_path / "cache", build="ghc", timeout=120)
    import tempfile

    old_tmp = tempfile.tempdir
    tempfile.tempdir = str(private_tmp)
    try:
        timer = threading.Timer(1.0, token.cancel, args=("user cancelled",))
        timer.start()
        started = time.monotonic()
        with pytest.raises(Cancelled, match="user cancelled"):
            oracle.baseline(token)
        assert time.monotonic() - started < 10
        timer.join()
    finally:
        tempfile.tempdir = old_tmp
    assert list(private_tmp.iterdir()) == []


def test_the_walker_honours_gitignore_and_skips_symlinked_directories(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    (root / "lib").mkdir(parents=True)
    (root / "lib" / "Good.hs").write_text("module Good where\n\ngood :: Int\ngood = 1\n")
    (root / "generated").mkdir()
    (root / "generated" / "Broken.hs").write_text("module Broken where\n\nbroken = 1 +\n")
    (root / ".gitignore").write_text("generated/\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "Also.hs").write_text("module Also where\n\nalso = (\n")
    (root / "linked").symlink_to(outside, target_is_directory=True)
    oracle = Oracle(root, cache_dir=tmp_path / "cache", build="ghc")
    baseline = oracle.baseline()  # the broken files are neither compiled nor copied
    assert baseline.diagnostics == ()
    assert set(oracle.layout.modules) == {"Good"}


def test_one_cache_root_beside_the_index(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from scout.haskell.index import default_cache_dir as index_cache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "semantic-scout" / "oracle"
    assert default_cache_dir().parent == index_cache().parent


def test_expected_json_is_well_formed() -> None:
    data = json.loads((KINDS / "expected.json").read_text())
    assert data["skipped_modules"] == []


def test_cli_takes_the_reading_of_adding_a_method(capsys: pytest.CaptureFixture[str],
                                                  tmp_path: Path) -> None:
    from scout.oracle.cli import main as cli_main

    common = ["--root", str(KINDS), "--cache-dir", str(tmp_path), "--build", "ghc", "--json"]
    assert cli_main(["oracle", "What breaks if I add a method to Pretty?", *common]) == 0
    required = json.loads(capsys.readouterr().out)
    assert [s["location"] for s in required["sites"]] == ["src/Kinds/More.hs:10",
                                                          "src/Kinds/More.hs:13"]
    assert cli_main(["oracle", "--target", "Pretty", "--change", "add_method", "--variant",
                     "default", *common]) == 0
    assert json.loads(capsys.readouterr().out)["sites"] == []


@needs_cabal
def test_local_packages_that_depend_on_each_other_fall_back_to_ghc(tmp_path: Path) -> None:
    """With -fno-code cabal cannot build a package on top of another local library: the oracle
    notices the library it never type-checked and uses ghc --make over both, saying why."""
    root = tmp_path / "two"
    for pkg, deps, module, body in (
            ("alpha", "base", "Alpha", "data Colour = Red | Green\n"),
            ("beta", "base, alpha", "Beta", "import Alpha\n\nname :: Colour -> String\n"
                                            "name c = case c of\n  Red -> \"red\"\n"
                                            "  Green -> \"green\"\n")):
        (root / pkg / "src").mkdir(parents=True)
        (root / pkg / f"{pkg}.cabal").write_text(
            f"cabal-version: 2.4\nname: {pkg}\nversion: 0.1\n\nlibrary\n"
            f"    exposed-modules: {module}\n    hs-source-dirs: src\n"
            f"    build-depends: {deps}\n    default-language: Haskell2010\n")
        (root / pkg / "src" / f"{module}.hs").write_text(f"module {module} where\n\n{body}")
    oracle = Oracle(root, cache_dir=tmp_path / "cache")
    index = WorkspaceIndex.build(root, use_cache=False)
    result = oracle.check(mutation_for(index, "Colour", ChangeKind.ADD_CONSTRUCTOR))
    assert [s.location for s in result.sites] == ["beta/src/Beta.hs:6"]
    assert "did not type-check the library of beta" in result.how
    assert result.how.startswith("library modules of alpha.cabal, beta.cabal")


def test_patterns_behind_a_rejected_positional_pattern_are_found(tmp_path: Path) -> None:
    """Removing a field: a positional pattern with one argument too many is a hard error that
    stops every module downstream; the oracle pads the rejected patterns and runs again."""
    root = tmp_path / "pad"
    (root / "src").mkdir(parents=True)
    (root / "src" / "A.hs").write_text(
        "module A where\n\ndata P = P { px :: Int, py :: Int }\n\nswap :: P -> P\n"
        "swap (P a b) = P b a\n")
    (root / "src" / "B.hs").write_text(
        "module B where\nimport A\n\nsumP :: P -> Int\nsumP (P a b) = a + b\n")
    (root / "src" / "C.hs").write_text(
        "module C where\nimport A\nimport B\n\nfirst :: P -> Int\nfirst p = let P a _ = p in "
        "a + sumP p\n")
    index = WorkspaceIndex.build(root, use_cache=False)
    result = Oracle(root, cache_dir=tmp_path / "cache", index=index, build="ghc").check(
        mutation_for(index, "py", ChangeKind.REMOVE_FIELD))
    assert {"src/A.hs:6", "src/B.hs:5", "src/C.hs:6"} <= {s.location for s in result.sites}


@needs_cabal
def test_an_in_module_removal_stopped_by_a_boot_file_leaves_the_module_partly_checked(
        tmp_path: Path) -> None:
    """Removing the only constructor that uses a type parameter changes its role, so the
    `.hs-boot` file no longer matches: a hard error that stops the check of the uses in
    expressions (megaparsec's FancyError). The module is then partly checked: its silence at
    line 9 is not "no break"."""
    root = tmp_path / "ws"
    (root / "src").mkdir(parents=True)
    (root / "bt.cabal").write_text(
        "cabal-version: 2.4\nname: bt\nversion: 0.1\nlibrary\n  exposed-modules: Err, Use\n"
        "  hs-source-dirs: src\n  build-depends: base\n  default-language: Haskell2010\n")
    (root / "src" / "Err.hs").write_text(
        "{-# LANGUAGE TypeFamilies #-}\n"
        "module Err (Err (..), F, merge) where\n"
        "type family F a\n"
        "data Err a e = Triv (F a) | Fancy Int (F e)\n"
        "merge :: Err a e -> Err a e -> Err a e\n"
        "merge e1 e2 = case (e1, e2) of\n"
        "  (Fancy {}, Triv {}) -> e1\n"
        "  (Fancy n x, Fancy _ _) ->\n"
        "    Fancy n x\n"
        "  _ -> e2\n")
    (root / "src" / "Err.hs-boot").write_text(
        "{-# LANGUAGE RoleAnnotations #-}\nmodule Err (Err) where\n"
        "type role Err nominal nominal\ndata Err a e\n")
    (root / "src" / "Use.hs").write_text(
        "module Use (count) where\nimport {-# SOURCE #-} Err (Err)\n"
        "count :: Err a e -> Int\ncount _ = 0\n")
    index = WorkspaceIndex.build(root, use_cache=False)
    oracle = Oracle(root, cache_dir=tmp_path / "cache", index=index, build="cabal")
    result = oracle.check(mutation_for(index, "Fancy", ChangeKind.REMOVE_CONSTRUCTOR, "Fancy"))
    assert {f"{s.path}:{s.line}" for s in result.sites} == {"src/Err.hs:7", "src/Err.hs:8"}
    assert "src/Err.hs" in result.unchecked_paths  # line 9 was never checked
    assert "conflicting definitions" in result.unchecked_paths["src/Err.hs"]

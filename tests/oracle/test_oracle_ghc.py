"""The oracle against real GHC on the fixture workspaces: exact site sets for every change kind,
the user's tree untouched (also after SIGINT), and the clear errors."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oracle.helpers import FIXTURES, expected_cases, needs_ghc, tree_digest
from scout.explore.model import ChangeKind
from scout.oracle.cli import main as cli_main
from scout.oracle.mutate import SUPPORTED_CHANGES
from scout.oracle.oracle import BaselineBrokenError, GhcNotFoundError, Oracle
from scout.oracle.targets import mutation_for

pytestmark = [pytest.mark.ghc, needs_ghc()]

CASES = [(name, case) for name in ("shapes", "plain") for case in expected_cases(name)]


def _case_id(item: tuple[str, dict]) -> str:
    name, case = item
    return f"{name}-{case['change']}-{case['target']}" + (f"-{case['subject']}"
                                                            if case.get("subject") else "")


FIRST_KINDS = {ChangeKind.ADD_CONSTRUCTOR, ChangeKind.REMOVE_CONSTRUCTOR, ChangeKind.ADD_FIELD,
               ChangeKind.REMOVE_FIELD, ChangeKind.CHANGE_ARITY, ChangeKind.CHANGE_SIGNATURE,
               ChangeKind.ADD_METHOD, ChangeKind.REMOVE_EXPORT}


def test_fixtures_cover_the_first_change_kinds() -> None:
    """shapes (a cabal project) and plain (no .cabal file) each cover the first eight kinds;
    the kinds fixture (test_kinds_ghc.py) covers every kind."""
    assert FIRST_KINDS <= set(SUPPORTED_CHANGES)
    for name in ("shapes", "plain"):
        assert {ChangeKind(c["change"]) for c in expected_cases(name)} == FIRST_KINDS


@pytest.mark.parametrize("item", CASES, ids=[_case_id(c) for c in CASES])
def test_exact_break_sites(item: tuple[str, dict], fixture_index, oracle_cache: Path) -> None:
    name, case = item
    root = FIXTURES / name
    before = tree_digest(root)
    mutation = mutation_for(fixture_index(name), case["target"], ChangeKind(case["change"]),
                            case.get("subject"))
    result = Oracle(root, cache_dir=oracle_cache).check(mutation)
    assert sorted(s.location for s in result.sites) == sorted(case["sites"])
    skipped = {s.module for s in result.skipped_modules}
    expected_skipped = set(json.loads((root / "expected.json").read_text())["skipped_modules"])
    assert skipped == expected_skipped | set(case.get("skipped", ()))
    for site in result.sites:
        assert site.reason and site.span[0] == site.line <= site.span[1]
    assert tree_digest(root) == before


def test_baseline_is_cached_per_contents(tmp_path: Path, fixture_index) -> None:
    root = FIXTURES / "shapes"
    mutation = mutation_for(fixture_index("shapes"), "Shape", ChangeKind.ADD_CONSTRUCTOR)
    first = Oracle(root, cache_dir=tmp_path).check(mutation)
    second = Oracle(root, cache_dir=tmp_path).check(mutation)
    assert not first.baseline_cached and second.baseline_cached
    assert [s.location for s in first.sites] == [s.location for s in second.sites]
    assert len(list((tmp_path / "baselines").iterdir())) == 1


def test_a_project_that_does_not_compile_is_refused(oracle_cache: Path) -> None:
    root = FIXTURES / "broken"
    with pytest.raises(BaselineBrokenError) as caught:
        Oracle(root, cache_dir=oracle_cache).baseline()
    message = str(caught.value)
    assert "does not type-check before the mutation" in message
    assert "src/Bad.hs:6:14: • Couldn't match expected type ‘Int’" in message
    assert [e.path for e in caught.value.errors] == ["src/Bad.hs"]


def test_cli_reports_the_broken_project_on_stderr(capsys: pytest.CaptureFixture[str],
                                                  oracle_cache: Path) -> None:
    code = cli_main(["oracle", "--root", str(FIXTURES / "broken"), "--target", "greet",
                     "--change", "change_arity", "--cache-dir", str(oracle_cache), "--json"])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert "src/Bad.hs:6:14" in captured.err


def test_missing_ghc_is_a_clear_error(tmp_path: Path, fixture_index,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without ghc
    mutation = mutation_for(fixture_index("shapes"), "Shape", ChangeKind.ADD_CONSTRUCTOR)
    with pytest.raises(GhcNotFoundError, match="GHC is not on PATH: install it"):
        Oracle(FIXTURES / "shapes", cache_dir=tmp_path).check(mutation)


def test_cli_json_contract(capsys: pytest.CaptureFixture[str], oracle_cache: Path) -> None:
    code = cli_main(["oracle", "--root", str(FIXTURES / "shapes"), "--target", "Describe",
                     "--change", "add_method", "--cache-dir", str(oracle_cache), "--json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"sites", "checked_modules", "skipped_modules", "seconds"}
    assert [(s["location"], s["span"]) for s in doc["sites"]] == [
        ("src/Shapes/Render.hs:27", [27, 27]), ("src/Shapes/Use.hs:16", [16, 16])]
    assert all(set(s) == {"location", "span", "reason"} for s in doc["sites"])
    assert "No explicit implementation for" in doc["sites"][0]["reason"]
    assert doc["checked_modules"] == 5
    assert doc["skipped_modules"] == [{"module": "Main", "reason": "app/Main.hs is not part of "
                                                                   "a library component"}]


def test_typecheck_cmd_template(fixture_index, tmp_path: Path) -> None:
    template = ("ghc --make {flags} -isrc:{stubs} -optP-include -optP{stubs}/cabal_macros.h "
                "{files} {stubs}/Paths_shapes.hs")
    mutation = mutation_for(fixture_index("shapes"), "Shape", ChangeKind.ADD_CONSTRUCTOR)
    result = Oracle(FIXTURES / "shapes", cache_dir=tmp_path, typecheck_cmd=template).check(mutation)
    assert [s.location for s in result.sites] == [
        "src/Shapes/Render.hs:13", "src/Shapes/Types.hs:22", "src/Shapes/Types.hs:33"]


@pytest.mark.parametrize("build", ["ghc", pytest.param("cabal", marks=pytest.mark.skipif(
    shutil.which("cabal") is None, reason="cabal is not on PATH: apt-get install cabal-install"))])
def test_sigint_leaves_the_tree_and_no_scratch(tmp_path: Path, build: str) -> None:
    """Interrupt a real run while GHC works; the tree is byte-identical, scratch dirs are gone
    (a temporary one for ghc --make, the stable per-workspace one for cabal)."""
    root = FIXTURES / "shapes"
    before = tree_digest(root)
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    scratch = (private_tmp if build == "ghc" else tmp_path / "cache" / "work")
    pattern = "scout-oracle-*" if build == "ghc" else "shapes-*[!k]"
    env = {**os.environ, "TMPDIR": str(private_tmp)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "scout.oracle.cli", "oracle", "--root", str(root), "--target",
         "Shape", "--change", "remove_constructor", "--cache-dir", str(tmp_path / "cache"),
         "--build", build],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not any(scratch.glob(pattern)) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert any(scratch.glob(pattern)), "the oracle never made a scratch copy"
    time.sleep(0.15)  # let GHC start inside the scratch copy
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert "interrupted" in err
    assert list(scratch.glob(pattern)) == []
    assert tree_digest(root) == before


def test_cli_answers_a_free_text_question(capsys: pytest.CaptureFixture[str],
                                          oracle_cache: Path) -> None:
    code = cli_main(["oracle", "What breaks if I remove the constructor Square?", "--root",
                     str(FIXTURES / "shapes"), "--cache-dir", str(oracle_cache)])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("remove constructor Square: 4 break site(s), 5 modules checked")
    assert "  src/Shapes/Render.hs:15  In the use of data constructor ‘Square’" in out


def test_cli_rejects_an_unknown_change(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli_main(["oracle", "--root", str(FIXTURES / "shapes"), "--target", "Shape",
                     "--change", "rename_everything"])
    assert code == 2
    assert "unknown change 'rename_everything': use one of add_constructor" in capsys.readouterr().err


def test_a_template_without_the_cabal_macros_fails_clearly(tmp_path: Path) -> None:
    template = "ghc --make {flags} -isrc:{stubs} {files} {stubs}/Paths_shapes.hs"
    with pytest.raises(BaselineBrokenError, match="src/Shapes/Compat.hs:6:0: error: missing "
                                                  "binary operator"):
        Oracle(FIXTURES / "shapes", cache_dir=tmp_path, typecheck_cmd=template).baseline()


def test_an_edit_between_checks_gets_a_new_baseline(tmp_path: Path) -> None:

    from scout.haskell.index import WorkspaceIndex

    root = tmp_path / "ws"
    shutil.copytree(FIXTURES / "shapes", root)
    oracle = Oracle(root, cache_dir=tmp_path / "cache")
    index = WorkspaceIndex.build(root, use_cache=False)
    first = oracle.check(mutation_for(index, "Shape", ChangeKind.ADD_CONSTRUCTOR))
    assert len(first.sites) == 3
    render = root / "src" / "Shapes" / "Render.hs"
    render.write_text(render.read_text().replace("isRound _ = False", "isRound (Square _) = False\n"
                                                 "isRound (Rect _ _) = False"))
    index.update_file("src/Shapes/Render.hs", render.read_bytes())
    second = oracle.check(mutation_for(index, "Shape", ChangeKind.ADD_CONSTRUCTOR))
    assert not second.baseline_cached
    assert "src/Shapes/Render.hs:19" in {s.location for s in second.sites}  # no catch-all now


def test_a_renamed_or_removed_field_is_reported_where_its_module_uses_it_as_a_name(
        tmp_path: Path, oracle_cache: Path) -> None:
    """Record syntax naming the old field is a renamer error, which stops GHC before it
    reports the field used as a name (a selector, a RecordWildCards variable): the follow-up
    phase reports those too, in the defining module."""
    from scout.haskell.index import WorkspaceIndex

    (tmp_path / "R.hs").write_text(
        "{-# LANGUAGE RecordWildCards #-}\nmodule R where\n\n"
        "data R = R { size :: Int, name :: String }\n\n"
        "grow :: R -> R\ngrow r = r { size = 2 }\n\n"
        "sizeOf :: R -> Int\nsizeOf = size\n\n"
        "render :: R -> String\nrender R {..} = name ++ show size\n")
    index = WorkspaceIndex.build(tmp_path, use_cache=False)
    for change in (ChangeKind.RENAME_FIELD, ChangeKind.REMOVE_FIELD):
        result = Oracle(tmp_path, cache_dir=oracle_cache, index=index).check(
            mutation_for(index, "size", change))
        # the update (renamer error), the selector and the wildcard's variable
        assert [s.location for s in result.sites] == ["R.hs:7", "R.hs:10", "R.hs:13"], change

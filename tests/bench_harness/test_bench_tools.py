"""The benchmark tools themselves: fetch_debian's apt configuration and caching, and a real
(small) run of bench_index on the bundled example workspace."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
EXAMPLES = REPO / "examples"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def fetch() -> ModuleType:
    return _load("fetch_debian")


DEB_STANZA = """\
Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""


def test_deb_src_entry_mirrors_the_deb_entry_once(fetch: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "debian.sources").write_text(DEB_STANZA)
    added = fetch.ensure_deb_src(tmp_path, tmp_path / "sources.list")
    assert added == tmp_path / "scout-deb-src.sources"
    stanzas = fetch._deb822_stanzas(added.read_text())
    assert [s["Types"] for s in stanzas] == ["deb-src"]  # the security archive is not mirrored
    assert stanzas[0]["URIs"] == "http://deb.debian.org/debian"
    assert stanzas[0]["Suites"] == "bookworm bookworm-updates"
    assert stanzas[0]["Signed-By"] == "/usr/share/keyrings/debian-archive-keyring.gpg"
    # idempotent: the entry it wrote counts as present
    assert fetch.ensure_deb_src(tmp_path, tmp_path / "sources.list") is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["debian.sources",
                                                          "scout-deb-src.sources"]


def test_existing_deb_src_lines_are_respected(fetch: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "debian.sources").write_text(DEB_STANZA)
    legacy = tmp_path / "sources.list"
    legacy.write_text("deb-src [arch=amd64] http://deb.debian.org/debian bookworm main\n")
    assert fetch.ensure_deb_src(tmp_path, legacy) is None
    assert not (tmp_path / "scout-deb-src.sources").exists()


def test_one_line_style_deb_entries_are_mirrored(fetch: ModuleType, tmp_path: Path) -> None:
    legacy = tmp_path / "sources.list"
    legacy.write_text("# main archive\n"
                      "deb [arch=amd64 signed-by=/k.gpg] http://deb.debian.org/debian bookworm main\n"
                      "deb https://deb.nodesource.com/node_20.x nodistro main\n")
    added = fetch.ensure_deb_src(tmp_path, legacy)
    assert added == tmp_path / "scout-deb-src.list"
    assert added.read_text() == (
        "deb-src [arch=amd64 signed-by=/k.gpg] http://deb.debian.org/debian bookworm main\n")
    assert fetch.ensure_deb_src(tmp_path, legacy) is None


def test_no_debian_entry_is_a_clear_error(fetch: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "node.sources").write_text(
        "Types: deb\nURIs: https://deb.nodesource.com/node_20.x\nSuites: nodistro\n")
    with pytest.raises(fetch.FetchError, match="add a deb-src entry"):
        fetch.ensure_deb_src(tmp_path, tmp_path / "sources.list")


def test_a_fetched_package_is_not_fetched_again(fetch: ModuleType, tmp_path: Path) -> None:
    pkg = tmp_path / "somepkg"
    (pkg / "src").mkdir(parents=True)
    (pkg / "src" / "A.hs").write_text("module A where\nx = 1\n")
    (pkg / "src" / "B.lhs").write_text("> module B where\n")
    (pkg / "dist-newstyle").mkdir()
    (pkg / "dist-newstyle" / "Gen.hs").write_text("module Gen where\n")
    (pkg / ".scout-fetched").write_text("haskell-somepkg 1.0-1\n")
    [source] = fetch.fetch_all(["somepkg"], tmp_path)
    assert not source.fetched_now
    assert (source.version, source.files, source.lines) == ("haskell-somepkg 1.0-1", 2, 3)


def test_bench_index_runs_on_the_example_workspace() -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH / "bench_index.py"), "--root", str(EXAMPLES), "--runs", "1",
         "--update-repeats", "2", "--json"],
        capture_output=True, text=True, cwd=REPO, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    sources = sorted(EXAMPLES.rglob("*.hs"))
    assert report["files"] == len(sources) == report["index_stats"]["files"]
    assert report["lines"] == sum(p.read_bytes().count(b"\n") for p in sources)
    assert report["index_stats"]["files_with_errors"] == 0
    assert report["update_file_lines"] == max(p.read_bytes().count(b"\n") for p in sources)
    for key in ("parse_s", "cold_s", "warm_s", "update_ms", "update_first_ms", "peak_mb"):
        assert report[key] > 0, key
    assert report["cold_vs_parse"] == pytest.approx(report["cold_s"] / report["parse_s"])
    assert len(report["targets"]) == 4


def test_bench_index_names_the_fetch_command_for_missing_packages() -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH / "bench_index.py"), "--packages", "no-such-haskell-pkg"],
        capture_output=True, text=True, cwd=REPO, timeout=60, check=False)
    assert proc.returncode == 1
    assert "python bench/fetch_debian.py no-such-haskell-pkg" in proc.stderr

"""Index one real Haskell project from Debian (xmonad 0.17.1) and check what comes out.

Needs the sources: ``python bench/fetch_debian.py xmonad`` (writes bench/.cache/debian/xmonad).
The facts checked are facts of xmonad's own source (src/XMonad/Core.hs, StackSet.hs, Layout.hs),
stable across its 0.17 releases.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scout.haskell.index import WorkspaceIndex
from scout.haskell.model import Definition, DefKind, MatchKind, Role

pytestmark = pytest.mark.debian

XMONAD = Path(__file__).resolve().parents[1] / "bench" / ".cache" / "debian" / "xmonad"
FETCHED_MARKER = XMONAD / ".scout-fetched"  # fetch_debian.py writes it after a complete unpack


@pytest.fixture(scope="module")
def xmonad(tmp_path_factory: pytest.TempPathFactory) -> WorkspaceIndex:
    if not FETCHED_MARKER.exists():
        pytest.skip(f"xmonad sources are not in {XMONAD}: run "
                    "`python bench/fetch_debian.py xmonad` (needs apt and network access to "
                    "Debian's source archive)")
    return WorkspaceIndex.build(XMONAD, cache_dir=tmp_path_factory.mktemp("index-cache"))


def one(index: WorkspaceIndex, name: str, kind: DefKind) -> Definition:
    found = [d for d in index.definitions(name) if d.kind is kind]
    assert len(found) == 1, f"expected one {kind} {name}, found {found}"
    return found[0]


def test_parse_error_rate_is_below_two_percent(xmonad: WorkspaceIndex) -> None:
    stats = xmonad.stats()
    assert stats.files >= 25, "xmonad 0.17 has ~29 Haskell files (src/, tests/, Main.hs)"
    assert not stats.skipped, stats.skipped
    assert len(stats.files_with_errors) / stats.files < 0.02, stats.files_with_errors
    assert "src/XMonad/Core.hs" in xmonad.files
    assert xmonad.files["src/XMonad/Core.hs"].module == "XMonad.Core"


def test_definition_counts_are_plausible(xmonad: WorkspaceIndex) -> None:
    counts: dict[DefKind, int] = {}
    for fi in xmonad.files.values():
        for d in fi.definitions:
            counts[d.kind] = counts.get(d.kind, 0) + 1
    # lower bounds well under what xmonad 0.17.1 has (374 functions, 42 constructors, ...)
    assert counts.get(DefKind.FUNCTION, 0) > 250
    assert counts.get(DefKind.DATA, 0) + counts.get(DefKind.NEWTYPE, 0) > 25
    assert counts.get(DefKind.CONSTRUCTOR, 0) > 30
    assert counts.get(DefKind.FIELD, 0) > 40
    assert counts.get(DefKind.INSTANCE, 0) > 20
    assert counts.get(DefKind.DERIVED_INSTANCE, 0) > 50
    assert counts.get(DefKind.CLASS, 0) == 3  # LayoutClass, Message, ExtensionClass
    assert counts.get(DefKind.MODULE, 0) >= 20
    stats = xmonad.stats()
    assert stats.references > 5000
    assert stats.match_sites > 300


def test_xconfig_record_and_its_uses(xmonad: WorkspaceIndex) -> None:
    data = one(xmonad, "XConfig", DefKind.DATA)
    assert (data.path, data.module) == ("src/XMonad/Core.hs", "XMonad.Core")
    assert data.span.start_line == data.name_span.start_line == 109
    assert xmonad.constructors_of("XConfig") == ("XConfig",)
    con = one(xmonad, "XConfig", DefKind.CONSTRUCTOR)
    assert con.parent == "XConfig"
    assert {"normalBorderColor", "terminal", "layoutHook", "manageHook", "workspaces",
            "modMask", "keys", "borderWidth", "startupHook"} <= set(con.fields)
    assert one(xmonad, "modMask", DefKind.FIELD).parent == "XConfig"
    in_config = {r.line: r.role for r in xmonad.references("XConfig")
                 if r.path == "src/XMonad/Config.hs"}
    # 184: `keys :: XConfig Layout -> ...`; 185: `keys conf@(XConfig {XMonad.modMask = modMask})`
    # 258: `instance (...) => Default (XConfig a) where`; 259: `def = XConfig { ...`
    assert in_config[184] in (Role.SIGNATURE, Role.TYPE)
    assert in_config[185] in (Role.PATTERN, Role.RECORD_PATTERN)
    assert in_config[258] is Role.INSTANCE_HEAD
    assert in_config[259] is Role.RECORD_CONSTRUCT


def test_layout_class_methods_defaults_superclasses_and_instances(
        xmonad: WorkspaceIndex) -> None:
    cls = one(xmonad, "LayoutClass", DefKind.CLASS)
    methods = {"runLayout", "doLayout", "pureLayout", "emptyLayout", "handleMessage",
               "pureMessage", "description"}
    assert set(cls.methods) == methods
    assert set(cls.defaults) == methods  # every LayoutClass method has a default
    assert set(cls.superclasses) == {"Show", "Typeable"}
    instances = [d for d in xmonad.definitions("LayoutClass") if d.kind is DefKind.INSTANCE]
    heads = {d.instance_types[0] for d in instances if d.instance_types}
    assert {"Layout", "Full", "Tall", "Mirror", "Choose"} <= heads


def test_windowset_synonym_and_stackset(xmonad: WorkspaceIndex) -> None:
    synonym = one(xmonad, "WindowSet", DefKind.TYPE_SYNONYM)
    assert synonym.path == "src/XMonad/Core.hs"
    assert "StackSet" in synonym.mentions
    assert xmonad.constructors_of("StackSet") == ("StackSet",)
    assert one(xmonad, "StackSet", DefKind.CONSTRUCTOR).fields == (
        "current", "visible", "hidden", "floating")
    assert one(xmonad, "Stack", DefKind.CONSTRUCTOR).fields == ("focus", "up", "down")


def test_x_monad_newtype_derives_its_instances(xmonad: WorkspaceIndex) -> None:
    assert one(xmonad, "X", DefKind.NEWTYPE).constructors == ("X",)
    derived = {d.parent for fi in xmonad.files.values() for d in fi.definitions
               if d.kind is DefKind.DERIVED_INSTANCE and d.instance_types == ("X",)}
    assert {"Functor", "Applicative", "Monad", "MonadIO", "MonadState", "MonadReader"} <= derived


def test_resize_is_matched_exhaustively_in_tall(xmonad: WorkspaceIndex) -> None:
    assert xmonad.constructors_of("Resize") == ("Shrink", "Expand")
    assert xmonad.type_of_constructor("Shrink") == "Resize"
    # `where resize Shrink = ...; resize Expand = ...` inside `instance LayoutClass Tall a`
    sites = [s for s in xmonad.match_sites_mentioning(["Shrink"])
             if s.kind is MatchKind.FUNCTION and s.name == "resize"]
    assert len(sites) == 1
    site = sites[0]
    assert site.path == "src/XMonad/Layout.hs"
    assert {"Shrink", "Expand"} <= site.constructors
    assert not site.has_catch_all

"""Code a Haskell file brings in with CPP's `#include`: indexed at the included file's own path
and lines as the including module's code, found as cpp finds it, never twice, and kept right
through edits of either file."""

from __future__ import annotations

import textwrap
from pathlib import Path

import scout.haskell.extract as extract_module
from scout.haskell.discover import read_source
from scout.haskell.index import WorkspaceIndex
from scout.haskell.model import DefKind
from scout.haskell.preprocess import header_reader, select_branches

INCLUDER = textwrap.dedent("""\
    {-# LANGUAGE CPP #-}
    module Inst (after) where
    import Data.Char (toUpper)
    #define WITH_PAIRS
    #include "instances"
    #include "defs.h"
    after :: Int
    after = LIMIT
    """)
INCLUDED = textwrap.dedent("""\
    /* a licence,
       over two lines */
    #ifdef WITH_PAIRS
    pairs :: (Int, Int) -> Int
    pairs (a, b) = a + b
    #endif
    #ifdef WITH_TRIPLES
    triples :: (Int, Int, Int) -> Int
    triples (a, b, c) = a + b + c
    #endif
    """)
CABAL = "name: w\nlibrary\n  hs-source-dirs: src\n  include-dirs:\n    include, internal\n"


def workspace(make_workspace, **more: str) -> Path:
    return make_workspace({"w.cabal": CABAL, "src/Inst.hs": INCLUDER,
                           "internal/instances": INCLUDED,
                           "include/defs.h": "/* only macros */\n#define LIMIT 3\n", **more})


def functions(index: WorkspaceIndex, path: str) -> dict[str, tuple[int, str]]:
    return {d.name: (d.span.start_line, d.module) for d in index.files[path].definitions
            if d.kind is DefKind.FUNCTION}


def test_included_code_is_its_own_entry_at_its_own_lines(make_workspace):
    root = workspace(make_workspace)
    index = WorkspaceIndex.build(root, use_cache=False)
    # found through the .cabal's include-dirs; a header of #defines only is no entry
    assert set(index.summaries) == {"src/Inst.hs", "internal/instances"}
    entry = index.summaries["internal/instances"]
    assert entry.included_by == ("src/Inst.hs",) and entry.module == "Inst"
    # the header of macros only is a dependency (its edits change the includer), no entry
    assert index.summaries["src/Inst.hs"].includes == ("include/defs.h", "internal/instances")
    # what cpp keeps at the include point, at the included file's lines; the includer's own
    # lines keep their numbers and its code is not indexed twice
    assert functions(index, "internal/instances") == {"pairs": (5, "Inst")}
    assert functions(index, "src/Inst.hs") == {"after": (8, "Inst")}
    assert index.files["internal/instances"].problems == []
    # the includer's imports are in scope (inherited: line 0, not a line of this file)
    assert [(i.module, i.line) for i in entry.imports] == [("Data.Char", 0)]
    assert {(r.path, r.line) for r in index.references("Int")} == {
        ("internal/instances", 4), ("src/Inst.hs", 7)}


def test_each_includer_keeps_its_part_and_a_hs_module_is_indexed_once(make_workspace):
    other = INCLUDER.replace("module Inst (after)", "module Other (other)") \
        .replace("WITH_PAIRS", "WITH_TRIPLES").replace("after", "other")
    root = workspace(make_workspace, **{"src/Other.hs": other, "src/Both.hs": textwrap.dedent(
        """\
        {-# LANGUAGE CPP #-}
        module Both where
        #include "Plain.hs"
        """), "src/Plain.hs": "module Plain where\nplain :: Int\nplain = 1\n"})
    index = WorkspaceIndex.build(root, use_cache=False)
    assert functions(index, "internal/instances") == {"pairs": (5, "Inst"),
                                                      "triples": (9, "Other")}
    assert index.summaries["internal/instances"].included_by == ("src/Inst.hs", "src/Other.hs")
    # an included file the walker indexes as itself keeps that one entry
    assert [d.path for d in index.definitions("plain")] == ["src/Plain.hs"]


def test_cycles_missing_and_huge_includes_stop_quietly(make_workspace, monkeypatch):
    from scout.haskell import preprocess
    root = make_workspace({"src/a.inc": '#include "b.inc"\nfromA = 1\n',
                           "src/b.inc": '#include "a.inc"\nfromB = 2\n',
                           "src/big.inc": "big = 1\n" + "-- x\n" * 100,
                           "src/M.hs": ""})
    spliced: dict[str, bytes] = {}
    code = b'#include "a.inc"\n#include "missing.h"\n#include "big.inc"\nm = 0\n'
    monkeypatch.setattr(preprocess, "MAX_HEADER_BYTES", 100)
    out = select_branches(code, include=header_reader(root, "src/M.hs"), spliced=spliced)
    assert out == b"\n\n\nm = 0\n"  # the includer's lines are its own
    assert sorted(spliced) == ["src/a.inc", "src/b.inc"]  # the cycle ends; big is not read
    assert spliced["src/a.inc"] == b"\nfromA = 1\n"


def test_the_reader_never_leaves_the_workspace(make_workspace, tmp_path):
    outside = tmp_path / "secret.inc"
    outside.write_text("secret = 1\n")
    root = make_workspace({"src/M.hs": "", "w.cabal": "library\n  include-dirs: ../..\n"})
    (root / "src" / "link.inc").symlink_to(outside)
    read = header_reader(root, "src/M.hs")
    assert read("link.inc") is None and read("../secret.inc") is None
    assert read("/etc/hostname") is None and read("secret.inc") is None


def test_edits_of_the_includer_and_of_the_included_file_reach_the_entry(make_workspace):
    root = workspace(make_workspace)
    index = WorkspaceIndex.build(root, use_cache=False)
    # the includer now picks the other part
    index.update_file("src/Inst.hs", INCLUDER.replace("WITH_PAIRS", "WITH_TRIPLES").encode())
    assert functions(index, "internal/instances") == {"triples": (9, "Inst")}
    # the included file edited in the editor (not saved): its entry reads the new text
    edited = INCLUDED.replace("triples (a, b, c) = a + b + c",
                              "triples (a, b, c) = a\ntripled :: Int\ntripled = 3")
    index.update_file("internal/instances", edited.encode())
    assert functions(index, "internal/instances") == {"triples": (9, "Inst"),
                                                      "tripled": (11, "Inst")}
    assert index.is_edited("internal/instances")
    assert "internal/instances" not in index.skipped
    # the includer stops including it: the entry goes
    index.update_file("src/Inst.hs", INCLUDER.replace('#include "instances"\n', "\n").encode())
    assert set(index.summaries) == {"src/Inst.hs"}
    assert index.definitions("triples") == []
    # and comes back from the disk when it includes it again
    index.refresh_from_disk("src/Inst.hs")
    assert functions(index, "internal/instances") == {"pairs": (5, "Inst")}


def test_the_cache_does_not_keep_included_entries(make_workspace, tmp_path):
    root = workspace(make_workspace)
    cache = tmp_path / "cache"
    first = WorkspaceIndex.build(root, cache_dir=cache)
    second = WorkspaceIndex.build(root, cache_dir=cache)
    assert second.cached_files == 1
    assert functions(second, "internal/instances") == functions(first, "internal/instances")
    assert read_source(root, "src/Inst.hs").includes[1][0] == "internal/instances"


def test_an_edit_that_keeps_the_included_code_does_not_rebuild_its_entry(make_workspace):
    root = workspace(make_workspace)
    index = WorkspaceIndex.build(root, use_cache=False)
    # the first edit learns the code it keeps
    index.update_file("src/Inst.hs", INCLUDER.replace("after = LIMIT", "after = 5").encode())
    entry = index.files["internal/instances"]
    index.update_file("src/Inst.hs", INCLUDER.replace("after = LIMIT", "after = 4").encode())
    assert index.files["internal/instances"] is entry
    # a new import of the includer is the included code's too
    index.update_file("src/Inst.hs", INCLUDER.replace(
        "import Data.Char (toUpper)", "import Data.Char (toUpper)\nimport Data.List (sort)"
    ).encode())
    assert [i.module for i in index.summaries["internal/instances"].imports] == [
        "Data.Char", "Data.List"]


def test_edits_inside_a_long_declaration_of_a_cpp_module_equal_a_fresh_index(make_workspace,
                                                                            monkeypatch):
    # the includer's long list is re-extracted piecewise (incremental extraction inside one
    # declaration); CPP branches and macros change what the parser sees line for line
    elements = "\n".join(
        f"  , (\"k{i}\", LIMIT + {i}, \\x -> case x of {{ Just y -> y; Nothing -> {i} }})"
        if i % 5 else
        f"#ifdef WITH_PAIRS\n  , (\"p{i}\", pairs ({i}, {i}), id)\n#else\n"
        f"  , (\"q{i}\", {i}, const {i})\n#endif"
        for i in range(1, 120))
    table = ("table :: [(String, Int, Maybe Int -> Int)]\ntable =\n  [ (\"k0\", 0, const 0)\n"
             + elements + "\n  ]\n")
    includer = INCLUDER + table
    root = workspace(make_workspace, **{"src/Inst.hs": includer})
    index = WorkspaceIndex.build(root, use_cache=False)
    text = includer + "-- edited\n"  # not the disk's text: the index keeps the tree, so the
    index.update_file("src/Inst.hs", text.encode())  # edits after it are incremental
    inside = extract_module._reextract_inside
    taken: list[str] = []

    def counting(*args, **kwargs):
        result = inside(*args, **kwargs)
        if result is not None:
            taken.append(label)
        return result

    monkeypatch.setattr(extract_module, "_reextract_inside", counting)
    edits = [
        ("type in an element", '"k61", LIMIT + 61', '"k61", LIMIT + 61 * 2'),
        ("a line inside a branch", '  , ("p60", pairs (60, 60), id)',
         '  , ("p60", pairs (60, 60), id)\n  , ("p60b", 1, id)'),
        ("a blank line", '  , ("k62"', '\n  , ("k62"'),
        ("delete an element", '  , ("k63", LIMIT + 63, \\x -> case x of '
                              '{ Just y -> y; Nothing -> 63 })\n', ""),
        ("switch the branches", "#define WITH_PAIRS\n", "#define WITH_OTHER\n"),
        ("switch them back", "#define WITH_OTHER\n", "#define WITH_PAIRS\n"),
        ("rename a use", "pairs (70, 70)", "triples (70, 70, 70)"),
    ]
    for label, old, new in edits:
        assert old in text, label
        text = text.replace(old, new, 1)
        incremental = index.update_file("src/Inst.hs", text.encode())
        fresh = WorkspaceIndex.build(root, use_cache=False)
        full = fresh.update_file("src/Inst.hs", text.encode())
        assert incremental.definitions == full.definitions, label
        assert incremental.match_sites == full.match_sites, label
        assert sorted(incremental.references.all("src/Inst.hs"), key=repr) == \
            sorted(full.references.all("src/Inst.hs"), key=repr), label
        included = "internal/instances"
        assert (included in index.summaries) == (included in fresh.summaries), label
        if included in fresh.summaries:
            assert index.files[included].definitions == fresh.files[included].definitions
    # edits inside one element took the piecewise path
    assert {"type in an element", "a line inside a branch", "rename a use"} <= set(taken)


def test_an_edit_of_a_header_reaches_its_includers_code(make_workspace):
    includer = INCLUDER + "#ifdef HAVE_EXTRA\nextra :: Int\nextra = LIMIT\n#endif\n"
    header = "/* only macros */\n#define LIMIT 3\n"
    root = workspace(make_workspace, **{"src/Inst.hs": includer})
    index = WorkspaceIndex.build(root, use_cache=False)
    assert "include/defs.h" in index.snapshot().included_paths()
    assert "extra" not in functions(index, "src/Inst.hs")
    # typed in the editor: the includer's cpp now keeps the block
    index.update_file("include/defs.h", (header + "#define HAVE_EXTRA\n").encode())
    assert functions(index, "src/Inst.hs") == {"after": (8, "Inst"), "extra": (11, "Inst")}
    assert "include/defs.h" not in index.summaries  # still no entry of its own
    # an edit that keeps the includer's code leaves its entry as it is
    kept = index.files["src/Inst.hs"]
    index.update_file("include/defs.h", (header + "#define HAVE_EXTRA\n/* x */\n").encode())
    assert index.files["src/Inst.hs"] is kept
    # saved differently on disk: read from there
    (root / "include/defs.h").write_text(header)
    index.refresh_from_disk("include/defs.h")
    assert "extra" not in functions(index, "src/Inst.hs")
    assert not index.is_edited("include/defs.h")

"""The workspace index on the bundled example and on small targeted workspaces."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scout.haskell.discover import read_source
from scout.haskell.index import WorkspaceIndex, _apply_edit
from scout.haskell.model import DefKind, MatchKind, PatKind, Role


def defs(index: WorkspaceIndex, name: str, kind: DefKind):
    return index.definitions(name, (kind,))


def one_file(make_workspace, source: str, name: str = "src/M.hs") -> WorkspaceIndex:
    root = make_workspace({name: textwrap.dedent(source)})
    return WorkspaceIndex.build(root, use_cache=False)


# -- definitions on the example ------------------------------------------------------------

def test_example_has_no_parse_errors_and_every_module(example_index):
    st = example_index.stats()
    assert st.files_with_errors == ()
    modules = {fi.module for fi in example_index.files.values()}
    assert modules == {"LLM.Types", "LLM.Config", "LLM.Pricing", "LLM.Query", "LLM.Router",
                       "LLM.Report", "LLM.Service"}


def test_sum_type_with_constructors_and_deriving(example_index):
    (llm,) = defs(example_index, "LLMKind", DefKind.DATA)
    assert llm.constructors == ("Sonnet", "Opus", "Haiku")
    assert llm.module == "LLM.Types" and llm.path == "src/LLM/Types.hs"
    assert example_index.type_of_constructor("Opus") == "LLMKind"
    derived = {d.parent for d in example_index.definitions_of_kind(DefKind.DERIVED_INSTANCE)
               if "LLMKind" in d.instance_types}
    assert derived == {"Show", "Eq", "Ord", "Enum", "Bounded"}


def test_records_newtypes_strategies_and_standalone_deriving(example_index):
    (req,) = defs(example_index, "Request", DefKind.CONSTRUCTOR)
    assert req.fields == ("requestId", "requestKind", "requestTier", "requestMessages",
                          "maxTokens")
    assert req.arity == 5
    (field,) = defs(example_index, "requestKind", DefKind.FIELD)
    assert field.parent == "Request" and "LLMKind" in field.mentions
    (tokens,) = defs(example_index, "Tokens", DefKind.NEWTYPE)
    assert tokens.constructors == ("Tokens",)
    newtype_derived = [d for d in example_index.definitions_of_kind(DefKind.DERIVED_INSTANCE)
                       if d.instance_types == ("Tokens",)]
    assert {d.deriving_strategy for d in newtype_derived} == {"newtype"}
    standalone = [d for d in example_index.definitions_of_kind(DefKind.DERIVED_INSTANCE)
                  if d.standalone and "RequestId" in d.instance_types]
    assert {d.parent for d in standalone} == {"Show", "Eq"}


def test_class_methods_defaults_superclass_and_instances(example_index):
    (priced,) = defs(example_index, "Priced", DefKind.CLASS)
    assert "Show" in priced.superclasses
    assert "outputPrice" in priced.methods and "outputPrice" in priced.defaults
    instances = [d for d in example_index.definitions_of_kind(DefKind.INSTANCE)
                 if d.parent == "Priced"]
    assert {d.instance_types for d in instances} == {("LLMKind",), ("Tier",)}
    (discounted,) = defs(example_index, "Discounted", DefKind.CLASS)
    assert discounted.superclasses == ("Priced",)


def test_type_families_synonyms_gadts_operators_pattern_synonyms(example_index):
    assert defs(example_index, "Rate", DefKind.TYPE_FAMILY)
    assert len(defs(example_index, "Rate", DefKind.TYPE_INSTANCE)) >= 2
    assert defs(example_index, "Billed", DefKind.TYPE_FAMILY)
    assert defs(example_index, "Budget", DefKind.TYPE_SYNONYM)
    (query,) = defs(example_index, "Query", DefKind.DATA)
    assert len(query.constructors) >= 3  # GADT constructors
    assert defs(example_index, ":>", DefKind.CONSTRUCTOR)[0].arity == 2
    assert defs(example_index, "<+>", DefKind.FUNCTION)
    assert defs(example_index, "Flagship", DefKind.PATTERN_SYNONYM)


def test_imports_exports_and_qualification(example_index):
    types = example_index.files["src/LLM/Types.hs"]
    exported = {e.name: e for e in types.exports}
    assert exported["LLMKind"].with_children and exported["LLMKind"].children == ("..",)
    config = example_index.files["src/LLM/Config.hs"]
    qualified = [i for i in config.imports if i.qualified]
    assert any(i.module == "Data.Map.Strict" and i.alias == "Map" for i in qualified)
    router = example_index.files["src/LLM/Router.hs"]
    assert any(i.module == "Prelude" and i.hiding and i.names == ("lookup",)
               for i in router.imports)
    service = example_index.files["src/LLM/Service.hs"]
    assert any(e.name == "module LLM.Types" for e in service.exports)
    uses = [r for r in example_index.references("fromList") if r.qualifier == "Map"]
    assert uses and all(r.role is Role.EXPRESSION for r in uses)


def test_reference_roles(example_index):
    roles = {r.role for r in example_index.references("LLMKind")}
    assert {Role.SIGNATURE, Role.EXPORT, Role.TYPE, Role.INSTANCE_HEAD} <= roles
    opus = {r.role for r in example_index.references("Opus")}
    assert {Role.PATTERN, Role.EXPRESSION} <= opus
    config_roles = {r.role for r in example_index.references("Config")}
    assert Role.RECORD_CONSTRUCT in config_roles and Role.RECORD_PATTERN in config_roles
    field_roles = {r.role for r in example_index.references("dailyBudget")}
    assert {Role.RECORD_UPDATE, Role.RECORD_CONSTRUCT} <= field_roles


def test_match_sites_with_constructor_sets_and_catch_alls(example_index):
    sites = {(s.path, s.span.start_line): s for s in
             example_index.match_sites_mentioning(("Sonnet", "Opus", "Haiku"))}
    model_name = sites[("src/LLM/Types.hs", 102)]
    assert model_name.kind is MatchKind.FUNCTION and model_name.name == "modelName"
    assert model_name.constructors == {"Sonnet", "Opus", "Haiku"} and not model_name.has_catch_all
    tier_of = sites[("src/LLM/Types.hs", 114)]
    assert tier_of.kind is MatchKind.LAMBDA_CASE
    window = next(s for (p, _), s in sites.items()
                  if p == "src/LLM/Types.hs" and s.enclosing == "contextWindow")
    assert window.kind is MatchKind.CASE and window.has_catch_all


# -- targeted constructs ---------------------------------------------------------------------

def test_patterns_reduce_to_the_exhaustiveness_model(make_workspace):
    index = one_file(make_workspace, """\
        module M where
        f (Just (x, _)) [] = 1
        f Nothing (y : ys) = 2
        f ~z [a, b] = 3
        f all@(Just _) "lit" = 4
        f (Config { name = n }) 5 = 5
        """)
    (site,) = [s for s in index.files["src/M.hs"].match_sites if s.kind is MatchKind.FUNCTION]
    assert len(site.rows) == 5
    first = site.rows[0].patterns
    assert first[0].kind is PatKind.CON and first[0].name == "Just"
    assert first[0].args[0].name == "(,)" and first[1].name == "[]"
    assert site.rows[1].patterns[1].name == ":"
    assert site.rows[2].patterns[0].kind is PatKind.WILD  # lazy patterns never fail
    assert site.rows[2].patterns[1].name == ":"  # [a, b] = a : b : []
    assert site.rows[3].patterns[1].kind is PatKind.LIT
    record = site.rows[4].patterns[0]
    assert record.name == "Config" and record.fields[0][0] == "name"


def test_guards_and_where_bound_clause_groups(make_workspace):
    index = one_file(make_workspace, """\
        module M where
        g x
          | x > 0 = go x
          | otherwise = 0
          where
            go A = 1
            go B = 2
        h y | y > 1 = 0
        """)
    sites = index.files["src/M.hs"].match_sites
    go = next(s for s in sites if s.name == "go")
    assert go.enclosing == "g" and len(go.rows) == 2
    g = next(s for s in sites if s.name == "g")
    assert not g.rows[0].guarded  # `otherwise` makes the clause total
    h = next(s for s in sites if s.name == "h")
    assert h.rows[0].guarded


def test_broken_file_is_indexed_as_far_as_it_parses(make_workspace):
    root = make_workspace({
        "Good.hs": "module Good where\ndata T = A | B\n",
        "Bad.hs": "module Bad where\nimport Good\nf :: T -> Int\nf A = 1\nf B = = 2\n"
                  "g = case x of\n  A -> 1\n",
    })
    index = WorkspaceIndex.build(root, use_cache=False)
    st = index.stats()
    assert st.files == 2 and st.files_with_errors == ("Bad.hs",)
    problems = index.files["Bad.hs"].problems
    assert problems and problems[0].line == 5
    assert index.definitions("f", (DefKind.FUNCTION,))  # what parses is still indexed
    assert index.definitions("T", (DefKind.DATA,))


def test_binary_huge_and_non_text_files_are_skipped_with_a_reason(make_workspace, monkeypatch):
    import scout.haskell.discover as discover

    root = make_workspace({
        "Ok.hs": "module Ok where\nx = 1\n",
        "Binary.hs": b"module B where\x00\x01\x02",
        "Noise.hs": bytes(range(128, 256)) * 4,
        "Huge.hs": "module H where\n" + "x = 1\n" * 2000,
    })
    monkeypatch.setattr(discover, "MAX_FILE_BYTES", 4096)
    index = WorkspaceIndex.build(root, use_cache=False)
    reasons = {s.path: s.reason for s in index.stats().skipped}
    assert set(index.files) == {"Ok.hs"}
    assert "binary" in reasons["Binary.hs"]
    assert "not UTF-8" in reasons["Noise.hs"]
    assert "larger than" in reasons["Huge.hs"]


def test_a_stray_latin1_byte_does_not_lose_the_file(make_workspace):
    # GHC compiles this file (the byte is in a comment); so must the index, columns intact
    root = make_workspace({"Latin.hs": "module L where\n-- caf\xe9 au lait\ndata K = A | B\n"
                                       "f :: K -> Int\nf A = 1\nf B = 2\nx = \"\xe9\" ++ show (f A)\n"
                                       .encode("latin-1")})
    index = WorkspaceIndex.build(root, use_cache=False)
    assert set(index.files) == {"Latin.hs"} and not index.stats().skipped
    (k,) = defs(index, "K", DefKind.DATA)
    assert k.constructors == ("A", "B")
    assert [(r.line, r.col) for r in index.references("f") if r.role is Role.EXPRESSION] == [
        (7, 17)]
    assert [s.span.start_line for s in index.files["Latin.hs"].match_sites] == [5]


def test_cpp_branches_are_selected_as_the_preprocessor_would(make_workspace):
    root = make_workspace({"src/C.hs": textwrap.dedent("""\
        {-# LANGUAGE CPP #-}
        module C where
        data K = X | Y
        #if 0
        f :: K -> Int
        f X = (
        #else
        f :: K -> Int
        f X = 1
        #endif
        f Y = 2
        g :: K -> Int
        g k = case k of
        #ifdef SOMETHING_UNDEFINED
          X -> 1
          Y -> 2
        #elif MIN_VERSION_base(4,8,0) && __GLASGOW_HASKELL__ >= 800
          X -> 3
        #else
          Y -> 4
        #endif
          _ -> 5
        """)})
    index = WorkspaceIndex.build(root, use_cache=False)
    fi = index.files["src/C.hs"]
    assert fi.problems == []  # the `#if 0` branch alone does not parse: it is not GHC's
    sites = {s.name or s.kind.value: [(r.line, r.patterns[0].name) for r in s.rows]
             for s in fi.match_sites}
    assert sites == {"f": [(9, "X"), (11, "Y")], "g": [(13, None)],
                     "case": [(18, "X"), (22, None)]}


def test_cpp_macros_of_the_file_and_its_local_headers_are_expanded_on_their_line(
        make_workspace):
    root = make_workspace({
        "include/defs.h": textwrap.dedent("""\
            #define OVERLAPS {-# OVERLAPPING #-}
            #define SHOWN(ty,con)                \\
            instance Shown (ty) where {           \\
              shown (con x) = x                   \\
            }
            """),
        "src/M.hs": textwrap.dedent("""\
            {-# LANGUAGE CPP #-}
            module M where
            #include "defs.h"
            #define TWICE(f, x) (f (f x))
            class Shown a where
              shown :: a -> Int
            newtype A = A Int
            newtype B = B Int
            SHOWN(A, A)
            SHOWN(
              B,
              B)
            instance OVERLAPS
                Shown [A] where
              shown _ = 0
            double :: Int -> Int
            double n = TWICE(succ, n) + length "TWICE(x, y)" + TWICE_NOT
            after :: Int
            after = 1
            """)})
    index = WorkspaceIndex.build(root, use_cache=False)
    fi = index.files["src/M.hs"]
    assert fi.problems == []
    instances = sorted((d.span.start_line, d.instance_types) for d in fi.definitions
                       if d.kind is DefKind.INSTANCE)
    # each expansion sits on its macro's line; an invocation over three lines keeps the lines
    assert instances == [(9, ("A",)), (10, ("B",)), (13, ("A",))]
    assert [d.span.start_line for d in fi.definitions if d.name == "after"
            and d.kind is DefKind.FUNCTION] == [19]
    # a call of a function-like macro is expanded; a string and a longer name are not
    assert [r.line for r in fi.references.lookup("succ", "src/M.hs")] == [17, 17]
    code = read_source(root, "src/M.hs").code.decode()
    assert '"TWICE(x, y)"' in code and "TWICE_NOT" in code


def test_hsc_files_are_indexed_with_hsc2hs_constructs_neutralised(make_workspace):
    root = make_workspace({
        "src/Sys.hsc": textwrap.dedent("""\
            {-# LANGUAGE ForeignFunctionInterface #-}
            module Sys where
            #include <sys/types.h>
            #let alignment t = "%lu", (unsigned long)offsetof(struct {char x__; t (y__); }, y__)
            data Mode = Read | Write
            modeFlag :: Mode -> Int
            modeFlag Read = #const O_RDONLY
            modeFlag Write = #{const O_WRONLY}
            sizeOfStat :: Int
            sizeOfStat = #{size struct stat}
            #if defined(mingw32_HOST_OS)
            windowsOnly = (
            #endif
            """),
        "src/Gen.hsc": "module Gen where\nx = #{const X}\n",
        "src/Gen.hs": "module Gen where\nx = 1\n",  # hsc2hs output beside it: that one counts
    })
    index = WorkspaceIndex.build(root, use_cache=False)
    assert set(index.files) == {"src/Sys.hsc", "src/Gen.hs"}
    fi = index.files["src/Sys.hsc"]
    assert fi.module == "Sys" and fi.problems == [] and fi.language == "hsc"
    (site,) = [s for s in fi.match_sites if s.name == "modeFlag"]
    assert [r.line for r in site.rows] == [7, 8]
    assert index.definitions("sizeOfStat", (DefKind.FUNCTION,))[0].span.start_line == 10


def test_discovery_honours_gitignore_build_dirs_boot_and_literate_files(make_workspace):
    root = make_workspace({
        ".gitignore": "generated/\n*.gen.hs\n",
        "src/A.hs": "module A where\na = 1\n",
        "src/A.hs-boot": "module A where\na :: Int\n",
        "src/Gen.gen.hs": "module Gen where\n",
        "generated/X.hs": "module X where\n",
        "dist-newstyle/build/Y.hs": "module Y where\n",
        ".stack-work/Z.hs": "module Z where\n",
        "sub/.gitignore": "skip.hs\n",
        "sub/skip.hs": "module Skip where\n",
        "sub/Keep.hs": "module Keep where\n",
        "lit/Bird.lhs": "Some prose.\n\n> module Bird where\n> data K = P | Q\n\nMore prose.\n",
        "lit/Tex.lhs": "\\documentclass{article}\n\\begin{code}\nmodule Tex where\n"
                       "f :: Int\nf = 1\n\\end{code}\n",
    })
    index = WorkspaceIndex.build(root, use_cache=False)
    assert set(index.files) == {"src/A.hs", "src/A.hs-boot", "sub/Keep.hs", "lit/Bird.lhs",
                                "lit/Tex.lhs"}
    (k,) = index.definitions("K", (DefKind.DATA,))
    assert k.constructors == ("P", "Q") and k.name_span.start_line == 4  # lines kept
    assert index.files["lit/Bird.lhs"].language == "literate"
    assert index.definitions("f", (DefKind.FUNCTION,))[0].span.start_line == 5


# -- incremental updates and the cache ---------------------------------------------------------

def test_update_file_replaces_only_that_file(make_workspace):
    root = make_workspace({
        "A.hs": "module A where\ndata T = X | Y\n",
        "B.hs": "module B where\nimport A\nf X = 1\nf Y = 2\n",
    })
    index = WorkspaceIndex.build(root, use_cache=False)
    assert index.constructors_of("T") == ("X", "Y")
    assert len(index.references("X")) == 1
    index.update_file("A.hs", b"module A where\ndata T = X | Y | Z\n")
    assert index.constructors_of("T") == ("X", "Y", "Z")
    # an edit of a file edited before is an incremental reparse; results must be identical
    index.update_file("B.hs", b"module B where\nimport A\nf X = 1\nf Y = 2\nf Z = 3\n")
    index.update_file("B.hs", b"module B where\nimport A\nf X = 1\nf Z = 3\n")
    fresh = WorkspaceIndex.build(root, use_cache=False)
    fresh.update_file("A.hs", b"module A where\ndata T = X | Y | Z\n")
    fresh.update_file("B.hs", b"module B where\nimport A\nf X = 1\nf Z = 3\n")
    assert [(r.line, r.col, r.role) for r in index.references("Z")] == \
        [(r.line, r.col, r.role) for r in fresh.references("Z")]
    assert index.references("Y") == []
    index.update_file("B.hs", None)
    assert "B.hs" not in index.files and index.references("X") == []


def test_incremental_reparse_equals_full_parse(example_copy):
    index = WorkspaceIndex.build(example_copy, use_cache=False)
    path = "src/LLM/Types.hs"
    text = (example_copy / path).read_bytes()
    index.update_file(path, text)  # first update keeps the tree
    edited = text.replace(b"data LLMKind = Sonnet | Opus | Haiku",
                          b"data LLMKind = Sonnet | Opus | Haiku | Gemma")
    incremental = index.update_file(path, edited)
    full = WorkspaceIndex(example_copy).update_file(path, edited)
    assert incremental.definitions == full.definitions
    assert incremental.match_sites == full.match_sites
    assert sorted(incremental.references.all(path), key=lambda r: (r.line, r.col)) == \
        sorted(full.references.all(path), key=lambda r: (r.line, r.col))


def test_cache_makes_a_second_start_reuse_unchanged_files(make_workspace, tmp_path):
    root = make_workspace({f"M{i}.hs": f"module M{i} where\nx{i} = {i}\n" for i in range(5)})
    cache = tmp_path / "cache"
    first = WorkspaceIndex.build(root, cache_dir=cache)
    assert first.cached_files == 0 and list(cache.iterdir())
    second = WorkspaceIndex.build(root, cache_dir=cache)
    assert second.cached_files == 5
    assert second.stats().definitions == first.stats().definitions
    path = root / "M3.hs"
    path.write_text("module M3 where\nx3 = 3\ny3 = 4\n")
    os.utime(path, ns=(path.stat().st_mtime_ns + 10**9,) * 2)
    third = WorkspaceIndex.build(root, cache_dir=cache)
    assert third.cached_files == 4 and third.definitions("y3")


def test_a_corrupt_cache_is_rebuilt_not_fatal(make_workspace, tmp_path):
    root = make_workspace({"A.hs": "module A where\na = 1\n"})
    cache = tmp_path / "cache"
    WorkspaceIndex.build(root, cache_dir=cache)
    for f in cache.iterdir():
        f.write_bytes(b"garbage")
    again = WorkspaceIndex.build(root, cache_dir=cache)
    assert again.cached_files == 0 and again.definitions("a")


def test_parallel_build_equals_serial_build(make_workspace):
    files = {f"src/M{i}.hs": textwrap.dedent(f"""\
        module M{i} where
        data T{i} = A{i} | B{i}
        f{i} :: T{i} -> Int
        f{i} A{i} = {i}
        f{i} B{i} = 0
        """) for i in range(80)}
    root = make_workspace(files)
    serial = WorkspaceIndex.build(root, use_cache=False, workers=1)
    parallel = WorkspaceIndex.build(root, use_cache=False, workers=2)
    assert serial.stats().definitions == parallel.stats().definitions == 80 * 5
    assert serial.files["src/M42.hs"].match_sites == parallel.files["src/M42.hs"].match_sites


def test_missing_root_is_a_clear_error(tmp_path: Path):
    with pytest.raises(NotADirectoryError, match="not a directory"):
        WorkspaceIndex.build(tmp_path / "nope")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40), st.binary(max_size=40), st.binary(max_size=40),
       st.binary(max_size=40), st.integers(0, 13000), st.integers(0, 13000))
def test_the_edit_told_to_tree_sitter_keeps_the_longest_common_prefix_and_suffix(
        head, middle, tail, inserted, before, after):
    # blocks of 4096 bytes, then halving: the same edit as comparing a byte at a time
    text = bytes(range(256)) * 60
    body, middle = text[:before], middle + text[:after]
    old = head + body + middle + tail
    new = head + body + inserted + middle[len(middle) // 2:] + tail

    class Recorder:
        def edit(self, **kwargs):
            pass

    edit = _apply_edit(Recorder(), old, new)
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    tail_len = 0
    while (tail_len < min(len(old), len(new)) - start
           and old[len(old) - 1 - tail_len] == new[len(new) - 1 - tail_len]):
        tail_len += 1
    assert (edit.start_byte, edit.old_end_byte, edit.new_end_byte) == \
        (start, len(old) - tail_len, len(new) - tail_len)

"""Incremental extraction equals full extraction: random edits of real files (the example
workspace, the engine fixtures, and Debian sources when fetched), each reparsed incrementally as
the index does, then extracted both ways from the same tree."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tree_sitter import Point

import scout.haskell.extract as extract_module
from scout.haskell import parser as ts
from scout.haskell.extract import Edit, extract, extract_incremental
from scout.haskell.model import Definition, FileIndex

REPO = Path(__file__).resolve().parents[2]
FILES = sorted([*REPO.glob("examples/llm-service/src/**/*.hs"),
                *REPO.glob("tests/fixtures/engine/*/src/**/*.hs")])
DEBIAN = REPO / "bench" / ".cache" / "debian"
DEBIAN_FILES = [DEBIAN / p for p in (
    "xmonad/src/XMonad/Operations.hs",
    "haskell-ghc-lib-parser/compiler/GHC/Core/Coercion.hs",
    "agda/src/full/Agda/TypeChecking/Monad/Base.hs",
    "pandoc/src/Text/Pandoc/Writers/Powerpoint/Output.hs",
)]


def canonical(fi: FileIndex) -> tuple:
    """Everything a FileIndex says, independent of how its name table is ordered."""
    defs = [tuple(getattr(d, f.name) for f in fields(Definition)) for d in fi.definitions]
    refs = sorted(fi.references.all(fi.path), key=repr)
    return (fi.module, fi.lines, fi.language, defs, refs, fi.match_sites, fi.imports,
            fi.exports, fi.problems)


def _point(data: bytes, offset: int) -> Point:
    return Point(data.count(b"\n", 0, offset), offset - (data.rfind(b"\n", 0, offset) + 1))


def apply_edit(tree, old: bytes, new: bytes) -> Edit:
    """old -> new as one tree-sitter edit (common prefix and suffix kept), as the index does."""
    limit = min(len(old), len(new))
    start = 0
    while start < limit and old[start] == new[start]:
        start += 1
    old_end, new_end = len(old), len(new)
    while old_end > start and new_end > start and old[old_end - 1] == new[new_end - 1]:
        old_end -= 1
        new_end -= 1
    sp, op, np_ = _point(old, start), _point(old, old_end), _point(new, new_end)
    tree.edit(start_byte=start, old_end_byte=old_end, new_end_byte=new_end, start_point=sp,
              old_end_point=op, new_end_point=np_)
    return Edit(start, old_end, new_end, sp.row, op.row, np_.row, op.column, np_.column)


# An edit: (kind, line fraction, column fraction, another line's fraction)
EDITS = st.lists(st.tuples(st.sampled_from(["insert line", "delete line", "copy line",
                                             "type char", "delete char", "new definition",
                                             "split line", "join lines", "rename"]),
                           st.floats(0, 1, exclude_max=True), st.floats(0, 1, exclude_max=True),
                           st.floats(0, 1, exclude_max=True)),
                 min_size=1, max_size=8)


def mutate(src: bytes, edit: tuple[str, float, float, float]) -> bytes:
    kind, at, col, other = edit
    lines = src.split(b"\n")
    i, j = int(at * len(lines)), int(other * len(lines))
    line = lines[i]
    c = int(col * (len(line) + 1))
    if kind == "insert line":
        lines.insert(i, b"scoutProbe x = x")
    elif kind == "delete line":
        del lines[i]
    elif kind == "copy line":
        lines.insert(i, lines[j])
    elif kind == "type char":
        lines[i] = line[:c] + b"x" + line[c:]
    elif kind == "delete char":
        lines[i] = line[:c] + line[c + 1:]
    elif kind == "new definition":
        lines[i:i] = [b"", b"scoutNew :: Maybe Int -> Int", b"scoutNew (Just n) = n",
                      b"scoutNew Nothing = 0"]
    elif kind == "split line":
        lines[i:i + 1] = [line[:c], b"  " + line[c:]]
    elif kind == "join lines" and i + 1 < len(lines):
        lines[i:i + 2] = [line + b" " + lines[i + 1].lstrip()]
    elif kind == "rename":
        words = line.split(b" ")
        if words and words[0]:
            lines[i] = b" ".join([words[0] + b"'"] + words[1:])
    return b"\n".join(lines)


def check_edits(path: Path, edits: list[tuple[str, float, float, float]],
                inside_all: bool = False) -> None:
    """``inside_all``: every declaration, however small, is re-extracted inside (only the
    run of sub-expressions an edit touches) whenever it can be."""
    if inside_all:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(extract_module, "SUB_DECLARATION_BYTES", 0)
            check_edits(path, edits)
        return
    src = path.read_bytes()
    parser = ts.parser()
    tree = parser.parse(src)
    fi = extract(str(path), src, tree)
    for edit in edits:
        new = mutate(src, edit)
        old_tree = tree
        change = apply_edit(old_tree, src, new)
        tree = parser.parse(new, old_tree)
        incremental = extract_incremental(fi, src, new, tree, old_tree, change)
        assert canonical(incremental) == canonical(extract(str(path), new, tree)), edit
        src, fi = new, incremental


def test_typing_in_a_qualifier_re_extracts_the_whole_name():
    # found by the property test below: the run went inside `Map.empty` to the module part,
    # and the reference kept its old qualifier
    check_edits(REPO / "examples/llm-service/src/LLM/Config.hs",
                [("new definition", 0.5, 0.0, 0.0), ("new definition", 0.25, 0.0, 0.0),
                 ("type char", 0.71875, 0.75, 0.0)], inside_all=True)


@pytest.mark.parametrize("inside_all", [False, True], ids=["as-is", "inside-every-declaration"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FILES), EDITS)
def test_incremental_extraction_equals_full_extraction(inside_all, path: Path, edits) -> None:
    check_edits(path, edits, inside_all)


@pytest.mark.debian
@pytest.mark.skipif(not all(p.is_file() for p in DEBIAN_FILES),
                    reason="needs Debian sources: python bench/fetch_debian.py")
@pytest.mark.parametrize("inside_all", [False, True], ids=["as-is", "inside-every-declaration"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(DEBIAN_FILES), EDITS)
def test_incremental_extraction_equals_full_extraction_on_large_modules(inside_all, path,
                                                                         edits) -> None:
    check_edits(path, edits, inside_all)


def test_incremental_extraction_reuses_the_declarations_an_edit_does_not_touch(monkeypatch):
    import scout.haskell.extract as extract_module

    extracted: list[str] = []
    decl_part = extract_module._Extractor.decl_part

    def counting(self, node):
        extracted.append(node.type)
        return decl_part(self, node)

    path = REPO / "examples/llm-service/src/LLM/Types.hs"
    src = path.read_bytes()
    parser = ts.parser()
    tree = parser.parse(src)
    fi = extract(str(path), src, tree)
    monkeypatch.setattr(extract_module._Extractor, "decl_part", counting)
    new = src + b"\nscoutProbe :: Int\nscoutProbe = 1\n"
    old_tree = tree
    change = apply_edit(old_tree, src, new)
    tree = parser.parse(new, old_tree)
    after = extract_incremental(fi, src, new, tree, old_tree, change)
    assert extracted == ["signature", "bind"]  # the new declarations only
    assert canonical(after) == canonical(extract(str(path), new, tree))
    # an edit inside a declaration in the middle: that one is extracted again, those after it
    # are shifted three lines down
    extracted.clear()
    lines = new.split(b"\n")
    at = lines.index(b"data Role = System | User | Assistant") + 1
    newer = b"\n".join(lines[:at] + [b"", b"-- a comment", b""] + lines[at:])
    change = apply_edit(tree, new, newer)
    old_tree, tree = tree, parser.parse(newer, tree)
    shifted = extract_incremental(after, new, newer, tree, old_tree, change)
    assert extracted == ["data_type"]
    extracted.clear()
    assert canonical(shifted) == canonical(extract(str(path), newer, tree))


def test_an_edit_in_the_syntax_error_after_the_last_declaration_is_extracted_again():
    # found by the property test: a line deleted in the last function (its `case` is then an
    # error after the declarations), then a line typed into that error region
    check_edits(REPO / "examples" / "llm-service" / "src" / "LLM" / "Report.hs",
                [("delete line", 0.9375, 0.0, 0.0), ("insert line", 0.96875, 0.0, 0.0)])


# -- re-extraction inside one declaration ---------------------------------------------------


def counting_inside(mp: pytest.MonkeyPatch) -> list[bool]:
    """Record whether each attempt to re-extract only a run inside a declaration succeeded."""
    taken: list[bool] = []
    inside = extract_module._reextract_inside

    def counting(*args, **kwargs):
        result = inside(*args, **kwargs)
        taken.append(result is not None)
        return result

    mp.setattr(extract_module, "_reextract_inside", counting)
    return taken


BIG = "\n".join([
    "module Big where",
    "import qualified Data.Map as M",
    "data Flag = On | Off",
    "flags :: Int -> [(String, Int -> Maybe Flag)]",
    "flags depth = concat",
    "  [ " + "\n  , ".join(
        f'entry "f{i}" (\\n -> case n of {{ 0 -> Just On; _ -> Nothing }}) (M.lookup {i} table)'
        if i % 7 == 0 else
        f'entry "f{i}" (\\_ -> Just Off)\n      (helper {i} depth)' if i % 3 == 0 else
        f'entry "f{i}" (const Nothing) [x | Just x <- [Just {i}]]'
        for i in range(120)),
    "  ]",
    "  where",
    "    entry name f _ = (name, f)",
    "    helper k d = k + d",
    "    table = M.empty",
    "",
    "after :: Flag -> Int",
    "after On = 1",
    "after Off = 0",
    "",
    "data Config = Config { " + ", ".join(f"field{i} :: Int" for i in range(80)) + " }",
    "",
    "config :: Int -> M.Map Int Config",
    "config n = M.fromList",
    "  [ (0, Config",
    "    { " + "\n    , ".join(
        f"field{i} = M.findWithDefault {i} n (M.fromList [({i}, n + {i})])" for i in range(80)),
    "    })",
    "  ]",
    "",
])


def big_edits(src: bytes) -> list[tuple[str, bytes]]:
    """Edits of the kinds an editor makes inside a long declaration."""
    lines = src.split(b"\n")
    at = next(i for i, line in enumerate(lines) if b'"f61"' in line)  # `const Nothing`
    two = next(i for i, line in enumerate(lines) if b'"f60"' in line)  # on two lines
    where = lines.index(b"    helper k d = k + d")
    field = next(i for i, line in enumerate(lines) if line.startswith(b"    , field40 ="))

    def at_line(i: int, new: list[bytes]) -> bytes:
        return b"\n".join(lines[:i] + new + lines[i + 1:])

    assert b"(const Nothing)" in lines[at]
    return [
        ("type in an element", at_line(at, [lines[at] + b" x"])),
        ("blank line between elements", at_line(at, [b"", lines[at]])),
        ("blank line inside an element", at_line(two + 1, [b"", lines[two + 1]])),
        ("type in an element's second line", at_line(two + 1, [lines[two + 1] + b" 1"])),
        ("delete an element's line", at_line(at, [])),
        ("new element", at_line(at, [lines[at], b'  , entry "new" (const Nothing) []'])),
        ("shadow a where name in an element",
         at_line(at, [lines[at].replace(b"(const Nothing)", b"(\\helper -> helper)")])),
        ("use a where name", at_line(at, [lines[at] + b" helper"])),
        ("line split inside an element", at_line(at, lines[at].split(b"(", 1)[0:1]
                                                 + [b"      (" + lines[at].split(b"(", 1)[1]])),
        ("edit the where clause", at_line(where, [b"    helper k d = k * d + table"])),
        ("rename a parameter", at_line(lines.index(b"flags depth = concat"),
                                       [b"flags dep = concat"])),
        ("break the declaration", at_line(at, [lines[at] + b" ("])),
        ("extend past the list", at_line(lines.index(b"  ]"), [b"  ] ++ [entry \"z\" f z]"])),
        ("type in a record field", at_line(field, [lines[field].replace(b"n + 40", b"n * 40")])),
        ("a line inside a record", at_line(field, [lines[field], b"    , field80 = 0"])),
        ("a blank line inside a record", at_line(field, [b"", lines[field]])),
    ]


def test_an_edit_inside_a_long_declaration_re_extracts_only_the_touched_expression():
    src = BIG.encode()
    parser = ts.parser()
    with pytest.MonkeyPatch.context() as mp:
        taken = counting_inside(mp)
        for label, new in big_edits(src):
            taken.clear()
            tree = parser.parse(src)
            fi = extract("Big.hs", src, tree)
            change = apply_edit(tree, src, new)
            new_tree = parser.parse(new, tree)
            incremental = extract_incremental(fi, src, new, new_tree, tree, change)
            assert canonical(incremental) == canonical(extract("Big.hs", new, new_tree)), label
            # an edit inside one element of the list is extracted as that element; a binder
            # that reaches outside the edited run (a parameter, a `where` name), a broken
            # declaration or a change of the whole right-hand side extracts it whole
            whole = label in ("edit the where clause", "rename a parameter",
                              "break the declaration", "extend past the list")
            assert taken == [True] if not whole else not any(taken), label


def test_successive_edits_inside_a_long_declaration_stay_equal_to_full_extraction():
    src = BIG.encode()
    parser = ts.parser()
    tree = parser.parse(src)
    fi = extract("Big.hs", src, tree)
    with pytest.MonkeyPatch.context() as mp:
        taken = counting_inside(mp)
        # from one variant of the module to the next (each diff spans both variants' edits)
        for label, new in big_edits(src) * 2:
            change = apply_edit(tree, src, new)
            old_tree, tree = tree, parser.parse(new, tree)
            fi = extract_incremental(fi, src, new, tree, old_tree, change)
            assert canonical(fi) == canonical(extract("Big.hs", new, tree)), label
            src = new
    assert any(taken)

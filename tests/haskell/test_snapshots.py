"""The index as a long-running process sees it: one owner edits, readers work on immutable
snapshots, caches stay bounded."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from scout.explore.engine import explore
from scout.explore.question import parse_question
from scout.haskell.index import WorkspaceIndex
from scout.haskell.model import DefKind

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "llm-service"


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLE, root)
    return root


def test_readers_never_see_an_index_changing_under_them(tmp_path: Path) -> None:
    """The race of issue 9: updates in one thread, reads (all_definitions, stats,
    files_of_module, the engine's lookups) in another. Before snapshots this raised
    "dictionary changed size during iteration" dozens of times in 2,000 reads."""
    root = _copy(tmp_path)
    index = WorkspaceIndex.build(root, use_cache=False)
    types = (root / "src/LLM/Types.hs").read_bytes()
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            # add and remove whole modules and definitions, so dicts change size
            index.update_file(f"src/Extra{i % 7}.hs",
                              f"module Extra{i % 7} where\nx{i} :: Int\nx{i} = {i}\n".encode())
            index.update_file(f"src/Extra{(i + 3) % 7}.hs", None)
            index.update_file("src/LLM/Types.hs", types + f"\nextra{i} :: Int\nextra{i} = 1\n"
                              .encode())
            # An editor's pace, not a spin: a writer that never lets go of the GIL makes each
            # file the reader opens wait a switch interval per system call (minutes in all).
            stop.wait(0.001)

    question = parse_question("What breaks if I add a variant to LLMKind?")
    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(2000):
            try:
                snap = index.snapshot()
                names = {d.name for d in snap.all_definitions()}
                assert "LLMKind" in names
                stats = snap.stats()
                assert stats.files == len(snap.summaries)
                assert snap.files_of_module("LLM.Types") == ["src/LLM/Types.hs"]
                assert snap.definitions("LLMKind", (DefKind.DATA,))
                # the convenience API reads the current revision, one call at a time
                index.all_definitions()
                index.stats()
            except BaseException as exc:  # noqa: BLE001 - every failure counts
                errors.append(exc)
        for _ in range(40):
            explore(index, question)  # the engine's export lookups iterate summaries
    finally:
        stop.set()
        thread.join()
    assert errors == []


def test_a_snapshot_is_a_revision_that_edits_do_not_touch(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    index = WorkspaceIndex.build(root, use_cache=False)
    before = index.snapshot()
    assert before.definitions("LLMKind")
    index.update_file("src/New.hs", b"module New where\nfreshName :: Int\nfreshName = 3\n")
    after = index.snapshot()
    assert after.revision == before.revision + 1
    assert "src/New.hs" in after.summaries and "src/New.hs" not in before.summaries
    assert after.definitions("freshName") and not before.definitions("freshName")
    index.update_file("src/New.hs", None)
    assert not index.snapshot().definitions("freshName")
    assert after.definitions("freshName")  # the older revision is intact


def test_lookups_after_edits_equal_a_fresh_build(tmp_path: Path) -> None:
    """Lookups are patched from the previous revision; they must equal a full rebuild."""
    root = _copy(tmp_path)
    index = WorkspaceIndex.build(root, use_cache=False)
    index.snapshot().definitions("LLMKind")  # build lookups, so edits patch them
    router = root / "src/LLM/Router.hs"
    text = router.read_bytes()
    index.update_file("src/LLM/Router.hs", text.replace(b"route", b"steer"))
    index.update_file("src/Gone.hs", b"module Gone where\nroute :: Int\nroute = 1\n")
    index.update_file("src/Gone.hs", None)
    (root / "src/LLM/Router.hs").write_bytes(text.replace(b"route", b"steer"))
    fresh = WorkspaceIndex.build(root, use_cache=False).snapshot()
    patched = index.snapshot()
    names = {d.name for d in fresh.all_definitions()} | {d.name for d in patched.all_definitions()}
    for name in sorted(names):
        assert sorted(d.span for d in patched.definitions(name)) == \
            sorted(d.span for d in fresh.definitions(name)), name
        assert patched.files_referencing(name) == fresh.files_referencing(name), name
    for kind in DefKind:
        assert len(patched.definitions_of_kind(kind)) == len(fresh.definitions_of_kind(kind))


def test_caches_are_bounded(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    index = WorkspaceIndex.build(root, use_cache=False)
    index.TREE_LIMIT = 2
    for i in range(10):
        index.update_file(f"src/T{i}.hs", f"module T{i} where\nt{i} = {i}\n".encode())
    assert len(index._trees) == 2
    cache = tmp_path / "cache"
    WorkspaceIndex.build(root, cache_dir=cache)
    warm = WorkspaceIndex.build(root, cache_dir=cache)
    warm._decoded.limit = 3
    snap = warm.snapshot()
    for path in snap.summaries:
        snap.files[path]
    assert len(warm._decoded) == 3


def test_editor_text_is_what_readers_see_until_saved(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    index = WorkspaceIndex.build(root, use_cache=False)
    path = "src/LLM/Types.hs"
    disk = (root / path).read_bytes()
    edited = b"-- a comment typed in the editor\n" + disk
    index.update_file(path, edited)
    assert index.snapshot().is_edited(path)
    assert index.snapshot().source_lines(path)[0] == "-- a comment typed in the editor"
    index.refresh_from_disk(path)  # closed without saving: the disk's text again
    assert not index.snapshot().is_edited(path)
    assert index.snapshot().source_lines(path)[0] == disk.decode().splitlines()[0]

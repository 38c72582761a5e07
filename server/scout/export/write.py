"""Rendering and writing the split files, in several processes for large exports.

Rendering a FunctionGemma example costs tens of microseconds of pure Python, so a 100k-example
export is CPU-bound. Forked workers each render a contiguous slice of every split into a part
file; the parent concatenates the parts in order, so the output is identical to a serial run.
Fork is used only where it is safe: Linux, and only when the caller asks (the CLI does; a
threaded host such as the language server should keep ``workers=1``).
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from scout.export.formats import LineRenderer, file_name
from scout.export.select import Example
from scout.tasks import TaskDefinition

CHUNK = 1000  # examples rendered between progress updates
MIN_EXAMPLES_PER_WORKER = 10_000  # below this, forking costs more than it saves


class ExportWriteError(RuntimeError):
    pass


def worker_count(requested: int | None, examples: int) -> int:
    """``None`` means automatic: one per CPU (at most 4), if the export is large enough."""
    if sys.platform != "linux" or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    wanted = min(os.cpu_count() or 1, 4) if requested is None else requested
    return max(1, min(wanted, examples // MIN_EXAMPLES_PER_WORKER or 1))


def _slices(n: int, workers: int) -> list[tuple[int, int]]:
    step, extra = divmod(n, workers)
    bounds, start = [], 0
    for w in range(workers):
        end = start + step + (1 if w < extra else 0)
        bounds.append((start, end))
        start = end
    return bounds


def _part(out: Path, split: str, worker: int) -> Path:
    return out / f".{split}.part{worker}"


def _render_parts(fmt: str, task: TaskDefinition, by_split: dict[str, list[Example]],
                  out: Path, worker: int, workers: int, advance: Callable[[int], None]) -> None:
    render = LineRenderer(fmt, task)
    separator = ",\n" if fmt == "json" else "\n"
    for split, examples in by_split.items():
        start, end = _slices(len(examples), workers)[worker]
        with _part(out, split, worker).open("w", encoding="utf-8") as handle:
            for chunk_start in range(start, end, CHUNK):
                chunk = examples[chunk_start:min(chunk_start + CHUNK, end)]
                text = separator.join(render(example) for example in chunk)
                if chunk_start > start:
                    handle.write(separator)
                handle.write(text)
                advance(len(chunk))


def _child(fmt: str, task: TaskDefinition, by_split: dict[str, list[Example]], out: Path,
           worker: int, workers: int, counter: multiprocessing.sharedctypes.Synchronized) -> None:
    def advance(n: int) -> None:
        with counter.get_lock():
            counter.value += n

    code = 0
    try:
        _render_parts(fmt, task, by_split, out, worker, workers, advance)
    except BaseException:  # reported to the parent through a file, then a non-zero exit
        (out / f".worker{worker}.error").write_text(traceback.format_exc(), encoding="utf-8")
        code = 1
    # Skip interpreter teardown: the parent's SQLite connection and other inherited state
    # must not be finalised from the child.
    os._exit(code)


def write_splits(fmt: str, task: TaskDefinition, by_split: dict[str, list[Example]], out: Path,
                 *, workers: int = 1, on_progress: Callable[[int], None] = lambda _done: None
                 ) -> list[Path]:
    """Write one file per split (``train.jsonl`` ... or ``train.json``) into ``out``."""
    total = sum(len(v) for v in by_split.values())
    workers = max(1, workers)
    done = 0

    def advance_local(n: int) -> None:
        nonlocal done
        done += n
        on_progress(done + (counter.value if workers > 1 else 0))

    children: list[multiprocessing.process.BaseProcess] = []
    context = multiprocessing.get_context("fork") if workers > 1 else None
    counter = context.Value("q", 0) if context else None
    try:
        for worker in range(1, workers):
            assert context is not None
            child = context.Process(target=_child, args=(fmt, task, by_split, out, worker,
                                                         workers, counter), daemon=True)
            child.start()
            children.append(child)
        _render_parts(fmt, task, by_split, out, 0, workers, advance_local)
        while any(child.is_alive() for child in children):
            on_progress(done + (counter.value if counter else 0))
            time.sleep(0.05)
        for worker, child in enumerate(children, start=1):
            child.join()
            if child.exitcode != 0:
                error = out / f".worker{worker}.error"
                detail = error.read_text(encoding="utf-8") if error.exists() else \
                    f"exit code {child.exitcode}"
                raise ExportWriteError(f"export worker {worker} failed:\n{detail}")
        on_progress(total)
        return [_assemble(fmt, split, out, workers) for split in by_split]
    finally:
        for child in children:
            if child.is_alive():
                child.kill()
        for leftover in [*out.glob(".*.part*"), *out.glob(".worker*.error")]:
            leftover.unlink(missing_ok=True)


def _assemble(fmt: str, split: str, out: Path, workers: int) -> Path:
    path = out / file_name(fmt, split)
    tmp = path.with_name(path.name + ".tmp")
    parts: Sequence[Path] = [_part(out, split, w) for w in range(workers)]
    nonempty = [p for p in parts if p.stat().st_size > 0]
    separator = ",\n" if fmt == "json" else "\n"
    with tmp.open("w", encoding="utf-8") as target:
        if fmt == "json":
            target.write("[\n")
        for index, part in enumerate(nonempty):
            if index:
                target.write(separator)
            with part.open(encoding="utf-8") as source:
                shutil.copyfileobj(source, target, 1 << 20)
        if fmt == "json":
            target.write("\n]\n" if nonempty else "]\n")
        elif nonempty:
            target.write("\n")
    os.replace(tmp, path)
    return path

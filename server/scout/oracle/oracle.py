"""The oracle: apply a mutation in a scratch copy, type-check, and read what breaks.

The user's files are only ever read. Every type-check runs in a scratch directory that is
removed on success, failure, Ctrl-C and SIGTERM (try/finally + atexit; GHC runs in its own
process group and is killed when we are interrupted). The unmutated baseline is type-checked once
per workspace contents and cached (diagnostics + interface files); a mutation starts from the
baseline's interfaces so GHC only re-checks the edited module and its dependents, and only the
diagnostics the baseline did not have count as break sites.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from scout.oracle.mutate import Mutation, Phase, without_pattern_uses
from scout.oracle.typecheck import (
    DEFERRED_REASONS,
    SKIP_DIRS,
    STUB_DIR_NAME,
    Diagnostic,
    GhcMissingError,
    ProjectLayout,
    SkippedModule,
    TypecheckError,
    TypecheckRun,
    find_ghc,
    ghc_command,
    ghc_version,
    iter_haskell_files,
    run_command,
    scan_project,
    template_command,
    workspace_digest,
    write_stubs,
)

SCRATCH_PREFIX = "scout-oracle-"
COPIED_SUFFIXES = (".hs", ".lhs", ".hs-boot", ".lhs-boot", ".h", ".inc", ".cabal", ".hsc")
HIDIR_NAME = ".scout-oracle-hi"
BASELINE_FORMAT = 2  # bump when the cached baseline layout or the flags change


class OracleError(Exception):
    """The oracle cannot answer; the message says what to do next."""


class GhcNotFoundError(OracleError):
    """GHC (or the --typecheck-cmd program) cannot be run."""


class BaselineBrokenError(OracleError):
    """The workspace does not type-check before any mutation: no labels can be trusted."""

    def __init__(self, message: str, errors: Sequence[Diagnostic]) -> None:
        super().__init__(message)
        self.errors = list(errors)


@dataclass(frozen=True, slots=True)
class BreakSite:
    """A place GHC reports because of the mutation, in the original file's coordinates.

    ``span`` is (start_line, end_line), 1-based and inclusive; ``reason`` is GHC's message."""

    location: str  # "rel/path.hs:LINE"
    path: str
    line: int
    span: tuple[int, int]
    reason: str
    severity: str = "warning"
    flag: str | None = None
    column: int = 1

    def as_json(self) -> dict[str, object]:
        return {"location": self.location, "span": list(self.span), "reason": self.reason}

    def covers(self, path: str, line: int) -> bool:
        return path == self.path and self.span[0] <= line <= self.span[1]


@dataclass(frozen=True, slots=True)
class OracleResult:
    sites: list[BreakSite]
    checked_modules: int
    skipped_modules: tuple[SkippedModule, ...]
    seconds: float
    summary: str = ""
    baseline_cached: bool = False
    how: str = ""  # how the type-check was set up (module set, mode)
    phase_seconds: tuple[float, ...] = ()
    unchecked_paths: dict[str, str] = field(default_factory=dict)  # path -> why GHC did not

    def as_json(self) -> dict[str, object]:
        """The ``scout oracle --json`` document (binding for callers)."""
        return {"sites": [s.as_json() for s in self.sites],
                "checked_modules": self.checked_modules,
                "skipped_modules": [{"module": s.module, "reason": s.reason}
                                    for s in self.skipped_modules],
                "seconds": round(self.seconds, 3)}


@dataclass(frozen=True, slots=True)
class Baseline:
    key: str
    diagnostics: tuple[Diagnostic, ...]
    hidir: Path
    cached: bool
    seconds: float


@dataclass(slots=True)
class Oracle:
    """Type-checks mutations of one workspace. Create once per workspace and reuse it: the
    project scan and the baseline are computed on first use."""

    root: Path
    cache_dir: Path | None = None
    typecheck_cmd: str | None = None
    timeout: float | None = 900.0
    incremental: bool = True  # False: mutations start without the baseline's interfaces (cold)
    _layout: ProjectLayout | None = field(default=None, init=False)
    _baseline: Baseline | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.root = Path(self.root).resolve()
        if self.cache_dir is None:
            self.cache_dir = default_cache_dir()
        self.cache_dir = Path(self.cache_dir)

    # -- setup ------------------------------------------------------------------------------

    @property
    def layout(self) -> ProjectLayout:
        if self._layout is None:
            try:
                self._layout = scan_project(self.root)
            except TypecheckError as exc:
                raise OracleError(str(exc)) from exc
        return self._layout

    def _command(self, work_root: Path, hidir: Path, flags: Sequence[str],
                 files: Sequence[str] | None = None) -> list[str]:
        if self.typecheck_cmd:
            return template_command(self.typecheck_cmd, self.layout, work_root, hidir, flags,
                                    files)
        try:
            ghc = find_ghc()
        except GhcMissingError as exc:
            raise GhcNotFoundError(str(exc)) from exc
        return ghc_command(self.layout, ghc, work_root, hidir, flags, files)

    def _command_key(self) -> str:
        if self.typecheck_cmd:
            return "template:" + self.typecheck_cmd
        return f"ghc-{ghc_version(find_ghc())}:{BASELINE_FORMAT}"

    def _run(self, work_root: Path, hidir: Path, flags: Sequence[str],
             files: Sequence[str] | None = None) -> TypecheckRun:
        cmd = self._command(work_root, hidir, flags, files)
        try:
            return run_command(cmd, work_root, timeout=self.timeout)
        except GhcMissingError as exc:
            raise GhcNotFoundError(str(exc)) from exc
        except TypecheckError as exc:
            raise OracleError(str(exc)) from exc

    def baseline(self) -> Baseline:
        """The unmutated workspace's diagnostics and interfaces, cached per contents (the key
        is recomputed on every call, so edits between checks are picked up)."""
        layout = self.layout
        try:
            key = workspace_digest(self.root, layout, self._command_key())
        except GhcMissingError as exc:
            raise GhcNotFoundError(str(exc)) from exc
        except TypecheckError as exc:
            raise OracleError(str(exc)) from exc
        if self._baseline is not None and self._baseline.key == key:
            return self._baseline
        assert self.cache_dir is not None
        home = self.cache_dir / "baselines" / key
        diag_file = home / "diagnostics.json"
        if diag_file.exists():
            data = json.loads(diag_file.read_text())
            diagnostics = tuple(Diagnostic.from_dict(d) for d in data["diagnostics"])
            baseline = Baseline(key, diagnostics, home / "hi", True, 0.0)
        else:
            with scratch_copy(self.root, layout) as work:
                hidir = work / HIDIR_NAME
                run = self._run(work, hidir, ())
                _check_ran(run, "the unmutated workspace")
                home.parent.mkdir(parents=True, exist_ok=True)
                staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=home.parent))
                if hidir.exists():
                    shutil.copytree(hidir, staging / "hi", copy_function=shutil.copy2)
                else:  # a --typecheck-cmd that writes no interfaces: every run is cold
                    (staging / "hi").mkdir()
                (staging / "diagnostics.json").write_text(json.dumps(
                    {"diagnostics": [d.as_dict() for d in run.diagnostics],
                     "command": list(run.command), "seconds": run.seconds}))
                try:
                    os.replace(staging, home)  # atomic: a concurrent run may have won
                except OSError:
                    shutil.rmtree(staging, ignore_errors=True)
            baseline = Baseline(key, run.diagnostics, home / "hi", False, run.seconds)
        errors = [d for d in baseline.diagnostics
                  if d.severity == "error" or d.flag in DEFERRED_REASONS]
        if errors:
            raise BaselineBrokenError(
                f"{self.root} does not type-check before the mutation ({len(errors)} errors), so "
                "no break site can be trusted. Fix these first, or pass --typecheck-cmd with the "
                "flags the project needs:\n" + "\n".join(_describe(d) for d in errors[:5]), errors)
        self._baseline = baseline
        return baseline

    # -- checking a mutation ----------------------------------------------------------------

    def check(self, mutation: Mutation) -> OracleResult:
        started = time.monotonic()
        baseline = self.baseline()
        layout = self.layout
        known = {_key(d) for d in baseline.diagnostics}
        sites: dict[tuple[str, int], BreakSite] = {}
        dropped_modules: dict[str, str] = {}
        partial_modules: dict[str, str] = {}
        phase_seconds = []
        queue = list(mutation.phases)
        while queue:
            phase = queue.pop(0)
            run, maps = self._run_phase(phase, baseline)
            phase_seconds.append(run.seconds)
            if phase.stub_constructor is not None:
                name = phase.stub_constructor[0]
                spans = [(d.start_line, d.start_col, d.end_line, d.end_col) for d in run.errors
                         if d.path in (phase.only_paths or ()) and "data constructor" in d.message
                         and f"‘{name}’" in d.message]
                follow_up = without_pattern_uses(phase, spans)
                if follow_up is not None:
                    queue.insert(0, follow_up)
            if phase.counts_coverage:
                failed = sorted({m for d in run.errors
                                 if (m := layout.module_of_path(d.path)) is not None})
                for module in failed:
                    partial_modules.setdefault(module, "stopped at a hard error after the "
                                               "mutation: more sites in it may be hidden")
                # -fkeep-going names the dropped modules only without -j: derive them too.
                unreachable = set(run.not_checked).union(*(layout.dependents(m) for m in failed))
                for module in sorted(unreachable):
                    dropped_modules.setdefault(module, "not type-checked: a module it imports "
                                                       "failed after the mutation")
            for diag in run.diagnostics:
                site = _to_site(diag, maps)
                if site is None or (_key(diag, site.line) in known):
                    continue
                if phase.only_paths is not None and site.path not in phase.only_paths:
                    continue
                if site.path in phase.skip_paths or (diag.flag in phase.ignore_flags):
                    continue
                if phase.message_must_mention and not re.search(phase.message_must_mention,
                                                                diag.message):
                    continue
                sites.setdefault((site.path, site.line), site)  # one site per line: the first
        skipped = (tuple(layout.skipped)
                   + tuple(SkippedModule(m, r) for m, r in sorted(dropped_modules.items()))
                   + tuple(SkippedModule(m, r) for m, r in sorted(partial_modules.items())
                           if m not in dropped_modules))
        ordered = sorted(sites.values(), key=lambda s: (s.path, s.line, s.column))
        unchecked = {s.path or layout.modules.get(s.module, ""): s.reason for s in skipped}
        unchecked.pop("", None)
        return OracleResult(
            sites=ordered,
            checked_modules=len(layout.modules) - len(dropped_modules),
            skipped_modules=skipped,
            seconds=time.monotonic() - started,
            summary=mutation.summary,
            baseline_cached=baseline.cached,
            how=layout.how,
            phase_seconds=tuple(phase_seconds),
            unchecked_paths=unchecked,
        )

    def _run_phase(self, phase: Phase, baseline: Baseline) -> tuple[TypecheckRun, dict]:
        layout = self.layout
        with scratch_copy(self.root, layout) as work:
            hidir = work / HIDIR_NAME
            if self.incremental and baseline.hidir.exists():
                shutil.copytree(baseline.hidir, hidir, copy_function=shutil.copy2)
            now = time.time()
            for edit in phase.edits:
                target = work / edit.path
                target.unlink()  # a fresh file: never write through to anything else
                target.write_text(edit.mutated, encoding="utf-8")
                # Strictly newer than every cached interface, whatever the clock granularity.
                os.utime(target, (now + 2, now + 2))
                if phase.recheck_dependents:
                    module = layout.module_of_path(edit.path)
                    mention = (re.compile(rb"(?<![\w'])" + re.escape(
                        phase.recheck_only_mentioning.encode()) + rb"(?![\w'])")
                        if phase.recheck_only_mentioning else None)
                    for dependent in sorted(layout.dependents(module) if module else ()):
                        source = work / layout.modules[dependent]
                        if mention is None or mention.search(source.read_bytes()):
                            os.utime(source, (now + 2, now + 2))
            # A phase that reads one module checks just it (and what it imports, from cache).
            run = self._run(work, hidir, phase.flags, files=phase.only_paths)
            _check_ran(run, "the mutated workspace")
        return run, {e.path: e for e in phase.edits}


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "scout" / "oracle"


def _check_ran(run: TypecheckRun, what: str) -> None:
    if run.returncode != 0 and not run.diagnostics:
        raise OracleError(f"the type-check of {what} failed without diagnostics (exit "
                          f"{run.returncode}); command: {' '.join(run.command[:6])} ...\n"
                          f"{run.output_tail}\nFix the setup or pass --typecheck-cmd.")


def _describe(d: Diagnostic) -> str:
    first = d.message.strip().splitlines()[0] if d.message.strip() else ""
    return f"  {d.path}:{d.start_line}:{d.start_col}: {first}"


_LOCATION_IN_MESSAGE = re.compile(r"(\.l?hs):\d+:\d+(?:-\d+)?|\(\d+,\d+\)-\(\d+,\d+\)")


def _key(d: Diagnostic, line: int | None = None) -> tuple[str, int, str | None, str]:
    message = _LOCATION_IN_MESSAGE.sub(r"\1", d.message)
    return (d.path, d.start_line if line is None else line, d.flag, message)


def _to_site(d: Diagnostic, edits: dict) -> BreakSite | None:
    start, end = d.start_line, d.end_line
    edit = edits.get(d.path)
    if edit is not None:
        start, synthetic = edit.line_map.to_original(d.start_line)
        if synthetic:
            return None  # inside text the mutation inserted: not a place in the user's code
        end, _ = edit.line_map.to_original(d.end_line)
        end = max(start, end)
    return BreakSite(f"{d.path}:{start}", d.path, start, (start, end), d.message.strip(),
                     d.severity, d.flag, d.start_col)


@contextmanager
def scratch_copy(root: Path, layout: ProjectLayout) -> Iterator[Path]:
    """A private copy of the workspace's sources (mtimes kept, so cached interfaces stay valid),
    removed however the block ends; atexit covers exits that skip ``finally`` handlers."""
    work = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX))
    cleanup = functools.partial(shutil.rmtree, work, True)
    atexit.register(cleanup)
    try:
        for rel in _files_to_copy(root):
            dest = work / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / rel, dest)
        write_stubs(layout, work / STUB_DIR_NAME)
        yield work
    finally:
        cleanup()
        atexit.unregister(cleanup)  # partials compare by identity: only this registration


def _files_to_copy(root: Path) -> Iterator[str]:
    yield from iter_haskell_files(root)
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.startswith(".")]
        for name in filenames:
            if name.endswith(COPIED_SUFFIXES) and not name.endswith((".hs", ".lhs")):
                yield Path(dirpath, name).relative_to(root).as_posix()

"""The oracle: apply a mutation in a scratch copy, type-check, and read what breaks.

The user's files are only ever read. Every type-check runs in a scratch directory that is
removed on success, failure, Ctrl-C and SIGTERM (try/finally + atexit; GHC runs in its own
process group and is killed when we are interrupted). The unmutated baseline is type-checked once
per workspace contents and cached (diagnostics + interface files); a mutation starts from the
baseline's interfaces so GHC only re-checks the edited module and its dependents, and only the
diagnostics the baseline did not have count as break sites.

Two ways to type-check, chosen per workspace and recorded in ``how``: ``cabal build --offline``
against Debian's package database (a private ``CABAL_DIR`` whose config has no package
repository), when the workspace has ``.cabal`` libraries and ``cabal`` is installed; otherwise,
or when cabal cannot build the unmutated workspace (the reason is recorded), ``ghc --make`` over
the library modules. Cabal runs in a scratch directory whose path is stable per workspace (and
locked), because cabal and GHC key their build products on absolute paths.

Files come from the project's one walker (``scout.haskell.discover``), module names and imports
from the one index (``WorkspaceIndex``); the layout is recomputed whenever a Haskell or
``.cabal`` file is added, removed or changed. Caches live under the one ``semantic-scout``
cache root, beside the index's.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import fcntl
import functools
import hashlib
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

from scout import supervise
from scout.cancel import NEVER, CancelToken
from scout.haskell.discover import discover
from scout.haskell.index import WorkspaceIndex
from scout.haskell.index import default_cache_dir as index_cache_dir
from scout.oracle.mutate import (
    HELPER_MODULE,
    Mutation,
    Phase,
    with_padded_patterns,
    without_pattern_uses,
)
from scout.oracle.typecheck import (
    CABAL_BUILDDIR,
    DEFERRED_REASONS,
    STUB_DIR_NAME,
    Diagnostic,
    GhcMissingError,
    ProjectLayout,
    SkippedModule,
    TypecheckError,
    TypecheckRun,
    cabal_command,
    cabal_environment,
    cabal_project_text,
    find_cabal,
    find_ghc,
    ghc_command,
    ghc_version,
    is_break,
    run_command,
    scan_project,
    template_command,
    workspace_digest,
    write_stubs,
)

SCRATCH_PREFIX = "scout-oracle-"
MAX_COPIED_BYTES = 4 * 1024 * 1024
MAX_PADDING_ROUNDS = 4  # layers of modules behind rejected positional patterns
# What makes the layout stale: a Haskell source or a .cabal file added, removed or changed.
LAYOUT_SUFFIXES = (".hs", ".lhs", ".hs-boot", ".lhs-boot", ".cabal", "cabal.project")
HIDIR_NAME = ".scout-oracle-hi"
BASELINE_FORMAT = 3  # bump when the cached baseline layout or the flags change
BUILD_MODES = ("auto", "cabal", "ghc")


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
    # Places GHC is never asked about in this mutation: (edge kind, why), outside the
    # defining module ``defined_in`` (deprecation warnings skip import and export lists).
    unseen_edges: dict[str, str] = field(default_factory=dict)
    defined_in: str = ""

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
    hidir: Path  # the cached interfaces (ghc) or build directory (cabal)
    cached: bool
    seconds: float


@dataclass(slots=True)
class Oracle:
    """Type-checks mutations of one workspace. Create once per workspace and reuse it: the
    layout and the baseline are computed on first use and recomputed when the workspace
    changes. ``index``: the workspace's index when the caller has one (a session keeps it
    current); otherwise the oracle builds one (cached on disk) and refreshes changed files.
    ``build``: ``auto`` (cabal when possible, else ghc, with the reason in ``how``), ``cabal``
    or ``ghc``."""

    root: Path
    cache_dir: Path | None = None
    typecheck_cmd: str | None = None
    timeout: float | None = 900.0
    incremental: bool = True  # False: mutations start without the baseline's interfaces (cold)
    index: WorkspaceIndex | None = None
    build: str = "auto"
    _layout: ProjectLayout | None = field(default=None, init=False)
    _state: tuple | None = field(default=None, init=False)
    _baseline: Baseline | None = field(default=None, init=False)
    _mode: str | None = field(default=None, init=False)  # "template" | "cabal" | "ghc"
    _mode_reason: str = field(default="", init=False)
    _cabal_failed: str | None = field(default=None, init=False)  # why cabal could not build it

    def __post_init__(self) -> None:
        self.root = Path(self.root).resolve()
        if self.cache_dir is None:
            self.cache_dir = default_cache_dir()
        self.cache_dir = Path(self.cache_dir)
        if self.build not in BUILD_MODES:
            raise OracleError(f"unknown build mode {self.build!r}: use one of "
                              f"{', '.join(BUILD_MODES)}")

    # -- setup ------------------------------------------------------------------------------

    def _workspace_state(self) -> tuple:
        state = []
        for rel in discover(self.root, suffixes=LAYOUT_SUFFIXES):
            try:
                st = (self.root / rel).stat()
            except OSError:
                continue
            state.append((rel, st.st_mtime_ns, st.st_size))
        return tuple(state)

    def _refresh_index(self, old: tuple | None, new: tuple) -> WorkspaceIndex:
        if self.index is None:
            self.index = WorkspaceIndex.build(self.root)
            return self.index
        if old is not None:
            before = {rel: rest for rel, *rest in old}
            after = {rel: rest for rel, *rest in new}
            for rel in sorted(set(before) | set(after)):
                if before.get(rel) != after.get(rel) and not rel.endswith(".cabal"):
                    self.index.refresh_from_disk(rel)
        return self.index

    @property
    def layout(self) -> ProjectLayout:
        """What one type-check compiles; recomputed when a source or ``.cabal`` file was
        added, removed or changed since the last look."""
        state = self._workspace_state()
        if self._layout is None or state != self._state:
            index = self._refresh_index(self._state, state)
            try:
                self._layout = scan_project(self.root, index)
            except TypecheckError as exc:
                raise OracleError(str(exc)) from exc
            if self._state is not None and self._cabal_failed is not None and any(
                    rel.endswith((".cabal", "cabal.project"))
                    for rel in {s[0] for s in set(state) ^ set(self._state)}):
                self._cabal_failed = None  # a .cabal edit may fix what stopped cabal
                self._mode = None
            self._state = state
            self._baseline = None
        return self._layout

    @property
    def how(self) -> str:
        layout = self.layout
        mode = self._decide_mode()
        return f"{layout.how}; {self._mode_reason or mode}"

    def _decide_mode(self) -> str:
        if self._mode is not None:
            return self._mode
        layout = self.layout
        if self.typecheck_cmd:
            self._mode, self._mode_reason = "template", "--typecheck-cmd"
        elif self.build == "ghc":
            self._mode, self._mode_reason = "ghc", "ghc --make (asked for)"
        elif not layout.packages:
            self._mode, self._mode_reason = "ghc", "ghc --make (no .cabal library)"
        elif find_cabal() is None:
            if self.build == "cabal":
                raise OracleError("cabal is not on PATH: install it (Debian: `apt-get install "
                                  "cabal-install`) or use --build ghc")
            self._mode, self._mode_reason = "ghc", ("ghc --make (cabal-install is not installed:"
                                                    " apt-get install cabal-install)")
        elif self._cabal_failed is not None:
            self._mode = "ghc"
            self._mode_reason = f"ghc --make (cabal build --offline failed: {self._cabal_failed})"
        else:
            self._mode, self._mode_reason = "cabal", "cabal build --offline (Debian's packages)"
        return self._mode

    def _command(self, work_root: Path, hidir: Path, flags: Sequence[str],
                 files: Sequence[str] | None = None) -> list[str]:
        mode = self._decide_mode()
        if mode == "template":
            assert self.typecheck_cmd is not None
            return template_command(self.typecheck_cmd, self.layout, work_root, hidir, flags,
                                    files)
        try:
            ghc = find_ghc()
        except GhcMissingError as exc:
            raise GhcNotFoundError(str(exc)) from exc
        if mode == "cabal":
            cabal = find_cabal()
            assert cabal is not None
            return cabal_command(self.layout, cabal, flags)
        return ghc_command(self.layout, ghc, work_root, hidir, flags, files)

    def _command_key(self) -> str:
        mode = self._decide_mode()
        if mode == "template":
            return "template:" + str(self.typecheck_cmd)
        return f"ghc-{ghc_version(find_ghc())}:{BASELINE_FORMAT}:{mode}"

    def _run(self, work_root: Path, hidir: Path, flags: Sequence[str],
             files: Sequence[str] | None = None, cancel: CancelToken = NEVER) -> TypecheckRun:
        cmd = self._command(work_root, hidir, flags, files)
        env = None
        if self._mode == "cabal":
            assert self.cache_dir is not None
            env = cabal_environment(self.cache_dir)
        try:
            run = run_command(cmd, work_root, timeout=self.timeout, cancel=cancel, env=env)
        except GhcMissingError as exc:
            raise GhcNotFoundError(str(exc)) from exc
        except TypecheckError as exc:
            raise OracleError(str(exc)) from exc
        if self._mode == "cabal":
            run = _package_relative_paths(run, work_root, self.layout)
        return run

    def _scratch(self) -> contextlib.AbstractContextManager[Path]:
        assert self.cache_dir is not None
        stable = None
        if self._decide_mode() == "cabal":
            tag = hashlib.blake2b(str(self.root).encode(), digest_size=8).hexdigest()
            stable = self.cache_dir / "work" / f"{self.root.name}-{tag}"
            supervise.remove_unlocked(stable.parent)  # what runs killed outright left behind
        return scratch_copy(self.root, self.layout, at=stable)

    def baseline(self, cancel: CancelToken = NEVER) -> Baseline:
        """The unmutated workspace's diagnostics and interfaces, cached per contents (the key
        is recomputed on every call, so edits between checks are picked up). When cabal cannot
        build the unmutated workspace, the oracle falls back to ghc --make and says why."""
        baseline = self._baseline_once(cancel)
        if baseline is None:  # cabal could not build it: ghc --make, with the reason recorded
            baseline = self._baseline_once(cancel)
        if baseline is None:
            raise OracleError(f"the unmutated workspace could not be type-checked: {self.how}")
        return baseline

    def _baseline_once(self, cancel: CancelToken) -> Baseline | None:
        layout = self.layout
        mode = self._decide_mode()
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
            with self._scratch() as work:
                hidir = work / (CABAL_BUILDDIR if mode == "cabal" else HIDIR_NAME)
                run = self._run(work, hidir, (), cancel=cancel)
                failure = _cabal_baseline_problem(run, layout) if mode == "cabal" else None
                if failure is not None:
                    self._cabal_failed = failure
                    self._mode = None
                    self._decide_mode()
                    return None
                _check_ran(run, "the unmutated workspace")
                home.parent.mkdir(parents=True, exist_ok=True)
                staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=home.parent))
                if hidir.exists():
                    shutil.copytree(hidir, staging / "hi", copy_function=shutil.copy2,
                                    symlinks=True)
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

    def check(self, mutation: Mutation, cancel: CancelToken = NEVER) -> OracleResult:
        started = time.monotonic()
        baseline = self.baseline(cancel)
        layout = self.layout
        known = {_key(d) for d in baseline.diagnostics}
        sites: dict[tuple[str, int], BreakSite] = {}
        dropped_modules: dict[str, str] = {}
        partial_modules: dict[str, str] = {}
        phase_seconds = []
        padded = 0
        queue = list(mutation.phases)
        while queue:
            cancel.check()
            phase = queue.pop(0)
            run, maps = self._run_phase(phase, baseline, cancel)
            phase_seconds.append(run.seconds)
            unapplied = next((d for d in run.errors if _HELPER_UNSEEN.search(d.message)), None)
            if unapplied is not None:  # the stand-in never reached GHC: nothing was measured
                raise OracleError(f"the oracle's edit of {unapplied.path} did not apply "
                                  f"({unapplied.path}:{unapplied.start_line}: "
                                  f"{' '.join(unapplied.message.split())[:160]})")
            if phase.stub_constructor is not None:
                name = phase.stub_constructor[0]
                spans = [(d.start_line, d.start_col, d.end_line, d.end_col) for d in run.errors
                         if d.path in (phase.only_paths or ()) and "data constructor" in d.message
                         and f"‘{name}’" in d.message]
                follow_up = without_pattern_uses(phase, spans)
                if follow_up is not None:
                    queue.insert(0, follow_up)
            if phase.pad_constructor is not None and padded < MAX_PADDING_ROUNDS:
                name = phase.pad_constructor
                rejected = [(d.path, d.start_line, d.start_col + len(name))
                            if phase.pad_first and d.start_line == d.end_line
                            else (d.path, d.end_line, d.end_col) for d in run.errors
                            if f"constructor ‘{name}’ should have" in d.message
                            and "In the pattern" in d.message]
                follow_up = with_padded_patterns(
                    phase, rejected, lambda rel: (self.root / rel).read_text(encoding="utf-8"))
                if follow_up is not None:
                    padded += 1
                    queue.insert(0, follow_up)
            stopped = [d for d in run.errors if phase.partial_on_error and not (
                phase.message_must_mention and re.search(phase.message_must_mention,
                                                         d.message))]
            if stopped:  # a hard error that is no site (those are what the phase reports)
                for path in phase.only_paths or ():
                    module = layout.module_of_path(path)
                    if module is not None:
                        partial_modules.setdefault(module, (
                            f"the check of {phase.purpose or 'this module'} stopped at a hard "
                            f"error ({stopped[0].message.splitlines()[0][:120]}): more "
                            "sites in it may be hidden"))
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
                if not is_break(diag):
                    continue
                site = _to_site(diag, maps)
                if site is None or (_key(diag, site.line) in known):
                    continue
                if phase.only_paths is not None and site.path not in phase.only_paths:
                    continue
                if site.path in phase.skip_paths or (diag.flag in phase.ignore_flags):
                    continue
                if any(site.path == path and first <= site.line <= last
                       for path, first, last in phase.skip_lines):
                    continue
                if phase.instances_kept and _missing_opaque_instance(diag.message):
                    continue
                if _opaque_instance_head(diag.message):
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
            how=self.how,
            phase_seconds=tuple(phase_seconds),
            unchecked_paths=unchecked,
            unseen_edges=({kind: _LISTS_UNSEEN for kind in ("import", "export")}
                          if any(p.recheck_dependents for p in mutation.phases) else {}),
            defined_in=mutation.path,
        )

    def _run_phase(self, phase: Phase, baseline: Baseline,
                   cancel: CancelToken = NEVER) -> tuple[TypecheckRun, dict]:
        layout = self.layout
        cabal = self._decide_mode() == "cabal"
        with self._scratch() as work:
            hidir = work / (CABAL_BUILDDIR if cabal else HIDIR_NAME)
            if (self.incremental or cabal) and baseline.hidir.exists():
                shutil.copytree(baseline.hidir, hidir, copy_function=shutil.copy2, symlinks=True)
            now = time.time()
            for edit in phase.edits:
                target = work / edit.path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.unlink(missing_ok=True)  # a fresh file: never write through to another
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
                        data = source.read_bytes()
                        if mention is None or mention.search(data):
                            loud = _deprecations_heard(data)
                            if loud != data:  # a fresh file: never write through to another
                                source.unlink()
                                source.write_bytes(loud)
                            os.utime(source, (now + 2, now + 2))
            # A phase that reads one module checks just it (and what it imports, from cache).
            run = self._run(work, hidir, phase.flags, files=phase.only_paths, cancel=cancel)
            if cabal and not _cabal_ran(run):
                raise OracleError(f"cabal build of the mutated workspace failed: "
                                  f"{_cabal_failure(run)}")
            _check_ran(run, "the mutated workspace")
        return run, {e.path: e for e in phase.edits}


_LISTS_UNSEEN = ("GHC does not report a deprecated name in an import or export list, and a "
                 "real removal would stop the modules behind it")
_SILENCERS = re.compile(rb"\{-#\s*OPTIONS(?:_GHC)?\b(?:(?!#-\}).)*#-\}", re.S)
_SILENCE = re.compile(rb"(?<!\S)(?:-fno-warn-deprecations|-Wno-deprecations|-w"
                      rb"|-fno-warn-warnings-deprecations|-Wno-warnings-deprecations)(?!\S)")


def _deprecations_heard(source: bytes) -> bytes:
    """A module's text with the OPTIONS_GHC flags that silence deprecation warnings blanked
    (same length, same lines): the deprecation phases read breaks from those warnings, and a
    module that silences them would otherwise look unbroken."""
    return _SILENCERS.sub(lambda m: _SILENCE.sub(lambda f: b" " * len(f.group(0)), m.group(0)),
                          source)


def default_cache_dir() -> Path:
    """The oracle's caches, beside the index's under the one ``semantic-scout`` cache root."""
    return index_cache_dir().parent / "oracle"


def _cabal_ran(run: TypecheckRun) -> bool:
    """cabal with -fno-code type-checks everything, then fails at the archive step (there is no
    object code): that failure means the type-check itself ran."""
    if run.returncode == 0 or run.diagnostics or run.compiled:
        return True
    return bool(re.search(r"\bar: .*No such file|Building library for", run.output_tail))


def _cabal_baseline_problem(run: TypecheckRun, layout: ProjectLayout) -> str | None:
    """Why cabal's unmutated type-check cannot be the baseline, or None. Besides a failed
    build: modules cabal never type-checked (with -fno-code a local library has no object
    code, so a local package that depends on it is never built)."""
    if not _cabal_ran(run):
        return _cabal_failure(run)
    compiled = set(run.compiled)
    unbuilt = [p.name for p in layout.packages
               if (own := set(p.modules) & set(layout.modules)) and not own & compiled]
    if unbuilt and not run.errors:
        return (f"it did not type-check the library of {', '.join(unbuilt)}: with -fno-code a "
                "local library has no object code, so a package depending on it is not built")
    return None


def _cabal_failure(run: TypecheckRun) -> str:
    lines = [ln.strip() for ln in run.output_tail.splitlines() if ln.strip()
             and not ln.startswith(("Warning: No remote package servers", "one specified in"))]
    interesting = [ln for ln in lines if re.search(r"[Ee]rror|[Cc]ould not|unknown package|"
                                                     r"rejecting|cannot|failed", ln)]
    picked = (interesting or lines or [f"exit {run.returncode} without output"])[:3]
    return "; ".join(picked)[:400]


def _package_relative_paths(run: TypecheckRun, work: Path, layout: ProjectLayout
                            ) -> TypecheckRun:
    """cabal runs GHC in each package's directory: make diagnostic paths workspace-relative."""
    dirs = [p.directory for p in layout.packages if p.directory]
    if not dirs:
        return run
    fixed = []
    for d in run.diagnostics:
        path = d.path
        if not (work / path).exists():
            for directory in dirs:
                if (work / directory / path).exists():
                    path = f"{directory}/{path}"
                    break
        fixed.append(Diagnostic(path, d.start_line, d.start_col, d.end_line, d.end_col,
                                d.severity, d.flag, d.message) if path != d.path else d)
    return dataclasses.replace(run, diagnostics=tuple(fixed))


# GHC did not see the helper module the mutation imports (an import the preprocessor dropped).
_HELPER_UNSEEN = re.compile(r"(?:Not in scope|not in scope)[^\n]*‘" + re.escape(HELPER_MODULE)
                            + r"\.|Could not find module ‘" + re.escape(HELPER_MODULE) + "’"
                            + r"|No module named ‘" + re.escape(HELPER_MODULE) + "’")
_OPAQUE_INSTANCE = re.compile(r"(?:No instance for|Could not deduce)\s*\((?:(?!arising).)*"
                              r"ScoutOpaque", re.S)


def _opaque_instance_head(message: str) -> bool:
    """An instance whose head names the changed synonym (``instance Num ValueMap``): a type
    family may not stand there, a real new type may. An artifact of the stand-in, no site
    (the hard error leaves the module partly checked, and it is reported so)."""
    return bool(re.search(r"Illegal type synonym family application[^\n]*ScoutOpaque",
                          message))


def _missing_opaque_instance(message: str) -> bool:
    """A class instance the stand-in type lacks (``No instance for (Show (ScoutOpaque T))``),
    not asked for by a literal (``arising from the literal ‘2’``: a value of the old type)."""
    return bool(_OPAQUE_INSTANCE.search(message)) and "arising from the literal" not in message


def _check_ran(run: TypecheckRun, what: str) -> None:
    if run.returncode != 0 and not run.diagnostics and not _cabal_ran(run):
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
        if synthetic or not edit.original:
            return None  # inside text the mutation inserted: not a place in the user's code
        end, _ = edit.line_map.to_original(d.end_line)
        end = max(start, end)
    return BreakSite(f"{d.path}:{start}", d.path, start, (start, end), d.message.strip(),
                     d.severity, d.flag, d.start_col)


def copied_files(root: Path) -> list[str]:
    """What a scratch copy holds: every file the walker sees (``.gitignore`` honoured, build and
    VCS folders skipped), up to ``MAX_COPIED_BYTES`` each: cabal and CPP may need any of them
    (``#include "unbox-tuple-instances"``, ``extra-source-files``)."""
    out = []
    for rel in discover(root, suffixes=("",)):
        try:
            if (root / rel).stat().st_size <= MAX_COPIED_BYTES:
                out.append(rel)
        except OSError:
            continue
    return out


@contextmanager
def scratch_copy(root: Path, layout: ProjectLayout, at: Path | None = None) -> Iterator[Path]:
    """A private copy of the workspace's sources (mtimes kept, so cached interfaces stay valid),
    removed however the block ends; atexit covers exits that skip ``finally`` handlers.
    ``at``: a stable path to use (locked while in use) instead of a fresh temporary one."""
    lock = None
    if at is None:
        # A run killed outright (SIGKILL) cannot remove its copy: the next run does.
        supervise.remove_stale(Path(tempfile.gettempdir()), SCRATCH_PREFIX)
        work = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX))
        supervise.claim(work)
    else:
        at.parent.mkdir(parents=True, exist_ok=True)
        lock = open(at.with_name(at.name + ".lock"), "w")  # noqa: SIM115 - held for the block
        fcntl.flock(lock, fcntl.LOCK_EX)
        shutil.rmtree(at, ignore_errors=True)
        at.mkdir()
        work = at
    cleanup = functools.partial(shutil.rmtree, work, True)
    atexit.register(cleanup)
    try:
        for rel in copied_files(root):
            dest = work / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / rel, dest)
        write_stubs(layout, work / STUB_DIR_NAME)
        if at is not None and not (work / "cabal.project").exists():
            # Pins the project root (cabal would otherwise search the directories above).
            (work / "cabal.project").write_text(cabal_project_text(layout) or "packages: ./\n")
        yield work
    finally:
        cleanup()
        atexit.unregister(cleanup)  # partials compare by identity: only this registration
        if lock is not None:
            lock.close()

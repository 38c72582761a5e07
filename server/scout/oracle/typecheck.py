"""Find what to type-check in a workspace, build the GHC command, run it, read its diagnostics.

The plain mode is ``ghc --make -fno-code`` over the library modules named in the workspace's
``.cabal`` files (their ``hs-source-dirs``), or over every module of the workspace when there is
no ``.cabal`` file. It writes interfaces (``-fwrite-interface``) into a cache directory so a
mutation only re-checks the edited module and its dependents. ``--typecheck-cmd`` replaces the
command with a template for projects that need their own flags.

Diagnostics come from ``-ddump-json``: one JSON object per line with a full span.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from scout import supervise
from scout.cancel import NEVER, Cancelled, CancelToken
from scout.haskell.discover import discover

if TYPE_CHECKING:
    from scout.haskell.index import WorkspaceIndex

# Warnings that turn silent breakage into diagnostics the oracle reads.
ORACLE_WARNINGS = (
    "-Wincomplete-patterns",
    "-Wincomplete-uni-patterns",
    "-Wincomplete-record-updates",
    "-Wmissing-methods",
    "-Wmissing-fields",
    "-Wdeprecations",
)
# Deferral is on in every run, the baseline included: GHC re-checks every module when flags
# change between runs, so the flags must not depend on the mutation.
DEFER_FLAGS = ("-fdefer-type-errors", "-fdefer-out-of-scope-variables")
DEFERRED_REASONS = frozenset({"Opt_WarnDeferredTypeErrors", "Opt_WarnDeferredOutOfScopeVariables"})
# The warnings that are break sites (what ORACLE_WARNINGS turns on, and deferred errors). A
# project's own -Wall warnings the change provokes (an export removed leaves the definition
# unused, a constraint becomes redundant) are not places the user must change.
BREAK_REASONS = DEFERRED_REASONS | {
    "Opt_WarnIncompletePatterns", "Opt_WarnIncompleteUniPatterns",
    "Opt_WarnIncompletePatternsRecUpd", "Opt_WarnMissingMethods", "Opt_WarnMissingFields",
    "Opt_WarnWarningsDeprecations"}


def is_break(d: Diagnostic) -> bool:
    if d.severity == "error" or d.flag in BREAK_REASONS:
        return True
    # Unflagged warnings: only "The MINIMAL pragma does not require: m but there is no
    # default implementation" is a break ("Ignoring unusable UNPACK pragma" is not).
    return d.flag is None and "MINIMAL pragma" in d.message
BASE_FLAGS = ("-fno-code", "-fkeep-going", "-ddump-json", "-fdiagnostics-color=never",
              "-fwrite-interface", "-O0", *DEFER_FLAGS)
HASKELL_SUFFIXES = (".hs", ".lhs")
# Files a module may #include or {-# SOURCE #-}-import: part of what a baseline depends on.
INCLUDED_SUFFIXES = (".h", ".inc", ".hs-boot", ".lhs-boot")
STUB_DIR_NAME = ".scout-oracle-stubs"
STUB_MTIME = 946684800  # 2000-01-01

_KEEP_GOING = re.compile(r"removing the following dependencies and continuing:\s*(.*)", re.S)
_COMPILING = re.compile(r"^\[\s*\d+ of \d+\] Compiling (\S+)")


class TypecheckError(Exception):
    """A type-check could not be set up or run; the message says what to do next."""


class GhcMissingError(TypecheckError):
    pass


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One GHC diagnostic. ``path`` is workspace-relative; lines 1-based, columns 1-based (GHC)."""

    path: str
    start_line: int
    start_col: int
    end_line: int
    end_col: int
    severity: str  # "error" | "warning"
    flag: str | None  # GHC's reason, e.g. "Opt_WarnIncompletePatterns"; None for plain errors
    message: str

    @property
    def location(self) -> str:
        return f"{self.path}:{self.start_line}"

    def as_dict(self) -> dict[str, object]:
        return {"path": self.path, "start_line": self.start_line, "start_col": self.start_col,
                "end_line": self.end_line, "end_col": self.end_col, "severity": self.severity,
                "flag": self.flag, "message": self.message}

    @staticmethod
    def from_dict(d: dict) -> Diagnostic:
        return Diagnostic(d["path"], d["start_line"], d["start_col"], d["end_line"], d["end_col"],
                          d["severity"], d["flag"], d["message"])


@dataclass(frozen=True, slots=True)
class SkippedModule:
    module: str
    reason: str
    path: str | None = None  # workspace-relative source, when known


@dataclass(frozen=True, slots=True)
class CabalPackage:
    """The parts of a ``.cabal`` file's library stanza the type-check needs."""

    name: str
    version: str
    directory: str  # workspace-relative directory of the .cabal file ("" for the root)
    source_dirs: tuple[str, ...]  # workspace-relative
    modules: tuple[str, ...]  # exposed-modules + other-modules
    extensions: tuple[str, ...]
    cpp_options: tuple[str, ...]


@dataclass(slots=True)
class ProjectLayout:
    """What one type-check compiles: module -> file, the import graph, flags from .cabal files."""

    root: Path
    modules: dict[str, str]  # module name -> workspace-relative path of its source
    imports: dict[str, frozenset[str]]  # module -> home modules it imports
    source_dirs: tuple[str, ...]
    extensions: tuple[str, ...]
    cpp_options: tuple[str, ...]
    packages: tuple[CabalPackage, ...]
    paths_stubs: dict[str, str]  # missing Paths_<pkg> module -> package version
    skipped: list[SkippedModule] = field(default_factory=list)
    how: str = ""  # one sentence: how the module set was found

    def dependents(self, module: str) -> set[str]:
        """Home modules that import ``module``, transitively."""
        reverse: dict[str, set[str]] = {}
        for mod, deps in self.imports.items():
            for dep in deps:
                reverse.setdefault(dep, set()).add(mod)
        seen: set[str] = set()
        stack = [module]
        while stack:
            for user in reverse.get(stack.pop(), ()):
                if user not in seen:
                    seen.add(user)
                    stack.append(user)
        return seen

    def module_of_path(self, rel_path: str) -> str | None:
        for mod, path in self.modules.items():
            if path == rel_path:
                return mod
        return None


@dataclass(frozen=True, slots=True)
class TypecheckRun:
    diagnostics: tuple[Diagnostic, ...]
    compiled: tuple[str, ...]  # modules GHC (re)compiled in this run
    not_checked: tuple[str, ...]  # modules -fkeep-going dropped because a dependency failed
    returncode: int
    seconds: float
    command: tuple[str, ...]
    output_tail: str  # last lines of non-JSON output, for error messages

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]


# ---------------------------------------------------------------------------------------------
# Workspace scan


def is_module_source(rel: str) -> bool:
    return rel.endswith(HASKELL_SUFFIXES)


def parse_cabal_file(path: Path, root: Path) -> CabalPackage | None:
    """Read the library stanza(s) of a ``.cabal`` file (all conditional branches merged)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    directory = path.parent.relative_to(root).as_posix()
    directory = "" if directory == "." else directory
    top: dict[str, list[str]] = {}
    lib: dict[str, list[str]] = {}
    in_library = False
    has_library = False
    current: list[str] | None = None
    for raw in text.splitlines():
        line = raw.split("--", 1)[0].rstrip() if not raw.lstrip().startswith("--") else ""
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        stripped = line.strip()
        if indent == 0:
            current = None
            head = stripped.lower()
            if re.match(r"(library|executable|test-suite|benchmark|foreign-library|flag|"
                        r"source-repository|common|custom-setup)\b", head):
                in_library = head == "library"  # named sub-libraries are skipped
                has_library = has_library or in_library
                continue
            target = top
        else:
            target = lib if in_library else None
        field_match = re.match(r"([A-Za-z][\w-]*)\s*:(.*)$", stripped)
        if field_match and not stripped.lower().startswith(("if ", "else")):
            if target is None:
                current = None
                continue
            current = target.setdefault(field_match.group(1).lower(), [])
            current.append(field_match.group(2))
        elif stripped.lower().startswith(("if ", "else", "}")) or stripped in ("{",):
            current = None
        elif current is not None:
            current.append(stripped)
    if not has_library:
        return None

    def words(values: list[str]) -> list[str]:
        return [w for v in values for w in re.split(r"[\s,]+", v) if w]

    pkg_name = (words(top.get("name", [])) or [path.stem])[0]
    version = (words(top.get("version", [])) or ["0"])[0]
    source_dirs = words(lib.get("hs-source-dirs", [])) or ["."]
    return CabalPackage(
        name=pkg_name,
        version=version,
        directory=directory,
        source_dirs=tuple(_join(directory, d) for d in source_dirs),
        modules=tuple(dict.fromkeys(words(lib.get("exposed-modules", []))
                                    + words(lib.get("other-modules", [])))),
        extensions=tuple(dict.fromkeys(words(lib.get("default-extensions", []))
                                       + words(lib.get("default-language", [])))),
        cpp_options=tuple(words(lib.get("cpp-options", []))),
    )


def _join(directory: str, sub: str) -> str:
    joined = PurePosixPath(directory or ".", sub).as_posix()
    joined = os.path.normpath(joined).replace(os.sep, "/")
    return "" if joined == "." else joined


def scan_project(root: Path, index: WorkspaceIndex) -> ProjectLayout:
    """Decide which modules one type-check compiles, and how (recorded in ``how``).

    Module names and imports come from the workspace index (tree-sitter), the files from the
    project's one walker (``scout.haskell.discover``: ``.gitignore`` honoured, no symlinked
    directories). A file the index skipped (not UTF-8, too large) is still compiled when a
    ``.cabal`` file lists it; its own imports are then unknown, which ``how`` says."""
    root = root.resolve()
    if not root.is_dir():
        raise TypecheckError(f"workspace {root} is not a directory: pass --root DIR")
    cabal_files = [root / rel for rel in discover(root, suffixes=(".cabal",))]
    packages = [pkg for f in cabal_files if (pkg := parse_cabal_file(f, root)) is not None]
    skipped: list[SkippedModule] = []
    headers: dict[str, str | None] = {}
    imports_of: dict[str, set[str]] = {}
    sources = sorted(rel for rel in (*index.summaries, *index.skipped) if is_module_source(rel)
                     and not getattr(index.summaries.get(rel), "included_by", ()))  # #include'd
    unread = [rel for rel in sources if rel not in index.summaries]
    for rel in sources:
        summary = index.summaries.get(rel)
        headers[rel] = summary.module if summary is not None else None
        imports_of[rel] = {i.module for i in summary.imports} if summary is not None else set()
    present = set(sources)

    modules: dict[str, str] = {}
    if packages:
        source_dirs = tuple(dict.fromkeys(d for p in packages for d in p.source_dirs))
        how = (f"library modules of {', '.join(p.name + '.cabal' for p in packages)} "
               f"(hs-source-dirs: {', '.join(d or '.' for d in source_dirs)})")
        wanted = [(m, p) for p in packages for m in p.modules]
        paths_stubs: dict[str, str] = {}
        for module, pkg in wanted:
            found = _find_module_file(module, pkg.source_dirs, present)
            if found:
                modules.setdefault(module, found)
            elif module.startswith("Paths_"):
                paths_stubs[module] = pkg.version
            else:
                skipped.append(SkippedModule(module, f"listed in {pkg.name}.cabal but no .hs/.lhs "
                                                      "source found (generated or .hsc?)"))
        # Modules imported from the listed ones that live in the source dirs are compiled too.
        frontier = list(modules)
        while frontier:
            mod = frontier.pop()
            for imp in imports_of.get(modules[mod], ()):
                if imp in modules:
                    continue
                found = _find_module_file(imp, source_dirs, present)
                if found:
                    modules[imp] = found
                    frontier.append(imp)
                elif imp.startswith("Paths_") and imp not in paths_stubs:
                    paths_stubs[imp] = next((p.version for p in packages
                                             if imp == "Paths_" + p.name.replace("-", "_")), "0")
        used = set(modules.values())
        for rel, mod in headers.items():
            if rel not in used:
                skipped.append(SkippedModule(mod or rel, f"{rel} is not part of a library component",
                                             rel))
    else:
        dirs: list[str] = []
        by_module: dict[str, list[str]] = {}
        for rel, mod in headers.items():
            if mod is None:
                skipped.append(SkippedModule(rel, f"{rel}: {index.skipped[rel].reason}", rel))
                continue
            if mod == "Main":
                skipped.append(SkippedModule(mod, f"{rel} is a Main module: check "
                                             "executables with --typecheck-cmd", rel))
                continue
            by_module.setdefault(mod, []).append(rel)
        for mod, rels in sorted(by_module.items()):
            if len(rels) > 1:
                skipped.append(SkippedModule(mod, f"defined in several files: {', '.join(rels)}"))
                continue
            rel = rels[0]
            base = _source_dir_for(rel, mod)
            if base is None:
                skipped.append(SkippedModule(mod, f"{rel} does not sit at a path matching its "
                                                  "module name", rel))
                continue
            modules[mod] = rel
            dirs.append(base)
        source_dirs = tuple(dict.fromkeys(dirs))
        how = "every non-Main module of the workspace (no .cabal file found)"
        paths_stubs = {}
        for rel in modules.values():
            for imp in imports_of.get(rel, ()):
                if imp.startswith("Paths_") and imp not in modules:
                    paths_stubs[imp] = "0"
    imports = {mod: frozenset(i for i in imports_of.get(rel, ()) if i in modules)
               for mod, rel in modules.items()}
    unread_used = sorted(set(unread) & set(modules.values()))
    if unread_used:
        how += (f"; {len(unread_used)} module(s) the index could not read "
                f"({', '.join(unread_used[:3])}): their imports are unknown")
    if not modules:
        raise TypecheckError(f"no Haskell library modules found under {root}: point --root at a "
                             "project, or give --typecheck-cmd")
    return ProjectLayout(
        root=root, modules=dict(sorted(modules.items())), imports=imports,
        source_dirs=source_dirs,
        extensions=tuple(dict.fromkeys(e for p in packages for e in p.extensions)),
        cpp_options=tuple(dict.fromkeys(o for p in packages for o in p.cpp_options)),
        packages=tuple(packages), paths_stubs=paths_stubs, skipped=skipped, how=how)


def _find_module_file(module: str, source_dirs: Sequence[str], sources: set[str]) -> str | None:
    tail = module.replace(".", "/")
    for d in source_dirs:
        for suffix in HASKELL_SUFFIXES:
            rel = f"{d}/{tail}{suffix}" if d else f"{tail}{suffix}"
            if rel in sources:
                return rel
    return None


def _source_dir_for(rel: str, module: str) -> str | None:
    stem = rel.rsplit(".", 1)[0]
    tail = module.replace(".", "/")
    if stem == tail:
        return ""
    if stem.endswith("/" + tail):
        return stem[: -len(tail) - 1]
    return None


# ---------------------------------------------------------------------------------------------
# Commands


@lru_cache(maxsize=1)
def ghc_version(ghc: str) -> str:
    out = subprocess.run([ghc, "--numeric-version"], capture_output=True, text=True, check=True)
    return out.stdout.strip()


@lru_cache(maxsize=1)
def installed_packages(ghc: str) -> frozenset[str]:
    # ghc-pkg sits next to ghc (Debian: /usr/bin/ghc-pkg).
    sibling = Path(ghc).with_name("ghc-pkg")
    pkg = str(sibling) if sibling.exists() else shutil.which("ghc-pkg")
    if not pkg:
        return frozenset()
    out = subprocess.run([pkg, "list", "--simple-output", "--names-only"], capture_output=True,
                         text=True)
    return frozenset(out.stdout.split())


def find_ghc() -> str:
    ghc = shutil.which("ghc")
    if not ghc:
        raise GhcMissingError("GHC is not on PATH: install it (Debian: `apt-get install ghc`) or "
                              "pass --typecheck-cmd with your own type-check command")
    return ghc


def write_stubs(layout: ProjectLayout, stub_dir: Path) -> Path:
    """Cabal-generated files the sources expect: ``Paths_<pkg>`` modules and ``cabal_macros.h``."""
    stub_dir.mkdir(parents=True, exist_ok=True)
    for module, version in layout.paths_stubs.items():
        numbers = ", ".join(str(int(n)) for n in re.findall(r"\d+", version)) or "0"
        (stub_dir / f"{module}.hs").write_text(
            f"module {module} (version, getBinDir, getLibDir, getDataDir, getLibexecDir,\n"
            f"  getSysconfDir, getDataFileName) where\n"
            "import Data.Version (Version, makeVersion)\n"
            f"version :: Version\nversion = makeVersion [{numbers}]\n"
            "getBinDir, getLibDir, getDataDir, getLibexecDir, getSysconfDir :: IO FilePath\n"
            'getBinDir = return "."\ngetLibDir = return "."\ngetDataDir = return "."\n'
            'getLibexecDir = return "."\ngetSysconfDir = return "."\n'
            "getDataFileName :: FilePath -> IO FilePath\ngetDataFileName = return\n")
    macros = []
    for pkg in layout.packages:
        ident = pkg.name.replace("-", "_")
        parts = [int(n) for n in re.findall(r"\d+", pkg.version)] + [0, 0, 0]
        a, b, c = parts[:3]
        macros.append(
            f'#define VERSION_{ident} "{pkg.version}"\n'
            f"#define MIN_VERSION_{ident}(major1,major2,minor) (\\\n"
            f"  (major1) <  {a} || \\\n  (major1) == {a} && (major2) <  {b} || \\\n"
            f"  (major1) == {a} && (major2) == {b} && (minor) <= {c})\n")
    (stub_dir / "cabal_macros.h").write_text("".join(macros))
    # A fixed, old mtime: stubs are rewritten in every scratch copy, and a fresh mtime would
    # make GHC re-check every module that imports them.
    for stub in stub_dir.iterdir():
        os.utime(stub, (STUB_MTIME, STUB_MTIME))
    return stub_dir


def ghc_command(layout: ProjectLayout, ghc: str, work_root: Path, hidir: Path,
                extra_flags: Sequence[str] = (), files: Sequence[str] | None = None) -> list[str]:
    """``ghc --make -fno-code`` over the layout's modules (or just ``files`` and what they
    import), run with ``cwd=work_root``."""
    # Paths relative to the scratch root (the working directory): absolute scratch paths would
    # change GHC's flag fingerprint in every run and force a full re-check.
    hidir_arg = _relative(hidir, work_root)
    extra_flags = [f for f in extra_flags if f not in BASE_FLAGS]  # later flags win in GHC
    include_dirs = [d or "." for d in layout.source_dirs] + [STUB_DIR_NAME]
    hide = [f"-hide-package={p.name}" for p in layout.packages
            if p.name in installed_packages(ghc)]
    cmd = [ghc, "--make", *BASE_FLAGS, *ORACLE_WARNINGS, *extra_flags,
           f"-hidir={hidir_arg}", f"-odir={hidir_arg}", f"-stubdir={hidir_arg}",
           "-i" + ":".join(include_dirs), f"-I{STUB_DIR_NAME}",
           "-optP-include", f"-optP{STUB_DIR_NAME}/cabal_macros.h",
           *hide, *(f"-X{e}" for e in layout.extensions), *layout.cpp_options,
           f"-j{min(os.cpu_count() or 1, 4)}"]
    if files is not None:
        return cmd + list(files)
    cmd += list(layout.modules.values())
    cmd += [f"{STUB_DIR_NAME}/{m}.hs" for m in layout.paths_stubs]
    return cmd


def _relative(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return str(path)


CABAL_BUILDDIR = ".scout-oracle-dist"
# A private cabal configuration: no package repository at all, so `--offline` never reaches for
# Hackage and only Debian's package database (GHC's global db) is used. Never the user's config.
CABAL_CONFIG = "-- written by scout's oracle: no repository, offline builds only\njobs: 2\n"


def find_cabal() -> str | None:
    return shutil.which("cabal")


def cabal_home(cache_root: Path) -> Path:
    """``CABAL_DIR`` for the oracle's cabal runs, with its own config (no Hackage stanza)."""
    home = cache_root / "cabal"
    config = home / "config"
    if not config.exists() or config.read_text() != CABAL_CONFIG:
        home.mkdir(parents=True, exist_ok=True)
        tmp = home / f"config.{os.getpid()}.tmp"
        tmp.write_text(CABAL_CONFIG)
        os.replace(tmp, config)
    return home


def cabal_environment(cache_root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["CABAL_DIR"] = str(cabal_home(cache_root))
    env.pop("CABAL_CONFIG", None)
    return env


def cabal_command(layout: ProjectLayout, cabal: str, extra_flags: Sequence[str] = ()
                  ) -> list[str]:
    """``cabal build --offline`` of every library in the workspace with the oracle's flags, run
    with ``cwd`` = the scratch copy. The build directory sits inside the scratch copy, whose
    path is stable per workspace, so the baseline's build products make later runs incremental."""
    flags = [*BASE_FLAGS, *ORACLE_WARNINGS, *(f for f in extra_flags if f not in BASE_FLAGS)]
    targets = [f"{p.name}:lib:{p.name}" for p in layout.packages]
    return [cabal, "build", *targets, "--offline", f"--builddir={CABAL_BUILDDIR}",
            "--ghc-options=" + " ".join(flags)]


def cabal_project_text(layout: ProjectLayout) -> str | None:
    """A ``cabal.project`` naming the workspace's packages, when it has none of its own and
    the packages are not all at the root."""
    dirs = sorted({p.directory or "." for p in layout.packages})
    if dirs == ["."]:
        return None
    return "packages: " + " ".join(d + "/" for d in dirs) + "\n"


def template_command(template: str, layout: ProjectLayout, work_root: Path, hidir: Path,
                     extra_flags: Sequence[str] = (), files: Sequence[str] | None = None
                     ) -> list[str]:
    """Expand a ``--typecheck-cmd`` template.

    Placeholders: ``{root}`` (the scratch copy, also the working directory), ``{hidir}`` (the
    interface cache), ``{flags}`` (the flags the oracle needs: -fno-code, -ddump-json, warnings,
    deferral; as separate words when it stands alone), ``{files}`` (the module sources, likewise),
    ``{stubs}`` (the directory with generated ``Paths_<pkg>.hs`` stubs and ``cabal_macros.h``).
    The command must print GHC's ``-ddump-json`` diagnostics; include ``{flags}`` to get them.
    """
    hidir_arg = _relative(hidir, work_root)
    flags = [*BASE_FLAGS, *ORACLE_WARNINGS, *(f for f in extra_flags if f not in BASE_FLAGS),
             f"-hidir={hidir_arg}", f"-odir={hidir_arg}"]
    files = list(layout.modules.values()) if files is None else list(files)
    words: list[str] = []
    for word in shlex.split(template):
        if word == "{flags}":
            words += flags
        elif word == "{files}":
            words += files
        else:
            words.append(word.replace("{root}", str(work_root)).replace("{hidir}", hidir_arg)
                         .replace("{stubs}", STUB_DIR_NAME)
                         .replace("{flags}", " ".join(flags)).replace("{files}", " ".join(files)))
    if not words:
        raise TypecheckError("--typecheck-cmd is empty: give a command such as "
                             "'ghc --make {flags} -isrc {files}'")
    return words


# ---------------------------------------------------------------------------------------------
# Running and parsing


def run_command(cmd: Sequence[str], cwd: Path, *, timeout: float | None = None,
                cancel: CancelToken = NEVER, env: dict[str, str] | None = None) -> TypecheckRun:
    """Run a type-check in its own process group; the group is killed if we are interrupted,
    when ``cancel`` is cancelled (then ``Cancelled`` is raised) or past ``timeout``."""
    cancel.check()
    started = time.monotonic()
    search = (env or os.environ).get("PATH")
    if shutil.which(cmd[0], path=search) is None:
        raise GhcMissingError(f"cannot run {cmd[0]!r}: No such file or directory. Install GHC "
                              "(`apt-get install ghc`) or fix --typecheck-cmd")
    try:
        # Under a supervisor that leads the group: if this process dies, even by SIGKILL,
        # GHC and everything it started die too (scout.supervise).
        proc = subprocess.Popen(supervise.command(cmd), cwd=cwd, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True, env=env)
    except FileNotFoundError as exc:
        raise GhcMissingError(f"cannot run {cmd[0]!r}: {exc.strerror}. Install GHC "
                              "(`apt-get install ghc`) or fix --typecheck-cmd") from exc
    # A child token: the kill callback goes away with it when the run ends.
    token = cancel.child()
    token.on_cancel(lambda: _signal_group(proc))
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        _kill_group(proc)
        raise TypecheckError(f"the type-check took longer than {timeout:.0f} s and was stopped: "
                             "narrow the workspace (--root) or raise the timeout") from exc
    except BaseException:
        # Ctrl-C, SIGTERM turned into an exception, or the timeout: never leave GHC running.
        _kill_group(proc)
        raise
    if cancel.cancelled:
        raise Cancelled(cancel.reason or "cancelled")
    seconds = time.monotonic() - started
    diagnostics, compiled, dropped, other = parse_ghc_output(output.decode("utf-8", "replace"),
                                                             cwd)
    return TypecheckRun(tuple(diagnostics), tuple(compiled), tuple(dropped), proc.returncode,
                        seconds, tuple(cmd), "\n".join(other[-15:]))


def _signal_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def parse_ghc_output(output: str, work_root: Path) -> tuple[list[Diagnostic], list[str], list[str],
                                                          list[str]]:
    """Split GHC output into diagnostics, compiled modules, modules dropped by -fkeep-going and
    other lines (kept for error messages)."""
    diagnostics: list[Diagnostic] = []
    compiled: list[str] = []
    dropped: list[str] = []
    other: list[str] = []
    root_prefix = str(work_root.resolve()) + "/"
    for line in output.splitlines():
        if not line.startswith("{"):
            if line.strip():
                other.append(line)
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            other.append(line)
            continue
        doc = item.get("doc", "")
        span = item.get("span")
        severity = item.get("severity", "")
        if span is None:
            if (m := _COMPILING.match(doc)):
                compiled.append(m.group(1))
            elif (m := _KEEP_GOING.search(doc)):
                dropped += m.group(1).split()
            elif severity in ("SevError", "SevFatal"):
                other.append(doc)
            continue
        path = span["file"]
        if path.startswith(root_prefix):
            path = path[len(root_prefix):]
        path = path.removeprefix("./")
        if path.startswith(STUB_DIR_NAME) or path.startswith("/"):
            continue
        if severity == "SevError":
            sev = "error"
        elif severity == "SevWarning":
            sev = "warning"
        else:
            continue
        diagnostics.append(Diagnostic(path, span["startLine"], span["startCol"], span["endLine"],
                                      span["endCol"], sev, item.get("reason"), doc))
    return diagnostics, compiled, dropped, other


def workspace_digest(root: Path, layout: ProjectLayout, command_key: str) -> str:
    """Content key of a baseline: every compiled source, the .cabal files, and the command."""
    h = hashlib.blake2b(digest_size=16)
    h.update(command_key.encode())
    for rel in sorted(layout.modules.values()):
        h.update(rel.encode() + b"\0" + (root / rel).read_bytes() + b"\0")
    for pkg in layout.packages:
        h.update(repr(pkg).encode())
    for rel in discover(root, suffixes=INCLUDED_SUFFIXES):
        h.update(rel.encode() + b"\0" + (root / rel).read_bytes())
    for rel in discover(root, suffixes=("",)):  # suffix-less includes (`unbox-tuple-instances`)
        if "." not in rel.rsplit("/", 1)[-1] and (root / rel).stat().st_size < 1 << 20:
            h.update(rel.encode() + b"\0" + (root / rel).read_bytes())
    return h.hexdigest()

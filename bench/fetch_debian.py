"""Fetch real Haskell projects from Debian's source archive into bench/.cache/debian/<pkg>/.

    python bench/fetch_debian.py                # the default benchmark set
    python bench/fetch_debian.py xmonad hlint   # just these

Steps (see FACTS.md): make sure apt has a ``deb-src`` entry mirroring the Debian ``deb`` entry in
/etc/apt/sources.list.d/ (adding one needs root), ``apt-get update`` when apt knows no source
records yet, then per package ``apt-get source --download-only PKG`` and
``dpkg-source --no-check -x PKG_*.dsc DIR``. A package already unpacked (marker file present) is
not fetched again, so the script is idempotent. It prints the Haskell line count per package and
in total.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
CACHE_DIR = BENCH_DIR / ".cache" / "debian"
MARKER = ".scout-fetched"  # written last: its presence means the unpack completed
SOURCES_DIR = Path("/etc/apt/sources.list.d")
ADDED_SOURCES_NAME = "scout-deb-src.sources"

DEFAULT_PACKAGES = (
    "xmonad",
    "xmonad-contrib",
    "pandoc",
    "hledger",
    "haskell-aeson",
    "haskell-lens",
    "agda",
    "hlint",
    "haskell-megaparsec",
    "haskell-pandoc-types",
    # more of the same kinds of code (libraries, GHC's own parser, a build tool) so the set
    # reaches ~700k lines, the size the index's performance targets are stated for
    "haskell-hledger-lib",
    "haskell-ghc-lib-parser",
    "haskell-stack",
    "haskell-vector",
    "haskell-persistent",
    "haskell-cryptonite",
    "haskell-diagrams-lib",
    "haskell-tidal",
    "haskell-conduit",
)

HASKELL_SUFFIXES = (".hs", ".lhs", ".hs-boot")
SKIPPED_DIRS = frozenset({".git", "dist-newstyle", ".stack-work", ".pc"})


class FetchError(RuntimeError):
    """A step failed; the message says what to do next."""


@dataclass(frozen=True, slots=True)
class PackageSource:
    package: str
    directory: Path
    version: str  # "<source package> <version>"
    files: int
    lines: int
    fetched_now: bool


def haskell_files(root: Path) -> list[Path]:
    """Haskell sources under ``root``, skipping build output and quilt's patch backups."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
        found.extend(Path(dirpath) / f for f in sorted(filenames) if f.endswith(HASKELL_SUFFIXES))
    return found


def count_lines(files: list[Path]) -> int:
    return sum(path.read_bytes().count(b"\n") for path in files)


def _deb822_stanzas(text: str) -> list[dict[str, str]]:
    stanzas: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if current:
                stanzas.append(current)
            current = {}
            continue
        if line.startswith("#") or line[0].isspace() or ":" not in line:
            continue
        key, value = line.split(":", 1)
        current[key.strip()] = value.strip()
    if current:
        stanzas.append(current)
    return stanzas


_ONE_LINE_ENTRY = re.compile(r"^\s*(?P<type>deb|deb-src)\s+(?:\[[^\]]*\]\s+)?(?P<uri>\S+)\s")


def _is_debian_archive(uris: str) -> bool:
    return any(uri.rstrip("/").endswith("/debian") for uri in uris.split())


def ensure_deb_src(sources_dir: Path = SOURCES_DIR,
                   legacy_list: Path = Path("/etc/apt/sources.list")) -> Path | None:
    """Make sure apt has a deb-src entry for the Debian archive.

    Returns the file written when one had to be added (mirroring every Debian ``deb`` stanza of
    ``sources_dir/*.sources``), None when apt already had one."""
    deb_entries: list[dict[str, str]] = []
    for path in sorted(sources_dir.glob("*.sources")):
        for stanza in _deb822_stanzas(path.read_text(errors="replace")):
            types = stanza.get("Types", "").split()
            if not _is_debian_archive(stanza.get("URIs", "")):
                continue
            if "deb-src" in types and stanza.get("Enabled", "yes").lower() != "no":
                return None
            if "deb" in types:
                deb_entries.append(stanza)
    legacy_debs: list[str] = []  # one-line-style entries: "[options] URI suite components"
    for path in dict.fromkeys([legacy_list, *sorted(sources_dir.glob("*.list"))]):
        if path.exists():
            for line in path.read_text(errors="replace").splitlines():
                entry = _ONE_LINE_ENTRY.match(line)
                if entry is None or not _is_debian_archive(entry["uri"]):
                    continue
                if entry["type"] == "deb-src":
                    return None
                legacy_debs.append(line.strip()[len("deb"):].strip())
    if deb_entries:
        added = sources_dir / ADDED_SOURCES_NAME
        keys = ("URIs", "Suites", "Components", "Signed-By")
        content = "\n\n".join("\n".join(["Types: deb-src"] + [f"{k}: {e[k]}" for k in keys
                                                             if k in e])
                              for e in deb_entries)
    elif legacy_debs:
        added = sources_dir / ADDED_SOURCES_NAME.replace(".sources", ".list")
        content = "\n".join(f"deb-src {rest}" for rest in legacy_debs)
    else:
        raise FetchError(
            f"no Debian 'deb' entry in {sources_dir} or {legacy_list} to mirror; add a deb-src "
            "entry for the Debian archive by hand (see FACTS.md) and run again")
    try:
        added.write_text(content + "\n")
    except PermissionError as exc:
        raise FetchError(
            f"apt has no deb-src entry and writing {added} was refused ({exc.strerror}): run "
            "this script as root (or with sudo) once, or add the entry by hand") from exc
    print(f"added {added} (deb-src mirroring the deb entries)", file=sys.stderr)
    return added


def _run(cmd: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)


@dataclass(frozen=True, slots=True)
class SourceRecord:
    source: str  # the source package name (``hledger`` is built from ``haskell-hledger``)
    version: str


def find_source(package: str) -> SourceRecord | None:
    """The source package apt would fetch for ``package`` (a source or a binary name)."""
    for only_source in (True, False):
        cmd = ["apt-cache", "showsrc", *(["--only-source"] if only_source else []), package]
        record: dict[str, str] = {}
        for line in _run(cmd).stdout.splitlines():
            if not line.strip():
                if record:
                    break
                continue
            key, sep, value = line.partition(":")
            if sep and not line[0].isspace():
                record[key] = value.strip()
        if "Package" in record and "Version" in record:
            return SourceRecord(record["Package"], record["Version"])
    return None


def apt_update() -> None:
    print("apt-get update ...", file=sys.stderr)
    result = _run(["apt-get", "update"])
    if result.returncode != 0:
        raise FetchError(f"apt-get update failed (exit {result.returncode}):\n{result.stderr}")


def fetch_package(package: str, cache_dir: Path) -> PackageSource:
    """Download and unpack one source package, unless it is already unpacked."""
    target = cache_dir / package
    marker = target / MARKER
    if marker.exists():
        files = haskell_files(target)
        return PackageSource(package, target, marker.read_text().strip(), len(files),
                             count_lines(files), fetched_now=False)
    record = find_source(package)
    if record is None:
        raise FetchError(
            f"apt knows no source package {package!r}: check the name with "
            f"`apt-cache showsrc {package}` (not every Haskell project is in Debian: shellcheck, "
            "darcs and git-annex are not)")
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=f".{package}-") as tmp:
        work = Path(tmp)
        result = _run(["apt-get", "source", "--download-only", "--only-source",
                       f"{record.source}={record.version}"], cwd=work)
        if result.returncode != 0:
            raise FetchError(f"apt-get source --download-only {package} failed "
                             f"(exit {result.returncode}):\n{result.stderr.strip()}")
        dscs = sorted(work.glob("*.dsc"))
        if len(dscs) != 1:
            raise FetchError(f"expected one .dsc for {package}, found {[d.name for d in dscs]}")
        unpacked = work / "src"
        result = _run(["dpkg-source", "--no-check", "-x", dscs[0].name, str(unpacked)], cwd=work)
        if result.returncode != 0:
            raise FetchError(f"dpkg-source -x {dscs[0].name} failed "
                             f"(exit {result.returncode}):\n{result.stderr.strip()}")
        # quilt's backups of the files Debian patched: duplicates of real modules, not sources
        shutil.rmtree(unpacked / ".pc", ignore_errors=True)
        if target.exists():  # a half-finished earlier run (no marker): replace it
            shutil.rmtree(target)
        (unpacked / MARKER).write_text(f"{record.source} {record.version}\n")
        unpacked.rename(target)
    files = haskell_files(target)
    return PackageSource(package, target, f"{record.source} {record.version}", len(files),
                         count_lines(files), fetched_now=True)


def check_tools() -> None:
    missing = [tool for tool in ("apt-get", "apt-cache", "dpkg-source") if not shutil.which(tool)]
    if missing:
        raise FetchError(f"missing {', '.join(missing)}: this needs Debian's apt and dpkg-dev "
                         "(`apt-get install dpkg-dev`)")


def fetch_all(packages: list[str], cache_dir: Path = CACHE_DIR) -> list[PackageSource]:
    pending = [p for p in packages if not (cache_dir / p / MARKER).exists()]
    if pending:
        check_tools()
        added = ensure_deb_src()
        if added is not None or find_source(pending[0]) is None:
            apt_update()
    return [fetch_package(p, cache_dir) for p in packages]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("packages", nargs="*", metavar="PKG",
                        help=f"Debian source packages (default: {' '.join(DEFAULT_PACKAGES)})")
    parser.add_argument("--cache-dir", type=Path, default=CACHE_DIR,
                        help="where to unpack (default: bench/.cache/debian)")
    args = parser.parse_args(argv)
    packages = args.packages or list(DEFAULT_PACKAGES)
    try:
        sources = fetch_all(packages, args.cache_dir)
    except FetchError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for src in sources:
        state = "fetched" if src.fetched_now else "cached "
        print(f"{state} {src.package:<22} {src.version:<34} {src.files:>5} files "
              f"{src.lines:>8} lines  {src.directory}")
    total_files = sum(s.files for s in sources)
    total_lines = sum(s.lines for s in sources)
    print(f"total   {len(sources)} packages {total_files} Haskell files {total_lines} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Judge the exhaustiveness checker against GHC on real code (not collected by pytest).

    .venv/bin/python bench/eval_exhaustive_ghc.py [--types 20] [--seed 0] [PKG ...]

PKG defaults to xmonad xmonad-contrib from bench/.cache/debian (``python bench/fetch_debian.py
xmonad xmonad-contrib``; GHC and ``apt-get build-dep xmonad xmonad-contrib`` needed). For each
sampled data type with match sites, the oracle adds a constructor and type-checks; its
``-Wincomplete-patterns``/``-Wincomplete-uni-patterns`` warnings are the truth. The checker's
answer: the sites ``verdict_for_added_constructor`` says break, located where GHC reports them
(a case at ``case``, a clause group at its first clause). Prints recall and precision overall
and per type, and how many catch-all rows the checker found that GHC is silent about.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
from pathlib import Path

from scout.explore.exhaustive import constructor_lookup, verdict_for_added_constructor
from scout.explore.model import ChangeKind
from scout.haskell.index import WorkspaceIndex
from scout.haskell.model import DefKind
from scout.oracle.oracle import Oracle
from scout.oracle.targets import mutation_for

DEBIAN = Path(__file__).resolve().parent / ".cache" / "debian"
PATTERN_FLAGS = {"Opt_WarnIncompletePatterns", "Opt_WarnIncompleteUniPatterns"}  # GHC -ddump-json


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("packages", nargs="*", default=["xmonad", "xmonad-contrib"])
    parser.add_argument("--types", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="scout-eval-exhaustive-"))
    try:
        root = work / "ws"
        for pkg in args.packages:
            shutil.copytree(DEBIAN / pkg, root / pkg, symlinks=True,
                            ignore=shutil.ignore_patterns(".pc", "debian"))
        index = WorkspaceIndex.build(root, use_cache=False)
        oracle = Oracle(root, cache_dir=work / "oracle")
        checked = set(oracle.layout.modules.values())
        candidates = []
        for d in index.definitions_of_kind(DefKind.DATA):
            if len(d.constructors) < 2 or d.path not in checked:
                continue
            if len(index.definitions(d.name, (DefKind.DATA, DefKind.NEWTYPE))) > 1:
                continue  # an ambiguous name: the oracle asks for qualification anyway
            if index.match_sites_mentioning(d.constructors):
                candidates.append(d)
        candidates.sort(key=lambda d: (d.module, d.name))
        sample = random.Random(args.seed).sample(candidates, min(args.types, len(candidates)))
        print(f"{len(candidates)} data types with match sites; judging {len(sample)}",
              file=sys.stderr)
        total_tp = total_fn = total_fp = absorbed_total = 0
        for d in sorted(sample, key=lambda d: (d.module, d.name)):
            result = oracle.check(mutation_for(index, f"{d.module}.{d.name}",
                                               ChangeKind.ADD_CONSTRUCTOR))
            truth = {s.location for s in result.sites if s.flag in PATTERN_FLAGS}
            others = {s.flag for s in result.sites} - PATTERN_FLAGS
            if others:
                print(f"  (other warnings, not judged: {sorted(map(str, others))})",
                      file=sys.stderr)
            unchecked = set(result.unchecked_paths)
            ours, absorbed = set(), 0
            for site in index.match_sites_mentioning(d.constructors):
                if site.path in unchecked:
                    continue
                verdict = verdict_for_added_constructor(
                    site, d.name, constructor_lookup(index, path=site.path))
                if verdict is None:
                    continue
                absorbed += len(verdict.absorbed_by_lines)
                if verdict.breaks:
                    ours.add(f"{site.path}:{site.span.start_line}")
            tp, fn, fp = len(truth & ours), sorted(truth - ours), sorted(ours - truth)
            total_tp, total_fn, total_fp = total_tp + tp, total_fn + len(fn), total_fp + len(fp)
            absorbed_total += absorbed
            print(f"{d.module}.{d.name}: GHC {len(truth)}, ours {len(ours)}, hit {tp}, "
                  f"catch-all rows {absorbed}" + (f", missed {fn}" if fn else "")
                  + (f", extra {fp}" if fp else ""))
        recall = total_tp / (total_tp + total_fn) if total_tp + total_fn else 1.0
        precision = total_tp / (total_tp + total_fp) if total_tp + total_fp else 1.0
        print(f"\n{len(sample)} add-constructor mutations: GHC sites {total_tp + total_fn}, "
              f"recall {recall:.3f}, precision {precision:.3f} "
              f"({total_fn} missed, {total_fp} extra); catch-all rows found {absorbed_total}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Benchmark the exhaustiveness checker on real code (not collected by pytest).

    .venv/bin/python bench/bench_exhaustive.py [ROOT ...]

ROOT defaults to xmonad + xmonad-contrib from bench/.cache/debian (``python
bench/fetch_debian.py xmonad xmonad-contrib``). Prints, in one run:

- baseline: ``analyse_rows`` (is the site exhaustive?) over every match site of the workspace;
- verdicts: ``verdict_for_added_constructor`` for every (site, scrutinised workspace type) pair
  (before/after witnesses plus catch-all rows), total and per site, as a ratio to the baseline;
- per query: for each workspace sum type, the verdicts over ``match_sites_mentioning`` its
  constructors, which is what the engine runs for one add-constructor question (median, max).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from scout.explore.exhaustive import (
    analyse_rows,
    constructor_lookup,
    verdict_for_added_constructor,
)
from scout.haskell.index import WorkspaceIndex
from scout.haskell.model import DefKind

DEBIAN = Path(__file__).resolve().parent / ".cache" / "debian"


def main(argv: list[str]) -> int:
    roots = [Path(a) for a in argv] or [DEBIAN / "xmonad", DEBIAN / "xmonad-contrib"]
    for root in roots:
        if not root.is_dir():
            print(f"{root} is missing: run `python bench/fetch_debian.py xmonad xmonad-contrib`",
                  file=sys.stderr)
            return 2
    indexes = [WorkspaceIndex.build(r, use_cache=False) for r in roots]
    sites = [s for ix in indexes for fi in ix.files.values() for s in fi.match_sites]
    print(f"{len(sites)} match sites in {', '.join(r.name for r in roots)}")

    repeats = 5
    baseline_runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        for ix in indexes:
            lookup = constructor_lookup(ix)
            for fi in ix.files.values():
                for site in fi.match_sites:
                    analyse_rows(site.rows, lookup)
        baseline_runs.append(time.perf_counter() - started)

    pairs = []
    for ix in indexes:
        lookup = constructor_lookup(ix)
        for fi in ix.files.values():
            for site in fi.match_sites:
                types = {cs.type_name for c in site.constructors if (cs := lookup(c))}
                pairs.extend((ix, site, t) for t in sorted(types))
    verdict_runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        for ix, site, type_name in pairs:
            verdict_for_added_constructor(site, type_name, constructor_lookup(ix))
        verdict_runs.append(time.perf_counter() - started)

    per_query = []
    for ix in indexes:
        for d in ix.definitions_of_kind(DefKind.DATA):
            if len(d.constructors) < 2:
                continue
            started = time.perf_counter()
            lookup = constructor_lookup(ix)
            for site in ix.match_sites_mentioning(d.constructors):
                verdict_for_added_constructor(site, d.name, lookup)
            per_query.append(time.perf_counter() - started)

    base = statistics.median(baseline_runs)
    verdicts = statistics.median(verdict_runs)
    print(f"baseline  analyse_rows, all sites          {base * 1000:8.1f} ms  "
          f"({base / len(sites) * 1e6:.1f} us/site, median of {repeats})")
    print(f"verdicts  {len(pairs)} (site, type) pairs          {verdicts * 1000:8.1f} ms  "
          f"({verdicts / max(1, len(pairs)) * 1e6:.1f} us/pair) = {verdicts / base:.2f}x baseline")
    print(f"per query {len(per_query)} sum types: median {statistics.median(per_query) * 1000:.2f}"
          f" ms, max {max(per_query) * 1000:.2f} ms (sites of one type, lookup built cold)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

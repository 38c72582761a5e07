"""Exploration cost against the number of match sites in ONE module (issue 12).

    .venv/bin/python bench/bench_explore.py [--sites 16000] [--runs 5] [--json]

Generates a workspace whose module `Big0` holds N match sites (as the index counts them) on a
type `T` (declared in `Types`), in the shapes real code has: clause groups, `case` with a catch-all, tuple columns
with `Maybe`, where-bound helpers with guards, `\\case` over lists, record updates and field
selectors, pattern bindings; every third site carries a literal of its own, so its shape is
unique. Then, each in a fresh subprocess, with the index built and the module's body decoded
by a first question (its time is shown apart):

- baseline: `explore` of "add a constructor to T" over the same number of sites spread over 16
  modules of N/16 sites each (the per-module cost a linear engine must match);
- one module: the same question over N sites in one module;
- small: N/16 sites in one module, to show the growth (16 x small ~ one module when linear).

Reported: medians of ``--runs`` runs; ratios one-module / baseline and one-module / 16 x small
(both ~1 when exploration is linear in the sites of a module). Target: N = 16,000 in < 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 1.0

TYPES = """\
module Types where
data T = A | B Int | C { cval :: Int, cname :: String } deriving (Show, Eq)
data U = U1 | U2
"""


def site(i: int) -> list[str]:
    """One match site (sometimes two nodes: a catch-all) in one of eight shapes."""
    k = i % 8
    lit = f" | n == {i} = {i}" if i % 3 == 0 else ""
    f = f"f{i}"
    if k == 0:
        return [f"{f} :: T -> Int", f"{f} A = {i}", f"{f} (B n){lit}", f"{f} (B n) = n",
                f"{f} C {{}} = 3"]
    if k == 1:
        return [f"{f} :: T -> Int", f"{f} t = case t of", "  A -> 1",
                f"  B {i % 7 if i % 3 == 0 else 'x'} -> 2", "  _ -> 3"]
    if k == 2:
        return [f"{f} :: (T, Maybe U) -> Int", f"{f} (A, Just U1) = 1", f"{f} (B _, _) = 2",
                f"{f} _ = {i}"]
    if k == 3:
        return [f"{f} :: T -> Int", f"{f} t = go t", "  where", "    go A = 1",
                f"    go (B n){lit or ' | n > 0 = n'}", "    go _ = 0"]
    if k == 4:
        return [f"{f} :: [T] -> Int", f"{f} = \\case", "  [] -> 0", "  (A : _) -> 1",
                f"  (B {i if i % 3 == 0 else 'x'} : _) -> 2", "  (B _ : _) -> 4", "  (C {} : _) -> 3"]
    if k == 5:
        return [f"{f} :: T -> T", f"{f} t = t {{ cval = {i} }}"]
    if k == 6:
        return [f"{f} :: T -> Int", f"{f} t = cval t + {i}"]
    return [f"{f} :: T -> Int", f"{f} t = let C {{ cval = v }} = t in v + {i}"]


def write_workspace(root: Path, templates: int, modules: int) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "Types.hs").write_text(TYPES)
    per = templates // modules
    for m in range(modules):
        lines = ["{-# LANGUAGE LambdaCase #-}", f"module Big{m} where", "import Types", ""]
        for i in range(m * per, (m + 1) * per):
            lines += site(i) + [""]
        (root / f"Big{m}.hs").write_text("\n".join(lines))


def _templates_for(sites: int) -> int:
    """How many site templates give ``sites`` match sites in the index (some templates hold
    two: a where-bound helper, a pattern binding, a record update): counted on a sample."""
    from scout.haskell import parser as ts
    from scout.haskell.extract import extract

    sample = 16 * 8 * 4
    with tempfile.TemporaryDirectory() as tmp:
        write_workspace(Path(tmp), sample, 1)
        src = (Path(tmp) / "Big0.hs").read_bytes()
    per = len(extract("Big0.hs", src, ts.parser().parse(src)).match_sites) / sample
    count = round(sites / per)
    return count - count % 16


def worker(root: Path, runs: int) -> dict[str, object]:
    from scout.explore.engine import explore
    from scout.explore.model import ChangeKind, Question
    from scout.haskell.index import WorkspaceIndex

    index = WorkspaceIndex.build(root, use_cache=False, workers=1)
    question = Question("add a constructor to T", "Types.T", ChangeKind.ADD_CONSTRUCTOR, (), 20)
    start = time.perf_counter()
    first = explore(index, question)
    first_s = time.perf_counter() - start
    samples, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        ex = explore(index, question)
        samples.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    assert ex.coverage.nodes_found == first.coverage.nodes_found
    return {"first_s": first_s, "median_s": statistics.median(samples), "samples": samples,
            "median_cpu_s": statistics.median(cpu), "nodes_found": ex.coverage.nodes_found,
            "match_sites": index.stats().match_sites}


def _run(root: Path, runs: int) -> dict[str, object]:
    proc = subprocess.run([sys.executable, __file__, "--worker", str(root), "--runs", str(runs)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"worker failed for {root}:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sites", type=int, default=16000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.runs)))
        return 0
    n = args.sites
    templates = _templates_for(n)
    with tempfile.TemporaryDirectory() as tmp:
        roots = {"baseline (16 modules)": (Path(tmp) / "spread", templates, 16),
                 "one module": (Path(tmp) / "one", templates, 1),
                 "small module": (Path(tmp) / "small", templates // 16, 1)}
        results = {}
        for label, (root, count, modules) in roots.items():
            write_workspace(root, count, modules)
            results[label] = _run(root, args.runs)
    one, base, small = (results["one module"], results["baseline (16 modules)"],
                        results["small module"])
    report = {
        "sites": n, "runs": args.runs, "results": results,
        "ratio_one_vs_spread": one["median_s"] / base["median_s"],
        "ratio_one_vs_16_small": one["median_s"] / (16 * small["median_s"]),
        f"one module < {TARGET_S:.0f} s": one["median_s"] < TARGET_S,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    load = os.getloadavg()[0]
    print(f"load average {load:.1f} on {os.cpu_count()} cores (wall times stretch under load; "
          "cpu is the process's own time)")
    print(f"add a constructor to T, {n} match sites (medians of {args.runs} runs, fresh process "
          "each, index built and the module decoded by a first question shown apart)")
    for label, r in results.items():
        print(f"  {label:24s} {r['median_s'] * 1000:9.1f} ms (cpu {r['median_cpu_s'] * 1000:7.1f} ms)"
              f"   first question "
              f"{r['first_s'] * 1000:8.1f} ms   {r['match_sites']} match sites, "
              f"{r['nodes_found']} nodes")
    print(f"  one module / baseline    {report['ratio_one_vs_spread']:.2f}x")
    print(f"  one module / 16 x small  {report['ratio_one_vs_16_small']:.2f}x   (1.0 = linear)")
    print(f"  target: one module < {TARGET_S:.0f} s: "
          f"{'met' if report[f'one module < {TARGET_S:.0f} s'] else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

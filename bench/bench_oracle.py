"""Benchmark the GHC oracle on Debian sources: cold and incremental timings, and ``scout eval``.

    python bench/fetch_debian.py xmonad xmonad-contrib   # once (bench_oracle fetches if missing)
    python bench/bench_oracle.py                         # timings on xmonad + xmonad-contrib, eval
    python bench/bench_oracle.py --mutations 4 --cold-mutations 1 --no-eval
    python bench/bench_oracle.py --eval-only --eval-packages xmonad haskell-megaparsec \
        haskell-pandoc-types haskell-conduit haskell-vector xmonad-contrib --eval-per-kind 3

Needs GHC, cabal-install and the packages' Debian build-deps (``apt-get build-dep -y --arch-only
PKG`` after adding a deb-src line). Timings, all in one run on one copy of the sources:

- baseline cold: the plain unmutated type-check (no interfaces): the reference every other
  figure is divided by;
- baseline no-op: the unmutated workspace re-checked from the cached interfaces (the fixed cost
  of one incremental check: copy, GHC start-up, reading the interfaces);
- mutation incremental: one oracle answer (every phase of the mutation) starting from the
  baseline's interfaces; median over the sampled mutations. Target: < 5 s;
- mutation cold: the same without interfaces (every module re-checked), on a few mutations.

Eval (unless ``--no-eval``): every package of ``--eval-packages`` is its own workspace (a copy
without ``debian/``), type-checked the way ``scout eval`` does (``--build auto``: cabal build
--offline, falling back to ghc --make with the reason printed); the engine + heuristic scorer
against GHC on ``--eval-per-kind`` sampled mutations of every change kind (both readings of
add_method): recall/precision of risk >= 4 per kind, silent-site recall, beside grep. The
per-case misses and false alarms go to bench/results/oracle-eval.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
DEBIAN_DIR = BENCH_DIR / ".cache" / "debian"
RESULTS = BENCH_DIR / "results" / "oracle.json"
EVAL_RESULTS = BENCH_DIR / "results" / "oracle-eval.json"
EVAL_PACKAGES = ["xmonad", "haskell-megaparsec", "haskell-pandoc-types", "haskell-conduit",
                 "haskell-vector", "xmonad-contrib"]
FETCH_MARKER = ".scout-fetched"
TARGET_INCREMENTAL_S = 5.0


class BenchError(RuntimeError):
    """The benchmark cannot run; the message says what to do next."""


def ensure_sources(packages: list[str]) -> None:
    missing = [p for p in packages if not (DEBIAN_DIR / p / FETCH_MARKER).exists()
               and not (DEBIAN_DIR / p).is_dir()]
    if not missing:
        return
    fetch = BENCH_DIR / "fetch_debian.py"
    if not fetch.exists():
        raise BenchError(f"missing Debian sources for {', '.join(missing)} and no "
                         "bench/fetch_debian.py: see FACTS.md (apt-get source + dpkg-source -x "
                         f"into {DEBIAN_DIR}/<pkg>)")
    print(f"fetching {' '.join(missing)} ...", file=sys.stderr)
    done = subprocess.run([sys.executable, str(fetch), *missing])
    if done.returncode != 0:
        raise BenchError(f"bench/fetch_debian.py {' '.join(missing)} failed: see its output")


def make_workspace(packages: list[str], base: Path) -> Path:
    """A fresh copy of the packages side by side (mtimes kept), so nothing else is touched;
    in this run's own directory (bench/.cache is shared by everyone's worktrees)."""
    root = base / "-".join(packages)
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    for pkg in packages:
        shutil.copytree(DEBIAN_DIR / pkg, root / pkg, symlinks=True,
                        ignore=shutil.ignore_patterns(".pc", "debian"))
    return root


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def run_eval(packages: list[str], per_kind: int, seed: int, build: str, cache: Path,
             kinds: list[str] | None) -> dict:
    from scout.explore.model import ChangeKind
    from scout.oracle.evaluate import EvalReport, evaluate
    from scout.oracle.mutate import SUPPORTED_CHANGES
    from scout.oracle.oracle import OracleError
    from scout.scoring.heuristic import HeuristicScorer

    ensure_sources(packages)
    wanted = [ChangeKind(k) for k in kinds] if kinds else list(SUPPORTED_CHANGES)
    started = time.monotonic()
    report = EvalReport("heuristic", "ghc", [])
    per_package: dict[str, float] = {}
    for pkg in packages:  # one package at a time: the cases so far are saved after each
        root = make_workspace([pkg], cache / "ws")
        begun = time.monotonic()
        try:
            part = evaluate([root], HeuristicScorer(), per_kind=per_kind, seed=seed,
                            kinds=wanted, cache_dir=cache, build=build,
                            progress=lambda m: print(f"  eval {m}", file=sys.stderr))
        except OracleError as exc:
            part = EvalReport("heuristic", "ghc", [], {str(root): str(exc)})
        report.cases += part.cases
        report.root_errors.update(part.root_errors)
        per_package[pkg] = round(time.monotonic() - begun, 1)
        doc = report.as_json()
        doc.update(seconds=round(time.monotonic() - started, 1), packages=packages,
                   seconds_per_package=per_package)
        EVAL_RESULTS.parent.mkdir(parents=True, exist_ok=True)
        EVAL_RESULTS.write_text(json.dumps(doc, indent=2))
    seconds = time.monotonic() - started
    print(report.table())
    print(f"\n{len(packages)} packages, {len(report.cases)} mutations, {seconds:.0f} s; cases: "
          f"{EVAL_RESULTS.relative_to(REPO_ROOT)}")
    for case in report.cases:
        if case.error:
            print(f"  error: {case.spec.label} {case.spec.target}: {case.error[:200]}",
                  file=sys.stderr)
    return doc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", nargs="+", default=["xmonad", "xmonad-contrib"],
                        help="packages side by side in one workspace, for the timings")
    parser.add_argument("--mutations", type=int, default=8, help="mutations timed incrementally")
    parser.add_argument("--cold-mutations", type=int, default=2, help="mutations timed cold")
    parser.add_argument("--baseline-runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--build", choices=["auto", "cabal", "ghc"], default="auto")
    parser.add_argument("--eval-packages", nargs="+", default=EVAL_PACKAGES,
                        help="each its own workspace for the eval")
    parser.add_argument("--eval-per-kind", type=int, default=2)
    parser.add_argument("--kinds", nargs="+", help="change kinds to evaluate (default: all)")
    parser.add_argument("--no-eval", action="store_true")
    parser.add_argument("--eval-only", action="store_true", help="skip the timings")
    parser.add_argument("--json", action="store_true", help="print the result document")
    args = parser.parse_args(argv)

    from scout.haskell.index import WorkspaceIndex
    from scout.oracle.evaluate import sample_mutations
    from scout.oracle.mutate import Phase
    from scout.oracle.oracle import Oracle
    from scout.oracle.targets import mutation_for

    if shutil.which("ghc") is None:
        raise BenchError("ghc is not on PATH: apt-get install ghc")
    scratch_caches = Path(tempfile.mkdtemp(prefix="scout-bench-oracle-"))
    try:
        if args.eval_only:
            doc = run_eval(args.eval_packages, args.eval_per_kind, args.seed, args.build,
                           scratch_caches / "eval", args.kinds)
            if args.json:
                print(json.dumps(doc))
            return 0
        ensure_sources(args.packages)
        root = make_workspace(args.packages, scratch_caches / "ws")
        index = WorkspaceIndex.build(root, use_cache=False)
        # Baseline: the plain unmutated type-check, cold, in this run.
        cold_baselines: list[float] = []
        for i in range(args.baseline_runs):
            oracle = Oracle(root, cache_dir=scratch_caches / f"cold-{i}", index=index,
                            build=args.build)
            cold_baselines.append(oracle.baseline().seconds)
        oracle = Oracle(root, cache_dir=scratch_caches / "cold-0", index=index, build=args.build)
        layout = oracle.layout
        noop_runs = []
        for _ in range(args.baseline_runs):
            started = time.monotonic()
            run, _ = oracle._run_phase(Phase(()), oracle.baseline())
            noop_runs.append(time.monotonic() - started)
            if run.errors:
                raise BenchError(f"the unmutated re-check reported errors: {run.errors[:2]}")

        specs = sample_mutations(index, per_kind=max(1, args.mutations // 8 + 1), seed=args.seed,
                                 checked_paths=layout.modules.values())
        # Round-robin over change kinds so a short run still covers several.
        by_kind: dict[str, list] = {}
        for spec in specs:
            by_kind.setdefault(spec.label, []).append(spec)
        ordered = [s for group in zip(*by_kind.values(), strict=False) for s in group]
        ordered += [s for s in specs if s not in ordered]
        timed = []
        for spec in ordered[: args.mutations]:
            mutation = mutation_for(index, spec.question().target, spec.change, spec.subject,
                                    spec.variant)
            result = oracle.check(mutation)
            timed.append({"change": spec.label, "target": spec.target,
                          "subject": spec.subject, "seconds": round(result.seconds, 3),
                          "phases": [round(s, 3) for s in result.phase_seconds],
                          "sites": len(result.sites), "checked": result.checked_modules})
            print(f"  incremental {result.seconds:6.2f} s  {mutation.summary}: "
                  f"{len(result.sites)} sites", file=sys.stderr)
        cold_oracle = Oracle(root, cache_dir=scratch_caches / "cold-0", incremental=False,
                             index=index, build=args.build)
        cold = []
        for spec in ordered[: args.cold_mutations]:
            mutation = mutation_for(index, spec.question().target, spec.change, spec.subject,
                                    spec.variant)
            result = cold_oracle.check(mutation)
            cold.append({"change": spec.label, "target": spec.target,
                         "seconds": round(result.seconds, 3),
                         "phases": [round(s, 3) for s in result.phase_seconds]})
            print(f"  cold        {result.seconds:6.2f} s  {mutation.summary}", file=sys.stderr)
        how = oracle.how
    finally:
        if args.no_eval or args.eval_only:
            shutil.rmtree(scratch_caches, ignore_errors=True)

    base = median(cold_baselines)
    inc = median([t["seconds"] for t in timed])
    inc_phase = median([p for t in timed for p in t["phases"]])
    cold_m = median([c["seconds"] for c in cold])
    doc = {
        "packages": args.packages, "modules": len(layout.modules), "how": how,
        "baseline_cold_s": base, "baseline_noop_incremental_s": median(noop_runs),
        "mutation_incremental_median_s": inc, "typecheck_incremental_median_s": inc_phase,
        "mutation_cold_median_s": cold_m,
        "incremental_vs_baseline": None if not (inc and base) else round(inc / base, 3),
        "cold_vs_baseline": None if not (cold_m and base) else round(cold_m / base, 3),
        "target_incremental_s": TARGET_INCREMENTAL_S, "timed": timed, "cold": cold,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(doc, indent=2))
    if args.json:
        print(json.dumps(doc))
    else:
        print(f"oracle on {' + '.join(args.packages)} ({len(layout.modules)} modules; {how})")
        print(f"  baseline: plain type-check, cold        {fmt(base)}  (median of "
              f"{len(cold_baselines)})")
        print(f"  baseline: unmutated re-check, no-op     {fmt(median(noop_runs))}")
        print(f"  mutation, incremental (median of {len(timed)})  {fmt(inc)}  = "
              f"{doc['incremental_vs_baseline']}x baseline; target < {TARGET_INCREMENTAL_S:.0f} s:"
              f" {'met' if inc is not None and inc < TARGET_INCREMENTAL_S else 'NOT met'}")
        print(f"    one type-check (phase), incremental   {fmt(inc_phase)}")
        print(f"  mutation, cold (median of {len(cold)})         {fmt(cold_m)}  = "
              f"{doc['cold_vs_baseline']}x baseline")
        print(f"\nwritten: {RESULTS.relative_to(REPO_ROOT)}")
    if not args.no_eval:
        try:
            run_eval(args.eval_packages, args.eval_per_kind, args.seed, args.build,
                     scratch_caches / "eval", args.kinds)
        finally:
            shutil.rmtree(scratch_caches, ignore_errors=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"bench_oracle: {exc}", file=sys.stderr)
        sys.exit(2)

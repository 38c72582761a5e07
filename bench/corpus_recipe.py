"""The corpus recipe: real Haskell projects from Debian -> a labelled FunctionGemma dataset.

    nice -n 10 .venv/bin/python bench/corpus_recipe.py                 # everything, ~1 h on 2 cores
    .venv/bin/python bench/corpus_recipe.py --install-deps             # as root: apt-get build-dep first
    .venv/bin/python bench/corpus_recipe.py --questions 300 --out /tmp/small

Steps, each resumable (rerunning the command continues where it stopped):

1. fetch the projects from Debian's source archive (``bench/fetch_debian.py``);
2. with ``--install-deps``, ``apt-get build-dep -y PKG`` for each, so GHC finds their libraries;
3. ``scout gen-training N`` over all of them with the ``ghc`` and ``heuristic`` teachers into
   ``OUT/scout.db`` (a project that does not type-check still gets heuristic labels, and the
   summary says why GHC gave none);
4. ``scout-export`` in the ``functiongemma``, ``messages`` and ``json`` formats with the
   held-out codebases as the whole test split, one label per node (ghc > heuristic), ``--audit``;
5. load every split with Hugging Face ``datasets`` (``load_dataset("json", data_files=...)``);
6. ``scout eval --agreement`` (heuristic against ghc) with a PNG of the confusion matrices.

It prints the figures the issue asks for (examples per tag and risk, the audit's
keyword-shortcut accuracy, heuristic-vs-ghc agreement, wall time, examples per second) and
writes them to ``OUT/figures.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
from fetch_debian import CACHE_DIR, FetchError, fetch_all  # noqa: E402

# Projects whose library type-checks with GHC 9.0 and Debian's libraries (checked with
# `apt-get build-dep`); the last one is held out as the test split.
PACKAGES = ("xmonad", "xmonad-contrib", "haskell-megaparsec", "haskell-pandoc-types",
            "haskell-tidal")
HOLDOUT = ("haskell-tidal",)
SCOUT = Path(sys.executable).with_name("scout")
SCOUT_EXPORT = Path(sys.executable).with_name("scout-export")


def run(cmd: list[str], *, capture: bool = False) -> subprocess.CompletedProcess[str]:
    print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
    result = subprocess.run(cmd, text=True, stdout=subprocess.PIPE if capture else None)
    if result.returncode != 0:
        raise SystemExit(f"corpus recipe: `{' '.join(cmd[:3])} ...` exited {result.returncode}")
    return result


def install_deps(packages: list[str]) -> None:
    if os.geteuid() != 0:
        raise SystemExit("corpus recipe: --install-deps runs apt-get build-dep and needs root")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "-o", "DPkg::Lock::Timeout=900", "build-dep", "-y", "-q",
                    *packages], check=True, env=env)


def audit_figures(card: str) -> dict[str, object]:
    """The keyword-shortcut rows and the guidance check of the export's audit."""
    shortcut = {m.group(1): {"accuracy": float(m.group(2)), "majority_baseline": float(m.group(3))}
                for m in re.finditer(r"^\| (relevance|risk|relevance>=4|risk>=4) \| ([\d.]+)% \| "
                                     r"([\d.]+)% \|", card, re.M)}
    guidance = {m.group(1): {"checked": int(m.group(2)), "risk_as_guidance": float(m.group(3)),
                             "compiler_evidence": int(m.group(4)),
                             "disagreements": int(m.group(5))}
                for m in re.finditer(r"^\| (\w+) \| (\d+) \| ([\d.]+)% \| [\d.]+% \| [\d.]+% \| "
                                     r"(\d+) \| (\d+) \|", card, re.M)}
    return {"keyword_shortcut": shortcut, "guidance_check": guidance}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--packages", nargs="+", default=list(PACKAGES))
    parser.add_argument("--holdout", nargs="+", default=list(HOLDOUT),
                        help="codebases (directory names) that form the test split")
    parser.add_argument("--questions", type=int, default=1300,
                        help="questions in the plan (about 9 examples each)")
    parser.add_argument("--out", type=Path, default=BENCH / ".cache" / "corpus-recipe")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--install-deps", action="store_true",
                        help="apt-get build-dep -y each package first (root)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        sources = fetch_all(list(args.packages), CACHE_DIR)
    except FetchError as exc:
        print(f"corpus recipe: {exc}", file=sys.stderr)
        return 1
    if args.install_deps:
        install_deps([s.package for s in sources])
    args.out.mkdir(parents=True, exist_ok=True)
    db = args.out / "scout.db"
    roots = [str(s.directory) for s in sources]
    gen_started = time.monotonic()
    gen = run([str(SCOUT), "gen-training", str(args.questions), "--db", str(db),
               "--teacher", "ghc", "--teacher", "heuristic", "--seed", str(args.seed), "--json",
               "--quiet", *[a for root in roots for a in ("--root", root)]], capture=True)
    gen_seconds = time.monotonic() - gen_started
    generation = json.loads(gen.stdout)
    summary = generation["summary"]
    dataset = args.out / "dataset"
    export_started = time.monotonic()
    for fmt in ("functiongemma", "messages", "json"):
        run([str(SCOUT_EXPORT), "--format", fmt, "--out", str(dataset / fmt), "--db", str(db),
             "--priority", "ghc,heuristic", "--audit", "--quiet",
             *[a for name in args.holdout for a in ("--holdout", name)]], capture=True)
    export_seconds = time.monotonic() - export_started
    card = (dataset / "functiongemma" / "README.md").read_text(encoding="utf-8")

    import datasets  # the test extra pins it

    splits = {s: str(dataset / "functiongemma" / f"{s}.jsonl")
              for s in ("train", "validation", "test")}
    loaded = datasets.load_dataset("json", data_files=splits,
                                   cache_dir=str(args.out / "hf-cache"))
    rows = {split: loaded[split].num_rows for split in loaded}
    examples = sum(rows.values())
    seeds = datasets.load_dataset(  # the binding seed format: counts read from its fields
        "json", data_files={s: str(dataset / "json" / f"{s}.json")
                            for s in ("train", "validation", "test")},
        cache_dir=str(args.out / "hf-cache"))
    tags: dict[str, int] = {}
    risks: dict[str, int] = {}
    for split in seeds:
        for query, rubric in zip(seeds[split]["query"], seeds[split]["rubric"], strict=True):
            risks[str(rubric["risk"])] = risks.get(str(rubric["risk"]), 0) + 1
            for tag in query["tags"]:
                tags[tag] = tags.get(tag, 0) + 1
    codebases = sorted({c for split in loaded for c in loaded[split]["codebase"]})
    table = run([str(SCOUT), "eval", "--agreement", "--db", str(db), "--plot",
                 str(args.out / "agreement.png")], capture=True).stdout
    (args.out / "agreement.txt").write_text(table)
    agreement = json.loads(run([str(SCOUT), "eval", "--agreement", "--db", str(db), "--json"],
                               capture=True).stdout)
    pair = next((p for p in agreement["pairs"]
                 if p["source"] == "heuristic" and p["reference"] == "ghc"), None)
    total_seconds = time.monotonic() - started
    figures = {
        "packages": list(args.packages), "holdout": list(args.holdout),
        "codebases_in_dataset": codebases, "questions": summary["questions"],
        "misread": summary["misread"], "examples": examples, "rows_per_split": rows,
        "examples_per_tag": dict(sorted(tags.items())),
        "examples_per_risk": dict(sorted(risks.items())),
        "labels_per_source": summary["per_source"],
        "ghc_gave_no_labels": summary["teacher_errors"],
        **audit_figures(card),
        "heuristic_vs_ghc": pair["overall"] if pair else None,
        "heuristic_vs_ghc_per_tag": pair["per_tag"] if pair else None,
        "seconds": {"total": round(total_seconds, 1), "gen_training_this_run": round(gen_seconds, 1),
                    "export": round(export_seconds, 1)},
        "generation_this_run": {k: generation[k] for k in (
            "asked_now", "examples_now", "seconds", "examples_per_second")},
    }
    (args.out / "figures.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    print(f"dataset: {dataset} ({examples} examples from {len(codebases)} codebases); "
          f"figures: {args.out / 'figures.json'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

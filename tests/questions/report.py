"""Accuracy of question understanding on the paraphrase suite, per change kind.

    python tests/questions/report.py                    # dev and hold-out, per kind
    python tests/questions/report.py --failures dev     # and list the dev set's misses
    python tests/questions/report.py --json

A question counts as right when both the target definition and the change kind are right (or,
for the ambiguity cases, when exactly the expected candidates are reported).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from suite import SETS, available, build, load, run  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--failures", action="append", choices=SETS, default=[],
                        help="list the misses of this set")
    parser.add_argument("--only", choices=SETS, help="evaluate one set only")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--cache-dir", type=Path, help="index cache (default: none)")
    args = parser.parse_args(argv)
    results: dict[str, dict[str, tuple[int, int]]] = {}
    misses: dict[str, list[str]] = {}
    skipped: Counter[str] = Counter()
    indexes = {}
    sets = (args.only,) if args.only else SETS
    for which in sets:
        cases = []
        for case in load(which):
            if not available(case.ws):
                skipped[case.ws] += 1
                continue
            if case.ws not in indexes:
                indexes[case.ws] = build(case.ws, args.cache_dir)
            cases.append(case)
        right: Counter[str] = Counter()
        total: Counter[str] = Counter()
        misses[which] = []
        for outcome in run(cases, indexes):
            total[outcome.case.kind] += 1
            right[outcome.case.kind] += outcome.ok
            if not outcome.ok:
                misses[which].append(str(outcome))
        results[which] = {kind: (right[kind], total[kind]) for kind in sorted(total)}
        results[which]["ALL"] = (sum(right.values()), sum(total.values()))
    if args.json:
        print(json.dumps({"results": results, "skipped_workspaces": dict(skipped),
                          **{f"misses_{w}": misses[w] for w in args.failures}}, indent=1))
        return 0
    kinds = sorted({k for r in results.values() for k in r if k != "ALL"}) + ["ALL"]
    print(f"{'change kind':22}" + "".join(f"{w:>18}" for w in sets))
    for kind in kinds:
        cells = []
        for which in sets:
            r, t = results[which].get(kind, (0, 0))
            cells.append(f"{r:>4}/{t:<4} {100 * r / t:5.1f}%" if t else f"{'-':>18}")
        print(f"{kind:22}" + "".join(f"{c:>18}" for c in cells))
    if skipped:
        print(f"\nskipped (workspace not fetched): {dict(skipped)}")
    for which in args.failures:
        print(f"\n{which} misses ({len(misses[which])}):")
        for line in misses[which]:
            print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())

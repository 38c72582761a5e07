"""The language server as an editor feels it (issue 9), over real stdio.

On a real project (default: xmonad + xmonad-contrib from Debian, see fetch_debian.py):

- start: time from spawning `scout serve` to the index being ready and to the first answer,
  cold (empty cache) and warm (cache written by the cold start);
- code lens and code action round trips (median, p90) on files that carry lenses after a few
  questions, against the baseline of the cheapest request the server has (`scout.indexStatus`)
  measured in the same run: the ratio is the handler's own cost over protocol overhead;
- memory: the server's resident size after indexing, then after an hour-equivalent of scripted
  editing (`--edits` didChange events in bursts, a question every 60 edits, lenses and actions
  throughout): growth should stop at the bounds (answers, trees, decoded bodies).

    python bench/bench_lsp.py [--packages xmonad xmonad-contrib] [--requests 300]
                              [--edits 7200] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from bench_index import _package_corpus  # noqa: E402
from lsp_client import RawClient  # noqa: E402


def _env(base: Path) -> dict[str, str]:
    return {"XDG_CACHE_HOME": str(base / "cache"), "XDG_CONFIG_HOME": str(base / "config"),
            "SCOUT_DB": str(base / "scout.db"), "SCOUT_SCORER": "heuristic",
            "SCOUT_LOG_LEVEL": "WARNING"}


def _start(root: Path, env: dict[str, str]) -> tuple[RawClient, float, float, dict[str, Any]]:
    started = time.perf_counter()
    client = RawClient(env)
    client.initialize(root)
    index = client.wait_indexed()
    ready = time.perf_counter() - started
    answer = client.command("scout.ask", {"question": "What breaks if I add a method to "
                                          "LayoutClass?"})
    first = time.perf_counter() - started
    assert answer["status"] in ("ok", "ambiguous", "not_understood"), answer
    return client, ready, first, index


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _p90_ms(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=10)[-1] * 1000 if len(samples) >= 10 else \
        max(samples) * 1000


def _timed(call) -> float:
    t0 = time.perf_counter()
    call()
    return time.perf_counter() - t0


def _sum_types(root: Path, limit: int) -> list[tuple[str, int, int]]:
    """(path, 0-based line, column) of `data X = A | B ...` declarations, to ask about."""
    found = []
    for path in sorted(root.rglob("*.hs")):
        for i, line in enumerate(path.read_text(errors="replace").splitlines()):
            if line.startswith("data ") and "|" in line and "=" in line:
                found.append((path.relative_to(root).as_posix(), i, 5))
                break
        if len(found) >= limit:
            break
    return found


def bench(packages: list[str], requests: int, edits: int, seed: int) -> dict[str, Any]:
    corpus = _package_corpus(packages)
    root = corpus.root
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="scout-bench-lsp-") as tmp:
        base = Path(tmp)
        env = _env(base)
        client, cold_ready, cold_first, index = _start(root, env)
        client.close()
        client, warm_ready, warm_first, index = _start(root, env)
        try:
            # a few questions so that many files carry lenses
            asked = []
            for rel, line, col in _sum_types(root, 8):
                uri = (root / rel).as_uri()
                answer = client.command("scout.scoutAt", {
                    "uri": uri, "position": {"line": line, "character": col},
                    "change": "add_constructor"})
                if answer["status"] == "ok":
                    asked.append(answer["result"])
            lens_files = sorted({f["uri"] for r in asked for g in r["groups"]
                                 for f in g["files"]})
            texts = {uri: Path(unquote(urlparse(uri).path)).read_text(errors="replace")
                     for uri in lens_files}
            for uri, text in texts.items():
                client.notify("textDocument/didOpen", {"textDocument": {
                    "uri": uri, "languageId": "haskell", "version": 1, "text": text}})
            time.sleep(1.0)  # let the opens be indexed
            positions = []
            for uri, text in texts.items():
                for i, line in enumerate(text.splitlines()):
                    if line[:1].isalpha():
                        positions.append((uri, i, 2))
            baseline, lens, action = [], [], []
            lens_counts = []
            for _ in range(requests):
                uri = rng.choice(lens_files)
                baseline.append(_timed(lambda: client.command("scout.indexStatus")))

                def get_lenses(uri: str = uri) -> None:
                    lens_counts.append(len(client.request(
                        "textDocument/codeLens", {"textDocument": {"uri": uri}}) or []))
                lens.append(_timed(get_lenses))
                where, line, col = rng.choice(positions)
                action.append(_timed(lambda where=where, line=line, col=col: client.request(
                    "textDocument/codeAction", {
                        "textDocument": {"uri": where},
                        "range": {"start": {"line": line, "character": col},
                                  "end": {"line": line, "character": col}},
                        "context": {"diagnostics": []}})))
            rss_ready = client.rss_mb()
            # an hour of editing, compressed
            versions = dict.fromkeys(lens_files, 1)
            edit_started = time.perf_counter()
            rss_trace: list[float] = []
            blocks_trace: list[int] = []
            for i in range(edits):
                uri = rng.choice(lens_files)
                lines = texts[uri].splitlines(keepends=True)
                at = rng.randrange(len(lines) + 1)
                if rng.random() < 0.5 or not lines:
                    lines.insert(at, f"-- edit {i}\n")
                else:
                    lines.pop(min(at, len(lines) - 1))
                texts[uri] = "".join(lines)
                versions[uri] += 1
                client.notify("textDocument/didChange", {
                    "textDocument": {"uri": uri, "version": versions[uri]},
                    "contentChanges": [{"text": texts[uri]}]})
                if i % 10 == 9:
                    client.request("textDocument/codeLens", {"textDocument": {"uri": uri}})
                    time.sleep(0.2)  # past the debounce: the burst is indexed
                if i % 60 == 59:
                    rel, line, col = rng.choice(_sum_types(root, 8))
                    client.command("scout.scoutAt", {
                        "uri": (root / rel).as_uri(),
                        "position": {"line": line, "character": col},
                        "change": "add_constructor"})
                if i % 600 == 599:
                    rss_trace.append(round(client.rss_mb()[0], 1))
                    blocks_trace.append(client.command("scout.status")["statusInfo"]
                                        ["process"]["allocatedBlocks"])
            edit_seconds = time.perf_counter() - edit_started
            rss_end = client.rss_mb()
        finally:
            client.close()
    return {
        "corpus": corpus.description, "files": index["files"], "requests": requests,
        "start": {"cold_ready_s": round(cold_ready, 2), "cold_first_answer_s":
                  round(cold_first, 2), "warm_ready_s": round(warm_ready, 2),
                  "warm_first_answer_s": round(warm_first, 2)},
        "baseline_index_status": {"median_ms": _median_ms(baseline), "p90_ms":
                                  _p90_ms(baseline)},
        "code_lens": {"median_ms": _median_ms(lens), "p90_ms": _p90_ms(lens),
                      "ratio_vs_baseline": statistics.median(lens) / statistics.median(baseline),
                      "lenses_per_file_median": statistics.median(lens_counts)},
        "code_action": {"median_ms": _median_ms(action), "p90_ms": _p90_ms(action),
                        "ratio_vs_baseline": statistics.median(action) /
                        statistics.median(baseline)},
        "memory": {"after_index_mb": round(rss_ready[0], 1), "edits": edits,
                   "edit_seconds": round(edit_seconds, 1), "trace_mb_every_600_edits": rss_trace,
                   "trace_python_blocks_every_600_edits": blocks_trace,
                   "after_edits_mb": round(rss_end[0], 1), "peak_mb": round(rss_end[1], 1)},
        "targets": {"code_lens_median_under_20ms": _median_ms(lens) < 20,
                    "code_action_median_under_50ms": _median_ms(action) < 50},
    }


def render(report: dict[str, Any]) -> str:
    s, lens, act, base, mem = (report["start"], report["code_lens"], report["code_action"],
                               report["baseline_index_status"], report["memory"])
    return "\n".join([
        f"{report['corpus']}: {report['files']} files; {report['requests']} requests each",
        f"start        cold: index ready {s['cold_ready_s']} s, first answer "
        f"{s['cold_first_answer_s']} s;  warm: ready {s['warm_ready_s']} s, first answer "
        f"{s['warm_first_answer_s']} s",
        f"baseline     scout.indexStatus  median {base['median_ms']:.2f} ms  p90 "
        f"{base['p90_ms']:.2f} ms",
        f"code lens    median {lens['median_ms']:.2f} ms  p90 {lens['p90_ms']:.2f} ms  "
        f"x{lens['ratio_vs_baseline']:.2f} baseline  ({lens['lenses_per_file_median']:.0f} "
        "lenses/file)  target < 20 ms",
        f"code action  median {act['median_ms']:.2f} ms  p90 {act['p90_ms']:.2f} ms  "
        f"x{act['ratio_vs_baseline']:.2f} baseline  target < 50 ms",
        f"memory       {mem['after_index_mb']} MB after indexing; {mem['edits']} edits in "
        f"{mem['edit_seconds']} s: {mem['trace_mb_every_600_edits']} MB every 600 edits; "
        f"{mem['after_edits_mb']} MB at the end, peak {mem['peak_mb']} MB",
        f"             live Python blocks every 600 edits: "
        f"{mem['trace_python_blocks_every_600_edits']}",
    ])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--packages", nargs="+", default=["xmonad", "xmonad-contrib"])
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--edits", type=int, default=7200, help="didChange events (an hour of "
                    "editing at two a second)")
    ap.add_argument("--seed", type=int, default=9)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    report = bench(args.packages, args.requests, args.edits, args.seed)
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A separate writer process for the concurrency and crash tests.

usage: python writer_process.py DB_PATH ROOT QUERIES NODES_PER_QUERY LABEL
Prints "committed <query_id> <nodes>" (flushed) after each committed record() call.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scout.store import Store  # noqa: E402
from store.builders import haiku, heuristic, make_exploration  # noqa: E402


def main() -> None:
    db_path, root, queries, nodes, label = sys.argv[1:6]
    store = Store.open(Path(db_path), timeout_seconds=30.0, retries=10)
    for i in range(int(queries)):
        exploration = make_exploration(int(nodes), text=f"{label} query {i}: add a variant to LLMKind?")
        answers = [[heuristic(risk=1 + (j % 5)), haiku()] for j in range(int(nodes))]
        query_id = store.record(exploration, answers, root=Path(root))
        print(f"committed {query_id} {nodes}", flush=True)
    store.close()


if __name__ == "__main__":
    main()

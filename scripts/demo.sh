#!/usr/bin/env bash
# The main job on its embedded defaults: set up, ask the bundled example workspace
# "what breaks if I add a variant to LLMKind?" with the heuristic scorer, log the answer to a
# local SQLite database, and export the log as a fine-tuning dataset.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
DB=${SCOUT_DB:-scout-out/scout.db}
mkdir -p scout-out
.venv/bin/scout query "What breaks if I add a variant to LLMKind?" \
  --root examples/llm-service --scorer heuristic --db "$DB"
.venv/bin/scout-export --format json --out scout-out/dataset --db "$DB"
echo "dataset written to scout-out/dataset (database: $DB)"

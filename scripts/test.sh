#!/usr/bin/env bash
# Set up, then run every check: the linter and the whole test suite (GHC tests included when
# GHC is installed; the training and real-engine tests; live model tests only with -m live),
# then the VS Code extension's checks,
# unit tests and real-editor end-to-end test (tests/vscode/run.sh).
# Each step prints how long it took; a step that hangs is stopped at its limit and named, so a
# run never spends its whole budget waiting (pytest-timeout also stops any one test at 15 min).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
step() {  # step NAME LIMIT_SECONDS COMMAND...
  local name=$1 limit=$2 t0 rc=0
  shift 2
  t0=$(date +%s)
  echo "test: $name ..." >&2
  timeout --kill-after=30 "$limit" "$@" || rc=$?
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    echo "test: $name did not finish within $limit s: stopped" >&2
  fi
  echo "test: $name: exit $rc after $(( $(date +%s) - t0 )) s ($(( $(date +%s) - started )) s in all)" >&2
  return "$rc"
}
# setup-train.sh runs setup.sh, then adds the training stack and the real inference engine
# (llama-cpp-python compiles once, ~9 minutes on 2 cores; pip's cache keeps it afterwards).
step setup 2400 bash scripts/setup-train.sh
step ruff 300 .venv/bin/ruff check server tests bench
step pytest 1500 .venv/bin/python -m pytest --durations=15 "$@"
step vscode 1200 bash tests/vscode/run.sh

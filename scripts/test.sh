#!/usr/bin/env bash
# Set up, then run every check: the linter and the whole test suite (GHC tests included when
# GHC is installed; live model tests only with -m live), then the VS Code extension's checks,
# unit tests and real-editor end-to-end test (tests/vscode/run.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check server tests bench
.venv/bin/python -m pytest "$@"
bash tests/vscode/run.sh

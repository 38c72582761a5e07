#!/usr/bin/env bash
# Set up, then run every check: the linter and the whole test suite (GHC tests included when
# GHC is installed; the training and real-engine tests; live model tests only with -m live),
# then the VS Code extension's checks,
# unit tests and real-editor end-to-end test (tests/vscode/run.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# setup-train.sh runs setup.sh, then adds the training stack and the real inference engine
# (llama-cpp-python compiles once, ~9 minutes on 2 cores; pip's cache keeps it afterwards).
bash scripts/setup-train.sh
.venv/bin/ruff check server tests bench
.venv/bin/python -m pytest "$@"
bash tests/vscode/run.sh

#!/usr/bin/env bash
# Regenerate client-vscode/server-requirements.txt: the language server's runtime dependencies
# (pyproject.toml's [project.dependencies]), resolved for every platform and every Python >= 3.11,
# each pinned with the sha256 of every file the package index has for it. The extension installs
# exactly these (pip --require-hashes) into its own storage on first start. Run it after changing
# the dependencies in pyproject.toml; test/serverRequirements.test.ts fails until you do.
set -euo pipefail
cd "$(dirname "$0")/../.."
UV_VERSION=0.13.9
TOOLS=$(mktemp -d)
trap 'rm -rf "$TOOLS"' EXIT
python3 -m venv "$TOOLS/venv"
# The machine's pip configuration may add local indexes and constraints: use the public index only.
PIP_CONFIG_FILE=/dev/null "$TOOLS/venv/bin/pip" install -q "uv==$UV_VERSION"
"$TOOLS/venv/bin/uv" pip compile pyproject.toml \
  --universal --python-version 3.11 --generate-hashes --no-annotate \
  --custom-compile-command "bash client-vscode/scripts/lock-server-requirements.sh" \
  -o client-vscode/server-requirements.txt
